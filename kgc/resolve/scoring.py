"""How alike two names are, what forbids merging them, and which band a scored pair falls in.

Vetoes cost nothing and win over any similarity: different numbers ('GPT-3' / 'GPT-4'), different
model sizes or versions ('BERT-base' / 'BERT-large'), a negating or scoping prefix ('supervised' /
'unsupervised'), different entity types. A pair whose names differ by a whole word (added, dropped or
replaced by a word that is not a misspelling of it) is a near-homonym: it can reach the LLM band,
never an automatic merge ('machine translation' / 'machine transliteration').
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from kgc.config import ResolveConfig
from kgc.resolve.acronyms import abbreviates, abbreviates_partially, looks_like_acronym, short_letters
from kgc.resolve.keys import numbers, words
from kgc.resolve.types import Node

VARIANT_WORDS = frozenset(
    {"base", "large", "small", "tiny", "mini", "medium", "xl", "xxl", "cased", "uncased", "lite", "distilled"}
)
SCOPING_PREFIXES = (
    "un", "non", "semi", "self", "weakly", "multi", "cross", "pre", "post", "sub", "dis", "bi", "uni",
    "in", "im", "ir", "de", "intra", "inter", "mono", "zero", "few",
)  # fmt: skip


def string_similarity(a: str, b: str) -> float:
    """rapidfuzz ratio of two name keys, 0-1."""
    return round(fuzz.ratio(a, b) / 100, 4)


def _scoped(x: str, y: str) -> bool:
    """'supervised' / 'unsupervised', 'lingual' / 'multi-lingual': one is the other with a prefix."""
    short, long = sorted((x, y), key=len)
    return long.endswith(short) and long[: len(long) - len(short)].rstrip("-") in SCOPING_PREFIXES


def veto(a: Node, b: Node) -> str | None:
    """Why two names can never be one entity, or None."""
    if numbers(a.key) != numbers(b.key):
        return "different numbers"
    wa, wb = set(words(a.key)), set(words(b.key))
    if (wa ^ wb) & VARIANT_WORDS:
        return "different versions"
    if (wa ^ wb) & set(SCOPING_PREFIXES) or any(_scoped(x, y) for x in wa - wb for y in wb - wa):
        return "a negating or scoping prefix"
    if a.type and b.type and a.type != b.type:
        return "different types"
    return None


def _misspelling(x: str, y: str) -> bool:
    """'transfomer' / 'transformer', 'dialog' / 'dialogue': a typo or spelling variant of one word."""
    if x.startswith(y) or y.startswith(x):
        return abs(len(x) - len(y)) <= 3
    return Levenshtein.distance(x, y) <= max(1, min(len(x), len(y)) // 4)


def near_homonym(a: str, b: str) -> bool:
    """Names that differ by a whole word rather than a misspelling."""
    wa, wb = words(a), words(b)
    if len(wa) != len(wb):
        return True
    return not all(x == y or _misspelling(x, y) for x, y in zip(wa, wb, strict=True))


def abbreviation_of(a: Node, b: Node) -> bool:
    """One name is an acronym or a partial abbreviation of the other ('NMT', 'open IE')."""
    for short, long in ((a, b), (b, a)):
        if any(looks_like_acronym(s) for s in short.surfaces) and abbreviates(
            short_letters(short.label), long.key
        ):
            return True
        if abbreviates_partially(short.key, long.key):
            return True
    return False


@dataclass(frozen=True)
class Verdict:
    decision: Literal["merge", "reject", "undecided"]
    band: Literal["high", "llm", "low", "veto"]
    reason: str


def decide(a: Node, b: Node, string: float, embedding: float | None, cfg: ResolveConfig) -> Verdict:
    """The band of a scored pair: merge above the high threshold, the LLM between, reject below."""
    if (why := veto(a, b)) is not None:
        return Verdict("reject", "veto", why)
    homonym = near_homonym(a.key, b.key)
    long_enough = min(len(a.key), len(b.key)) >= cfg.min_fuzzy_chars
    if string >= cfg.merge_threshold and not homonym and long_enough:
        return Verdict("merge", "high", "fuzzy")
    agree = embedding is not None and embedding >= cfg.embedding_threshold and string >= cfg.band_threshold
    if agree and not homonym:  # two independent signals agree
        return Verdict("merge", "high", "embedding")
    if string >= cfg.band_threshold or (embedding is not None and embedding >= cfg.embedding_band_threshold):
        return Verdict("undecided", "llm", "near-homonym" if homonym else "between the thresholds")
    return Verdict("reject", "low", "below the band")


def compatible(a: Node, b: Node, cfg: ResolveConfig) -> tuple[bool, float]:
    """May these two names sit in one cluster? Checked for every member a name would join, so a chain
    of pairs that each look alike ('machine learning' ~ 'machine translation' ~ 'neural machine
    translation') cannot make one entity of names that do not."""
    if veto(a, b) is not None:
        return False, 0.0
    s = string_similarity(a.key, b.key)
    if s >= cfg.band_threshold:
        return True, s
    if abbreviation_of(a, b):
        return True, ACRONYM_SCORE
    return False, s


ACRONYM_SCORE = 0.95  # the score recorded for an acronym read out of a name found in the corpus
DEFINITION_SCORE = 1.0  # ... and for one defined in a document ('neural machine translation (NMT)')
