"""Seeds at scale: the topic model fitted on a sample of the chunks, every chunk still given a topic.
The texts are made of theme phrases, so even the model-free HashingEmbedder clusters them by theme."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from kgc.config import SeedsConfig, load_config
from kgc.pipeline import Pipeline
from kgc.stages.seeds import find_seeds, fit_sample
from kgc.testing import HashingEmbedder

THEMES = {
    "baking": ["bread dough", "sourdough starter", "oven temperature", "rye flour", "baking stone"],
    "astronomy": ["black hole", "neutron star", "galaxy cluster", "space telescope", "event horizon"],
    "football": ["penalty kick", "goalkeeper save", "red card", "transfer window", "league title"],
}
FRAMES = [
    "The {0} matters more than the {1}.",
    "Everyone talks about the {0} and the {1} today.",
    "A guide to the {0}, then the {1}.",
    "Notes on the {0} with a word on the {1}.",
]


def themed_texts(per_theme: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """Texts about one theme each, and the theme of each, interleaved."""
    rng = random.Random(seed)
    texts, themes = [], []
    for i in range(per_theme):
        for theme, terms in THEMES.items():
            a, b, c = rng.sample(terms, 3)
            texts.append(" ".join(f.format(a, b) for f in rng.sample(FRAMES, 2)) + f" Also {c}. Doc {i}.")
            themes.append(theme)
    return texts, themes


def test_the_sample_is_capped_chosen_by_content_and_skips_blank_texts() -> None:
    texts = [f"text number {i}" for i in range(50)] + ["", "  "]
    cfg = SeedsConfig(fit_sample=10)
    sample = fit_sample(texts, cfg)
    assert len(sample) == 10 and sample == sorted(sample)
    assert all(texts[i].strip() for i in sample)
    shuffled = texts[::-1]
    assert {texts[i] for i in sample} == {shuffled[i] for i in fit_sample(shuffled, cfg)}
    grown = texts + [f"new text {i}" for i in range(5)]
    assert len({texts[i] for i in sample} & {grown[i] for i in fit_sample(grown, cfg)}) >= 5
    other_seed = fit_sample(texts, SeedsConfig(fit_sample=10, random_state=7))
    assert other_seed != sample
    assert fit_sample(texts, SeedsConfig(fit_sample=0)) == list(range(50))
    assert fit_sample(texts, SeedsConfig(fit_sample=60)) == list(range(50))


@pytest.mark.slow  # BERTopic's import alone takes 20 s of CPU
def test_texts_outside_the_sample_are_assigned_to_the_topic_of_their_keyphrases() -> None:
    texts, themes = themed_texts(12)
    cfg = SeedsConfig(ngram_range=(1, 2), fit_sample=15, min_topic_size=10)  # 15 < 2 x 10: k-means
    embedder = HashingEmbedder()
    result = find_seeds(texts, cfg, embedder=embedder)
    sample = fit_sample(texts, cfg)
    assert result.fitted == 15 and len(result.labels) == len(texts)
    # The theme of each topic, by majority of its fitted texts; every text outside the sample lands
    # in a topic of its own theme.
    theme_of_topic: dict[int, str] = {}
    for topic in {result.labels[i] for i in sample}:
        members = [themes[i] for i in sample if result.labels[i] == topic]
        theme_of_topic[topic] = max(set(members), key=members.count)
    rest = [i for i in range(len(texts)) if i not in set(sample)]
    assert all(theme_of_topic.get(result.labels[i]) == themes[i] for i in rest)
    assert sum(t.size for t in result.topics) + result.outliers == len(texts)


class RecordingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.asked += texts
        return super().encode(texts)


@pytest.mark.slow
def test_the_stage_embeds_only_the_sample(tmp_path: Path) -> None:
    texts, _ = themed_texts(10)
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(
        "".join(json.dumps({"id": f"d{i}", "text": t}) + "\n" for i, t in enumerate(texts)), encoding="utf-8"
    )
    cfg = load_config(None, {"seeds.fit_sample": 12, "seeds.min_topic_size": 10})
    embedder = RecordingEmbedder()
    pipeline = Pipeline(cfg, tmp_path / "run", corpus=corpus, embedder=embedder)
    pipeline.run_until("seeds")
    record = pipeline.run.manifest().stages["seeds"]
    assert record.counts["fitted_chunks"] == 12
    assert len(set(embedder.asked) & set(texts)) == 12  # the rest embedded are keyphrases
    topics = json.loads((tmp_path / "run" / "topics.json").read_text(encoding="utf-8"))
    assert sum(t["size"] for t in topics) == len(texts)  # k-means: no outliers, every chunk in a topic
