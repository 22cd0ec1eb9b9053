"""Link prediction against labelled pairs, with the background-graph leakage guard.

The prediction for a pair is "the graph has an edge between these two entities" (of the pair's
relation and direction when it names one). When the run was fused with a background graph
(`fusion.background_graph`), fusion was shown those edges: a pair whose two names are joined there,
by any relation in either direction, is counted apart and never scored as found. Graphusion's
published link-prediction scores were inflated this way (its fusion was given the expert edges it was
then scored on); `including_background` shows what that mistake would report.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from kgc.evaluate.gold import GoldTriplet, LabelledPair
from kgc.evaluate.matching import GraphMatcher, edge, graph_edges, pair
from kgc.evaluate.models import Confusion, LinkEval
from kgc.models import KnowledgeGraph
from kgc.schema import RelationSchema


def _confusion(outcomes: Iterable[tuple[bool, bool]]) -> Confusion:
    """(label, predicted) pairs -> counts and scores."""
    counts = {(True, True): 0, (False, True): 0, (False, False): 0, (True, False): 0}
    for outcome in outcomes:
        counts[outcome] += 1
    return Confusion.of(
        tp=counts[True, True], fp=counts[False, True], tn=counts[False, False], fn=counts[True, False]
    )


def score_links(
    graph: KnowledgeGraph,
    pairs: list[LabelledPair],
    schema: RelationSchema | None = None,
    *,
    background: list[GoldTriplet] | None = None,
    background_file: str | Path | None = None,
    pairs_file: str | Path = "",
) -> LinkEval:
    """Accuracy, precision, recall and F1 of the graph's edges as predictions of `pairs`' labels.

    `background`: the edges the run's fusion was given; pairs they join are reported apart.
    """
    schema = schema or RelationSchema()
    index = GraphMatcher(graph)
    edges = graph_edges(graph, schema)
    joined = {pair(h, t) for h, _, t in edges}
    known = {pair(index.node(b.head), index.node(b.tail)) for b in background or []}

    scored: list[tuple[bool, bool]] = []
    apart: list[tuple[bool, bool]] = []
    for p in pairs:
        h, t = index.node(p.head), index.node(p.tail)
        found = pair(h, t) in joined if p.relation is None else edge(h, p.relation, t, schema) in edges
        (apart if pair(h, t) in known else scored).append((p.label, found))
    return LinkEval(
        pairs_file=str(pairs_file),
        pairs=len(pairs),
        positives=sum(p.label for p in pairs),
        negatives=sum(not p.label for p in pairs),
        background_graph=None if background is None else str(background_file or "given"),
        scores=_confusion(scored),
        in_background=len(apart),
        in_background_found=sum(found for _, found in apart),
        including_background=None if background is None else _confusion(scored + apart),
    )
