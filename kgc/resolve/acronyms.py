"""Acronyms and partial abbreviations: which short names can stand for which long ones.

Keys propose (a short form's letters looked up among the initials of long names); `abbreviates`
decides, letter by letter, whether a short form can be read out of a long one. Letters may come
from inside a word or a hyphenated compound ('CoRAL' = 'Contrastive Retrieval-Augmented Learning',
'ToD' = 'task-oriented dialogue'); every word that is not a function word must give at least one.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from kgc.resolve.keys import split_parenthetical, words

FUNCTION_WORDS = frozenset(
    {"of", "for", "the", "and", "in", "on", "to", "with", "a", "an", "via", "by", "from"}
)
_TOKEN = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:['\u2019]s|s)?$")


def looks_like_acronym(token: str) -> bool:
    """'NMT', 'PLMs', 'CoRAL', 'ToD', 'BERT's' yes; 'Transformer', 'nmt', 'GPT-3', 'T5' no."""
    token = token.strip()
    if " " in token or not 2 <= len(token) <= 12 or not _TOKEN.match(token):
        return False
    letters = [c for c in token if c.isalpha()]
    return sum(c.isupper() for c in letters) >= 2 and not any(c.isdigit() for c in token)


def short_letters(token: str) -> str:
    """The letters a short form spells, plural or possessive dropped: 'PLMs' -> 'plm', "BERT's" -> 'bert'."""
    t = re.sub(r"['\u2019]s?$", "", token.strip())
    if len(t) > 2 and t.endswith("s") and t[-2].isupper():
        t = t[:-1]
    return t.lower()


def short_keys(token: str) -> set[str]:
    """Lookup keys of a short form: its letters, and its capitals alone ('CoRAL' -> 'coral', 'cral')."""
    base = short_letters(token)
    caps = "".join(c for c in token if c.isupper()).lower()
    if token.endswith("s") and len(caps) > 1 and token[-2:-1].isupper() and caps.endswith("s"):
        caps = caps[:-1]
    return {k for k in (base, caps) if len(k) >= 2}


def _initials(words: list[str]) -> str:
    return "".join(w[0] for w in words if w)


def long_keys(key: str) -> set[str]:
    """Initials a long name could be shortened to, with and without hyphen parts and function words."""
    spaced = [w for w in key.split(" ") if w]
    if len(spaced) < 2 and "-" not in key:
        return set()
    hyphenated = [p for w in spaced for p in w.split("-") if p]
    keys = set()
    for ws in (spaced, hyphenated):
        keys.add(_initials(ws))
        keys.add(_initials([w for w in ws if w not in FUNCTION_WORDS]))
    return {k for k in keys if len(k) >= 2}


def partial_keys(key: str) -> set[str]:
    """'open information extraction' -> {'open ie', 'oi extraction'}: a run of words as its initials
    (hyphenated words count as several: 'document-level relation extraction' -> 'document level re')."""
    ws = list(words(key))
    out = set()
    for k in range(1, len(ws)):
        if len(ws) - k >= 2:
            out.add(" ".join(ws[:k]) + " " + _initials(ws[k:]))
        if k >= 2:
            out.add(_initials(ws[:k]) + " " + " ".join(ws[k:]))
    return out


@lru_cache(maxsize=200_000)
def abbreviates(short: str, long: str) -> bool:
    """Can the letters of `short` be read, in order, out of the words of `long`?

    Each word of `long` that is not a function word gives one or more letters, the first of them the
    initial of the word or of one of its hyphen parts. abbreviates('coral', 'contrastive
    retrieval-augmented learning') and abbreviates('plm', 'pre-trained language model') are True;
    abbreviates('ml', 'multilingual') is False (one word never abbreviates itself).
    """
    letters = [c for c in short.lower() if c.isalnum()]
    ws = [w for w in long.lower().split(" ") if w]
    if len(ws) < 2 and "-" not in long:
        return False
    if not letters or len(letters) > 3 * len(ws):
        return False

    @cache
    def match(si: int, wi: int) -> bool:
        if wi == len(ws):
            return si == len(letters)
        w = ws[wi]
        if w in FUNCTION_WORDS and match(si, wi + 1):
            return True
        starts = [0] + [i + 1 for i, c in enumerate(w) if c == "-" and i + 1 < len(w)]
        for start in starts:
            if si < len(letters) and w[start] == letters[si]:
                # take w[start] and then any later letters of the word, as many as the rest allows
                pos, s = start + 1, si + 1
                if match(s, wi + 1):
                    return True
                while s < len(letters):
                    found = w.find(letters[s], pos)
                    if found < 0:
                        break
                    pos, s = found + 1, s + 1
                    if match(s, wi + 1):
                        return True
        return False

    return match(0, 0)


def abbreviates_partially(short_key: str, long_key: str) -> bool:
    """'open ie' ~ 'open information extraction', 'nmt model' ~ 'neural machine translation model'.

    The short name's words either equal the long name's words or abbreviate a run of two or more of them,
    and at least one word is abbreviated.
    """
    sw, lw = list(words(short_key)), list(words(long_key))

    @cache
    def match(i: int, j: int, abbreviated: bool) -> bool:
        if i == len(sw):
            return j == len(lw) and abbreviated
        if j < len(lw) and sw[i] == lw[j] and match(i + 1, j + 1, abbreviated):
            return True
        return any(
            abbreviates(sw[i], " ".join(lw[j:end])) and match(i + 1, end, True)
            for end in range(j + 2, len(lw) + 1)
        )

    return len(sw) < len(lw) and match(0, 0, False)


def surface_short_form(surface: str) -> str | None:
    """The acronym a surface form is, if it is one ('PLMs' -> 'PLMs'; 'NMT (neural MT)' -> None)."""
    base, _ = split_parenthetical(surface)
    return base.strip() if looks_like_acronym(base) else None
