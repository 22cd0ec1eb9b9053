"""From a model's raw triplets to the ones that may enter the graph: names grounded in the passage,
coordinations split, generic and clause names refused, every drop counted by reason.

A name is **grounded** when it is a candidate span of the passage (kgc.extraction.spans) or occurs
in the passage up to case, plural and hyphens; it is then written as the passage writes it. A name
that is neither is snapped to the closest candidate when one is close enough (a model that wrote
`neural networks model` for the span `neural network model`), and dropped otherwise.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from itertools import product

from rapidfuzz import fuzz, process, utils

from kgc.extraction.names import NameRules, conjuncts, is_clause, is_generic, key
from kgc.extraction.spans import PassageSpans
from kgc.schema import RelationSchema
from kgc.text import clean_text

SNAP_THRESHOLD = 90.0  # rapidfuzz ratio (0-100) from which a name is taken to mean a candidate


@dataclass(frozen=True)
class RawTriplet:
    head: str
    relation: str
    tail: str


@dataclass(frozen=True)
class CleanTriplet:
    head: str
    relation: str  # the schema's spelling
    tail: str
    evidence: str  # the sentence(s) of the passage holding both names

    def as_tuple(self) -> tuple[str, str, str]:
        return (self.head, self.relation, self.tail)


class Grounder:
    """Finds the passage's own spelling of a name, or the candidate it means."""

    def __init__(self, passage: PassageSpans):
        self.passage = passage
        self.candidates = passage.names()
        self._by_lower = {n.lower(): n for n in self.candidates}
        self._by_key: dict[str, str] = {}
        for n in self.candidates:
            self._by_key.setdefault(key(n), n)
        self._words = [(m.start(), m.end()) for m in re.finditer(r"[\w'-]+", passage.text)]

    def candidate(self, name: str) -> str | None:
        """The candidate `name` is, up to case, plural and hyphens."""
        found = self._by_lower.get(name.lower())
        return found if found is not None else self._by_key.get(key(name))

    def ground(self, name: str) -> str | None:
        """The passage's spelling of `name`, or None when it names nothing in the passage."""
        if (found := self.candidate(name)) is not None:
            return found
        k = key(name)
        if not k:
            return None
        if (found := self._in_text(name, k)) is not None:
            return found
        if self.candidates:
            best = process.extractOne(
                name,
                self.candidates,
                scorer=fuzz.ratio,
                processor=utils.default_process,
                score_cutoff=SNAP_THRESHOLD,
            )
            if best is not None:
                return str(best[0])
        return None

    def _in_text(self, name: str, k: str) -> str | None:
        """`name` as a run of whole words of the passage, compared by `key` (case, plural, hyphens)."""
        n = len(re.findall(r"[\w'-]+", name))
        text = self.passage.text
        for i in range(len(self._words) - n + 1):
            start, end = self._words[i][0], self._words[i + n - 1][1]
            if key(text[start:end]) == k:
                return text[start:end]
        return None

    def evidence(self, head: str, tail: str) -> str:
        """The first sentence holding both names, else the sentences of each (in text order): where
        the triplet is stated."""
        p = self.passage
        sentences = [p.sentence_text(i) for i in range(len(p.sentences))]
        low = [s.lower() for s in sentences]
        h, t = head.lower(), tail.lower()
        both = [i for i, s in enumerate(low) if h in s and t in s]
        if both:
            return sentences[both[0]]
        ends = sorted(
            {i for name in (h, t) for i in [next((i for i, s in enumerate(low) if name in s), -1)] if i >= 0}
        )
        return " ".join(sentences[i] for i in ends)


def clean_triplets(
    raw: list[RawTriplet],
    passage: PassageSpans,
    schema: RelationSchema,
    rules: NameRules,
    max_name_chars: int,
    *,
    ground_names: bool = True,
) -> tuple[list[CleanTriplet], Counter[str]]:
    """The triplets that may enter the graph, and the reasons for the others. A coordination is split
    into one triplet per conjunct ('GPT and BERT' Used-for X: GPT Used-for X, BERT Used-for X).
    Evidence is the sentence of `passage` holding both names (the model is not asked to quote it:
    fewer tokens, and always text of the passage).

    `ground_names` False (`extraction.candidates = "off"`): names are not checked against the text,
    only cleaned and judged by the name rules."""
    sentences = Grounder(passage)
    grounder = sentences if ground_names else None
    kept: dict[tuple[str, str, str], CleanTriplet] = {}
    dropped: Counter[str] = Counter()
    for t in raw:
        rel = schema.resolve(t.relation)
        head, tail = clean_text(t.head), clean_text(t.tail)
        if rel is None:
            dropped["unknown relation"] += 1
            continue
        if not head or not tail:
            dropped["empty name"] += 1
            continue
        if len(head) > max_name_chars or len(tail) > max_name_chars:
            dropped["name too long"] += 1
            continue
        heads, why_head = concept_names(head, grounder, rules)
        tails, why_tail = concept_names(tail, grounder, rules)
        if why_head or why_tail:
            dropped[why_head or why_tail or ""] += 1
            continue
        pairs = [(h, tl) for h, tl in product(heads, tails) if key(h) != key(tl)]
        if not pairs:
            dropped["head equals tail"] += 1
        for h, tl in pairs:
            kept.setdefault(
                (h.lower(), rel.name, tl.lower()), CleanTriplet(h, rel.name, tl, sentences.evidence(h, tl))
            )
    return list(kept.values()), dropped


def concept_names(name: str, grounder: Grounder | None, rules: NameRules) -> tuple[list[str], str | None]:
    """The concept names `name` stands for (one per conjunct of a coordination whose every part is
    a candidate of the passage), or [] and why it stands for none."""
    parts = conjuncts(name)
    if len(parts) > 1:
        found = [grounder.candidate(p) for p in parts] if grounder is not None else parts
        if not all(found):
            return [], "conjunction name"
        names = [f for f in found if f is not None]
    else:
        grounded = grounder.ground(name) if grounder is not None else name
        if grounded is None:
            return [], "name not in the text"
        names = [grounded]
    for n in names:
        if is_clause(n, rules):
            return [], "clause name"
        if is_generic(n, rules):
            return [], "generic name"
    return names, None
