"""Every evaluation metric on small graphs whose numbers were worked out by hand (in the comments)."""

from __future__ import annotations

import io
from typing import TypedDict

import pytest
from rich.console import Console

from kgc.evaluate import (
    compare_graphs,
    graph_health,
    ground,
    score_aliases,
    score_links,
    score_triplets,
)
from kgc.evaluate.gold import GoldTriplet, LabelledPair
from kgc.evaluate.models import EvalReport
from kgc.evaluate.report import render
from kgc.models import Candidate, Chunk, Entity, KnowledgeGraph, Provenance, Relation
from kgc.text import slug


class RelationFields(TypedDict, total=False):
    """Relation fields a test sets beyond head, relation and tail."""

    support: int
    sources: list[str]
    inferred: bool


def kg(
    entities: dict[str, list[str]],
    relations: list[tuple[str, str, str]],
    fields: dict[int, RelationFields] | None = None,
) -> KnowledgeGraph:
    """Entities by name (with aliases); relations by entity name; `fields` sets Relation fields by index."""
    rels = []
    for i, (h, r, t) in enumerate(relations):
        rels.append(Relation(head=slug(h), relation=r, tail=slug(t), **(fields or {}).get(i, {})))
    return KnowledgeGraph(
        entities=[Entity(id=slug(n), name=n, aliases=a) for n, a in entities.items()], relations=rels
    )


def gold(*triplets: tuple[str, str, str]) -> list[GoldTriplet]:
    return [GoldTriplet(h, r, t, f"gold.tsv:{i}") for i, (h, r, t) in enumerate(triplets, start=1)]


NMT_GRAPH = kg(
    {
        "neural machine translation": ["NMT"],
        "BLEU": [],
        "machine translation": [],
        "encoder": [],
        "attention": [],
    },
    [
        ("BLEU", "Evaluate-for", "neural machine translation"),
        ("neural machine translation", "Hyponym-Of", "machine translation"),
        ("attention", "Compare", "encoder"),  # undirected: stored with head <= tail
        ("encoder", "Part-of", "machine translation"),
    ],
)
NMT_GOLD = gold(
    ("BLEU", "Evaluate-for", "NMT"),  # an alias of the entity ...
    ("BLEU", "Evaluate-for", "neural machine translation"),  # ... and its name: one gold edge
    ("encoder", "Compare", "attention"),  # undirected, in reverse order: found
    ("machine translation", "Hyponym-Of", "neural machine translation"),  # directed, reversed: not found
    ("Transformer", "Used-for", "machine translation"),  # no such entity
    ("encoder", "Part-of", "machine translaton"),  # a typo: relaxed only (token_sort_ratio 97)
)


def test_triplet_levels_alias_counts_once_undirected_either_order_directed_not() -> None:
    ev = score_triplets(NMT_GRAPH, NMT_GOLD, gold_file="gold.tsv")
    # 6 gold lines -> 5 gold edges (the alias pair is one). Graph: 4 edges.
    strict, relaxed = ev.levels["strict"], ev.levels["relaxed"]
    assert (strict.true_positives, strict.predicted, strict.gold) == (2, 4, 5)
    assert (strict.precision, strict.recall, strict.f1) == (0.5, 0.4, 0.4444)
    assert (relaxed.true_positives, relaxed.precision, relaxed.recall, relaxed.f1) == (3, 0.75, 0.6, 0.6667)
    # Pairs: the reversed hyponym now counts; the typo only with relaxed names.
    sp, rp = ev.levels["strict_pairs"], ev.levels["relaxed_pairs"]
    assert (sp.true_positives, sp.predicted, sp.gold, sp.f1) == (3, 4, 5, 0.6667)
    assert (rp.true_positives, rp.precision, rp.recall, rp.f1) == (4, 1.0, 0.8, 0.8889)
    # Gold entities: strict 5 of 7 (transformer, 'machine translaton' missing), relaxed 5 of 6.
    assert ev.entity_recall == {"strict": 0.7143, "relaxed": 0.8333}
    assert ev.gold_lines == 6
    assert "token_sort_ratio >= 85" in ev.relaxed_rule


def test_triplet_per_relation_and_error_samples() -> None:
    ev = score_triplets(NMT_GRAPH, NMT_GOLD)
    strict = ev.per_relation["strict"]
    assert strict["Evaluate-for"].f1 == 1.0
    assert strict["Compare"].f1 == 1.0
    assert (strict["Hyponym-Of"].precision, strict["Hyponym-Of"].recall, strict["Hyponym-Of"].f1) == (
        0.0,
        0.0,
        0.0,
    )
    # No Used-for edge in the graph: precision is undefined, not 0 or 1.
    assert (strict["Used-for"].precision, strict["Used-for"].recall, strict["Used-for"].f1) == (
        None,
        0.0,
        None,
    )
    assert strict["Part-of"].true_positives == 0
    assert ev.per_relation["relaxed"]["Part-of"].true_positives == 1
    assert ev.wrong_relation == [
        "gold (machine translation, Hyponym-Of, neural machine translation), "
        "graph (neural machine translation, Hyponym-Of, machine translation)"
    ]
    assert sorted(ev.missed) == [
        "(Transformer, Used-for, machine translation)",  # as the gold file spells it
        "(machine translation, Hyponym-Of, neural machine translation)",
    ]


def test_relaxed_threshold_is_a_parameter() -> None:
    ev = score_triplets(NMT_GRAPH, NMT_GOLD, threshold=99)
    assert ev.levels["relaxed"].true_positives == 2  # the typo (97) no longer matches
    assert "token_sort_ratio >= 99" in ev.relaxed_rule


def test_alias_pairwise_and_bcubed() -> None:
    graph = kg(
        {
            "neural machine translation": ["NMT", "neural MT"],
            "statistical machine translation": ["SMT", "phrase-based MT"],  # a wrong merge
            "machine translation": [],
            "MT": [],  # a missed merge
        },
        [],
    )
    groups = [
        ["neural machine translation", "NMT", "neural MT"],
        ["statistical machine translation", "SMT"],
        ["phrase-based MT", "PBMT"],  # PBMT is not in the run
        ["machine translation", "MT", "automatic translation"],
        ["BLEU"],
    ]
    ev = score_aliases(graph, groups, alias_file="aliases.jsonl")
    assert (ev.gold_names, ev.names_in_run) == (11, 8)
    # Cells (entity, group): NMT-group 3, SMT 2 + PBMT 1 in one entity, MT group split 1 + 1.
    # Pairs: together in the run 3+3 = 6, in gold 3+1+1 = 5, both 3+1 = 4.
    assert (ev.pairwise.true_positives, ev.pairwise.predicted, ev.pairwise.gold) == (4, 6, 5)
    assert (ev.pairwise.precision, ev.pairwise.recall, ev.pairwise.f1) == (0.6667, 0.8, 0.7273)
    # B³ precision (3*1 + 2*2/3 + 1/3 + 1 + 1) / 8 = 5/6; recall (3 + 2 + 1 + 1/2 + 1/2) / 8 = 7/8.
    assert (ev.bcubed.precision, ev.bcubed.recall, ev.bcubed.f1) == (0.8333, 0.875, 0.8537)
    assert ev.wrong_merges == [
        "statistical machine translation: statistical machine translation, SMT, phrase-based MT"
    ]
    assert ev.missed_merges == ["machine translation (machine translation) / MT (MT)"]


PREREQ = "Is-a-Prerequisite-of"
LINK_GRAPH = kg(
    {"syntax": [], "parsing": [], "cky parsing": [], "semantics": []},
    [("syntax", PREREQ, "parsing"), ("parsing", PREREQ, "cky parsing"), ("semantics", "Compare", "syntax")],
)


def labelled(head: str, tail: str, label: bool, relation: str | None = PREREQ) -> LabelledPair:
    return LabelledPair(head, tail, label, relation, "pairs.tsv:1")


LINK_PAIRS = [
    labelled("syntax", "parsing", True),  # found: TP
    labelled("parsing", "cky parsing", True),  # found: TP
    labelled("cky parsing", "parsing", False),  # a directed edge reversed is no edge: TN
    labelled("semantics", "syntax", True, relation=None),  # any relation, either direction: TP
    labelled("semantics", "parsing", True),  # FN
    labelled("syntax", "cky parsing", False),  # TN
    labelled("parsing", "semantics", False),  # TN
    labelled("parsing", "syntax", False, relation=None),  # the pair is joined: FP
]


def test_link_prediction_without_background() -> None:
    ev = score_links(LINK_GRAPH, LINK_PAIRS, pairs_file="pairs.tsv")
    s = ev.scores
    assert (s.true_positives, s.false_positives, s.true_negatives, s.false_negatives) == (3, 1, 3, 1)
    assert (s.accuracy, s.precision, s.recall, s.f1) == (0.75, 0.75, 0.75, 0.75)
    assert (ev.pairs, ev.positives, ev.negatives) == (8, 4, 4)
    assert ev.background_graph is None and ev.including_background is None and ev.in_background == 0


def test_leakage_guard_scores_background_pairs_apart() -> None:
    background = gold(("Syntax", PREREQ, "parsing"), ("semantics", PREREQ, "parsing"))
    ev = score_links(LINK_GRAPH, LINK_PAIRS, background=background, background_file="prereq.tsv")
    # Pairs joined in the background, in any direction and by any relation: syntax-parsing and
    # semantics-parsing, twice each. The graph has syntax-parsing, so 2 of the 4 would be "found".
    assert (ev.in_background, ev.in_background_found) == (4, 2)
    s = ev.scores  # the other 4: TP 2 (parsing-cky, semantics-syntax), TN 2
    assert (s.true_positives, s.false_positives, s.true_negatives, s.false_negatives) == (2, 0, 2, 0)
    assert (s.accuracy, s.precision, s.recall, s.f1) == (1.0, 1.0, 1.0, 1.0)
    assert ev.including_background is not None
    assert ev.including_background.true_positives == 3  # what a careless evaluation would count
    assert ev.background_graph == "prereq.tsv"


def test_leakage_guard_leaves_no_positive_to_score() -> None:
    """Graphusion's setting: every positive is a background edge, so there is no recall to report."""
    positives = [labelled("syntax", "parsing", True), labelled("parsing", "cky parsing", True)]
    background = gold(("syntax", PREREQ, "parsing"), ("parsing", PREREQ, "cky parsing"))
    ev = score_links(LINK_GRAPH, [*positives, labelled("syntax", "semantics", False)], background=background)
    assert (ev.in_background, ev.in_background_found) == (2, 2)
    assert (ev.scores.recall, ev.scores.precision, ev.scores.accuracy) == (None, None, 1.0)  # one TN
    assert ev.including_background is not None and ev.including_background.recall == 1.0


def test_health_counts_and_defects() -> None:
    graph = kg(
        {"a": [], "b": [], "c": [], "d": [], "e": []},
        [
            ("a", "Used-for", "b"),
            ("b", "Compare", "c"),
            ("c", "Compare", "b"),  # the same undirected edge again
            ("d", "Part-of", "d"),  # self-loop
            ("a", "Part-of", "x"),  # x is no entity
        ],
        {4: {"inferred": True}},
    )
    h = graph_health(graph)
    assert (h.entities, h.relations) == (5, 5)
    assert h.relation_types == {"Compare": 2, "Part-of": 2, "Used-for": 1}
    # Degrees a 2, b 3, c 2, d 2 (a self-loop counts twice), e 0.
    assert (h.degree.minimum, h.degree.median, h.degree.mean, h.degree.maximum) == (0, 2.0, 1.8, 3)
    assert {k: v for k, v in h.degree.histogram.items() if v} == {"0": 1, "2": 3, "3-5": 1}
    assert (h.components, h.largest_component, h.isolated_entities) == (3, 3, 1)
    assert h.inferred_share == 0.2
    assert (h.self_loops, h.duplicate_edges, h.dangling_edges) == (1, 1, 1)
    assert h.problems == ["1 self-loop(s)", "1 duplicate edge(s)", "1 edge(s) to an entity not in the graph"]


def test_health_of_a_sound_graph_has_no_problems() -> None:
    h = graph_health(NMT_GRAPH)
    assert (h.self_loops, h.duplicate_edges, h.dangling_edges, h.problems) == (0, 0, 0, [])
    assert (h.components, h.largest_component) == (1, 5)


def test_grounding_names_and_evidence_in_source_chunks() -> None:
    graph = kg(
        {"BLEU": [], "neural machine translation": ["NMT"], "encoder": [], "decoder": []},
        [
            ("BLEU", "Evaluate-for", "neural machine translation"),
            ("encoder", "Part-of", "neural machine translation"),
            ("decoder", "Part-of", "encoder"),
            ("BLEU", "Compare", "encoder"),  # no candidate: its source documents' chunks are used
            ("decoder", "Used-for", "BLEU"),  # inferred: the two are never in one chunk
            ("decoder", "Part-of", "neural machine translation"),  # inferred: d3 says so
        ],
        {
            1: {"support": 2},
            2: {"support": 1},
            3: {"sources": ["d1", "d2"]},
            4: {"inferred": True},
            5: {"inferred": True},
        },
    )
    chunks = [
        Chunk(
            id="d1#0",
            doc_id="d1",
            text="BLEU is used to evaluate Neural-Machine Translation systems.",
            start=0,
            end=60,
        ),
        Chunk(id="d2#0", doc_id="d2", text="Encoders read the input.", start=0, end=24),
        Chunk(id="d3#0", doc_id="d3", text="A decoder is a kind of NMT module.", start=0, end=34),
    ]

    def cand(h: str, r: str, t: str, chunk: str, evidence: str) -> Candidate:
        prov = Provenance(doc_id=chunk.split("#")[0], chunk_id=chunk, evidence=evidence)
        return Candidate(head=h, relation=r, tail=t, provenance=[prov])

    candidates = [
        cand("BLEU", "Evaluate-for", "NMT", "d1#0", "used to evaluate neural machine translation"),
        cand("encoder", "Part-of", "NMT", "d2#0", "Encoders read the input"),
        cand("decoder", "Part-of", "encoder", "d2#0", "the decoder writes the output"),
        cand("decoder", "Hyponym-Of", "NMT", "d3#0", "A decoder is a kind of NMT module"),
    ]
    g = ground(graph, candidates, chunks)
    # BLEU/NMT grounded (punctuation and case ignored); encoder occurs as 'Encoders'.
    assert (g.relations_checked, g.relations_grounded, g.relations_grounded_share) == (4, 1, 0.25)
    assert g.head_or_tail_missing == 2
    assert (g.evidence_checked, g.evidence_grounded, g.evidence_grounded_share) == (4, 3, 0.75)
    assert [(o.relation, o.missing) for o in g.ungrounded] == [
        ("(encoder, Part-of, neural machine translation)", ["neural machine translation"]),
        ("(decoder, Part-of, encoder)", ["decoder"]),
        ("(BLEU, Compare, encoder)", []),  # both occur, never in the same chunk
    ]
    assert g.ungrounded[2].chunks == ["d1#0", "d2#0"]
    assert g.ungrounded_evidence == ["d2#0: the decoder writes the output"]
    # Inferred relations apart: against the chunks either entity was extracted from.
    assert (g.inferred_checked, g.inferred_grounded, g.inferred_grounded_share) == (2, 1, 0.5)
    [apart] = g.inferred_ungrounded
    assert (apart.relation, apart.missing, apart.chunks) == (
        "(decoder, Used-for, BLEU)",
        [],
        ["d1#0", "d2#0", "d3#0"],
    )


def test_every_ungrounded_relation_is_kept_and_each_kind_is_shown() -> None:
    """5c6714b kept the 10 worst: with 12 relations missing both names, the 2 missing one were hidden."""
    names: dict[str, list[str]] = {f"invented {i}": [] for i in range(24)}
    names.update({"BLEU": [], "machine translation": []})
    relations = [(f"invented {2 * i}", "Compare", f"invented {2 * i + 1}") for i in range(12)]
    relations += [("BLEU", "Used-for", "invented 0"), ("invented 1", "Used-for", "machine translation")]
    chunk = Chunk(id="d1#0", doc_id="d1", text="BLEU evaluates machine translation.", start=0, end=35)
    prov = [Provenance(doc_id="d1", chunk_id="d1#0", evidence="")]
    candidates = [Candidate(head=h, relation=r, tail=t, provenance=prov) for h, r, t in relations]
    g = ground(kg(names, relations), candidates, [chunk])
    assert [len(o.missing) for o in g.ungrounded] == [2] * 12 + [1, 1]
    shown = render_text(
        EvalReport(
            run_dir="r", created_at="", kgc_version="", health=graph_health(kg(names, relations)), grounding=g
        )
    )
    assert "Relations with both names in none of their source chunks (12)" in shown
    assert "... and 2 more (every one in eval.json)" in shown
    assert "Relations with one name in none of their source chunks (2)" in shown
    assert "(BLEU, Used-for, invented 0)  missing: invented 0" in shown


def render_text(report: EvalReport) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(render(report))
    return console.export_text()


@pytest.mark.parametrize(
    ("needle", "text", "expected"),
    [
        ("language model", "Large Language-Models are", True),
        ("bert", "RoBERTa is", False),
        ("BERT", "we fine-tune BERT.", True),
        ("", "anything", False),
    ],
)
def test_occurs_at_word_start_ignoring_case_and_punctuation(needle: str, text: str, expected: bool) -> None:
    from kgc.evaluate.grounding import occurs, plain

    assert occurs(needle, plain(text)) is expected


def test_compare_two_runs() -> None:
    a = kg(
        {"neural machine translation": ["NMT"], "machine translation": [], "BLEU": []},
        [
            ("neural machine translation", "Hyponym-Of", "machine translation"),
            ("BLEU", "Evaluate-for", "neural machine translation"),
        ],
    )
    b = kg(
        {"NMT": [], "Machine Translations": [], "ROUGE": [], "BLEU": []},
        [
            ("NMT", "Hyponym-Of", "Machine Translations"),  # the same edge in other spellings
            ("ROUGE", "Evaluate-for", "NMT"),  # ROUGE is not in A
            ("NMT", "Evaluate-for", "BLEU"),  # A's pair, the other direction
        ],
    )
    c = compare_graphs(a, b, other_run="runs/b")
    assert c.entities == {"a": 3, "b": 4, "shared": 3, "only_a": 0, "only_b": 1}
    assert c.relations == {"a": 2, "b": 3, "shared": 1, "only_a": 1, "only_b": 2, "other_relation": 1}
    assert (c.relations_score.precision, c.relations_score.recall, c.relations_score.f1) == (0.5, 0.3333, 0.4)
    assert (c.pairs_score.precision, c.pairs_score.recall, c.pairs_score.f1) == (1.0, 0.6667, 0.8)
    assert c.only_a == ["(BLEU, Evaluate-for, neural machine translation)"]
    assert sorted(c.only_b) == [
        "(ROUGE, Evaluate-for, neural machine translation)",
        "(neural machine translation, Evaluate-for, BLEU)",
    ]
    assert c.other_relation == [
        "A (BLEU, Evaluate-for, neural machine translation), B (neural machine translation, Evaluate-for, BLEU)"
    ]
