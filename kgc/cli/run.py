"""The commands that run stages: build, seeds, extract, fuse, demo, and summary to look at a run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from kgc.changes import describe_change
from kgc.cli.common import (
    EXIT_INCOMPLETE,
    BackendOpt,
    BaseUrlOpt,
    ConcurrencyOpt,
    ConfigOpt,
    DeadlineOpt,
    DryRunOpt,
    ExecutorOpt,
    MaxCostOpt,
    MaxTokensOpt,
    ModelOpt,
    ModeOpt,
    OutOpt,
    RayAddressOpt,
    RunDirArg,
    SeedsFileOpt,
    VerboseOpt,
    app,
    console,
    guarded,
    load,
    make_console,
    read_seeds_file,
)
from kgc.cli.view import write_pages
from kgc.config import KgcConfig
from kgc.errors import KgcError

if TYPE_CHECKING:
    from kgc.rundir import Manifest

KnownCorpusArg = Annotated[
    Path | None, typer.Argument(help="The corpus (not needed once the run has read it).")
]
RUNS_HELP = (
    "Exit codes: 0 done; 1 error (message on stderr); "
    f"{EXIT_INCOMPLETE} finished but some items failed (the same command retries only those)."
)


def _llm_options(
    backend: str | None,
    model: str | None,
    base_url: str | None,
    concurrency: int | None,
    max_tokens: int | None,
    max_cost: float | None,
    deadline: float | None,
) -> dict[str, Any]:
    """The LLM options every command that calls the LLM takes, as `load` overrides."""
    return {
        "llm__backend": backend,
        "llm__model": model,
        "llm__base_url": base_url,
        "llm__concurrency": concurrency,
        "llm__max_tokens_total": max_tokens,
        "llm__max_cost": max_cost,
        "llm__deadline_seconds": deadline,
    }


def _seeds(seeds_file: Path | None) -> list[str] | None:
    return read_seeds_file(seeds_file) if seeds_file is not None else None


def _run(corpus: Path | None, out: Path, cfg: KgcConfig, until: str, dry_run: bool) -> None:
    from kgc.pipeline import Pipeline, describe
    from kgc.stages.corpus import check_corpus_path

    if corpus is not None:
        check_corpus_path(corpus)  # before the run directory is created
    pipeline = Pipeline(cfg, out, corpus=corpus)
    if dry_run:
        from kgc.estimate import estimate

        stdout = make_console()
        stdout.print_json(json.dumps(cfg.redacted(), default=str))
        stdout.print_json(estimate(pipeline).model_dump_json())
        return
    pipeline.run_until(until)
    show_summary(out)
    if until == "fusion":
        view_path, report_path = write_pages(out, cfg)
        console.print(f"view: {view_path}\nreport: {report_path}", soft_wrap=True, highlight=False)
    failed = pipeline.failed_items()
    if failed:
        console.print(
            f"[yellow]incomplete[/]: {describe(failed)}; run the same command again to retry only those "
            f"(exit code {EXIT_INCOMPLETE})",
            soft_wrap=True,
            highlight=False,
        )
        raise typer.Exit(EXIT_INCOMPLETE)


@app.command(epilog=RUNS_HELP)
def build(
    corpus: Annotated[
        Path, typer.Argument(help="Folder of .txt/.md, a .jsonl/.csv, or one document per line.")
    ],
    out: OutOpt = Path("runs/latest"),
    config: ConfigOpt = None,
    backend: BackendOpt = None,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    mode: ModeOpt = None,
    seeds_file: SeedsFileOpt = None,
    concurrency: ConcurrencyOpt = None,
    executor: ExecutorOpt = None,
    ray_address: RayAddressOpt = None,
    max_tokens: MaxTokensOpt = None,
    max_cost: MaxCostOpt = None,
    deadline: DeadlineOpt = None,
    refit_seeds: Annotated[
        bool,
        typer.Option(
            "--refit-seeds",
            help="Seed mode, on a changed corpus: fit the seeds anew instead of keeping them "
            "(most extraction calls are then paid again).",
        ),
    ] = False,
    dry_run: DryRunOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Run the whole pipeline (resuming whatever the run directory already has) and write the graph.

    Run it again on a changed corpus with the same --out to update the graph: only new and changed
    documents are read by the LLM, removed ones are withdrawn, and the summary says what changed.

    Example: kgc build my_corpus/ --out runs/mine --backend openai --model gpt-4o-mini

    Example (requests as tasks on the Ray cluster of this node): kgc build my_corpus/ --out runs/mine
    --backend openai --executor ray --ray-address auto
    """

    def body() -> None:
        llm = _llm_options(backend, model, base_url, concurrency, max_tokens, max_cost, deadline)
        cfg = load(
            config,
            **llm,
            extraction__mode=mode,
            llm__executor=executor,
            llm__ray_address=ray_address,
            seeds__user_seeds=_seeds(seeds_file),
            seeds__keep_on_update=False if refit_seeds else None,
        )
        _run(corpus, out, cfg, "fusion", dry_run)

    guarded(verbose, body)


@app.command(epilog=RUNS_HELP)
def seeds(
    corpus: KnownCorpusArg = None,
    out: OutOpt = Path("runs/latest"),
    config: ConfigOpt = None,
    seeds_file: SeedsFileOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Stage 1: read the corpus and pick seed entities by topic modeling (writes seeds.jsonl, topics.json).

    Example: kgc seeds my_corpus/ --out runs/mine
    """
    guarded(
        verbose,
        lambda: _run(corpus, out, load(config, seeds__user_seeds=_seeds(seeds_file)), "seeds", False),
    )


@app.command(epilog=RUNS_HELP)
def extract(
    corpus: KnownCorpusArg = None,
    out: OutOpt = Path("runs/latest"),
    config: ConfigOpt = None,
    backend: BackendOpt = None,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    mode: ModeOpt = None,
    concurrency: ConcurrencyOpt = None,
    executor: ExecutorOpt = None,
    ray_address: RayAddressOpt = None,
    max_tokens: MaxTokensOpt = None,
    max_cost: MaxCostOpt = None,
    deadline: DeadlineOpt = None,
    dry_run: DryRunOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Stage 2: extract candidate triplets with the LLM (writes candidates.jsonl).

    Example: kgc extract --out runs/mine --backend openai --model gpt-4o-mini
    """

    def body() -> None:
        llm = _llm_options(backend, model, base_url, concurrency, max_tokens, max_cost, deadline)
        cfg = load(config, **llm, extraction__mode=mode, llm__executor=executor, llm__ray_address=ray_address)
        _run(corpus, out, cfg, "extraction", dry_run)

    guarded(verbose, body)


@app.command(epilog=RUNS_HELP)
def fuse(
    out: OutOpt = Path("runs/latest"),
    config: ConfigOpt = None,
    backend: BackendOpt = None,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    concurrency: ConcurrencyOpt = None,
    max_tokens: MaxTokensOpt = None,
    max_cost: MaxCostOpt = None,
    deadline: DeadlineOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Stage 3: merge entities, resolve conflicts, infer links; write graph.json/graph.graphml.

    Example: kgc fuse --out runs/mine
    """

    def body() -> None:
        llm = _llm_options(backend, model, base_url, concurrency, max_tokens, max_cost, deadline)
        _run(None, out, load(config, **llm), "fusion", False)

    guarded(verbose, body)


@app.command(epilog=RUNS_HELP)
def demo(
    out: OutOpt = Path("runs/demo"),
    backend: BackendOpt = None,
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    dry_run: DryRunOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Build a graph from the bundled NLP corpus, offline, with the embedded model (a few minutes).

    Example: kgc demo --out runs/demo
    """
    from kgc.resources import demo_corpus, demo_dir

    def body() -> None:
        cfg = load(demo_dir() / "kgc.toml", llm__backend=backend, llm__base_url=base_url, llm__model=model)
        _run(demo_corpus(), out, cfg, "fusion", dry_run)

    guarded(verbose, body)


@app.command()
def summary(out: RunDirArg = Path("runs/latest")) -> None:
    """Show what a run directory holds: stages, counts, timings, LLM usage.

    Example: kgc summary runs/demo
    """

    def body() -> None:
        if not (out / "manifest.json").is_file():
            raise KgcError(f"{out} is not a kgc run directory (no manifest.json)")
        show_summary(out)

    guarded(False, body)


def show_summary(run_dir: Path) -> None:
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
            f"{rec.status} ({rec.failed} failed)" if rec.failed else rec.status,
            f"{rec.seconds:.1f}",
            counts,
            str(int(llm.get("requests", 0))) if llm else "",
            str(int(llm.get("cache_hits", 0))) if llm else "",
            str(int(llm.get("prompt_tokens", 0) + llm.get("completion_tokens", 0))) if llm else "",
        )
    out = make_console()
    out.print(table)
    out.print(headline(manifest), soft_wrap=True, highlight=False)
    graph = run_dir / "graph.graphml"
    if graph.is_file():
        console.print(f"graph: {graph} and {run_dir / 'graph.json'}")


def headline(manifest: Manifest) -> str:
    """The run in one line: what went in, what came out, what the LLM cost, how long it took."""
    stages = manifest.stages

    def count(stage: str, key: str) -> str:
        rec = stages.get(stage)
        return f"{rec.counts[key]:,}" if rec is not None and key in rec.counts else "-"

    requests = sum(int(rec.llm.get("requests", 0)) for rec in stages.values())
    tokens = sum(int(rec.llm.get("total_tokens", 0)) for rec in stages.values())
    seconds = sum(rec.seconds for rec in stages.values())
    corpus = stages.get("corpus")
    update = ""
    if corpus is not None and any(corpus.counts.get(k) for k in ("added", "changed", "removed")):
        update = f"update: {describe_change(corpus.counts)}; "
    return update + (
        f"{count('corpus', 'documents')} documents -> {count('seeds', 'seeds')} seeds -> "
        f"{count('extraction', 'candidates')} candidates -> {count('fusion', 'entities')} entities, "
        f"{count('fusion', 'relations')} relations ({count('fusion', 'merges')} merges); "
        f"{requests:,} LLM requests, {tokens:,} tokens; {seconds:,.0f} s"
    )
