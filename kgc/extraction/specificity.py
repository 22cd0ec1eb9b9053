"""Names that are everyday English words used in passing, not concepts of the corpus.

A one-word lower-case name ('date', 'location', 'king', 'person') is a **common word** when both
- English uses it often: its Zipf frequency (wordfreq's log10 of uses per billion words: 'date'
  5.2, 'translation' 4.4, 'parsing' 2.9, 'tokenization' 1.7) is at least `extraction.common_word_zipf`;
- and the corpus never builds a concept name from it: no name of two words or more among all the
  run's candidates holds it ('translation' of 'machine translation', 'tokenization' of 'subword
  tokenization', 'event' of 'event extraction' stay), and it is no seed.

Frequency alone is no measure of a domain's terms: on SciERC's tune split (relation cues), Zipf >= 4.5
alone dropped 205 relations of which 37 were gold pairs (domain words its annotators mark:
'learning', 'speech', 'translation', 'accuracy'); a word the corpus builds longer names from is what
a domain term looks like (C-value's nested terms), and with that check 33 relations went, 4 of them
gold pairs: F1 unchanged, the lowest threshold where it is (bench/results/specificity.md).
The check needs every document's candidates, so it runs once over the whole extraction output
(its drops counted as `common word`). A name capitalised only because it starts a sentence ('Date
is ...') is that word when the corpus also writes it in lower case (in a name or an evidence
sentence); a proper noun ('Paul', 'Collins') never is, nor are acronyms, other capitalised names
('GloVe') and names of several words; the stop concepts of kgc.extraction.names are.
`kgc eval` counts a graph's common words by the same rule (`CommonWords.of_graph`: the graph's
names and aliases are its corpus), whatever built it.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable
from functools import cache
from typing import Literal

from kgc.extraction.names import key, one_word
from kgc.models import Candidate, KnowledgeGraph
from kgc.text import singular

log = logging.getLogger(__name__)
COMMON_WORD = "common word"  # the reason counted in the extraction report
_WORD = re.compile(r"[^\W\d_]+")  # a run of letters

WordFrequency = Callable[[str], float]  # word -> Zipf frequency in general English (0: unknown)


@cache
def english_frequency() -> WordFrequency | None:
    """wordfreq's English Zipf frequency (`pip install 'kgc[nlp]'`), or None when not installed."""
    try:
        from wordfreq import zipf_frequency
    except ImportError as e:
        log.info("wordfreq not installed (%s): the common-word name rule is off", e)
        return None
    return lambda word: float(zipf_frequency(word, "en"))


def name_words(names: Iterable[str]) -> set[str]:
    """The words (singular, lower case) that names of two words or more are built from."""
    out: set[str] = set()
    for name in names:
        ws = key(name).split()
        if len(ws) > 1:
            out.update(singular(w) for w in ws)
    return out


def lower_case_words(texts: Iterable[str]) -> set[str]:
    """The words `texts` write in lower case."""
    return {w for text in texts for w in _WORD.findall(text) if w.islower()}


class CommonWords:
    """Which one-word names of a corpus are common words (see the module's docstring): `names` are
    all its names, `texts` its sentences (evidence), `seeds` the seed names."""

    def __init__(
        self,
        names: Iterable[str],
        threshold: float,
        frequency: WordFrequency,
        *,
        texts: Iterable[str] = (),
        seeds: Iterable[str] = (),
    ):
        names = list(names)
        self.threshold = threshold
        self.frequency = frequency
        self.domain = name_words(names)
        self.lower = lower_case_words([*names, *texts])
        self.seeds = {key(s) for s in seeds}
        self._seen: dict[str, bool] = {}

    @classmethod
    def of_candidates(
        cls, candidates: list[Candidate], threshold: float, frequency: WordFrequency
    ) -> CommonWords:
        """The rule over a run's candidates: their names, evidence sentences and seeds."""
        return cls(
            (n for c in candidates for n in (c.head, c.tail)),
            threshold,
            frequency,
            texts=(p.evidence for c in candidates for p in c.provenance if p.evidence),
            seeds=(p.seed for c in candidates for p in c.provenance if p.seed),
        )

    @classmethod
    def of_graph(cls, graph: KnowledgeGraph, threshold: float, frequency: WordFrequency) -> CommonWords:
        """The rule over a finished graph, however built: its entities' names and aliases (it keeps
        no sentences nor seeds)."""
        return cls((n for e in graph.entities for n in (e.name, *e.aliases)), threshold, frequency)

    def __contains__(self, name: str) -> bool:
        if name not in self._seen:
            self._seen[name] = self._judge(name)
        return self._seen[name]

    def _judge(self, name: str) -> bool:
        if name.isalpha() and name == name.capitalize() and name.lower() in self.lower:
            name = name.lower()  # capitalised only where it starts a sentence
        if not one_word(name) or key(name) in self.seeds:
            return False
        word = singular(name)
        if word in self.domain:
            return False
        return max(self.frequency(name), self.frequency(word)) >= self.threshold


def drop_common_words(
    candidates: list[Candidate], threshold: float | Literal["off"], frequency: WordFrequency | None
) -> tuple[list[Candidate], Counter[str]]:
    """`candidates` without those whose head or tail is a common word, and how many went; all of
    them when the check is "off" or no word frequencies are installed."""
    if threshold == "off" or frequency is None:
        return candidates, Counter()
    common = CommonWords.of_candidates(candidates, threshold, frequency)
    kept = [c for c in candidates if c.head not in common and c.tail not in common]
    gone = len(candidates) - len(kept)
    return kept, Counter({COMMON_WORD: gone} if gone else {})
