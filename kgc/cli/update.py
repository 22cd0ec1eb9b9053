"""`kgc remove`: take documents out of a finished run, without its source files."""

from __future__ import annotations

from typing import Annotated

import typer

from kgc.cli.common import ConfigOpt, RunDirArg, VerboseOpt, WaitOpt, app, console, guarded, load
from kgc.cli.run import RUNS_HELP
from kgc.cli.summary import show_summary


@app.command(epilog=RUNS_HELP)
def remove(
    run_dir: RunDirArg,
    doc_ids: Annotated[
        list[str], typer.Argument(help="Ids of the documents to remove (see documents.jsonl).")
    ],
    config: ConfigOpt = None,
    wait: WaitOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Remove documents from a run: their candidates are withdrawn (no extraction call) and the graph
    is fused again; relations no other document supports disappear. A later `kgc build` of a corpus
    that still holds them skips them. The configuration is the one the run recorded
    (RUN_DIR/config.json) unless --config is given: another model or prompt would pay every
    extraction call again.

    Example: kgc remove runs/mine doc-17 doc-42
    """

    def body() -> None:
        from kgc.pipeline import Pipeline
        from kgc.rundir import RunDir
        from kgc.update import remove_from

        recorded = RunDir(run_dir, create=False).config() if config is None else None
        cfg = recorded if recorded is not None else load(config)
        with Pipeline(cfg, run_dir, reread_corpus=False, wait=wait) as pipeline:
            change = remove_from(pipeline, doc_ids)
        # What this command ran and paid, not the run's totals (`kgc summary` has those).
        show_summary(run_dir, ran=pipeline.ran, waited=pipeline.lock.waited)
        console.print(describe_removal(change.removed, doc_ids), highlight=False)

    guarded(verbose, body)


def describe_removal(removed: list[str], asked: list[str]) -> str:
    """What `kgc remove` did: the documents it took out now, and those asked for that an earlier
    removal (perhaps a run stopped half-way, which this one finished) had taken out already."""
    gone = set(removed)
    already = [i for i in dict.fromkeys(asked) if i not in gone]
    parts = []
    if removed:
        parts.append(f"removed {_documents(removed)}")
    if already:
        parts.append(f"{_documents(already)} had been removed already")
    return "; ".join(parts) if removed else f"nothing removed: {parts[0]}"


def _documents(ids: list[str], shown: int = 5) -> str:
    more = f" and {len(ids) - shown:,} more" if len(ids) > shown else ""
    return f"{len(ids):,} document{'s' if len(ids) != 1 else ''} ({', '.join(ids[:shown])}{more})"
