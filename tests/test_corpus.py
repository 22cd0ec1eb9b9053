"""Reading corpora in every supported format, and reporting what cannot be read."""

import itertools
import json
from pathlib import Path

import pytest

from kgc.config import CorpusConfig
from kgc.errors import CorpusError
from kgc.models import Document
from kgc.stages.corpus import chunk_documents, read_corpus


def test_folder_reads_text_and_reports_bad_files(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Attention is used for machine translation.", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("# BERT\nBERT is a language model.", encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("Café au lait is a drink.".encode("cp1252"))
    (tmp_path / "empty.txt").write_text("   \n", encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02PNG\x00" * 20)
    (tmp_path / "image.png").write_bytes(b"\x89PNG")

    out = read_corpus(tmp_path)

    assert {d.id: d.text for d in out.documents} == {
        "a": "Attention is used for machine translation.",
        "latin1": "Café au lait is a drink.",
        "sub/b": "# BERT\nBERT is a language model.",
    }
    reasons = {Path(s.where).name: s.reason for s in out.skipped}
    assert reasons == {
        "binary.txt": "binary or undecodable",
        "empty.txt": "empty",
        "image.png": "not a text file (.png)",
    }


def test_lines_file_gives_one_document_per_nonempty_line(tmp_path: Path) -> None:
    p = tmp_path / "abstracts.txt"
    p.write_text("first abstract\n\nsecond abstract\n", encoding="utf-8")
    docs = read_corpus(p).documents
    assert [(d.id, d.text, d.source) for d in docs] == [
        ("line-1", "first abstract", f"{p}:1"),
        ("line-3", "second abstract", f"{p}:3"),
    ]


def test_jsonl_with_custom_fields_skips_malformed_rows(tmp_path: Path) -> None:
    p = tmp_path / "c.jsonl"
    rows = [
        json.dumps({"key": "d1", "body": "one"}),
        "{not json",
        json.dumps({"key": "d2"}),
        json.dumps(["a list"]),
        json.dumps({"key": "d1", "body": "duplicate id"}),
        json.dumps({"body": "no id"}),
    ]
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = read_corpus(p, CorpusConfig(id_field="key", text_field="body"))
    assert [(d.id, d.text) for d in out.documents] == [("d1", "one"), ("line-6", "no id")]
    assert [s.reason for s in out.skipped] == [
        "invalid JSON (Expecting property name enclosed in double quotes)",
        "no text in field 'body'",
        "not an object",
        "duplicate document id 'd1'",
    ]


def test_csv_needs_the_text_column(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text('id,text\nx,"a, b and c"\ny,plain\n', encoding="utf-8")
    assert [(d.id, d.text) for d in read_corpus(good).documents] == [("x", "a, b and c"), ("y", "plain")]
    bad = tmp_path / "bad.csv"
    bad.write_text("id,body\nx,hello\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="no usable document"):
        read_corpus(bad)


def test_missing_or_empty_corpus_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="corpus not found"):
        read_corpus(tmp_path / "nope")
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"no usable document .* \(1 skipped"):
        read_corpus(tmp_path)


def test_chunks_keep_offsets_overlap_and_word_boundaries() -> None:
    words = [f"w{i:03d}" for i in range(300)]  # 300 words of 4 chars + spaces = 1499 chars
    doc = Document(id="d", text=" ".join(words))
    chunks = chunk_documents([doc], CorpusConfig(chunk_chars=500, chunk_overlap=100))
    assert [c.id for c in chunks] == ["d#0", "d#1", "d#2", "d#3"]
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text
        assert not c.text.startswith(" ") and not c.text.endswith(" ")
        assert len(c.text) <= 500
    for prev, nxt in itertools.pairwise(chunks):
        assert nxt.start < prev.end  # overlapping windows
    assert chunks[-1].end == len(doc.text)
    short = chunk_documents([Document(id="s", text="short")], CorpusConfig())
    assert [(c.id, c.start, c.end) for c in short] == [("s#0", 0, 5)]
