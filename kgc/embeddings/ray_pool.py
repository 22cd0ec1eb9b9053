"""Embedding batches on a Ray cluster (`embedding.executor = "ray"`): a pool of actors, one model each.

Only the encoding moves. The driver keeps the vector store (kgc.embeddings.stored): it looks up
what is stored, sends the missing texts as batches, and saves each batch's vectors as they come back,
in order; so a Ray run resumes, updates and reuses vectors exactly like a local one. The key is the
local embedder's (the same model computes the vectors wherever it runs), so the store never tells
a Ray run's vectors from a local run's.

`embedding.ray.workers` actors each build the embedder once, on their first batch, and keep it for
every later batch of the run (seeds' chunks, then fusion's names). Each actor has up to two batches
queued, so it starts the next one while the driver saves the last. An actor whose process dies is
restarted by Ray (loading its model again) and its batch run again.
"""

from __future__ import annotations

import os
from collections import deque
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
ACTOR_RESTARTS = 3  # of an actor whose process died; its batch is run again


class EmbedWorker:
    """The body of a Ray actor: one embedder, built by `load` on the first batch, kept for the rest."""

    def __init__(self, load: Callable[[], Embedder]) -> None:
        self._load = load
        self._embedder: Embedder | None = None
        self.batches = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        if self._embedder is None:
            self._embedder = self._load()
        self.batches += 1
        return np.asarray(self._embedder.encode(texts), dtype=np.float32)

    def stats(self) -> dict[str, int]:
        return {"pid": os.getpid(), "batches": self.batches}


class RayEmbedder:
    """An `Embedder` whose batches are encoded by Ray actors; `key` is the one `load` builds.

    `load` is a picklable function that builds the embedder in a worker (for a config:
    `functools.partial(load_embedder, cfg)` with the local executor); nothing starts until the first
    batch, so a resumed run whose vectors are all stored never joins Ray.
    """

    def __init__(self, key: str, load: Callable[[], Embedder], cfg: EmbeddingRayConfig) -> None:
        self.key = key
        self._load = load
        self._cfg = cfg
        self._actors: list[Any] = []
        self._started_ray = False

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        batches = [list(texts[i : i + BATCH_TEXTS]) for i in range(0, len(texts), BATCH_TEXTS)]
        if not batches:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack(list(self.map_batches(batches)))

    def map_batches(self, batches: list[list[str]]) -> Iterator[np.ndarray]:
        """Each batch's vectors, in the batches' order, as soon as that batch is done."""
        actors = self._pool()
        ray = require_ray(SETTING)
        todo = iter(enumerate(batches))
        queued: deque[Any] = deque()

        def send(n: int) -> None:
            for i, batch in islice(todo, n):
                queued.append(actors[i % len(actors)].encode.remote(batch))

        send(len(actors) * QUEUED_PER_WORKER)
        while queued:
            ref = queued.popleft()
            try:
                vectors = ray.get(ref)
            except ray.exceptions.RayTaskError as e:
                raise e.cause from None  # the embedder's own error (a missing model ...)
            except ray.exceptions.RayError as e:
                raise KgcError(f"embedding on Ray failed: {e}") from e
            send(1)
            yield vectors

    def worker_stats(self) -> list[dict[str, int]]:
        """Per actor: its process id and the batches it encoded (what the tests and the bench read)."""
        ray = require_ray(SETTING)
        return list(ray.get([actor.stats.remote() for actor in self._actors]))

    def close(self) -> None:
        """Stop the actors (and Ray, when this embedder started it)."""
        if not self._actors:
            return
        ray = require_ray(SETTING)
        for actor in self._actors:
            ray.kill(actor)
        self._actors = []
        if self._started_ray:
            ray.shutdown()
            self._started_ray = False

    def _pool(self) -> list[Any]:
        if not self._actors:
            ray = require_ray(SETTING)
            self._started_ray = join_ray(self._cfg.address, SETTING)
            worker = ray.remote(EmbedWorker).options(
                num_cpus=self._cfg.cpus_per_worker,
                num_gpus=self._cfg.gpus_per_worker,
                max_restarts=ACTOR_RESTARTS,
                max_task_retries=ACTOR_RESTARTS,
            )
            self._actors = [worker.remote(self._load) for _ in range(self._cfg.workers)]
        return self._actors
