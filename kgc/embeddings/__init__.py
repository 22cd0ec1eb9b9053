"""Sentence embeddings: the models that make vectors and the store that keeps them, in one room.

- `Embedder` (base): the interface, `key` and `encode(texts)`; `load_embedder(cfg.embedding)`
  (factory) builds the configured one, whose model loads on its first `encode`. A pipeline builds
  it once and hands it to the stages as `ctx.embedder`; tests inject their own
  (`kgc.testing.HashingEmbedder`).
- The models (folders): `minilm`, `mpnet` (assembled by `kgc.assets`) or a local folder; the backends
  torch (torch_backend, on the GPU when PyTorch sees one) and ONNX Runtime (onnx_backend).
- Where batches are encoded: here, or by Ray tasks (ray_pool, `embedding.executor = "ray"`), each
  worker process loading the model once; the store and the key stay the same.
- `VectorStore` (store): vectors by text content hash in the run directory's `embeddings.sqlite`;
  `StoredEmbedder` (stored) embeds only what the store lacks, batch by batch, saving each batch.
- legacy: the embedding files of earlier kgc versions, migrated into the store.
"""

from kgc.assets import use_local_models
from kgc.embeddings.base import Embed, Embedder
from kgc.embeddings.factory import Backend, LazyEmbedder, load_embedder, resolve_backend
from kgc.embeddings.folders import MODEL_CHOICES, minilm_path, model_key, resolve_model_path
from kgc.embeddings.ray_pool import RayEmbedder
from kgc.embeddings.store import STORE_FILE, VectorStore
from kgc.embeddings.stored import StoredEmbedder

# Before any Hugging Face library is imported (BERTopic imports them too): they read it at import.
use_local_models()

__all__ = [
    "MODEL_CHOICES",
    "STORE_FILE",
    "Backend",
    "Embed",
    "Embedder",
    "LazyEmbedder",
    "RayEmbedder",
    "StoredEmbedder",
    "VectorStore",
    "load_embedder",
    "minilm_path",
    "model_key",
    "resolve_backend",
    "resolve_model_path",
]
