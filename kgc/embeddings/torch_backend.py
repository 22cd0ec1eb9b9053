"""A sentence-transformers model on PyTorch: the default backend, on the GPU when PyTorch sees one
(`embedding.device = "auto"`), else on the CPU."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kgc.assets import use_local_models
from kgc.errors import ConfigError, ModelAssetError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

BATCH_SIZE = 64  # texts per forward pass; sentence-transformers sorts them by length first


class TorchEmbedder:
    """Unit float32 rows from a loaded sentence-transformers model."""

    def __init__(self, model: SentenceTransformer, key: str) -> None:
        self.model = model
        self.key = key
        # sentence-transformers 6 renamed the method; pyproject allows >=3.0
        dimension = getattr(model, "get_embedding_dimension", model.get_sentence_embedding_dimension)()
        self.dimension = int(dimension or 0)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=BATCH_SIZE,
            show_progress_bar=False,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.asarray(vectors, dtype=np.float32)


def torch_device(device: str) -> str:
    """The device `embedding.device` stands for here: 'auto' is 'cuda' when PyTorch sees a GPU."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("embedding.device = 'cuda', but PyTorch sees no GPU here; use 'auto' or 'cpu'")
    return device


def load_torch_embedder(folder: Path, key: str, device: str = "auto") -> TorchEmbedder:
    use_local_models()  # before sentence-transformers (and huggingface_hub) is first imported
    from sentence_transformers import SentenceTransformer

    try:
        model = SentenceTransformer(str(folder), device=torch_device(device), local_files_only=True)
    except (OSError, ValueError) as e:
        raise ModelAssetError(f"cannot load the embedding model in {folder}: {e}") from e
    return TorchEmbedder(model, key)
