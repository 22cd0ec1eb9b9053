"""The stages, and the one place that decides which run and in what order.

To add a stage: write `kgc/stages/<name>.py` (or a package of its own) with its algorithm and a
`STAGE = Stage(...)` (kgc/stages/base.py) that declares the artifacts it reads and writes
(kgc/artifacts.py), then put it in `STAGES` below. A stage after fusion reads `GRAPH` and writes
artifacts of its own; the pipeline, `kgc build`, resume, `kgc remove` and `kgc summary --flow`
need nothing else.
"""

from __future__ import annotations

from kgc.config import KgcConfig
from kgc.stages import corpus, extraction, link, retrieval, seeds
from kgc.stages.base import Stage, StageContext, StageOutcome
from kgc.stages.fusion import stage as fusion

__all__ = ["STAGES", "Stage", "StageContext", "StageOutcome", "stages_for"]

# Every stage, in run order. Each one's `enabled` says whether a config needs it: document mode
# extracts per chunk, without seeds and retrieval; linking runs when a vocabulary is given.
STAGES: list[Stage] = [corpus.STAGE, seeds.STAGE, retrieval.STAGE, extraction.STAGE, fusion.STAGE, link.STAGE]


def stages_for(cfg: KgcConfig) -> list[Stage]:
    """The stages of a run with this config, in order."""
    return [s for s in STAGES if s.enabled(cfg)]
