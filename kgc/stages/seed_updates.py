"""Seeds that stay put when the corpus changes.

Refitting the topic model on an updated corpus gives other topics, other seeds, other retrieved text
and so other prompts: nearly every extraction call would be paid again. On an update the seeds stage
therefore keeps the seeds it chose and only looks at the chunks it has not seen: a new chunk that
contains one of the seeds' names is covered (retrieval gives it to that seed), and new seeds are fitted
on the uncovered ones alone, once there are `min_topic_size` of them (fewer wait for the next update)
and within `max_seeds`. `kgc build --refit-seeds` fits everything anew.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from kgc.config import KgcConfig, SeedsConfig
from kgc.models import Chunk, Seed
from kgc.stages.seed_phrases import candidate_phrases, select_seeds
from kgc.text import normalise_name


def seeds_settings(cfg: KgcConfig) -> str:
    """Hash of the settings the seeds depend on (`keep_on_update` itself aside)."""
    settings = [cfg.seeds.model_dump(mode="json", exclude={"keep_on_update"}), cfg.embedding.model]
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def covered(chunk: Chunk, names: set[str], cfg: SeedsConfig) -> bool:
    """Whether the chunk's text holds the name of one of the seeds."""
    return any(normalise_name(p) in names for p in candidate_phrases(chunk.text, cfg.ngram_range))


def update_seeds(
    kept: list[Seed],
    seen: set[str],
    chunks: list[Chunk],
    cfg: SeedsConfig,
    fit: Callable[[list[Chunk]], list[Seed]],
) -> tuple[list[Seed], list[Chunk]]:
    """`kept` plus seeds fitted (by `fit`) on the chunks not in `seen` that no kept seed covers, once
    they are `min_topic_size` (what a topic needs on a first build) and there is room under
    `max_seeds`; also the uncovered chunks left waiting for that (empty when they were fitted)."""
    names = {s.name for s in kept}
    uncovered = [c for c in chunks if c.hash not in seen and not covered(c, names, cfg)]
    if len(uncovered) < cfg.min_topic_size or len(kept) >= cfg.max_seeds:
        return kept, uncovered
    offset = max((s.topic for s in kept), default=-1) + 1  # new topics numbered after the kept ones
    found = [s.model_copy(update={"topic": s.topic + offset}) for s in fit(uncovered) if s.origin == "topic"]
    return select_seeds(found, kept, cfg.max_seeds), []
