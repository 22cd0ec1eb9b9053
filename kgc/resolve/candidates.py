"""Candidate pairs without comparing all pairs: each generator costs about O(n·k).

- `key_pairs`: names whose compact keys are equal ('task-oriented dialog' / 'task oriented dialog').
- `ngram_pairs`: MinHash-LSH over character 3-grams, vectorised over all names at once with numpy
  (a per-name MinHash object would cost a Python call per shingle: minutes at a million names).
- `embedding_pairs`: each name's nearest neighbours by cosine, by chunked matrix products.
Acronym candidates come from kgc.resolve.acronyms. Pairs are int64 arrays of shape (m, 2), i < j.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

_SHIFT = np.uint64(32)  # multiply-shift hashing: the top 32 bits of a*x + b mod 2**64, a odd


def _unique(codes: np.ndarray) -> np.ndarray:
    """np.unique of integer codes by sorting (numpy 2's hash-based unique is ~10x slower on these)."""
    codes = np.sort(codes)
    return codes[np.r_[True, codes[1:] != codes[:-1]]] if len(codes) else codes


def unique_pairs(pairs: np.ndarray) -> np.ndarray:
    """Sorted, deduplicated pairs with i < j; self-pairs dropped."""
    if len(pairs) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    lo, hi = np.minimum(pairs[:, 0], pairs[:, 1]), np.maximum(pairs[:, 0], pairs[:, 1])
    keep = lo != hi
    n = np.int64(hi.max()) + 1
    codes = _unique(lo[keep].astype(np.int64) * n + hi[keep])
    return np.stack([codes // n, codes % n], axis=1)


def _group_pairs(bucket: np.ndarray, max_bucket: int) -> tuple[np.ndarray, np.ndarray]:
    """All pairs of items sharing a bucket value, and which items sit in a bucket of more than
    `max_bucket` items (those buckets give no pairs: too common to mean anything)."""
    order = np.argsort(bucket, kind="stable")
    sorted_b = bucket[order]
    starts = np.flatnonzero(np.r_[True, sorted_b[1:] != sorted_b[:-1]])
    sizes = np.diff(np.r_[starts, len(sorted_b)])
    out = []
    for size in np.unique(sizes[(sizes >= 2) & (sizes <= max_bucket)]):
        rows = order[starts[sizes == size][:, None] + np.arange(size)]  # groups x size
        a, b = np.triu_indices(int(size), 1)
        out.append(np.stack([rows[:, a].ravel(), rows[:, b].ravel()], axis=1))
    oversized = np.zeros(len(bucket), dtype=bool)
    oversized[order] = np.repeat(sizes > max_bucket, sizes)
    return (np.concatenate(out) if out else np.zeros((0, 2), dtype=np.int64)), oversized


def key_pairs(compact_keys: list[str], max_bucket: int = 1000) -> np.ndarray:
    """Pairs of names with equal compact keys (each group linked as a star to its first member)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, k in enumerate(compact_keys):
        groups[k].append(i)
    pairs = [(g[0], j) for g in groups.values() if 1 < len(g) <= max_bucket for j in g[1:]]
    return unique_pairs(np.array(pairs, dtype=np.int64).reshape(-1, 2))


def _shingle_codes(keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Character 3-grams of ' key ' as 24-bit codes (uint32), and the index of the first code of each
    key (keys non-empty, so each has at least one). One byte per character until the codes: at a
    million names the text is ~40 MB, and every int64 array over it another ~300 MB."""
    texts = [f" {k} ".encode() for k in keys]
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    data = np.frombuffer(b"".join(texts), dtype=np.uint8)
    del texts
    valid = np.ones(max(len(data) - 2, 0), dtype=bool)  # a 3-gram starting in one key, ending in the next
    ends = np.cumsum(lengths)[:-1]
    valid[ends - 1] = False
    valid[ends - 2] = False
    codes = (data[:-2].astype(np.uint32) << 16) | (data[1:-1].astype(np.uint32) << 8) | data[2:]
    starts = np.r_[0, np.cumsum(lengths - 2)[:-1]]
    return codes[valid], starts


def minhash_signatures(keys: list[str], num_perm: int, seed: int = 1, block: int = 1 << 16) -> np.ndarray:
    """MinHash signatures (n x num_perm, uint32) of the keys' character 3-gram sets (keys non-empty),
    `block` keys at a time so that the 64-bit hashes of all 3-grams are never held at once."""
    codes, starts = _shingle_codes(keys)
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 1 << 64, size=num_perm, dtype=np.uint64, endpoint=False) | np.uint64(1)
    b = rng.integers(0, 1 << 64, size=num_perm, dtype=np.uint64, endpoint=False)
    sig = np.empty((len(keys), num_perm), dtype=np.uint32)
    bounds = np.r_[starts, len(codes)]
    for lo in range(0, len(keys), block):
        hi = min(lo + block, len(keys))
        part = codes[bounds[lo] : bounds[hi]].astype(np.uint64)
        offsets = starts[lo:hi] - bounds[lo]
        for p in range(num_perm):
            hashed = (a[p] * part + b[p]) >> _SHIFT  # wraps modulo 2**64, as the scheme wants
            sig[lo:hi, p] = np.minimum.reduceat(hashed, offsets)
    return sig


def band_hashes(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 64-bit hash per band of `rows` signature values (bands x n): equal hashes, one bucket."""
    out = np.zeros((bands, len(sig)), dtype=np.uint64)
    for band in range(bands):
        h = out[band]
        for c in range(band * rows, (band + 1) * rows):
            h *= np.uint64(0x100000001B3)  # FNV-style mixing; overflow wraps, as intended
            h ^= sig[:, c]
    return out


@dataclass
class NgramPairs:
    pairs: np.ndarray  # (m, 2), i < j, string similarity >= the floor
    ratios: np.ndarray  # their rapidfuzz ratio, 0-100
    proposed: int  # pairs the LSH buckets proposed, over all bands (a pair found by two bands counts twice)
    skipped_buckets: int


def ngram_pairs(
    keys: list[str], *, bands: int, rows: int, max_bucket: int, min_ratio: float, score_chunk: int = 1 << 20
) -> NgramPairs:
    """Pairs whose 3-gram MinHash signatures agree on all `rows` of at least one of `bands` bands, and
    whose string similarity (rapidfuzz ratio) is at least `min_ratio`.

    A pair with 3-gram Jaccard similarity J becomes a candidate with probability 1 - (1 - J^rows)^bands
    (20 bands of 3 rows: J=0.2 -> 0.15, J=0.5 -> 0.93, J=0.65 -> 0.998). Each band's pairs are scored
    at once (C++, all cores) and only those at `min_ratio` are kept, so memory holds the survivors, not
    every pair that shares a bucket (long names sharing half their words share many buckets).
    """
    empty = NgramPairs(np.zeros((0, 2), dtype=np.int64), np.zeros(0), 0, 0)
    if len(keys) < 2:
        return empty
    hashes = band_hashes(minhash_signatures(keys, bands * rows), bands, rows)
    oversized = np.zeros((bands, len(keys)), dtype=bool)
    n = np.int64(len(keys))
    kept_codes, kept_ratios = [], []
    proposed = 0
    for band in range(bands):
        pairs, oversized[band] = _group_pairs(hashes[band], max_bucket)
        proposed += len(pairs)
        if not len(pairs):
            continue
        lo, hi = np.minimum(pairs[:, 0], pairs[:, 1]), np.maximum(pairs[:, 0], pairs[:, 1])
        del pairs
        codes = _unique(lo.astype(np.int64) * n + hi)
        codes = codes[~_proposed_before(codes // n, codes % n, band, hashes, oversized)]
        for chunk in range(0, len(codes), score_chunk):  # bounded: Python lists of ints and strings
            part = codes[chunk : chunk + score_chunk]
            a, b = (part // n).tolist(), (part % n).tolist()
            ratios = process.cpdist([keys[i] for i in a], [keys[j] for j in b], scorer=fuzz.ratio, workers=-1)
            keep = ratios >= min_ratio
            kept_codes.append(part[keep])
            kept_ratios.append(ratios[keep])
    skipped = _count_buckets(hashes, oversized)
    if not kept_codes:
        return NgramPairs(empty.pairs, empty.ratios, proposed, skipped)
    codes, ratios = np.concatenate(kept_codes), np.concatenate(kept_ratios)
    order = np.argsort(codes)
    codes, ratios = codes[order], ratios[order]
    return NgramPairs(np.stack([codes // n, codes % n], axis=1), ratios, proposed, skipped)


def _proposed_before(
    a: np.ndarray, b: np.ndarray, band: int, hashes: np.ndarray, oversized: np.ndarray
) -> np.ndarray:
    """Which pairs an earlier band already proposed (same bucket, not an oversized one), so each pair
    is scored once. Asked of the band hashes rather than of a set of every pair seen so far, which
    at a million names holds ~10^8 pairs."""
    before = np.zeros(len(a), dtype=bool)
    for earlier in range(band):
        h, big = hashes[earlier], oversized[earlier]
        before |= (h[a] == h[b]) & ~big[a]
    return before


def _count_buckets(hashes: np.ndarray, oversized: np.ndarray) -> int:
    """The number of oversized buckets over all bands."""
    return sum(len(_unique(h[big])) for h, big in zip(hashes, oversized, strict=True))


def embedding_pairs(
    vectors: np.ndarray, *, k: int, min_cosine: float, chunk: int = 2048
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k nearest rows with cosine >= min_cosine (rows L2-normalised); pairs and cosines."""
    n = len(vectors)
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.float32)
    k = min(k, n - 1)
    pairs, sims = [], []
    for start in range(0, n, chunk):
        block = vectors[start : start + chunk] @ vectors.T
        rows = np.arange(block.shape[0])
        block[rows, rows + start] = -1.0  # not a neighbour of itself
        top = np.argpartition(-block, k, axis=1)[:, :k]
        top_sims = block[rows[:, None], top]
        keep = top_sims >= min_cosine
        src = (rows[:, None] + start).repeat(k, axis=1)
        pairs.append(np.stack([src[keep], top[keep]], axis=1))
        sims.append(top_sims[keep])
    all_pairs, all_sims = np.concatenate(pairs), np.concatenate(sims)
    lo, hi = np.minimum(all_pairs[:, 0], all_pairs[:, 1]), np.maximum(all_pairs[:, 0], all_pairs[:, 1])
    codes, first = np.unique(lo * n + hi, return_index=True)
    return np.stack([codes // n, codes % n], axis=1), all_sims[first]
