"""The stages, and the one place that decides which run and in what order.

To add a stage: write `kgc/stages/<name>.py` with its algorithm and a `STAGE = Stage(...)`
(kgc/stages/base.py), then put it in the list below.
"""

from __future__ import annotations

from kgc.config import KgcConfig
from kgc.stages import corpus, extraction, retrieval, seeds
from kgc.stages.base import Stage, StageContext, StageOutcome
from kgc.stages.fusion import stage as fusion

__all__ = ["Stage", "StageContext", "StageOutcome", "stages_for"]


def stages_for(cfg: KgcConfig) -> list[Stage]:
    """The stages of a run, in order. Document mode extracts per chunk: no seeds, no retrieval."""
    if cfg.extraction.mode == "document":
        return [corpus.STAGE, extraction.STAGE, fusion.STAGE]
    return [corpus.STAGE, seeds.STAGE, retrieval.STAGE, extraction.STAGE, fusion.STAGE]
