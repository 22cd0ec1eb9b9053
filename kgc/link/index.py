"""The vocabulary's lookup structures: name keys, acronym initials and a character 3-gram TF-IDF matrix.

Every label and synonym of every concept is a row. Keys are kgc.resolve's (`name_key`, `compact_key`),
so 'the same name' means the same thing in linking as in entity resolution. The TF-IDF rows are
hashed character 3-grams of ' key ' (scispaCy's linker uses char 3-grams too), weighted by inverse
document frequency, L2-normalised; grams found in more than `max_df` of the rows carry no signal and
are dropped, which also keeps the sparse products small. Candidates are exact sparse products, not
an approximate index. The built index is cached beside the vocabulary's parse, by content hash.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from kgc.link import forms
from kgc.link.vocabulary import Vocabulary, cache_dir
from kgc.resolve.acronyms import long_keys
from kgc.resolve.keys import compact_key, name_key
from kgc.rundir import atomic_write_bytes, atomic_write_text

log = logging.getLogger(__name__)

N_FEATURES = 1 << 20
INDEX_VERSION = "4"
_STRENGTH_CODES = ("label", "exact", "related", "broad", "narrow")


def gram_counts(keys: list[str]) -> sp.csr_matrix:
    """Counts of the character 3-grams of ' key ' (the spaces mark word edges), each gram's three
    UTF-8 bytes hashed into N_FEATURES columns; vectorised over all keys at once."""
    texts = [f" {k} ".encode() for k in keys]
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    data = np.frombuffer(b"".join(texts), dtype=np.uint8).astype(np.uint64)
    owner = np.repeat(np.arange(len(keys)), lengths)
    pos = np.arange(max(len(data) - 2, 0))
    pos = pos[owner[pos] == owner[pos + 2]]  # the three bytes belong to one key
    codes = (data[pos] << np.uint64(16)) | (data[pos + 1] << np.uint64(8)) | data[pos + 2]
    cols = ((codes * np.uint64(2654435761)) % np.uint64(N_FEATURES)).astype(np.int64)
    m = sp.csr_matrix(
        (np.ones(len(pos), dtype=np.float32), (owner[pos], cols)), shape=(len(keys), N_FEATURES)
    )
    m.sum_duplicates()
    return m


@dataclass
class Hit:
    concept: int  # index into vocab.concepts
    row: int  # the label or synonym row matched
    score: float


class VocabIndex:
    """Lookup of one vocabulary: rows by key (`rows_of_key`), by another way of writing them
    (`by_variant`, `by_form`: kgc.link.forms), by initials (`by_initials`), and by 3-grams
    (`ngram_top`)."""

    def __init__(
        self,
        vocab: Vocabulary,
        row_concept: np.ndarray,
        row_strength: np.ndarray,
        row_key: list[str],
        matrix: sp.csr_matrix,
        idf: np.ndarray,
    ):
        self.vocab = vocab
        self.row_concept = row_concept
        self.row_strength = row_strength
        self.row_key = row_key
        self.matrix_t = matrix.T.tocsr()  # grams x rows: a query times this is one sparse product
        self.idf = idf
        # a concept's rows are contiguous: rows concept_rows[c] .. concept_rows[c + 1] - 1
        self.concept_rows = np.searchsorted(row_concept, np.arange(len(vocab.concepts) + 1))
        self.by_key: dict[str, list[int]] = defaultdict(list)
        self.by_compact: dict[str, list[int]] = defaultdict(list)
        # initials -> (row, the text they are the initials of: the label itself (its key), or the label
        # without its head, its modelling form, one of its parts)
        self.by_initials: dict[str, list[tuple[int, str]]] = defaultdict(list)
        self.by_variant: dict[str, list[tuple[int, str]]] = defaultdict(list)  # key -> (row, how)
        self.by_form: dict[str, list[tuple[int, forms.Form]]] = defaultdict(list)  # object -> (row, form)
        texts = [text for c in vocab.concepts for text, _ in c.names()]
        for row, key in enumerate(row_key):
            if not key:
                continue
            self.by_key[key].append(row)
            self.by_compact[compact_key(key)].append(row)
            if self.strength(row) in ("label", "exact"):
                self._add_variants(row, key, texts[row] if len(texts) == len(row_key) else key)

    def _add_variants(self, row: int, key: str, text: str) -> None:
        longs = {key: "label"}
        if (bare := forms.label_without_head(key, text)) is not None:
            longs[bare] = "head"
        if (model := forms.loose(key)) is not None:
            longs[model] = "model"
        longs.update((part, "part") for part in forms.label_parts(key))
        for long, how in longs.items():
            if how != "label":
                self.by_variant[compact_key(long)].append((row, how))
            for initials in long_keys(long):
                self.by_initials[initials].append((row, long))
        for initials in forms.acronym_initials(text) | long_keys(forms.split_prefixes(key)):
            self.by_initials[initials].append((row, key))
        for form in forms.forms(key):
            self.by_form[compact_key(form[0])].append((row, form))

    def variants_of(self, key: str) -> list[tuple[int, str]]:
        """Label rows another way of writing which is `key` (spaces and hyphens aside)."""
        return self.by_variant.get(compact_key(key), [])

    def forms_of(self, obj: str) -> list[tuple[int, forms.Form]]:
        """Label rows read as an action on the object `obj` (spaces and hyphens aside)."""
        return self.by_form.get(compact_key(obj), [])

    def strength(self, row: int) -> str:
        return _STRENGTH_CODES[int(self.row_strength[row])]

    def rows_of_key(self, key: str) -> list[int]:
        """Rows whose name key, or else whose compact key, equals this key's."""
        return self.by_key.get(key) or self.by_compact.get(compact_key(key), [])

    def vectors(self, keys: list[str]) -> sp.csr_matrix:
        q = gram_counts(keys)
        q.data = np.log1p(q.data)
        q = sp.csr_matrix(q.multiply(self.idf[None, :]))
        return _normalise(q)

    def ngram_top(self, keys: list[str], k: int, chunk: int = 2000) -> list[list[Hit]]:
        """The k concepts with the highest TF-IDF cosine to each key (max over a concept's rows)."""
        out: list[list[Hit]] = []
        for start in range(0, len(keys), chunk):
            sims = (self.vectors(keys[start : start + chunk]) @ self.matrix_t).tocsr()
            for i in range(sims.shape[0]):
                lo, hi = sims.indptr[i], sims.indptr[i + 1]
                rows, scores = sims.indices[lo:hi], sims.data[lo:hi]
                if len(rows) > 4 * k:  # a concept has a few rows: 4k rows hold its k best concepts
                    top = np.argpartition(-scores, 4 * k)[: 4 * k]
                    rows, scores = rows[top], scores[top]
                order = np.argsort(-scores, kind="stable")
                best: dict[int, Hit] = {}
                for j in order:
                    c = int(self.row_concept[rows[j]])
                    if c not in best:
                        best[c] = Hit(c, int(rows[j]), round(float(scores[j]), 4))
                        if len(best) == k:
                            break
                out.append(list(best.values()))
        return out


def _normalise(m: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ m, dtype=np.float32)


def build_index(vocab: Vocabulary, max_df: float = 0.05, *, cache: bool = True) -> VocabIndex:
    """The index of `vocab`, from the cache when its content and `max_df` were indexed before."""
    tag = hashlib.sha256(f"{INDEX_VERSION}|{vocab.sha256}|{max_df}|{len(vocab)}".encode()).hexdigest()[:24]
    arrays, keys_file = cache_dir() / f"index-{tag}.npz", cache_dir() / f"index-{tag}.keys.json"
    if cache and vocab.sha256 and arrays.is_file() and keys_file.is_file():
        try:
            with np.load(arrays) as z:
                matrix = sp.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"]))
                parts = (z["row_concept"], z["row_strength"], z["idf"])
            keys = json.loads(keys_file.read_text(encoding="utf-8"))
            return VocabIndex(vocab, parts[0], parts[1], keys, matrix, parts[2])
        except (OSError, ValueError, KeyError) as e:
            log.warning("vocabulary index cache %s is unreadable (%s): building it again", arrays, e)
    row_concept: list[int] = []
    row_strength: list[int] = []
    row_key: list[str] = []
    for i, c in enumerate(vocab.concepts):
        for text, strength in c.names():
            row_concept.append(i)
            row_strength.append(_STRENGTH_CODES.index(strength))
            row_key.append(name_key(text))
    counts = gram_counts(row_key)
    df = np.bincount(counts.indices, minlength=N_FEATURES)
    n = max(len(row_key), 1)
    idf = np.log((1 + n) / (1 + df)).astype(np.float32) + 1.0
    idf[df > max(max_df * n, 50)] = 0.0  # frequent grams: no signal, and long posting lists
    counts.data = np.log1p(counts.data)
    matrix = _normalise(sp.csr_matrix(counts.multiply(idf[None, :])))
    matrix.eliminate_zeros()
    rc, rs = np.array(row_concept, dtype=np.int32), np.array(row_strength, dtype=np.int8)
    index = VocabIndex(vocab, rc, rs, row_key, matrix, idf)
    if cache and vocab.sha256:
        cache_dir().mkdir(parents=True, exist_ok=True)
        import io

        buf = io.BytesIO()
        np.savez(
            buf, data=matrix.data, indices=matrix.indices, indptr=matrix.indptr, shape=np.array(matrix.shape),
            row_concept=rc, row_strength=rs, idf=idf,
        )  # fmt: skip
        atomic_write_bytes(arrays, buf.getvalue())
        atomic_write_text(keys_file, json.dumps(row_key))
    return index
