"""The sentence embedder is injected like the LLM: a stage takes it from its context, built lazily."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from kgc.config import load_config
from kgc.pipeline import Pipeline
from kgc.testing import HashingEmbedder, ScriptedBackend, scripted_factory

DOCS = {
    "d1": "Word embeddings map words to vectors. Word embeddings help text classification.",
    "d2": "GloVe vectors are learned from text. Text classification uses GloVe vectors.",
}
RULES: list[dict[str, Any]] = [
    {
        "task": "extraction",
        "contains": DOCS["d1"],
        "reply": {
            "triplets": [{"head": "word embeddings", "relation": "Used-for", "tail": "text classification"}]
        },
    },
    {
        "task": "extraction",
        "contains": DOCS["d2"],
        "reply": {
            "triplets": [{"head": "GloVe vectors", "relation": "Used-for", "tail": "text classification"}]
        },
    },
    {"task": "extraction", "reply": {"triplets": []}},
]


class RecordingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.asked: list[list[str]] = []

    def encode(self, texts: Any) -> np.ndarray:
        self.asked.append(list(texts))
        return super().encode(texts)


def test_the_fusion_stage_embeds_names_with_the_injected_embedder(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in DOCS.items():
        (corpus / f"{name}.txt").write_text(text, encoding="utf-8")
    cfg = load_config(
        None,
        {
            "llm.backend": "openai",
            "llm.model": "scripted",
            "extraction.mode": "document",
            "resolve.llm_band": False,
        },
    )
    embedder = RecordingEmbedder()
    backend = ScriptedBackend(rules=RULES)
    pipeline = Pipeline(
        cfg,
        tmp_path / "run",
        corpus=corpus,
        llm_factory=scripted_factory(backend, cfg.llm),
        embedder=embedder,
    )

    pipeline.run_until("extraction")
    assert embedder.asked == []  # built on first use: the stages before fusion never touch it

    pipeline.run_until("fusion")
    [names] = embedder.asked
    assert sorted(text.split(":")[0] for text in names) == [  # spelled as the documents spell them
        "GloVe vectors",
        "Word embeddings",
        "text classification",
    ]
