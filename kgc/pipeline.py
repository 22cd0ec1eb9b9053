"""The pipeline: the loop over the declared stages of one run directory, and its manifest.

Each stage is skipped when the manifest says it already ran with the same key (config sections, LLM,
prompt templates, files named in the config, inputs) and its outputs are as it wrote them; otherwise
it runs and writes its artifacts atomically. A killed run therefore resumes where it stopped, a cut
or edited artifact is written again by its stage, and the LLM cache makes even a half-finished stage
free to repeat. `rerun` redoes a stage and the ones after it although their keys are unchanged (after
an upgrade of kgc whose rules changed; the LLM cache answers what was asked before). One process
writes a run directory at a time (kgc.runlock).
"""

from __future__ import annotations

import hashlib
import json
import logging
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kgc import stages as stage_list
from kgc.artifacts import GRAPH, LLM_CACHE, LLM_FAILURES, Artifact
from kgc.config import KgcConfig, load_config
from kgc.embeddings import Embedder, RayEmbedder, load_embedder
from kgc.errors import ConfigError, KgcError
from kgc.llm.client import LLMClient, StageLLM
from kgc.llm.executors import make_executor
from kgc.llm.factory import make_backend, with_backend_defaults
from kgc.models import KnowledgeGraph
from kgc.rundir import RunDir, StageRecord, file_hash
from kgc.runlock import RunLock
from kgc.stages import Stage, StageContext

log = logging.getLogger(__name__)

LLMFactory = Callable[[RunDir], LLMClient]


class Pipeline:
    """Runs the stages of one run directory. `llm_factory` builds the LLM client only when a stage
    actually needs one (tests inject a scripted backend through it); `embedder` replaces the
    configured sentence embedder (built from `cfg.embedding` on first use otherwise).

    `corpus`: the source to read; None: the one the run read last (when it is still there), else the
    documents the run already holds. `reread_corpus=False` always starts from those (`kgc remove`).
    `wait`: when another process writes this run directory, wait for it instead of refusing.
    `rerun`: a stage of this run to redo, with every stage after it, even when up to date (once per
    pipeline: a later `run_until` of the same pipeline skips them again).
    Use it as a context manager (or call `close`): it holds the run's lock and closes the LLM client,
    and the embedder it built, which may own a Ray runtime or a loaded model.
    """

    def __init__(
        self,
        cfg: KgcConfig,
        run_dir: str | Path,
        *,
        corpus: str | Path | None = None,
        llm_factory: LLMFactory | None = None,
        embedder: Embedder | None = None,
        reread_corpus: bool = True,
        wait: bool = False,
        rerun: str | None = None,
    ):
        self.cfg = with_backend_defaults(cfg)  # what the run records and keys its stages by
        self.run = RunDir(run_dir)
        self.lock = RunLock(self.run, wait=wait)
        self.every_stage = list(stage_list.STAGES)  # looked up now: a plugged-in list is seen
        self.stages = [s for s in self.every_stage if s.enabled(self.cfg)]
        self._corpus = Path(corpus) if corpus is not None else None
        self._reread_corpus = reread_corpus
        self._llm_factory = llm_factory or default_llm_factory(self.cfg)
        self._llm: LLMClient | None = None
        self._embedder = embedder
        self._own_embedder = embedder is None  # built here from the config: closed here
        self.ran: list[str] = []  # the stages this pipeline ran (not found up to date), in order
        self._redone = self._redone_from(rerun)  # the stages to redo although up to date

    def _redone_from(self, rerun: str | None) -> set[str]:
        if rerun is None:
            return set()
        names = self.stage_names()
        if rerun not in names:
            raise KgcError(f"cannot rerun {rerun!r}: this run's stages are {', '.join(names)}")
        return set(names[names.index(rerun) :])

    def __enter__(self) -> Pipeline:
        self.lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the LLM client and the Ray embedder (if built) and release the run's lock."""
        if self._llm is not None:
            self._llm.close()
            self._llm = None
        if self._own_embedder and isinstance(self._embedder, RayEmbedder):
            self._embedder.close()
            self._embedder = None
        if self.lock.held:
            self.lock.release()

    @property
    def llm(self) -> LLMClient:
        if self._llm is None:
            self._llm = self._llm_factory(self.run)
        return self._llm

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.cfg.embedding)
        return self._embedder

    @property
    def corpus(self) -> Path | None:
        """The corpus the corpus stage reads; None: it starts from the documents the run holds."""
        if not self._reread_corpus:
            return None
        if self._corpus is not None:
            return self._corpus
        remembered = self.run.manifest().corpus
        if not remembered:
            return None
        if not Path(remembered).exists():
            log.info("the corpus %s this run read is gone: using the documents the run holds", remembered)
            return None
        return Path(remembered)

    def stage_names(self) -> list[str]:
        return [s.name for s in self.stages]

    def stages_until(self, until: str | None = None) -> list[Stage]:
        """This run's stages up to `until` (all by default). A stage this config leaves out (the seeds
        in document mode) stands for the last one before it."""
        if until is None:
            return list(self.stages)
        every = [s.name for s in self.every_stage]
        if until not in every:
            raise KgcError(f"unknown stage {until!r}; the stages: {', '.join(self.stage_names())}")
        position = every.index(until)
        return [s for s in self.stages if every.index(s.name) <= position]

    def run_until(self, until: str | None = None) -> KnowledgeGraph | None:
        """Run (or resume) every stage up to `until` (default: all); returns the graph when a stage run
        writes it. A stage that finished with failed items is recorded `partial` (see `failed_items`)."""
        stages = self.stages_until(until)
        with self.lock:
            self.run.set_aside_damaged_manifest()
            if self._corpus is not None and self._corpus.exists():
                self.run.remember_corpus(self._corpus)
            self.run.write_config(self.cfg)
            for stage in stages:
                self.run_stage(stage)
        failed = self.failed_items()
        if failed:
            log.warning("incomplete run: %s; rerun the same command to retry only those", describe(failed))
        return self.run.read(GRAPH) if any(GRAPH in s.outputs for s in stages) else None

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
            self.cfg,
            self.run,
            self.corpus,
            lambda: self._stage_llm(stage),
            lambda: self.embedder,
            rerun=self._redo(stage),
        )

    def _redo(self, stage: Stage) -> bool:
        """Whether `stage` is to be redone although up to date: asked by `rerun`, not yet redone."""
        return stage.name in self._redone and stage.name not in self.ran

    def _stage_llm(self, stage: Stage) -> StageLLM:
        if not stage.uses_llm:
            raise KgcError(f"stage {stage.name} is not declared to use the LLM (Stage.uses_llm)")
        return self.llm.for_stage(stage.name)

    def inputs(self, stage: Stage) -> list[Artifact]:
        """The declared inputs of `stage` that are inputs in this run: an artifact written by a stage
        this config leaves out (contexts.jsonl in document mode) is not."""
        left_out = {a for s in self.every_stage if s not in self.stages for a in s.outputs}
        return [a for a in stage.inputs if a not in left_out]

    def stage_key(self, stage: Stage) -> tuple[str, str]:
        """(config hash, input hash) of a stage: when both match the manifest, the stage is up to date."""
        cfg = self.cfg
        parts = [cfg.section_hash(*stage.sections)]
        if stage.uses_llm:
            parts.append(json.dumps(cfg.llm.identity(), sort_keys=True))
        parts += [f"{p.name}:{_template_hash(p)}" for p in stage.prompts(cfg)]
        parts += [f"{key}:{_content_hash(path)}" for key, path in configured_files(cfg, stage.files)]
        if stage.version:
            parts.append(f"version:{stage.version}")
        config_hash = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
        input_hash = self.run.inputs_hash(self.inputs(stage))
        if stage.fingerprint is not None:
            source = stage.fingerprint(self.context(stage))
            input_hash = hashlib.sha256(f"{source}\n{input_hash}".encode()).hexdigest()[:16]
        return config_hash, input_hash

    def run_stage(self, stage: Stage) -> None:
        with self.lock:
            self._run_stage(stage)

    def _run_stage(self, stage: Stage) -> None:
        config_hash, input_hash = self.stage_key(stage)
        if self._redo(stage):
            log.info("%s: run again as asked (rerun), its LLM answers from the cache", stage.name)
        elif self.run.is_done(stage.name, config_hash, input_hash):
            log.info("%s: up to date, re-using %s", stage.name, self.run.path)
            return
        started = time.perf_counter()
        outcome = stage.run(self.context(stage))
        seconds = time.perf_counter() - started
        missing = [a.name for a in stage.outputs if not self.run.exists(a)]
        if missing:
            raise KgcError(f"stage {stage.name} did not write {', '.join(missing)}, which it declares")
        usage = self._llm.for_stage(stage.name).usage() if self._llm is not None and stage.uses_llm else None
        # Any LLM call of the stage left without a valid answer makes it partial, whichever part of the
        # stage asked it (fusion's name-pair band as much as its neighbourhoods): the rerun asks exactly
        # those again, the others come from the cache.
        failed = max(outcome.failed, usage.failed if usage is not None else 0)
        rec = StageRecord(
            status="done" if failed == 0 else "partial",
            config_hash=config_hash,
            input_hash=input_hash,
            outputs=[a.name for a in stage.outputs],
            hashes=self.run.hashes(stage.outputs),
            counts=outcome.counts,
            failed=failed,
            seconds=round(seconds, 3),
            peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        )
        if usage is not None:
            rec.llm = usage.as_dict()
        self.run.record(stage.name, rec)
        self.ran.append(stage.name)
        counts = ", ".join(f"{k}={v}" for k, v in outcome.counts.items())
        log.info("%s: done in %.1fs (%s) -> %s", stage.name, seconds, counts, self.run.path)
        if failed:
            log.warning(
                "%s: %d items failed (see %s); rerun to retry only those",
                stage.name,
                failed,
                LLM_FAILURES.name,
            )


def configured_files(cfg: KgcConfig, keys: tuple[str, ...]) -> list[tuple[str, Path]]:
    """The files named by dotted config keys ("fusion.background_graph"), for those that are set."""
    out = []
    for key in keys:
        value: Any = cfg
        for part in key.split("."):
            value = getattr(value, part)
        for item in value if isinstance(value, list | tuple) else [value]:
            if item is not None and str(item) != "":
                out.append((key, Path(item)))
    return out


def _content_hash(path: Path) -> str:
    """A file's content hash; a file that cannot be read hashes as such (the stage then says why)."""
    try:
        return file_hash(path)
    except OSError:
        return "unreadable"


def _template_hash(path: Path) -> str:
    if not path.is_file():
        raise ConfigError(f"prompt template not found: {path} (see prompts_dir and the stage's prompt key)")
    return file_hash(path)


def describe(failed: dict[str, int]) -> str:
    """{'extraction': 7} -> '7 failed items in extraction'."""
    return ", ".join(f"{n} failed item{'s' if n != 1 else ''} in {stage}" for stage, n in failed.items())


def default_llm_factory(cfg: KgcConfig) -> LLMFactory:
    started = (
        time.monotonic()
    )  # the run's start: llm.budget.deadline_seconds counts from here, seeds included

    def factory(run: RunDir) -> LLMClient:
        backend = make_backend(cfg.llm, cfg.resolved_api_key())
        return LLMClient(
            backend,
            cfg.llm,
            cache_path=run / LLM_CACHE if cfg.llm.cache else None,
            failures_path=run / LLM_FAILURES,
            started_at=started,
            executor=make_executor(cfg.llm, backend),
        )

    return factory


def build(
    corpus: str | Path,
    run_dir: str | Path,
    cfg: KgcConfig | None = None,
    *,
    until: str | None = None,
    rerun: str | None = None,
) -> KnowledgeGraph | None:
    """Build (or resume) a knowledge graph from `corpus` into `run_dir`: the one-call Python API.
    `rerun`: redo that stage and those after it although up to date (`kgc build --rerun`)."""
    with Pipeline(cfg or load_config(), run_dir, corpus=corpus, rerun=rerun) as pipeline:
        return pipeline.run_until(until)
