"""`kgc resolve` (deduplicate any list of names) and `kgc explain` (why an entity of a run is what it is)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kgc.cli.common import ConfigOpt, RunDirArg, VerboseOpt, app, console, guarded, load


@app.command()
def resolve(
    names: Annotated[
        Path,
        typer.Argument(
            help="Text file (one name per line, optionally name<TAB>count) or JSONL (name, count, doc, context)."
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="JSONL to write: name, entity, canonical, reason, score.")
    ],
    against: Annotated[
        Path | None,
        typer.Option(
            "--against",
            help="Link the names to this vocabulary instead (what `kgc link` does): --out gets SSSOM TSV "
            "and links.jsonl goes beside it.",
        ),
    ] = None,
    llm: Annotated[
        bool, typer.Option("--llm", help="Ask the configured LLM about the uncertain band of pairs.")
    ] = False,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Resolve a list of names into entities, the way fusion does: one output line per input name.

    With --against VOCAB the names are linked to that vocabulary instead (see `kgc link`).

    Example: kgc resolve names.txt --out resolved.jsonl
    """

    def body() -> None:
        from kgc.llm.factory import make_backend, with_backend_defaults
        from kgc.resolve import llm_judge, resolve
        from kgc.resolve.io import read_names, resolved_lines
        from kgc.rundir import atomic_write_text

        cfg = with_backend_defaults(load(config))
        if against is not None:
            from kgc.cli.link import link_any

            link_any(names, against, out, cfg, (), llm)
            return
        records = read_names(names)
        judge = None
        if llm:
            from kgc.llm.client import LLMClient

            client = LLMClient(
                make_backend(cfg.llm, cfg.resolved_api_key()), cfg.llm, cache_path=None, failures_path=None
            )
            judge = llm_judge(client.for_stage("resolve"), cfg.prompts_path(), cfg.resolve.prompt)
        result = resolve(records, cfg.resolve, judge=judge)
        lines = resolved_lines(records, result)
        atomic_write_text(out, "".join(line.model_dump_json() + "\n" for line in lines))
        c = result.counts
        console.print(
            f"{len(records):,} names -> {len(result.clusters):,} entities ({c['merged_names']:,} merged, "
            f"{c['band_undecided']:,} uncertain pairs left apart): {out}",
            soft_wrap=True,
            highlight=False,
        )

    guarded(verbose, body)


@app.command()
def explain(
    run_dir: RunDirArg,
    name: Annotated[str, typer.Argument(help="An entity's name, one of its aliases, or its id.")],
    verbose: VerboseOpt = False,
) -> None:
    """Show why an entity of a run is what it is: its aliases and how each joined (generator, scores,
    LLM votes), the pairs kept apart and why, its relations with support and sources, and, when the
    run was linked to a vocabulary, the link decision with its candidates.

    Example: kgc explain runs/demo "NMT"
    """

    def body() -> None:
        from kgc.link.evaluate import entity_link
        from kgc.link.report import explain_link
        from kgc.stages.fusion.explain import explain as explain_entity

        found = explain_entity(run_dir, name)
        for line in found.lines():
            typer.echo(line)
        link = entity_link(run_dir, found.entity.id)
        if link is not None:
            typer.echo("vocabulary link:")
            for line in explain_link(link):
                typer.echo("  " + line)

    guarded(verbose, body)
