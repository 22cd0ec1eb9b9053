"""What seeds are made of: the candidate phrases of a text, and the choice of seeds among topic
keyphrases and the user's own. Used by the seeds stage and by its updates (kgc.stages.seed_updates)."""

from __future__ import annotations

import logging
import re
from collections import Counter
from itertools import zip_longest

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from kgc.models import Seed
from kgc.text import acronym, normalise_name

logger = logging.getLogger(__name__)

# Phrases may contain "of" inside ("chain of thought", "state of the art"), no other stop word, so
# conjunctions like "parsing and generation" are not offered as one concept.
_INNER_STOP_WORDS_ALLOWED = frozenset({"of"})
# A phrase never crosses punctuation: "recognition (NER)" gives "recognition" and "ner", not one phrase.
_PHRASE_BREAK = re.compile(r"[^\w\s-]+|\s-+\s")
_TOKEN = re.compile(r"\w[\w-]*\w|\w")


def candidate_phrases(text: str, ngram_range: tuple[int, int]) -> list[str]:
    """Lower-cased n-grams that neither start nor end with a stop word nor cross punctuation.

    The CountVectorizer analyzer: unlike sklearn's stop-word removal it never joins words that were not
    adjacent ("state of the art", not "state art"), and it keeps hyphenated words whole ("few-shot").
    """
    low, high = ngram_range
    phrases: list[str] = []
    for segment in _PHRASE_BREAK.split(text.lower()):
        tokens = _TOKEN.findall(segment)
        for n in range(low, high + 1):
            for start in range(len(tokens) - n + 1):
                gram = tokens[start : start + n]
                if _is_phrase(gram):
                    phrases.append(" ".join(gram))
    return phrases


def phrase_vocabulary(docs: list[str], ngram_range: tuple[int, int], min_docs: int) -> frozenset[str]:
    """The candidate phrases found in at least `min_docs` documents, or in one if none is that common.

    A phrase seen once is mostly an accident of wording (a term run into the word next to it);
    BERTopic's own `min_df` cannot do this, as its vectorizer sees one joined document per topic.
    Such phrases repeated across documents still pass ("relation extraction identify", "learning
    word embedding" in the demo corpus): without a part-of-speech tagger nothing here tells them apart.
    """
    document_frequency = Counter(p for doc in docs for p in set(candidate_phrases(doc, ngram_range)))
    common = frozenset(p for p, n in document_frequency.items() if n >= min_docs)
    if not common:
        logger.info("seeds: no phrase is in %d documents, every phrase is a candidate", min_docs)
        return frozenset(document_frequency)
    return common


def _is_phrase(tokens: list[str]) -> bool:
    first, last = tokens[0], tokens[-1]
    if first in ENGLISH_STOP_WORDS or last in ENGLISH_STOP_WORDS:
        return False
    if not any(c.isalpha() for c in first) or not any(c.isalpha() for c in last):
        return False
    return all(t not in ENGLISH_STOP_WORDS or t in _INNER_STOP_WORDS_ALLOWED for t in tokens[1:-1])


def user_seeds(names: list[str]) -> list[Seed]:
    """The user's seeds normalised, in their order, without duplicates or empty names."""
    seen: dict[str, Seed] = {}
    for raw in names:
        name = normalise_name(raw)
        if name and name not in seen:
            seen[name] = Seed(name=name, topic=-1, score=1.0, origin="user")
    return list(seen.values())


def select_seeds(found: list[Seed], user: list[Seed], max_seeds: int) -> list[Seed]:
    """User seeds first (always all of them), then topic seeds up to `max_seeds`, the topics taking
    turns (largest topic first, each its best remaining keyphrase) so a small budget covers them all.

    A seed whose name is the acronym of a seed already chosen, or the other way round ('lstm', 'long
    short-term memory'), is skipped: fusion would merge the two, and its call would be spent twice.
    """
    user_names = {s.name for s in user}
    queues: dict[int, list[Seed]] = {}
    for seed in found:  # best first
        if seed.name not in user_names:  # before the turns are set: a topic's turn is not lost to it
            queues.setdefault(seed.topic, []).append(seed)
    turns = [seed for rank in zip_longest(*(queues[t] for t in sorted(queues))) for seed in rank if seed]
    chosen = list(user)
    names = set(user_names)
    initials = {acronym(s.name) for s in user} - {""}
    for seed in turns:
        if len(chosen) >= max_seeds:
            break
        if seed.name in names or seed.name in initials or acronym(seed.name) in names:
            continue
        chosen.append(seed)
        names.add(seed.name)
        initials.add(acronym(seed.name))
    return chosen
