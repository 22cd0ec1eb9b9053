"""A sentence-transformers model on PyTorch: the default backend."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kgc.assets import use_local_models
from kgc.errors import ModelAssetError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEVICE = "cpu"
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


def load_torch_embedder(folder: Path, key: str) -> TorchEmbedder:
    use_local_models()  # before sentence-transformers (and huggingface_hub) is first imported
    from sentence_transformers import SentenceTransformer

    try:
        model = SentenceTransformer(str(folder), device=DEVICE, local_files_only=True)
    except (OSError, ValueError) as e:
        raise ModelAssetError(f"cannot load the embedding model in {folder}: {e}") from e
    return TorchEmbedder(model, key)
