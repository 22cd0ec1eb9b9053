"""Reading a corpus into documents and chunks.

Formats: a folder of .txt/.md files, a .jsonl with id/text fields, a .csv with the same fields, or a
text file with one document per line. Unusable inputs (empty, binary, undecodable, malformed rows)
are skipped and reported by name; the run only fails when nothing usable is left.
"""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from kgc.config import CorpusConfig
from kgc.errors import CorpusError
from kgc.models import Chunk, Document

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
# Encodings tried in order for a file that is not UTF-8; cp1252 before latin-1 because latin-1
# accepts any byte and would hide the better guess.
FALLBACK_ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")


@dataclass
class Skipped:
    where: str  # path, or path:line
    reason: str


@dataclass
class CorpusReadout:
    documents: list[Document]
    skipped: list[Skipped] = field(default_factory=list)


def read_corpus(path: str | Path, cfg: CorpusConfig | None = None) -> CorpusReadout:
    """Read every usable document under `path`; raise CorpusError only when there is none."""
    cfg = cfg or CorpusConfig()
    p = Path(path)
    if not p.exists():
        raise CorpusError(f"corpus not found: {p}")
    fmt = cfg.format if cfg.format != "auto" else _detect_format(p)
    reader = {"folder": _read_folder, "jsonl": _read_jsonl, "csv": _read_csv, "lines": _read_lines}[fmt]
    out = CorpusReadout(documents=[])
    reader(p, cfg, out)
    seen: set[str] = set()
    unique = []
    for d in out.documents:
        if d.id in seen:
            out.skipped.append(Skipped(d.source, f"duplicate document id {d.id!r}"))
            continue
        seen.add(d.id)
        unique.append(d)
    out.documents = unique
    for s in out.skipped:
        log.warning("skipped %s: %s", s.where, s.reason)
    if not out.documents:
        raise CorpusError(f"no usable document in {p} ({len(out.skipped)} skipped; see the warnings above)")
    return out


def _detect_format(p: Path) -> str:
    if p.is_dir():
        return "folder"
    suffix = p.suffix.lower()
    if suffix in {".jsonl", ".ndjson"}:
        return "jsonl"
    if suffix in {".csv", ".tsv"}:
        return "csv"
    return "lines"


def decode(data: bytes) -> str | None:
    """Text of a file, or None when it looks binary (NUL bytes) or decodes to nothing."""
    if b"\x00" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for enc in FALLBACK_ENCODINGS:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        # Many control characters mean we guessed a binary format wrong.
        controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\n\r\t\f")
        if controls <= len(text[:4096]) * 0.01:
            return text
    return None


def _read_text_file(path: Path, out: CorpusReadout) -> str | None:
    try:
        data = path.read_bytes()
    except OSError as e:
        out.skipped.append(Skipped(str(path), f"cannot read: {e.strerror or e}"))
        return None
    text = decode(data)
    if text is None:
        out.skipped.append(Skipped(str(path), "binary or undecodable"))
        return None
    if not text.strip():
        out.skipped.append(Skipped(str(path), "empty"))
        return None
    return text


def _read_folder(root: Path, cfg: CorpusConfig, out: CorpusReadout) -> None:
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        if path.suffix.lower() not in TEXT_SUFFIXES:
            out.skipped.append(Skipped(str(path), f"not a text file ({path.suffix or 'no suffix'})"))
            continue
        text = _read_text_file(path, out)
        if text is not None:
            doc_id = path.relative_to(root).with_suffix("").as_posix()
            out.documents.append(Document(id=doc_id, text=text.strip(), source=str(path)))


def _read_lines(path: Path, cfg: CorpusConfig, out: CorpusReadout) -> None:
    text = _read_text_file(path, out)
    if text is None:
        return
    width = len(str(text.count("\n") + 1))
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            out.documents.append(Document(id=f"line-{n:0{width}d}", text=line.strip(), source=f"{path}:{n}"))


def _row_document(row: object, cfg: CorpusConfig, where: str, fallback_id: str, out: CorpusReadout) -> None:
    if not isinstance(row, dict):
        out.skipped.append(Skipped(where, "not an object"))
        return
    text = row.get(cfg.text_field)
    if not isinstance(text, str) or not text.strip():
        out.skipped.append(Skipped(where, f"no text in field {cfg.text_field!r}"))
        return
    raw_id = row.get(cfg.id_field)
    doc_id = str(raw_id).strip() if raw_id not in (None, "") else fallback_id
    out.documents.append(Document(id=doc_id, text=text.strip(), source=where))


def _read_jsonl(path: Path, cfg: CorpusConfig, out: CorpusReadout) -> None:
    text = _read_text_file(path, out)
    if text is None:
        return
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            out.skipped.append(Skipped(where, f"invalid JSON ({e.msg})"))
            continue
        _row_document(row, cfg, where, f"line-{n}", out)


def _read_csv(path: Path, cfg: CorpusConfig, out: CorpusReadout) -> None:
    text = _read_text_file(path, out)
    if text is None:
        return
    dialect = csv.excel_tab if path.suffix.lower() == ".tsv" else csv.excel
    reader = csv.DictReader(text.splitlines(), dialect=dialect)
    if reader.fieldnames is None or cfg.text_field not in reader.fieldnames:
        out.skipped.append(Skipped(str(path), f"no column {cfg.text_field!r} (columns: {reader.fieldnames})"))
        return
    for n, row in enumerate(reader, start=2):
        _row_document(row, cfg, f"{path}:{n}", f"row-{n}", out)


def chunk_documents(documents: list[Document], cfg: CorpusConfig) -> list[Chunk]:
    """Split long documents into overlapping windows, cut at whitespace, offsets kept."""
    chunks: list[Chunk] = []
    for doc in documents:
        text = doc.text
        if len(text) <= cfg.chunk_chars:
            chunks.append(Chunk(id=f"{doc.id}#0", doc_id=doc.id, text=text, start=0, end=len(text)))
            continue
        start, n = 0, 0
        while start < len(text):
            end = min(start + cfg.chunk_chars, len(text))
            if end < len(text):
                cut = text.rfind(" ", start + cfg.chunk_chars // 2, end)
                end = cut if cut > start else end
            chunks.append(
                Chunk(id=f"{doc.id}#{n}", doc_id=doc.id, text=text[start:end], start=start, end=end)
            )
            if end >= len(text):
                break
            n += 1
            nxt = max(end - cfg.chunk_overlap, start + 1)
            space = text.find(" ", nxt, end)  # start the next window on a word boundary
            start = space + 1 if space != -1 else nxt
    return chunks
