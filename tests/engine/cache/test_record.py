"""A Clip survives the trip into a store's record and back; damage reads as CorruptRecord."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest

from reactclip.engine.cache.record import CorruptRecord, decode_record, encode_record
from reactclip.engine.clip import Clip


def test_record_round_trip_keeps_every_field_and_marks_a_hit(clip_factory: Callable[..., Clip]) -> None:
    clip = clip_factory()
    meta, data = encode_record(clip)
    back = decode_record(meta, data)
    assert back.cache_hit and not clip.cache_hit
    back.cache_hit = False
    assert back == clip


def test_clip_to_record_and_from_record_are_inverse(clip_factory: Callable[..., Clip]) -> None:
    clip = clip_factory(format="gif", guidance=7.5, mood="joy")
    meta, data = clip.to_record()
    assert json.loads(json.dumps(meta)) == meta
    assert Clip.from_record(meta, data) == clip


def test_numpy_values_in_inspection_are_stored_as_plain_numbers(clip_factory: Callable[..., Clip]) -> None:
    clip = clip_factory()
    clip.inspection = {"score": np.float32(0.5), "boxes": np.zeros((1, 4), dtype=np.int64)}
    back = decode_record(*encode_record(clip))
    assert back.inspection == {"score": 0.5, "boxes": [[0, 0, 0, 0]]}


def test_changed_bytes_are_corrupt(clip_factory: Callable[..., Clip]) -> None:
    meta, data = encode_record(clip_factory())
    with pytest.raises(CorruptRecord, match="checksum"):
        decode_record(meta, data[:-1])


@pytest.mark.parametrize("meta", [b"", b"{not json", b'{"version": 99}', b'{"version": 1}'])
def test_unreadable_metadata_is_corrupt(meta: bytes) -> None:
    with pytest.raises(CorruptRecord):
        decode_record(meta, b"data")
