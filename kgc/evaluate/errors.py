"""Why a graph's relations are wrong: the error breakdown of `kgc eval --gold`, and the names of a
graph that are no concepts (generic, clause or conjunction names), which need no gold at all."""

from __future__ import annotations

from collections import Counter

from kgc.evaluate.gold import GoldTriplet
from kgc.evaluate.matching import RELAXED_THRESHOLD, GraphMatcher, edge, graph_edges, pair
from kgc.evaluate.models import ErrorBreakdown, Grounding
from kgc.evaluate.triplets import SAMPLE, gold_edges, show
from kgc.extraction.names import NameRules, judge
from kgc.extraction.specificity import COMMON_WORD, CommonWords, english_frequency
from kgc.models import KnowledgeGraph
from kgc.schema import RelationSchema

REASONS = (
    "name not in the text",
    "conjunction or clause name",
    "generic name",
    "wrong direction",
    "wrong relation",
    "not in the gold",
)


def name_problems(
    graph: KnowledgeGraph, rules: NameRules, common_word_zipf: float | None = None
) -> dict[str, str]:
    """Entity id -> why its name is no concept ('generic name', 'clause name', 'conjunction name',
    and with `common_word_zipf` and wordfreq installed 'common word': kgc.extraction.specificity's
    rule over the graph's own names)."""
    frequency = english_frequency() if common_word_zipf is not None else None
    common = (
        CommonWords.of_graph(graph, common_word_zipf, frequency)
        if common_word_zipf is not None and frequency is not None
        else set[str]()
    )
    out = {}
    for e in graph.entities:
        why = judge(e.name, rules) or (COMMON_WORD if e.name in common else None)
        if why is not None:
            out[e.id] = why
    return out


def error_breakdown(
    graph: KnowledgeGraph,
    gold: list[GoldTriplet],
    schema: RelationSchema,
    *,
    rules: NameRules,
    grounding: Grounding | None = None,
    threshold: float = RELAXED_THRESHOLD,
    common_word_zipf: float | None = None,
) -> ErrorBreakdown:
    """Each extracted relation right or wrong for one reason (see `ErrorBreakdown`); `grounding` (of
    the same graph, when the run has its chunks) tells which are not in their text; a common word
    (`common_word_zipf`, see `name_problems`) counts as a generic name."""
    index = GraphMatcher(graph, threshold)
    expected = gold_edges(gold, index, schema, relaxed=True)
    expected_pairs = {pair(h, t) for h, _, t in expected}
    ungrounded = {o.edge for o in grounding.ungrounded if o.edge is not None} if grounding else set()
    bad_names = name_problems(graph, rules, common_word_zipf)
    errors: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    right = 0
    extracted = [r for r in graph.relations if not r.inferred]
    for r in extracted:
        e = edge(r.head, r.relation, r.tail, schema)
        if e in expected:
            right += 1
            continue
        names = [bad_names.get(r.head), bad_names.get(r.tail)]
        if (r.head, r.relation, r.tail) in ungrounded:
            reason = "name not in the text"
        elif "clause name" in names or "conjunction name" in names:
            reason = "conjunction or clause name"
        elif "generic name" in names or COMMON_WORD in names:
            reason = "generic name"
        elif edge(r.tail, r.relation, r.head, schema) in expected:
            reason = "wrong direction"
        elif pair(r.head, r.tail) in expected_pairs:
            reason = "wrong relation"
        else:
            reason = "not in the gold"
        errors[reason] += 1
        sample = examples.setdefault(reason, [])
        if len(sample) < SAMPLE:
            sample.append(show(e, index))
    predicted_pairs = {pair(h, t) for h, _, t in graph_edges(graph, schema)}
    missed = [g for g in expected if pair(g[0], g[2]) not in predicted_pairs]
    entity_ids = {e.id for e in graph.entities}
    return ErrorBreakdown(
        relations=len(extracted),
        right=right,
        errors={reason: errors[reason] for reason in REASONS if errors[reason]},
        missed=len(missed),
        missed_both_names_found=sum(1 for h, _, t in missed if h in entity_ids and t in entity_ids),
        examples=examples,
    )
