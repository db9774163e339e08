"""How a Clip is written into a store and read back: JSON metadata plus the encoded bytes.

The metadata carries the bytes' sha256, so a file or value that was cut short or changed on disk
reads as corrupt (a miss) rather than as a broken clip sent to a user.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from reactclip.engine.clip import Clip

RECORD_VERSION = 1


class CorruptRecord(ValueError):
    """Stored metadata or bytes do not describe a clip (cut short, changed, or an older layout)."""


def encode_record(clip: Clip) -> tuple[bytes, bytes]:
    """(metadata as UTF-8 JSON, the clip's bytes)."""
    meta, data = clip.to_record()
    document = {"version": RECORD_VERSION, "sha256": hashlib.sha256(data).hexdigest(), "clip": meta}
    return json.dumps(document, separators=(",", ":"), default=_jsonable).encode("utf-8"), data


def decode_record(meta: bytes | str, data: bytes) -> Clip:
    """The stored clip, marked as a cache hit; raises CorruptRecord for anything that does not check."""
    try:
        document = json.loads(meta)
        if document.get("version") != RECORD_VERSION:
            raise CorruptRecord(f"record version {document.get('version')!r}, expected {RECORD_VERSION}")
        if hashlib.sha256(data).hexdigest() != document["sha256"]:
            raise CorruptRecord(f"bytes do not match their checksum ({len(data)} bytes read)")
        clip = Clip.from_record(document["clip"], data)
    except CorruptRecord:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise CorruptRecord(f"unreadable record: {error}") from error
    clip.cache_hit = True
    return clip


def _jsonable(value: Any) -> Any:
    # Inspection results may hold numpy scalars or arrays from a detector.
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
