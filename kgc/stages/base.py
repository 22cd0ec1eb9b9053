"""What a stage is: one declared object the pipeline runs, and what it gets and gives back.

A stage module holds its algorithm as pure functions over typed data plus one `STAGE = Stage(...)`
whose `run` loads the inputs from the run directory, calls the algorithm and saves the outputs.
The pipeline only loops over an ordered list of these (kgc.stages.stages_for) and keeps the manifest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kgc.config import KgcConfig
from kgc.errors import KgcError
from kgc.rundir import RunDir

if TYPE_CHECKING:
    from kgc.embeddings import Embedder
    from kgc.llm.client import StageLLM


@dataclass
class StageOutcome:
    outputs: list[str]  # artifact file names written into the run directory
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
    """

    cfg: KgcConfig
    run: RunDir
    corpus_path: Path | None
    stage_llm: Callable[[], StageLLM]
    stage_embedder: Callable[[], Embedder]

    @property
    def llm(self) -> StageLLM:
        return self.stage_llm()

    @property
    def embedder(self) -> Embedder:
        return self.stage_embedder()

    @property
    def corpus(self) -> Path:
        if self.corpus_path is None:
            raise KgcError("no corpus given and none recorded in this run directory")
        return self.corpus_path


def no_prompts(cfg: KgcConfig) -> list[Path]:
    return []


@dataclass(frozen=True)
class Stage:
    """A pipeline stage, declared once.

    Its key in the manifest covers everything that changes its output: the config `sections` it reads,
    the LLM's identity when `uses_llm`, the bytes of the prompt templates it renders (`prompts`), the
    content of its input artifacts (`inputs`) and, for a stage that reads outside the run directory,
    its `fingerprint`. A rerun skips the stage when the key is unchanged and its outputs still exist.
    """

    name: str
    sections: tuple[str, ...]
    inputs: Callable[[KgcConfig], list[str]]
    run: Callable[[StageContext], StageOutcome]
    uses_llm: bool = False
    prompts: Callable[[KgcConfig], list[Path]] = no_prompts
    fingerprint: Callable[[StageContext], str] | None = None
