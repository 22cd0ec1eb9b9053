"""The pipeline: an ordered list of stages over one run directory.

Each stage reads its inputs from the run directory, skips itself when the manifest says it already ran
with the same config and inputs, and writes its artifacts atomically. A killed run therefore resumes
where it stopped, and the LLM cache makes even a half-finished stage free to repeat.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kgc.config import KgcConfig
from kgc.corpus import chunk_documents, read_corpus
from kgc.errors import KgcError
from kgc.export.graph_files import read_graph, write_graph
from kgc.llm.client import LLMClient
from kgc.models import Candidate, Chunk, Document, KnowledgeGraph, Seed, SeedContext
from kgc.rundir import RunDir, StageRecord, atomic_write_bytes, read_jsonl, write_jsonl

log = logging.getLogger(__name__)

STAGES = ("corpus", "seeds", "retrieval", "extraction", "fusion")
GRAPH_FILES = ["graph.json", "graph.graphml", "entities.jsonl", "relations.jsonl"]


@dataclass
class StageOutcome:
    outputs: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    complete: bool = True  # False: some items failed and will be retried by the next run


def corpus_fingerprint(path: Path) -> str:
    """Content hash of the corpus file or folder: a changed corpus re-runs everything."""
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        h.update(str(f.relative_to(path) if path.is_dir() else f.name).encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


class Pipeline:
    """Runs the stages of one run directory. `llm_factory` builds the LLM client only when a stage
    actually needs one, so a resumed run whose LLM stages are done never loads a model."""

    def __init__(
        self,
        cfg: KgcConfig,
        run_dir: str | Path,
        *,
        corpus: str | Path | None = None,
        llm_factory: Callable[[RunDir], LLMClient] | None = None,
    ):
        self.cfg = cfg
        self.run = RunDir(run_dir)
        self.corpus = Path(corpus) if corpus is not None else self._remembered_corpus()
        self._llm_factory = llm_factory or _default_llm_factory(cfg)
        self._llm: LLMClient | None = None

    # -- plumbing -------------------------------------------------------------------------------

    def _remembered_corpus(self) -> Path | None:
        rec = self.run.manifest().stages.get("corpus")
        return Path(rec.meta["corpus"]) if rec and "corpus" in rec.meta else None

    @property
    def llm(self) -> LLMClient:
        if self._llm is None:
            self._llm = self._llm_factory(self.run)
        return self._llm

    def stages_for(self, until: str) -> list[str]:
        if until not in STAGES:
            raise KgcError(f"unknown stage {until!r}; stages: {', '.join(STAGES)}")
        wanted = list(STAGES[: STAGES.index(until) + 1])
        if self.cfg.extraction.mode == "document":  # one call per chunk: no seeds, no retrieval
            wanted = [s for s in wanted if s not in ("seeds", "retrieval")] or ["corpus"]
        return wanted

    def run_until(self, until: str = "fusion") -> KnowledgeGraph | None:
        """Run (or resume) every stage up to `until`; returns the graph when fusion is included."""
        for name in self.stages_for(until):
            self._run_stage(name)
        return read_graph(self.run.path) if until == "fusion" else None

    def _stage_key(self, name: str) -> tuple[str, str]:
        cfg = self.cfg
        llm_identity = cfg.llm.model_dump(
            mode="json", include={"backend", "model", "temperature", "model_path"}
        )
        sections: dict[str, tuple[list[str], list[str]]] = {
            "corpus": (["corpus"], []),
            "seeds": (["seeds"], ["chunks.jsonl"]),
            "retrieval": (["retrieval"], ["seeds.jsonl", "chunks.jsonl"]),
            "extraction": (
                ["extraction", "relations", "retrieval"],
                ["contexts.jsonl", "chunks.jsonl"] if cfg.extraction.mode == "seed" else ["chunks.jsonl"],
            ),
            "fusion": (["fusion", "relations", "seeds"], ["candidates.jsonl"]),
        }
        cfg_sections, inputs = sections[name]
        config_hash = cfg.section_hash(*cfg_sections)
        if name in ("extraction", "fusion"):
            config_hash += hashlib.sha256(repr(sorted(llm_identity.items())).encode()).hexdigest()[:8]
        if name == "corpus":
            if self.corpus is None:
                raise KgcError("no corpus given and none recorded in this run directory")
            return config_hash, corpus_fingerprint(self.corpus)
        return config_hash, self.run.inputs_hash(*inputs)

    def _run_stage(self, name: str) -> None:
        config_hash, input_hash = self._stage_key(name)
        if self.run.is_done(name, config_hash, input_hash):
            log.info("%s: up to date, re-using %s", name, self.run.path)
            return
        started = time.perf_counter()
        outcome: StageOutcome = getattr(self, f"_stage_{name}")()
        seconds = time.perf_counter() - started
        rec = StageRecord(
            status="done" if outcome.complete else "partial",
            config_hash=config_hash,
            input_hash=input_hash,
            outputs=outcome.outputs,
            counts=outcome.counts,
            seconds=round(seconds, 3),
            peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        )
        if name == "corpus":
            rec.meta["corpus"] = str(self.corpus)
        if self._llm is not None:  # usage is kept per stage name, so this is this stage's alone
            rec.llm = self._llm.usage(name).as_dict()
        self.run.record(name, rec)
        counts = ", ".join(f"{k}={v}" for k, v in outcome.counts.items())
        log.info("%s: done in %.1fs (%s) -> %s", name, seconds, counts, self.run.path)
        if not outcome.complete:
            log.warning("%s: some items failed (see llm_failures.jsonl); rerun to retry only those", name)

    # -- stages ---------------------------------------------------------------------------------

    def _stage_corpus(self) -> StageOutcome:
        assert self.corpus is not None
        readout = read_corpus(self.corpus, self.cfg.corpus)
        chunks = chunk_documents(readout.documents, self.cfg.corpus)
        write_jsonl(self.run / "documents.jsonl", readout.documents)
        write_jsonl(self.run / "chunks.jsonl", chunks)
        self.run.write_json("skipped.json", [{"where": s.where, "reason": s.reason} for s in readout.skipped])
        return StageOutcome(
            ["documents.jsonl", "chunks.jsonl", "skipped.json"],
            {"documents": len(readout.documents), "chunks": len(chunks), "skipped": len(readout.skipped)},
        )

    def _stage_seeds(self) -> StageOutcome:
        from kgc.stages.seeds import find_seeds  # imports torch and BERTopic: only when needed

        texts = [c.text for c in self.chunks()]
        vectors = None if self.cfg.seeds.user_seeds_only else self._chunk_embeddings(texts)
        result = find_seeds(texts, self.cfg.seeds, embeddings=vectors)
        write_jsonl(self.run / "seeds.jsonl", result.seeds)
        self.run.write_json("topics.json", [t.model_dump() for t in result.topics])
        return StageOutcome(
            ["seeds.jsonl", "topics.json"], {"seeds": len(result.seeds), "topics": len(result.topics)}
        )

    def _chunk_embeddings(self, texts: list[str]) -> np.ndarray:
        """The chunks' embeddings, kept in the run directory under a key of model and texts: a changed
        seeds setting re-runs the topic model, not the embedding (a minute per 1,000 abstracts here)."""
        from kgc.stages.seeds import embed_documents

        model = self.cfg.seeds.embedding_model
        key = hashlib.sha256(json.dumps([model, texts]).encode()).hexdigest()[:16]
        path = self.run / f"chunk_embeddings.{key}.npy"
        if path.is_file():
            log.info("seeds: re-using the chunk embeddings in %s", path)
            return np.load(path)
        vectors = embed_documents(texts, model)
        buffer = io.BytesIO()
        np.save(buffer, vectors)
        atomic_write_bytes(path, buffer.getvalue())
        for stale in self.run.path.glob("chunk_embeddings.*.npy"):
            if stale != path:
                stale.unlink()
        return vectors

    def _stage_retrieval(self) -> StageOutcome:
        from kgc.stages.retrieval import retrieve

        contexts = retrieve(self.seeds(), self.chunks(), self.cfg.retrieval)
        write_jsonl(self.run / "contexts.jsonl", contexts)
        empty = sum(1 for c in contexts if not c.chunk_ids)
        return StageOutcome(
            ["contexts.jsonl"], {"seeds_with_context": len(contexts) - empty, "seeds_without": empty}
        )

    def _stage_extraction(self) -> StageOutcome:
        from kgc.stages.extraction import chunk_tasks, extract, seed_tasks

        chunks = self.chunks()
        tasks = (
            seed_tasks(self.contexts(), chunks) if self.cfg.extraction.mode == "seed" else chunk_tasks(chunks)
        )
        result = extract(
            tasks,
            self.llm,
            self.cfg.relations,
            self.cfg.extraction,
            self.cfg.prompts_dir,
            self.cfg.retrieval.max_chars,
        )
        write_jsonl(self.run / "candidates.jsonl", result.candidates)
        self.run.write_json(
            "extraction_report.json", {"dropped": dict(result.dropped), "failed_tasks": result.failed_tasks}
        )
        counts = {
            "tasks": len(tasks),
            "candidates": len(result.candidates),
            "failed_tasks": len(result.failed_tasks),
        }
        counts.update({f"dropped_{k.replace(' ', '_')}": v for k, v in result.dropped.items()})
        return StageOutcome(
            ["candidates.jsonl", "extraction_report.json"], counts, complete=not result.failed_tasks
        )

    def _stage_fusion(self) -> StageOutcome:
        from kgc.stages.fusion import fuse, load_background

        cfg = self.cfg
        embed = None
        if cfg.fusion.embedding_merge:
            from kgc.embeddings import embed as embed_texts

            def embed(names: list[str]) -> Any:
                return embed_texts(names, model=cfg.seeds.embedding_model)

        llm = self.llm if (cfg.fusion.resolve_with_llm or cfg.fusion.infer_links) else None
        result = fuse(
            self.candidates(),
            cfg.relations,
            cfg.fusion,
            llm=llm,
            prompts_dir=cfg.prompts_dir,
            embed=embed,
            background=load_background(cfg.fusion.background_graph),
        )
        write_graph(result.graph, self.run.path)
        write_jsonl(self.run / "merges.jsonl", result.graph.merges)
        return StageOutcome([*GRAPH_FILES, "merges.jsonl"], dict(result.counts))

    # -- artifacts ------------------------------------------------------------------------------

    def documents(self) -> list[Document]:
        return read_jsonl(self.run / "documents.jsonl", Document)

    def chunks(self) -> list[Chunk]:
        return read_jsonl(self.run / "chunks.jsonl", Chunk)

    def seeds(self) -> list[Seed]:
        return read_jsonl(self.run / "seeds.jsonl", Seed)

    def contexts(self) -> list[SeedContext]:
        return read_jsonl(self.run / "contexts.jsonl", SeedContext)

    def candidates(self) -> list[Candidate]:
        return read_jsonl(self.run / "candidates.jsonl", Candidate)


def _default_llm_factory(cfg: KgcConfig) -> Callable[[RunDir], LLMClient]:
    def factory(run: RunDir) -> LLMClient:
        from kgc.llm.factory import make_backend

        backend = make_backend(cfg.llm, cfg.resolved_api_key())
        cache = run / "llm_cache.sqlite" if cfg.llm.cache else None
        return LLMClient(backend, cfg.llm, cache_path=cache, failures_path=run / "llm_failures.jsonl")

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
