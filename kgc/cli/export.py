"""`kgc export ...`: write a finished graph somewhere else."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kgc.cli.common import ConfigOpt, VerboseOpt, console, export_app, guarded, load
from kgc.config import Neo4jConfig

RunWithGraphArg = Annotated[Path, typer.Argument(help="Run directory with graph.json.")]
_NEO4J = Neo4jConfig()  # the defaults live in the config's [neo4j] section; the options override it


@export_app.command("graphml")
def export_graphml(
    run_dir: RunWithGraphArg,
    dest: Annotated[Path, typer.Argument(help="GraphML file to write.")],
) -> None:
    """Write the run's graph as GraphML (Gephi, yEd, networkx).

    Example: kgc export graphml runs/demo demo.graphml
    """

    def body() -> None:
        from kgc.export.graph_files import graphml_text, read_graph
        from kgc.rundir import atomic_write_text

        atomic_write_text(dest, graphml_text(read_graph(run_dir)))
        console.print(f"wrote {dest}")

    guarded(False, body)


@export_app.command("neo4j")
def export_neo4j(
    run_dir: RunWithGraphArg,
    uri: Annotated[
        str | None, typer.Option(help="Bolt URI (default $NEO4J_URI or neo4j://localhost:7687).")
    ] = None,
    user: Annotated[str | None, typer.Option(help="User (default $NEO4J_USER or neo4j).")] = None,
    database: Annotated[
        str | None, typer.Option(help="Database (default $NEO4J_DATABASE or the home one).")
    ] = None,
    label: Annotated[
        str | None, typer.Option(help=f"Node label of the entities (default [neo4j] label: {_NEO4J.label}).")
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(help=f"Rows per transaction (default [neo4j] batch_size: {_NEO4J.batch_size})."),
    ] = None,
    writers: Annotated[
        int | None,
        typer.Option(help=f"Parallel write sessions (default [neo4j] writers: {_NEO4J.writers}).", min=1),
    ] = None,
    prune: Annotated[
        bool,
        typer.Option("--prune", help="Delete what an earlier kgc export wrote and this graph no longer has."),
    ] = False,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Write the run's graph to Neo4j in batched, parallel transactions.

    Into an empty label it CREATEs; otherwise it MERGEs: re-running updates in place, never duplicates.
    The password is read from $NEO4J_PASSWORD only, so it stays out of shell history.

    Example: kgc export neo4j runs/demo --uri neo4j://localhost:7687  (NEO4J_PASSWORD set)
    """

    def body() -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        from kgc.export.graph_files import read_graph
        from kgc.export.neo4j import Neo4jCredentials, connect, export_graph
        from kgc.export.neo4j_changes import export_changes

        cfg = load(config, neo4j__label=label, neo4j__batch_size=batch_size, neo4j__writers=writers)
        graph = read_graph(run_dir)
        creds = Neo4jCredentials.from_env(uri=uri, user=user, database=database)
        columns = (TextColumn("writing to Neo4j"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with (
            connect(creds.uri, creds.user, creds.password.get_secret_value(), creds.database) as target,
            Progress(*columns, console=console) as progress,
        ):
            task = progress.add_task("batches", total=None)
            changes = export_changes(
                target.driver, target.database, graph, cfg.relations, cfg.neo4j.label, prune=prune
            )
            stats = export_graph(
                graph,
                target,
                schema=cfg.relations,
                label=cfg.neo4j.label,
                batch_size=cfg.neo4j.batch_size,
                writers=cfg.neo4j.writers,
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

        console.print(f"changes: {changes.describe()}", highlight=False)

    guarded(verbose, body)


@export_app.command("neo4j-import")
def export_neo4j_import(
    run_dir: RunWithGraphArg,
    out: Annotated[Path, typer.Option("--out", help="Folder to write the files into (created).")],
    label: Annotated[
        str | None, typer.Option(help=f"Node label of the entities (default [neo4j] label: {_NEO4J.label}).")
    ] = None,
    database: Annotated[str, typer.Option(help="Database the import creates or overwrites.")] = "neo4j",
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Write the run's graph as CSV files for neo4j-admin's bulk import, and print the command.

    The bulk import is the fast road for a first load of a big graph: it writes the store files of a
    STOPPED database directly (creating or overwriting it). Then start Neo4j and create the uniqueness
    constraint with the constraints.cypher file written beside the CSV files.

    Example: kgc export neo4j-import runs/demo --out runs/demo/neo4j-import
    """

    def body() -> None:
        import shlex

        from kgc.export.graph_files import read_graph
        from kgc.export.neo4j_bulk import CONSTRAINTS_FILE, write_import_files

        cfg = load(config, neo4j__label=label)
        files = write_import_files(
            read_graph(run_dir), cfg.relations, out, label=cfg.neo4j.label, database=database
        )
        console.print(
            f"wrote {files.nodes} nodes and {files.relationships} relationships into {out}; with Neo4j stopped, run "
            f"(from {out}, or {out / 'import.sh'}):\n{shlex.join(files.command)}\n"
            f"then start Neo4j and run: cypher-shell -d {database} -f {out / CONSTRAINTS_FILE}",
            soft_wrap=True,  # the command must stay one line to be copied
            markup=False,
        )

    guarded(verbose, body)
