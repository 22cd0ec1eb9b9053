"""`kgc eval`: how good is a run's graph, with and without gold data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kgc.cli.common import ConfigOpt, RunDirArg, VerboseOpt, app, console, guarded, load, make_console


@app.command("eval")
def eval_command(
    run_dir: RunDirArg,
    gold: Annotated[
        Path | None,
        typer.Option(
            help="Gold triplets: TSV head<TAB>relation<TAB>tail (optional header), JSONL with those "
            "fields, or Python-tuple lines ('head', 'Relation', 'tail')."
        ),
    ] = None,
    aliases: Annotated[
        Path | None,
        typer.Option(
            help="Groups of names for one thing, one group per line: a JSON array or tab-separated names."
        ),
    ] = None,
    pairs: Annotated[
        Path | None,
        typer.Option(
            help="Labelled pairs for link prediction: head<TAB>tail<TAB>label or "
            "head<TAB>relation<TAB>tail<TAB>label (label 1/0), or JSONL."
        ),
    ] = None,
    links: Annotated[
        Path | None,
        typer.Option(
            help="Gold links to a vocabulary: name<TAB>id|NIL[<TAB>broader_id] a line; scored against the "
            "run's links.jsonl (written by `kgc link RUN`)."
        ),
    ] = None,
    against: Annotated[
        Path | None, typer.Option(help="Another run directory to compare this one with.")
    ] = None,
    background: Annotated[
        Path | None,
        typer.Option(
            help="The background graph the run was fused with (default: the run's recorded "
            "fusion.background_graph); the pairs it joins are scored apart."
        ),
    ] = None,
    threshold: Annotated[
        float,
        typer.Option(min=0, max=100, help="Relaxed name matching: rapidfuzz token_sort_ratio threshold."),
    ] = 85.0,
    json_out: Annotated[
        Path | None,
        typer.Option("--json", help="Also write the report here (RUN_DIR/eval.json is always written)."),
    ] = None,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Tell how good a run's graph is: health, ontology conformance and grounding always; precision,
    recall and F1 against gold triplets, alias groups or labelled pairs when given; accuracy, precision,
    recall@k and NIL F1 of its vocabulary links against gold links; another run side by side.

    The relation schema and fusion.background_graph are the ones the run recorded (RUN_DIR/config.json);
    --config overrides them.

    Example: kgc eval runs/demo --gold data/demo/gold_triplets.tsv
    """

    def body() -> None:
        from kgc.evaluate import EVAL_FILE, evaluate_run, render
        from kgc.rundir import atomic_write_text

        cfg = load(config) if config is not None else None
        report = evaluate_run(
            run_dir,
            gold=gold,
            aliases=aliases,
            pairs=pairs,
            against=against,
            schema=cfg.relations if cfg else None,
            background=background or (cfg.fusion.background_graph if cfg else None),
            threshold=threshold,
        )
        make_console().print(render(report))
        if links is not None:
            from kgc.artifacts import EVAL_LINKS
            from kgc.link.evaluate import evaluate_links
            from kgc.rundir import RunDir

            scores = evaluate_links(run_dir, links)
            for name, value in scores.table():
                typer.echo(f"{name:28} {value}")
            RunDir(run_dir, create=False).write(EVAL_LINKS, scores.model_dump(mode="json"))
        if json_out is not None:
            atomic_write_text(json_out, report.model_dump_json(indent=2) + "\n")
        written = f"wrote {run_dir / EVAL_FILE}" + (f" and {json_out}" if json_out else "")
        console.print(written, soft_wrap=True, highlight=False)  # a path is never broken over lines

    guarded(verbose, body)
