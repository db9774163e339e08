"""reactclip on Discord, end to end: the real discord.py client and the real cog, against the fake
Discord on 127.0.0.1, driven as a user would."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import discord
import numpy as np
import pytest
from discord.ext import commands
from fakediscord import FakeDiscord, FakeUser, plugin
from recording_backends import BlockedBackend, SlowBackend

from reactclip.bot.discord.guild_store import GuildStore
from reactclip.bot.discord.reactions import ReactCog
from reactclip.bot.discord.server import add_cogs
from reactclip.bot.discord.settings import DiscordSettings
from reactclip.bot.service import ReactionService, frame_hooks
from reactclip.bot.settings import Settings
from reactclip.engine.backends import ProgressCallback, RenderedFrames
from reactclip.engine.backends.base import StopCheck
from reactclip.engine.encode import probe_video
from reactclip.engine.executor import ExecutorSettings, InProcessExecutor, Priority
from reactclip.engine.prompting import load_templates
from reactclip.engine.settings import EngineSettings, PromptingSettings
from reactclip.engine.spec import GenerationSpec
from reactclip.moderation.frames import BLOCKED_REASON, Detection, FrameModerator

fake_discord = plugin.fake_discord
pytestmark = pytest.mark.slow
STYLE_PRESETS = list(load_templates()["styles"])


class ClipBot(commands.Bot):
    """A bot of an operator's own with the reactclip cog added, its engine rendering with ``backend``.

    ``engine_backend`` is the backend the operator configured; "sticker" (what ``backend`` draws
    here) means no sticker previews. ``transcriber`` and ``voice_connect`` are for voice channels
    (see test_voice_e2e.py); ``frame_detector`` replaces NudeNet in the frame check.
    ``templates`` is an operator's templates file. ``discord_fields`` override DiscordSettings fields."""

    def __init__(
        self,
        text_models: dict[str, Any],
        backend: Any,
        db: Path,
        *,
        engine_backend: str = "sticker",
        executor_settings: ExecutorSettings | None = None,
        transcriber: Any = None,
        voice_connect: Any = None,
        frame_detector: Any = None,
        templates: Path | None = None,
        **discord_fields: Any,
    ) -> None:
        intents = discord.Intents.default()
        intents.message_content = True  # before the client copies them: Client.intents is a copy
        super().__init__(command_prefix="!", intents=intents, guild_ready_timeout=0.05)
        frames = FrameModerator(detector=frame_detector)
        executor = InProcessExecutor(lambda name: backend, executor_settings, **frame_hooks(frames))
        prompting = PromptingSettings(templates=templates)
        settings = Settings(engine=EngineSettings(backend=engine_backend, prompting=prompting))
        self.service = ReactionService(
            settings,
            text_models["embedder"],
            text_models["moderator"],
            text_models["emotion"],
            frames,
            executor,
            transcriber=transcriber,
        )
        self.cog_settings = settings
        self.cog_options = {"voice_connect": voice_connect} if voice_connect is not None else {}
        self.discord_settings = DiscordSettings(**{"cooldown_s": 0, "guild_db": db, **discord_fields})
        self.db = db

    async def setup_hook(self) -> None:
        cog = ReactCog(
            self,
            self.cog_settings,
            discord_settings=self.discord_settings,
            service=self.service,
            store=GuildStore(self.db),
            **self.cog_options,
        )
        await add_cogs(self, cog)


Scenario = Callable[[], Awaitable[None]]


def run(
    fake: FakeDiscord, bot: commands.Bot, scenario: Scenario, *then: tuple[commands.Bot, Scenario]
) -> None:
    """Serve ``fake``, connect ``bot``, sync its commands to the guild and play ``scenario``; then,
    for a restart, the same with each bot of ``then`` in turn (the previous one stopped first)."""

    async def main() -> None:
        async with fake:
            for client, play in ((bot, scenario), *then):
                async with fake.connected(client):
                    guild = discord.Object(fake.world.guild.id)
                    client.tree.copy_global_to(guild=guild)
                    await client.tree.sync(guild=guild)
                    await play()
        assert fake.unexpected == [], [str(call) for call in fake.unexpected]

    asyncio.run(main())


def payload(call: Any) -> dict[str, Any]:
    return call.json if isinstance(call.json, dict) else json.loads(call.json or "{}")


def test_slash_react_defers_then_answers_with_a_playable_clip(
    fake_discord: FakeDiscord, clean_env: Path, text_models: dict[str, Any], recording_backend: Any
) -> None:
    bot = ClipBot(text_models, recording_backend, clean_env / "guilds.sqlite3")

    async def scenario() -> None:
        ref = await fake_discord.slash("react", {"text": "I aced my exam @everyone!!"}, user="alice")
        deferral = await fake_discord.wait_for_callback(ref)
        assert payload(deferral)["type"] == 5  # deferred: Discord's 3-second rule is met at once
        final = await fake_discord.wait_for(clip_edit(ref.token), timeout=60)
        [clip] = final.files
        info = probe_video(clip.data, "mp4")
        assert (info.width, info.height) == (832, 480) and 8 <= info.frames <= 16
        mentions = payload(final)["allowed_mentions"]
        assert mentions["parse"] == [] and mentions.get("roles", []) == []
        assert len(recording_backend.calls) == 1

    run(fake_discord, bot, scenario)


def test_a_refused_prompt_gets_a_polite_refusal_and_no_generation(
    fake_discord: FakeDiscord, clean_env: Path, text_models: dict[str, Any], recording_backend: Any
) -> None:
    bot = ClipBot(text_models, recording_backend, clean_env / "guilds.sqlite3")

    async def scenario() -> None:
        ref = await fake_discord.slash("react", {"text": "k y s loser nobody likes you"}, user="alice")
        await fake_discord.wait_for_callback(ref)
        answer = await fake_discord.wait_for(
            lambda c: (
                c.params.get("token") == ref.token
                and c.method in ("POST", "PATCH")
                and "can't" in str(c.json)
            ),
            timeout=30,
        )
        assert "Traceback" not in str(answer.json)
        assert recording_backend.calls == []

    run(fake_discord, bot, scenario)


def test_a_dm_gets_a_clip_in_the_dm_channel(
    fake_discord: FakeDiscord, clean_env: Path, text_models: dict[str, Any], recording_backend: Any
) -> None:
    bot = ClipBot(text_models, recording_backend, clean_env / "guilds.sqlite3")

    async def scenario() -> None:
        message = await fake_discord.dm("we won the finals!!", user="alice")
        channel_id = int(message["channel_id"])
        call = await fake_discord.wait_for(lambda c: str(channel_id) in c.path and bool(c.files), timeout=60)
        assert probe_video(call.files[0].data, "mp4").frames >= 8
        assert len(recording_backend.calls) == 1

    run(fake_discord, bot, scenario)


def test_delete_button_is_for_the_requester_or_a_moderator_only(
    fake_discord: FakeDiscord, clean_env: Path, text_models: dict[str, Any], recording_backend: Any
) -> None:
    bot = ClipBot(text_models, recording_backend, clean_env / "guilds.sqlite3")

    async def scenario() -> None:
        message_id, buttons, _ = await posted_clip(fake_discord, "what a game, gg everyone", user="mod")
        delete = buttons["delete"]

        refused = await fake_discord.click(message_id, delete, user="alice")
        answer = payload(await fake_discord.wait_for_callback(refused))
        assert answer["type"] == 4 and answer["data"]["flags"] & 64  # an ephemeral reply, nothing deleted
        assert message_id in fake_discord.messages

        allowed = await fake_discord.click(message_id, delete, user="mod")
        await fake_discord.wait_for_callback(allowed)
        deleted = await fake_discord.wait_for(lambda c: c.method == "DELETE", timeout=10)
        assert str(message_id) in deleted.path or deleted.params.get("message_id") == "@original"

    run(fake_discord, bot, scenario)


# Helpers for the tests below ------------------------------------------------------------------------


def clip_edit(token: str) -> Callable[[Any], bool]:
    """An edit of an interaction's response that carries a file."""
    return lambda c: c.method == "PATCH" and c.params.get("token") == token and bool(c.files)


# An instant sticker while a slow clip is made -------------------------------------------------------


def test_a_slow_clip_is_answered_with_a_sticker_at_once_then_replaced_in_place(
    fake_discord: FakeDiscord, clean_env: Path, text_models: dict[str, Any]
) -> None:
    backend = SlowBackend(delay_s=3.0)
    bot = ClipBot(text_models, backend, clean_env / "guilds.sqlite3", engine_backend="auto")

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        ref = await fake_discord.slash("react", {"text": "we won the finals!!"}, user="alice")
        first = await fake_discord.wait_for(clip_edit(ref.token), timeout=30)
        first_at = loop.time()
        final = await fake_discord.wait_for(clip_edit(ref.token), timeout=60)
        assert loop.time() - first_at > 1.5  # the sticker came well before the clip
        assert payload(first).get("components") in (None, [])  # no buttons on the preview
        assert payload(final)["components"]
        assert first.files[0].data != final.files[0].data
        message = fake_discord.messages[int(final.response["id"])]
        assert int(first.response["id"]) == int(message["id"])  # the same message, edited in place
        [attachment] = message["attachments"]
        assert fake_discord.attachments[int(attachment["id"])].data == final.files[0].data
        assert len(backend.calls) == 1

    run(fake_discord, bot, scenario)


MAGENTA = np.array([255, 0, 255], dtype=np.uint8)


class MagentaBackend(SlowBackend):
    """A slow model whose every frame is magenta: what MagentaIsExplicit flags."""

    def generate(
        self,
        specs: Sequence[GenerationSpec],
        on_progress: ProgressCallback | None = None,
        should_stop: StopCheck | None = None,
    ) -> list[RenderedFrames]:
        rendered = super().generate(specs, on_progress, should_stop)
        return [
            dataclasses.replace(r, frames=np.broadcast_to(MAGENTA, r.frames.shape).copy()) for r in rendered
        ]


class MagentaIsExplicit:
    """A frame detector that sees explicit nudity in magenta frames and nothing anywhere else: the
    blocking path end to end without an explicit image in the repository."""

    def __init__(self) -> None:
        self.flagged = 0

    def detect(self, image: np.ndarray) -> list[Detection]:
        if np.abs(image.reshape(-1, 3).mean(axis=0) - MAGENTA).max() < 16:
            self.flagged += 1
            return [Detection("FEMALE_GENITALIA_EXPOSED", 0.9)]
        return []


def test_a_clip_the_frame_check_blocks_takes_its_sticker_down_and_is_refused_politely(
    fake_discord: FakeDiscord, clean_env: Path, text_models: dict[str, Any]
) -> None:
    backend, detector = MagentaBackend(delay_s=2.0), MagentaIsExplicit()
    bot = ClipBot(
        text_models, backend, clean_env / "guilds.sqlite3", engine_backend="auto", frame_detector=detector
    )

    async def scenario() -> None:
        ref = await fake_discord.slash("react", {"text": "we won the finals!!"}, user="alice")
        sticker = await fake_discord.wait_for(clip_edit(ref.token), timeout=30)  # the preview passed
        deleted = await fake_discord.wait_for(lambda c: c.method == "DELETE", timeout=60)
        assert deleted.params.get("message_id") == "@original" or str(sticker.response["id"]) in deleted.path
        line = payload(await fake_discord.wait_for_followup(ref, timeout=30))
        assert line["flags"] & 64  # only the requester sees it
        assert line["content"] == BLOCKED_REASON
        assert detector.flagged and len(backend.calls) == 1
        assert int(sticker.response["id"]) not in fake_discord.messages  # nothing of it stays up
        assert [c for c in fake_discord.calls if clip_edit(ref.token)(c)] == [sticker]  # never sent

    run(fake_discord, bot, scenario)


@pytest.mark.parametrize("turned_off_by", ["operator", "guild"])
def test_with_instant_stickers_off_only_the_clip_is_sent(
    fake_discord: FakeDiscord, clean_env: Path, text_models: dict[str, Any], turned_off_by: str
) -> None:
    backend = SlowBackend(delay_s=3.0)
    db = clean_env / "guilds.sqlite3"
    if turned_off_by == "operator":
        bot = ClipBot(text_models, backend, db, engine_backend="auto", instant_sticker=False)
    else:
        bot = ClipBot(text_models, backend, db, engine_backend="auto")

    async def scenario() -> None:
        if turned_off_by == "guild":
            ref = await fake_discord.slash("reactclip settings set", {"instant_preview": False}, user="owner")
            answer = payload(await fake_discord.wait_for_callback(ref))
            assert "instant sticker while a clip is made: off" in answer["data"]["content"]
        ref = await fake_discord.slash("react", {"text": "we won the finals!!"}, user="alice")
        await fake_discord.wait_for(clip_edit(ref.token), timeout=60)
        file_edits = [c for c in fake_discord.calls if clip_edit(ref.token)(c)]
        assert len(file_edits) == 1

    run(fake_discord, bot, scenario)


# Entry points ---------------------------------------------------------------------------------------


def test_the_message_menu_on_someones_message_answers_with_a_clip(
    fake_discord: FakeDiscord, clean_env: Path, text_models: dict[str, Any], recording_backend: Any
) -> None:
    bot = ClipBot(text_models, recording_backend, clean_env / "guilds.sqlite3")

    async def scenario() -> None:
        target = fake_discord.message_payload("we won the finals!!", user="mod")
        ref = await fake_discord.context_menu("React with a clip", target, user="alice")
        assert payload(await fake_discord.wait_for_callback(ref))["type"] == 5
        final = await fake_discord.wait_for(clip_edit(ref.token), timeout=60)
        assert probe_video(final.files[0].data, "mp4").frames >= 8
        assert "we won the finals" in payload(final)["content"]
        assert len(recording_backend.calls) == 1

    run(fake_discord, bot, scenario)


def test_a_mention_in_a_guild_channel_is_answered_with_a_clip_in_that_channel(
    fake_discord: FakeDiscord, clean_env: Path, text_models: dict[str, Any], recording_backend: Any
) -> None:
    bot = ClipBot(text_models, recording_backend, clean_env / "guilds.sqlite3")
    general = fake_discord.world.channel("general")

    async def scenario() -> None:
        message = await fake_discord.send_message("we won the finals!!", mention_bot=True, user="alice")
        reply = await fake_discord.wait_for_channel_message(general.id, timeout=30)
        assert str(payload(reply)["message_reference"]["message_id"]) == message["id"]
        final = await fake_discord.wait_for(
            lambda c: (
                c.route == "PATCH /channels/{channel_id}/messages/{message_id}"
                and c.params.get("message_id") == reply.response["id"]
                and bool(c.files)
            ),
            timeout=60,
        )
        assert final.params["channel_id"] == str(general.id)
        assert probe_video(final.files[0].data, "mp4").frames >= 8
        assert len(recording_backend.calls) == 1

    run(fake_discord, bot, scenario)


# Limits ---------------------------------------------------------------------------------------------


def test_a_second_request_inside_the_cooldown_gets_a_polite_private_line(
    fake_discord: FakeDiscord, clean_env: Path, text_models: dict[str, Any], recording_backend: Any
) -> None:
    bot = ClipBot(text_models, recording_backend, clean_env / "guilds.sqlite3", cooldown_s=60)

    async def scenario() -> None:
        first = await fake_discord.slash("react", {"text": "we won the finals!!"}, user="alice")
        await fake_discord.wait_for(clip_edit(first.token), timeout=60)
        second = await fake_discord.slash("react", {"text": "and the cup!!"}, user="alice")
        line = payload(await fake_discord.wait_for_followup(second))
        assert line["flags"] & 64 and "slow down a little: you can ask again in" in line["content"]
        assert len(recording_backend.calls) == 1

    run(fake_discord, bot, scenario)


def test_twenty_members_asking_at_once_all_get_their_clip(
    fake_discord: FakeDiscord, clean_env: Path, text_models: dict[str, Any], recording_backend: Any
) -> None:
    """A request beyond what runs now waits in the queue (showing its place) instead of being
    turned away: the per-guild share of the queue (24 of 32 by default) is the bound, not a cap on
    clips in the making."""
    world = fake_discord.world
    members = [FakeUser(1_300_000_000_000_000_000 + i, f"member{i}") for i in range(20)]
    world.users.extend(members)
    world.guild.members.update({member.id: [] for member in members})
    bot = ClipBot(text_models, recording_backend, clean_env / "guilds.sqlite3")

    async def scenario() -> None:
        refs = await asyncio.gather(
            *(
                fake_discord.slash("react", {"text": f"we won round {i}!!"}, user=member)
                for i, member in enumerate(members)
            )
        )
        finals = await asyncio.gather(
            *(fake_discord.wait_for(clip_edit(ref.token), timeout=120) for ref in refs)
        )
        assert all(payload(final)["components"] for final in finals)  # 20 clips, each with its buttons
        assert sum(len(call) for call in recording_backend.calls) == 20

    run(fake_discord, bot, scenario)


def test_regenerate_right_after_ones_own_clip_waits_out_the_cooldown_instead_of_refusing(
    fake_discord: FakeDiscord, clean_env: Path, text_models: dict[str, Any], recording_backend: Any
) -> None:
    bot = ClipBot(text_models, recording_backend, clean_env / "guilds.sqlite3", cooldown_s=2)

    async def scenario() -> None:
        message_id, buttons, _ = await posted_clip(fake_discord, "we won the finals!!")
        click = await fake_discord.click(message_id, buttons["regen"], user="alice")
        waiting = await fake_discord.wait_for(
            lambda c: c.method == "PATCH" and c.params.get("token") == click.token, timeout=30
        )
        assert "your remake starts in" in payload(waiting)["content"]
        again = await fake_discord.wait_for(clip_edit(click.token), timeout=60)
        assert payload(again)["components"]  # a new clip with its buttons, not a "slow down" line
        assert len(recording_backend.calls) == 2

    run(fake_discord, bot, scenario)


def test_over_the_queue_cap_a_request_is_told_when_to_try_again(
    fake_discord: FakeDiscord, clean_env: Path, text_models: dict[str, Any]
) -> None:
    backend = BlockedBackend()
    bot = ClipBot(
        text_models,
        backend,
        clean_env / "guilds.sqlite3",
        executor_settings=ExecutorSettings(queue_cap=1),
    )

    async def queued() -> int:
        return bot.service.executor().stats().queued[Priority.INTERACTIVE.value]

    async def scenario() -> None:
        try:
            running = await fake_discord.slash("react", {"text": "we won the finals!!"}, user="alice")
            assert await asyncio.to_thread(backend.entered.wait, 30)
            waiting = await fake_discord.slash("react", {"text": "what a save!!"}, user="mod")
            for _ in range(500):
                if await queued() == 1:
                    break
                await asyncio.sleep(0.02)
            assert await queued() == 1
            turned_down = await fake_discord.slash("react", {"text": "gg everyone"}, user="owner")
            line = payload(await fake_discord.wait_for_followup(turned_down, timeout=30))
            assert line["flags"] & 64 and re.search(r"busy, try again in \d+ s", line["content"])
        finally:
            backend.release.set()
        for ref in (running, waiting):
            await fake_discord.wait_for(clip_edit(ref.token), timeout=60)
        assert len(backend.calls) == 2

    run(fake_discord, bot, scenario)


# /reactclip settings --------------------------------------------------------------------------------


def test_guild_settings_need_manage_server_and_survive_a_restart(
    fake_discord: FakeDiscord, clean_env: Path, text_models: dict[str, Any], recording_backend: Any
) -> None:
    db = clean_env / "guilds.sqlite3"
    before, after = ClipBot(text_models, recording_backend, db), ClipBot(text_models, recording_backend, db)

    async def before_restart() -> None:
        # /reactclip is offered to everyone (for /reactclip listen); its settings still need Manage Server.
        denied = await fake_discord.slash(
            "reactclip settings set", {"default_style": "pixel art"}, user="alice"
        )
        refusal = payload(await fake_discord.wait_for_callback(denied))
        assert refusal["data"]["flags"] & 64
        assert refusal["data"]["content"] == "you need the Manage Server permission for that"
        ref = await fake_discord.slash("reactclip settings set", {"default_style": "pixel art"}, user="owner")
        answer = payload(await fake_discord.wait_for_callback(ref))
        assert answer["data"]["flags"] & 64 and "default style: pixel art" in answer["data"]["content"]

    async def after_restart() -> None:
        ref = await fake_discord.slash("reactclip settings show", user="mod")
        answer = payload(await fake_discord.wait_for_callback(ref))
        assert "default style: pixel art" in answer["data"]["content"]
        react = await fake_discord.slash("react", {"text": "we won the finals!!"}, user="alice")
        await fake_discord.wait_for(clip_edit(react.token), timeout=60)
        [[spec]] = recording_backend.calls
        assert spec.style == "pixel art"

    run(fake_discord, before, before_restart, (after, after_restart))


def test_style_options_offer_the_operators_own_styles_and_refuse_unknown_ones(
    fake_discord: FakeDiscord, clean_env: Path, text_models: dict[str, Any], recording_backend: Any
) -> None:
    templates = clean_env / "templates.toml"
    templates.write_text('[styles.vaporwave]\nwords = "vaporwave, neon pink and teal, retro grid"\n')
    bot = ClipBot(text_models, recording_backend, clean_env / "guilds.sqlite3", templates=templates)

    async def offered(command: str, options: dict[str, Any], focused: str) -> list[str]:
        ref = await fake_discord.autocomplete(command, options, focused, user="owner")
        answer = payload(await fake_discord.wait_for_callback(ref))
        assert answer["type"] == 8
        return [choice["value"] for choice in answer["data"]["choices"]]

    async def scenario() -> None:
        assert await offered("react", {"text": "gg", "style": ""}, "style") == [*STYLE_PRESETS, "vaporwave"]
        assert await offered("react", {"text": "gg", "style": "WAVE"}, "style") == ["vaporwave"]
        assert await offered("reactclip settings set", {"default_style": "vap"}, "default_style") == [
            "vaporwave"
        ]

        # Autocomplete only suggests: what is typed instead is refused politely, and nothing is saved.
        ref = await fake_discord.slash("reactclip settings set", {"default_style": "sepia"}, user="owner")
        refusal = payload(await fake_discord.wait_for_callback(ref))["data"]
        assert refusal["flags"] & 64 and "sepia" in refusal["content"] and "vaporwave" in refusal["content"]
        react = await fake_discord.slash("react", {"text": "we won!!", "style": "sepia"})
        line = payload(await fake_discord.wait_for_followup(react, timeout=30))
        assert line["flags"] & 64 and "sepia" in line["content"] and "cartoon" in line["content"]

        ref = await fake_discord.slash("reactclip settings set", {"default_style": "vaporwave"}, user="owner")
        assert (
            "default style: vaporwave"
            in payload(await fake_discord.wait_for_callback(ref))["data"]["content"]
        )
        react = await fake_discord.slash("react", {"text": "we won the finals!!"})
        await fake_discord.wait_for(clip_edit(react.token), timeout=60)
        [[spec]] = recording_backend.calls
        assert spec.style == "vaporwave"

    run(fake_discord, bot, scenario)


# The buttons under a clip ---------------------------------------------------------------------------


async def posted_clip(
    fake: FakeDiscord, text: str, *, user: str = "alice"
) -> tuple[int, dict[str, str], Any]:
    """``user``'s /react clip: its message id, its buttons' custom_ids by action, and the final edit."""
    ref = await fake.slash("react", {"text": text}, user=user)
    final = await fake.wait_for(clip_edit(ref.token), timeout=60)
    buttons = [b["custom_id"] for row in payload(final)["components"] for b in row["components"]]
    by_action = {custom_id.split(":")[1]: custom_id for custom_id in buttons}
    assert set(by_action) == {"regen", "style", "delete", "up", "down"}
    return int(final.response["id"]), by_action, final


@pytest.mark.parametrize("action", ["regen", "style"])
def test_regenerate_and_another_style_post_a_new_clip_in_a_new_message(
    fake_discord: FakeDiscord,
    clean_env: Path,
    text_models: dict[str, Any],
    recording_backend: Any,
    action: str,
) -> None:
    bot = ClipBot(text_models, recording_backend, clean_env / "guilds.sqlite3")

    async def scenario() -> None:
        message_id, buttons, first = await posted_clip(fake_discord, "we won the finals!!")
        click = await fake_discord.click(message_id, buttons[action], user="alice")
        assert payload(await fake_discord.wait_for_callback(click))["type"] == 5  # deferred, in time
        again = await fake_discord.wait_for(clip_edit(click.token), timeout=60)

        [[before], [after]] = recording_backend.calls
        assert after.seed != before.seed
        if action == "regen":
            assert (after.prompt, after.style, after.frames) == (before.prompt, before.style, before.frames)
        else:
            assert after.style == STYLE_PRESETS[(STYLE_PRESETS.index(before.style) + 1) % len(STYLE_PRESETS)]
            assert after.frames == before.frames
            assert after.style in payload(again)["content"]

        # What a user sees: the first clip stays as it was; a new message below it holds another clip,
        # with buttons of its own.
        new_id = int(again.response["id"])
        assert new_id != message_id
        [old_attachment] = fake_discord.messages[message_id]["attachments"]
        assert fake_discord.attachments[int(old_attachment["id"])].data == first.files[0].data
        [new_attachment] = fake_discord.messages[new_id]["attachments"]
        new_data = fake_discord.attachments[int(new_attachment["id"])].data
        assert new_data == again.files[0].data != first.files[0].data
        assert probe_video(new_data, "mp4").frames >= 8
        new_buttons = [b["custom_id"] for row in payload(again)["components"] for b in row["components"]]
        assert len(new_buttons) == 5 and not set(new_buttons) & set(buttons.values())

    run(fake_discord, bot, scenario)


def test_thumbs_up_and_down_are_stored_one_vote_per_person_and_acknowledged_privately(
    fake_discord: FakeDiscord, clean_env: Path, text_models: dict[str, Any], recording_backend: Any
) -> None:
    db = clean_env / "guilds.sqlite3"
    bot = ClipBot(text_models, recording_backend, db)

    async def scenario() -> None:
        message_id, buttons, _ = await posted_clip(fake_discord, "what a game, gg everyone")
        cog = bot.get_cog("ReactCog")
        assert isinstance(cog, ReactCog) and cog.store is not None
        store = cog.store
        assert store.feedback(message_id) == {"up": 0, "down": 0}
        clip_message = json.dumps(fake_discord.messages[message_id], sort_keys=True)

        async def vote(action: str, user: str) -> None:
            click = await fake_discord.click(message_id, buttons[action], user=user)
            answer = payload(await fake_discord.wait_for_callback(click))
            assert answer["type"] == 4 and answer["data"]["flags"] & 64, answer
            assert "feedback" in answer["data"]["content"]

        await vote("up", "alice")
        await vote("down", "mod")
        assert store.feedback(message_id) == {"up": 1, "down": 1}
        await vote("up", "alice")  # the same vote again counts once
        assert store.feedback(message_id) == {"up": 1, "down": 1}
        await vote("down", "alice")  # a changed mind replaces the vote
        assert store.feedback(message_id) == {"up": 0, "down": 2}

        reopened = GuildStore(db)  # what was stored is on disk, not only in the cog
        try:
            assert reopened.feedback(message_id) == {"up": 0, "down": 2}
        finally:
            reopened.close()
        assert len(recording_backend.calls) == 1  # a vote makes no clip
        # The clip message itself is untouched by the votes.
        assert json.dumps(fake_discord.messages[message_id], sort_keys=True) == clip_message

    run(fake_discord, bot, scenario)
