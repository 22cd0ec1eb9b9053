"""Evaluate one run directory: always its health, conformance and grounding; gold scores when given.

The result is returned as an `EvalReport` and written to RUN_DIR/eval.json (atomically), where the
HTML report and later tools find it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from kgc import __version__
from kgc.artifacts import CANDIDATES, CHUNKS, EVAL, EXTRACTION_REPORT, MANIFEST
from kgc.config import ExtractionConfig, KgcConfig
from kgc.errors import EvaluationError, RunDirError
from kgc.evaluate.aliases import score_aliases
from kgc.evaluate.compare import compare_graphs
from kgc.evaluate.errors import error_breakdown, name_problems
from kgc.evaluate.gold import read_alias_groups, read_labelled_pairs, read_triplets
from kgc.evaluate.grounding import ground
from kgc.evaluate.health import conformance, graph_health
from kgc.evaluate.links import score_links
from kgc.evaluate.matching import RELAXED_THRESHOLD
from kgc.evaluate.models import EvalReport
from kgc.evaluate.triplets import score_triplets
from kgc.export.graph_files import read_graph
from kgc.extraction.names import NameRules
from kgc.models import KnowledgeGraph
from kgc.rundir import RunDir
from kgc.schema import RelationSchema

EVAL_FILE = EVAL.name


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
    rundir = RunDir(run)
    # The artifacts the evaluation uses when the run has them (a graph fused elsewhere has none).
    recorded = rundir.config() if rundir.exists(MANIFEST) else None
    if recorded is not None:  # what the run was built with, unless the caller says otherwise
        schema = schema or recorded.relations
        background = background or recorded.fusion.background_graph
    schema = schema or RelationSchema()
    extraction = (recorded or KgcConfig()).extraction
    rules = NameRules.of(extraction.stop_concepts, extraction.max_name_words)
    zipf = extraction.common_word_zipf
    if zipf == "off":  # extraction kept common words: still counted, at the default threshold
        zipf = float(ExtractionConfig.model_fields["common_word_zipf"].default)
    graph = read_graph(run)
    # Every input is read before anything is measured: a bad gold line fails at once.
    gold_triplets = read_triplets(gold, schema) if gold is not None else None
    alias_groups = read_alias_groups(aliases) if aliases is not None else None
    labelled = read_labelled_pairs(pairs, schema) if pairs is not None else None
    background_file = Path(background) if background is not None else None
    if labelled is not None:
        check_background_known(graph, background_file)
    known = read_triplets(background_file, schema) if background_file is not None else None
    other = read_graph(against) if against is not None else None
    try:
        candidates = rundir.read_optional(CANDIDATES)
        chunks = rundir.read_optional(CHUNKS)
        extraction_report = rundir.read_optional(EXTRACTION_REPORT)
    except RunDirError as e:
        raise EvaluationError(str(e)) from None

    report = EvalReport(
        run_dir=str(run),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        kgc_version=__version__,
        health=graph_health(graph, schema),
    )
    if extraction_report is not None and candidates is not None:
        report.conformance = conformance(
            extraction_report.model_dump(), len(candidates), graph, name_problems(graph, rules, zipf)
        )
    if candidates is not None and chunks is not None:
        report.grounding = ground(graph, candidates, chunks)
    if gold_triplets is not None:
        report.triplets = score_triplets(
            graph, gold_triplets, schema, threshold=threshold, gold_file=str(gold)
        )
        report.triplets.errors = error_breakdown(
            graph,
            gold_triplets,
            schema,
            rules=rules,
            grounding=report.grounding,
            threshold=threshold,
            common_word_zipf=zipf,
        )
    if alias_groups is not None:
        report.aliases = score_aliases(graph, alias_groups, alias_file=str(aliases))
    if labelled is not None:
        report.links = score_links(
            graph, labelled, schema, background=known, background_file=background_file, pairs_file=str(pairs)
        )
    if other is not None:
        report.comparison = compare_graphs(graph, other, schema, other_run=str(against))
    if write:
        rundir.write(EVAL, report.model_dump(mode="json"))
    return report
