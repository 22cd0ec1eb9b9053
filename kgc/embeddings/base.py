"""What every sentence embedder is: the one interface the stages, the store and the tests rely on."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

# Texts encoded and saved together: about 20 s of MiniLM on 2 cores, so little is lost to a kill and
# the store sees few transactions; also the unit a Ray worker receives.
BATCH_TEXTS = 256


class Embedder(Protocol):
    """Turns texts into vectors: float32, one L2-normalised row per text (a dot product is a cosine).

    `key` names what computes the vectors (model, backend and the options that change them): vectors
    of equal keys are interchangeable, which is how the vector store knows what it may reuse. Reading
    `key` must be cheap and never load a model, so a resumed run whose vectors are all stored never
    loads one.
    """

    @property
    def key(self) -> str: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


# What the pure libraries take (kgc.resolve, kgc.link): an embedder's `encode`, or any function that
# gives one L2-normalised float32 row per text, so they need no model, store or backend of their own.
Embed = Callable[[list[str]], np.ndarray]
