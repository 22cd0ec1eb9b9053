"""Which way a relation runs, read from the preposition that joins its two names in their sentence.

A small model often writes a relation backwards ('reaching movements Used-for neural networks' where
the text says the movements are produced by the networks). Where no relation cue
(kgc.extraction.cues) links the two names, the sentence still says which of them is the means: in
'A for B', 'A to B' the governor A serves B; in 'A by B', 'A with B', 'A from B', 'A via B' the
object B is what A is done with. Which end that makes the head depends on the relation: 'X in Y'
makes X the head of Part-of (a part in a whole) and Y the head of Evaluate-for (evaluated in Y).

`DIRECTIONS` lists, per kind of relation, the prepositions whose direction is clear, each with how
often SciERC's annotators put the head on that end among their tune-split triplets whose two names
the preposition joins (bench/eval_directions.py measures it; results/directions.md). Prepositions
that went both ways ('of' for Used-for 19:13, 'in' 29:13, 'on' outside 'based on' 10:15) are left
out: there the model's direction stands. The names' mentions are found in the triplet's evidence
sentence (`Sentences.mention_pairs`); without spaCy's parse nothing is turned.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from kgc.extraction.mentions import Sentences
from kgc.extraction.triplets import CleanTriplet, distinct
from kgc.schema import CueClass, RelationSchema

if TYPE_CHECKING:
    from spacy.tokens import Span, Token

End = Literal["governor", "object"]  # in 'A <preposition> B': A is the governor, B the object
Attached = Literal["noun", "verb"]  # the preposition hangs on A's phrase, or on A's verb

# kind of relation -> preposition -> the end that is the relation's head. The figures are SciERC
# tune-split gold triplets joined by that preposition, head on the chosen end : on the other.
DIRECTIONS: dict[CueClass, dict[str, End]] = {
    "used-for": {
        "for": "governor",  # 145:4 'a CRF for tagging', 'X is used for Y'
        "to": "governor",  # 38:5 'apply X to Y', 'an approach to Y'
        "from": "object",  # 39:1 'Y learned from X'
        "by": "object",  # 28:3 'Y is produced by X'
        "with": "object",  # 20:1 'Y with X'
        "based on": "object",  # 31:0
        "through": "object",  # 5:0
        "via": "object",  # 4:0
    },
    "evaluate-for": {
        "of": "governor",  # 16:0 'the accuracy of Y'
        "on": "object",  # 18:0 'X is evaluated on Y'
        "in": "object",  # 11:1 'improvements in X'
    },
    "kind-of": {
        "as": "object",  # 44:3 'Y such as X'
        "like": "object",  # 10:0
        "including": "object",  # 7:0
    },
    "part-of": {
        "in": "governor",  # 24:0 'X in Y'
        "into": "governor",  # 9:0 'Y is decomposed into X'
        "from": "governor",  # 7:0 'X from Y'
    },
}
# A kind is named within a noun phrase ('Y such as X', 'Y like X'); hung on a verb, 'as' names a
# role instead ('cast X as Y', 'use X as Y': Used-for 7:16 on the tune split).
NOUN_ONLY: frozenset[CueClass] = frozenset({"kind-of"})
# Participles that make one preposition with the one they govern ('based on', 'according to').
_COMPOUND = frozenset({"based", "according", "depending"})


def _phrase(prep: Token) -> tuple[str, Token]:
    """The preposition as one phrase ('based on') and the word the phrase hangs on."""
    anchor = prep.head
    if anchor.lower_ in _COMPOUND and anchor.dep_ in ("prep", "acl", "ROOT", "advcl"):
        return f"{anchor.lower_} {prep.lower_}", anchor.head if anchor.dep_ != "ROOT" else anchor
    return prep.lower_, anchor


def _coordinated(tok: Token) -> list[Token]:
    """`tok` and the words it is coordinated under ('B' of 'A and B' -> [B, A])."""
    out = [tok]
    while tok.dep_ == "conj" and tok.head.i != tok.i:
        tok = tok.head
        out.append(tok)
    return out


def link(governor: Span, obj: Span) -> tuple[str, Attached] | None:
    """The preposition through which `obj` depends on `governor` (two mentions of one sentence), and
    how: its object is `obj`'s head word (or a word it is coordinated with), and it hangs on a word
    of `governor` or a participle `governor` governs ('noun': 'Y trained with X'), or on a verb whose
    subject or object `governor` is ('verb': 'Y is produced by X', 'we locate Y according to X')."""
    inside = {t.i for t in governor}
    for tok in _coordinated(obj.root):
        if tok.dep_ not in ("pobj", "pcomp") or tok.head.dep_ not in ("prep", "agent"):
            continue
        phrase, anchor = _phrase(tok.head)
        if anchor.i in inside:
            return phrase, "noun"
        for g in _coordinated(governor.root):
            if anchor.dep_ in ("acl", "relcl") and anchor.head.i == g.i:
                return phrase, "noun"
            if g.head.i == anchor.i and g.dep_ in ("nsubj", "nsubjpass", "dobj"):
                return phrase, "verb"
    return None


def head_end(kind: CueClass, a: Span, b: Span) -> Span | None:
    """Which of two mentions is the head of a relation of `kind`, by the preposition joining them;
    None when none joins them or its direction for `kind` is not clear."""
    table = DIRECTIONS.get(kind, {})
    for governor, obj in ((a, b), (b, a)):
        found = link(governor, obj)
        if found is None or found[0] not in table or (kind in NOUN_ONLY and found[1] != "noun"):
            continue
        return governor if table[found[0]] == "governor" else obj
    return None


def orient(
    triplets: list[CleanTriplet], sentences: Sentences, schema: RelationSchema
) -> tuple[list[CleanTriplet], Counter[str]]:
    """The triplets, each directed relation turned round where a preposition joining its two names
    in its evidence sentence says the other end is the head (counted as 'oriented')."""
    counts: Counter[str] = Counter()
    out: list[CleanTriplet] = []
    for t in triplets:
        rel = schema.resolve(t.relation)
        kind = rel.cue_kind if rel is not None and rel.directed else None
        if kind in DIRECTIONS:
            pairs = sentences.mention_pairs(t.head, t.tail, t.evidence)
            if _stated_head(kind, pairs) is False:
                t = CleanTriplet(t.tail, t.relation, t.head, t.evidence)
                counts["oriented"] += 1
        out.append(t)
    return distinct(out), +counts


def _stated_head(kind: CueClass, pairs: Iterator[tuple[Span, Span]]) -> bool | None:
    """Whether a preposition joining a mention of the head and one of the tail says the head is the
    head (True), the tail is (False), or nothing (None)."""
    for h, tl in pairs:
        end = head_end(kind, h, tl)
        if end is not None:
            return end is h
    return None
