"""The run directory is the contract between stages: artifacts plus a manifest that makes resume work.

Every write is atomic (temp file + rename), so a killed run never leaves a half-written artifact
that a resume would trust.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, Field

from kgc.errors import KgcError

if TYPE_CHECKING:
    from kgc.config import KgcConfig
from kgc.models import Candidate, Chunk, Document, Seed, SeedContext

M = TypeVar("M", bound=BaseModel)
CONFIG_FILE = "config.json"


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_jsonl(path: Path, items: Iterable[BaseModel]) -> None:
    atomic_write_text(path, "".join(item.model_dump_json() + "\n" for item in items))


def read_jsonl(path: Path, model: type[M]) -> list[M]:
    if not path.is_file():
        raise KgcError(f"missing artifact {path}: run the stage that writes it first")
    with path.open(encoding="utf-8") as f:
        return [model.model_validate_json(line) for line in f if line.strip()]


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


class StageRecord(BaseModel):
    status: Literal["done", "partial"] = "done"  # partial: `failed` items are retried by the next run
    config_hash: str = ""
    input_hash: str = ""
    outputs: list[str] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict)
    failed: int = 0
    seconds: float = 0.0
    peak_rss_mb: float = 0.0  # of the whole process so far
    llm: dict[str, float] = Field(default_factory=dict)  # requests, tokens, cost, cache hits...
    finished_at: str = ""


class Manifest(BaseModel):
    kgc_version: str = ""
    corpus: str = ""  # the corpus path the run read, so later commands need no argument
    removed: list[str] = Field(default_factory=list)  # ids taken out by `kgc remove`: builds skip them
    stages: dict[str, StageRecord] = Field(default_factory=dict)


class RunDir:
    """A folder holding one run's artifacts and its manifest.json."""

    def __init__(self, path: str | Path, *, create: bool = True):
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise KgcError(f"run directory {self.path} is a file, not a directory: choose another --out")
        if create:
            self.path.mkdir(parents=True, exist_ok=True)
        elif not self.manifest_path.is_file():
            raise KgcError(f"{self.path} is not a kgc run directory (no manifest.json)")

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    @property
    def manifest_path(self) -> Path:
        return self.path / "manifest.json"

    def manifest(self) -> Manifest:
        if not self.manifest_path.is_file():
            return Manifest()
        return Manifest.model_validate_json(self.manifest_path.read_text(encoding="utf-8"))

    def is_done(self, stage: str, config_hash: str, input_hash: str) -> bool:
        """True when `stage` finished with the same config and inputs and its outputs still exist."""
        rec = self.manifest().stages.get(stage)
        return (
            rec is not None
            and rec.status == "done"
            and rec.config_hash == config_hash
            and rec.input_hash == input_hash
            and all((self.path / o).is_file() for o in rec.outputs)
        )

    def record(self, stage: str, rec: StageRecord) -> None:
        rec.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
        m = self.manifest()
        m.stages[stage] = rec
        self._save(m)

    def remember_corpus(self, corpus: Path) -> None:
        m = self.manifest()
        m.corpus = str(corpus.resolve())
        self._save(m)

    def remember_removed(self, ids: list[str]) -> None:
        m = self.manifest()
        m.removed = sorted(set(m.removed) | set(ids))
        self._save(m)

    def _save(self, m: Manifest) -> None:
        from kgc import __version__

        m.kgc_version = __version__
        atomic_write_text(self.manifest_path, m.model_dump_json(indent=2) + "\n")

    def inputs_hash(self, *names: str) -> str:
        """Hash of input artifacts (by content), so a changed upstream artifact invalidates a stage."""
        h = hashlib.sha256()
        for n in names:
            p = self.path / n
            h.update(n.encode())
            h.update(file_hash(p).encode() if p.is_file() else b"-")
        return h.hexdigest()[:16]

    def write_config(self, cfg: KgcConfig) -> None:
        """The resolved configuration of the latest run (no secrets: the API key is never in it), so
        tools that read the run later (`kgc eval`) use the schema and files it was built with."""
        atomic_write_text(self / CONFIG_FILE, cfg.model_dump_json(indent=2) + "\n")

    def config(self) -> KgcConfig | None:
        """The configuration the latest run recorded, or None (a run from an older kgc)."""
        path = self / CONFIG_FILE
        if not path.is_file():
            return None
        from kgc.config import KgcConfig

        try:
            return KgcConfig(**json.loads(path.read_text(encoding="utf-8")))
        except ValueError as e:
            raise KgcError(f"cannot read {path}: {e}") from e

    def write_json(self, name: str, data: Any) -> Path:
        p = self.path / name
        atomic_write_text(p, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return p

    # -- the artifacts, typed ---------------------------------------------------------------------

    def documents(self) -> list[Document]:
        return read_jsonl(self / "documents.jsonl", Document)

    def chunks(self) -> list[Chunk]:
        return read_jsonl(self / "chunks.jsonl", Chunk)

    def seeds(self) -> list[Seed]:
        return read_jsonl(self / "seeds.jsonl", Seed)

    def contexts(self) -> list[SeedContext]:
        return read_jsonl(self / "contexts.jsonl", SeedContext)

    def candidates(self) -> list[Candidate]:
        return read_jsonl(self / "candidates.jsonl", Candidate)
