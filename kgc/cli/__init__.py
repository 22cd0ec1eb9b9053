"""The `kgc` command: a thin layer over the library, one module per command group.

Every KgcError becomes a one-line message and exit code 1; tracebacks only with --verbose.
To add a command: write it in a module of this package, decorated with `@app.command()` (or a sub-app
of kgc.cli.common), and import that module below.
"""

from __future__ import annotations

from typing import Annotated

import typer

from kgc import __version__
from kgc.cli import config, eval, export, link, resolve, run, summary, update, view  # noqa: F401  (each module registers its commands on `app`)
from kgc.cli.common import app

__all__ = ["app"]


def _version(value: bool) -> None:
    if value:
        print(f"kgc {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """kgc: a knowledge graph from a text corpus."""
