"""Keys of a name: what 'the same name' means before any similarity is computed.

`name_key` groups surface forms that differ only in case, spacing, plural, possessive, a leading
article, `&`/`and`, an acronym after the name ('neural machine translation (NMT)', 'visual question
answering VQA'), accents ('Naïve Bayes') or British spelling ('tokenisation', 'language modelling',
'dialogue', 'behaviour'); `compact_key` also ignores spaces and hyphens ('pre-trained' = 'pretrained').
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from kgc.resolve.acronyms import without_trailing_acronym
from kgc.text import normalise_name, split_parenthetical

_POSSESSIVE = re.compile(r"(?<=\w)['\u2019]s?\b")
_AMPERSAND = re.compile(r"\s*&\s*")
_ARTICLE = re.compile(r"^(the|a|an)\s+", re.IGNORECASE)
_NON_ALNUM = re.compile(r"[\W_]+")
_DIGITS = re.compile(r"\d+(?:\.\d+)*")
# British endings and their American spelling, for words long enough that the ending is a suffix:
# 'tokenisation', 'normalised', 'optimiser', 'analyse', 'modelling', 'labelled', 'dialogue', 'catalogues';
# not the -ise of 'supervised', 'advise', 'precise', 'exercise', 'comprise', 'advertise'.
_BRITISH_ENDINGS = re.compile(
    r"(?<=[a-z]{4})(?<![vwc])(?<!pr)(?<!rt)is(ation|ations|e|ed|es|ing|er|ers)$|(?<=[a-z]{2})ys(e|ed|es|ing)$"
    r"|(?<=[a-z]{3})ell(ing|ed|er|ers)$|(?<=[a-z]{3})ogue(s?)$"
)
_BRITISH_STEMS = re.compile(
    r"^(behavio|colo|favo|labo|neighbo|humo|hono|flavo|rumo|vapo|harbo|armo|endeavo)ur(?=s|ed|ing|al|hood|ite|able|$)"
)
_BRITISH_WORDS = {
    "centre": "center", "centres": "centers", "metre": "meter", "metres": "meters", "litre": "liter",
    "fibre": "fiber", "fibres": "fibers", "theatre": "theater", "programme": "program",
    "programmes": "programs", "judgement": "judgment", "judgements": "judgments", "ageing": "aging",
    "defence": "defense", "licence": "license", "offence": "offense", "grey": "gray",
}  # fmt: skip


def _american_word(word: str) -> str:
    if word in _BRITISH_WORDS:
        return _BRITISH_WORDS[word]
    word = _BRITISH_STEMS.sub(r"\1r", word)
    return _BRITISH_ENDINGS.sub(_american_ending, word) if len(word) >= 7 else word


def _american_ending(m: re.Match[str]) -> str:
    text = m.group(0)
    if text.startswith("is"):
        return "iz" + text[2:]
    if text.startswith("ys"):
        return "yz" + text[2:]
    if text.startswith("ell"):
        return "el" + text[3:]
    return "og" + text[4:]  # 'dialogue' -> 'dialog', 'catalogues' -> 'catalogs'


def plain_spelling(text: str) -> str:
    """Lower-case text without accents and in American spelling, word by word: 'Naïve' -> 'naive',
    'tokenisation' -> 'tokenization', 'labelled' -> 'labeled', 'dialogue' -> 'dialog'. Words are
    kept when the ending is too close to the stem to be a suffix ('noise', 'rise', 'vogue')."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[a-z]+", lambda m: _american_word(m.group(0)), text)


@lru_cache(maxsize=500_000)
def name_key(name: str) -> str:
    """'The Transformer's  Attention & Heads.' -> 'transformer attention and head'."""
    base, _ = split_parenthetical(name)
    base = _POSSESSIVE.sub("", base)
    base = _AMPERSAND.sub(" and ", base)
    base = _ARTICLE.sub("", base.strip())
    return plain_spelling(normalise_name(without_trailing_acronym(base)))


def compact_key(key: str) -> str:
    """A name key without spaces, hyphens or punctuation: 'task-oriented dialog' -> 'taskorienteddialog'."""
    return _NON_ALNUM.sub("", key)


@lru_cache(maxsize=500_000)
def numbers(key: str) -> tuple[str, ...]:
    """The numbers in a name; 'gpt-3' and 'gpt-4' differ in them and are different things."""
    return tuple(_DIGITS.findall(key))
