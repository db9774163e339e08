from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from reactclip.moderation import (
    REASONS,
    Category,
    GuildPolicy,
    RequestContext,
    TextModerator,
)

SFW = RequestContext(nsfw_channel=False, user_hash="u-sfw")
NSFW = RequestContext(nsfw_channel=True, user_hash="u-nsfw")
DM = RequestContext(nsfw_channel=True, is_dm=True, user_hash="u-dm")
NSFW_OFF = RequestContext(nsfw_channel=True, guild=GuildPolicy(allow_nsfw_channels=False), user_hash="u-off")


def test_sexual_is_blocked_outside_nsfw_channels(lexicon_moderator: TextModerator) -> None:
    verdict = lexicon_moderator.check("send nudes", SFW)
    assert not verdict.allowed
    assert verdict.category is Category.SEXUAL
    assert verdict.layer == "lexicon"
    assert verdict.reason == REASONS[Category.SEXUAL]


def test_sexual_is_allowed_in_nsfw_channels_and_keeps_its_category(lexicon_moderator: TextModerator) -> None:
    verdict = lexicon_moderator.check("send nudes", NSFW)
    assert verdict.allowed
    assert verdict.category is Category.SEXUAL


def test_dms_count_as_not_nsfw(lexicon_moderator: TextModerator) -> None:
    assert not lexicon_moderator.check("send nudes", DM).allowed


def test_guild_that_turns_off_nsfw_channels_blocks_sexual_there(lexicon_moderator: TextModerator) -> None:
    assert not lexicon_moderator.check("send nudes", NSFW_OFF).allowed


@pytest.mark.parametrize("context", [SFW, NSFW, DM, NSFW_OFF])
def test_minors_are_blocked_everywhere(lexicon_moderator: TextModerator, context: RequestContext) -> None:
    verdict = lexicon_moderator.check("s3xy 13 year old nudes", context)
    assert not verdict.allowed
    assert verdict.category is Category.SEXUAL_MINORS


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("i'm going to stab you", Category.VIOLENCE_GORE),
        ("gas the jews", Category.HATE),
        ("i want to kill myself", Category.SELF_HARM),
        ("kys loser", Category.HARASSMENT),
    ],
)
def test_other_unsafe_categories_are_blocked_even_in_nsfw(
    lexicon_moderator: TextModerator, text: str, category: Category
) -> None:
    verdict = lexicon_moderator.check(text, NSFW)
    assert not verdict.allowed
    assert verdict.category is category


def test_an_allowed_sexual_finding_does_not_hide_a_blocked_one(lexicon_moderator: TextModerator) -> None:
    verdict = lexicon_moderator.check("send nudes or kys", NSFW)
    assert not verdict.allowed
    assert verdict.category is Category.HARASSMENT


def test_self_harm_reason_is_caring(lexicon_moderator: TextModerator) -> None:
    reason = lexicon_moderator.check("kms", SFW).reason
    assert "helpline" in reason
    assert "reach out" in reason


def test_safe_text_is_allowed(lexicon_moderator: TextModerator) -> None:
    verdict = lexicon_moderator.check("holy shit I passed my exam!!", SFW)
    assert verdict.allowed
    assert verdict.category is Category.NONE


def test_strict_guild_blocks_what_standard_allows(semantic_moderator: Callable[..., TextModerator]) -> None:
    moderator = semantic_moderator(
        {Category.HARASSMENT: 0.6}, {Category.HARASSMENT: 0.7}
    )  # between 0.7 * 0.7 = 0.49 and 0.7
    standard = moderator.check("what a day", RequestContext(guild=GuildPolicy(strictness="standard")))
    strict = moderator.check("what a day", RequestContext(guild=GuildPolicy(strictness="strict")))
    assert standard.allowed
    assert not strict.allowed
    assert strict.category is Category.HARASSMENT
    assert strict.layer == "semantic"
    assert strict.confidence == pytest.approx(0.6, abs=1e-4)


def test_precomputed_encoding_is_used_without_an_embedder_call(
    semantic_moderator: Callable[..., TextModerator],
) -> None:
    moderator = semantic_moderator({Category.HARASSMENT: 0.95}, {Category.HARASSMENT: 0.7})
    embedder = moderator.embedder
    assert embedder is not None
    moderator.embedder = None  # an encoding handed in must be enough
    verdict = moderator.check("what a day", SFW, encoded=embedder.encode_states(["what a day"], 0))
    assert not verdict.allowed
    assert verdict.layer == "semantic"


def test_block_is_logged_with_user_hash_and_without_raw_text_at_info(
    lexicon_moderator: TextModerator, caplog: pytest.LogCaptureFixture
) -> None:
    text = "kill yourself you worthless loser"
    with caplog.at_level(logging.INFO, logger="reactclip.moderation"):
        lexicon_moderator.check(text, RequestContext(user_hash="hash-abc123"))
    records = [r for r in caplog.records if r.name == "reactclip.moderation"]
    assert records
    assert any("hash-abc123" in r.getMessage() and "harassment" in r.getMessage() for r in records)
    assert all(text not in r.getMessage() for r in records if r.levelno >= logging.INFO)


def test_raw_text_only_at_debug(lexicon_moderator: TextModerator, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="reactclip.moderation"):
        lexicon_moderator.check("kys", RequestContext(user_hash="h1"))
    debug = [r for r in caplog.records if r.levelno == logging.DEBUG]
    assert any("kys" in r.getMessage() for r in debug)


def test_check_many_matches_check(lexicon_moderator: TextModerator) -> None:
    texts = ["good morning", "kys", "send nudes"]
    assert lexicon_moderator.check_many(texts, SFW) == [lexicon_moderator.check(t, SFW) for t in texts]


def test_nsfw_channel_blocks_a_mostly_sexual_message_that_is_also_harassment(
    semantic_moderator: Callable[..., TextModerator],
) -> None:
    moderator = semantic_moderator(
        {Category.SEXUAL: 0.55, Category.HARASSMENT: 0.42},
        {Category.SEXUAL: 0.7, Category.HARASSMENT: 0.4},
    )
    verdict = moderator.check("what a day", NSFW)
    assert not verdict.allowed
    assert verdict.category is Category.HARASSMENT
    assert verdict.layer == "semantic"
    assert verdict.reason == REASONS[Category.HARASSMENT]


def test_nsfw_channel_blocks_sexual_with_a_small_share_of_minors(
    semantic_moderator: Callable[..., TextModerator],
) -> None:
    moderator = semantic_moderator(
        {Category.SEXUAL: 0.75, Category.SEXUAL_MINORS: 0.2},
        {Category.SEXUAL: 0.5, Category.SEXUAL_MINORS: 0.15},
    )
    for context in (SFW, NSFW):
        verdict = moderator.check("what a day", context)
        assert not verdict.allowed
        assert verdict.category is Category.SEXUAL_MINORS


def test_split_unsafe_probability_counts_only_categories_blocked_in_the_context(
    semantic_moderator: Callable[..., TextModerator],
) -> None:
    # Together 0.95 passes any_unsafe, but in an NSFW channel only harassment's 0.1 is blocked there.
    moderator = semantic_moderator(
        {Category.SEXUAL: 0.85, Category.HARASSMENT: 0.1},
        {Category.SEXUAL: 0.9, Category.HARASSMENT: 0.9},
        any_unsafe=0.8,
    )
    sfw = moderator.check("what a day", SFW)
    assert not sfw.allowed
    assert sfw.category is Category.SEXUAL
    nsfw = moderator.check("what a day", NSFW)
    assert nsfw.allowed


def test_split_threat_is_blocked_as_its_likeliest_blocked_category(
    semantic_moderator: Callable[..., TextModerator],
) -> None:
    moderator = semantic_moderator(
        {Category.SEXUAL: 0.3, Category.HARASSMENT: 0.35, Category.VIOLENCE_GORE: 0.3},
        {Category.SEXUAL: 0.9, Category.HARASSMENT: 0.9, Category.VIOLENCE_GORE: 0.9},
        any_unsafe=0.6,
    )
    verdict = moderator.check("what a day", NSFW)
    assert not verdict.allowed
    assert verdict.category is Category.HARASSMENT


@pytest.mark.slow
@pytest.mark.parametrize(
    "text",
    [
        "ride me till i scream, and you're such a fat worthless cow nobody else would touch you",
        "send me your nudes slut or everyone at school sees what you did",
    ],
)
def test_real_model_blocks_sexual_harassment_in_nsfw_channels(
    full_moderator: TextModerator, text: str
) -> None:
    verdict = full_moderator.check(text, NSFW)
    assert not verdict.allowed
    assert verdict.category is not Category.SEXUAL


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("honestly my family would throw a party if i was gone for good", Category.SELF_HARM),
        ("planning to go to sleep and never wake up, got everything ready", Category.SELF_HARM),
        ("those people breed like rats and ruin every neighborhood they move into", Category.HATE),
        ("ur so ugly no wonder ur own mom cant stand looking at u", Category.HARASSMENT),
        ("i'll cave his face in with a brick and leave him in the gutter", Category.VIOLENCE_GORE),
    ],
)
def test_real_model_catches_implicit_unsafe_messages(
    full_moderator: TextModerator, text: str, category: Category
) -> None:
    verdict = full_moderator.check(text, SFW)
    assert not verdict.allowed
    assert verdict.category is category


@pytest.mark.slow
@pytest.mark.parametrize(
    "text",
    [
        "i'm dead 💀 this meme is too good",
        "lmao you were so bad that round but you carried the next one, gg",
        "the documentary about the rwandan genocide was heartbreaking",
        "my trans sister just started her dream job 🥳",
        "rough day at work, gonna order pizza and play some games",
    ],
)
def test_real_model_allows_hard_safe_messages(full_moderator: TextModerator, text: str) -> None:
    assert full_moderator.check(text, SFW).allowed
