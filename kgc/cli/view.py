"""The commands that show a run: view (the interactive graph) and report (the run in figures)."""

from __future__ import annotations

import webbrowser
from pathlib import Path
from typing import Annotated

import typer

from kgc.cli.common import ConfigOpt, RunDirArg, VerboseOpt, app, console, guarded, load
from kgc.config import KgcConfig

PageOutOpt = Annotated[
    Path | None, typer.Option("--out", "-o", help="The HTML file to write (default: in the run directory).")
]


def undirected_relations(cfg: KgcConfig) -> set[str]:
    return {t.name for t in cfg.relations.types if not t.directed}


def write_pages(run_dir: Path, cfg: KgcConfig) -> tuple[Path, Path]:
    """graph.html and report.html in the run directory (the end of a build)."""
    from kgc.view import write_report, write_view

    view_path = write_view(run_dir, undirected=undirected_relations(cfg))
    return view_path, write_report(run_dir)


@app.command()
def view(
    run_dir: RunDirArg = Path("runs/latest"),
    out: PageOutOpt = None,
    open_page: Annotated[bool, typer.Option("--open", help="Open the page in the default browser.")] = False,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Write the graph as one interactive HTML page that works offline (RUN_DIR/graph.html by default):
    search, filters, and each entity's aliases, merges and evidence with document ids.

    Example: kgc view runs/demo --open
    """

    def body() -> None:
        from kgc.view import write_view

        path = write_view(run_dir, out, undirected=undirected_relations(load(config)))
        console.print(f"view: {path}", soft_wrap=True, highlight=False)
        if open_page:
            webbrowser.open(path.resolve().as_uri())

    guarded(verbose, body)


@app.command()
def report(
    run_dir: RunDirArg = Path("runs/latest"), out: PageOutOpt = None, verbose: VerboseOpt = False
) -> None:
    """Write an HTML report of a run (RUN_DIR/report.html by default): counts per stage, relation types,
    degrees, top entities, merges by reason, LLM usage, time and memory, and `kgc eval` figures.

    Example: kgc report runs/demo --out demo-report.html
    """

    def body() -> None:
        from kgc.view import write_report

        console.print(f"report: {write_report(run_dir, out)}", soft_wrap=True, highlight=False)

    guarded(verbose, body)
