"""EncodeError: the one exception the encode package raises."""

from __future__ import annotations


class EncodeError(RuntimeError):
    """Frames could not be encoded: bad input, an ffmpeg failure, or a clip that cannot fit the upload
    limit. The message is short and says what went wrong, so the edge can show it as it is."""
