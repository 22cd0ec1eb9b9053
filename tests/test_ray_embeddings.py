"""`embedding.executor = "ray"` on a real local Ray runtime: the local vectors, the same store (a
partial or killed run resumes from its saved batches), one model load per worker; and what stays
the same whichever executor or device computes the vectors (the key, the stage keys)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from kgc.config import EMBEDDING_KEYS, EmbeddingRayConfig, load_config
from kgc.embeddings import RayEmbedder, StoredEmbedder, VectorStore, load_embedder
from kgc.errors import ConfigError
from kgc.testing.embedder import HashingEmbedder

ROOT = Path(__file__).resolve().parent.parent
BATCH = 8


def corpus(n: int) -> list[str]:
    return [f"text {i}: graph neural network number {i * 7 % 13} on topic {i % 5}" for i in range(n)]


class LoggedLoad:
    """Builds a HashingEmbedder in a Ray worker and appends that worker's pid to `log`: one line per
    model load. `delay`: seconds each batch takes (to kill a run mid-way)."""

    def __init__(self, log: Path, delay: float = 0.0) -> None:
        self.log = log
        self.delay = delay

    def __call__(self) -> SlowHashing:
        with self.log.open("a") as f:
            f.write(f"{os.getpid()}\n")
        return SlowHashing(self.delay)


class SlowHashing(HashingEmbedder):
    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        time.sleep(self.delay)
        return super().encode(texts)


def ray_embedder(log: Path, workers: int = 2, delay: float = 0.0) -> RayEmbedder:
    return RayEmbedder(HashingEmbedder().key, LoggedLoad(log, delay), EmbeddingRayConfig(workers=workers))


def stored_encode(embedder: object, run: Path, texts: list[str]) -> np.ndarray:
    with VectorStore.open(run, "chunks", HashingEmbedder().key) as store:
        return StoredEmbedder(embedder, store, label="test", batch_texts=BATCH).encode(texts)  # type: ignore[arg-type]


def stored_count(run: Path) -> int:
    with VectorStore.open(run, "chunks", HashingEmbedder().key) as store:
        return sum(store.keys().values())


# --- what no executor or device changes (fast) -----------------------------------------------------


def test_the_executor_and_device_change_no_key() -> None:
    local = load_config(None, {})
    moved = load_config(
        None, {"embedding.executor": "ray", "embedding.device": "cpu", "embedding.ray.workers": 5}
    )
    on_ray = load_embedder(moved.embedding)
    assert isinstance(on_ray, RayEmbedder)
    assert on_ray.key == load_embedder(local.embedding).key == "minilm"
    # the stages that embed keep their keys: moving a run onto Ray or a GPU re-runs nothing
    assert moved.section_hash("seeds", *EMBEDDING_KEYS) == local.section_hash("seeds", *EMBEDDING_KEYS)
    other_model = load_config(None, {"embedding.quantize": True})
    assert other_model.section_hash(*EMBEDDING_KEYS) != local.section_hash(*EMBEDDING_KEYS)


def test_cuda_without_a_gpu_is_a_config_error() -> None:
    import torch

    from kgc.embeddings.torch_backend import torch_device

    assert torch_device("cpu") == "cpu"
    assert torch_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no GPU"):
            torch_device("cuda")


# --- on a real local Ray runtime (slow) --------------------------------------------------------------


@pytest.mark.slow
def test_ray_gives_the_local_vectors_and_loads_the_model_once_per_worker(
    tmp_path: Path, ray_runtime: None
) -> None:
    texts = corpus(12 * BATCH)
    local = stored_encode(HashingEmbedder(), tmp_path / "local", texts)
    log = tmp_path / "loads.txt"
    embedder = ray_embedder(log)
    try:
        on_ray = stored_encode(embedder, tmp_path / "ray", texts)
        more = embedder.encode(corpus(3 * BATCH + 1))  # a later stage of the same run
    finally:
        embedder.close()
    np.testing.assert_allclose(on_ray, local, atol=1e-6)
    np.testing.assert_allclose(more, HashingEmbedder().encode(corpus(3 * BATCH + 1)), atol=1e-6)
    loads = [int(pid) for pid in log.read_text().split()]
    assert 1 <= len(loads) <= 2 and len(set(loads)) == len(loads)  # at most one load per worker
    assert sum(embedder.batches_by_worker.values()) == 12 + 1
    assert set(embedder.batches_by_worker) == set(loads)  # every batch ran where the model was loaded
    assert stored_count(tmp_path / "ray") == len(texts)


@pytest.mark.slow
def test_ray_embeds_only_what_the_store_lacks(tmp_path: Path, ray_runtime: None) -> None:
    texts = corpus(10 * BATCH)
    local = stored_encode(HashingEmbedder(), tmp_path / "local", texts)
    stored_encode(HashingEmbedder(), tmp_path / "ray", texts[: 4 * BATCH])  # an interrupted run
    embedder = ray_embedder(tmp_path / "loads.txt")
    try:
        resumed = stored_encode(embedder, tmp_path / "ray", texts)
    finally:
        embedder.close()
    assert sum(embedder.batches_by_worker.values()) == 6  # the 6 missing batches, nothing stored again
    np.testing.assert_allclose(resumed, local, atol=1e-6)


KILLED_RUN = """
import sys
import ray
from pathlib import Path
from tests.test_ray_embeddings import corpus, ray_embedder, stored_encode

ray.init(address=sys.argv[1], log_to_driver=False)
tmp = Path(sys.argv[2])
stored_encode(ray_embedder(tmp / "loads.txt", delay=0.4), tmp / "ray", corpus(40 * 8))
"""


@pytest.mark.slow
def test_a_killed_ray_run_resumes_from_its_saved_batches(tmp_path: Path, ray_runtime: None) -> None:
    import ray

    texts = corpus(40 * BATCH)
    local = stored_encode(HashingEmbedder(), tmp_path / "local", texts)
    address = ray.get_runtime_context().gcs_address
    driver = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN, address, str(tmp_path)], cwd=ROOT, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and driver.poll() is None:
        if (tmp_path / "ray" / "embeddings.sqlite").exists() and stored_count(tmp_path / "ray") >= 4 * BATCH:
            break
        time.sleep(0.2)
    assert driver.poll() is None, driver.stderr.read().decode() if driver.stderr else ""
    os.kill(driver.pid, signal.SIGKILL)  # the driver, holding the store, dies mid-run
    driver.wait()
    kept = stored_count(tmp_path / "ray")
    assert 4 * BATCH <= kept < len(texts) and kept % BATCH == 0  # whole batches only
    embedder = ray_embedder(tmp_path / "loads.txt")
    try:
        resumed = stored_encode(embedder, tmp_path / "ray", texts)
    finally:
        embedder.close()
    assert sum(embedder.batches_by_worker.values()) == (len(texts) - kept) // BATCH
    np.testing.assert_allclose(resumed, local, atol=1e-6)


@pytest.mark.slow
def test_minilm_on_ray_gives_the_local_vectors(tmp_path: Path, ray_runtime: None) -> None:
    cfg = load_config(None, {"embedding.backend": "torch"}).embedding
    texts = corpus(3 * BATCH)
    local = load_embedder(cfg).encode(texts)
    embedder = load_embedder(cfg.model_copy(update={"executor": "ray"}))
    assert isinstance(embedder, RayEmbedder)
    try:
        with VectorStore.open(tmp_path, "chunks", embedder.key) as store:
            on_ray = StoredEmbedder(embedder, store, label="test", batch_texts=BATCH).encode(texts)
    finally:
        embedder.close()
    assert on_ray.shape == local.shape == (len(texts), 384)
    np.testing.assert_allclose(on_ray, local, atol=1e-5)


@pytest.mark.slow
def test_a_build_with_llm_and_embeddings_on_ray_gives_the_local_graph(
    tmp_path: Path, ray_runtime: None
) -> None:
    from kgc.pipeline import Pipeline
    from kgc.resources import demo_corpus
    from kgc.testing.scripted_server import ScriptedServer

    with ScriptedServer() as server:
        base = {
            "llm.backend": "openai",
            "llm.base_url": server.base_url,
            "llm.model": "scripted",
            "llm.timeout": 10.0,
            "extraction.mode": "document",
        }
        local = Pipeline(
            load_config(None, base), tmp_path / "local", corpus=demo_corpus(), embedder=HashingEmbedder()
        )
        local_graph = local.run_until()
        embedder = ray_embedder(tmp_path / "loads.txt")
        on_ray = Pipeline(
            load_config(None, {**base, "llm.executor": "ray"}),
            tmp_path / "ray",
            corpus=demo_corpus(),
            embedder=embedder,
        )
        ray_graph = on_ray.run_until()
    assert local_graph is not None and ray_graph is not None and local_graph.entities
    assert sum(embedder.batches_by_worker.values()) >= 1  # fusion's names were embedded on Ray
    assert ray_graph.model_dump() == local_graph.model_dump()
    assert (tmp_path / "ray" / "graph.json").read_bytes() == (tmp_path / "local" / "graph.json").read_bytes()
