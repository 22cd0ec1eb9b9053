"""Reading a corpus into documents and chunks.

Formats: a folder of .txt/.md files, a .jsonl with id/text fields, a .csv with the same fields, or a
text file with one document per line. Unusable inputs (empty, binary, undecodable, malformed rows,
file names that are not UTF-8, FIFOs and other special files) are skipped and reported by name; the
run only fails when nothing usable is left.

Text is never split where a reader of the format would not split it: CSV rows are parsed by the csv
module (a quoted field keeps its newlines), JSONL lines end at "\n" only, and a line-per-document
file at "\n", "\r\n" or "\r" (never at the form feed, U+0085 or U+2028 that str.splitlines cuts at).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from kgc.artifacts import CHUNKS, DOCUMENTS, REMOVED, SKIPPED
from kgc.changes import diff_documents, log_change
from kgc.config import CorpusConfig
from kgc.errors import CorpusError
from kgc.models import Chunk, Document, Skipped
from kgc.stages.base import Stage, StageContext, StageOutcome

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
# Encodings tried in order for a file that is not UTF-8; cp1252 before latin-1 because latin-1
# accepts any byte and would hide the better guess.
FALLBACK_ENCODINGS = ("cp1252", "latin-1")
# Byte order marks of the wide encodings, UTF-32 first: its little-endian mark starts like UTF-16's.
WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass
class CorpusReadout:
    documents: list[Document]
    skipped: list[Skipped] = field(default_factory=list)


def check_corpus_path(path: Path) -> None:
    """CorpusError unless `path` is a folder or a regular file: checked before anything is read or
    created (reading a FIFO or a device would block forever)."""
    if not path.exists():
        raise CorpusError(f"corpus not found: {path}")
    if not path.is_dir() and not path.is_file():
        raise CorpusError(f"corpus {path} is neither a regular file nor a folder")


def read_corpus(path: str | Path, cfg: CorpusConfig | None = None) -> CorpusReadout:
    """Read every usable document under `path`; raise CorpusError only when there is none."""
    cfg = cfg or CorpusConfig()
    p = Path(path)
    check_corpus_path(p)
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


def printable_path(path: Path) -> str:
    """`path` as text that can be printed and written to JSON: bytes of a name that is not UTF-8
    (kept by Python as lone surrogates) are shown as \\xNN."""
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def decode(data: bytes) -> str | None:
    """Text of a file, or None when it looks binary (NUL bytes) or decodes to nothing.

    UTF-16 and UTF-32 need their byte order mark (without one they look binary); a UTF-8 one is dropped."""
    for bom, encoding in WIDE_BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                return None
    if b"\x00" in data[:8192]:
        return None
    try:
        return data.decode("utf-8-sig")
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
        if path.name.startswith(".") or path.is_dir():
            continue
        if printable_path(path) != str(path):
            out.skipped.append(Skipped(printable_path(path), "the file name is not valid UTF-8"))
            continue
        if not path.is_file():  # never opened: reading a FIFO blocks until someone writes to it
            out.skipped.append(Skipped(str(path), "not a regular file (a FIFO, socket or device)"))
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
    lines = _LINE_BREAK.split(text)
    width = len(str(len(lines)))
    for n, line in enumerate(lines, start=1):
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
    # "\n" only: a JSON string may hold U+2028 or U+0085 unescaped, and str.splitlines would cut there.
    for n, line in enumerate(text.split("\n"), start=1):
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
    # As from a file opened with newline="": the csv module itself decides where a row ends, so a
    # quoted field keeps its line breaks (and a form feed or U+2028 is just a character).
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    try:
        if reader.fieldnames is None or cfg.text_field not in reader.fieldnames:
            columns = reader.fieldnames
            out.skipped.append(Skipped(str(path), f"no column {cfg.text_field!r} (columns: {columns})"))
            return
        first_line = reader.line_num + 1
        for row in reader:  # a row is named by the line it starts on, as before rows could span lines
            _row_document(row, cfg, f"{path}:{first_line}", f"row-{first_line}", out)
            first_line = reader.line_num + 1
    except csv.Error as e:  # e.g. a NUL character
        out.skipped.append(Skipped(f"{path}:{reader.line_num}", f"invalid CSV ({e}); the rest of the file"))


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


# --- the stage --------------------------------------------------------------------------------


def corpus_fingerprint(path: Path) -> str:
    """Content hash of the corpus file or folder: a changed corpus re-runs this stage, which finds what
    changed; later stages re-do only that."""
    check_corpus_path(path)
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        h.update(str(f.relative_to(path) if path.is_dir() else f.name).encode("utf-8", "surrogateescape"))
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


# Without a source (`kgc remove`, or the files are gone) the stage starts from the documents it wrote.
FROM_THE_RUN = "the run's own documents"


def _source(ctx: StageContext) -> str:
    return FROM_THE_RUN if ctx.corpus_path is None else corpus_fingerprint(ctx.corpus_path)


def _run(ctx: StageContext) -> StageOutcome:
    previous = ctx.run.read_optional(DOCUMENTS)
    if ctx.corpus_path is not None:
        readout = read_corpus(ctx.corpus_path, ctx.cfg.corpus)
    elif previous is not None:  # skipped.json keeps what the last read skipped
        readout = CorpusReadout(previous, ctx.run.read_optional(SKIPPED) or [])
    else:
        raise CorpusError("no corpus given and none recorded in this run directory")
    removed = set(ctx.run.removed())
    documents = [d for d in readout.documents if d.id not in removed]
    readout.skipped += [
        Skipped(d.source, "removed with kgc remove") for d in readout.documents if d.id in removed
    ]
    chunks = chunk_documents(documents, ctx.cfg.corpus)
    counts = {"documents": len(documents), "chunks": len(chunks), "skipped": len(readout.skipped)}
    if previous is not None:  # an update: log what changed before anything is replaced
        change = diff_documents(previous, documents, how="build" if ctx.corpus_path else "remove")
        log_change(ctx.run, change)
        counts |= change.counts()
    ctx.run.write(DOCUMENTS, documents)
    ctx.run.write(CHUNKS, chunks)
    ctx.run.write(SKIPPED, readout.skipped)
    return StageOutcome(counts)


STAGE = Stage(
    name="corpus",
    sections=("corpus",),
    inputs=(REMOVED,),
    outputs=(DOCUMENTS, CHUNKS, SKIPPED),
    run=_run,
    fingerprint=_source,
)
