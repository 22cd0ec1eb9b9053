"""`kgc remove`: take documents out of a finished run, without its source files."""

from __future__ import annotations

from typing import Annotated

import typer

from kgc.cli.common import (
    BackendOpt,
    BaseUrlOpt,
    ConfigOpt,
    ModelOpt,
    RunDirArg,
    VerboseOpt,
    app,
    console,
    guarded,
    load,
)
from kgc.cli.run import RUNS_HELP, show_summary


@app.command(epilog=RUNS_HELP)
def remove(
    run_dir: RunDirArg,
    doc_ids: Annotated[
        list[str], typer.Argument(help="Ids of the documents to remove (see documents.jsonl).")
    ],
    config: ConfigOpt = None,
    backend: BackendOpt = None,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Remove documents from a run: their candidates are withdrawn (no extraction call) and the graph
    is fused again; relations no other document supports disappear. A later `kgc build` of a corpus
    that still holds them skips them. Use the config and model of the build.

    Example: kgc remove runs/mine doc-17 doc-42
    """

    def body() -> None:
        from kgc.changes import describe_change
        from kgc.update import remove_documents

        cfg = load(config, llm__backend=backend, llm__model=model, llm__base_url=base_url)
        change = remove_documents(cfg, run_dir, doc_ids)
        show_summary(run_dir)
        console.print(f"removed: {describe_change(change.counts())}", highlight=False)

    guarded(verbose, body)
