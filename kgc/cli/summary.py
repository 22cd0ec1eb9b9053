"""`kgc summary`: what a run directory holds (stages, counts, timings, LLM usage), or with --flow
what each stage reads and writes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from kgc.artifacts import GRAPH, GRAPHML
from kgc.changes import describe_change
from kgc.cli.common import ConfigOpt, RunDirArg, app, console, guarded, load, make_console
from kgc.rundir import RunDir

if TYPE_CHECKING:
    from kgc.pipeline import Pipeline
    from kgc.rundir import Manifest


@app.command()
def summary(
    out: RunDirArg = Path("runs/latest"),
    flow: Annotated[
        bool,
        typer.Option(
            "--flow",
            help="Show the data flow instead: what each stage reads and writes, from its declaration.",
        ),
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Show what a run directory holds: stages, counts, timings, LLM usage.

    Example: kgc summary runs/demo

    Example (which stage reads and writes which file, for the run's configuration): kgc summary runs/demo --flow
    """

    def body() -> None:
        run = RunDir(out, create=False)
        if flow:
            from kgc.pipeline import Pipeline

            cfg = load(config) if config is not None else run.config() or load(None)
            make_console().print(flow_table(Pipeline(cfg, out)))
            return
        show_summary(out)

    guarded(False, body)


def flow_table(pipeline: Pipeline) -> Table:
    """One row per stage of the run: what it reads (artifacts, files named in the config, the corpus),
    what it writes, and whether it is up to date."""
    run = pipeline.run
    table = Table(title=f"data flow of {run.path}", show_lines=True)
    for col in ("stage", "reads", "writes", "config", "state"):
        table.add_column(col)
    records = run.manifest().stages
    for stage in pipeline.stages:
        reads = [a.name for a in pipeline.inputs(stage)] + [f"the file in {key}" for key in stage.files]
        if stage.fingerprint is not None:
            reads.insert(0, "the corpus")
        config = ", ".join(stage.sections) + (" + LLM" if stage.uses_llm else "")
        rec = records.get(stage.name)
        state: str = "not run" if rec is None else rec.status
        if rec is not None and run.changed_outputs(rec):
            state += ", outputs changed since"
        cells = [stage.name, "\n".join(reads), "\n".join(a.name for a in stage.outputs), config, state]
        table.add_row(*(Text(c) for c in cells))  # plain text: no rich markup in file names
    return table


def show_summary(run_dir: Path, ran: Sequence[str] | None = None, waited: str = "") -> None:
    """The run directory's stages as a table, then its headline. `ran`: the stages the command that
    just finished ran (the headline then says what it did); `waited`: whom it waited for first."""
    manifest = RunDir(run_dir).manifest()
    table = Table(title=f"kgc run {run_dir}", show_lines=False)
    for col in ("stage", "status", "seconds", "counts", "LLM requests", "cache hits", "tokens"):
        table.add_column(col)
    for name, rec in manifest.stages.items():
        counts = ", ".join(f"{k} {v}" for k, v in rec.counts.items())
        llm = rec.llm
        table.add_row(
            name,
            f"{rec.status} ({rec.failed} failed)" if rec.failed else rec.status,
            f"{rec.seconds:.1f}",
            counts,
            str(int(llm.get("requests", 0))) if llm else "",
            str(int(llm.get("cache_hits", 0))) if llm else "",
            str(int(llm.get("prompt_tokens", 0) + llm.get("completion_tokens", 0))) if llm else "",
        )
    out = make_console()
    out.print(table)
    line = headline(manifest, ran, where=run_dir)
    out.print(f"waited {waited}; {line}" if waited else line, soft_wrap=True, highlight=False)
    if (run_dir / GRAPHML.name).is_file():
        console.print(f"graph: {run_dir / GRAPHML.name} and {run_dir / GRAPH.name}")


def headline(manifest: Manifest, ran: Sequence[str] | None = None, where: Path | None = None) -> str:
    """The run in one line: what went in, what came out, what the LLM cost, how long it took.

    `ran`: the stages a command just ran; the LLM requests, tokens and seconds are then theirs (what
    this command did, not what earlier ones paid), and with none "nothing new" and where the run is.
    None: the totals of every stage recorded (`kgc summary`)."""
    stages = manifest.stages

    def count(key: str) -> str:
        """The count `key` of the first stage that reports it (documents, seeds, entities...)."""
        found = next((rec.counts[key] for rec in stages.values() if key in rec.counts), None)
        return "-" if found is None else f"{found:,}"

    graph = (
        f"{count('documents')} documents -> {count('seeds')} seeds -> "
        f"{count('candidates')} candidates -> {count('entities')} entities, "
        f"{count('relations')} relations ({count('merges')} merges)"
    )
    if ran is not None and not ran:
        place = f" in {where}" if where is not None else ""
        return f"nothing new: every stage was up to date, no LLM request; {graph}{place}"
    done = list(stages.values()) if ran is None else [stages[name] for name in ran if name in stages]
    requests = sum(int(rec.llm.get("requests", 0)) for rec in done)
    tokens = sum(int(rec.llm.get("total_tokens", 0)) for rec in done)
    seconds = sum(rec.seconds for rec in done)
    # The stage that reads the corpus: its counts say what changed, when it ran.
    first = next(iter(stages), None)
    changes = stages[first].counts if first is not None and (ran is None or first in ran) else {}
    update = ""
    if any(changes.get(k) for k in ("added", "changed", "removed")):
        update = f"update: {describe_change(changes)}; "
    reused = [name for name in stages if ran is not None and name not in ran]
    up_to_date = f"; not run now: {', '.join(reused)}" if reused else ""
    return update + f"{graph}; {requests:,} LLM requests, {tokens:,} tokens; {seconds:,.0f} s{up_to_date}"
