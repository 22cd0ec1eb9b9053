"""A tiny deterministic sentence embedder for tests: no model, no torch, the same vectors everywhere.

Texts that share words and spellings get near vectors (hashed word and character-trigram counts), so
code that looks for neighbours behaves sensibly on it; `Pipeline(..., embedder=HashingEmbedder())`
runs the stages that embed in milliseconds.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

_WORD = re.compile(r"\w+")


class HashingEmbedder:
    """`kgc.embeddings.Embedder` by feature hashing: unit float32 rows of `dimension` columns."""

    def __init__(self, dimension: int = 64) -> None:
        self.dimension = dimension
        self.key = f"hashing-{dimension}"
        self.encoded = 0  # texts encoded so far: lets a test see what was (not) embedded again

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in _features(text):
                digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
                out[row, int.from_bytes(digest, "little") % self.dimension] += 1.0
            out[row, 0] += 1e-3  # an empty text still gets a unit vector
        self.encoded += len(texts)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def _features(text: str) -> list[str]:
    words = _WORD.findall(text.lower())
    grams = [f"#{w}#"[i : i + 3] for w in words for i in range(len(w))]
    return words + grams
