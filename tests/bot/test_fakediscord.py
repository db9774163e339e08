"""The fake Discord harness, proved with a minimal real discord.py bot (no reactclip code)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

# tests/ has no __init__.py and pytest imports with importlib, so the helper package is put on the path.
from fakediscord import FakeDiscord, plugin

fake_discord = plugin.fake_discord

CLIP = b"GIF89a fake clip bytes \x00\x01\x02"
VOICE = b"OggS fake opus bytes \x00\x01"


class Seen:
    """What the bot's handlers saw, awaited by the test by name."""

    def __init__(self) -> None:
        self._values: dict[str, asyncio.Future[Any]] = {}

    def _future(self, key: str) -> asyncio.Future[Any]:
        return self._values.setdefault(key, asyncio.get_running_loop().create_future())

    def record(self, key: str, value: Any) -> None:
        self._future(key).set_result(value)

    async def get(self, key: str, timeout: float = 5.0) -> Any:
        return await asyncio.wait_for(self._future(key), timeout)


class AgainView(discord.ui.View):
    def __init__(self, seen: Seen) -> None:
        super().__init__(timeout=30)
        self.seen = seen

    @discord.ui.button(label="Again", custom_id="again")
    async def again(self, interaction: discord.Interaction, button: discord.ui.Button[AgainView]) -> None:
        self.seen.record("click", interaction.user.id)
        await interaction.response.edit_message(content="clicked", view=None)


class HarnessBot(commands.Bot):
    """A bot with one of each kind of entry point the harness must reach."""

    def __init__(self, *, message_content: bool = True) -> None:
        intents = discord.Intents.default()
        intents.message_content = message_content
        super().__init__(command_prefix="!", intents=intents, guild_ready_timeout=0.05)
        self.seen = Seen()

    async def setup_hook(self) -> None:
        seen = self.seen

        @self.tree.command(description="Answer with a clip.")
        @app_commands.describe(text="What to react to")
        async def react(interaction: discord.Interaction, text: str) -> None:
            await interaction.response.defer(thinking=True)
            seen.record("react", (text, interaction.permissions.manage_messages, interaction.channel))
            clip = discord.File(io.BytesIO(CLIP), filename="clip.gif")
            await interaction.edit_original_response(content="here", attachments=[clip])

        @self.tree.context_menu(name="React to this")
        async def react_to_message(interaction: discord.Interaction, message: discord.Message) -> None:
            seen.record("context_menu", message.content)
            await interaction.response.send_message("ok", ephemeral=True)

        @self.tree.command(description="Send a button.")
        async def buttons(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("press it", view=AgainView(seen))

    async def on_message(self, message: discord.Message) -> None:
        if message.author == self.user:
            return
        self.seen.record(f"message:{message.content or message.id}", message)
        if message.guild is None and message.content:
            await message.channel.send(f"echo: {message.content}")


def run(fake: FakeDiscord, bot: HarnessBot, scenario: Callable[[], Awaitable[None]]) -> None:
    async def main() -> None:
        async with fake, fake.connected(bot):
            await scenario()
        assert fake.unexpected == [], [str(call) for call in fake.unexpected]

    asyncio.run(main())


def test_bot_logs_in_and_caches_the_guild_with_nsfw_flags_and_thread_parent(
    fake_discord: FakeDiscord,
) -> None:
    world = fake_discord.world
    bot = HarnessBot()

    async def scenario() -> None:
        await asyncio.wait_for(bot.wait_until_ready(), 5)
        assert bot.user is not None and bot.user.id == world.bot.id
        guild = bot.get_guild(world.guild.id)
        assert guild is not None and guild.me is not None
        general = guild.get_channel(world.channel("general").id)
        nsfw = guild.get_channel(world.channel("nsfw").id)
        thread = guild.get_thread(world.channel("nsfw-thread").id)
        assert isinstance(general, discord.TextChannel) and not general.is_nsfw()
        assert isinstance(nsfw, discord.TextChannel) and nsfw.is_nsfw()
        assert thread is not None and thread.parent == nsfw and thread.is_nsfw()
        assert fake_discord.identify_payloads[0]["token"] == fake_discord.token
        # discord.py asks for zlib-stream unless zstandard is installed; both reach the fake.
        assert fake_discord.sessions[0].requested_compression in ("zlib-stream", "zstd-stream")

    run(fake_discord, bot, scenario)


def test_tree_sync_for_a_guild_stores_the_commands(fake_discord: FakeDiscord) -> None:
    bot = HarnessBot()
    guild_id = fake_discord.world.guild.id

    async def scenario() -> None:
        bot.tree.copy_global_to(guild=discord.Object(guild_id))
        synced = await bot.tree.sync(guild=discord.Object(guild_id))
        stored = fake_discord.commands[guild_id]
        assert {(c["name"], c["type"]) for c in stored} == {
            ("react", 1),
            ("buttons", 1),
            ("React to this", 3),
        }
        assert {c.id for c in synced} == {int(c["id"]) for c in stored}
        assert next(c for c in stored if c["name"] == "react")["options"][0]["name"] == "text"

    run(fake_discord, bot, scenario)


def test_slash_command_defers_then_edits_the_original_response_with_a_file(fake_discord: FakeDiscord) -> None:
    bot = HarnessBot()

    async def scenario() -> None:
        await bot.tree.sync()
        interaction = await fake_discord.slash("react", {"text": "hello"}, user="mod", channel="nsfw-thread")

        callback = await fake_discord.wait_for_callback(interaction)
        assert callback.json["type"] == 5
        edit = await fake_discord.wait_for_original_edit(interaction)
        assert edit.json["content"] == "here"
        assert [(f.filename, f.data) for f in edit.files] == [("clip.gif", CLIP)]

        text, manage_messages, channel = await bot.seen.get("react")
        assert text == "hello" and manage_messages is True
        assert isinstance(channel, discord.Thread) and channel.is_nsfw()
        original = fake_discord.messages[interaction.original_message_id or 0]
        assert original["content"] == "here" and original["attachments"][0]["filename"] == "clip.gif"

    run(fake_discord, bot, scenario)


def test_message_context_menu_reaches_the_handler_with_the_message_content(fake_discord: FakeDiscord) -> None:
    bot = HarnessBot()

    async def scenario() -> None:
        await bot.tree.sync()
        target = fake_discord.message_payload("what a day", user="alice", channel="general")
        interaction = await fake_discord.context_menu("React to this", target, user="mod")

        assert await bot.seen.get("context_menu") == "what a day"
        callback = await fake_discord.wait_for_callback(interaction)
        assert callback.json["type"] == 4 and callback.json["data"]["flags"] == 64

    run(fake_discord, bot, scenario)


def test_button_click_reaches_the_view_callback(fake_discord: FakeDiscord) -> None:
    bot = HarnessBot()
    alice = fake_discord.world.user("alice")

    async def scenario() -> None:
        await bot.tree.sync()
        command = await fake_discord.slash("buttons", user="mod")
        sent = await fake_discord.wait_for_callback(command)
        message_id = int(sent.response["resource"]["message"]["id"])

        click = await fake_discord.click(message_id, "again", user=alice)
        assert await bot.seen.get("click") == alice.id
        update = await fake_discord.wait_for_callback(click)
        assert update.json["type"] == 7
        assert fake_discord.messages[message_id]["content"] == "clicked"

    run(fake_discord, bot, scenario)


def test_dm_reaches_on_message_and_the_reply_is_recorded(fake_discord: FakeDiscord) -> None:
    bot = HarnessBot()

    async def scenario() -> None:
        sent = await fake_discord.dm("hi bot", user="alice")
        message = await bot.seen.get("message:hi bot")
        assert isinstance(message.channel, discord.DMChannel)
        reply = await fake_discord.wait_for_channel_message(int(sent["channel_id"]))
        assert reply.json["content"] == "echo: hi bot"

    run(fake_discord, bot, scenario)


def test_guild_message_content_needs_the_intent_unless_it_mentions_the_bot(fake_discord: FakeDiscord) -> None:
    bot = HarnessBot(message_content=False)

    async def scenario() -> None:
        plain = await fake_discord.send_message("no mention", user="alice")
        assert (await bot.seen.get(f"message:{plain['id']}")).content == ""
        await fake_discord.send_message("hey you", user="alice", mention_bot=True)
        mention = await bot.seen.get(f"message:<@{fake_discord.world.bot.id}> hey you")
        assert bot.user in mention.mentions

    run(fake_discord, bot, scenario)


def test_voice_message_attachment_is_downloadable(fake_discord: FakeDiscord) -> None:
    bot = HarnessBot()

    async def scenario() -> None:
        sent = await fake_discord.dm(
            "", attachments=[fake_discord.voice_attachment(VOICE, duration_secs=2.5)]
        )
        message = await bot.seen.get(f"message:{sent['id']}")
        assert message.flags.voice
        attachment = message.attachments[0]
        assert attachment.is_voice_message() and attachment.duration == 2.5
        assert await attachment.read() == VOICE

    run(fake_discord, bot, scenario)
