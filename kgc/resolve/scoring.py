"""How alike two names are, what forbids merging them, and which band a scored pair falls in.

Vetoes cost nothing and win over any similarity: different numbers ('GPT-3' / 'GPT-4'), different
model sizes or versions ('BERT-base' / 'BERT-large'), a negating or scoping prefix ('supervised' /
'unsupervised'), different entity types. A pair whose names differ by a whole word (added, dropped or
replaced by a word that is not a misspelling of it) is a near-homonym: it can reach the LLM band,
never an automatic merge ('machine translation' / 'machine transliteration').
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from kgc.config import ResolveConfig
from kgc.resolve.acronyms import (
    ACRONYM_SCORE,
    abbreviates,
    abbreviates_partially,
    looks_like_acronym,
    short_letters,
)
from kgc.resolve.forms import same_action_form
from kgc.resolve.keys import numbers
from kgc.resolve.types import Node
from kgc.text import words

VARIANT_WORDS = frozenset(
    {"base", "large", "small", "tiny", "mini", "medium", "xl", "xxl", "cased", "uncased", "lite", "distilled"}
)
SCOPING_PREFIXES = (
    "un", "non", "semi", "self", "weakly", "multi", "cross", "pre", "post", "sub", "dis", "bi", "uni",
    "in", "im", "ir", "de", "intra", "inter", "mono", "zero", "few",
)  # fmt: skip
# Written apart ('non contextual', 'multi modal') these are joined to the next word before comparing;
# 'in', 'de'... are left out: as separate words they are function words or names.
_SEPARABLE = frozenset(SCOPING_PREFIXES) - {"in", "im", "ir", "de", "dis"}
# Word endings that do not change what a word names ('dialog'/'dialogue', 'position'/'positional').
_SAME_WORD_ENDINGS = ("s", "es", "e", "ue", "d", "ed", "ly", "al")
# Endings that make another word of one stem ('prediction' / 'predictor', 'detection' / 'detector'):
# two words that differ by one of these for another are not a typo of each other.
_DERIVATIONS = frozenset(
    f"{e}{s}"
    for e in ("ion", "or", "er", "ive", "ity", "ment", "ance", "ence", "ist", "ism", "ing")
    for s in ("", "s")
)


class Vocabulary:
    """How many distinct names each word occurs in: a word found in several names is a real word, so
    a close spelling of it is another word ('context' / 'content'), not a typo."""

    def __init__(self, keys: list[str], real_word_names: int):
        self.names_with: Counter[str] = Counter(w for k in keys for w in set(words(k)))
        self.threshold = real_word_names

    def both_real(self, x: str, y: str) -> bool:
        """Both words are in `threshold` names or more, and neither is ten times rarer than the other
        (a typo copied from a text into a few names is still a typo of a word in hundreds)."""
        nx, ny = self.names_with[x], self.names_with[y]
        return min(nx, ny) >= self.threshold and 10 * min(nx, ny) > max(nx, ny)


NO_VOCABULARY = Vocabulary([], 1 << 30)


def string_similarity(a: str, b: str) -> float:
    """rapidfuzz ratio of two name keys, 0-1."""
    return round(fuzz.ratio(a, b) / 100, 4)


def _joined_words(key: str) -> list[str]:
    """Words with a separate scoping prefix joined to the next: 'non contextual x' -> ['noncontextual', 'x']."""
    out: list[str] = []
    ws = list(words(key))
    while ws:
        w = ws.pop(0)
        if w in _SEPARABLE and ws:
            w += ws.pop(0)
        out.append(w)
    return out


def _scoped(x: str, y: str) -> bool:
    """'supervised' / 'unsupervised', 'lingual' / 'multilingual': one is the other with a prefix."""
    short, long = sorted((x, y), key=len)
    return long.endswith(short) and long[: len(long) - len(short)] in SCOPING_PREFIXES


def veto(a: Node, b: Node) -> str | None:
    """Why two names can never be one entity, or None."""
    if numbers(a.key) != numbers(b.key):
        return "different numbers"
    wa, wb = set(_joined_words(a.key)), set(_joined_words(b.key))
    only_a, only_b = wa - wb, wb - wa
    if only_a and only_b and only_a <= VARIANT_WORDS and only_b <= VARIANT_WORDS:
        return "different versions"
    if (only_a | only_b) & _SEPARABLE or any(_scoped(x, y) for x in only_a for y in only_b):
        return "a negating or scoping prefix"
    if a.type and b.type and a.type != b.type:
        return "different types"
    return None


def _same_word(x: str, y: str, first: bool, vocabulary: Vocabulary) -> bool:
    """'transfomer' / 'transformer', 'dialog' / 'dialogue', and as a name's first word 'generate' /
    'generating': a typo or another form of one word. Not 'context' / 'content' (both real words) nor
    'explicit' / 'implicit' (typos keep the first letter)."""
    short, long = sorted((x, y), key=len)
    if long.startswith(short) and long[len(short) :] in _SAME_WORD_ENDINGS:
        return True
    stem = short[:-1] if short.endswith("e") else short
    if (first and long == stem + "ing") or (long == short + "ing" and first):
        return True  # a verb at the start of a name: 'learn weight uncertainty' / 'learning ...'
    if x[0] != y[0] or vocabulary.both_real(x, y):
        return False
    stem_length = next((k for k, (a, b) in enumerate(zip(x, y, strict=False)) if a != b), min(len(x), len(y)))
    if x[stem_length:] in _DERIVATIONS and y[stem_length:] in _DERIVATIONS:
        return False
    # one edit in a word of 4-7 letters, two from 8: 'transliteration' is not a typo of 'translation'
    return len(short) >= 4 and Levenshtein.distance(x, y) <= min(2, len(short) // 4)


def near_homonym(a: str, b: str, vocabulary: Vocabulary = NO_VOCABULARY) -> bool:
    """Names that differ by a whole word rather than a misspelling or another form of it."""
    wa, wb = _joined_words(a), _joined_words(b)
    if len(wa) != len(wb):
        return True
    return not all(
        x == y or _same_word(x, y, n == 0, vocabulary) for n, (x, y) in enumerate(zip(wa, wb, strict=True))
    )


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


def decide(
    a: Node, b: Node, string: float, embedding: float | None, cfg: ResolveConfig, vocabulary: Vocabulary
) -> Verdict:
    """The band of a scored pair: merge above the high threshold, the LLM between, reject below."""
    if (why := veto(a, b)) is not None:
        return Verdict("reject", "veto", why)
    homonym = near_homonym(a.key, b.key, vocabulary)
    long_enough = min(len(a.key), len(b.key)) >= cfg.min_fuzzy_chars
    if string >= cfg.merge_threshold and not homonym and long_enough:
        return Verdict("merge", "high", "fuzzy")
    agree = embedding is not None and embedding >= cfg.embedding_threshold and string >= cfg.band_threshold
    if agree and not homonym:  # two independent signals agree
        return Verdict("merge", "high", "embedding")
    near_in_meaning = (
        embedding is not None
        and embedding >= cfg.embedding_band_threshold
        and string >= cfg.embedding_band_min_string
    )
    if string >= cfg.band_threshold or near_in_meaning:
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
    if same_action_form(a.key, b.key):
        return True, FORM_SCORE
    return False, s


# The score recorded for another form of one name ('detecting X' / 'X detection'): below a close
# spelling's, so that 'generating X' joins 'generate X' before 'generation of X' when all three are seen.
FORM_SCORE = 0.9
