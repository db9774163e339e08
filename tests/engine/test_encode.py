"""The encode package: frames in, playable bytes out, under the upload limit, nothing left behind."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

from reactclip.engine.encode import (
    DISCORD_UPLOAD_LIMIT,
    EncodedVideo,
    EncodeError,
    encode_frames,
    human_size,
    probe_video,
)
from reactclip.engine.encode import webp as webp_module
from reactclip.engine.encode.ffmpeg import encode_raw_frames, has_encoder, last_line, run_ffmpeg
from reactclip.engine.encode.frames import downscale, drop_frames
from reactclip.engine.spec import OutputFormat

FPS = 12


def moving_clip(frames: int = 16, height: int = 480, width: int = 832) -> np.ndarray:
    """Scrolling gradients with a square that moves across: real motion for the encoders."""
    y, x = np.mgrid[0:height, 0:width]
    clip = np.empty((frames, height, width, 3), np.uint8)
    for t in range(frames):
        clip[t, ..., 0] = (x + 8 * t) % 256
        clip[t, ..., 1] = (y * 255 // height + 5 * t) % 256
        clip[t, ..., 2] = 96
        left = 40 + 24 * t
        clip[t, height // 3 : height // 3 + 64, left : left + 64] = (255, 240, 0)
    return clip


def noise_clip(frames: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """Random noise: the worst case for every encoder."""
    return np.random.default_rng(seed).integers(0, 256, (frames, height, width, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    return moving_clip()


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point tempfile at an empty folder, so a test can see whatever the encoder leaves behind."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_mp4_is_h264_yuv420p_with_every_frame_and_the_index_first(clip: np.ndarray) -> None:
    video = encode_frames(clip, FPS, OutputFormat.MP4)

    assert (video.format, video.frames, video.width, video.height, video.fps) == (
        OutputFormat.MP4,
        16,
        832,
        480,
        FPS,
    )
    assert video.notes == ()
    info = probe_video(video.data, OutputFormat.MP4)
    assert (info.width, info.height, info.frames) == (832, 480, 16)
    assert (info.codec, info.pix_fmt) == ("h264", "yuv420p")
    assert info.fps == pytest.approx(FPS)
    assert video.data[4:8] == b"ftyp"
    # +faststart: the moov atom (the index) comes before the media data.
    assert 0 < video.data.find(b"moov") < video.data.find(b"mdat")


def test_gif_has_every_frame_and_loops_forever(clip: np.ndarray) -> None:
    video = encode_frames(clip, FPS, OutputFormat.GIF)

    assert video.data[:6] == b"GIF89a"
    info = probe_video(video.data, OutputFormat.GIF)
    assert (info.width, info.height, info.frames, info.codec) == (832, 480, 16, "gif")
    assert info.loops == 0


def test_webp_round_trips_frames_and_size_and_loops_forever(clip: np.ndarray) -> None:
    video = encode_frames(clip, FPS, "webp")

    assert video.format is OutputFormat.WEBP
    assert video.data[:4] == b"RIFF" and video.data[8:12] == b"WEBP"
    info = probe_video(video.data, OutputFormat.WEBP)
    assert (info.width, info.height, info.frames) == (832, 480, 16)
    assert info.loops == 0


def test_webp_falls_back_to_pillow_when_ffmpeg_lacks_libwebp(
    clip: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webp_module, "has_encoder", lambda name: False)

    video = encode_frames(clip[:8], FPS, OutputFormat.WEBP)

    info = probe_video(video.data, OutputFormat.WEBP)
    assert (info.width, info.height, info.frames, info.loops) == (832, 480, 8, 0)


def test_encoder_listing_is_read_from_this_ffmpeg() -> None:
    assert has_encoder("libx264")
    assert has_encoder("gif")
    assert not has_encoder("no-such-encoder")


def test_oversize_mp4_is_reencoded_at_lower_quality_under_the_limit() -> None:
    limit = 300_000
    video = encode_frames(noise_clip(16, 480, 832), FPS, OutputFormat.MP4, limit_bytes=limit)

    assert len(video.data) <= limit
    assert video.notes[0].startswith("the first encode was")
    assert any(note.startswith("re-encoded at crf") and "293.0 KiB" in note for note in video.notes)
    info = probe_video(video.data, OutputFormat.MP4)
    assert (info.width, info.height, info.frames) == (video.width, video.height, video.frames)


def test_oversize_gif_goes_down_the_ladder_and_reports_each_change() -> None:
    limit = 400_000
    video = encode_frames(noise_clip(16, 240, 416), FPS, OutputFormat.GIF, limit_bytes=limit)

    assert len(video.data) <= limit
    notes = " | ".join(video.notes)
    assert "over the 390.6 KiB limit" in notes
    assert "re-encoded at 32 colours" in notes
    assert "lowered the frame rate to 6 fps (8 frames)" in notes
    assert "scaled down to 312x180" in notes
    # The result describes what was encoded, and the duration survives the frame drop.
    assert (video.frames, video.fps, video.width, video.height) == (8, 6, 312, 180)
    assert video.duration_s == pytest.approx(16 / FPS)
    info = probe_video(video.data, OutputFormat.GIF)
    assert (info.width, info.height, info.frames, info.loops) == (312, 180, 8, 0)


@pytest.mark.parametrize("fmt", [OutputFormat.MP4, OutputFormat.GIF])
def test_clip_that_can_never_fit_raises(fmt: OutputFormat) -> None:
    with pytest.raises(EncodeError, match="cannot fit the 1000 bytes limit"):
        encode_frames(noise_clip(8, 64, 64), FPS, fmt, limit_bytes=1000)


@pytest.mark.parametrize(
    ("frames", "problem"),
    [
        (np.zeros((4, 32, 32, 3), np.float32), "uint8"),
        (np.zeros((4, 32, 33, 3), np.uint8), "even"),
        (np.zeros((4, 31, 32, 3), np.uint8), "even"),
        (np.zeros((0, 32, 32, 3), np.uint8), "zero frames"),
        (np.zeros((4, 32, 32), np.uint8), "shape"),
        (np.zeros((4, 32, 32, 4), np.uint8), "shape"),
        ([[[[0, 0, 0]]]], "numpy array"),
    ],
)
def test_bad_frames_are_refused_with_the_problem_named(frames: np.ndarray, problem: str) -> None:
    with pytest.raises(EncodeError, match=problem):
        encode_frames(frames, FPS, OutputFormat.MP4)


@pytest.mark.parametrize(
    ("fps", "fmt", "limit", "problem"),
    [
        (0, "mp4", DISCORD_UPLOAD_LIMIT, "fps"),
        (float("nan"), "mp4", DISCORD_UPLOAD_LIMIT, "fps"),
        (FPS, "avi", DISCORD_UPLOAD_LIMIT, "not one of mp4, gif, webp"),
        (FPS, "mp4", 0, "limit_bytes"),
    ],
)
def test_bad_settings_are_refused(fps: float, fmt: str, limit: int, problem: str) -> None:
    with pytest.raises(EncodeError, match=problem):
        encode_frames(moving_clip(2, 32, 32), fps, fmt, limit_bytes=limit)


def test_ffmpeg_failure_quotes_only_the_last_line_of_its_log() -> None:
    with pytest.raises(EncodeError) as caught:
        encode_raw_frames(moving_clip(2, 32, 32), FPS, ["-c:v", "no-such-codec"], suffix="mp4")

    message = str(caught.value)
    assert message.startswith("ffmpeg failed")
    assert message.endswith("Encoder not found")
    assert "\n" not in message


def test_last_line_drops_ffmpeg_context_prefixes() -> None:
    log = b"ffmpeg noise\n[vost#0:0 @ 0x55d6e16623c0] [enc:libx264 @ 0x1] Unknown encoder 'x'\n\n"

    assert last_line(log) == "Unknown encoder 'x'"
    assert last_line(b"") == "no error message"


def test_run_ffmpeg_returns_stdout() -> None:
    assert b"ffmpeg version" in run_ffmpeg(["-version"])


def test_no_temporary_files_are_left_behind(clip: np.ndarray, private_tmp: Path) -> None:
    video = encode_frames(clip[:4], FPS, OutputFormat.MP4)
    probe_video(video.data, OutputFormat.MP4)
    encode_frames(clip[:4], FPS, OutputFormat.GIF)
    with pytest.raises(EncodeError):
        encode_raw_frames(clip[:2], FPS, ["-c:v", "no-such-codec"], suffix="mp4")
    with pytest.raises(EncodeError):
        encode_frames(noise_clip(8, 64, 64), FPS, OutputFormat.MP4, limit_bytes=1000)

    assert list(private_tmp.iterdir()) == []


def test_dropping_frames_keeps_the_duration() -> None:
    frames, fps = drop_frames(moving_clip(16, 32, 32), FPS, 2)

    assert (len(frames), fps) == (8, 6)
    assert len(frames) / fps == pytest.approx(16 / FPS)


def test_downscale_keeps_sides_even() -> None:
    smaller = downscale(moving_clip(2, 480, 832), 0.75)

    assert smaller.shape == (2, 360, 624, 3)
    assert smaller.dtype == np.uint8
    assert downscale(moving_clip(1, 32, 32), 0.3).shape[1:3] == (10, 10)


def test_encoded_video_reports_its_size_and_duration() -> None:
    video = EncodedVideo(b"1234", OutputFormat.GIF, frames=12, width=2, height=2, fps=8)

    assert (video.size_bytes, video.duration_s) == (4, 1.5)


def test_human_size_uses_binary_units() -> None:
    assert human_size(DISCORD_UPLOAD_LIMIT) == "10.0 MiB"
    assert human_size(300_000) == "293.0 KiB"
    assert human_size(1000) == "1000 bytes"
