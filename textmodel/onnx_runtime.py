"""MiniLM and the tuned heads run through ONNX Runtime: the same weights, about twice as fast.

For one short message on one core, eager PyTorch spends most of MiniLM's time dispatching small
operators; ONNX Runtime runs the same graph, fused, in under half the time, which is what keeps
a message's whole analysis inside its 20 ms (bench/analyze_speed.py shows both side by side).

The graphs are exported from the loaded PyTorch modules on first use and kept in a cache folder
(``ModerationSettings.onnx_dir``), named by a hash of the weights, the code that defines them, the
layer and the torch version, so a retrained head, another embedder or changed code never reads a
stale graph. Training (train.py) stays on PyTorch: it needs gradients and the token states as
tensors.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from reactclip.textmodel.embedder import Encoded, SentenceEmbedder
from reactclip.textmodel.tuned import TunedHead, check_start_layer

if TYPE_CHECKING:
    import onnxruntime

logger = logging.getLogger("reactclip.textmodel")

OPSET = 17


def _graph_sha256(module: torch.nn.Module, *extra: str) -> str:
    """What the exported graph depends on: the weights, and the source of every module class in it
    (this file, tuned.py, transformers' BERT), so a code change exports again."""
    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    sources = {inspect.getsourcefile(type(m)) for m in module.modules()} | {__file__}
    for source in sorted(s for s in sources if s):
        digest.update(Path(source).read_bytes())
    for part in (*extra, torch.__version__, str(OPSET)):
        digest.update(part.encode())
    return digest.hexdigest()[:24]


@dataclass(frozen=True)
class Graph:
    """A module to export, with example inputs and its inputs' and outputs' names; ``dynamic``
    names the axes (sentences, tokens) that vary between calls."""

    name: str
    module: torch.nn.Module
    example: tuple[torch.Tensor, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    dynamic: dict[str, dict[int, str]]

    def file_name(self) -> str:
        return f"{self.name}-{_graph_sha256(self.module, self.name, *self.inputs, *self.outputs)}.onnx"


class GraphCache:
    """Exports modules to ONNX once, into ``folder``, and opens sessions on them."""

    def __init__(self, folder: Path, threads: int | None = None) -> None:
        self.folder = folder.expanduser()
        self.threads = threads

    def check(self) -> None:
        """Raise OSError or ImportError now if graphs can be neither written nor run here."""
        import onnx  # noqa: F401  (the exporter needs it)
        import onnxruntime  # noqa: F401

        self.folder.mkdir(parents=True, exist_ok=True)
        if not os.access(self.folder, os.W_OK):
            raise PermissionError(f"{self.folder} is not writable")

    def session(self, graph: Graph) -> onnxruntime.InferenceSession:
        """A session on ``graph``, exported first unless the cache holds it."""
        import onnxruntime

        path = self.folder / graph.file_name()
        if not path.exists():
            self._export(path, graph)
        options = onnxruntime.SessionOptions()
        # One message is far too small to share across threads; follow torch's setting, which the
        # CLI, the bot and the benchmarks already choose.
        options.intra_op_num_threads = self.threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def _export(self, path: Path, graph: Graph) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        logger.info("exporting %s to ONNX (once per weights): %s", graph.name, path)
        # Written beside the final name, then renamed: two processes starting together never
        # read a half-written graph.
        handle, partial = tempfile.mkstemp(dir=self.folder, suffix=".onnx.partial")
        os.close(handle)
        try:
            with warnings.catch_warnings(), torch.inference_mode():
                # The TorchScript exporter: the dynamo one needs onnxscript and traces far slower.
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    graph.module.eval(),
                    graph.example,
                    partial,
                    input_names=list(graph.inputs),
                    output_names=list(graph.outputs),
                    dynamic_axes=graph.dynamic,
                    opset_version=OPSET,
                    dynamo=False,
                )
            os.replace(partial, path)
        finally:
            Path(partial).unlink(missing_ok=True)


class _EncoderGraph(torch.nn.Module):
    """MiniLM from token ids to the token states after ``layer`` layers; the exporter drops the
    layers above, which nothing reads."""

    def __init__(self, transformer: torch.nn.Module, layer: int) -> None:
        super().__init__()
        self.transformer = transformer
        self.layer = layer

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        output = self.transformer(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=torch.zeros_like(input_ids),
            output_hidden_states=True,
        )
        states: torch.Tensor = output.hidden_states[self.layer]
        return states


class _HeadGraph(torch.nn.Module):
    def __init__(self, head: TunedHead) -> None:
        super().__init__()
        self.head = head

    def forward(self, states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.head(states, attention_mask), dim=-1)


class OnnxHead:
    """A TunedHead's forward pass in ONNX Runtime (same classes, same start layer)."""

    def __init__(self, head: TunedHead, graphs: GraphCache) -> None:
        self.start_layer = head.start_layer
        self.classes = head.classes
        hidden = head.out.in_features
        example = (torch.zeros(1, 4, hidden), torch.ones(1, 4, dtype=torch.int64))
        self._session = graphs.session(
            Graph(
                "tuned-head",
                _HeadGraph(head),
                example,
                ("states", "attention_mask"),
                ("probabilities",),
                {"states": {0: "sentences", 1: "tokens"}, "attention_mask": {0: "sentences", 1: "tokens"}},
            )
        )

    def probabilities(self, encoded: Encoded) -> np.ndarray:
        check_start_layer(self.start_layer, encoded)
        feeds = {
            "states": encoded.states.float().numpy(),
            "attention_mask": encoded.mask.to(torch.int64).numpy(),
        }
        probabilities: np.ndarray = self._session.run(None, feeds)[0]
        return probabilities.astype(np.float32, copy=False)


class OnnxEmbedder:
    """The Embedder of a loaded SentenceEmbedder, run through ONNX Runtime.

    The PyTorch model stays loaded: it tokenises, its layers are what a moderation head copies, and
    each layer's graph is exported from it the first time ``encode_states`` asks for that layer."""

    def __init__(self, embedder: SentenceEmbedder, graphs: GraphCache) -> None:
        self.embedder = embedder
        self.graphs = graphs
        self._sessions: dict[int, Any] = {}

    def encode_states(self, sentences: list[str], layer: int) -> Encoded:
        features = self.embedder.model.preprocess(sentences)
        ids, mask = features["input_ids"], features["attention_mask"]
        (states,) = self._session(layer).run(
            None, {"input_ids": ids.to(torch.int64).numpy(), "attention_mask": mask.to(torch.int64).numpy()}
        )
        return Encoded(torch.from_numpy(states), mask, layer)

    def encoder_layers(self) -> torch.nn.ModuleList:
        return self.embedder.encoder_layers()

    def run_head(self, head: TunedHead) -> OnnxHead:
        return OnnxHead(head, self.graphs)

    def _session(self, layer: int) -> Any:
        if layer not in self._sessions:
            ids = torch.ones(1, 4, dtype=torch.int64)
            self._sessions[layer] = self.graphs.session(
                Graph(
                    f"minilm-layer{layer}",
                    _EncoderGraph(self.embedder.transformer(), layer),
                    (ids, torch.ones_like(ids)),
                    ("input_ids", "attention_mask"),
                    ("states",),
                    {
                        "input_ids": {0: "sentences", 1: "tokens"},
                        "attention_mask": {0: "sentences", 1: "tokens"},
                        "states": {0: "sentences", 1: "tokens"},
                    },
                )
            )
        return self._sessions[layer]
