"""The seeds stage's embeddings are saved batch by batch: a run killed while embedding resumes there."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from kgc.embeddings import embed
from kgc.stages.chunk_embeddings import chunk_embeddings, embedding_key

pytestmark = pytest.mark.slow  # the real MiniLM model (torch)

TEXTS = [f"Text number {i} is about {topic}." for i, topic in enumerate(["attention", "BLEU", "parsing"] * 4)]


class Killed(Exception):
    """Stands for the process being killed in the middle of the embedding."""


class CountingEmbed:
    """The real MiniLM embedding, counting the texts it embeds, and 'killed' after `kill_after` calls."""

    def __init__(self, kill_after: int | None = None):
        self.kill_after = kill_after
        self.calls: list[int] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        if self.kill_after is not None and len(self.calls) == self.kill_after:
            raise Killed
        self.calls.append(len(texts))
        return embed(texts, "minilm")


def test_a_killed_embedding_resumes_from_the_saved_batches(tmp_path: Path) -> None:
    uninterrupted = chunk_embeddings(tmp_path / "a", TEXTS, "minilm", CountingEmbed(), batch_texts=5)

    run = tmp_path / "b"
    run.mkdir()
    with pytest.raises(Killed):
        chunk_embeddings(run, TEXTS, "minilm", CountingEmbed(kill_after=2), batch_texts=5)
    key = embedding_key("minilm", TEXTS)
    assert sorted(p.name for p in (run / f"chunk_embeddings.{key}.parts").iterdir()) == [
        "000000000.npy",
        "000000005.npy",
    ]
    resumed = CountingEmbed()
    vectors = chunk_embeddings(run, TEXTS, "minilm", resumed, batch_texts=5)
    assert resumed.calls == [2]  # only the last batch (texts 10 and 11) was left
    np.testing.assert_allclose(vectors, uninterrupted, atol=1e-6)
    assert sorted(p.name for p in run.iterdir()) == [f"chunk_embeddings.{key}.npy"]  # parts removed

    again = CountingEmbed()
    np.testing.assert_array_equal(chunk_embeddings(run, TEXTS, "minilm", again, batch_texts=5), vectors)
    assert again.calls == []


def test_other_texts_replace_the_old_embeddings_once_complete(tmp_path: Path) -> None:
    chunk_embeddings(tmp_path, TEXTS, "minilm", CountingEmbed(), batch_texts=5)
    with pytest.raises(Killed):
        chunk_embeddings(tmp_path, TEXTS[:7], "minilm", CountingEmbed(kill_after=1), batch_texts=5)
    old, new = embedding_key("minilm", TEXTS), embedding_key("minilm", TEXTS[:7])
    assert {p.name for p in tmp_path.iterdir()} == {
        f"chunk_embeddings.{old}.npy",  # kept until the new ones are complete
        f"chunk_embeddings.{new}.parts",
    }
    chunk_embeddings(tmp_path, TEXTS[:7], "minilm", CountingEmbed(), batch_texts=5)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"chunk_embeddings.{new}.npy"]


def test_a_long_embedding_logs_its_size_then_an_eta(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    texts = [f"sentence {i}" for i in range(210)]
    with caplog.at_level(logging.INFO, logger="kgc.stages.chunk_embeddings"):
        chunk_embeddings(tmp_path, texts, "minilm", CountingEmbed(), batch_texts=100)
    first, second = caplog.messages[:2]
    assert first == (
        "seeds: embedding 210 chunks with minilm in batches of 100; each batch is saved, so a killed run "
        "resumes from the last one"
    )
    assert second.startswith("seeds: 100 of 210 chunks embedded, about ") and second.endswith(" s left")


def test_seeds_killed_while_embedding_resume_from_the_saved_batches(tmp_path: Path) -> None:
    """A real `kgc seeds` process SIGKILLed once its first batch is saved; the rerun embeds the rest."""
    abstracts = Path(__file__).resolve().parents[2] / "shared" / "data" / "graphusion" / "abstracts.txt"
    if not abstracts.is_file():
        pytest.skip("the Graphusion abstracts are not on this machine")
    corpus = tmp_path / "abstracts.txt"
    lines = abstracts.read_text(encoding="utf-8").splitlines()[:300]
    corpus.write_text("\n".join(lines) + "\n")
    distinct = len(set(lines))  # a text that occurs twice is embedded once (the store is by content)
    command = [sys.executable, "-m", "kgc.cli", "seeds", str(corpus), "--out", str(tmp_path / "run")]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 600
    while not list((tmp_path / "run").glob("chunk_embeddings.*.parts/*.npy")):
        assert first.poll() is None, first.communicate()[0]
        assert time.monotonic() < deadline, "no batch saved in 10 minutes"
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    first.wait()
    saved = 256 * len(list((tmp_path / "run").glob("chunk_embeddings.*.parts/*.npy")))

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert second.returncode == 0, second.stderr
    log = " ".join(second.stderr.split())
    assert (
        f"seeds: embedding {distinct - saved:,} chunks with minilm in batches of 256 ({saved:,} already embedded by an earlier run)"
        in log
    )
    [complete] = (tmp_path / "run").glob("chunk_embeddings.*")
    assert complete.suffix == ".npy" and np.load(complete).shape == (distinct, 384)
