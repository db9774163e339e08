"""Frames in, bytes out: MP4 (H.264), GIF or animated WebP under an upload limit.

Uses the ffmpeg binary that imageio-ffmpeg ships (no ffprobe); nothing outside this package runs
ffmpeg for encoding.
"""

from reactclip.engine.encode.errors import EncodeError
from reactclip.engine.encode.fit import DISCORD_UPLOAD_LIMIT, EncodedVideo, encode_frames, human_size
from reactclip.engine.encode.probe import VideoInfo, probe_video

__all__ = [
    "DISCORD_UPLOAD_LIMIT",
    "EncodeError",
    "EncodedVideo",
    "VideoInfo",
    "encode_frames",
    "human_size",
    "probe_video",
]
