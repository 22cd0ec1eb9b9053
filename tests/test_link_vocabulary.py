"""Vocabulary loading: every format into one model, labels from label properties only, cached parses."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgc.link import Columns, check_vocabulary, load_vocabulary
from kgc.link.vocabulary import VocabularyError

BUNDLED = Path(__file__).resolve().parents[1] / "data" / "vocabulary" / "nlp_concepts.csv"


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KGC_HOME", str(tmp_path / "home"))


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_bundled_csv_has_synonyms_definitions_and_parents() -> None:
    v = load_vocabulary(BUNDLED)
    nmt = v.by_id["nlp:neural-machine-translation"]
    assert nmt.label == "neural machine translation"
    assert [s.text for s in nmt.synonyms] == ["NMT"]
    assert nmt.parents == ("nlp:machine-translation",)
    assert "end to end" in (nmt.definition or "")
    check = check_vocabulary(v)
    assert not check.homonyms and not check.missing_parents and not check.unlabelled


def test_tsv_columns_found_by_name_or_given(tmp_path: Path) -> None:
    p = write(tmp_path, "v.tsv", "Concept ID\tPreferred Label\tnotes\nA:1\tmachine translation\tx\n")
    v = load_vocabulary(p, Columns(id="Concept ID"))
    assert v.concepts[0].label == "machine translation"  # 'Preferred Label' found by its usual name
    with pytest.raises(VocabularyError, match="no label column"):
        load_vocabulary(write(tmp_path, "w.tsv", "id\tnotes\nA:1\tx\n"))


def test_rows_without_label_are_counted_never_named_by_id(tmp_path: Path) -> None:
    p = write(tmp_path, "v.csv", "id,label\nhttp://x.org/onto#MachineTranslation,\nA:2,parsing\n")
    v = load_vocabulary(p)
    assert [c.label for c in v.concepts] == ["parsing"]
    assert v.unlabelled == ["http://x.org/onto#MachineTranslation"]


def test_jsonl_synonym_strengths(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "v.jsonl",
        '{"id": "A:1", "label": "parsing", "synonyms": ["syntactic analysis", {"text": "shallow parsing", "strength": "narrow"}]}\n',
    )
    c = load_vocabulary(p).concepts[0]
    assert [(s.text, s.strength) for s in c.synonyms] == [
        ("syntactic analysis", "exact"),
        ("shallow parsing", "narrow"),
    ]
    with pytest.raises(VocabularyError, match=":1:"):
        load_vocabulary(
            write(
                tmp_path,
                "bad.jsonl",
                '{"id": "A:1", "label": "x", "synonyms": [{"text": "y", "strength": "sort of"}]}\n',
            )
        )


SKOS = """@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ex: <http://example.org/nlp/> .
ex:MT a skos:Concept ; skos:prefLabel "machine translation"@en, "traduction automatique"@fr ;
    skos:altLabel "MT"@en ; skos:hiddenLabel "machine tranlsation" ; skos:definition "Translating by program." .
ex:NMT a skos:Concept ; skos:prefLabel "neural machine translation"@en ; skos:broader ex:MT .
ex:NoLabel a skos:Concept ; skos:broader ex:MT .
"""


def test_skos_turtle(tmp_path: Path) -> None:
    v = load_vocabulary(write(tmp_path, "v.ttl", SKOS))
    mt = v.by_id["ex:MT"]
    assert mt.label == "machine translation"  # English first, never the fragment 'MT'
    assert {s.text for s in mt.synonyms} >= {"MT", "machine tranlsation", "traduction automatique"}
    assert mt.definition == "Translating by program."
    assert v.by_id["ex:NMT"].parents == ("ex:MT",)
    assert v.unlabelled == ["ex:NoLabel"]


OWL = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#"
  xmlns:owl="http://www.w3.org/2002/07/owl#" xmlns:oboInOwl="http://www.geneontology.org/formats/oboInOwl#">
  <owl:Class rdf:about="http://purl.obolibrary.org/obo/NLP_0000001">
    <rdfs:label>parsing</rdfs:label>
    <oboInOwl:hasExactSynonym>syntactic parsing</oboInOwl:hasExactSynonym>
    <oboInOwl:hasNarrowSynonym>chunking</oboInOwl:hasNarrowSynonym>
  </owl:Class>
  <owl:Class rdf:about="http://purl.obolibrary.org/obo/NLP_0000002">
    <rdfs:label>dependency parsing</rdfs:label>
    <rdfs:subClassOf rdf:resource="http://purl.obolibrary.org/obo/NLP_0000001"/>
  </owl:Class>
  <owl:Class rdf:about="http://purl.obolibrary.org/obo/NLP_0000003"/>
</rdf:RDF>
"""


def test_owl_rdf_xml(tmp_path: Path) -> None:
    v = load_vocabulary(write(tmp_path, "v.owl", OWL))
    parsing = v.by_id["NLP:0000001"]  # OBO PURLs become CURIEs
    assert [(s.text, s.strength) for s in parsing.synonyms] == [
        ("syntactic parsing", "exact"),
        ("chunking", "narrow"),
    ]
    assert v.by_id["NLP:0000002"].parents == ("NLP:0000001",)
    assert v.unlabelled == ["NLP:0000003"]


OBO = """format-version: 1.2
ontology: nlp

[Term]
id: NLP:0000001
name: parsing
synonym: "syntactic parsing" EXACT []
synonym: "grammar analysis" RELATED []
def: "Finding the structure of a sentence." []

[Term]
id: NLP:0000002
name: dependency parsing
is_a: NLP:0000001 ! parsing

[Term]
id: NLP:0000003
name: old thing
is_obsolete: true
"""


def test_obo(tmp_path: Path) -> None:
    v = load_vocabulary(write(tmp_path, "v.obo", OBO))
    assert [c.id for c in v.concepts] == ["NLP:0000001", "NLP:0000002"]  # the obsolete term is left out
    p = v.by_id["NLP:0000001"]
    assert {(s.text, s.strength) for s in p.synonyms} == {
        ("syntactic parsing", "exact"),
        ("grammar analysis", "related"),
    }
    assert p.definition == "Finding the structure of a sentence."
    assert v.by_id["NLP:0000002"].parents == ("NLP:0000001",)


def test_sssom_as_vocabulary(tmp_path: Path) -> None:
    text = (
        "# curie_map:\n#   ex: http://example.org/\n"
        "subject_id\tsubject_label\tpredicate_id\tobject_id\tobject_label\tmapping_justification\n"
        "x:1\tNMT\tskos:exactMatch\tex:nmt\tneural machine translation\tsemapv:ManualMappingCuration\n"
        "x:2\tchinese NMT\tskos:broadMatch\tex:nmt\tneural machine translation\tsemapv:ManualMappingCuration\n"
    )
    v = load_vocabulary(write(tmp_path, "m.sssom.tsv", text))
    assert [(s.text, s.strength) for s in v.by_id["ex:nmt"].synonyms] == [
        ("NMT", "exact"),
        ("chinese NMT", "narrow"),
    ]


def test_parse_is_cached_by_content(tmp_path: Path) -> None:
    p = write(tmp_path, "v.ttl", SKOS)
    load_vocabulary(p)
    cached = list((tmp_path / "home" / "link").glob("vocab-*.json"))
    assert len(cached) == 1
    cached[0].write_text(
        '{"concepts": [["ex:Z", "from the cache", [], null, null, []]], "unlabelled": [], "duplicate_ids": []}'
    )
    assert load_vocabulary(p).concepts[0].label == "from the cache"  # the cache was read, not the file
    p.write_text(SKOS.replace("neural machine translation", "NMT systems"), encoding="utf-8")
    assert load_vocabulary(p).by_id["ex:NMT"].label == "NMT systems"  # new content, parsed afresh


def test_check_reports_duplicates_and_homonyms(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "v.csv",
        "id,label,synonyms\n1,question answering,QA\n2,question answering,\n3,quality assurance,QA\n1,QA systems,\n",
    )
    check = check_vocabulary(load_vocabulary(p))
    assert check.duplicate_ids == ["1"]
    assert check.duplicate_labels == {"question answering": ["1", "2"]}
    assert set(check.homonyms) == {"question answering", "qa"}


def test_unreadable_files_say_why(tmp_path: Path) -> None:
    with pytest.raises(VocabularyError, match="not found"):
        load_vocabulary(tmp_path / "none.csv")
    bad = tmp_path / "v.csv"
    bad.write_bytes(b"id,label\n1,\xff\xfe\n")
    with pytest.raises(VocabularyError, match="not UTF-8"):
        load_vocabulary(bad)
    with pytest.raises(VocabularyError, match="not readable as RDF"):
        load_vocabulary(write(tmp_path, "v.ttl", "this is not turtle <<"))
    with pytest.raises(VocabularyError, match="unknown vocabulary format"):
        load_vocabulary(write(tmp_path, "v.xlsx", "x"))
