"""Evaluate one run directory: always its health, conformance and grounding; gold scores when given.

The result is returned as an `EvalReport` and written to RUN_DIR/eval.json (atomically), where the
HTML report and later tools find it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from kgc import __version__
from kgc.errors import EvaluationError
from kgc.evaluate.aliases import score_aliases
from kgc.evaluate.compare import compare_graphs
from kgc.evaluate.gold import read_alias_groups, read_labelled_pairs, read_triplets
from kgc.evaluate.grounding import ground
from kgc.evaluate.health import conformance, graph_health
from kgc.evaluate.links import score_links
from kgc.evaluate.matching import RELAXED_THRESHOLD
from kgc.evaluate.models import EvalReport
from kgc.evaluate.triplets import score_triplets
from kgc.export.graph_files import read_graph
from kgc.models import Candidate, Chunk, KnowledgeGraph
from kgc.rundir import atomic_write_text, read_jsonl
from kgc.schema import RelationSchema

EVAL_FILE = "eval.json"


def check_background_known(graph: KnowledgeGraph, background: Path | None) -> None:
    """Refuse to score link prediction on a run whose fusion visibly used a background graph that
    was not given: its pairs would be scored as found instead of apart."""
    decided = sum(r.decided_by == "background" for r in graph.relations)
    if decided and background is None:
        raise EvaluationError(
            f"this run was fused with a background graph ({decided} relation(s) decided by it): "
            "pass it with --background FILE so the pairs it holds are scored apart"
        )


def evaluate_run(
    run_dir: str | Path,
    *,
    gold: str | Path | None = None,
    aliases: str | Path | None = None,
    pairs: str | Path | None = None,
    against: str | Path | None = None,
    schema: RelationSchema | None = None,
    background: str | Path | None = None,
    threshold: float = RELAXED_THRESHOLD,
    write: bool = True,
) -> EvalReport:
    """Everything `kgc eval` measures about `run_dir`.

    gold: triplets (TSV, JSONL or Python-tuple lines); aliases: groups of names for one entity;
    pairs: labelled pairs for link prediction; against: another run directory to compare with.
    background: the background graph the run was fused with (`fusion.background_graph`); pairs it
    joins are scored apart.
    write: also write RUN_DIR/eval.json.
    """
    run = Path(run_dir)
    if not run.is_dir():
        raise EvaluationError(f"no run directory at {run}")
    schema = schema or RelationSchema()
    graph = read_graph(run)
    report = EvalReport(
        run_dir=str(run),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        kgc_version=__version__,
        health=graph_health(graph, schema),
    )
    candidates = (
        read_jsonl(run / "candidates.jsonl", Candidate) if (run / "candidates.jsonl").is_file() else None
    )
    extraction_report = run / "extraction_report.json"
    if extraction_report.is_file() and candidates is not None:
        report.conformance = conformance(
            json.loads(extraction_report.read_text(encoding="utf-8")), len(candidates)
        )
    if candidates is not None and (run / "chunks.jsonl").is_file():
        report.grounding = ground(graph, candidates, read_jsonl(run / "chunks.jsonl", Chunk))
    if gold is not None:
        report.triplets = score_triplets(
            graph, read_triplets(gold, schema), schema, threshold=threshold, gold_file=str(gold)
        )
    if aliases is not None:
        report.aliases = score_aliases(graph, read_alias_groups(aliases), alias_file=aliases)
    if pairs is not None:
        background_file = Path(background) if background is not None else None
        check_background_known(graph, background_file)
        report.links = score_links(
            graph,
            read_labelled_pairs(pairs, schema),
            schema,
            background=read_triplets(background_file, schema) if background_file else None,
            background_file=background_file,
            pairs_file=pairs,
        )
    if against is not None:
        report.comparison = compare_graphs(graph, read_graph(against), schema, other_run=against)
    if write:
        atomic_write_text(run / EVAL_FILE, report.model_dump_json(indent=2) + "\n")
    return report
