"""Name text: cleaning of LLM-written text before it becomes a name, and the word-level
normalisation (case, spacing, plural of the last word) under seeds' names and resolution's keys
(`kgc.resolve.keys.name_key`, which also drops articles, possessives and parenthesised acronyms)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import inflect

_inflect = inflect.engine()
_classical = inflect.engine()
_classical.classical(ancient=True)
_SPACES = re.compile(r"[\s_]+")
_EDGE_PUNCT = re.compile(r"^[\W_]+|(?:[^\w+#]|_)+$")  # a final + or # is part of a name: C++, C#
_PAREN = re.compile(r"^(?P<name>.+?)\s*[(\[](?P<inner>[^()\[\]]+)[)\]]\s*(?P<after>[^()\[\]]*)$")
# 'pretrained language models (PLMs' / 'recurrent neural networks(RNN': cut off by the extraction
_OPEN_PAREN = re.compile(r"^(?P<name>.+?)\s*\((?P<inner>[^()\s]+(?:\s[^()\s]+)?)$")
QUOTES = "\"'`\u2018\u2019\u201c\u201d"
_WORDS = re.compile(r"[\s\-/]+")
# Terminal escape sequences: CSI (colours, cursor moves: ESC [ ... letter), OSC (a window title:
# ESC ] ... BEL or ESC \), and ESC with one character.
_TERMINAL_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
# Control characters (NUL, BEL...), lone surrogates (a JSON "\ud83d" without its pair) and the two
# noncharacters: none can be written as XML or UTF-8.
_UNWRITABLE_CATEGORIES = {"Cc", "Cs"}
_NONCHARACTERS = {"\ufffe", "\uffff"}
# Words inflect would wrongly singularise; "-ss", "-us", "-is" endings are left alone below anyway.
_KEEP = {
    "data",
    "news",
    "series",
    "species",
    "physics",
    "mathematics",
    "linguistics",
    "semantics",
    "statistics",
    "analytics",
    "economics",
    "ethics",
    "genetics",
    "robotics",
    "bias",
    "bayes",
    "means",
    "corpus",
    "lens",
}


@lru_cache(maxsize=200_000)
def singular(word: str) -> str:
    """The singular of a noun, or the word itself when it is one or may not be a plural: 'corpora' ->
    'corpus', 'matrices' -> 'matrix', 'lemmata' -> 'lemma'; 'Bayes', 'analysis', 'data' stay."""
    w = word.lower()
    if "-" in w and (last := word.rpartition("-")[2]).isalpha():  # 'auto-encoders' -> 'auto-encoder'
        return word[: len(word) - len(last)] + singular(last)
    if len(w) <= 3 or w in _KEEP or w.endswith(("ss", "us", "is", "ics")) or not w.isalpha():
        return word
    s = _inflect.singular_noun(word)
    if w.endswith(("ices", "ata")):  # Latin and Greek plurals the modern rules cut wrongly ('matrice')
        s = _classical.singular_noun(word) or s
    return s if isinstance(s, str) and s else word


def clean_text(text: str) -> str:
    """`text` without terminal escape sequences, control characters or lone surrogates, its whitespace
    collapsed to single spaces: what an LLM wrote, made fit for a name, an XML attribute or a log.

    'machine\x00 \x1b[31mtranslation\x1b[0m\n' -> 'machine translation'.
    """
    without_escapes = _TERMINAL_ESCAPE.sub("", text)
    visible = "".join(
        ch
        for ch in without_escapes
        if ch.isspace()
        or (unicodedata.category(ch) not in _UNWRITABLE_CATEGORIES and ch not in _NONCHARACTERS)
    )
    return " ".join(visible.split())


def normalise_name(name: str) -> str:
    """Canonical key of a name: NFKC, lower case, single spaces, no edge punctuation, last word singular.

    'Neural  Machine Translations.' -> 'neural machine translation'. Acronyms keep their letters
    ('LLMs' -> 'llm').
    """
    s = unicodedata.normalize("NFKC", name)
    s = _SPACES.sub(" ", s).strip()
    s = _EDGE_PUNCT.sub("", s)
    if not s:
        return ""
    words = s.split(" ")
    last = words[-1]
    is_acronym_plural = len(last) >= 3 and last[:-1].isupper() and last.endswith("s")  # LLMs
    words[-1] = last[:-1] if is_acronym_plural else singular(last)
    return " ".join(words).lower()


def slug(name: str) -> str:
    """A stable, readable id for an entity name."""
    s = re.sub(r"[^a-z0-9]+", "-", normalise_name(name)).strip("-")
    return s or "entity"


def acronym(name: str) -> str:
    """Initials of a multi-word name: 'neural machine translation' -> 'nmt'."""
    words = [w for w in re.split(r"[\s\-]+", normalise_name(name)) if w]
    return "".join(w[0] for w in words) if len(words) >= 2 else ""


def parenthesis(name: str) -> tuple[str, str | None, str]:
    """A name around its parenthesis: 'machine translation (MT) systems' -> ('machine translation',
    'MT', 'systems'); 'neural machine translation (NMT' (cut off) -> (..., 'NMT', ''); without one,
    (name, None, '')."""
    name = name.strip().strip(QUOTES)
    if m := _PAREN.match(name):
        return m["name"], m["inner"].strip(), m["after"].strip()
    if m := _OPEN_PAREN.match(name):
        return m["name"], m["inner"].strip(), ""
    return name, None, ""


def split_parenthetical(name: str) -> tuple[str, str | None]:
    """The name without its parenthesis, and what the parenthesis held: 'neural machine translation
    (NMT)' -> ('neural machine translation', 'NMT'); 'Named Entity (NE) items' -> ('Named Entity items',
    'NE')."""
    before, inner, after = parenthesis(name)
    return (f"{before} {after}" if after else before), inner


@lru_cache(maxsize=500_000)
def words(key: str) -> tuple[str, ...]:
    """Words of a key, hyphenated compounds split: 'retrieval-augmented generation' -> 3 words."""
    return tuple(w for w in _WORDS.split(key) if w)
