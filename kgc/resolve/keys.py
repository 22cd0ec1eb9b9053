"""Keys of a name: what 'the same name' means before any similarity is computed.

`name_key` groups surface forms that differ only in case, spacing, plural, possessive, a leading
article, `&`/`and`, or an acronym after the name ('neural machine translation (NMT)', 'visual question
answering VQA'); `compact_key` also ignores spaces and hyphens ('pre-trained' = 'pretrained').
"""

from __future__ import annotations

import re
from functools import lru_cache

from kgc.resolve.acronyms import without_trailing_acronym
from kgc.text import normalise_name, split_parenthetical

_POSSESSIVE = re.compile(r"(?<=\w)['\u2019]s?\b")
_AMPERSAND = re.compile(r"\s*&\s*")
_ARTICLE = re.compile(r"^(the|a|an)\s+", re.IGNORECASE)
_NON_ALNUM = re.compile(r"[\W_]+")
_DIGITS = re.compile(r"\d+(?:\.\d+)*")


@lru_cache(maxsize=500_000)
def name_key(name: str) -> str:
    """'The Transformer's  Attention & Heads.' -> 'transformer attention and head'."""
    base, _ = split_parenthetical(name)
    base = _POSSESSIVE.sub("", base)
    base = _AMPERSAND.sub(" and ", base)
    base = _ARTICLE.sub("", base.strip())
    return normalise_name(without_trailing_acronym(base))


def compact_key(key: str) -> str:
    """A name key without spaces, hyphens or punctuation: 'task-oriented dialog' -> 'taskorienteddialog'."""
    return _NON_ALNUM.sub("", key)


@lru_cache(maxsize=500_000)
def numbers(key: str) -> tuple[str, ...]:
    """The numbers in a name; 'gpt-3' and 'gpt-4' differ in them and are different things."""
    return tuple(_DIGITS.findall(key))
