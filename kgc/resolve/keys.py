"""Keys of a name: what 'the same name' means before any similarity is computed.

`name_key` groups surface forms that differ only in case, spacing, plural, possessive, a leading
article or `&`/`and`; `compact_key` also ignores spaces and hyphens ('pre-trained' = 'pretrained').
"""

from __future__ import annotations

import re
from functools import lru_cache

from kgc.text import normalise_name

_PAREN = re.compile(r"^(?P<name>.+?)\s*\((?P<inner>[^()]+)\)$")
# 'pretrained language models (PLMs' / 'recurrent neural networks(RNN': cut off by the extraction
_OPEN_PAREN = re.compile(r"^(?P<name>.+?)\s*\((?P<inner>[^()\s]+(?:\s[^()\s]+)?)$")
_POSSESSIVE = re.compile(r"(?<=\w)['\u2019]s?\b")
_AMPERSAND = re.compile(r"\s*&\s*")
_ARTICLE = re.compile(r"^(the|a|an)\s+", re.IGNORECASE)
_NON_ALNUM = re.compile(r"[\W_]+")
_DIGITS = re.compile(r"\d+(?:\.\d+)*")
_WORDS = re.compile(r"[\s\-/]+")


def split_parenthetical(name: str) -> tuple[str, str | None]:
    """'neural machine translation (NMT)' -> ('neural machine translation', 'NMT')."""
    m = _PAREN.match(name.strip()) or _OPEN_PAREN.match(name.strip())
    return (m["name"], m["inner"].strip()) if m else (name, None)


@lru_cache(maxsize=500_000)
def name_key(name: str) -> str:
    """'The Transformer's  Attention & Heads.' -> 'transformer attention and head'."""
    base, _ = split_parenthetical(name)
    base = _POSSESSIVE.sub("", base)
    base = _AMPERSAND.sub(" and ", base)
    base = _ARTICLE.sub("", base.strip())
    return normalise_name(_without_trailing_acronym(base))


def _without_trailing_acronym(name: str) -> str:
    """'visual question answering VQA' -> 'visual question answering': a last word that only repeats
    the words before it as their initials (the parenthesis lost in extraction)."""
    from kgc.resolve.acronyms import abbreviates  # acronyms imports this module

    *head, last = name.split(" ") if " " in name else ("", name)
    if len(head) < 2 or not 2 <= len(last) <= 8 or not last.isalpha():
        return name
    letters = last[:-1] if len(last) > 2 and last.endswith("s") and last[:-1].isupper() else last
    tail = [w.lower() for w in head]
    for k in range(2, len(tail) + 1):
        if abbreviates(letters.lower(), " ".join(tail[-k:])):
            return " ".join(head)
    return name


def compact_key(key: str) -> str:
    """A name key without spaces, hyphens or punctuation: 'task-oriented dialog' -> 'taskorienteddialog'."""
    return _NON_ALNUM.sub("", key)


@lru_cache(maxsize=500_000)
def words(key: str) -> tuple[str, ...]:
    """Words of a key, hyphenated compounds split: 'retrieval-augmented generation' -> 3 words."""
    return tuple(w for w in _WORDS.split(key) if w)


@lru_cache(maxsize=500_000)
def numbers(key: str) -> tuple[str, ...]:
    """The numbers in a name; 'gpt-3' and 'gpt-4' differ in them and are different things."""
    return tuple(_DIGITS.findall(key))
