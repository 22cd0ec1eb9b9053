"""Which names are concepts: the rules a head or tail must pass to enter the graph.

A name is refused (and counted by reason) when it is
- **generic**: a stop concept (`method`, `approach`, `results`, `system`, ...; configurable), such a
  head noun with only evaluative modifiers (`proposed method`, `our novel approach`, `existing
  systems`), a pronoun, or a bare number;
- **a clause or definition**: longer than `max_words`, holding a clause word (`that`, `which`,
  `is`, `are`, ...): `dense, low-dimensional vectors that represent the meanings of words`, or led by
  a pronoun, a clause cut from its sentence (`former constrains flow`);
- **a conjunction**: `GPT and neural machine translation` is split into its parts when each part
  is a name of its own (a candidate span of the passage), else refused.

The same rules judge a finished graph (`kgc eval`'s name check), so what extraction keeps out and
what evaluation counts are one definition.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from kgc.text import normalise_name, singular

# What annotators of scientific text tag "Generic" (SciERC's guideline: a general term that refers to
# a specific entity elsewhere, like 'our method') and the hubs of the 1,073-abstract view.
STOP_CONCEPTS: tuple[str, ...] = (
    "algorithm",
    "analysis",
    "application",
    "approach",
    "architecture",
    "baseline",
    "component",
    "data",
    "dataset",
    "experiment",
    "feature",
    "framework",
    "idea",
    "information",
    "mechanism",
    "method",
    "methodology",
    "model",
    "module",
    "paper",
    "performance",
    "problem",
    "procedure",
    "process",
    "result",
    "scheme",
    "solution",
    "strategy",
    "study",
    "system",
    "task",
    "technique",
    "technology",
    "test time",
    "tool",
    "way",
    "work",
    # classifier nouns: they name a concept only with what they classify ('a form of tokenization',
    # 'types such as person and date')
    "form",
    "kind",
    "part",
    "piece",
    "sort",
    "type",
    "variety",
)
# Modifiers that say nothing about what a thing is: 'proposed method' is still just 'method'.
EVALUATIVE: frozenset[str] = frozenset(
    [
        "a",
        "an",
        "the",
        "this",
        "these",
        "that",
        "those",
        "our",
        "its",
        "their",
        "my",
        "your",
        "his",
        "her",
        "some",
        "any",
        "each",
        "every",
        "both",
        "all",
        "other",
        "another",
        "such",
        "same",
        "several",
        "many",
        "various",
        "different",
        "new",
        "novel",
        "proposed",
        "present",
        "existing",
        "previous",
        "prior",
        "current",
        "recent",
        "standard",
        "conventional",
        "traditional",
        "classical",
        "common",
        "general",
        "simple",
        "basic",
        "typical",
        "alternative",
        "original",
        "overall",
        "main",
        "key",
        "final",
        "further",
        "additional",
        "better",
        "best",
        "good",
        "efficient",
        "effective",
        "robust",
        "powerful",
        "promising",
        "successful",
        "improved",
        "popular",
        "well-known",
        "state-of-the-art",
        "related",
        "similar",
        "corresponding",
        "particular",
        "specific",
        "certain",
        "underlying",
        "resulting",
        "given",
        "first",
        "second",
        "two",
        "three",
        "one",
    ]
)
PRONOUNS: frozenset[str] = frozenset(
    [
        "it",
        "they",
        "them",
        "this",
        "that",
        "these",
        "those",
        "we",
        "us",
        "one",
        "ones",
        "former",
        "latter",
        "itself",
        "themselves",
        "which",
        "who",
    ]
)
# Words that make a name a clause or a definition rather than a concept.
CLAUSE_WORDS: frozenset[str] = frozenset(
    [
        "that",
        "which",
        "who",
        "whom",
        "whose",
        "where",
        "when",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "can",
        "could",
        "may",
        "might",
        "will",
        "would",
        "should",
        "must",
        "does",
        "do",
        "did",
        "has",
        "have",
        "had",
    ]
)
# A name that starts with one of these is a clause cut from its sentence ('former constrains flow',
# 'we propose a parser'): they stand for something and never modify a noun.
SUBJECT_PRONOUNS: frozenset[str] = frozenset(
    ["it", "they", "them", "we", "us", "former", "latter", "itself", "themselves", "which", "who"]
)
_CONJUNCTION = re.compile(r",?\s+(?:and|or|and/or)\s+|,\s+", re.IGNORECASE)
_WORD = re.compile(r"[\w'-]+")
# '(various) type(s) of ': a classifier noun (see STOP_CONCEPTS) and 'of', after modifiers
_CLASSIFIER_OF = re.compile(
    r"^((?:[\w'-]+\s+)*?)(?:forms?|kinds?|sorts?|types?|variet(?:y|ies))\s+of\s+(?=\S)", re.IGNORECASE
)
_WIDE = frozenset(["wide", "broad", "large", "whole"])  # 'a wide variety of


@dataclass(frozen=True)
class NameRules:
    """The configurable part: `extraction.stop_concepts`, `extraction.max_name_words`."""

    stop_concepts: frozenset[str] = field(default_factory=lambda: frozenset(STOP_CONCEPTS))
    max_words: int = 8

    @classmethod
    def of(cls, stop_concepts: Iterable[str], max_words: int) -> NameRules:
        return cls(frozenset(normalise_name(s) for s in stop_concepts), max_words)


def words(name: str) -> list[str]:
    return _WORD.findall(name.lower())


def one_word(name: str) -> bool:
    """A lower-case name of letters only: not an acronym, a capitalised name or a compound."""
    return name.isalpha() and name == name.lower()


def is_generic(name: str, rules: NameRules) -> bool:
    """A stop concept, optionally behind evaluative modifiers; a pronoun; a number; no letters."""
    ws = words(name)
    if not ws or not any(c.isalpha() for c in name):
        return True
    if " ".join(ws) in PRONOUNS or (len(ws) == 1 and ws[0] in PRONOUNS):
        return True
    key = normalise_name(name)
    if key in rules.stop_concepts:
        return True
    # 'our proposed method', 'existing approaches', 'the two models': modifiers + a stop concept
    for cut in range(1, len(ws)):
        if (
            all(w in EVALUATIVE for w in ws[:cut])
            and normalise_name(" ".join(ws[cut:])) in rules.stop_concepts
        ):
            return True
    return False


def is_clause(name: str, rules: NameRules) -> bool:
    """Too long for a concept name, holding a clause word ('... vectors that represent ...'), or led
    by a pronoun ('former constrains flow'; not the acronym 'IT')."""
    ws = words(name)
    if len(ws) > 1 and ws[0] in SUBJECT_PRONOUNS and not name.split()[0].isupper():
        return True
    return len(ws) > rules.max_words or any(w in CLAUSE_WORDS for w in ws)


def conjuncts(name: str) -> list[str]:
    """The parts of a coordination ('A, B and C' -> [A, B, C]); [name] when there is none."""
    parts = [p.strip() for p in _CONJUNCTION.split(name) if p.strip()]
    return parts if len(parts) > 1 else [name]


def classified(name: str) -> str:
    """What a classifier noun's name classifies ('a form of tokenization' -> 'tokenization', 'two
    kinds of information' -> 'information'): 'a type of recurrent neural network' names the network
    (SciERC's annotators mark 'class of languages' once in 4,462 tune-split names, never 'type of
    X'). `name` as it is when it has no such lead."""
    m = _CLASSIFIER_OF.match(name)
    if m is None or not all(w in EVALUATIVE or w in _WIDE for w in words(m.group(1))):
        return name
    return name[m.end() :]


def is_conjunction(name: str) -> bool:
    return len(conjuncts(name)) > 1


def key(name: str) -> str:
    """Case, plural and hyphen-insensitive form, to find a name in a passage ('Neural-Networks' ~
    'neural network')."""
    ws = [w.replace("-", " ") for w in words(name)]
    flat = " ".join(" ".join(ws).split())
    if not flat:
        return ""
    *rest, last = flat.split(" ")
    return " ".join([*rest, singular(last)])


def judge(name: str, rules: NameRules) -> str | None:
    """Why `name` is not a concept ('generic name', 'clause name', 'conjunction name'), or None."""
    if is_clause(name, rules):
        return "clause name"
    if is_conjunction(name):
        return "conjunction name"
    if is_generic(name, rules):
        return "generic name"
    return None
