"""Where a triplet is stated: the sentence of the passage that mentions both of its names apart.

A relation is between two mentions, and SciERC's annotators state each in one sentence (its gold
triplets whose names are not in one sentence went through a coreferent; the demo's gold is .72 in
one sentence: bench/results/gold_sentences.md). So a triplet is kept when one sentence of the passage
mentions its head and its tail as two mentions, and that sentence is its evidence. Two names met
only inside one mention ('accuracy of a term aggregation system' and 'term aggregation system') are
one mention, not two: the longer name is re-anchored to what is left of it when that is a concept
of its own joined by a preposition ('accuracy' of X), and the pair is dropped otherwise ('two
parsing algorithms' and 'parsing algorithms' name one concept; 'generating referring expressions'
and 'referring expressions' name no second one). Triplets whose heads are one mention and whose
tails are too are variants of one statement (kgc.extraction.triplets.one_per_statement).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kgc.extraction.span_words import DETERMINERS
from kgc.extraction.spans import PassageSpans

if TYPE_CHECKING:
    from spacy.tokens import Span

# What may join a concept to the one it holds ('accuracy of X', 'features for X', 'X in Y').
PREPOSITIONS = frozenset(["of", "for", "in", "on", "from", "over", "with", "between", "among", "to", "by"])
# Heads that name a quantity or a variant of what follows them, not a second concept: 'a set of
# corpora' is corpora, 'a reweighted version of X' is X.
PARTITIVES = frozenset(
    [
        "set",
        "subset",
        "number",
        "amount",
        "kind",
        "type",
        "sort",
        "form",
        "variety",
        "range",
        "series",
        "collection",
        "group",
        "family",
        "class",
        "pair",
        "lot",
        "majority",
        "version",
        "variant",
        "use",
        "example",
        "instance",
        "part",
    ]
)
APART, NESTED = "names in different sentences", "one name inside the other"
VARIANT = "a shorter variant of another triplet"
_WORD = re.compile(r"[\w'-]+")


@dataclass(frozen=True)
class Stated:
    """Where a pair of names is stated: a sentence mentioning both apart, or why none does."""

    sentence: int | None
    why_not: str | None = None  # APART or NESTED when `sentence` is None


class Sentences:
    """Where each name is mentioned in the sentences of one passage (split once, when the passage was
    read): case-insensitive, at word boundaries (a hyphen joins words), plural allowed."""

    def __init__(self, passage: PassageSpans):
        self.passage = passage
        self._low = passage.text.lower()
        self._mentions: dict[str, list[tuple[int, int]]] = {}

    def sentence(self, i: int) -> str:
        return self.passage.sentence_text(i)

    def sentence_of(self, offset: int) -> int:
        return self.passage.sentence_of(offset)

    def between(self, first: int, last: int) -> str:
        """The text from sentence `first` to sentence `last`: a stretch of the passage."""
        ranges = self.passage.sentences
        return self.passage.text[ranges[first][0] : ranges[last][1]].strip()

    def mentions(self, name: str) -> list[tuple[int, int]]:
        """Character ranges where `name` is written in the passage."""
        low = name.lower().strip()
        if low not in self._mentions:
            self._mentions[low] = [m.span() for m in mention_pattern(low).finditer(self._low)] if low else []
        return self._mentions[low]

    def overlap(self, a: str, b: str) -> bool:
        """Whether `a` and `b` are written as one mention somewhere (the same name, or overlapping)."""
        return a.lower() == b.lower() or any(
            x[0] < y[1] and y[0] < x[1] for x in self.mentions(a) for y in self.mentions(b)
        )

    def stated(self, head: str, tail: str) -> Stated:
        """The first sentence that mentions `head` and `tail` apart (neither mention overlapping the
        other); else NESTED when some sentence holds them only overlapping, APART otherwise."""
        heads, tails = self._by_sentence(head), self._by_sentence(tail)
        overlapping = False
        for i in sorted(heads.keys() & tails.keys()):
            if any(h[1] <= t[0] or t[1] <= h[0] for h in heads[i] for t in tails[i]):
                return Stated(i)
            overlapping = True
        return Stated(None, NESTED if overlapping else APART)

    def mention_pairs(self, head: str, tail: str, sentence: str) -> Iterator[tuple[Span, Span]]:
        """Each mention of `head` with each of `tail` apart from it in the passage's sentence whose
        text is `sentence` (a triplet's evidence), as spans of the passage's parse; none without one."""
        doc = self.passage.doc
        if doc is None or not sentence:
            return
        for hs, he in self.mentions(head):
            i = self.sentence_of(hs)
            if self.sentence(i) != sentence:
                continue
            for ts, te in self.mentions(tail):
                if self.sentence_of(ts) != i or not (he <= ts or te <= hs):
                    continue
                h = doc.char_span(hs, he, alignment_mode="expand")
                t = doc.char_span(ts, te, alignment_mode="expand")
                if h is not None and t is not None and len(h) and len(t):
                    yield h, t

    def _by_sentence(self, name: str) -> dict[int, list[tuple[int, int]]]:
        """The mentions of `name`, by the sentence each starts in."""
        out: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for m in self.mentions(name):
            out[self.sentence_of(m[0])].append(m)
        return out


def mention_pattern(name: str) -> re.Pattern[str]:
    """`name` as a mention in lower-cased text: at word boundaries (a hyphen joins words), plural
    allowed."""
    return re.compile(rf"(?<![\w-]){re.escape(name.lower())}(?:e?s)?(?![\w-])")


def remainder(longer: str, shorter: str) -> str | None:
    """The concept `longer` names besides `shorter` when it holds it joined by a preposition:
    ('accuracy of a term aggregation system', 'term aggregation system') -> 'accuracy';
    ('fast computation of lexical affinity models', 'fast computation') -> 'lexical affinity models'.
    None when `shorter` is only modified ('two parsing algorithms', 'Web search engines'), or the
    head is a partitive ('set of coherent corpora', 'reweighted version of X'): one concept, not two."""
    m = mention_pattern(shorter).search(longer.lower())
    if m is None:
        return None
    words = list(_WORD.finditer(longer))
    before = [w for w in words if w.end() <= m.start()]
    after = [w for w in words if w.start() >= m.end()]
    if before and not after:  # X of [the] shorter: X is the head
        while before and before[-1].group().lower() in DETERMINERS:
            before.pop()
        if len(before) < 2 or before[-1].group().lower() not in PREPOSITIONS:
            return None
        rest, head = before[:-1], before[-2].group()
    elif after and not before:  # shorter of [the] X: shorter is the head
        if len(after) < 2 or after[0].group().lower() not in PREPOSITIONS:
            return None
        rest, head = after[1:], _WORD.findall(shorter)[-1]
        while rest and rest[0].group().lower() in DETERMINERS:
            rest = rest[1:]
    else:
        return None
    if not rest or head.lower() in PARTITIVES:
        return None
    return longer[rest[0].start() : rest[-1].end()]
