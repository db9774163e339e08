from __future__ import annotations

import pytest

from reactclip.moderation.categories import Category
from reactclip.moderation.lexicon import Lexicon
from reactclip.textmodel.normalize import normalize


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon()


def categories(lexicon: Lexicon, text: str) -> set[Category]:
    return {hit.category for hit in lexicon.find(normalize(text))}


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("send nudes", Category.SEXUAL),
        ("s3nd n00dz", Category.SEXUAL),
        ("🍆💦🍑", Category.SEXUAL),
        ("p o r n", Category.SEXUAL),
        ("sexy 14 year old", Category.SEXUAL_MINORS),
        ("l0li hentai", Category.SEXUAL_MINORS),
        ("s3xy 12yo", Category.SEXUAL_MINORS),
        ("nudes of a middle schooler", Category.SEXUAL_MINORS),
        ("make a clip of someone being decapitated", Category.VIOLENCE_GORE),
        ("i'm gonna stab you", Category.VIOLENCE_GORE),
        ("i'll k1ll y0u", Category.VIOLENCE_GORE),
        ("jews are vermin", Category.HATE),
        ("n1gg3r", Category.HATE),
        ("f a g g o t", Category.HATE),
        ("i want to kill myself", Category.SELF_HARM),
        ("kms", Category.SELF_HARM),
        ("k.m.s", Category.SELF_HARM),
        ("i w4nt t0 d!e", Category.SELF_HARM),
        ("kys", Category.HARASSMENT),
        ("ky$", Category.HARASSMENT),
        ("you are worthless", Category.HARASSMENT),
        ("y0u r w0rthl3ss", Category.HARASSMENT),
        ("nobody likes you", Category.HARASSMENT),
        ("go die", Category.HARASSMENT),
        ("i'll leak your address", Category.HARASSMENT),
        ("expose @rue's real address lol", Category.HARASSMENT),
        ("her ip is 81.145.22.7 go wild", Category.HARASSMENT),
        ("let's track down where he lives", Category.HARASSMENT),
        ("anyone got pthc links", Category.SEXUAL_MINORS),
        ("selling c.p folders dm me", Category.SEXUAL_MINORS),
        ("13 y/o lewds", Category.SEXUAL_MINORS),
        ("1488 brothers", Category.HATE),
        ("(((they))) own the banks", Category.HATE),
        ("day of the rope is coming", Category.HATE),
        ("ready for the toaster bath tbh", Category.SELF_HARM),
        ("i stockpiled my meds", Category.SELF_HARM),
        ("neck urself", Category.HARASSMENT),
        ("join the 41% lol", Category.HARASSMENT),
    ],
)
def test_each_category_is_found_plain_and_obfuscated(lexicon: Lexicon, text: str, category: Category) -> None:
    assert category in categories(lexicon, text)


TRAPS = [
    "Scunthorpe United won",
    "assassin's creed is on sale",
    "cocktail party tonight",
    "breast cancer awareness walk",
    "you'll kill it on stage",
    "this beat is sick",
    "I'm dying of laughter",
    "that joke killed me",
    "shoot me a message later",
    "sexy new car",
    "that party was the bomb",
    "slay queen",
    "gay pride parade",
    "kill the process and restart",
    "headshot in valorant",
    "die hard movie night",
    "sex education in school",
    "i hate chinese food",
    "my kid is fucking annoying",
    "5 kms away",
    "meeting at 3pm",
    "i cut myself cooking",
    "i don't want to live in texas",
    "i wrote 14 words lol",
    "the nude sculpture at the museum",
    "i lost my best friend to suicide last year",
    "i'm not suicidal just bored",
    "cheese pizza for dinner",
    "f(x) = ((a+b))",
    "the server ip is 51.38.92.10, join us",
    "your ip is 192.168.0.12 on the lan, restart the router",
    "we found where the party is",
]


@pytest.mark.parametrize("text", TRAPS)
def test_false_positive_traps_are_not_hits(lexicon: Lexicon, text: str) -> None:
    assert categories(lexicon, text) == set()


@pytest.mark.parametrize(
    "text", ["this is fucking awesome", "holy shit I passed", "damn that's crazy", "wtf is this update lmao"]
)
def test_swearing_alone_is_not_a_hit(lexicon: Lexicon, text: str) -> None:
    assert categories(lexicon, text) == set()


def test_allow_list_only_covers_its_own_span(lexicon: Lexicon) -> None:
    assert Category.HARASSMENT in categories(lexicon, "kill the process, then kill yourself")
