"""cache_key names a clip by everything that determines its bytes, and nothing else."""

from __future__ import annotations

import pytest

from reactclip.engine.cache import PIPELINE_VERSION, cache_key
from reactclip.engine.spec import GenerationSpec

BASE = GenerationSpec(prompt="a happy cat", seed=7, guidance=7.0)


def key(spec: GenerationSpec = BASE, variant: str = "wan2.2-ti2v-5b", revision: str | None = "abc123") -> str:
    return cache_key(spec, variant, revision)


def test_equal_specs_give_equal_keys() -> None:
    first, second = GenerationSpec(prompt="a happy cat", seed=7), GenerationSpec(prompt="a happy cat", seed=7)
    assert first is not second
    assert key(first) == key(second)


def test_key_is_a_sha256_hex_digest() -> None:
    k = key()
    assert len(k) == 64 and int(k, 16) >= 0


def test_guidance_7_and_7_0_are_the_same_key() -> None:
    assert key(BASE.replace(guidance=7)) == key(BASE.replace(guidance=7.0))


@pytest.mark.parametrize(
    "changes",
    [
        {"prompt": "a happy dog"},
        {"prompt": "a happy cat "},
        {"negative_prompt": "blurry"},
        {"seed": 8},
        {"width": 480},
        {"height": 832},
        {"frames": 12},
        {"fps": 8},
        {"steps": 25},
        {"guidance": 7.5},
        {"format": "gif"},
        {"variant": "backup"},
        {"caption": "yay"},
        {"style": "anime"},
        {"mood": "joy"},
        {"intensity": "high"},
    ],
)
def test_any_spec_field_change_gives_a_different_key(changes: dict[str, object]) -> None:
    assert key(BASE.replace(**changes)) != key()


def test_model_variant_that_ran_is_part_of_the_key() -> None:
    assert key(variant="wan2.2-ti2v-5b") != key(variant="wan2.1-t2v-1.3b")


def test_weights_revision_is_part_of_the_key() -> None:
    assert key(revision="abc123") != key(revision="def456")
    assert key(revision="abc123") != key(revision=None)


def test_pipeline_version_is_part_of_the_key() -> None:
    assert cache_key(BASE, "v", None) == cache_key(BASE, "v", None, PIPELINE_VERSION)
    assert cache_key(BASE, "v", None, "1") != cache_key(BASE, "v", None, "2")


def test_fields_cannot_run_into_each_other() -> None:
    # A naive concatenation would hash ("ab", "c") like ("a", "bc").
    assert cache_key(BASE, "ab", "c") != cache_key(BASE, "a", "bc")
