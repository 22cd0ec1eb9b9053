"""The extraction stage's calls: one per batch of a seed's retrieved chunks (seed mode) or per chunk
(document mode), each asking the model about the passages it holds. The run and `--dry-run`'s
estimate both build them here (kgc.stages.extraction)."""

from __future__ import annotations

from dataclasses import dataclass

from kgc.artifacts import CHUNKS, CONTEXTS
from kgc.config import KgcConfig
from kgc.models import Chunk, SeedContext
from kgc.stages.base import StageContext


@dataclass
class ExtractionTask:
    """One LLM call: the passages to read and, in seed mode, the seed they were retrieved for."""

    key: str  # "seed/batch number" or chunk id
    seed: str | None
    chunks: list[Chunk]


def seed_tasks(
    contexts: list[SeedContext], chunks: list[Chunk], batch_chunks: int = 0
) -> list[ExtractionTask]:
    """One task per batch of a seed's retrieved chunks (see `content_batches`), or per seed when
    `batch_chunks` is 0."""
    by_id = {c.id: c for c in chunks}
    tasks = []
    for ctx in contexts:
        retrieved = [by_id[i] for i in ctx.chunk_ids]
        batches = content_batches(retrieved, batch_chunks) if batch_chunks else [retrieved]
        tasks += [
            ExtractionTask(key=f"{ctx.seed}/{n}", seed=ctx.seed, chunks=batch)
            for n, batch in enumerate(batches)
            if batch
        ]
    return tasks


def content_batches(chunks: list[Chunk], size: int) -> list[list[Chunk]]:
    """`chunks` in the order of their content hashes, cut after every chunk whose hash is 0 modulo
    `size` (batches of `size` chunks on average).

    Where a batch ends depends only on the chunks in it, never on their neighbours or number, so a
    chunk added to a seed's context changes the one batch it falls in (or splits it in two) and
    leaves the prompts of the others untouched: an update pays for the batches new text enters.
    """
    batches: list[list[Chunk]] = [[]]
    for chunk in sorted(chunks, key=lambda c: (c.hash, c.id)):
        batches[-1].append(chunk)
        if int(chunk.hash, 16) % size == 0:
            batches.append([])
    return [b for b in batches if b]


def chunk_tasks(chunks: list[Chunk]) -> list[ExtractionTask]:
    return [ExtractionTask(key=c.id, seed=None, chunks=[c]) for c in chunks]


def tasks_for(
    cfg: KgcConfig, contexts: list[SeedContext] | None, chunks: list[Chunk]
) -> list[ExtractionTask]:
    """The extraction calls of a run: per batch of a seed's chunks (seed mode) or per chunk
    (document mode). The run and `--dry-run`'s estimate both build them here."""
    if cfg.extraction.mode == "seed":
        return seed_tasks(contexts or [], chunks, cfg.extraction.seed_batch_chunks)
    return chunk_tasks(chunks)


def read_tasks(ctx: StageContext) -> list[ExtractionTask]:
    contexts = ctx.run.read(CONTEXTS) if ctx.cfg.extraction.mode == "seed" else None
    return tasks_for(ctx.cfg, contexts, ctx.run.read(CHUNKS))
