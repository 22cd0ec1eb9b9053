"""Relation cues: typed, directed statements between two candidate names of one sentence, read from
the sentence's syntax without an LLM (the patterns are in kgc.extraction.cue_patterns).

A small model labels and directs relations badly (with the embedded 1.5B model half of all SciERC
relations came out USED-FOR, most of them between the wrong names), while 'X such as Y', 'X
consists of Y' or 'X outperforms Y' say both the relation and its direction. Two uses, each a key
of `[extraction]`:

- `cue_retype`: an LLM triplet whose two names a cue links takes the cue's relation and direction;
- `cue_add`: the cues enter as extracted triplets themselves (provenance `cue` names the pattern),
  their names judged by the same name rules as the LLM's.

A cue's kind becomes a relation of the configured schema by `RelationSchema.for_cue` (a relation's
`cue` field, else its name); kinds the schema has no relation for are left out. Cues need the spaCy
parse of the passage (`extraction.candidates` = spacy or auto with kgc[nlp]); without it there are
none.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kgc.extraction.cue_patterns import statements
from kgc.extraction.names import EVALUATIVE, NameRules, key
from kgc.extraction.spans import PassageSpans
from kgc.extraction.triplets import CleanTriplet, PassageIndex, RawTriplet, clean_triplets, distinct
from kgc.schema import CueClass, RelationSchema

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token


_NOT_OPENING = frozenset({"ADV", "NUM", "PUNCT", "SYM", "X"})


@dataclass(frozen=True)
class Cue:
    """`head CUE tail` as a sentence states it. `head_keys`/`tail_keys` are the `key`s of every
    candidate name the two noun phrases have (narrower and wider spans of the same head word), so a
    triplet naming either end by any of them is the same statement."""

    head: str
    cue: CueClass
    tail: str
    pattern: str
    sentence: str
    head_keys: frozenset[str]
    tail_keys: frozenset[str]

    def links(self, head: str, tail: str) -> bool | None:
        """True when (head, tail) is this cue's pair in its order, False in the other, else None."""
        h, t = key(head), key(tail)
        if h in self.head_keys and t in self.tail_keys:
            return True
        if t in self.head_keys and h in self.tail_keys:
            return False
        return None


def _names_by_word(passage: PassageSpans, doc: Doc) -> dict[int, list[tuple[int, int, str]]]:
    """Token index -> the candidate names whose syntactic head it is (token range and text), the
    longest first, but a name opening with an evaluative word or a number after those without
    ('noisy images' before 'very noisy images', 'proposed architecture' last)."""
    out: dict[int, list[tuple[int, int, str]]] = {}
    plain: dict[tuple[int, int], bool] = {}
    for s in passage.spans:
        span = doc.char_span(s.start, s.end, alignment_mode="expand")
        if span is None or not len(span):
            continue
        first = span[0]
        plain[(span.start, span.end)] = first.lower_ not in EVALUATIVE and first.pos_ not in _NOT_OPENING
        out.setdefault(span.root.i, []).append((span.start, span.end, s.text))
    for names in out.values():
        names.sort(key=lambda n: (not plain[(n[0], n[1])], n[0] - n[1], n[0]))
    return out


def _ends(
    names: dict[int, list[tuple[int, int, str]]], tok: Token, other: Token
) -> tuple[str, frozenset[str]] | None:
    """The name of the phrase headed by `tok` (its longest candidate not reaching `other`: 'the
    complexity of parsing' gives 'complexity' against 'parsing'), and the keys of all of them."""
    fitting = [n for n in names.get(tok.i, []) if not n[0] <= other.i < n[1]]
    if not fitting:
        return None
    return fitting[0][2], frozenset(key(n[2]) for n in fitting)


def find_cues(passage: PassageSpans) -> list[Cue]:
    """The cues of a passage parsed by spaCy, between its candidate names; [] without a parse."""
    doc = passage.doc
    if doc is None:
        return []
    names = _names_by_word(passage, doc)
    cues = []
    for s in statements(doc):
        head, tail = _ends(names, s.head, s.tail), _ends(names, s.tail, s.head)
        if head is None or tail is None or head[1] & tail[1]:
            continue
        sentence = s.head.sent.text.strip()
        cues.append(Cue(head[0], s.cue, tail[0], s.pattern, sentence, head[1], tail[1]))
    # a pair may be coordinated and more: the more specific statement comes first
    return sorted(cues, key=lambda c: c.cue == "conjunction")


def retype(
    triplets: list[CleanTriplet], cues: list[Cue], schema: RelationSchema
) -> tuple[list[CleanTriplet], Counter[str]]:
    """Each triplet whose two names a cue links, with the cue's relation and direction (counted as
    'retyped' when the relation changed, 'flipped' when a directed relation turned round)."""
    counts: Counter[str] = Counter()
    out: list[CleanTriplet] = []
    for t in triplets:
        for cue in cues:
            relation = schema.for_cue(cue.cue)
            order = cue.links(t.head, t.tail) if relation is not None else None
            if relation is None or order is None:
                continue
            head, tail = (t.head, t.tail) if order or not relation.directed else (t.tail, t.head)
            counts["retyped"] += relation.name != t.relation
            counts["flipped"] += head != t.head and relation.directed
            t = CleanTriplet(head, relation.name, tail, cue.sentence)
            break
        out.append(t)
    return distinct(out), +counts


def cue_triplets(
    cues: list[Cue],
    index: PassageIndex,
    schema: RelationSchema,
    rules: NameRules,
    max_name_chars: int,
    known: list[CleanTriplet],
) -> tuple[list[tuple[CleanTriplet, str]], Counter[str]]:
    """The cues as triplets of the schema (with the pattern that stated each), names judged by the
    rules LLM triplets pass (kgc.extraction.triplets) and written as grounding writes them ('not
    only rich visual cues' -> 'rich visual cues'); a pair `known` already relates is left to it.
    Counts 'added' and 'refused' (a name the rules refuse: generic, a clause...)."""
    counts: Counter[str] = Counter()
    taken = {frozenset((key(t.head), key(t.tail))) for t in known}
    out = []
    for cue in cues:
        relation = schema.for_cue(cue.cue)
        if relation is None:
            continue
        # one cue at a time: a triplet keeps its cue (sentence, pattern) when grounding respells a name
        kept, dropped = clean_triplets(
            [RawTriplet(cue.head, relation.name, cue.tail)], index, schema, rules, max_name_chars
        )
        counts["refused"] += sum(dropped.values())
        for t in kept:
            pair = frozenset((key(t.head), key(t.tail)))
            if pair in taken:
                continue
            taken.add(pair)
            out.append((CleanTriplet(t.head, t.relation, t.tail, cue.sentence), cue.pattern))
    counts["added"] = len(out)
    return out, +counts
