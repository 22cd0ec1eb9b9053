"""An EvalReport as tables a person reads in a terminal (rich), one per part that was measured."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from kgc.evaluate.models import Confusion, EvalReport, Offender, Score

SHOWN = 10  # examples per list in the terminal; eval.json holds every one
LEVEL_NAMES = {
    "strict": "strict",
    "relaxed": "relaxed",
    "strict_pairs": "pairs (strict names)",
    "relaxed_pairs": "pairs (relaxed names)",
}


def num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def share(part: int, whole: int, value: float | None) -> str:
    return f"{part}/{whole} ({num(value)})"


def _facts(title: str, rows: list[tuple[str, str]]) -> Table:
    t = Table(title=title, show_header=False, title_justify="left")
    t.add_column(style="bold")
    t.add_column(max_width=72)  # long lists (relation types) wrap instead of widening the table
    for k, v in rows:
        t.add_row(k, v)
    return t


def _scores(title: str, rows: list[tuple[str, Score]], caption: str | None = None) -> Table:
    t = Table(title=title, caption=caption, title_justify="left", caption_justify="left")
    for col in ("", "precision", "recall", "F1", "matched", "graph", "gold"):
        t.add_column(col, justify="left" if not col else "right")
    for name, s in rows:
        t.add_row(
            name,
            num(s.precision),
            num(s.recall),
            num(s.f1),
            str(s.true_positives),
            str(s.predicted),
            str(s.gold),
        )
    return t


def _confusion_row(t: Table, name: str, c: Confusion) -> None:
    t.add_row(
        name,
        num(c.accuracy),
        num(c.precision),
        num(c.recall),
        num(c.f1),
        f"{c.true_positives}/{c.false_positives}/{c.true_negatives}/{c.false_negatives}",
    )


def _sample(title: str, lines: list[str]) -> list[RenderableType]:
    """A titled list of examples, or nothing when there are none."""
    return [Text(f"{title}:\n" + "\n".join(f"  {line}" for line in lines))] if lines else []


def _first(title: str, lines: list[str], rest: str, shown: int = SHOWN) -> list[RenderableType]:
    """`_sample` of the first `shown` lines, saying how many more there are and where."""
    more = len(lines) - shown
    return _sample(title, lines[:shown] + ([f"... and {more} more ({rest})"] if more > 0 else []))


def _offenders(title: str, offenders: list[Offender]) -> list[RenderableType]:
    lines = [
        f"{o.relation}  "
        + (f"missing: {', '.join(o.missing)}" if o.missing else f"in chunks {_few(o.chunks)}")
        for o in offenders
    ]
    return _first(f"{title} ({len(offenders)})", lines, "every one in eval.json")


def _few(items: list[str], shown: int = 4) -> str:
    return ", ".join(items[:shown]) + (f" (+{len(items) - shown})" if len(items) > shown else "")


def render(report: EvalReport) -> Group:
    """Every measured part of `report`, in the order a reader asks: is it sound, is it right."""
    h = report.health
    d = h.degree
    parts: list[RenderableType] = [
        _facts(
            f"Graph health: {report.run_dir}",
            [
                ("entities / relations", f"{h.entities} / {h.relations}"),
                ("relation types", ", ".join(f"{k} {v}" for k, v in h.relation_types.items()) or "-"),
                ("degree min/median/mean/max", f"{d.minimum} / {d.median:g} / {d.mean:g} / {d.maximum}"),
                ("degree histogram", ", ".join(f"{k}: {v}" for k, v in d.histogram.items() if v) or "-"),
                ("components (largest)", f"{h.components} ({h.largest_component} entities)"),
                ("isolated entities", str(h.isolated_entities)),
                ("inferred relations", num(h.inferred_share)),
                (
                    "self-loops / duplicates / dangling",
                    f"{h.self_loops} / {h.duplicate_edges} / {h.dangling_edges}",
                ),
                ("problems", "; ".join(h.problems) or "none"),
            ],
        )
    ]
    if c := report.conformance:
        dropped = sum(c.dropped.values())
        parts.append(
            _facts(
                "Ontology conformance (extraction)",
                [
                    ("triplets kept", str(c.candidates_kept)),
                    ("dropped (schema, names)", share(dropped, dropped + c.candidates_kept, c.dropped_share)),
                    ("by reason", ", ".join(f"{k} {v}" for k, v in c.dropped.items()) or "-"),
                    ("failed LLM tasks", str(c.failed_tasks)),
                    ("relation cues", ", ".join(f"{k} {v}" for k, v in c.cues.items()) or "-"),
                    (
                        "graph names no concept",
                        f"{sum(c.entity_names.values())}/{c.entities}"
                        + "".join(f", {k} {v}" for k, v in c.entity_names.items()),
                    ),
                ],
            )
        )
        parts += _sample("Names that are no concept", c.entity_name_examples)
    if g := report.grounding:
        parts.append(
            _facts(
                "Grounding in the source chunks",
                [
                    (
                        "relations grounded",
                        share(g.relations_grounded, g.relations_checked, g.relations_grounded_share),
                    ),
                    ("a name in no source chunk", str(g.head_or_tail_missing)),
                    (
                        "evidence grounded",
                        share(g.evidence_grounded, g.evidence_checked, g.evidence_grounded_share),
                    ),
                ],
            )
        )
        both = [o for o in g.ungrounded if len(o.missing) == 2]
        one = [o for o in g.ungrounded if len(o.missing) == 1]
        apart = [o for o in g.ungrounded if not o.missing]
        parts += _offenders("Relations with both names in none of their source chunks", both)
        parts += _offenders("Relations with one name in none of their source chunks", one)
        parts += _offenders("Relations whose names are never in the same source chunk", apart)
        parts += _first("Evidence not found in its chunk", g.ungrounded_evidence, "every one in eval.json")
        if g.inferred_checked:
            grounded = share(g.inferred_grounded, g.inferred_checked, g.inferred_grounded_share)
            parts.append(
                _facts(
                    "Inferred relations (proposed by fusion, not extracted)",
                    [("head and tail in one chunk of either entity", grounded)],
                )
            )
            parts += _offenders("Inferred relations the text never says together", g.inferred_ungrounded)
    if tr := report.triplets:
        parts.append(
            _scores(
                f"Triplets against {tr.gold_file} ({tr.gold_lines} lines)",
                [(name, tr.levels[k]) for k, name in LEVEL_NAMES.items() if k in tr.levels],
                caption=f"relaxed: {tr.relaxed_rule}; gold entities found: strict "
                f"{num(tr.entity_recall.get('strict'))}, relaxed {num(tr.entity_recall.get('relaxed'))}",
            )
        )
        per = Table(title="Per relation (F1 strict / relaxed)", title_justify="left")
        for col in ("relation", "gold", "graph", "strict F1", "relaxed F1"):
            per.add_column(col, justify="left" if col == "relation" else "right")
        for rel, s in tr.per_relation["strict"].items():
            relaxed = tr.per_relation["relaxed"].get(rel, s)
            per.add_row(rel, str(s.gold), str(s.predicted), num(s.f1), num(relaxed.f1))
        parts.append(per)
        if er := tr.errors:
            parts.append(
                _facts(
                    "Errors of the extracted relations (relaxed names)",
                    [
                        ("right / extracted", f"{er.right} / {er.relations}"),
                        *((reason, str(n)) for reason, n in er.errors.items()),
                        (
                            "gold missed (both names in the graph)",
                            f"{er.missed} ({er.missed_both_names_found})",
                        ),
                    ],
                )
            )
            for reason, sample in er.examples.items():
                if reason in (
                    "wrong direction",
                    "conjunction or clause name",
                    "generic name",
                    "name not in the text",
                ):
                    parts += _sample(reason.capitalize(), sample)
        parts += [
            *_sample("Right pair, other relation", tr.wrong_relation),
            *_sample("Missed", tr.missed),
        ]
    if al := report.aliases:
        t = Table(
            title=f"Entity merging against {al.alias_file} ({al.names_in_run} of {al.gold_names} names in the run)",
            title_justify="left",
        )
        for col in ("", "precision", "recall", "F1"):
            t.add_column(col, justify="right" if col else "left")
        t.add_row("pairwise", num(al.pairwise.precision), num(al.pairwise.recall), num(al.pairwise.f1))
        t.add_row("B³", num(al.bcubed.precision), num(al.bcubed.recall), num(al.bcubed.f1))
        parts += [t, *_sample("Wrong merges", al.wrong_merges), *_sample("Missed merges", al.missed_merges)]
    if lk := report.links:
        t = Table(
            title=f"Link prediction against {lk.pairs_file} ({lk.positives} positive, {lk.negatives} negative)",
            caption="TP/FP/TN/FN",
            title_justify="left",
            caption_justify="left",
        )
        for col in ("", "accuracy", "precision", "recall", "F1", "TP/FP/TN/FN"):
            t.add_column(col, justify="right" if col else "left")
        _confusion_row(t, "scored", lk.scores)
        if lk.including_background is not None:
            _confusion_row(t, "incl. background (inflated)", lk.including_background)
            t.caption = (
                f"{lk.in_background} pairs are joined in the background graph {lk.background_graph} the run "
                f"was fused with ({lk.in_background_found} of them in the graph): scored apart"
            )
        parts.append(t)
    if cmp := report.comparison:
        e, r = cmp.entities, cmp.relations
        parts.append(
            _facts(
                f"Against {cmp.other_run} (A = this run, B = the other)",
                [
                    ("entities A / B / shared", f"{e['a']} / {e['b']} / {e['shared']}"),
                    ("relations A / B / shared", f"{r['a']} / {r['b']} / {r['shared']}"),
                    ("same pair, other relation", str(r["other_relation"])),
                    (
                        "A vs B: P / R / F1",
                        f"{num(cmp.relations_score.precision)} / {num(cmp.relations_score.recall)} / {num(cmp.relations_score.f1)}",
                    ),
                    (
                        "pairs: P / R / F1",
                        f"{num(cmp.pairs_score.precision)} / {num(cmp.pairs_score.recall)} / {num(cmp.pairs_score.f1)}",
                    ),
                ],
            )
        )
        parts += [
            *_sample("Only in A", cmp.only_a),
            *_sample("Only in B", cmp.only_b),
            *_sample("Other relation", cmp.other_relation),
        ]
    return Group(*parts)
