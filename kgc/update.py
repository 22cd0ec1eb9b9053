"""Removing documents from a finished run without its source files (`kgc remove`).

The ids join the run's REMOVED list, an input of the corpus stage; the pipeline then runs as for any
update, the corpus stage starting from the documents the run already holds (it never reads the
source files here): it drops the removed documents and their chunks and logs the change, extraction
drops the units that read them without a call, fusion re-fuses what is left (its LLM calls are
cached by prompt), and any stage after fusion follows. A later `kgc build` of a corpus that still
holds the ids skips them.
"""

from __future__ import annotations

from pathlib import Path

from kgc.artifacts import DOCUMENTS, REMOVED
from kgc.changes import CorpusChange, diff_documents
from kgc.config import KgcConfig
from kgc.errors import CorpusError, KgcError
from kgc.pipeline import LLMFactory, Pipeline
from kgc.rundir import RunDir


def remove_documents(
    cfg: KgcConfig,
    run_dir: str | Path,
    doc_ids: list[str],
    *,
    llm_factory: LLMFactory | None = None,
    wait: bool = False,
) -> CorpusChange:
    """Take `doc_ids` out of the run in `run_dir` and re-run what depends on them.

    Safe to repeat (a run killed half-way is finished by the same command): ids already removed
    are accepted; an id the run never had is an error, and so is removing every document.
    """
    RunDir(run_dir, create=False)  # a run directory, not a new folder
    with Pipeline(cfg, run_dir, llm_factory=llm_factory, reread_corpus=False, wait=wait) as pipeline:
        return remove_from(pipeline, doc_ids)


def remove_from(pipeline: Pipeline, doc_ids: list[str]) -> CorpusChange:
    """`remove_documents` in a pipeline the caller holds (to report what it ran: `pipeline.ran`)."""
    run = pipeline.run
    documents = run.read_optional(DOCUMENTS)
    if documents is None:
        raise KgcError(f"{run.path} has no corpus yet: build it first")
    removed = run.removed()
    unknown = [i for i in doc_ids if i not in {d.id for d in documents} | set(removed)]
    if unknown:
        raise KgcError(f"no document {', '.join(map(repr, unknown[:5]))} in {run.path}")
    kept = [d for d in documents if d.id not in set(doc_ids)]
    if not kept:
        raise CorpusError("removing these documents would leave the run without any: build afresh instead")
    run.write(REMOVED, sorted(set(removed) | set(doc_ids)))
    pipeline.run_until()
    return diff_documents(documents, run.read(DOCUMENTS), how="remove")
