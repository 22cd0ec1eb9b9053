"""From a model's raw triplets to the ones that may enter the graph: names grounded in the passage,
coordinations split, generic and clause names refused, every drop counted by reason.

A name is **grounded** when it is a candidate span of the passage (kgc.extraction.spans) or occurs
in the passage up to case, plural and hyphens; it is then written as the passage writes it. A name
that is neither is snapped to the closest candidate when one is close enough (a model that wrote
`neural networks model` for the span `neural network model`), and dropped otherwise. A name that
starts or ends inside a word of the text is widened to the whole word (`-moving Lambertian object`
-> `rigidly-moving Lambertian object`).

A one-word name the passage uses only as an adjective, adverb or verb (`smaller` of `smaller, frequent
pieces`) is refused as a generic name: a modifier or an action cut from a phrase (spaCy's parse).

A triplet is kept when one sentence mentions both names apart; that sentence is its evidence
(kgc.extraction.mentions says why, and what is done with a name met only inside the other).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from itertools import product

from rapidfuzz import fuzz, process, utils

from kgc.extraction.mentions import APART, NESTED, VARIANT, Sentences, remainder
from kgc.extraction.names import NameRules, classified, conjuncts, is_clause, is_generic, key, one_word
from kgc.extraction.spans import PassageSpans
from kgc.schema import RelationSchema
from kgc.text import clean_text

SNAP_THRESHOLD = 90.0  # rapidfuzz ratio (0-100) from which a name is taken to mean a candidate
# Penn tags of words a noun phrase never starts with: adverbs, wh-words, modals, finite verbs,
# prepositions, conjunctions ('not only rich visual cues', 'how conventional algorithms').
NOT_NOUN_PHRASE_START = frozenset(
    ["RB", "RBR", "RBS", "WRB", "WDT", "WP", "MD", "VBZ", "VBD", "VBP", "IN", "CC", "TO", "EX", "UH"]
)

# Penn tags of a word that names no concept on its own: adjectives, adverbs, bare and finite verbs.
NOT_A_NOUN = frozenset(["JJ", "JJR", "JJS", "RB", "RBR", "RBS", "VB", "VBD", "VBP", "VBZ"])


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
    evidence: str  # the sentence of the passage that mentions both names

    def as_tuple(self) -> tuple[str, str, str]:
        return (self.head, self.relation, self.tail)


def distinct(triplets: list[CleanTriplet]) -> list[CleanTriplet]:
    """The triplets, one per head, relation and tail up to case (the first of each), in order: a rule
    that re-types or turns round a triplet may make it the twin of another."""
    out: dict[tuple[str, str, str], CleanTriplet] = {}
    for t in triplets:
        out.setdefault((t.head.lower(), t.relation, t.tail.lower()), t)
    return list(out.values())


class Grounder:
    """Finds the passage's own spelling of a name, or the candidate it means."""

    def __init__(self, passage: PassageSpans):
        self.passage = passage
        self.candidates = passage.names()
        self._by_lower = {n.lower(): n for n in self.candidates}
        self._by_key: dict[str, str] = {}
        for n in self.candidates:
            self._by_key.setdefault(key(n), n)
        self._low = passage.text.lower()  # lower-cased once: every name is looked up in it
        self._words = [(m.start(), m.end()) for m in re.finditer(r"[\w'-]+", passage.text)]

    def candidate(self, name: str) -> str | None:
        """The candidate `name` is, up to case, plural and hyphens (in whole words)."""
        found = self._by_lower.get(name.lower())
        found = found if found is not None else self._by_key.get(key(name))
        return self.as_written(found) if found is not None else None

    def ground(self, name: str) -> str | None:
        """The passage's spelling of `name` (in whole words), or None when it names nothing in the
        passage."""
        if (found := self.candidate(name)) is not None:
            return found
        k = key(name)
        if not k:
            return None
        if (found := self._in_text(name, k)) is not None:
            return self.noun_phrase(found)
        if self.candidates:
            best = process.extractOne(
                name,
                self.candidates,
                scorer=fuzz.ratio,
                processor=utils.default_process,
                score_cutoff=SNAP_THRESHOLD,
            )
            if best is not None:
                return self.as_written(str(best[0]))
        return None

    def as_written(self, name: str) -> str:
        """`name` in whole words, without the words before it that cannot start a noun phrase."""
        return self.noun_phrase(self.whole_words(name))

    def noun_phrase(self, name: str) -> str:
        """`name` without leading words spaCy's parse of the passage tags as adverbs, finite verbs,
        prepositions or wh-words ('not only rich visual cues' -> 'rich visual cues', 'how
        conventional algorithms' -> 'conventional algorithms'); as it is without a parse."""
        doc = self.passage.doc
        start = self._low.find(name.lower())
        span = (
            doc.char_span(start, start + len(name), alignment_mode="expand") if doc and start >= 0 else None
        )
        if span is None:
            return name
        lead = 0
        # a word glued to the next ('on-line': 'on', '-', 'line') is part of it
        while lead < len(span) - 1 and span[lead].tag_ in NOT_NOUN_PHRASE_START and span[lead].whitespace_:
            lead += 1
        return name[span[lead].idx - start :] if lead else name

    def whole_words(self, name: str) -> str:
        """`name` as the passage writes it at word boundaries: where it is written only inside words
        (a span finder that split 'rigidly-moving' at its hyphen), widened to those whole words."""
        text, low = self.passage.text, self._low
        first: tuple[int, int] | None = None
        for m in re.finditer(re.escape(name.lower()), low):
            start, end = m.span()
            inside_start = start > 0 and _in_word(text[start - 1]) and _in_word(text[start])
            inside_end = end < len(text) and _in_word(text[end]) and _in_word(text[end - 1])
            if not inside_start and not inside_end:
                return name
            first = first or (start, end)
        if first is None:
            return name
        start, end = first
        while start > 0 and _in_word(text[start - 1]):
            start -= 1
        while end < len(text) and _in_word(text[end]):
            end += 1
        return text[start:end].strip("-'")

    def _in_text(self, name: str, k: str) -> str | None:
        """`name` as a run of whole words of the passage, compared by `key` (case, plural, hyphens)."""
        n = len(re.findall(r"[\w'-]+", name))
        text = self.passage.text
        for i in range(len(self._words) - n + 1):
            start, end = self._words[i][0], self._words[i + n - 1][1]
            if key(text[start:end]) == k:
                return text[start:end]
        return None


def _in_word(c: str) -> bool:
    return c.isalnum() or c in "_-'"


class PassageIndex:
    """A passage indexed once for the triplet rules: where each name is mentioned (`sentences`) and,
    when names are grounded, the passage's own spelling of a name (`grounder`). One per passage,
    shared by its LLM triplets, their variants and its cue triplets.

    `ground_names` False (`extraction.candidates = "off"`): names are not checked against the text,
    only cleaned and judged by the name rules (a name the text does not hold has no evidence)."""

    def __init__(self, passage: PassageSpans, *, ground_names: bool = True):
        self.passage = passage
        self.sentences = Sentences(passage)
        self.grounder = Grounder(passage) if ground_names else None


def clean_triplets(
    raw: list[RawTriplet],
    index: PassageIndex,
    schema: RelationSchema,
    rules: NameRules,
    max_name_chars: int,
    *,
    same_sentence: bool = True,
) -> tuple[list[CleanTriplet], Counter[str]]:
    """The triplets that may enter the graph, and the reasons for the others. A coordination is split
    into one triplet per conjunct ('GPT and BERT' Used-for X: GPT Used-for X, BERT Used-for X).
    Evidence is the sentence of `passage` that mentions both names (the model is not asked to quote
    it: fewer tokens, and always text of the passage); with `same_sentence` False a pair mentioned
    only in different sentences is kept too, its evidence the stretch of text between them."""
    grounder, sentences = index.grounder, index.sentences
    kept: list[CleanTriplet] = []
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
            stated = where_stated(h, tl, sentences, grounder, rules, same_sentence=same_sentence)
            if isinstance(stated, str):
                dropped[stated] += 1
                continue
            h, tl, evidence = stated
            kept.append(CleanTriplet(h, rel.name, tl, evidence))
    return distinct(kept), dropped


def one_per_statement(
    triplets: list[CleanTriplet], sentences: Sentences
) -> tuple[list[CleanTriplet], Counter[str]]:
    """The triplets without the variants of one statement: a model that relates 'reweighted version
    of the Kikuchi approximation', 'version of the Kikuchi approximation' and 'Kikuchi approximation'
    to one name states one relation, not three. Triplets of one relation and sentence whose heads are
    one mention (overlapping in the text) and whose tails are too are variants; the one with the
    longest names stays (annotators mark the whole mention); the others are counted as dropped."""
    longest_first = sorted(triplets, key=lambda t: -(len(t.head) + len(t.tail)))
    stays: list[CleanTriplet] = []
    for t in longest_first:
        if not any(
            o.relation == t.relation
            and o.evidence == t.evidence
            and sentences.overlap(o.head, t.head)
            and sentences.overlap(o.tail, t.tail)
            for o in stays
        ):
            stays.append(t)
    kept, gone = set(map(id, stays)), len(triplets) - len(stays)
    return [t for t in triplets if id(t) in kept], Counter({VARIANT: gone} if gone else {})


def where_stated(
    head: str,
    tail: str,
    sentences: Sentences,
    grounder: Grounder | None,
    rules: NameRules,
    *,
    same_sentence: bool,
) -> tuple[str, str, str] | str:
    """(head, tail, evidence) as the passage states the pair, or why it states none: the names are
    met only inside one mention and what is left is no concept (NESTED), or they are mentioned in
    different sentences (APART, with `same_sentence`)."""
    found = sentences.stated(head, tail)
    if found.sentence is not None:
        return head, tail, sentences.sentence(found.sentence)
    if found.why_not == NESTED:
        anchored = reanchored(head, tail, grounder, rules)
        if anchored is not None and (again := sentences.stated(*anchored)).sentence is not None:
            return (*anchored, sentences.sentence(again.sentence))
        return NESTED
    heads, tails = sentences.mentions(head), sentences.mentions(tail)
    if not heads or not tails:
        return head, tail, ""  # a name not grounded (`ground_names` False) that the text does not hold
    if same_sentence:
        return APART
    first, last = sorted((sentences.sentence_of(heads[0][0]), sentences.sentence_of(tails[0][0])))
    return head, tail, sentences.between(first, last)


def reanchored(head: str, tail: str, grounder: Grounder | None, rules: NameRules) -> tuple[str, str] | None:
    """The pair with the name that holds the other cut to the concept it adds ('accuracy of a term
    aggregation system' Part-of 'term aggregation system' -> 'accuracy' Part-of it), when that is a
    candidate name of the passage; None otherwise."""
    if grounder is None:
        return None
    for longer, shorter in ((head, tail), (tail, head)):
        rest = remainder(longer, shorter)
        found = grounder.candidate(rest) if rest else None
        if found is None or key(found) == key(shorter) or is_clause(found, rules) or is_generic(found, rules):
            continue
        return (found, tail) if longer is head else (head, found)
    return None


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
    names = [classified(n) for n in names]  # 'a form of tokenization' names tokenization
    for n in names:
        if is_clause(n, rules):
            return [], "clause name"
        if is_generic(n, rules) or (grounder is not None and not_a_noun(n, grounder.passage)):
            return [], "generic name"
    return names, None


def not_a_noun(name: str, passage: PassageSpans) -> bool:
    """A one-word lower-case name the passage only ever uses as an adjective, adverb or finite or
    bare verb ('smaller', 'semantic', 'past'): a modifier or an action cut from a phrase, not
    a concept. Gerunds and participles stay ('parsing', 'clustering'); so do names written with a
    capital or a digit ('BERT', 'GloVe'). Needs the passage's parse; without it nothing is refused."""
    word = name.strip()
    if passage.doc is None or not one_word(word):
        return False
    tags = [t.tag_ for t in passage.doc if t.lower_ == word]
    return bool(tags) and all(tag in NOT_A_NOUN for tag in tags)
