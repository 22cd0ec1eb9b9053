"""The vector store: each distinct text embedded once, saved batch by batch in one SQLite file, so a
run killed mid-embedding resumes from its last batch with the same vectors; the files of earlier kgc
versions are migrated into it. Fast tests use kgc.testing.HashingEmbedder; the real MiniLM run of
`kgc seeds` killed with SIGKILL is in the slow tier."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from kgc.embeddings import STORE_FILE, StoredEmbedder, VectorStore
from kgc.embeddings.legacy import migrate_chunk_vectors
from kgc.models import content_hash
from kgc.testing import HashingEmbedder

TEXTS = [
    f"Text number {i} is about {topic}." for i, topic in enumerate(["attention", "BLEU", "parsing"] * 14)
]


class Counting(HashingEmbedder):
    """HashingEmbedder that records what it was asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[list[str]] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.asked.append(list(texts))
        return super().encode(texts)


def stored_rows(run: Path, collection: str = "chunks") -> int:
    """Rows in the run's store, read as another process would (0 before the store has its table)."""
    if not (run / STORE_FILE).exists():
        return 0
    with contextlib.closing(sqlite3.connect(run / STORE_FILE)) as db:
        try:
            query = db.execute("SELECT COUNT(*) FROM vectors WHERE collection = ?", (collection,))
        except sqlite3.OperationalError:  # created, its table not yet
            return 0
        return int(query.fetchone()[0])


def encode(run: Path, texts: list[str], embedder: HashingEmbedder, batch_texts: int = 256) -> np.ndarray:
    with VectorStore.open(run, "chunks", embedder.key) as store:
        return StoredEmbedder(embedder, store, label="seeds", noun="chunks", batch_texts=batch_texts).encode(
            texts
        )


def test_each_distinct_text_is_embedded_once_and_kept_by_content(tmp_path: Path) -> None:
    embedder = Counting()
    rows = encode(tmp_path, ["one", "three", "three"], embedder)
    np.testing.assert_array_equal(rows, HashingEmbedder().encode(["one", "three", "three"]))
    assert embedder.asked == [["one", "three"]]  # the same text is embedded once

    rows = encode(tmp_path, ["three", "eleven"], embedder)
    np.testing.assert_array_equal(rows, HashingEmbedder().encode(["three", "eleven"]))
    assert embedder.asked[1:] == [["eleven"]]  # only the new text

    with VectorStore.open(tmp_path, "chunks", embedder.key) as store:
        assert store.keep_only({content_hash("eleven")}) == 2  # "one" and "three" leave with their text
    encode(tmp_path, ["one", "eleven"], embedder)
    assert embedder.asked[2:] == [["one"]]
    assert stored_rows(tmp_path, "names") == 0  # collections are apart


def test_another_embedder_key_embeds_again_and_a_finished_pass_drops_the_old_rows(tmp_path: Path) -> None:
    encode(tmp_path, ["one", "two"], HashingEmbedder(64))
    other = Counting()
    other.key = "other-model"
    with VectorStore.open(tmp_path, "chunks", other.key) as store:
        StoredEmbedder(other, store, label="seeds").encode(["one", "two"])
        assert store.keys() == {"hashing-64": 2, "other-model": 2}  # the old kept until the new are done
        store.keep_only({content_hash("one"), content_hash("two")})
        assert store.keys() == {"other-model": 2}
    assert other.asked == [["one", "two"]]
    with (
        VectorStore.open(tmp_path, "chunks", "hashing-64") as store,
        pytest.raises(ValueError, match="store of"),
    ):
        StoredEmbedder(other, store, label="seeds")


# A child process that embeds TEXTS in batches of 5, slowly, until it is killed.
CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from kgc.embeddings import StoredEmbedder, VectorStore
    from kgc.testing import HashingEmbedder
    from tests.test_vector_store import TEXTS

    class Slow(HashingEmbedder):
        def encode(self, texts):
            time.sleep(0.3)
            return super().encode(texts)

    with VectorStore.open(Path(sys.argv[1]), "chunks", "hashing-64") as store:
        StoredEmbedder(Slow(), store, label="seeds", batch_texts=5).encode(TEXTS)
    """
)


def test_a_run_killed_mid_embedding_resumes_from_its_saved_batches_with_the_same_vectors(
    tmp_path: Path,
) -> None:
    uninterrupted = encode(tmp_path / "a", TEXTS, HashingEmbedder(), batch_texts=5)

    run = tmp_path / "b"
    run.mkdir()
    repo = Path(__file__).resolve().parents[1]
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(run)], cwd=repo)
    deadline = time.monotonic() + 60
    while stored_rows(run) < 10:
        assert child.poll() is None, "the child ended before it was killed"
        assert time.monotonic() < deadline, "no two batches saved in a minute"
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    saved = stored_rows(run)
    assert 10 <= saved < len(set(TEXTS)) and saved % 5 == 0  # whole batches only

    resumed = Counting()
    vectors = encode(run, TEXTS, resumed, batch_texts=5)
    assert sum(len(batch) for batch in resumed.asked) == len(TEXTS) - saved  # only what was missing
    np.testing.assert_array_equal(vectors, uninterrupted)
    assert sorted(p.name for p in run.iterdir()) == [STORE_FILE]  # one file, nothing else


def test_a_long_embedding_logs_its_size_then_an_eta(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    texts = [f"sentence {i}" for i in range(210)]
    encode(tmp_path, texts[:10], HashingEmbedder())
    with caplog.at_level(logging.INFO, logger="kgc.embeddings.stored"):
        encode(tmp_path, texts, HashingEmbedder(), batch_texts=100)
    first, second = caplog.messages[:2]
    assert first == (
        "seeds: embedding 200 chunks with hashing-64 in batches of 100 (10 already embedded); each batch is "
        "saved, so a killed run resumes from the last one"
    )
    assert second.startswith("seeds: 100 of 200 chunks embedded, about ") and second.endswith(" s left")


def test_a_damaged_store_is_set_aside_and_embedded_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / STORE_FILE).write_bytes(b"not a database" * 100)
    embedder = Counting()
    with caplog.at_level(logging.WARNING, logger="kgc.embeddings.store"):
        encode(tmp_path, ["one"], embedder)
    assert embedder.asked == [["one"]]
    assert "is damaged" in caplog.text and "embedded again" in caplog.text
    assert (tmp_path / f"{STORE_FILE}.damaged").is_file()
    assert stored_rows(tmp_path) == 1


# --- the files of earlier kgc versions ------------------------------------------------------------


def old_store(run: Path, key: str, texts: list[str]) -> None:
    """`embeddings_by_chunk.npz` as kgc wrote it before embeddings.sqlite."""
    run.mkdir(parents=True, exist_ok=True)
    hashes = list(dict.fromkeys(content_hash(t) for t in texts))
    unique = list(dict.fromkeys(texts))
    np.savez(
        run / "embeddings_by_chunk.npz",
        model=np.array(key),
        hashes=np.array(hashes, dtype=str),
        vectors=HashingEmbedder().encode(unique),
    )


def old_job(run: Path, key: str, texts: list[str], batches: int | None) -> None:
    """The job files of the old seeds stage: `batches` saved batches of 256, or (None) a finished job."""
    job = hashlib.sha256(json.dumps([key, texts]).encode()).hexdigest()[:16]
    vectors = HashingEmbedder().encode(texts)
    if batches is None:
        np.save(run / f"chunk_embeddings.{job}.npy", vectors)
        return
    parts = run / f"chunk_embeddings.{job}.parts"
    parts.mkdir(parents=True)
    for start in range(0, 256 * batches, 256):
        np.save(parts / f"{start:09d}.npy", vectors[start : start + 256])


def migrate_and_encode(run: Path, texts: list[str]) -> tuple[np.ndarray, Counting]:
    embedder = Counting()
    with VectorStore.open(run, "chunks", embedder.key) as store:
        migrate_chunk_vectors(run, store, texts)
        return StoredEmbedder(embedder, store, label="seeds").encode(texts), embedder


CORPUS = [f"Chunk {i} of an old run." for i in range(700)]


def test_an_old_finished_run_moves_its_vectors_into_the_store(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    old_store(tmp_path, "hashing-64", CORPUS)
    old_job(tmp_path, "hashing-64", CORPUS, batches=None)  # its rows duplicate the npz's
    with caplog.at_level(logging.INFO, logger="kgc.embeddings.legacy"):
        vectors, embedder = migrate_and_encode(tmp_path, CORPUS)
    assert embedder.asked == []
    np.testing.assert_array_equal(vectors, HashingEmbedder().encode(CORPUS))
    assert sorted(p.name for p in tmp_path.iterdir()) == [STORE_FILE]
    assert (
        caplog.messages[0]
        == "seeds: 700 chunk vectors moved from embeddings_by_chunk.npz into embeddings.sqlite"
    )
    assert caplog.messages[1].endswith(".npy repeats vectors of embeddings_by_chunk.npz: removed")


def test_an_old_interrupted_job_resumes_in_the_store(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    old_store(tmp_path, "hashing-64", CORPUS[:100])  # an earlier corpus; then 600 new chunks, 2 batches done
    old_job(tmp_path, "hashing-64", CORPUS[100:], batches=2)
    with caplog.at_level(logging.INFO, logger="kgc.embeddings.legacy"):
        vectors, embedder = migrate_and_encode(tmp_path, CORPUS)
    assert embedder.asked == [CORPUS[612:]]  # 100 + 2 x 256 came from the old files
    np.testing.assert_array_equal(vectors, HashingEmbedder().encode(CORPUS))
    assert "seeds: 512 vectors of an earlier embedding job moved into embeddings.sqlite" in caplog.messages
    assert sorted(p.name for p in tmp_path.iterdir()) == [STORE_FILE]


def test_old_files_of_another_model_or_corpus_are_removed_and_said_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    old_store(tmp_path, "minilm", CORPUS[:100])
    old_job(tmp_path, "minilm", CORPUS[100:], batches=1)
    with caplog.at_level(logging.INFO, logger="kgc.embeddings.legacy"):
        vectors, embedder = migrate_and_encode(tmp_path, CORPUS)
    assert [t for batch in embedder.asked for t in batch] == CORPUS
    np.testing.assert_array_equal(vectors, HashingEmbedder().encode(CORPUS))
    assert sorted(p.name for p in tmp_path.iterdir()) == [STORE_FILE]
    assert (
        "seeds: embeddings_by_chunk.npz was made by 'minilm', not 'hashing-64': removed, the chunks are "
        "embedded again" in caplog.messages
    )
    assert any("of an earlier kgc version is not of these chunks: removed" in m for m in caplog.messages)


def test_an_unreadable_old_store_is_removed_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "embeddings_by_chunk.npz").write_bytes(b"PK\x03\x04 truncated")
    with caplog.at_level(logging.WARNING, logger="kgc.embeddings.legacy"):
        _, embedder = migrate_and_encode(tmp_path, CORPUS[:3])
    assert embedder.asked == [CORPUS[:3]]
    assert "is unreadable" in caplog.text


# --- the real model, the real CLI -----------------------------------------------------------------


@pytest.mark.slow
def test_seeds_killed_while_embedding_resume_from_the_saved_batches(tmp_path: Path) -> None:
    """A real `kgc seeds` process SIGKILLed once its first batch is saved; the rerun embeds the rest."""
    abstracts = Path(__file__).resolve().parents[2] / "shared" / "data" / "graphusion" / "abstracts.txt"
    if not abstracts.is_file():
        pytest.skip("the Graphusion abstracts are not on this machine")
    corpus = tmp_path / "abstracts.txt"
    lines = abstracts.read_text(encoding="utf-8").splitlines()[:300]
    corpus.write_text("\n".join(lines) + "\n")
    distinct = len(set(lines))  # a text that occurs twice is embedded once (the store is by content)
    run = tmp_path / "run"
    command = [sys.executable, "-m", "kgc.cli", "seeds", str(corpus), "--out", str(run)]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 600
    while stored_rows(run) == 0:
        assert first.poll() is None, first.communicate()[0]
        assert time.monotonic() < deadline, "no batch saved in 10 minutes"
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    first.wait()
    saved = stored_rows(run)

    second = subprocess.run(command, capture_output=True, text=True, timeout=900, env=os.environ)
    assert second.returncode == 0, second.stderr
    log = " ".join(second.stderr.split())
    assert (
        f"seeds: embedding {distinct - saved:,} chunks with minilm in batches of 256 ({saved:,} already embedded)"
        in log
    )
    assert stored_rows(run) == distinct
