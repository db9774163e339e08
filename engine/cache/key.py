"""The cache key: a hash of everything that determines a clip's bytes.

Two requests share a key exactly when they would produce the same clip: the same normalised spec,
run on the same model variant at the same weights revision, post-processed and encoded by the same
version of the pipeline. Anything else in the key would split hits; anything missing would serve a
wrong clip.
"""

from __future__ import annotations

import hashlib
import json
import typing
from functools import cache
from typing import Any

from reactclip.engine.spec import GenerationSpec

PIPELINE_VERSION = "1"
"""Bump whenever post-processing or encoding changes what bytes a spec turns into (frame cropping or
resampling, encoder settings, the upload-size fitting): every old entry then stops matching."""

KEY_SCHEMA = 1
"""Bump when the layout of the hashed document below changes."""


def cache_key(
    spec: GenerationSpec,
    variant: str,
    revision: str | None,
    pipeline_version: str = PIPELINE_VERSION,
) -> str:
    """A sha256 hex digest naming the clip that ``spec`` becomes.

    ``variant`` is the model variant that actually ran (the backend's, which may differ from the
    requested ``spec.variant`` after a failover), and ``revision`` its weights revision (a commit hash
    or file digest; None where the backend has no weights, like the sticker renderer).
    """
    document = {
        "schema": KEY_SCHEMA,
        "spec": normalised_spec(spec),
        "variant": variant,
        "revision": revision,
        "pipeline": pipeline_version,
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalised_spec(spec: GenerationSpec) -> dict[str, Any]:
    """``spec.to_dict()`` with every float field as a float, so that ``guidance=7`` and
    ``guidance=7.0`` (equal to the model) hash alike."""
    fields = spec.to_dict()
    for name in _float_fields():
        value = fields.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            fields[name] = float(value)
    return fields


@cache
def _float_fields() -> tuple[str, ...]:
    hints = typing.get_type_hints(GenerationSpec)
    return tuple(name for name, hint in hints.items() if hint is float)
