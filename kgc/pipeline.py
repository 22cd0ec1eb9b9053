"""The pipeline: the loop over the declared stages of one run directory, and its manifest.

Each stage is skipped when the manifest says it already ran with the same key (config sections, LLM,
prompt templates, inputs) and its outputs still exist; otherwise it runs and writes its artifacts
atomically. A killed run therefore resumes where it stopped, and the LLM cache makes even a
half-finished stage free to repeat.
"""

from __future__ import annotations

import hashlib
import json
import logging
import resource
import time
from collections.abc import Callable
from pathlib import Path

from kgc.config import KgcConfig
from kgc.embeddings import Embedder, load_embedder
from kgc.errors import ConfigError, KgcError
from kgc.export.graph_files import read_graph
from kgc.llm.client import LLMClient, StageLLM
from kgc.models import KnowledgeGraph
from kgc.rundir import RunDir, StageRecord, file_hash
from kgc.stages import Stage, StageContext, stages_for

log = logging.getLogger(__name__)

LLMFactory = Callable[[RunDir], LLMClient]


class Pipeline:
    """Runs the stages of one run directory. `llm_factory` builds the LLM client only when a stage
    actually needs one (tests inject a scripted backend through it); `embedder` replaces the
    configured sentence embedder (built from `cfg.embedding` on first use otherwise)."""

    def __init__(
        self,
        cfg: KgcConfig,
        run_dir: str | Path,
        *,
        corpus: str | Path | None = None,
        llm_factory: LLMFactory | None = None,
        embedder: Embedder | None = None,
    ):
        self.cfg = cfg
        self.run = RunDir(run_dir)
        remembered = self.run.manifest().corpus
        self.corpus = Path(corpus) if corpus is not None else Path(remembered) if remembered else None
        self.stages = stages_for(cfg)
        self._llm_factory = llm_factory or default_llm_factory(cfg)
        self._llm: LLMClient | None = None
        self._embedder = embedder

    @property
    def llm(self) -> LLMClient:
        if self._llm is None:
            self._llm = self._llm_factory(self.run)
        return self._llm

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            e = self.cfg.embedding
            self._embedder = load_embedder(e.model, e.backend, e.quantize)
        return self._embedder

    def stage_names(self) -> list[str]:
        return [s.name for s in self.stages]

    def stages_until(self, until: str) -> list[Stage]:
        names = self.stage_names()
        if until not in names:
            raise KgcError(f"unknown stage {until!r} in this run; its stages: {', '.join(names)}")
        return self.stages[: names.index(until) + 1]

    def run_until(self, until: str = "fusion") -> KnowledgeGraph | None:
        """Run (or resume) every stage up to `until`; returns the graph when fusion is included.
        A stage that finished with failed items is recorded `partial` (see `failed_items`)."""
        if until in ("seeds", "retrieval") and self.cfg.extraction.mode == "document":
            until = "corpus"  # document mode has no seeds: asking for them reads the corpus only
        self.run.write_config(self.cfg)
        for stage in self.stages_until(until):
            self.run_stage(stage)
        failed = self.failed_items()
        if failed:
            log.warning("incomplete run: %s; rerun the same command to retry only those", describe(failed))
        return read_graph(self.run.path) if until == "fusion" else None

    def failed_items(self) -> dict[str, int]:
        """Stages of this run recorded `partial`, with their number of failed items."""
        stages = self.run.manifest().stages
        return {
            s.name: stages[s.name].failed
            for s in self.stages
            if s.name in stages and stages[s.name].status == "partial"
        }

    def context(self, stage: Stage) -> StageContext:
        return StageContext(
            self.cfg, self.run, self.corpus, lambda: self._stage_llm(stage), lambda: self.embedder
        )

    def _stage_llm(self, stage: Stage) -> StageLLM:
        if not stage.uses_llm:
            raise KgcError(f"stage {stage.name} is not declared to use the LLM (Stage.uses_llm)")
        return self.llm.for_stage(stage.name)

    def stage_key(self, stage: Stage) -> tuple[str, str]:
        """(config hash, input hash) of a stage: when both match the manifest, the stage is up to date."""
        cfg = self.cfg
        parts = [cfg.section_hash(*stage.sections)]
        if stage.uses_llm:
            identity = cfg.llm.model_dump(
                mode="json", include={"backend", "model", "temperature", "model_path"}
            )
            parts.append(json.dumps(identity, sort_keys=True))
        parts += [f"{p.name}:{_template_hash(p)}" for p in stage.prompts(cfg)]
        config_hash = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
        if stage.fingerprint is not None:
            return config_hash, stage.fingerprint(self.context(stage))
        return config_hash, self.run.inputs_hash(*stage.inputs(cfg))

    def run_stage(self, stage: Stage) -> None:
        config_hash, input_hash = self.stage_key(stage)
        if self.run.is_done(stage.name, config_hash, input_hash):
            log.info("%s: up to date, re-using %s", stage.name, self.run.path)
            return
        started = time.perf_counter()
        outcome = stage.run(self.context(stage))
        seconds = time.perf_counter() - started
        usage = self._llm.for_stage(stage.name).usage() if self._llm is not None and stage.uses_llm else None
        # Any LLM call of the stage left without a valid answer makes it partial, whichever part of the
        # stage asked it (fusion's name-pair band as much as its neighbourhoods): the rerun asks exactly
        # those again, the others come from the cache.
        failed = max(outcome.failed, usage.failed if usage is not None else 0)
        rec = StageRecord(
            status="done" if failed == 0 else "partial",
            config_hash=config_hash,
            input_hash=input_hash,
            outputs=outcome.outputs,
            counts=outcome.counts,
            failed=failed,
            seconds=round(seconds, 3),
            peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        )
        if usage is not None:
            rec.llm = usage.as_dict()
        self.run.record(stage.name, rec)
        counts = ", ".join(f"{k}={v}" for k, v in outcome.counts.items())
        log.info("%s: done in %.1fs (%s) -> %s", stage.name, seconds, counts, self.run.path)
        if failed:
            log.warning(
                "%s: %d items failed (see llm_failures.jsonl); rerun to retry only those", stage.name, failed
            )


def _template_hash(path: Path) -> str:
    if not path.is_file():
        raise ConfigError(f"prompt template not found: {path} (see prompts_dir and the stage's prompt key)")
    return file_hash(path)


def describe(failed: dict[str, int]) -> str:
    """{'extraction': 7} -> '7 failed items in extraction'."""
    return ", ".join(f"{n} failed item{'s' if n != 1 else ''} in {stage}" for stage, n in failed.items())


def default_llm_factory(cfg: KgcConfig) -> LLMFactory:
    started = time.monotonic()  # the run's start: llm.deadline_seconds counts from here, seeds included

    def factory(run: RunDir) -> LLMClient:
        from kgc.llm.executors import make_executor
        from kgc.llm.factory import make_backend

        backend = make_backend(cfg.llm, cfg.resolved_api_key())
        cache = run / "llm_cache.sqlite" if cfg.llm.cache else None
        return LLMClient(
            backend,
            cfg.llm,
            cache_path=cache,
            failures_path=run / "llm_failures.jsonl",
            started_at=started,
            executor=make_executor(cfg.llm, backend),
        )

    return factory


def build(
    corpus: str | Path,
    run_dir: str | Path,
    cfg: KgcConfig | None = None,
    *,
    until: str = "fusion",
) -> KnowledgeGraph | None:
    """Build (or resume) a knowledge graph from `corpus` into `run_dir`: the one-call Python API."""
    from kgc.config import load_config

    return Pipeline(cfg or load_config(), run_dir, corpus=corpus).run_until(until)
