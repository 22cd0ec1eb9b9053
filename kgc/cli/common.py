"""What every `kgc` command shares: the Typer apps, the console, logging, error handling, options.

Each command group lives in its own module of this package and registers itself on `app`.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.logging import RichHandler

from kgc.assets import use_local_models
from kgc.config import KgcConfig, load_config
from kgc.errors import DISK_FULL_HINT, DiskFullError, KgcError, is_disk_full

use_local_models()  # before any command imports a Hugging Face library

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

# Exit codes, documented in `kgc --help` epilogs and the README.
EXIT_ERROR = 1
EXIT_INCOMPLETE = 3  # the run finished but some items failed: the same command retries only those


def make_console(stderr: bool = False) -> Console:
    """A rich console; written to a file or pipe it is 160 columns wide, not rich's 80, so log lines
    and the summary table are not wrapped cell by cell."""
    out = Console(stderr=stderr)
    if not out.is_terminal:
        out.width = 160
    return out


console = make_console(stderr=True)
log = logging.getLogger("kgc")

# Options shared by several commands, declared once.
ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="TOML config file (see README).")]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Run directory: artifacts, manifest, LLM cache.")]
DryRunOpt = Annotated[
    bool,
    typer.Option("--dry-run", help="Show the resolved config and the LLM requests/tokens it would need."),
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Debug logs and tracebacks.")]
WaitOpt = Annotated[
    bool,
    typer.Option(
        "--wait",
        help="When another process is writing the run directory, wait for it instead of refusing "
        "(then run only what it left to do: the closing line says whom it waited for and what was new).",
    ),
]
RunDirArg = Annotated[Path, typer.Argument(help="Run directory.")]

# Options that override one config key each; None (not given) keeps the config's value.
BackendOpt = Annotated[str | None, typer.Option(help="LLM backend: 'embedded' (offline) or 'openai'.")]
ModelOpt = Annotated[str | None, typer.Option(help="Model name sent to the server.")]
BaseUrlOpt = Annotated[
    str | None, typer.Option(help="OpenAI-compatible endpoint (default $OPENAI_BASE_URL).")
]
ModeOpt = Annotated[str | None, typer.Option(help="Extraction: 'seed' (per seed) or 'document' (per chunk).")]
SeedsFileOpt = Annotated[
    Path | None, typer.Option(help="Text file with one seed per line, added to the topic seeds.")
]
VocabBuildOpt = Annotated[
    Path | None,
    typer.Option(
        "--vocab",
        help="Link the graph's entities to this vocabulary after fusion (link.vocabulary; the formats: "
        "`kgc link --help`). On a finished run only the link stage runs.",
    ),
]
LinkModeOpt = Annotated[
    str | None,
    typer.Option(
        "--link-mode",
        help="With a vocabulary: 'annotate' (default: entities get vocab_id, vocab_label, vocab_match, "
        "vocab_score), 'canonicalise' (also renamed to the concept's label, two linked to one concept "
        "merged) or 'restrict' (only linked entities and their relations: the concept graph).",
    ),
]
ConcurrencyOpt = Annotated[int | None, typer.Option(help="Concurrent LLM requests.")]
ExecutorOpt = Annotated[
    str | None,
    typer.Option(
        help="Where LLM requests run: 'local' (threads, default) or 'ray' (tasks on a Ray cluster)."
    ),
]
RayAddressOpt = Annotated[
    str | None,
    typer.Option(
        help="With --executor ray: the cluster to join: 'auto' or HOST:6379 from a node of it, "
        "ray://HOST:10001 through Ray Client (default: $RAY_ADDRESS, else this node's, else a new local one)."
    ),
]
MaxTokensOpt = Annotated[
    int | None, typer.Option(help="Stop cleanly after this many LLM tokens (resumable).")
]
MaxCostOpt = Annotated[
    float | None, typer.Option(help="Stop cleanly at this cost (needs llm.budget.prices).")
]
DeadlineOpt = Annotated[
    float | None,
    typer.Option(
        "--deadline",
        help="Stop cleanly (resumable) once the run has taken this many seconds (llm.budget.deadline_seconds).",
    ),
]


def read_seeds_file(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise KgcError(f"cannot read seeds file {path}: {e.strerror or e}") from e
    return [s.strip() for s in lines if s.strip() and not s.startswith("#")]


def load(config: Path | None, **overrides: Any) -> KgcConfig:
    """The config file, then KGC_* variables, then the options given (dotted keys; None = not given)."""
    given = {key.replace("__", "."): value for key, value in overrides.items() if value is not None}
    return load_config(config, given)


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=verbose, show_time=False, markup=False)],
        force=True,
    )
    # httpx2/httpcore2: the HTTP client of recent openai releases, which logs every request at INFO.
    noisy_loggers = (
        "httpx",
        "httpx2",
        "httpcore",
        "httpcore2",
        "urllib3",
        "sentence_transformers",
        "BERTopic",
        "numba",
        "filelock",
    )
    for noisy in noisy_loggers:
        logging.getLogger(noisy).setLevel(logging.WARNING)


def guarded(verbose: bool, fn: Callable[[], Any]) -> Any:
    """Run a command body: KgcError or a full disk -> clear message + exit 1; Ctrl-C -> exit 130."""
    setup_logging(verbose)
    try:
        return fn()
    except (KgcError, OSError, sqlite3.Error) as e:
        if not isinstance(e, KgcError) and not is_disk_full(e):
            raise
        if verbose:
            console.print_exception()
        console.print(f"[bold red]error:[/] {_message(e)}", soft_wrap=True, highlight=False)
        raise typer.Exit(EXIT_ERROR) from None
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]: finished stages and LLM answers are saved; rerun to resume")
        raise typer.Exit(130) from None


def _message(error: Exception) -> str:
    """What went wrong in one line; a full disk (wherever it struck) also says how to resume."""
    if isinstance(error, DiskFullError) or not is_disk_full(error):
        return str(error)
    if isinstance(error, OSError):
        what = f"cannot write {error.filename}" if error.filename else "a write failed"
        what += f" ({error.strerror or error})"
    else:
        what = str(error)
    return f"the disk is full: {what}. {DISK_FULL_HINT}"
