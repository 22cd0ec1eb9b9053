"""`kgc config`: every config key with its type, default and description."""

from __future__ import annotations

from typing import Annotated

import typer

from kgc.cli.common import VerboseOpt, app, guarded
from kgc.errors import KgcError


@app.command("config")
def config_reference(
    section: Annotated[
        str | None, typer.Argument(help="Only this section and those below it (e.g. 'llm', 'resolve').")
    ] = None,
    toml: Annotated[
        bool, typer.Option("--toml", help="A kgc.toml with every key commented out at its default.")
    ] = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="The reference as Markdown (docs/configuration.md).")
    ] = False,
    verbose: VerboseOpt = False,
) -> None:
    """Print the configuration reference: every key with its type, default and description.

    Keys go in a TOML file (`--config kgc.toml`: `[section]`, then `key = value`) or in the
    environment (`KGC_<SECTION>__<KEY>`, e.g. KGC_LLM__LIMITS__CONCURRENCY=2); CLI flags win.

    Example: kgc config --toml > kgc.toml
    """

    def body() -> None:
        from kgc.config.reference import render_markdown, render_text, render_toml, sections, select

        if toml and markdown:
            raise KgcError("--toml and --markdown: choose one")
        chosen = select(sections(), section)
        if not chosen:
            names = ", ".join(s.name for s in sections() if s.name and "." not in s.name)
            raise KgcError(f"no config section {section!r}; sections: {names}")
        render = render_toml if toml else render_markdown if markdown else render_text
        print(render(chosen), end="")

    guarded(verbose, body)
