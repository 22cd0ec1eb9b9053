"""Embedding batches on a Ray cluster (`embedding.executor = "ray"`): one task per batch, one model
per worker process.

Only the encoding moves. The driver keeps the vector store (kgc.embeddings.stored): it looks up
what is stored, sends the missing texts as batches, and saves each batch's vectors as they come back,
in order; so a Ray run resumes, updates and reuses vectors exactly like a local one. The key is the
local embedder's (the same model computes the vectors wherever it runs), so the store never tells
a Ray run's vectors from a local run's.

Each batch is a Ray task (`encode_on_worker`); a worker process builds the embedder on its first
batch and keeps it, by key, for every later batch of the run (seeds' chunks, then fusion's names),
as the LLM executor keeps its backend. Tasks rather than actors: a task holds its CPUs only while it
encodes, so LLM requests on the same cluster (`llm.executor = "ray"`) are never starved by idle
models. `embedding.ray.workers` batches are encoded at once, and as many more wait queued, so a worker
starts its next batch while the driver saves the last. A task whose worker dies is run again.
"""

from __future__ import annotations

import os
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from typing import Any

import numpy as np

from kgc.config import EmbeddingRayConfig
from kgc.embeddings.base import BATCH_TEXTS, Embedder
from kgc.errors import KgcError
from kgc.raycluster import join_ray, require_ray

SETTING = "embedding.executor = 'ray'"
QUEUED_PER_WORKER = 2
TASK_RETRIES = 3  # re-runs of a batch whose worker process died

# In a worker process: the embedders it has built, by key (normally one).
_WORKER_EMBEDDERS: dict[str, Embedder] = {}


def encode_on_worker(key: str, load: Callable[[], Embedder], texts: list[str]) -> tuple[int, np.ndarray]:
    """The body of a Ray task: this process's embedder for `key` (built by `load` on its first batch)
    encodes `texts`; the process id comes back with the vectors."""
    if key not in _WORKER_EMBEDDERS:
        _WORKER_EMBEDDERS[key] = load()
    return os.getpid(), np.asarray(_WORKER_EMBEDDERS[key].encode(texts), dtype=np.float32)


class RayEmbedder:
    """An `Embedder` whose batches are encoded by Ray tasks; `key` is the one `load` builds.

    `load` is a picklable function that builds the embedder in a worker (for a config:
    `functools.partial(load_embedder, cfg)` with the local executor); nothing starts until the first
    batch, so a resumed run whose vectors are all stored never joins Ray. `batches_by_worker` counts
    the batches each worker process encoded.
    """

    def __init__(self, key: str, load: Callable[[], Embedder], cfg: EmbeddingRayConfig) -> None:
        self.key = key
        self._load = load
        self._cfg = cfg
        self._task: Any = None
        self._load_ref: Any = None
        self._started_ray = False
        self.batches_by_worker: Counter[int] = Counter()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        batches = [list(texts[i : i + BATCH_TEXTS]) for i in range(0, len(texts), BATCH_TEXTS)]
        if not batches:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack(list(self.map_batches(batches)))

    def map_batches(self, batches: list[list[str]]) -> Iterator[np.ndarray]:
        """Each batch's vectors, in the batches' order, as soon as that batch is done."""
        task = self._connect()
        ray = require_ray(SETTING)
        todo = iter(batches)
        queued: deque[Any] = deque()

        def send(n: int) -> None:
            queued.extend(task.remote(self.key, self._load_ref, batch) for batch in islice(todo, n))

        send(self._cfg.workers * QUEUED_PER_WORKER)
        while queued:
            try:
                pid, vectors = ray.get(queued.popleft())
            except ray.exceptions.RayTaskError as e:
                raise e.cause from None  # the embedder's own error (a missing model ...)
            except ray.exceptions.RayError as e:
                raise KgcError(f"embedding on Ray failed: {e}") from e
            self.batches_by_worker[pid] += 1
            send(1)
            yield vectors

    def close(self) -> None:
        """Leave Ray (shut it down when this embedder started it)."""
        if self._started_ray:
            require_ray(SETTING).shutdown()
        self._task = self._load_ref = None
        self._started_ray = False

    def _connect(self) -> Any:
        """The remote task, joining Ray on the first call."""
        if self._task is None:
            ray = require_ray(SETTING)
            self._started_ray = join_ray(self._cfg.address, SETTING)
            self._load_ref = ray.put(self._load)
            self._task = ray.remote(encode_on_worker).options(
                num_cpus=self._cfg.cpus_per_worker,
                num_gpus=self._cfg.gpus_per_worker,
                max_retries=TASK_RETRIES,
                retry_exceptions=False,
            )
        return self._task
