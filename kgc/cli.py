"""The `kgc` command: a thin layer over `kgc.pipeline` and the exporters.

Every KgcError becomes a one-line message and exit code 1; tracebacks only with --verbose.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, get_type_hints

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from kgc import __version__
from kgc.config import DEMO_CORPUS, REPO_ROOT, KgcConfig, load_config
from kgc.errors import KgcError

if TYPE_CHECKING:
    from kgc.rundir import Manifest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # models are local files; never wait for the hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # transformers' "Loading weights" bar, every load

app = typer.Typer(
    help="Build a knowledge graph from a text corpus with LLMs: seeds -> extraction -> fusion.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
export_app = typer.Typer(
    help="Write a finished graph somewhere else (GraphML file, Neo4j).", no_args_is_help=True
)
app.add_typer(export_app, name="export")


def _console(stderr: bool = False) -> Console:
    """A rich console; written to a file or pipe it is 160 columns wide, not rich's 80, so log lines
    and the summary table are not wrapped cell by cell."""
    out = Console(stderr=stderr)
    if not out.is_terminal:
        out.width = 160
    return out


console = _console(stderr=True)
log = logging.getLogger("kgc")

# Options shared by the commands that run stages.
ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="TOML config file (see README).")]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Run directory: artifacts, manifest, LLM cache.")]
DryRunOpt = Annotated[
    bool,
    typer.Option("--dry-run", help="Show the resolved config and the LLM requests/tokens it would need."),
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Debug logs and tracebacks.")]
KnownCorpusArg = Annotated[
    Path | None, typer.Argument(help="The corpus (not needed once the run has read it).")
]


@dataclass(frozen=True)
class Overrides:
    """The options that override one config key each; None (the option not given) keeps the config's value.

    Declared here once: a command takes the ones `@_with_overrides` names as one `overrides` parameter.
    """

    backend: Annotated[str | None, typer.Option(help="LLM backend: 'embedded' (offline) or 'openai'.")] = None
    model: Annotated[str | None, typer.Option(help="Model name sent to the server.")] = None
    base_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible endpoint (default $OPENAI_BASE_URL).")
    ] = None
    mode: Annotated[
        str | None, typer.Option(help="Extraction: 'seed' (per seed) or 'document' (per chunk).")
    ] = None
    seeds_file: Annotated[
        Path | None, typer.Option(help="Text file with one seed per line, added to the topic seeds.")
    ] = None
    concurrency: Annotated[int | None, typer.Option(help="Concurrent LLM requests.")] = None
    max_tokens: Annotated[
        int | None, typer.Option(help="Stop cleanly after this many LLM tokens (resumable).")
    ] = None
    max_cost: Annotated[
        float | None,
        typer.Option(help="Stop cleanly at this cost (needs llm.prices)."),
    ] = None

    def config_overrides(self) -> dict[str, Any]:
        """The given options as `load_config` overrides (dotted keys); reads the seeds file."""
        overrides: dict[str, Any] = {
            "llm.backend": self.backend,
            "llm.model": self.model,
            "llm.base_url": self.base_url,
            "extraction.mode": self.mode,
            "llm.concurrency": self.concurrency,
            "llm.max_tokens_total": self.max_tokens,
            "llm.max_cost": self.max_cost,
        }
        if self.seeds_file is not None:
            try:
                lines = self.seeds_file.read_text(encoding="utf-8").splitlines()
            except OSError as e:
                raise KgcError(f"cannot read seeds file {self.seeds_file}: {e.strerror or e}") from e
            overrides["seeds.user_seeds"] = [s.strip() for s in lines if s.strip() and not s.startswith("#")]
        return {k: v for k, v in overrides.items() if v is not None}  # unset options


NO_OVERRIDES = Overrides()
# Groups of Overrides fields, in the order the commands list them.
SERVER_OPTIONS = ("backend", "model", "base_url")
BUDGET_OPTIONS = ("concurrency", "max_tokens", "max_cost")
_OVERRIDE_OPTIONS: dict[str, Any] = get_type_hints(Overrides, include_extras=True)


def _with_overrides(*names: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command the Overrides options `names`, in this order, in place of its `overrides` parameter.

    Typer reads a command's options from its signature: the returned command's signature lists the
    options, and it calls the decorated function with their values gathered into one Overrides.
    """
    options = [
        inspect.Parameter(
            name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=_OVERRIDE_OPTIONS[name]
        )
        for name in names
    ]

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        signature = inspect.signature(command, eval_str=True)
        params = list(signature.parameters.values())
        at = [p.name for p in params].index("overrides")

        @functools.wraps(command)
        def with_options(**kwargs: Any) -> None:
            given = {name: kwargs.pop(name) for name in names}
            command(**kwargs, overrides=Overrides(**given))

        with_options.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[*params[:at], *options, *params[at + 1 :]]
        )
        return with_options

    return decorate


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=verbose, show_time=False, markup=False)],
        force=True,
    )
    # httpx2: the HTTP client of recent openai releases, which logs every request at INFO.
    noisy_loggers = (
        "httpx",
        "httpx2",
        "httpcore",
        "urllib3",
        "sentence_transformers",
        "BERTopic",
        "numba",
        "filelock",
    )
    for noisy in noisy_loggers:
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _guarded(verbose: bool, fn: Callable[[], Any]) -> Any:
    """Run a command body: KgcError -> clear message + exit 1."""
    _setup_logging(verbose)
    try:
        return fn()
    except KgcError as e:
        if verbose:
            console.print_exception()
        console.print(f"[bold red]error:[/] {e}", soft_wrap=True, highlight=False)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]: finished stages and LLM answers are saved; rerun to resume")
        raise typer.Exit(130) from None


def _config(config: Path | None, overrides: Overrides = NO_OVERRIDES) -> KgcConfig:
    return load_config(config, overrides.config_overrides())


def _summary(run_dir: Path) -> None:
    from kgc.rundir import RunDir

    manifest = RunDir(run_dir).manifest()
    table = Table(title=f"kgc run {run_dir}", show_lines=False)
    for col in ("stage", "status", "seconds", "counts", "LLM requests", "cache hits", "tokens"):
        table.add_column(col)
    for name, rec in manifest.stages.items():
        counts = ", ".join(f"{k} {v}" for k, v in rec.counts.items())
        llm = rec.llm
        table.add_row(
            name,
            rec.status,
            f"{rec.seconds:.1f}",
            counts,
            str(int(llm.get("requests", 0))) if llm else "",
            str(int(llm.get("cache_hits", 0))) if llm else "",
            str(int(llm.get("prompt_tokens", 0) + llm.get("completion_tokens", 0))) if llm else "",
        )
    out = _console()
    out.print(table)
    out.print(_headline(manifest), soft_wrap=True, highlight=False)
    graph = run_dir / "graph.graphml"
    if graph.is_file():
        console.print(f"graph: {graph} and {run_dir / 'graph.json'}")


def _headline(manifest: Manifest) -> str:
    """The run in one line: what went in, what came out, what the LLM cost, how long it took."""
    stages = manifest.stages

    def count(stage: str, key: str) -> str:
        rec = stages.get(stage)
        return f"{rec.counts[key]:,}" if rec is not None and key in rec.counts else "-"

    requests = sum(int(rec.llm.get("requests", 0)) for rec in stages.values())
    tokens = sum(int(rec.llm.get("total_tokens", 0)) for rec in stages.values())
    seconds = sum(rec.seconds for rec in stages.values())
    return (
        f"{count('corpus', 'documents')} documents -> {count('seeds', 'seeds')} seeds -> "
        f"{count('extraction', 'candidates')} candidates -> {count('fusion', 'entities')} entities, "
        f"{count('fusion', 'relations')} relations ({count('fusion', 'merges')} merges); "
        f"{requests:,} LLM requests, {tokens:,} tokens; {seconds:,.0f} s"
    )


def _run(corpus: Path | None, out: Path, cfg: KgcConfig, until: str, dry_run: bool) -> None:
    from kgc.pipeline import Pipeline

    pipeline = Pipeline(cfg, out, corpus=corpus)
    if dry_run:
        from kgc.estimate import estimate

        stdout = _console()
        stdout.print_json(json.dumps(cfg.redacted(), default=str))
        stdout.print_json(estimate(pipeline).model_dump_json())
        return
    pipeline.run_until(until)
    _summary(out)


@app.command()
@_with_overrides(*SERVER_OPTIONS, "mode", "seeds_file", *BUDGET_OPTIONS)
def build(
    corpus: Annotated[
        Path, typer.Argument(help="Folder of .txt/.md, a .jsonl/.csv, or one document per line.")
    ],
    out: OutOpt = Path("runs/latest"),
    config: ConfigOpt = None,
    overrides: Overrides = NO_OVERRIDES,
    dry_run: DryRunOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Run the whole pipeline (resuming whatever the run directory already has) and write the graph."""
    _guarded(verbose, lambda: _run(corpus, out, _config(config, overrides), "fusion", dry_run))


@app.command()
@_with_overrides("seeds_file")
def seeds(
    corpus: KnownCorpusArg = None,
    out: OutOpt = Path("runs/latest"),
    config: ConfigOpt = None,
    overrides: Overrides = NO_OVERRIDES,
    verbose: VerboseOpt = False,
) -> None:
    """Stage 1: read the corpus and pick seed entities by topic modeling (writes seeds.jsonl, topics.json)."""
    _guarded(verbose, lambda: _run(corpus, out, _config(config, overrides), "seeds", False))


@app.command()
@_with_overrides(*SERVER_OPTIONS, "mode", *BUDGET_OPTIONS)
def extract(
    corpus: KnownCorpusArg = None,
    out: OutOpt = Path("runs/latest"),
    config: ConfigOpt = None,
    overrides: Overrides = NO_OVERRIDES,
    dry_run: DryRunOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Stage 2: extract candidate triplets with the LLM (writes candidates.jsonl)."""
    _guarded(verbose, lambda: _run(corpus, out, _config(config, overrides), "extraction", dry_run))


@app.command()
@_with_overrides(*SERVER_OPTIONS, *BUDGET_OPTIONS)
def fuse(
    out: OutOpt = Path("runs/latest"),
    config: ConfigOpt = None,
    overrides: Overrides = NO_OVERRIDES,
    verbose: VerboseOpt = False,
) -> None:
    """Stage 3: merge entities, resolve conflicts, infer links; write graph.json/graph.graphml."""
    _guarded(verbose, lambda: _run(None, out, _config(config, overrides), "fusion", False))


@app.command()
@_with_overrides("backend", "base_url", "model")
def demo(
    out: OutOpt = Path("runs/demo"),
    overrides: Overrides = NO_OVERRIDES,
    verbose: VerboseOpt = False,
) -> None:
    """Build a graph from the bundled NLP corpus, offline, with the embedded model (a few minutes)."""
    demo_config = REPO_ROOT / "data" / "demo" / "kgc.toml"
    config = demo_config if demo_config.is_file() else None
    _guarded(verbose, lambda: _run(DEMO_CORPUS, out, _config(config, overrides), "fusion", False))


@app.command()
def summary(
    out: Annotated[Path, typer.Argument(help="Run directory.")] = Path("runs/latest"),
) -> None:
    """Show what a run directory holds: stages, counts, timings, LLM usage."""
    _guarded(False, lambda: _summary(out))


@export_app.command("graphml")
def export_graphml(
    run_dir: Annotated[Path, typer.Argument(help="Run directory with graph.json.")],
    dest: Annotated[Path, typer.Argument(help="GraphML file to write.")],
) -> None:
    """Write the run's graph as GraphML (Gephi, yEd, networkx)."""

    def body() -> None:
        from kgc.export.graph_files import graphml_text, read_graph
        from kgc.rundir import atomic_write_text

        atomic_write_text(dest, graphml_text(read_graph(run_dir)))
        console.print(f"wrote {dest}")

    _guarded(False, body)


@export_app.command("neo4j")
def export_neo4j(
    run_dir: Annotated[Path, typer.Argument(help="Run directory with graph.json.")],
    uri: Annotated[
        str | None, typer.Option(help="Bolt URI (default $NEO4J_URI or neo4j://localhost:7687).")
    ] = None,
    user: Annotated[str | None, typer.Option(help="User (default $NEO4J_USER or neo4j).")] = None,
    database: Annotated[
        str | None, typer.Option(help="Database (default $NEO4J_DATABASE or the home one).")
    ] = None,
    label: Annotated[str, typer.Option(help="Node label of the entities.")] = "Entity",
    batch_size: Annotated[int, typer.Option(help="Rows per transaction.")] = 5000,
    prune: Annotated[
        bool,
        typer.Option("--prune", help="Delete what an earlier kgc export wrote and this graph no longer has."),
    ] = False,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Write the run's graph to Neo4j (batched MERGE: re-running updates in place, never duplicates).

    The password is read from $NEO4J_PASSWORD only, so it stays out of shell history.
    """

    def body() -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        from kgc.export.graph_files import read_graph
        from kgc.export.neo4j import Neo4jCredentials, connect, export_graph

        cfg = _config(config)
        graph = read_graph(run_dir)
        creds = Neo4jCredentials.from_env(uri=uri, user=user, database=database)
        columns = (TextColumn("writing to Neo4j"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with (
            connect(creds.uri, creds.user, creds.password.get_secret_value(), creds.database) as target,
            Progress(*columns, console=console) as progress,
        ):
            task = progress.add_task("batches", total=None)
            stats = export_graph(
                graph,
                target,
                schema=cfg.relations,
                label=label,
                batch_size=batch_size,
                prune=prune,
                checkpoint=run_dir / "neo4j_export.checkpoint.json",
                on_progress=lambda p: progress.update(task, completed=p.batches_done, total=p.batches_total),
            )
        console.print(
            f"Neo4j {creds.uri} database {stats.database}: {stats.nodes_written} nodes and "
            f"{stats.relationships_written} relationships written in {stats.seconds:.1f}s"
            + (
                f", {stats.nodes_deleted} nodes and {stats.relationships_deleted} relationships pruned"
                if prune
                else ""
            )
        )

    _guarded(verbose, body)


def version_callback(value: bool) -> None:
    if value:
        print(f"kgc {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=version_callback, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """kgc: a knowledge graph from a text corpus."""


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
