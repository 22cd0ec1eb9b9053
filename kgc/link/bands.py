"""Candidate concepts for a name, each band recording what it saw.

- `key`: the name's key (kgc.resolve's `name_key`, else `compact_key`) equals a label's or synonym's;
  the name with its parenthesis dropped, or the long form in it, counts too.
- `definition`: the documents define the name as an acronym ('neural machine translation (NMT)') and
  the long form's key is a label's or synonym's.
- `acronym`: the name is an acronym whose letters can be read out of a label ('GAN' -> 'generative
  adversarial networks'), checked letter by letter with kgc.resolve's `abbreviates`.
- `narrower`: the name's last words are a label ('chinese spelling correction' -> 'spelling
  correction'): the name is a narrower form of that concept.
- `ngram`: character 3-gram TF-IDF top-k (kgc.link.index), max over a concept's labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from kgc.link.index import Hit, VocabIndex
from kgc.resolve import name_key
from kgc.resolve.acronyms import abbreviates, abbreviates_partially, looks_like_acronym, short_letters
from kgc.text import singular, split_parenthetical, words

# Last words that say only what kind of thing a name is: 'X task' is the task X.
GENERIC_HEADS = frozenset({"task", "problem"})
# Bands in order of trust: a candidate is ranked by the best band that proposed it, then by score.
BAND_ORDER = ("key", "definition", "acronym", "narrower", "ngram", "dense")


@dataclass
class Candidate:
    """A concept proposed for a name, with every feature the bands recorded for it."""

    concept: int  # index into the vocabulary's concepts
    row: int  # the label or synonym row that matched best
    bands: list[str] = field(default_factory=list)
    features: dict[str, float] = field(default_factory=dict)

    @property
    def tier(self) -> int:
        return min(BAND_ORDER.index(b) for b in self.bands) if self.bands else len(BAND_ORDER)

    @property
    def score(self) -> float:
        """How close the name is to the concept's best label: 1.0 for a key or definition hit."""
        f = self.features
        if "key" in f or "definition" in f:
            return 1.0
        return max(f.get("string", 0.0), f.get("dense", 0.0) if "string" not in f else 0.0)


@dataclass
class NameQuery:
    """A name to link and what helps: the document context and acronym definitions found there."""

    name: str
    key: str
    context: str = ""
    long_forms: tuple[str, ...] = ()  # keys of the long forms the documents give this short form


def _add(
    found: dict[int, Candidate], index: VocabIndex, row: int, band: str, feature: str, value: float
) -> None:
    c = int(index.row_concept[row])
    cand = found.setdefault(c, Candidate(c, row))
    if band not in cand.bands:
        cand.bands.append(band)
    if value > cand.features.get(feature, -1.0):
        cand.features[feature] = round(value, 4)
        if band in ("key", "definition") or (band == cand.bands[0] and feature != "tfidf"):
            cand.row = row


def key_band(q: NameQuery, index: VocabIndex, found: dict[int, Candidate]) -> None:
    """The name's key, its key without a parenthesis or with the parenthesis alone, and without a
    last word that only says what kind of thing it is ('sentiment analysis task')."""
    base, inner = split_parenthetical(q.name)
    keys = [q.key] + [k for k in (name_key(base), name_key(inner or "")) if k and k != q.key and inner]
    ws = q.key.rsplit(" ", 1)
    if len(ws) == 2 and ws[1] in GENERIC_HEADS:
        keys.append(ws[0])
    for key in keys:
        for row in index.rows_of_key(key):
            _add(found, index, row, "key", "key", 1.0)
            found[int(index.row_concept[row])].features[f"strength_{index.strength(row)}"] = 1.0


def definition_band(q: NameQuery, index: VocabIndex, found: dict[int, Candidate]) -> None:
    for long_key in q.long_forms:
        for row in index.rows_of_key(long_key):
            _add(found, index, row, "definition", "definition", 1.0)


def acronym_band(q: NameQuery, index: VocabIndex, found: dict[int, Candidate]) -> None:
    base, _ = split_parenthetical(q.name)  # 'boosting NMT (neural MT)' is not NMT: the base decides
    for token in (base.strip(),):
        if not looks_like_acronym(token):
            continue
        letters = short_letters(token)
        for row in index.by_initials.get(letters, ()):
            if abbreviates(letters, index.row_key[row]):
                _add(found, index, row, "acronym", "acronym", 1.0)
                found[int(index.row_concept[row])].features["acronym_letters"] = float(len(letters))


def partial_abbreviation_band(
    q: NameQuery, hits: list[Hit], index: VocabIndex, found: dict[int, Candidate]
) -> None:
    """'neural MT' -> 'neural machine translation': words kept or abbreviated, checked on the n-gram
    candidates' labels (kgc.resolve's `abbreviates_partially`)."""
    if " " not in q.key or not any(looks_like_acronym(w) for w in q.name.split()):
        return
    for h in hits[:10]:
        c = int(index.row_concept[h.row])
        for row in range(index.concept_rows[c], index.concept_rows[c + 1]):
            if index.strength(row) in ("label", "exact") and abbreviates_partially(q.key, index.row_key[row]):
                _add(found, index, row, "acronym", "acronym", 1.0)
                found[c].features["acronym_letters"] = float(len(q.key.replace(" ", "")))


def narrower_band(q: NameQuery, index: VocabIndex, found: dict[int, Candidate]) -> None:
    """The longest run of the name's last words that is a label (at least one word left in front);
    hyphenated words count as several ('meta-transfer learning' -> 'transfer learning')."""
    ws = words(q.key)
    for start in range(1, len(ws)):
        tails = dict.fromkeys([" ".join(ws[start:]), " ".join(singular(w) for w in ws[start:])])
        rows = [r for t in tails for r in index.rows_of_key(t) if index.strength(r) in ("label", "exact")]
        if rows:
            for row in rows:
                _add(found, index, row, "narrower", "narrower", (len(ws) - start) / len(ws))
            return


def ngram_band(q: NameQuery, hits: list[Hit], index: VocabIndex, found: dict[int, Candidate]) -> None:
    for h in hits:
        _add(found, index, h.row, "ngram", "tfidf", h.score)


def string_scores(q: NameQuery, index: VocabIndex, found: Mapping[int, Candidate]) -> None:
    """rapidfuzz ratio of the name's key and each candidate's closest label or synonym (0-1)."""
    rows_of: dict[int, list[int]] = {}
    for row in _rows_near(index, found):
        rows_of.setdefault(int(index.row_concept[row]), []).append(row)
    for c, cand in found.items():
        best_row, best = cand.row, -1.0
        for row in rows_of.get(c, [cand.row]):
            s = fuzz.ratio(q.key, index.row_key[row]) / 100
            if s > best:
                best_row, best = row, s
        cand.features["string"] = round(best, 4)
        if not ({"key", "definition"} & set(cand.bands)):
            cand.row = best_row


def _rows_near(index: VocabIndex, found: Mapping[int, Candidate]) -> list[int]:
    """Every row (label and synonyms) of the candidate concepts."""
    starts = index.concept_rows
    return [r for c in found for r in range(starts[c], starts[c + 1])]


def candidates_for(q: NameQuery, hits: list[Hit], index: VocabIndex) -> list[Candidate]:
    """All bands for one name; candidates ranked by their best band, then score."""
    found: dict[int, Candidate] = {}
    if not q.key:
        return []
    key_band(q, index, found)
    definition_band(q, index, found)
    acronym_band(q, index, found)
    partial_abbreviation_band(q, hits, index, found)
    narrower_band(q, index, found)
    ngram_band(q, hits, index, found)
    string_scores(q, index, found)
    return sorted(found.values(), key=lambda c: (c.tier, -c.score, -c.features.get("tfidf", 0.0), c.concept))
