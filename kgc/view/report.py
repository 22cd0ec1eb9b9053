"""`kgc report`: one self-contained HTML page on a run: what each stage counted, cost and took, what
the graph looks like (relation types, degrees, top entities), why entities were merged, and the
`kgc eval` figures when an evaluation was run."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kgc.artifacts import REPORT, VIEW
from kgc.view.charts import bar_chart
from kgc.view.page import asset, render, write_page
from kgc.view.run_data import RunData, load_run, merge_details

TOP_ENTITIES = 15
MERGE_EXAMPLES = 5
LLM_FIELDS = ("requests", "cache_hits", "retries", "invalid", "failed", "prompt_tokens", "completion_tokens")
# Degree histogram buckets (low, high) inclusive; high None = open-ended.
DEGREE_BUCKETS = ((1, 1), (2, 2), (3, 3), (4, 5), (6, 10), (11, 20), (21, 50), (51, 100), (101, None))


@dataclass
class StageRow:
    name: str
    status: str
    seconds: float
    peak_rss_mb: float
    counts: dict[str, int]
    llm: dict[str, float]


@dataclass
class RunReport:
    """The report's numbers, computed from the run's artifacts (tested to equal them)."""

    title: str
    headline: dict[str, int]  # documents, chunks, seeds, candidates, entities, relations, ...
    dropped: dict[str, int]  # extraction's dropped triplets by reason
    stages: list[StageRow]
    relation_types: list[tuple[str, int, int]]  # (relation, extracted, inferred)
    degree_histogram: list[tuple[str, int]]
    top_entities: list[dict[str, Any]]
    merges_by_reason: dict[str, int]
    merge_examples: dict[str, list[dict[str, Any]]]
    not_merged: dict[str, list[dict[str, Any]]]  # "decision: reason" -> the pairs (first MERGE_EXAMPLES)
    not_merged_counts: dict[str, int]
    llm_total: dict[str, float]
    evaluation: Evaluation | None  # from eval.json, when `kgc eval` ran
    notes: list[str] = field(default_factory=list)


def _degree_bucket(degree: int) -> str:
    for low, high in DEGREE_BUCKETS:
        if high is None or degree <= high:
            return str(low) if low == high else f"{low}+" if high is None else f"{low}-{high}"
    raise AssertionError("the last bucket is open-ended")


SCORE_KEYS = ("precision", "recall", "f1")


@dataclass
class Evaluation:
    """eval.json read without assuming its schema: every precision/recall/F1 triple found anywhere is
    a row of `scores`; every other scalar is a (dotted path, value) row of its top-level section."""

    scores: list[tuple[str, list[str], str]] = field(default_factory=list)  # path, [P, R, F1], counts
    sections: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))


def _text(value: Any) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _read_evaluation(value: Any, path: str, out: Evaluation) -> None:
    if isinstance(value, dict):
        if all(k in value for k in SCORE_KEYS):
            counts = ", ".join(
                f"{k.replace('_', ' ')} {_text(v)}"
                for k, v in value.items()
                if k not in SCORE_KEYS and not isinstance(v, dict | list)
            )
            out.scores.append((path, [_text(value[k]) for k in SCORE_KEYS], counts))
            return
        for k, v in value.items():
            _read_evaluation(v, f"{path}.{k}" if path else str(k), out)
        return
    section = path.split(".")[0] if "." in path else "run"
    if isinstance(value, list):
        if value:
            out.sections[section].append((path, f"{len(value)} items"))
        return
    out.sections[section].append((path, _text(value)))


def run_report(run: RunData) -> RunReport:
    graph = run.graph
    manifest = run.manifest
    stages = [
        StageRow(name, rec.status, rec.seconds, rec.peak_rss_mb, dict(rec.counts), dict(rec.llm))
        for name, rec in manifest.stages.items()
    ]

    def count(stage: str, key: str) -> int | None:
        rec = manifest.stages.get(stage)
        return rec.counts.get(key) if rec is not None else None

    inferred = sum(1 for r in graph.relations if r.inferred)
    headline = {
        "documents": count("corpus", "documents"),
        "chunks": count("corpus", "chunks"),
        "seeds": count("seeds", "seeds"),
        "candidates": count("extraction", "candidates"),
        "entities": len(graph.entities),
        "relations": len(graph.relations),
        "inferred relations": inferred,
        "merges": len(run.merges),
        "conflicts": len(graph.conflicts),
    }
    dropped = {str(k): int(v) for k, v in (run.extraction_report.get("dropped") or {}).items()}

    extracted_by_type: Counter[str] = Counter(r.relation for r in graph.relations if not r.inferred)
    inferred_by_type: Counter[str] = Counter(r.relation for r in graph.relations if r.inferred)
    types = sorted(set(extracted_by_type) | set(inferred_by_type))
    relation_types = sorted(
        ((t, extracted_by_type[t], inferred_by_type[t]) for t in types), key=lambda x: (-(x[1] + x[2]), x[0])
    )

    degree: Counter[str] = Counter()
    for r in graph.relations:
        degree[r.head] += 1
        degree[r.tail] += 1
    buckets = Counter(_degree_bucket(degree[e.id]) for e in graph.entities if degree[e.id])
    labels = [_degree_bucket(low) for low, _ in DEGREE_BUCKETS]
    last = max((i for i, label in enumerate(labels) if buckets[label]), default=-1)
    degree_histogram = [(label, buckets[label]) for label in labels[: last + 1]]
    isolated = sum(1 for e in graph.entities if not degree[e.id])
    if isolated:
        degree_histogram.insert(0, ("0", isolated))

    top = sorted(graph.entities, key=lambda e: (-degree[e.id], -e.support, e.name))[:TOP_ENTITIES]
    top_entities = [
        {"name": e.name, "degree": degree[e.id], "support": e.support, "aliases": len(e.aliases)} for e in top
    ]

    merges_by_reason: Counter[str] = Counter(str(m.get("reason", "unknown")) for m in run.merges)
    examples: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in run.merges:
        reason = str(m.get("reason", "unknown"))
        if len(examples[reason]) < MERGE_EXAMPLES:
            examples[reason].append(
                {
                    "alias": m.get("alias"),
                    "canonical": m.get("canonical"),
                    "score": m.get("score"),
                    "extra": merge_details(m),
                }
            )

    not_merged: dict[str, list[dict[str, Any]]] = defaultdict(list)
    not_merged_counts: Counter[str] = Counter()
    for pair in run.rejected_pairs:
        why = f"{pair.get('decision', '?')}: {pair.get('reason', '?')}"
        not_merged_counts[why] += 1
        if len(not_merged[why]) < MERGE_EXAMPLES:
            not_merged[why].append(
                {"a": pair.get("a"), "b": pair.get("b"), "scores": pair.get("scores") or {}}
            )

    llm_total: dict[str, float] = defaultdict(float)
    for s in stages:
        for k, v in s.llm.items():
            llm_total[k] += v

    evaluation = None
    if run.evaluation is not None:
        evaluation = Evaluation()
        _read_evaluation(run.evaluation, "", evaluation)
    return RunReport(
        title=run.path.name,
        headline={k: v for k, v in headline.items() if v is not None},
        dropped=dropped,
        stages=stages,
        relation_types=relation_types,
        degree_histogram=degree_histogram,
        top_entities=top_entities,
        merges_by_reason=dict(merges_by_reason.most_common()),
        merge_examples=dict(examples),
        not_merged=dict(not_merged),
        not_merged_counts=dict(not_merged_counts.most_common()),
        llm_total=dict(llm_total),
        evaluation=evaluation,
        notes=[f"could not read {s}" for s in run.skipped],
    )


def report_html(report: RunReport, view_file: str | None = None) -> str:
    charts = {
        "relation_types": bar_chart(
            [(t, n + i) for t, n, i in report.relation_types], title="relations per type"
        ),
        "degrees": bar_chart(report.degree_histogram, title="entities per degree", color="#59a14f"),
        "seconds": bar_chart(
            [(s.name, s.seconds) for s in report.stages],
            title="wall time per stage",
            unit=" s",
            color="#f28e2b",
        ),
        "memory": bar_chart(
            [(s.name, s.peak_rss_mb) for s in report.stages],
            title="peak memory per stage",
            unit=" MB",
            color="#b07aa1",
        ),
    }
    return render(
        "report.html.j2",
        r=report,
        charts=charts,
        css=asset("report.css"),
        llm_fields=LLM_FIELDS,
        view_file=view_file,
    )


def write_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the report of `run_dir` to `out` (default RUN_DIR/report.html) and return its path."""
    run = load_run(run_dir)
    path = Path(out) if out is not None else run.path / REPORT.name
    view = run.path / VIEW.name
    link = view.name if view.is_file() and path.parent.resolve() == run.path.resolve() else None
    return write_page(path, report_html(run_report(run), link))
