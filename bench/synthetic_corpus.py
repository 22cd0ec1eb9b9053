"""A synthetic corpus of any size from the 1,073 shared ACL abstracts, whose names and topics keep
growing like a real corpus's.

Recombining the abstracts' sentences alone would give a corpus whose vocabulary stops growing at the
1,073 abstracts' 11k words: every name of a 100k-document corpus would already be in the first
thousand documents, and fusion, retrieval and the topic model would see far less work than on real
text. So each synthetic document is made in two steps:

1. **Recombined sentences.** A base abstract (drawn at random) keeps its first sentence; each later
   sentence is, with probability `swap`, replaced by the sentence at the same relative position of
   one of the base's `NEIGHBOURS` nearest abstracts (TF-IDF cosine). The document stays on one topic
   and keeps the shape of an abstract (problem, method, results), but is not a copy.
2. **Renamed words.** Every content word (3+ letters, not a stop word) has its own Pitman-Yor
   process over spellings (concentration 0, discount d): the next document that uses it takes a new
   spelling with probability d * spellings / uses, else a spelling already in use with probability
   proportional to (its uses - d). Such a process gives Heaps' law with exponent d: new names keep
   coming at a falling rate, a few become popular (rich get richer), most stay rare, as in a real
   corpus where 'BERT' is followed by 'RoBERTa' and a thousand one-paper names. A word starts with
   its real spelling holding as many uses as it has documents in the real corpus, so the first
   thousand synthetic documents have about the real corpus's vocabulary, frequent words are renamed
   seldom and rare ones (the names of methods, datasets, tasks) often. A new spelling is half of the
   time another real word of the corpus (a new combination of known words: 'user simulator' ->
   'user annotator'), half of the time a pronounceable pseudo-word of the same shape (a new name:
   'user tavremor'; an acronym gets new capitals: 'LSTM' -> 'KVBR'). Within a document a word keeps
   one spelling.

Phrases never cross punctuation (the seeds stage's phrase analyser), so recombined sentences bring no
new phrase: only new spellings do. d = 0.85 makes distinct words grow a little faster than in the
real corpus and distinct 1-3 word phrases (our proxy for noun phrases, hence for entity names) as
fast as this recombination allows, still slower than in the real corpus's first thousand documents
(see bench/results/scale.md for both exponents).

`python bench/synthetic_corpus.py --check` prints the growth measures of both corpora: distinct words
(Heaps' law V = K * N^beta over prefixes, N in tokens) and distinct candidate phrases (the 1-3 word
phrases the seeds stage considers: our proxy for noun phrases).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ABSTRACTS = ROOT.parent / "shared" / "data" / "graphusion" / "abstracts.txt"

NEIGHBOURS = 10  # topical neighbours of an abstract that lend it sentences
SWAP = 0.5  # chance that a sentence after the first comes from a neighbour
DISCOUNT = 0.85  # Pitman-Yor discount (see the module's docstring)
REAL_SHARE = 0.5  # share of new spellings that are another real term rather than a pseudo-word

# A sentence ends at . ! ? followed by space and a capital, or run into the next ("step.To tackle").
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[])|(?<=[a-z][.!?])(?=[A-Z][a-z])")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_TOKEN = re.compile(r"\w[\w-]*\w|\w")
_ONSETS = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "gr", "st", "tr"]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "eo"]
_CODAS = ["", "", "n", "r", "s", "l", "x"]


def read_abstracts(path: Path = ABSTRACTS) -> list[str]:
    with path.open(encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def neighbours(abstracts: Sequence[str], k: int = NEIGHBOURS) -> np.ndarray:
    """The k nearest other abstracts of each (TF-IDF cosine), one row per abstract."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    tfidf = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(abstracts)
    similarity = (tfidf @ tfidf.T).toarray()
    np.fill_diagonal(similarity, -1.0)
    return np.argsort(-similarity, axis=1, kind="stable")[:, :k]


def term_words(abstracts: Sequence[str]) -> dict[str, int]:
    """The lower-cased words that get new spellings (content words of 3+ letters), with their
    document frequency in the real corpus."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    df: Counter[str] = Counter()
    for text in abstracts:
        df.update({w.lower() for w in _WORD.findall(text)})
    return {w: n for w, n in df.items() if len(w) >= 3 and w not in ENGLISH_STOP_WORDS}


def respell(original: str, variant: int, lexicon: Sequence[str], real_share: float) -> str:
    """Spelling number `variant` of the term `original`, the same on every machine: an acronym gets new
    capitals; another word, with probability `real_share`, another real term of the corpus (a new
    combination of known words: 'user simulator' -> 'user annotator'), else a pronounceable pseudo-word
    of about its length (a new name: 'user tavremor'); capitalised like the original."""
    rng = random.Random(zlib.crc32(f"{original.lower()}|{variant}".encode()))
    if original.isupper():
        return "".join(rng.choice("BCDFGHKLMNPRSTVZ") for _ in original)
    if rng.random() < real_share:
        word = lexicon[rng.randrange(len(lexicon))]
    else:
        syllables = max(1, min(4, round(len(original) / 3)))
        word = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(syllables))
        word += rng.choice(_CODAS)
    return word.capitalize() if original[0].isupper() else word


@dataclass
class Spellings:
    """One term's Pitman-Yor process (concentration 0): how many documents used each spelling.
    Spelling 0 is the real one; it starts with the uses the real corpus gives it."""

    uses: list[int]

    def draw(self, rng: random.Random, discount: float) -> int:
        total = sum(self.uses)
        if rng.random() * total < discount * len(self.uses):
            self.uses.append(1)
            return len(self.uses) - 1
        u = rng.random() * (total - discount * len(self.uses))
        for j, n in enumerate(self.uses):
            u -= n - discount
            if u < 0:
                self.uses[j] += 1
                return j
        self.uses[-1] += 1  # float rounding at the very end
        return len(self.uses) - 1


@dataclass
class CorpusRecipe:
    abstracts: list[str]
    seed: int = 0
    swap: float = SWAP
    discount: float = DISCOUNT
    real_share: float = REAL_SHARE
    rename: bool = True  # False: recombined sentences only (the corpus that stops growing)


def synthetic_documents(recipe: CorpusRecipe) -> Iterator[tuple[str, str]]:
    """(id, text) of an endless stream of synthetic documents; a prefix of it is a smaller corpus."""
    parts = [sentences(a) for a in recipe.abstracts]
    near = neighbours(recipe.abstracts)
    terms = term_words(recipe.abstracts) if recipe.rename else {}
    lexicon = sorted(w for w in terms if w.isalpha() and w.islower())
    processes: dict[str, Spellings] = {}
    rng = random.Random(recipe.seed)
    i = 0
    while True:
        base = rng.randrange(len(parts))
        own = parts[base]
        chosen = [own[0]]
        for pos in range(1, len(own)):
            if rng.random() < recipe.swap:
                donor = parts[int(near[base, rng.randrange(near.shape[1])])]
                chosen.append(donor[min(len(donor) - 1, round(pos * len(donor) / len(own)))])
            else:
                chosen.append(own[pos])
        text = " ".join(chosen)
        if terms:
            text = _rename(text, terms, lexicon, processes, rng, recipe)
        i += 1
        yield f"syn{i:07d}", text


def _rename(
    text: str,
    terms: dict[str, int],
    lexicon: Sequence[str],
    processes: dict[str, Spellings],
    rng: random.Random,
    r: CorpusRecipe,
) -> str:
    variant_of: dict[str, int] = {}

    def spell(match: re.Match[str]) -> str:
        word = match.group(0)
        key = word.lower()
        if key not in terms:
            return word
        if key not in variant_of:
            process = processes.setdefault(key, Spellings([terms[key]]))
            variant_of[key] = process.draw(rng, r.discount)
        variant = variant_of[key]
        return word if variant == 0 else respell(word, variant, lexicon, r.real_share)

    return _WORD.sub(spell, text)


def write_corpus(documents: Iterator[tuple[str, str]], path: Path, count: int) -> None:
    """`count` documents as JSON lines {"id", "text"} (kgc's jsonl corpus format)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for _ in range(count):
            doc_id, text = next(documents)
            f.write(json.dumps({"id": doc_id, "text": text}, ensure_ascii=False) + "\n")


# -- growth measures --------------------------------------------------------------------------------


@dataclass
class Growth:
    """Distinct words and phrases at prefixes of a corpus, and Heaps' exponents fitted to them."""

    documents: list[int]
    tokens: list[int]
    words: list[int]
    phrases: list[int]

    def exponent(self, series: str, first: int = 0) -> float:
        """beta of V = K * N^beta (least squares in log-log) over the prefixes from index `first`."""
        y = getattr(self, series)[first:]
        x = self.tokens[first:]
        return round(float(np.polyfit(np.log(x), np.log(y), 1)[0]), 3)


def growth(texts: Iterator[str], checkpoints: Sequence[int]) -> Growth:
    """Distinct lower-cased words and candidate phrases (kgc's seed phrases, 1-3 words) at each
    checkpoint (number of documents)."""
    sys.path.insert(0, str(ROOT))
    from kgc.stages.seed_phrases import candidate_phrases

    words: set[str] = set()
    phrases: set[str] = set()
    tokens = 0
    out = Growth([], [], [], [])
    targets = sorted(checkpoints)
    for n, text in enumerate(texts, start=1):
        found = [t.lower() for t in _TOKEN.findall(text)]
        tokens += len(found)
        words.update(found)
        phrases.update(candidate_phrases(text, (1, 3)))
        if n == targets[0]:
            out.documents.append(n)
            out.tokens.append(tokens)
            out.words.append(len(words))
            out.phrases.append(len(phrases))
            targets.pop(0)
            if not targets:
                break
    return out


def checkpoints(limit: int) -> list[int]:
    """About 4 prefixes per factor of 10 from 100 documents up to `limit`."""
    points = {limit}
    size = 100.0
    while size < limit:
        points.add(round(size))
        size *= 10**0.25
    return sorted(points)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", type=int, default=20_000, help="measure growth up to this many documents")
    args = ap.parse_args()
    abstracts = read_abstracts()
    real = growth(iter(abstracts), checkpoints(len(abstracts)))
    synthetic = growth((t for _, t in synthetic_documents(CorpusRecipe(abstracts))), checkpoints(args.check))
    recombined = growth(
        (t for _, t in synthetic_documents(CorpusRecipe(abstracts, rename=False))), checkpoints(args.check)
    )
    for name, g in [("real", real), ("synthetic", synthetic), ("recombined only", recombined)]:
        print(name, json.dumps(g.__dict__))
        tail = max(0, len(g.documents) - 4)
        print(
            f"  beta words {g.exponent('words')} (last prefixes {g.exponent('words', tail)}), "
            f"phrases {g.exponent('phrases')} (last {g.exponent('phrases', tail)})"
        )


if __name__ == "__main__":
    main()
