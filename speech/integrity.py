"""Whether a file arrived whole, for the containers where ffmpeg can't tell: it decodes a cut-off
OGG or WAV up to the cut without a word, so a voice message that was only partly uploaded would be
answered as if it were complete. (ffmpeg itself notices a cut WebM or M4A; MP3 has no framing that
would show a cut.)

- OGG is a chain of pages, each announcing its own length, and the last page of a stream carries
  the end-of-stream flag (RFC 3533): whole when the pages tile the file and the last has the flag.
- WAV (RIFF) announces its total size in its header: whole when that many bytes are there.
"""

from __future__ import annotations

import struct

OGG_MAGIC = b"OggS"
OGG_PAGE = struct.Struct("<4sBBqIIIB")
"""capture pattern, version, header type, granule position, serial, sequence, CRC, segment count."""
OGG_END_OF_STREAM = 0x04
RIFF_MAGIC, WAVE_MAGIC = b"RIFF", b"WAVE"
RIFF_UNSET = 0x7FFF0000
"""RIFF sizes from here up are a streaming writer's placeholder (0xFFFFFFFF from ffmpeg,
0x7FFFF024 from espeak-ng), not a length: such a file can't show a cut."""


def cut_off(data: bytes) -> bool:
    """True when ``data`` is an OGG or WAV file that ends before its own framing says it should."""
    if data.startswith(OGG_MAGIC):
        return not _ogg_complete(data)
    if data.startswith(RIFF_MAGIC) and data[8:12] == WAVE_MAGIC:
        (riff_size,) = struct.unpack_from("<I", data, 4)
        return riff_size < RIFF_UNSET and len(data) < riff_size + 8
    return False


def _ogg_complete(data: bytes) -> bool:
    offset, last_flags = 0, 0
    while offset < len(data):
        if len(data) - offset < OGG_PAGE.size:
            return False
        magic, _version, flags, *_fields, segments = OGG_PAGE.unpack_from(data, offset)
        if magic != OGG_MAGIC:
            return False
        table_end = offset + OGG_PAGE.size + segments
        if table_end > len(data):
            return False
        offset = table_end + sum(data[offset + OGG_PAGE.size : table_end])
        last_flags = flags
    return offset == len(data) and bool(last_flags & OGG_END_OF_STREAM)
