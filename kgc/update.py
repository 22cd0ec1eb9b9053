"""Removing documents from a finished run without its source files (`kgc remove`).

The documents and their chunks leave the run's corpus artifacts, the ids are remembered in the
manifest (a later `kgc build` of a corpus that still has them skips them) and the stages after the
corpus are brought up to date: extraction drops the units that read the removed chunks without a
call, fusion re-fuses what is left (its LLM calls are cached by prompt).
"""

from __future__ import annotations

from pathlib import Path

from kgc.changes import CorpusChange, diff_documents, log_change
from kgc.config import KgcConfig
from kgc.errors import CorpusError, KgcError
from kgc.pipeline import LLMFactory, Pipeline
from kgc.rundir import RunDir, write_jsonl
from kgc.stages.corpus import corpus_fingerprint


def remove_documents(
    cfg: KgcConfig, run_dir: str | Path, doc_ids: list[str], *, llm_factory: LLMFactory | None = None
) -> CorpusChange:
    """Take `doc_ids` out of the run in `run_dir` and re-run what depends on them.

    Safe to repeat (a run killed half-way is finished by the same command): ids already removed
    are accepted; an id the run never had is an error, and so is removing every document.
    """
    run = RunDir(run_dir, create=False)
    if "corpus" not in run.manifest().stages:
        raise KgcError(f"{run.path} has no corpus yet: build it first")
    documents = run.documents()
    known = {d.id for d in documents} | set(run.manifest().removed)
    unknown = [i for i in doc_ids if i not in known]
    if unknown:
        raise KgcError(f"no document {', '.join(map(repr, unknown[:5]))} in {run.path}")
    gone = set(doc_ids)
    kept = [d for d in documents if d.id not in gone]
    if not kept:
        raise CorpusError("removing these documents would leave the run without any: build afresh instead")
    change = diff_documents(documents, kept, how="remove")
    source_unchanged = _source_unchanged(run)
    run.remember_removed(doc_ids)
    write_jsonl(run / "chunks.jsonl", [c for c in run.chunks() if c.doc_id not in gone])
    write_jsonl(run / "documents.jsonl", kept)
    log_change(run, change)
    _record_corpus(run, len(kept), len(change.removed), source_unchanged)
    pipeline = Pipeline(cfg, run.path, llm_factory=llm_factory)
    for stage in pipeline.stages[1:]:  # the corpus stage would read the source files
        pipeline.run_stage(stage)
    return change


def _source_unchanged(run: RunDir) -> bool:
    """Whether the source corpus is still there and as the corpus stage last read it."""
    manifest = run.manifest()
    if not manifest.corpus:
        return False
    try:
        return (
            corpus_fingerprint(Path(manifest.corpus), manifest.removed)
            == manifest.stages["corpus"].input_hash
        )
    except CorpusError:
        return False


def _record_corpus(run: RunDir, kept: int, removed: int, source_unchanged: bool) -> None:
    """The corpus stage's record after a removal: its counts, and a key that matches the source
    corpus minus the removed ids when that source is unchanged (else the next build re-reads it)."""
    manifest = run.manifest()
    rec = manifest.stages["corpus"].model_copy(deep=True)
    chunks = sum(1 for _ in run.chunks())
    rec.counts.update(documents=kept, chunks=chunks, added=0, changed=0, removed=removed)
    rec.input_hash = corpus_fingerprint(Path(manifest.corpus), manifest.removed) if source_unchanged else ""
    run.record("corpus", rec)
