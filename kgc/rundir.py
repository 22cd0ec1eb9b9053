"""The run directory: the artifacts declared in kgc.artifacts, read and written through one door, and
the manifest that makes resume work.

Every write is atomic (a temporary file renamed over the old one), so a killed run never leaves a
half-written artifact; temporary files are created with the permissions the umask gives any new
file. The manifest records a content hash of each output, so a resume notices an artifact that was
cut or edited since and re-runs the stage that wrote it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, overload

from pydantic import BaseModel, ValidationError

from kgc import __version__
from kgc.artifacts import (
    CONFIG,
    MANIFEST,
    REMOVED,
    Artifact,
    Json,
    Manifest,
    Rows,
    StageRecord,
    Text,
)
from kgc.config import KgcConfig
from kgc.errors import RunDirError

__all__ = ["Manifest", "RunDir", "StageRecord", "atomic_write_bytes", "atomic_write_text", "file_hash"]

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
REPAIR = "run `kgc build` with this --out again: it writes the file anew from the run's caches"


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path` and rename it over `path`.

    The temporary file is opened with mode 0666 like any new file, so the kernel applies the umask
    (tempfile.mkstemp would make every artifact 0600, unreadable to a team sharing the directory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def _problem(e: ValueError) -> str:
    """The first line of a validation or JSON error: enough to say what is wrong, never a page."""
    if isinstance(e, ValidationError):
        first = e.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"{where + ': ' if where else ''}{first['msg']}"
    return str(e).splitlines()[0]


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Errors while reading an artifact, as one line saying which file and what to do."""
    try:
        yield
    except FileNotFoundError:
        raise RunDirError(f"missing artifact {path}: run the stage that writes it first") from None
    except OSError as e:
        raise RunDirError(f"cannot read {path}: {e.strerror or e}") from None
    except ValueError as e:  # pydantic's ValidationError, JSONDecodeError, UnicodeDecodeError
        raise RunDirError(f"cannot read {path}: {_problem(e)}; the file is damaged: {REPAIR}") from None


def _parse_lines(path: Path, parse: Callable[[str], T]) -> list[T]:
    """Each non-empty line of a JSON Lines file, parsed; a bad line's error says which it is."""
    rows = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if line.strip():
                try:
                    rows.append(parse(line))
                except ValueError as e:
                    raise ValueError(f"line {n}: {_problem(e)}") from None
    return rows


class RunDir:
    """A folder holding one run's artifacts and its manifest.json."""

    def __init__(self, path: str | Path, *, create: bool = True):
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise RunDirError(f"run directory {self.path} is a file, not a directory: choose another --out")
        if create:
            try:
                self.path.mkdir(parents=True, exist_ok=True)
            except OSError as e:  # a path under a file (/dev/null/x), no permission, read-only disk
                raise RunDirError(
                    f"cannot create the run directory {self.path}: {e.strerror or e}; choose another --out"
                ) from None
        elif not (self / MANIFEST).is_file():
            raise RunDirError(f"{self.path} is not a kgc run directory (no {MANIFEST.name})")

    def __truediv__(self, artifact: Artifact) -> Path:
        return self.path / artifact.name

    def exists(self, artifact: Artifact) -> bool:
        return (self / artifact).is_file()

    # -- reading and writing artifacts --------------------------------------------------------------

    @overload
    def read(self, artifact: Rows[M]) -> list[M]: ...
    @overload
    def read(self, artifact: Json[T]) -> T: ...
    @overload
    def read(self, artifact: Text) -> str: ...
    def read(self, artifact: Rows[Any] | Json[Any] | Text) -> Any:
        """The artifact's content, typed; RunDirError when it is missing or damaged."""
        path = self / artifact
        with _reading(path):
            if isinstance(artifact, Rows):
                return _parse_lines(path, artifact.row.model_validate_json)
            if isinstance(artifact, Json):
                return artifact.adapter.validate_json(path.read_bytes())
            return path.read_text(encoding="utf-8")

    @overload
    def read_optional(self, artifact: Rows[M]) -> list[M] | None: ...
    @overload
    def read_optional(self, artifact: Json[T]) -> T | None: ...
    @overload
    def read_optional(self, artifact: Text) -> str | None: ...
    def read_optional(self, artifact: Rows[Any] | Json[Any] | Text) -> Any:
        """Like `read`, but None when the run does not have the artifact (a damaged one still fails)."""
        return self.read(artifact) if self.exists(artifact) else None

    def read_records(self, artifact: Rows[Any]) -> list[dict[str, Any]]:
        """The rows as JSON objects with every field, also those the row model does not know (an
        artifact written by a newer kgc), each checked against the model like `read` does."""

        def record(line: str) -> dict[str, Any]:
            artifact.row.model_validate_json(line)
            row: dict[str, Any] = json.loads(line)
            return row

        path = self / artifact
        with _reading(path):
            return _parse_lines(path, record)

    @overload
    def write(self, artifact: Rows[M], value: Iterable[M]) -> Path: ...
    @overload
    def write(self, artifact: Json[T], value: T) -> Path: ...
    @overload
    def write(self, artifact: Text, value: str) -> Path: ...
    def write(self, artifact: Rows[Any] | Json[Any] | Text, value: Any) -> Path:
        """Write the artifact atomically; returns its path."""
        path = self / artifact
        if isinstance(artifact, Rows):
            atomic_write_text(path, "".join(row.model_dump_json() + "\n" for row in value))
        elif isinstance(artifact, Json):
            atomic_write_bytes(path, artifact.adapter.dump_json(value, indent=artifact.indent) + b"\n")
        else:
            atomic_write_text(path, value)
        return path

    def hashes(self, artifacts: Sequence[Artifact]) -> dict[str, str]:
        """Content hash of each artifact that exists, by name: what the manifest keeps of a stage's outputs."""
        return {a.name: file_hash(self / a) for a in artifacts if self.exists(a)}

    def inputs_hash(self, artifacts: Sequence[Artifact]) -> str:
        """Hash of input artifacts (by content), so a changed upstream artifact invalidates a stage."""
        h = hashlib.sha256()
        for a in artifacts:
            h.update(a.name.encode())
            h.update(file_hash(self / a).encode() if self.exists(a) else b"-")
        return h.hexdigest()[:16]

    # -- the manifest -----------------------------------------------------------------------------

    def manifest(self) -> Manifest:
        """The manifest (empty for a new run); RunDirError when it is damaged."""
        return self.read_optional(MANIFEST) or Manifest()

    def set_aside_damaged_manifest(self) -> Path | None:
        """Move a manifest that cannot be read to manifest.json.damaged, so the run starts a new one
        (its stages re-run from the run's caches); the path it was moved to, or None when it was fine."""
        try:
            self.manifest()
            return None
        except RunDirError as e:
            aside = self.path / f"{MANIFEST.name}.damaged"
            os.replace(self / MANIFEST, aside)
            log.warning("%s; set aside as %s: every stage runs again, from the LLM cache", e, aside)
            return aside

    def changed_outputs(self, rec: StageRecord) -> list[str]:
        """The outputs of a finished stage that are missing or no longer what it wrote."""
        changed = []
        for name in rec.outputs:
            path = self.path / name
            if not path.is_file() or (name in rec.hashes and file_hash(path) != rec.hashes[name]):
                changed.append(name)
        return changed

    def is_done(self, stage: str, config_hash: str, input_hash: str) -> bool:
        """True when `stage` finished with the same config and inputs and its outputs are as it wrote them."""
        rec = self.manifest().stages.get(stage)
        if rec is None or (rec.status, rec.config_hash, rec.input_hash) != ("done", config_hash, input_hash):
            return False
        changed = self.changed_outputs(rec)
        if changed:
            log.warning(
                "%s: %s missing or not as the stage wrote it (cut or edited): running the stage again",
                stage,
                ", ".join(changed),
            )
        return not changed

    def record(self, stage: str, rec: StageRecord) -> None:
        rec.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
        m = self.manifest()
        m.stages[stage] = rec
        self._save(m)

    def remember_corpus(self, corpus: Path) -> None:
        m = self.manifest()
        m.corpus = str(corpus.resolve())
        self._save(m)

    def _save(self, m: Manifest) -> None:
        m.kgc_version = __version__
        self.write(MANIFEST, m)

    # -- what the user told the run ---------------------------------------------------------------

    def removed(self) -> list[str]:
        """The document ids taken out with `kgc remove` (an older kgc kept them in the manifest)."""
        removed = self.read_optional(REMOVED)
        return removed if removed is not None else self.manifest().removed

    def write_config(self, cfg: KgcConfig) -> None:
        """The resolved configuration of the latest run (no secrets: the API key is never in it), so
        tools that read the run later (`kgc eval`) use the schema and files it was built with."""
        self.write(CONFIG, cfg.model_dump(mode="json"))

    def config(self) -> KgcConfig | None:
        """The configuration the latest run recorded, or None (a run from an older kgc)."""
        data = self.read_optional(CONFIG)
        if data is None:
            return None
        try:
            return KgcConfig.recorded(data)
        except ValueError as e:
            raise RunDirError(f"cannot read {self / CONFIG}: {_problem(e)}") from None
