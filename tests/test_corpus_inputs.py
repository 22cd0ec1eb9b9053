"""Hostile corpus files: no text is lost or cut, and what cannot be read is skipped and reported."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kgc.config import CorpusConfig
from kgc.errors import CorpusError
from kgc.stages.corpus import read_corpus

# Characters str.splitlines() breaks at although no file format here ends a line with them.
ODD_BREAKS = "form\x0cfeed, next\x85line, line\u2028separator, paragraph\u2029separator, group\x1dsep"


def texts(path: Path, cfg: CorpusConfig | None = None) -> dict[str, str]:
    return {d.id: d.text for d in read_corpus(path, cfg).documents}


# -- CSV ---------------------------------------------------------------------------------------------------


def test_csv_quoted_field_keeps_its_line_breaks(tmp_path: Path) -> None:
    p = tmp_path / "c.csv"
    p.write_bytes(b'id,text\r\nx,"first line\nsecond line"\r\ny,"windows\r\nbreak"\r\nz,plain\r\n')
    out = read_corpus(p)
    assert [(d.id, d.text, d.source) for d in out.documents] == [
        ("x", "first line\nsecond line", f"{p}:2"),
        ("y", "windows\r\nbreak", f"{p}:4"),
        ("z", "plain", f"{p}:6"),
    ]
    assert out.skipped == []


def test_csv_field_with_characters_splitlines_breaks_at_stays_whole(tmp_path: Path) -> None:
    p = tmp_path / "c.csv"
    p.write_text(f'id,text\nx,"{ODD_BREAKS}"\ny,plain\n', encoding="utf-8", newline="")
    out = read_corpus(p)
    assert texts(p) == {"x": ODD_BREAKS, "y": "plain"}
    assert out.skipped == []


def test_csv_rows_without_id_are_named_by_their_first_line(tmp_path: Path) -> None:
    p = tmp_path / "c.csv"
    p.write_text('text\n"two\nlines"\nthird\n', encoding="utf-8", newline="")
    assert texts(p) == {"row-2": "two\nlines", "row-4": "third"}


def test_csv_with_a_utf8_byte_order_mark_finds_its_first_column(tmp_path: Path) -> None:
    p = tmp_path / "c.csv"
    p.write_bytes(b"\xef\xbb\xbfid,text\nx,hello\n")
    assert texts(p) == {"x": "hello"}


# -- JSONL -------------------------------------------------------------------------------------------------


def test_jsonl_line_whose_string_holds_a_line_separator_is_one_document(tmp_path: Path) -> None:
    p = tmp_path / "c.jsonl"
    rows = [{"id": "a", "text": ODD_BREAKS}, {"id": "b", "text": "plain"}]
    # ensure_ascii=False writes U+2028, U+0085 and U+2029 raw, as many JSON writers do (valid JSON).
    p.write_text("\r\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\r\n", encoding="utf-8")
    out = read_corpus(p)
    assert [(d.id, d.text, d.source) for d in out.documents] == [
        ("a", ODD_BREAKS, f"{p}:1"),
        ("b", "plain", f"{p}:2"),
    ]
    assert out.skipped == []


# -- one document per line ---------------------------------------------------------------------------------


def test_lines_file_splits_at_line_breaks_only(tmp_path: Path) -> None:
    p = tmp_path / "abstracts.txt"
    p.write_bytes(f"{ODD_BREAKS}\r\nsecond\rthird\n\nfifth\n".encode())
    assert texts(p) == {"line-1": ODD_BREAKS, "line-2": "second", "line-3": "third", "line-5": "fifth"}


# -- encodings ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_a_byte_order_mark_are_read(tmp_path: Path, encoding: str) -> None:
    bom = {"utf-16": b"", "utf-16-be": b"\xfe\xff", "utf-32": b""}[encoding]  # utf-16/32 write their own
    text = "Café: attention\nBERT — a model"
    (tmp_path / "lines.txt").write_bytes(bom + text.encode(encoding))
    assert texts(tmp_path / "lines.txt") == {"line-1": "Café: attention", "line-2": "BERT — a model"}
    (tmp_path / "c.csv").write_bytes(bom + 'id,text\nx,"Café\nBERT"\n'.encode(encoding))
    assert texts(tmp_path / "c.csv") == {"x": "Café\nBERT"}


def test_utf16_without_a_byte_order_mark_is_reported_as_undecodable(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes("no mark".encode("utf-16-le"))
    (tmp_path / "b.txt").write_text("fine", encoding="utf-8")
    out = read_corpus(tmp_path)
    assert texts(tmp_path) == {"b": "fine"}
    assert [(Path(s.where).name, s.reason) for s in out.skipped] == [("a.txt", "binary or undecodable")]


# -- file names and special files --------------------------------------------------------------------------


def test_a_file_name_that_is_not_utf8_is_skipped_and_reported(tmp_path: Path) -> None:
    bad = tmp_path / os.fsdecode(b"caf\xe9.txt")  # latin-1 bytes: not valid UTF-8
    bad.write_text("Some text.", encoding="utf-8")
    (tmp_path / "good.txt").write_text("Good text.", encoding="utf-8")
    out = read_corpus(tmp_path)
    assert texts(tmp_path) == {"good": "Good text."}
    assert [(s.where, s.reason) for s in out.skipped] == [
        (f"{tmp_path}/caf\\xe9.txt", "the file name is not valid UTF-8")
    ]
    # Everything the reader returns can be written as UTF-8 JSON (the run directory's artifacts).
    for d in out.documents:
        d.model_dump_json().encode("utf-8")
    json.dumps([s.where for s in out.skipped], ensure_ascii=False).encode("utf-8")


@pytest.mark.timeout(20)
def test_a_fifo_in_a_folder_is_reported_and_never_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    (tmp_path / "good.txt").write_text("Good text.", encoding="utf-8")
    out = read_corpus(tmp_path)
    assert texts(tmp_path) == {"good": "Good text."}
    assert [(Path(s.where).name, s.reason) for s in out.skipped] == [
        ("pipe.txt", "not a regular file (a FIFO, socket or device)")
    ]


@pytest.mark.timeout(20)
def test_a_fifo_as_the_corpus_is_a_clear_error(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    with pytest.raises(CorpusError, match=r"corpus .*pipe.txt is neither a regular file nor a folder"):
        read_corpus(tmp_path / "pipe.txt")
