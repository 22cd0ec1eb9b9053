"""The ONNX Runtime backend: exported from the bundled MiniLM for real, cached, hash-checked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from kgc.config import EmbeddingConfig
from kgc.embeddings import Backend, load_embedder, minilm_path, resolve_backend
from kgc.embeddings.onnx_backend import (
    MANIFEST_NAME,
    MODEL_FILE,
    ensure_exported,
    load_onnx_embedder,
    onnx_available,
    onnx_on_gpu,
    source_sha256,
)
from kgc.errors import ConfigError, ModelAssetError

TEXTS = [
    "A cat is sleeping on the sofa.",
    "Neural machine translation with attention outperforms phrase-based systems on long sentences.",
    "dependency parsing",
    "",
    "x " * 600,  # past the 256-token limit: truncated like sentence-transformers does
]

needs_onnx = pytest.mark.skipif(not onnx_available(), reason="the onnx extra is not installed")


def embed(texts: list[str], backend: Backend, quantize: bool = False) -> np.ndarray:
    """MiniLM on `backend`, loaded afresh."""
    return load_embedder(EmbeddingConfig(backend=backend, quantize=quantize)).encode(texts)


@pytest.fixture
def kgc_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("KGC_HOME", str(tmp_path))
    yield tmp_path


@needs_onnx
@pytest.mark.slow
def test_onnx_vectors_equal_torch_vectors_and_the_export_is_cached(kgc_home: Path) -> None:
    torch_vectors = embed(TEXTS, backend="torch")
    onnx_vectors = embed(TEXTS, backend="onnx")

    assert onnx_vectors.shape == torch_vectors.shape == (len(TEXTS), 384)
    assert onnx_vectors.dtype == np.float32
    np.testing.assert_allclose(np.sum(onnx_vectors * torch_vectors, axis=1), 1.0, atol=1e-5)
    [folder] = [p for p in (kgc_home / "models" / "onnx").iterdir() if p.is_dir()]
    assert folder.name == f"model-{source_sha256(minilm_path())[:12]}-fp32"
    assert sorted(p.name for p in folder.iterdir()) == [MANIFEST_NAME, MODEL_FILE]

    exported_at = (folder / MODEL_FILE).stat().st_mtime_ns
    embed(TEXTS[:1], backend="onnx")  # a new load: the cached export is checked and used
    assert (folder / MODEL_FILE).stat().st_mtime_ns == exported_at


@needs_onnx
@pytest.mark.slow
def test_a_corrupt_cached_export_is_rebuilt(kgc_home: Path) -> None:
    folder, manifest = ensure_exported(minilm_path(), quantize=False)
    data = bytearray((folder / MODEL_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the weights
    (folder / MODEL_FILE).write_bytes(bytes(data))

    again, rebuilt = ensure_exported(minilm_path(), quantize=False)

    assert again == folder
    assert rebuilt.onnx_sha256 == manifest.onnx_sha256  # the same export as before the damage
    vectors = load_onnx_embedder(minilm_path(), "minilm+onnx", quantize=False).encode(TEXTS[:2])
    np.testing.assert_allclose(np.sum(vectors * embed(TEXTS[:2], backend="torch"), axis=1), 1.0, atol=1e-5)


@needs_onnx
@pytest.mark.slow
def test_int8_vectors_stay_close_to_torch_vectors(kgc_home: Path) -> None:
    torch_vectors = embed(TEXTS, backend="torch")
    int8_vectors = embed(TEXTS, backend="onnx", quantize=True)
    cosines = np.sum(int8_vectors * torch_vectors, axis=1)
    assert cosines.min() > 0.85, cosines
    assert {p.name.rsplit("-", 1)[1] for p in (kgc_home / "models" / "onnx").iterdir() if p.is_dir()} == {
        "int8"
    }


@pytest.mark.skipif(onnx_on_gpu(), reason="this machine has a GPU ONNX Runtime can use: auto means onnx")
def test_auto_is_torch_on_a_machine_without_a_gpu_for_onnx() -> None:
    assert resolve_backend("auto") == "torch"
    assert load_embedder(EmbeddingConfig(quantize=True)).key == "minilm"  # the key saved runs already use
    assert load_embedder(EmbeddingConfig(backend="torch")).key == "minilm"


@needs_onnx
def test_onnx_variants_have_their_own_keys() -> None:
    assert load_embedder(EmbeddingConfig(backend="onnx")).key == "minilm+onnx"
    assert load_embedder(EmbeddingConfig(backend="onnx", quantize=True)).key == "minilm+onnx-int8"


def test_a_model_that_does_not_mean_pool_is_refused(tmp_path: Path) -> None:
    if not onnx_available():
        pytest.skip("the onnx extra is not installed")
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(
        '{"word_embedding_dimension": 8, "pooling_mode_cls_token": true}', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="mean-pooling models only"):
        load_onnx_embedder(tmp_path, "test+onnx", quantize=False)


def test_a_folder_without_weights_has_no_source_hash(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ModelAssetError, match=r"no model\.safetensors or pytorch_model\.bin"):
        source_sha256(tmp_path)
