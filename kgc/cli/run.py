"""The commands that run stages: build, seeds, extract, fuse, demo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from kgc.cli.common import (
    EXIT_INCOMPLETE,
    BackendOpt,
    BaseUrlOpt,
    ConcurrencyOpt,
    ConfigOpt,
    DeadlineOpt,
    DryRunOpt,
    ExecutorOpt,
    LinkModeOpt,
    MaxCostOpt,
    MaxTokensOpt,
    ModelOpt,
    ModeOpt,
    OutOpt,
    RayAddressOpt,
    SeedsFileOpt,
    VerboseOpt,
    VocabBuildOpt,
    WaitOpt,
    app,
    console,
    guarded,
    load,
    make_console,
    read_seeds_file,
)
from kgc.cli.summary import show_summary
from kgc.cli.view import write_pages
from kgc.config import KgcConfig
from kgc.errors import KgcError

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
        "llm__limits__concurrency": concurrency,
        "llm__budget__max_tokens_total": max_tokens,
        "llm__budget__max_cost": max_cost,
        "llm__budget__deadline_seconds": deadline,
    }


def _seeds(seeds_file: Path | None) -> list[str] | None:
    return read_seeds_file(seeds_file) if seeds_file is not None else None


def _run(
    corpus: Path | None,
    out: Path,
    cfg: KgcConfig,
    until: str | None,
    dry_run: bool,
    wait: bool = False,
    rerun: str | None = None,
) -> None:
    """Run the stages up to `until` (None: all of them), redoing `rerun` and those after it, then show
    the summary and, when the run wrote a graph, its pages."""
    from kgc.pipeline import Pipeline, describe
    from kgc.stages.corpus import check_corpus_path

    if corpus is not None:
        check_corpus_path(corpus)  # before the run directory is created
    with Pipeline(cfg, out, corpus=corpus, wait=wait, rerun=rerun) as pipeline:
        if dry_run:
            from kgc.estimate import estimate

            stdout = make_console()
            stdout.print_json(json.dumps(pipeline.cfg.redacted(), default=str))
            stdout.print_json(estimate(pipeline).model_dump_json())
            return
        graph = pipeline.run_until(until)
        failed = pipeline.failed_items()
    show_summary(out, ran=pipeline.ran, waited=pipeline.lock.waited)
    if graph is not None:
        view_path, report_path = write_pages(out, cfg)
        console.print(f"view: {view_path}\nreport: {report_path}", soft_wrap=True, highlight=False)
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
    vocab: VocabBuildOpt = None,
    link_mode: LinkModeOpt = None,
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
    rerun: Annotated[
        str | None,
        typer.Option(
            "--rerun",
            metavar="STAGE",
            help="Redo this stage and every stage after it although they are up to date, e.g. "
            "extraction after upgrading kgc: what the LLM answered before comes from the run's cache "
            "(no request is paid again). Stages: corpus, seeds, retrieval, extraction, fusion, link "
            "(those the run has).",
        ),
    ] = None,
    dry_run: DryRunOpt = False,
    wait: WaitOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Run the whole pipeline (resuming whatever the run directory already has) and write the graph.

    Run it again on a changed corpus with the same --out to update the graph: only new and changed
    documents are read by the LLM, removed ones are withdrawn, and the summary says what changed.

    An upgraded kgc whose extraction rules changed redoes extraction by itself (from the LLM cache);
    --rerun STAGE redoes a stage on demand.

    Example: kgc build my_corpus/ --out runs/mine --backend openai --model gpt-4o-mini

    Example (each entity tied to a concept id, only the linked ones kept): kgc build my_corpus/ --out
    runs/mine --vocab data/vocabulary/nlp_concepts.csv --link-mode restrict

    Example (requests as tasks on the Ray cluster of this node): kgc build my_corpus/ --out runs/mine
    --backend openai --executor ray --ray-address auto

    Example (extraction and fusion again from the cached answers): kgc build my_corpus/ --out
    runs/mine --rerun extraction
    """

    def body() -> None:
        llm = _llm_options(backend, model, base_url, concurrency, max_tokens, max_cost, deadline)
        cfg = load(
            config,
            **llm,
            extraction__mode=mode,
            llm__executor=executor,
            llm__ray__address=ray_address,
            seeds__user_seeds=_seeds(seeds_file),
            seeds__keep_on_update=False if refit_seeds else None,
            link__vocabulary=vocab,
            link__mode=link_mode,
        )
        if link_mode is not None and cfg.link.vocabulary is None:
            raise KgcError("--link-mode needs a vocabulary: give --vocab (or link.vocabulary in the config)")
        _run(corpus, out, cfg, None, dry_run, wait, rerun)

    guarded(verbose, body)


@app.command(epilog=RUNS_HELP)
def seeds(
    corpus: KnownCorpusArg = None,
    out: OutOpt = Path("runs/latest"),
    config: ConfigOpt = None,
    seeds_file: SeedsFileOpt = None,
    wait: WaitOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Stage 1: read the corpus and pick seed entities by topic modeling (writes seeds.jsonl, topics.json).

    Example: kgc seeds my_corpus/ --out runs/mine
    """

    def body() -> None:
        from kgc.stages.seeds import STAGE

        _run(corpus, out, load(config, seeds__user_seeds=_seeds(seeds_file)), STAGE.name, False, wait)

    guarded(verbose, body)


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
    wait: WaitOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Stage 2: extract candidate triplets with the LLM (writes candidates.jsonl).

    Example: kgc extract --out runs/mine --backend openai --model gpt-4o-mini
    """

    def body() -> None:
        from kgc.stages.extraction import STAGE

        llm = _llm_options(backend, model, base_url, concurrency, max_tokens, max_cost, deadline)
        cfg = load(
            config, **llm, extraction__mode=mode, llm__executor=executor, llm__ray__address=ray_address
        )
        _run(corpus, out, cfg, STAGE.name, dry_run, wait)

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
    wait: WaitOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Stage 3: merge entities, resolve conflicts, infer links; write graph.json/graph.graphml.

    Example: kgc fuse --out runs/mine
    """

    def body() -> None:
        from kgc.stages.fusion.stage import STAGE

        llm = _llm_options(backend, model, base_url, concurrency, max_tokens, max_cost, deadline)
        _run(None, out, load(config, **llm), STAGE.name, False, wait)

    guarded(verbose, body)


@app.command(epilog=RUNS_HELP)
def demo(
    out: OutOpt = Path("runs/demo"),
    backend: BackendOpt = None,
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    dry_run: DryRunOpt = False,
    wait: WaitOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Build a graph from the bundled NLP corpus, offline, with the embedded model (a few minutes).

    Example: kgc demo --out runs/demo
    """
    from kgc.resources import demo_corpus, demo_dir

    def body() -> None:
        cfg = load(demo_dir() / "kgc.toml", llm__backend=backend, llm__base_url=base_url, llm__model=model)
        _run(demo_corpus(), out, cfg, None, dry_run, wait)

    guarded(verbose, body)
