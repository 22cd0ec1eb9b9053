"""What a stage is: one declared object the pipeline runs, and what it gets and gives back.

A stage module holds its algorithm as pure functions over typed data plus one `STAGE = Stage(...)`
whose `run` reads its inputs from the run directory, calls the algorithm and writes its outputs
(`ctx.run.read(CHUNKS)`, `ctx.run.write(SEEDS, seeds)`: the artifacts of kgc.artifacts).
The pipeline only loops over an ordered list of these (kgc.stages.STAGES) and keeps the manifest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kgc.artifacts import Artifact
from kgc.config import KgcConfig
from kgc.rundir import RunDir

if TYPE_CHECKING:
    from kgc.embeddings import Embedder
    from kgc.llm.client import StageLLM


@dataclass
class StageOutcome:
    counts: dict[str, int] = field(default_factory=dict)
    failed: int = 0  # items that failed (LLM calls never answered validly): the next run retries them

    @property
    def complete(self) -> bool:
        return self.failed == 0


@dataclass
class StageContext:
    """What a stage's `run` may use: its config, the run directory, the corpus path, the LLM and the
    sentence embedder.

    The LLM client and the embedder are built on first use only, so a resumed run whose LLM or
    embedding stages are done never loads a model; the LLM is bound to the running stage, which is
    how usage is attributed in the manifest.
    `corpus_path` is None when the run has no source to read (`kgc remove`, or the files are gone): the
    corpus stage then starts from the documents the run already holds.
    `rerun` is True when the user asked to redo the stage (`kgc build --rerun`): a stage that keeps
    work of its own earlier runs (extraction's units) does it all again; LLM answers still come from
    the cache.
    """

    cfg: KgcConfig
    run: RunDir
    corpus_path: Path | None
    stage_llm: Callable[[], StageLLM]
    stage_embedder: Callable[[], Embedder]
    rerun: bool = False

    @property
    def llm(self) -> StageLLM:
        return self.stage_llm()

    @property
    def embedder(self) -> Embedder:
        return self.stage_embedder()


def no_prompts(cfg: KgcConfig) -> list[Path]:
    return []


def always(cfg: KgcConfig) -> bool:
    return True


def in_seed_mode(cfg: KgcConfig) -> bool:
    """Whether the run extracts per seed: the seeds and retrieval stages run in seed mode only."""
    return cfg.extraction.mode == "seed"


@dataclass(frozen=True)
class Stage:
    """A pipeline stage, declared once.

    `inputs` and `outputs` are the artifacts it reads and writes (kgc.artifacts); the pipeline checks
    that it wrote every output. Its key in the manifest covers everything that changes its output:
    the config `sections` it reads, the LLM's identity when `uses_llm`, the bytes of the prompt
    templates it renders (`prompts`) and of the files named by the config keys in `files` (dotted,
    e.g. "fusion.background_graph"), the content of its inputs and, for a stage that reads outside the
    run directory, its `fingerprint`, and its `version`. A rerun skips the stage when the key is
    unchanged and its outputs are as it wrote them. `enabled` leaves a stage out of runs whose config
    does not need it.

    `version` is the version of the stage's own rules, for a stage whose output for the same inputs
    and config changes when kgc's code does (extraction's post-processing of the model's answers):
    bump it with any change that does, so runs made by an older kgc redo the stage when upgraded (from
    the LLM cache: no request is paid again). Empty: not part of the key.
    """

    name: str
    sections: tuple[str, ...]
    inputs: tuple[Artifact, ...]
    outputs: tuple[Artifact, ...]
    run: Callable[[StageContext], StageOutcome]
    uses_llm: bool = False
    prompts: Callable[[KgcConfig], list[Path]] = no_prompts
    files: tuple[str, ...] = ()
    fingerprint: Callable[[StageContext], str] | None = None
    enabled: Callable[[KgcConfig], bool] = always
    version: str = ""
