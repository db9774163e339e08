"""The sticker backend: animated reaction stickers drawn on the CPU, with no model.

A face whose expression, motion, colours and particles follow the spec's mood and intensity, with
the caption underneath; every clip loops seamlessly and is byte-identical for the same spec.
"""

from reactclip.engine.backends.sticker.backend import StickerBackend
from reactclip.engine.backends.sticker.renderer import render_clip

__all__ = ["StickerBackend", "render_clip"]
