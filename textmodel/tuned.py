"""A tuned head: MiniLM's top layers, fine-tuned to tell classes apart (moderation's categories,
emotion's moods with their intensity).

A logistic regression over the frozen sentence vector reads stock phrases well and implicit ones
("gave my cat to my sister, she'll take better care of her than i could") poorly: mean-pooled
MiniLM keeps the topic and loses the intent. Fine-tuning the whole model would ship a second
90 MB model and double the forward pass. Instead the head starts from the token states after
MiniLM's lower layers, which the embedder computes anyway (``Encoded``), and runs its own tuned
copy of the top layers, then mean pooling and a linear layer: the extra cost is those layers alone.

Moderation's weights: moderation/data/moderation_head.safetensors (float16), written by ``python -m
reactclip.moderation.train``; emotion's: engine/prompting/data/emotion_head.safetensors, written by
``python -m reactclip.engine.prompting.train_emotion``. A file's metadata holds the classes (label
strings), the layer it starts from and the sha256 of the training data.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from reactclip.textmodel.embedder import Encoded

LOGIT_SCALE = 10.0
"""The pooled vector is L2-normalised (as MiniLM's own output is); this scale lets the linear layer
reach confident probabilities from unit vectors."""


class HeadModel(Protocol):
    """What the semantic layer needs of a head, wherever it runs (PyTorch here, or
    onnx_runtime.OnnxHead)."""

    start_layer: int
    classes: list[str]
    """Label strings (Category values for moderation)."""

    def probabilities(self, encoded: Encoded) -> np.ndarray:
        """Class probabilities (columns follow ``classes``) for every sentence of ``encoded``."""
        ...


def pooled_unit_vectors(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The mean of each sentence's token states over its mask, L2-normalised: all-MiniLM-L6-v2's
    sentence vector from its last layer, and what the head pools from its own."""
    weights = mask[..., None].to(states.dtype)
    pooled = (states * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=-1)


def check_start_layer(start_layer: int, encoded: Encoded) -> None:
    if encoded.layer != start_layer:
        raise ValueError(f"the head starts at layer {start_layer}, got states of {encoded.layer}")


class TunedHead(torch.nn.Module):
    """Tuned top layers of the encoder, masked mean pooling, normalisation, a linear layer."""

    def __init__(self, encoder_layers: torch.nn.ModuleList, start_layer: int, classes: Sequence[str]) -> None:
        super().__init__()
        self.start_layer = start_layer
        self.classes = [str(c) for c in classes]
        self.layers = copy.deepcopy(encoder_layers[start_layer:])
        first: Any = self.layers[0]
        hidden: int = first.attention.self.query.in_features
        self.dropout = torch.nn.Dropout(0.1)
        self.out = torch.nn.Linear(hidden, len(classes))

    def forward(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Logits, one row per sentence; ``states`` are the encoder's token states at
        ``start_layer`` and ``mask`` its attention mask (1 for tokens, 0 for padding)."""
        additive = (1.0 - mask[:, None, None, :].to(states.dtype)) * torch.finfo(states.dtype).min
        for layer in self.layers:
            output = layer(states, attention_mask=additive)
            states = output[0] if isinstance(output, tuple) else output
        return self.out(self.dropout(pooled_unit_vectors(states, mask)) * LOGIT_SCALE)

    @torch.inference_mode()
    def probabilities(self, encoded: Encoded) -> np.ndarray:
        """Class probabilities (columns follow ``classes``) for every sentence of ``encoded``."""
        check_start_layer(self.start_layer, encoded)
        self.eval()
        logits = self(encoded.states.float(), encoded.mask)
        return torch.softmax(logits, dim=-1).numpy().astype(np.float32)

    def save(self, path: Path, metadata: dict[str, str]) -> None:
        from safetensors.torch import save_file

        tensors = {name: t.detach().to(torch.float16).contiguous() for name, t in self.state_dict().items()}
        header = {
            "classes": json.dumps(self.classes),
            "start_layer": str(self.start_layer),
            **metadata,
        }
        save_file(tensors, str(path), metadata=header)

    @classmethod
    def load(cls, encoder_layers: torch.nn.ModuleList, path: Path) -> TunedHead:
        """The head saved at ``path`` on top of the embedder's own layer architecture."""
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as weights:
            metadata: dict[str, Any] = weights.metadata()
            tensors = {name: weights.get_tensor(name).float() for name in weights.keys()}  # noqa: SIM118
        classes = [str(c) for c in json.loads(metadata["classes"])]
        head = cls(encoder_layers, int(metadata["start_layer"]), classes)
        head.load_state_dict(tensors)
        return head.eval()


def head_metadata(path: Path) -> dict[str, str]:
    """The metadata stored with a head (its classes, start layer and training data hash)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as weights:
        return dict(weights.metadata())
