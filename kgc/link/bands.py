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

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from kgc.link import forms
from kgc.link.index import Hit, VocabIndex
from kgc.resolve import name_key
from kgc.resolve.acronyms import abbreviates, abbreviates_partially, looks_like_acronym, short_letters
from kgc.resolve.heads import is_gerund
from kgc.text import QUOTES, singular, split_parenthetical, words

# Bands in order of trust: a candidate is ranked by the best band that proposed it, then by score.
BAND_ORDER = ("key", "definition", "variant", "acronym", "narrower", "ngram", "dense")
MAX_INSIDE_LETTERS = 8  # longer acronyms are looked up by their initials only


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
        """How close the name is to the concept's best label: 1.0 for a key, definition or variant hit."""
        f = self.features
        if "key" in f or "definition" in f or "variant" in f:
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
    """The name's key, its key without a parenthesis or with the parenthesis alone."""
    base, inner = split_parenthetical(q.name)
    keys = [q.key] + [k for k in (name_key(base), name_key(inner or "")) if k and k != q.key and inner]
    for key in keys:
        for row in index.rows_of_key(key):
            _add(found, index, row, "key", "key", 1.0)
            found[int(index.row_concept[row])].features[f"strength_{index.strength(row)}"] = 1.0


def definition_band(q: NameQuery, index: VocabIndex, found: dict[int, Candidate]) -> None:
    for long_key in q.long_forms:
        for row in index.rows_of_key(long_key):
            _add(found, index, row, "definition", "definition", 1.0)


def variant_band(q: NameQuery, index: VocabIndex, found: dict[int, Candidate]) -> None:
    """The name written another way (kgc.link.forms) is a label, or a label written another way."""
    hits: list[tuple[int, str]] = []
    for key, how in forms.name_variants(q.key, q.name).items():
        hits += [
            (row, f"{how}=label")
            for row in index.rows_of_key(key)
            if index.strength(row) in ("label", "exact")
        ]
        hits += [(row, f"{how}+{kind}") for row, kind in index.variants_of(key)]
    hits += index.variants_of(q.key)
    for form in forms.forms(q.key):
        hits += [(row, "form") for row, other in index.forms_of(form[0]) if forms.same_form(form, other)]
    for row, how in hits:
        if index.row_key[row] != q.key:
            _add(found, index, row, "variant", "variant", 1.0)
            found[int(index.row_concept[row])].features[f"variant_{how}"] = 1.0


def _acronym_tokens(name: str) -> list[str]:
    """The name as an acronym: 'GANs', or 'GRU' of 'GRU networks' (a head word that adds nothing)."""
    base, _ = split_parenthetical(name)  # 'boosting NMT (neural MT)' is not NMT: the base decides
    token = base.strip().strip(QUOTES)
    ws = token.split(" ")
    if len(ws) == 2 and forms.without_head(name_key(token), token) is not None:
        return [token, ws[0]]
    return [token]


def acronym_band(q: NameQuery, index: VocabIndex, found: dict[int, Candidate]) -> None:
    """Labels whose initials the acronym spells; with `acronym_initials` when they are all initials
    ('GAN'), without when some letters come from inside a word ('ADS': adversarial search), and
    `acronym_full` when they are the initials of the whole label ('MT': machine translation), not of
    the label without its head word ('MT': machine translation techniques) or of one of its parts."""
    for token in _acronym_tokens(q.name):
        if not looks_like_acronym(token):
            continue
        letters = short_letters(token)
        lookups = forms.subsequences(letters) if len(letters) <= MAX_INSIDE_LETTERS else iter([letters])
        for initials in dict.fromkeys(lookups):
            for row, long in index.by_initials.get(initials, ()):
                if abbreviates(letters, long):
                    _add(found, index, row, "acronym", "acronym", 1.0)
                    f = found[int(index.row_concept[row])].features
                    f["acronym_letters"] = float(len(letters))
                    if initials == letters:
                        f["acronym_initials"] = 1.0
                        if long == index.row_key[row]:
                            f["acronym_full"] = 1.0


def partial_abbreviation_band(
    q: NameQuery, hits: list[Hit], index: VocabIndex, found: dict[int, Candidate]
) -> None:
    """'neural MT' -> 'neural machine translation', and 'statistical MT systems' -> 'SMT system': words
    kept or abbreviated, checked on the n-gram candidates' labels (kgc.resolve's
    `abbreviates_partially`), one way or the other."""
    if " " not in q.key:
        return
    short = any(looks_like_acronym(w) for w in q.name.split())
    keys = dict.fromkeys([q.key, q.key.replace("-", "")])  # 'bi-directional RNNs' = 'bidirectional RNNs'
    for h in hits[:10]:
        c = int(index.row_concept[h.row])
        for row in range(index.concept_rows[c], index.concept_rows[c + 1]):
            label = index.row_key[row]
            if index.strength(row) not in ("label", "exact"):
                continue
            if (short and any(abbreviates_partially(k, label) for k in keys)) or (
                " " in label and _has_acronym(index, row) and abbreviates_partially(label, q.key)
            ):
                _add(found, index, row, "acronym", "acronym", 1.0)
                found[c].features["acronym_letters"] = float(len(q.key.replace(" ", "")))
                found[c].features["acronym_initials"] = 1.0


def _has_acronym(index: VocabIndex, row: int) -> bool:
    """Whether the label or synonym of this row, as written, has an acronym in it ('SMT system')."""
    c = int(index.row_concept[row])
    text = index.vocab.concepts[c].names()[row - int(index.concept_rows[c])][0]
    return any(looks_like_acronym(w) for w in text.split(" "))


def narrower_band(q: NameQuery, index: VocabIndex, found: dict[int, Candidate]) -> None:
    """The longest run of the name's last words that is a label (at least one word left in front);
    hyphenated words count as several ('meta-transfer learning' -> 'transfer learning'). When only the
    head word is a label and it is a generic one, the name without it is read instead
    ('non-sequential tracking approaches' -> 'tracking', not 'approach')."""
    key, start, rows = _longest_tail(index, q.key)
    bare = forms.without_head(q.key, q.name)
    if (
        bare is not None
        and q.key.rsplit(" ", 1)[-1] in forms.GENERIC_HEADS
        and start >= len(words(q.key)) - 1
    ):
        key, start, rows = _longest_tail(index, bare)  # no label ends the name but its head word
    if rows and _modifies(key, start):
        for row in rows:
            _add(found, index, row, "narrower", "narrower", 1 - start / len(words(key)))


def _longest_tail(index: VocabIndex, key: str) -> tuple[str, int, list[int]]:
    """(key, where the tail starts, its label rows) for the longest run of last words that is a label."""
    ws = words(key)
    for start in range(1, len(ws)):
        tails = dict.fromkeys([" ".join(ws[start:]), " ".join(singular(w) for w in ws[start:])])
        rows = [r for t in tails for r in index.rows_of_key(t) if index.strength(r) in ("label", "exact")]
        if rows:
            return key, start, rows
    return key, len(ws), []


def _modifies(key: str, start: int) -> bool:
    """Whether the first `start` words (hyphen parts counted) only modify the rest: no relation or
    conjunction word of their own ('quality of', 'X and', 'for') and no verb first ('improving')."""
    front: list[tuple[str, bool]] = []  # (word, inside a hyphenated compound)
    for token in key.split(" "):
        parts = [p for p in re.split(r"[\-/]+", token) if p]
        front += [(p, len(parts) > 1) for p in parts]
    front = front[:start]
    if not front or is_gerund(front[0][0]):
        return False
    return not any(w in forms.RELATION_WORDS and not compound for w, compound in front)


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
        if not ({"key", "definition", "variant"} & set(cand.bands)):
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
    variant_band(q, index, found)
    acronym_band(q, index, found)
    partial_abbreviation_band(q, hits, index, found)
    narrower_band(q, index, found)
    ngram_band(q, hits, index, found)
    string_scores(q, index, found)
    return sorted(found.values(), key=lambda c: (c.tier, -c.score, -c.features.get("tfidf", 0.0), c.concept))
