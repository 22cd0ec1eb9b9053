"""Entity merging against alias gold: pairwise precision/recall/F1 and B³.

The items are the gold names the run contains (by name key, so 'NMT' and 'nmt' are one item);
the run clusters them by entity, the gold file by group. Pairwise counts pairs of items put together;
B³ averages, per item, how much of its entity is its gold group (precision) and how much of its gold
group is its entity (recall), so one big wrong merge weighs by the items it affects, not quadratically.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

from kgc.evaluate.matching import GraphMatcher
from kgc.evaluate.models import AliasEval, BCubed, Score, harmonic
from kgc.models import KnowledgeGraph
from kgc.resolve.keys import name_key

SAMPLE = 10


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def score_aliases(graph: KnowledgeGraph, groups: list[list[str]], alias_file: str | Path = "") -> AliasEval:
    index = GraphMatcher(graph)
    group_of: dict[str, int] = {}
    shown: dict[str, str] = {}  # key -> the gold spelling, for the samples
    for number, names in enumerate(groups):
        for name in names:
            key = name_key(name)
            if key and key not in group_of:
                group_of[key] = number
                shown[key] = name
    entity_of = {k: e for k in group_of if (e := index.index.entity_of_key(k)) is not None}

    cells: Counter[tuple[str, int]] = Counter((entity_of[k], group_of[k]) for k in entity_of)
    entity_size: Counter[str] = Counter(entity_of.values())
    group_size: Counter[int] = Counter(group_of[k] for k in entity_of)
    pairwise = Score.of(
        true_positives=sum(_pairs(n) for n in cells.values()),
        predicted=sum(_pairs(n) for n in entity_size.values()),
        gold=sum(_pairs(n) for n in group_size.values()),
    )
    items = list(entity_of)
    if items:
        p = sum(cells[entity_of[k], group_of[k]] / entity_size[entity_of[k]] for k in items) / len(items)
        r = sum(cells[entity_of[k], group_of[k]] / group_size[group_of[k]] for k in items) / len(items)
        bcubed = BCubed(precision=round(p, 4), recall=round(r, 4), f1=harmonic(p, r))
    else:
        bcubed = BCubed(precision=None, recall=None, f1=None)

    members_of_entity: dict[str, list[str]] = defaultdict(list)
    members_of_group: dict[int, list[str]] = defaultdict(list)
    for k in items:
        members_of_entity[entity_of[k]].append(k)
        members_of_group[group_of[k]].append(k)
    wrong = [
        f"{index.label(eid)}: " + ", ".join(shown[k] for k in keys)
        for eid, keys in sorted(members_of_entity.items())
        if len({group_of[k] for k in keys}) > 1
    ]
    missed = [
        " / ".join(f"{shown[k]} ({index.label(entity_of[k])})" for k in keys)
        for _, keys in sorted(members_of_group.items())
        if len({entity_of[k] for k in keys}) > 1
    ]
    return AliasEval(
        alias_file=str(alias_file),
        gold_names=len(group_of),
        names_in_run=len(items),
        pairwise=pairwise,
        bcubed=bcubed,
        wrong_merges=wrong[:SAMPLE],
        missed_merges=missed[:SAMPLE],
    )
