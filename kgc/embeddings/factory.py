"""The embedder an `[embedding]` section describes: a model (kgc.embeddings.folders) on a backend.

Backends: `torch` (sentence-transformers, kgc.embeddings.torch_backend), `onnx` (ONNX Runtime,
kgc.embeddings.onnx_backend), or `auto`: `onnx` where ONNX Runtime has a GPU, else `torch` (on 2 CPU
cores ONNX was no faster than PyTorch: bench/results/embedder.md). The embedder's key is the model's
key and, for ONNX, the variant (`minilm`, `minilm+onnx`, `minilm+onnx-int8`): vectors of another
variant differ slightly, so the store keeps them apart. Where the vectors are computed changes no
key: the torch backend's `device` (`auto`: the GPU when PyTorch sees one) and the executor (`ray`:
batches encoded by Ray tasks, kgc.embeddings.ray_pool) give the same vectors within float tolerance.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np

from kgc.config import EmbeddingConfig
from kgc.embeddings.base import Embedder
from kgc.embeddings.folders import model_key, resolve_model_path
from kgc.embeddings.onnx_backend import load_onnx_embedder, onnx_on_gpu, require_onnx
from kgc.embeddings.ray_pool import RayEmbedder
from kgc.embeddings.torch_backend import load_torch_embedder

Backend = Literal["auto", "torch", "onnx"]


def resolve_backend(backend: Backend) -> Literal["torch", "onnx"]:
    """The backend `auto` stands for on this machine."""
    if backend != "auto":
        return backend
    return "onnx" if onnx_on_gpu() else "torch"


def load_embedder(cfg: EmbeddingConfig | None = None) -> Embedder:
    """The embedder an `[embedding]` section describes (default: MiniLM on the default backend).

    Cheap: the model name is checked and the key known, but the model loads on the first `encode`.
    ConfigError for an unknown model name.
    """
    cfg = cfg or EmbeddingConfig()
    if cfg.executor == "ray":
        local = cfg.model_copy(update={"executor": "local"})
        # The key is computed here (cheap); the model loads in each Ray worker, from the same config.
        return RayEmbedder(load_embedder(local).key, functools.partial(load_embedder, local), cfg.ray)
    name = cfg.model
    key = model_key(name)
    if resolve_backend(cfg.backend) == "onnx":
        require_onnx()
        quantize = cfg.quantize and not onnx_on_gpu()  # int8 dynamic quantisation is a CPU technique
        onnx_key = f"{key}+onnx-int8" if quantize else f"{key}+onnx"
        return LazyEmbedder(
            onnx_key, lambda: load_onnx_embedder(resolve_model_path(name), onnx_key, quantize)
        )
    return LazyEmbedder(key, lambda: load_torch_embedder(resolve_model_path(name), key, cfg.device))


class LazyEmbedder:
    """An embedder whose model is loaded on the first `encode` (once, even from several threads)."""

    def __init__(self, key: str, load: Callable[[], Embedder]) -> None:
        self.key = key
        self._load = load
        self._loaded: Embedder | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load()
        return self._loaded.encode(texts)
