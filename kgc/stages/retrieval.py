"""Retrieval: for each seed, the chunks that discuss it (Graphusion: rapidfuzz partial_ratio >= 70).

Scores come from one vectorised rapidfuzz `cdist` over all seeds x chunks, so 1,000 seeds over
1,000 abstracts stay a matter of seconds.
"""

from __future__ import annotations

import numpy as np
from rapidfuzz import fuzz, process, utils

from kgc.artifacts import CHUNKS, CONTEXTS, SEEDS
from kgc.config import RetrievalConfig
from kgc.models import Chunk, Seed, SeedContext
from kgc.stages.base import Stage, StageContext, StageOutcome, in_seed_mode


def retrieve(
    seeds: list[Seed], chunks: list[Chunk], cfg: RetrievalConfig, max_chars: int
) -> list[SeedContext]:
    """The best-matching chunks of every seed, best first, at most `cfg.max_chunks` of them and
    `max_chars` characters together (what one extraction call reads, `extraction.max_chars`)."""
    if not seeds or not chunks:
        return [SeedContext(seed=s.name, chunk_ids=[], scores=[]) for s in seeds]
    scores = process.cdist(
        [s.name for s in seeds],
        [c.text for c in chunks],
        scorer=fuzz.partial_ratio,
        processor=utils.default_process,
        score_cutoff=cfg.min_score,
        dtype=np.uint8,
        workers=-1,
    )
    contexts = []
    for i, seed in enumerate(seeds):
        row = scores[i]
        hits = np.flatnonzero(row >= cfg.min_score)
        # Best score first; ties keep corpus order, so the result is deterministic.
        order = hits[np.lexsort((hits, -row[hits].astype(np.int16)))]
        ids: list[str] = []
        kept: list[float] = []
        budget = max_chars
        for j in order:
            if len(ids) >= cfg.max_chunks:
                break
            text_len = len(chunks[j].text)
            if ids and text_len > budget:
                continue  # a shorter, slightly worse match may still fit
            ids.append(chunks[j].id)
            kept.append(float(row[j]))
            budget -= text_len
        contexts.append(SeedContext(seed=seed.name, chunk_ids=ids, scores=kept))
    return contexts


def _run(ctx: StageContext) -> StageOutcome:
    cfg = ctx.cfg
    contexts = retrieve(ctx.run.read(SEEDS), ctx.run.read(CHUNKS), cfg.retrieval, cfg.extraction.max_chars)
    ctx.run.write(CONTEXTS, contexts)
    empty = sum(1 for c in contexts if not c.chunk_ids)
    return StageOutcome({"seeds_with_context": len(contexts) - empty, "seeds_without": empty})


STAGE = Stage(
    name="retrieval",
    sections=("retrieval", "extraction.max_chars"),
    inputs=(SEEDS, CHUNKS),
    outputs=(CONTEXTS,),
    run=_run,
    enabled=in_seed_mode,
)
