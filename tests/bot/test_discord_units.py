"""The Discord edge's pure pieces, offline: guild store, limits, progress throttle, request context,
escaping, settings secrecy, buttons and commands. Real discord.py objects where they build offline."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.ext import commands
from pydantic import BaseModel

from reactclip.bot.analysis import Analysis
from reactclip.bot.discord.answering import ClipOptions
from reactclip.bot.discord.app import build_bot, intents
from reactclip.bot.discord.context import is_nsfw_channel, request_origin
from reactclip.bot.discord.errors import describe_discord
from reactclip.bot.discord.guild_settings import DEFAULTS, GuildSettingError, GuildSettings
from reactclip.bot.discord.guild_store import MIGRATIONS, SCHEMA_VERSION, GuildStore, PostedClip, migrate
from reactclip.bot.discord.limits import Cooldown, LimitReached
from reactclip.bot.discord.progress import EditThrottle, ProgressMessage, describe_event
from reactclip.bot.discord.reactions import ReactCog
from reactclip.bot.discord.replies import Reply
from reactclip.bot.discord.server import ServerCog
from reactclip.bot.discord.settings import DiscordSettings
from reactclip.bot.discord.text import allowed_mentions, quote_user_text, strip_mention
from reactclip.bot.discord.views import ClipButton, ClipView, custom_id
from reactclip.bot.events import Analysed, Event, Failed, Finished, Progress
from reactclip.bot.request import Options, Request
from reactclip.bot.settings import Settings
from reactclip.engine.clip import Clip
from reactclip.engine.executor import Busy, Decoding, Done, Queued, Started, Step
from reactclip.engine.mood import Intensity, Mood
from reactclip.engine.prompting import EmotionReading
from reactclip.engine.spec import GenerationSpec, OutputFormat
from reactclip.moderation import Category, TextVerdict
from reactclip.moderation.context import GuildPolicy, RequestContext

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.secret-token-value-0123456789"


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# Guild store ------------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> GuildStore:
    return GuildStore(tmp_path / "guilds.sqlite3")


def test_a_new_guild_gets_the_declared_defaults(store: GuildStore) -> None:
    settings = store.get(42)
    assert settings == DEFAULTS
    assert settings.policy == GuildPolicy()
    assert settings.channel_enabled(1, None)


def test_settings_are_saved_per_guild(store: GuildStore) -> None:
    store.set(1, default_style="anime", default_frames=8, mascot="  a  red panda ", voice_triggers=True)
    store.set(1, enabled_channels=(30, 20, 30))
    one = store.get(1)
    assert (one.default_style, one.default_frames, one.mascot, one.voice_triggers) == (
        "anime",
        8,
        "a red panda",
        True,
    )
    assert one.enabled_channels == (20, 30)
    assert one.channel_enabled(99, 20)  # a thread in an enabled channel
    assert not one.channel_enabled(99, None)
    assert store.get(2) == DEFAULTS


def test_a_guild_can_be_stricter_but_never_looser_than_the_defaults(store: GuildStore) -> None:
    assert store.set(1, strictness="strict").policy.strictness == "strict"
    assert store.set(1, strictness="standard").strictness == "standard"  # back to the default
    assert store.set(1, allow_nsfw_channels=False).policy.allow_nsfw_channels is False
    with pytest.raises(GuildSettingError, match="strictness"):
        store.set(1, strictness="lenient")
    with pytest.raises(GuildSettingError):
        store.set(1, default_frames=40)
    with pytest.raises(GuildSettingError):
        store.set(1, moderation="off")
    # A row edited by hand to something looser reads back as the default, never as the loose value.
    db = sqlite3.connect(store.path)
    db.execute("INSERT INTO guild_settings VALUES (1, 'strictness', '\"lenient\"')")
    db.commit()
    db.close()
    assert store.get(1).strictness == "standard"


def test_a_rejected_change_changes_nothing(store: GuildStore) -> None:
    store.set(1, default_style="anime")
    with pytest.raises(GuildSettingError):
        store.set(1, default_style="comic", strictness="off")
    assert store.get(1).default_style == "anime"


def test_migrations_from_an_older_schema_run_once(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    assert migrate(db, MIGRATIONS[:1]) == [1]
    db.execute("INSERT INTO guild_settings VALUES (7, 'default_style', '\"comic\"')")
    db.close()

    upgraded = GuildStore(path)
    assert upgraded.applied == list(range(2, SCHEMA_VERSION + 1))
    assert upgraded.get(7).default_style == "comic"  # the old data survived
    upgraded.save_request(PostedClip("ab" * 8, 5, 7, "hello", None, None))
    upgraded.close()

    again = GuildStore(path)
    assert again.applied == []
    assert again.load_request("ab" * 8) is not None
    versions = sqlite3.connect(path).execute("SELECT version FROM schema_version").fetchall()
    assert [v for (v,) in versions] == list(range(1, SCHEMA_VERSION + 1))


def test_a_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    GuildStore(path).close()
    sqlite3.connect(path, isolation_level=None).execute(
        "INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION + 1,)
    )
    with pytest.raises(RuntimeError, match="schema version"):
        GuildStore(path)


def test_feedback_keeps_one_vote_per_person_per_clip(store: GuildStore) -> None:
    store.record_feedback(100, "user-a", 1)
    store.record_feedback(100, "user-b", 1)
    store.record_feedback(100, "user-a", -1)  # changed their mind
    store.record_feedback(200, "user-a", 1)
    assert store.feedback(100) == {"up": 1, "down": 1}
    assert store.feedback(300) == {"up": 0, "down": 0}
    with pytest.raises(ValueError):
        store.record_feedback(100, "user-c", 5)


def test_clip_requests_expire(tmp_path: Path) -> None:
    clock = FakeClock()
    store = GuildStore(tmp_path / "g.sqlite3", request_ttl_s=60, clock=clock)
    request = PostedClip("0123456789abcdef", 5, None, "so hyped", "anime", 12)
    store.save_request(request)
    assert store.load_request(request.request_id) == request
    clock.now += 61
    assert store.load_request(request.request_id) is None


# Limits -----------------------------------------------------------------------------------------


def test_cooldown_allows_one_request_per_user_per_period() -> None:
    clock = FakeClock()
    cooldown = Cooldown(10, clock)
    cooldown.hit(1)
    cooldown.hit(2)  # another user is not held up
    clock.now += 3.2
    with pytest.raises(LimitReached, match="again in 7 s") as caught:
        cooldown.hit(1)
    assert caught.value.retry_after_s == 7
    clock.now += 6.8
    cooldown.hit(1)
    assert cooldown.retry_after(1) == 10


def test_busy_and_limits_become_short_polite_lines() -> None:
    assert describe_discord(Busy(2.2)) == "busy, try again in 3 s"
    line = describe_discord(LimitReached("slow down a little: you can ask again in 4 s"))
    assert line.startswith("slow down")
    command: Any = SimpleNamespace(name="react")
    wrapped = app_commands.CommandInvokeError(command, Busy(5))
    assert describe_discord(wrapped) == "busy, try again in 5 s"
    line = describe_discord(KeyError("traceback material"))
    assert "Traceback" not in line and "try again" in line


# Progress ---------------------------------------------------------------------------------------


def test_the_throttle_spaces_edits_by_the_interval() -> None:
    clock = FakeClock()
    throttle = EditThrottle(1.5, clock)
    assert throttle.ready()
    throttle.record()
    clock.now += 1.0
    assert not throttle.ready()
    assert throttle.wait_s() == pytest.approx(0.5)
    clock.now += 0.5
    assert throttle.ready()


def test_events_read_as_queue_position_then_steps() -> None:
    assert describe_event(Queued(position=2)) == "position 3 in the queue"
    assert describe_event(Queued(position=0)) == "next in line"
    assert describe_event(Started(backend="sticker", batch_size=1)) == "starting"
    assert describe_event(Step(stage="denoising", step=4, total=20)) == "step 4 of 20"
    assert describe_event(Decoding()) == "encoding"
    assert describe_event(Done()) is None


def test_progress_edits_at_most_every_interval_and_the_final_edit_goes_through() -> None:
    clock = FakeClock()
    edits: list[tuple[float, str]] = []

    async def edit(content: str) -> None:
        edits.append((clock.now, content))

    async def fake_sleep(seconds: float) -> None:
        clock.now += seconds
        await asyncio.sleep(0)

    async def scenario() -> None:
        progress = ProgressMessage(edit, lambda line: f"> hi\n{line}", EditThrottle(1.5, clock), fake_sleep)
        progress.start(shown="getting ready")
        progress.update(Queued(position=1))
        for step in range(1, 41):
            clock.now += 0.1
            progress.update(Step("denoising", step, 40))
            for _ in range(3):
                await asyncio.sleep(0)
        progress.update(Decoding())  # pending, and the throttle is not ready
        await progress.finish()
        await edit("final: the clip")  # what the cog does next: never throttled

    asyncio.run(scenario())
    progress_edits = edits[:-1]
    assert progress_edits, "progress was shown"
    times = [t for t, _ in progress_edits]
    assert all(b - a >= 1.5 - 1e-9 for a, b in itertools.pairwise(times))
    assert len(progress_edits) <= (clock.now - 1000.0) / 1.5 + 1
    assert edits[-1][1] == "final: the clip"  # nothing stale lands after the final edit
    assert all("step" in content or "queue" in content for _, content in progress_edits)


# Context ----------------------------------------------------------------------------------------


def _guild(state: Any) -> discord.Guild:
    return discord.Guild(data={"id": "1", "name": "g"}, state=state)  # type: ignore[typeddict-item]


def _text_channel(state: Any, guild: discord.Guild, channel_id: int, nsfw: bool) -> discord.TextChannel:
    data: Any = {
        "id": str(channel_id),
        "type": 0,
        "name": f"c{channel_id}",
        "position": 0,
        "nsfw": nsfw,
        "permission_overwrites": [],
        "guild_id": str(guild.id),
    }
    channel = discord.TextChannel(state=state, guild=guild, data=data)
    guild._add_channel(channel)
    return channel


def _thread(state: Any, guild: discord.Guild, parent_id: int) -> discord.Thread:
    data: Any = {
        "id": "300",
        "type": 11,
        "parent_id": str(parent_id),
        "owner_id": "5",
        "name": "t",
        "guild_id": str(guild.id),
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 60,
            "archive_timestamp": "2024-01-01T00:00:00+00:00",
            "locked": False,
        },
        "message_count": 0,
        "member_count": 0,
        "rate_limit_per_user": 0,
    }
    return discord.Thread(guild=guild, state=state, data=data)


def request_context(channel: Any, user_id: int, policy: GuildPolicy | None = None) -> RequestContext:
    """What moderation sees of a request from ``user_id`` in ``channel``."""
    return request_origin("slash", channel, user_id, policy).context


@pytest.fixture
def state() -> Any:
    return discord.Client(intents=discord.Intents(guilds=True))._connection


def test_context_follows_the_channels_nsfw_flag_and_the_guild_policy(state: Any) -> None:
    guild = _guild(state)
    nsfw = _text_channel(state, guild, 2, nsfw=True)
    sfw = _text_channel(state, guild, 3, nsfw=False)
    strict = GuildPolicy(allow_nsfw_channels=False, strictness="strict")

    context = request_context(nsfw, 77, strict)
    assert (context.nsfw_channel, context.is_dm, context.guild) == (True, False, strict)
    assert not context.adult_content_allowed  # the guild turned NSFW channels off
    assert request_context(nsfw, 77).adult_content_allowed
    assert not request_context(sfw, 77).nsfw_channel
    assert context.user_hash and "77" not in context.user_hash


def test_a_thread_inherits_its_parents_nsfw_flag(state: Any) -> None:
    guild = _guild(state)
    _text_channel(state, guild, 2, nsfw=True)
    _text_channel(state, guild, 3, nsfw=False)
    assert request_context(_thread(state, guild, parent_id=2), 1).nsfw_channel
    assert not request_context(_thread(state, guild, parent_id=3), 1).nsfw_channel
    assert not is_nsfw_channel(_thread(state, guild, parent_id=999))  # parent unknown: fails closed


def test_a_dm_is_never_nsfw_and_ignores_guild_policy(state: Any) -> None:
    user: Any = {"id": "9", "username": "bot", "discriminator": "0", "avatar": None}
    me = discord.ClientUser(state=state, data=user)
    data: Any = {"id": "4", "type": 1, "recipients": [{**user, "id": "7", "username": "x"}]}
    dm = discord.DMChannel(me=me, state=state, data=data)
    context = request_context(dm, 7, GuildPolicy(strictness="strict"))
    assert context == RequestContext(nsfw_channel=False, is_dm=True, user_hash=context.user_hash)
    assert not context.adult_content_allowed
    assert not request_context(None, 7).nsfw_channel


# Escaping ---------------------------------------------------------------------------------------


def test_user_text_shown_back_cannot_ping_or_format() -> None:
    text = "@everyone @here <@&123456789012345678> <@123456789012345678> **bold** __u__ `x` ||s||"
    shown = quote_user_text(text)
    for raw in ("@everyone", "@here", "<@&123456789012345678>", "<@123456789012345678>"):
        assert raw not in shown
    assert "\\*\\*bold\\*\\*" in shown and "\\`x\\`" in shown and "\\|\\|s\\|\\|" in shown
    assert "\n" not in quote_user_text("line one\nline two")
    assert len(quote_user_text("a" * 1000)) <= 200


def test_only_the_requester_can_be_pinged() -> None:
    requester = discord.Object(id=123)
    mentions = allowed_mentions(requester)
    assert mentions.everyone is False and mentions.roles is False
    assert mentions.users == [requester]
    payload = mentions.to_dict()
    assert payload["parse"] == [] and payload["users"] == [123]


def test_the_bot_mention_is_stripped_from_the_request() -> None:
    assert strip_mention("<@42> so hyped <@!42>!", 42) == "so hyped !"
    assert strip_mention("<@42>", 42) == ""


# Settings ---------------------------------------------------------------------------------------


def test_the_token_never_appears_in_repr_str_or_dumps() -> None:
    class Wrapper(BaseModel):
        discord: DiscordSettings

    section = DiscordSettings(token=TOKEN, sync_guild=5)
    wrapper = Wrapper(discord=section)
    for shown in (repr(section), str(section), section.model_dump_json(), repr(wrapper), str(wrapper)):
        assert TOKEN not in shown
    assert section.token is not None and section.token.get_secret_value() == TOKEN


def test_discord_settings_defaults() -> None:
    section = DiscordSettings()
    assert section.token is None and section.sync_guild is None
    assert section.guild_db == Path.home() / ".local/share/reactclip/guilds.sqlite3"
    assert section.progress_interval_s == 1.5


# Buttons, commands and the bot --------------------------------------------------------------------


def test_buttons_carry_the_request_in_a_persistent_custom_id() -> None:
    view = ClipView("0123456789abcdef")
    ids = [item.custom_id for item in view.children if isinstance(item, ClipButton)]
    assert ids == [custom_id(a, "0123456789abcdef") for a in ("regen", "style", "delete", "up", "down")]
    assert view.timeout is None and view.is_persistent()
    assert all(len(i) <= 100 and ClipButton.__discord_ui_compiled_template__.fullmatch(i) for i in ids)
    private = ClipView("0123456789abcdef", deletable=False)
    assert "reactclip:delete:0123456789abcdef" not in [getattr(i, "custom_id", "") for i in private.children]


def test_the_bot_asks_for_the_fewest_intents() -> None:
    chosen = intents()
    assert chosen.guilds and chosen.guild_messages and chosen.dm_messages and chosen.message_content
    assert chosen.voice_states  # /reactclip listen finds the member's voice channel
    assert not (chosen.members or chosen.presences or chosen.guild_reactions)
    bot = build_bot(Settings(), load_models=False)
    assert bot.intents == chosen


def test_commands_declare_their_options_and_permissions() -> None:
    bot = commands.Bot(command_prefix="!", intents=discord.Intents.none())
    cog = ReactCog(bot, Settings(), load_models=False)
    server = ServerCog(cog)
    commands_of = [*cog.get_app_commands(), *server.get_app_commands()]
    payloads = {c.name: c.to_dict(bot.tree) for c in commands_of}
    react = {o["name"]: o for o in payloads["react"]["options"]}
    assert react["frames"]["min_value"] == 8 and react["frames"]["max_value"] == 16
    assert react["style"]["autocomplete"] and "choices" not in react["style"]  # from the running templates
    assert all(o["description"] for o in react.values())
    # /reactclip is offered to everyone (listen has its own guild-chosen permission); what needs
    # Manage Server checks it per command.
    group = payloads["reactclip"]
    assert group["default_member_permissions"] is None
    subcommands = {o["name"]: o for o in group["options"]}
    assert {"listen", "stop", "status", "settings"} <= set(subcommands)
    checked = {
        c.qualified_name
        for c in [*cog.walk_app_commands(), *server.walk_app_commands()]
        if isinstance(c, app_commands.Command) and c.checks
    }
    assert checked == {
        "reactclip status",
        "reactclip settings show",
        "reactclip settings set",
        "reactclip settings channel",
        "reactclip settings reset",
    }
    settings_set = next(o for o in subcommands["settings"]["options"] if o["name"] == "set")
    voice_options = {o["name"]: o for o in settings_set["options"]}
    assert [c["value"] for c in voice_options["voice_mode"]["choices"]] == ["wake", "every"]
    assert voice_options["wake_phrase"]["max_length"] == 40
    assert cog.ctx_menu.type is discord.AppCommandType.message


def test_settings_set_offers_each_guild_setting_as_the_model_declares_it() -> None:
    bot = commands.Bot(command_prefix="!", intents=discord.Intents.none())
    server = ServerCog(ReactCog(bot, Settings(), load_models=False))
    group = next(c for c in server.get_app_commands() if c.name == "reactclip").to_dict(bot.tree)
    settings = next(o for o in group["options"] if o["name"] == "settings")
    options = {o["name"]: o for o in next(o for o in settings["options"] if o["name"] == "set")["options"]}
    fields = GuildSettings.model_fields
    assert set(options) == set(fields) - {"enabled_channels"}  # channels have their own command
    assert all(options[name]["description"] == fields[name].description for name in options)
    assert not any(option["required"] for option in options.values())
    assert (options["default_frames"]["min_value"], options["default_frames"]["max_value"]) == (8, 16)
    assert options["mascot"]["max_length"] == 60
    assert [c["value"] for c in options["strictness"]["choices"]] == ["standard", "strict"]
    assert options["allow_nsfw_channels"]["type"] == discord.AppCommandOptionType.boolean.value
    shown = DEFAULTS.describe().splitlines()
    assert len(shown) == len(fields) - 1  # the wake phrase is shown in the voice mode's line
    assert 'in voice: what starts with "reaction"' in shown


def test_options_carry_only_the_spec_fields_the_requester_set() -> None:
    options = Options(style="anime", frames=12, seed=7, size=(480, 480))
    assert options.spec_fields() == {"frames": 12, "width": 480, "height": 480}
    assert Options().spec_fields() == {}


# The one path, with a fake service and a recording reply --------------------------------------


class RecordingReply(Reply):
    def __init__(self) -> None:
        super().__init__(discord.Object(id=555))
        self.shown: list[dict[str, Any]] = []

    async def show(self, content: str, **kwargs: Any) -> None:
        self.shown.append({"content": content, **kwargs})

    async def fail(self, line: str) -> None:
        self.shown.append({"content": line, "failed": True})


def analysed(text: str) -> Analysed:
    verdict = TextVerdict(True, Category.NONE, 0.0, "lexicon", "")
    reading = EmotionReading(Mood.JOY, Intensity.HIGH, 0.9, {Mood.JOY: 1.0})
    return Analysed(Analysis(text, verdict, reading, GenerationSpec(prompt="a cat")))


class FakeService:
    """Answers every request with a fixed clip after two progress events, recording the requests."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.ending: Event | None = None
        """The last event instead of the clip (a failure)."""

    async def handle(self, request: Request) -> AsyncIterator[Event]:
        self.requests.append(request)
        assert isinstance(request.said, str)
        yield analysed(request.said)
        yield Progress(Queued(position=0))
        yield Progress(Step("rendering", 1, 2))
        await asyncio.sleep(0)
        if self.ending is not None:
            yield self.ending
            return
        spec = GenerationSpec(prompt="a cat", seed=7, style=request.options.style or "cartoon")
        yield Finished(Clip(b"clip-bytes", OutputFormat.MP4, 16, 832, 480, 12.0, spec, "sticker", "default"))


def _run_cog(state: Any, tmp_path: Path, body: Callable[[ReactCog], Awaitable[None]]) -> None:
    async def scenario() -> None:
        bot = commands.Bot(command_prefix="!", intents=discord.Intents.none())
        store = GuildStore(tmp_path / "g.sqlite3")
        cog = ReactCog(
            bot,
            Settings(),
            discord_settings=DiscordSettings(cooldown_s=30),
            service=FakeService(),  # type: ignore[arg-type]
            store=store,
        )
        await bot.add_cog(cog)
        await body(cog)
        await bot.remove_cog(cog.qualified_name)

    asyncio.run(scenario())


def test_a_request_ends_in_one_message_with_the_clip_and_its_buttons(state: Any, tmp_path: Path) -> None:
    guild = _guild(state)
    channel = _text_channel(state, guild, 2, nsfw=False)

    async def body(cog: ReactCog) -> None:
        cog.store.set(guild.id, default_frames=8, strictness="strict")
        reply = RecordingReply()
        await cog.answer.make_clip(reply, "@everyone I aced my exam!", channel, ClipOptions(style="anime"))
        first, last = reply.shown[0], reply.shown[-1]
        assert "@everyone" not in first["content"] and "getting ready" in first["content"]
        assert last["attachments"][0].filename == "reactclip-00000007.mp4"
        assert isinstance(last["view"], ClipView)
        assert last["view"].is_finished()  # sent as components; clicks go to the dynamic items
        [request] = cog.service.requests
        context = request.origin.context
        assert context.guild.strictness == "strict" and not context.is_dm
        assert (request.options.style, request.options.spec_fields()) == ("anime", {"frames": 8})
        assert request.origin.queue_group == "1" and request.origin.user_hash == context.user_hash
        request_id = last["view"].children[0].request_id
        saved = cog.store.load_request(request_id)
        assert saved is not None and saved.user_id == 555 and saved.text == request.said

        with pytest.raises(LimitReached):  # the same user again, inside the cooldown
            await cog.answer.make_clip(RecordingReply(), "again", channel, ClipOptions())

    _run_cog(state, tmp_path, body)


def test_a_channel_that_is_not_enabled_is_turned_down(state: Any, tmp_path: Path) -> None:
    guild = _guild(state)
    channel = _text_channel(state, guild, 2, nsfw=False)

    async def body(cog: ReactCog) -> None:
        cog.store.set(guild.id, enabled_channels=(99,))
        with pytest.raises(Exception, match="not enabled in this channel"):
            await cog.answer.make_clip(RecordingReply(), "hello", channel, ClipOptions())
        assert cog.service.requests == []

    _run_cog(state, tmp_path, body)


def test_a_busy_executor_gives_the_cooldown_back(state: Any, tmp_path: Path) -> None:
    guild = _guild(state)
    channel = _text_channel(state, guild, 2, nsfw=False)

    async def body(cog: ReactCog) -> None:
        cog.service.ending = Failed(Busy(4))
        with pytest.raises(Busy):
            await cog.answer.make_clip(RecordingReply(), "hello", channel, ClipOptions())
        assert cog.answer.cooldown.retry_after(555) == 0

    _run_cog(state, tmp_path, body)


def test_loading_and_unloading_the_cog_adds_and_removes_the_message_menu(tmp_path: Path) -> None:
    async def scenario() -> None:
        bot = commands.Bot(command_prefix="!", intents=discord.Intents.none())
        cog = ReactCog(bot, Settings(), store=GuildStore(tmp_path / "g.sqlite3"), load_models=False)
        await bot.add_cog(cog)
        menu = bot.tree.get_command("React with a clip", type=discord.AppCommandType.message)
        assert menu is cog.ctx_menu
        assert bot.tree.get_command("react") is not None
        await bot.remove_cog(cog.qualified_name)
        assert bot.tree.get_command("React with a clip", type=discord.AppCommandType.message) is None
        assert bot.tree.get_command("react") is None

    asyncio.run(scenario())
