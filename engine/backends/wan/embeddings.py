"""The text encoder's outputs, kept per text: a prompt (or negative prompt) seen before skips UMT5.

Text encoding is a fixed cost per prompt, and many prompts repeat: the same negative prompt in
nearly every request, and hot prompts (about 30% of traffic in the service this design comes from).
One cache belongs to one loaded pipeline (one model, one sequence length), so the key is the text
and the sequence length. Entries live in host memory: an entry is about 1.85 MB (226 tokens x 4096
dimensions in bf16), which would crowd the GPU, and copying one back takes well under a millisecond.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

import torch

Encoder = Callable[[list[str]], torch.Tensor]
"""Encodes texts in one call, one row per text (the pipeline's ``encode_prompt``)."""


class PromptEmbeddingCache:
    """At most ``max_entries`` embeddings, least recently used first out; 0 turns it off."""

    def __init__(self, max_entries: int, max_sequence_length: int) -> None:
        self.max_entries = max_entries
        self.max_sequence_length = max_sequence_length
        self._entries: OrderedDict[tuple[str, int], torch.Tensor] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()

    def encode(
        self, texts: Sequence[str], encoder: Encoder, device: torch.device
    ) -> tuple[torch.Tensor, int]:
        """``texts`` embedded, one row each, on ``device``; encodes only the texts not kept, once
        each, in one call. Returns the rows and how many texts came from the cache."""
        keys = [(text, self.max_sequence_length) for text in texts]
        missing = list(dict.fromkeys(key for key in keys if key not in self._entries))
        fresh: dict[tuple[str, int], torch.Tensor] = {}
        if missing:
            encoded = encoder([text for text, _ in missing])
            fresh = dict(zip(missing, encoded, strict=True))
        rows = []
        for key in keys:
            if key in fresh:
                rows.append(fresh[key])
            else:
                self._entries.move_to_end(key)
                rows.append(self._entries[key].to(device, non_blocking=True))
        for key, row in fresh.items():
            self._keep(key, row)
        return torch.stack(rows), sum(key not in fresh for key in keys)

    def _keep(self, key: tuple[str, int], row: torch.Tensor) -> None:
        if self.max_entries <= 0:
            return
        self._entries[key] = row.detach().to("cpu")
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
