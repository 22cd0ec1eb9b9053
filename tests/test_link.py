"""Linking names to a vocabulary: the bands, the decision, the outputs and the commands."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kgc.cli import app
from kgc.config import LinkConfig
from kgc.link import Concept, Synonym, Vocabulary, link_names
from kgc.link.llm_band import Chooser, Question
from kgc.resolve import NameRecord

BUNDLED = Path(__file__).resolve().parents[1] / "data" / "vocabulary" / "nlp_concepts.csv"


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KGC_HOME", str(tmp_path / "home"))


def decide(
    names: list[str], vocab: Path | Vocabulary = BUNDLED, **kw: object
) -> dict[str, tuple[str, str | None]]:
    result = link_names(names, vocab, **kw)  # type: ignore[arg-type]
    return {x.name: (x.match, x.id) for x in result.links}


def test_keys_synonyms_and_plurals_link_exactly() -> None:
    got = decide(
        ["Neural Machine Translations", "NMT", "the transformer architecture", "LSTMs", "opinion mining"]
    )
    assert got == {
        "Neural Machine Translations": ("exactMatch", "nlp:neural-machine-translation"),
        "NMT": ("exactMatch", "nlp:neural-machine-translation"),
        "the transformer architecture": ("exactMatch", "nlp:transformer"),
        "LSTMs": ("exactMatch", "nlp:lstm"),
        "opinion mining": ("exactMatch", "nlp:sentiment-analysis"),
    }


def test_narrower_names_link_broad_and_vetoes_hold() -> None:
    got = decide(
        ["chinese named entity recognition", "GPT-5", "unsupervised learning", "self-supervised learning"]
    )
    assert got["chinese named entity recognition"] == ("broadMatch", "nlp:named-entity-recognition")
    assert got["GPT-5"][0] in ("nil", "uncertain")  # GPT-3 and GPT-4 differ from it in a number
    assert got["unsupervised learning"] == ("exactMatch", "nlp:unsupervised-learning")
    # a scoping prefix: never 'supervised learning', though it ends with that label
    assert got["self-supervised learning"][0] != "exactMatch"
    assert got["self-supervised learning"][1] != "nlp:supervised-learning"


def test_typos_link_near_homonyms_do_not() -> None:
    got = decide(["named entitiy recognition", "machine transliteration", "banana bread"])
    assert got["named entitiy recognition"] == ("exactMatch", "nlp:named-entity-recognition")
    assert got["machine transliteration"][0] == "uncertain"  # one word differs: never automatic
    assert got["banana bread"] == ("nil", None)


def test_a_shared_label_is_a_homonym_never_linked() -> None:
    v = Vocabulary(
        [
            Concept("a", "question answering"),
            Concept("b", "quality assurance", (Synonym("QA"),)),
            Concept("c", "QA"),
        ]
    )
    got = decide(["QA", "question answering"], v)
    assert got["QA"] == ("ambiguous", None)  # 'QA' names b (synonym) and c (label)
    assert got["question answering"] == ("exactMatch", "a")


def test_a_homonym_whose_senses_share_a_parent_links_broad() -> None:
    v = Vocabulary(
        [
            Concept("p", "parsing"),
            Concept("x", "shallow parsing", parents=("p",)),
            Concept("y", "chunking", (Synonym("shallow parsing"),), parents=("p",)),
        ]
    )
    assert decide(["shallow parsing"], v)["shallow parsing"] == ("ambiguous", None)
    v2 = Vocabulary(
        [
            Concept("p", "parsing", (Synonym("analysis"),)),
            Concept("x", "syntax analysis", (Synonym("analysis"),), parents=("p",)),
        ]
    )
    assert decide(["analysis"], v2)["analysis"] == ("broadMatch", "p")


def test_documents_define_an_acronym_the_vocabulary_does_not() -> None:
    v = Vocabulary([Concept("m", "masked language model"), Concept("l", "maximum likelihood method")])
    texts = {"d1": "We pre-train a masked language model (MLM) on text."}
    assert decide(["MLM"], v)["MLM"][0] == "ambiguous"  # its letters fit both labels
    assert decide(["MLM"], v, texts=texts)["MLM"] == ("exactMatch", "m")
    # a record tied to another document does not use d1's definition
    other = link_names([NameRecord("MLM", docs=("d2",))], v, texts={**texts, "d2": "no definitions here"})
    assert other.links[0].match == "ambiguous"


def test_partial_abbreviations_link() -> None:
    assert decide(["neural MT"])["neural MT"] == ("exactMatch", "nlp:neural-machine-translation")


def test_a_short_acronym_from_labels_alone_is_uncertain() -> None:
    v = Vocabulary([Concept("m", "machine translation"), Concept("g", "generative adversarial network")])
    got = decide(["MT", "GANs"], v)
    assert got["MT"] == ("uncertain", None)
    assert got["GANs"] == ("exactMatch", "g")


def test_candidates_and_features_are_recorded_and_explained() -> None:
    result = link_names(["neural MT systems"], BUNDLED)
    link = result.links[0]
    assert link.candidates and all(c.features for c in link.candidates)
    assert "nlp:neural-machine-translation" in [c.id for c in link.candidates[:5]]
    assert "tfidf" in link.candidates[0].features and "string" in link.candidates[0].features
    text = result.explain("neural MT systems")
    assert text.startswith("'neural MT systems' -> ") and "ngram" in text
    assert result.explain("never asked") == "'never asked' was not among the names linked"


def test_sssom_rows_only_for_links(tmp_path: Path) -> None:
    result = link_names(["NMT", "banana bread", "chinese NER"], BUNDLED)
    text = result.to_sssom(tmp_path / "l.sssom.tsv")
    assert (tmp_path / "l.sssom.tsv").read_text(encoding="utf-8") == text
    assert "# curie_map:" in text and "# mapping_set_id:" in text and "# license:" in text
    rows = list(
        csv.DictReader([line for line in text.splitlines() if not line.startswith("#")], delimiter="\t")
    )
    assert [(r["subject_label"], r["predicate_id"], r["object_id"]) for r in rows] == [
        ("NMT", "skos:exactMatch", "nlp:neural-machine-translation"),
        ("chinese NER", "skos:broadMatch", "nlp:named-entity-recognition"),
    ]
    assert all(r["mapping_justification"].startswith("semapv:") and float(r["confidence"]) > 0 for r in rows)
    assert result.lookup("banana bread") is None and result.lookup("NMT") == "nlp:neural-machine-translation"


def scripted(answers: dict[str, list[str | None]]) -> tuple[Chooser, list[list[Question]]]:
    """A chooser answering by name, round after round, with the concept's label or NONE/BROADER."""
    asked: list[list[Question]] = []

    def choose(batches: list[list[Question]]) -> list[list[str | None]]:
        out = []
        for batch in batches:
            asked.append(batch)
            row: list[str | None] = []
            for q in batch:
                want = answers[q.name].pop(0)
                if want is None or want == "NONE":
                    row.append(want)
                    continue
                broader = want.startswith("BROADER ")
                label = want.removeprefix("BROADER ")
                n = next(k for k, o in enumerate(q.options, 1) if o.split(":")[0] == label)
                row.append(f"BROADER {n}" if broader else str(n))
            out.append(row)
        return out

    return choose, asked


def test_llm_band_links_only_when_both_shuffled_rounds_agree() -> None:
    cfg = LinkConfig(llm=True, llm_names_per_call=2)
    names = [
        "machine transliteration",
        "neural translation",
        "word vectorisation",
        "text generator",
        "banana bread",
    ]
    choose, asked = scripted(
        {
            "machine transliteration": ["NONE", "NONE"],
            "neural translation": ["neural machine translation", "neural machine translation"],
            "word vectorisation": ["word embedding", "word2vec"],  # the rounds disagree
            "text generator": ["BROADER natural language generation", "BROADER natural language generation"],
        }
    )
    result = link_names(names, BUNDLED, cfg, judge=choose)
    got = {x.name: (x.match, x.id, x.band) for x in result.links}
    assert got["machine transliteration"] == ("nil", None, "llm")
    assert got["neural translation"] == ("exactMatch", "nlp:neural-machine-translation", "llm")
    assert got["word vectorisation"][0] == "uncertain" and "disagreed" in result.links[2].reason
    assert got["text generator"] == ("broadMatch", "nlp:natural-language-generation", "llm")
    assert got["banana bread"] == ("nil", None, "none")  # NIL without asking
    questions = [q for batch in asked for q in batch]
    assert len(questions) == 8 and all(2 <= len(q.options) <= 8 for q in questions)
    assert max(len(b) for b in asked) == 2
    first = {q.name: q.options for q in questions[:4]}
    second = {q.name: q.options for q in questions[4:]}
    assert all(sorted(first[n]) == sorted(second[n]) for n in first)
    assert any(first[n] != second[n] for n in first)  # the second round shows another order


def test_cli_link_and_resolve_against(tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    names.write_text("NMT\nbanana bread\nchinese NER\n", encoding="utf-8")
    runner = CliRunner()
    out = tmp_path / "links.sssom.tsv"
    r = runner.invoke(app, ["link", str(names), "--vocab", str(BUNDLED), "--out", str(out)])
    assert r.exit_code == 0, r.output
    lines = [json.loads(line) for line in (tmp_path / "links.jsonl").read_text().splitlines()]
    assert [x["match"] for x in lines] == ["exactMatch", "nil", "broadMatch"]
    out2 = tmp_path / "r.sssom.tsv"
    r = runner.invoke(app, ["resolve", str(names), "--against", str(BUNDLED), "--out", str(out2)])
    assert r.exit_code == 0, r.output
    assert out2.read_text().splitlines()[-2:] == out.read_text().splitlines()[-2:]
    r = runner.invoke(app, ["link", "--check-vocab", "--vocab", str(BUNDLED)])
    assert r.exit_code == 0 and "0 homonyms" in r.output
    r = runner.invoke(app, ["link", str(names), "--vocab", str(tmp_path / "missing.csv"), "--out", str(out)])
    assert r.exit_code == 1 and "vocabulary file not found" in r.output


def linked_run(tmp_path: Path) -> Path:
    """A run directory whose graph has entities with aliases, and the documents they came from."""
    from kgc.artifacts import DOCUMENTS, GRAPH
    from kgc.export.graph_files import write_graph
    from kgc.models import Document, Entity, KnowledgeGraph, Relation
    from kgc.rundir import RunDir, StageRecord

    run = RunDir(tmp_path / "run")
    graph = KnowledgeGraph(
        entities=[
            Entity(id="nmt", name="NMT", aliases=["neural MT"], sources=["d1"]),
            Entity(id="mt", name="machine translations", sources=["d1"]),
            Entity(id="mix", name="entity extraction", aliases=["relation classification"], sources=["d1"]),
            Entity(id="bread", name="banana bread", sources=["d1"]),
            Entity(id="mlm", name="MLM", sources=["d1"]),
        ],
        relations=[Relation(head="nmt", relation="Hyponym-Of", tail="mt", support=1)],
    )
    write_graph(graph, run.path)
    run.write(DOCUMENTS, [Document(id="d1", text="A masked language model (MLM) helps NMT.")])
    run.record("fusion", StageRecord(outputs=[GRAPH.name]))
    return run.path


def test_link_a_run_and_evaluate_it(tmp_path: Path) -> None:
    run = linked_run(tmp_path)
    runner = CliRunner()
    r = runner.invoke(app, ["link", str(run), "--vocab", str(BUNDLED), "--out", str(run / "links.sssom.tsv")])
    assert r.exit_code == 0, r.output
    links = {x["entity"]: x for x in map(json.loads, (run / "links.jsonl").read_text().splitlines())}
    assert links["nmt"]["id"] == "nlp:neural-machine-translation"
    assert links["mt"]["id"] == "nlp:machine-translation"
    assert "suspect merge" in links["mix"]["reason"]  # its names link to two concepts
    assert links["bread"]["match"] == "nil"
    gold = tmp_path / "gold.tsv"
    gold.write_text(
        "neural MT\tnlp:neural-machine-translation\nmachine translations\tnlp:machine-translation\n"
        "banana bread\tNIL\nentity extraction\tnlp:named-entity-recognition\nnot in the run\tNIL\n"
    )
    r = runner.invoke(app, ["explain", str(run), "neural MT"])
    assert r.exit_code == 0, r.output
    assert "vocabulary link:" in r.output and "exactMatch nlp:neural-machine-translation" in r.output
    r = runner.invoke(app, ["eval", str(run), "--links", str(gold)])
    assert r.exit_code == 0, r.output
    scores = json.loads((run / "eval_links.json").read_text())
    assert scores["names"] == 4 and scores["missing"] == 1
    assert scores["accuracy_at_1"] == {"hits": 4, "total": 4}
    assert "accuracy@1" in r.output and "NIL F1" in r.output


def test_canonicalise_and_restrict_a_linked_graph() -> None:
    from kgc.link.entities import link_graph
    from kgc.link.graph import apply_links
    from kgc.link.linker import open_index
    from kgc.models import Entity, KnowledgeGraph, Relation

    graph = KnowledgeGraph(
        entities=[
            Entity(id="a", name="NMT", sources=["d1"]),
            Entity(id="b", name="neural machine translations", sources=["d2"]),
            Entity(id="c", name="BLEU", sources=["d1"]),
            Entity(id="d", name="machine translation", sources=["d3"]),
        ],
        relations=[
            Relation(head="a", relation="Evaluate-for", tail="c", support=1, sources=["d1"]),
            Relation(head="b", relation="Evaluate-for", tail="c", support=1, sources=["d2"]),
            Relation(head="a", relation="Hyponym-Of", tail="d", support=1, sources=["d1"]),
        ],
    )
    links = link_graph(graph, open_index(BUNDLED)).links
    canon = apply_links(graph, links, "canonicalise")
    names = {e.id: (e.name, sorted(e.aliases)) for e in canon.entities}
    assert names["a"] == (
        "neural machine translation",
        ["NMT", "neural machine translations"],
    )  # a and b merged
    assert "b" not in names and names["c"] == ("BLEU", [])
    merged = [r for r in canon.relations if r.relation == "Evaluate-for"]
    assert len(merged) == 1 and merged[0].sources == ["d1", "d2"] and merged[0].support == 2
    restricted = apply_links(graph, links, "restrict")
    assert {e.id for e in restricted.entities} == {"a", "d"}  # BLEU is not in the vocabulary
    assert [(r.head, r.tail) for r in restricted.relations] == [("a", "d")]
    assert apply_links(graph, links, "annotate") is graph


def test_dense_band_records_a_cosine_per_candidate() -> None:
    from kgc.testing.embedder import HashingEmbedder

    embedder = HashingEmbedder()
    result = link_names(
        [NameRecord("neural translation", context=("translating sentences with a neural network",))],
        BUNDLED,
        LinkConfig(dense=True),
        embed=embedder.encode,
    )
    cands = result.links[0].candidates
    assert cands and all("dense" in c.bands and -1.0 <= c.features["dense"] <= 1.0 for c in cands)
    assert embedder.encoded > 0
    plain = link_names(["neural translation"], BUNDLED).links[0]
    assert not any("dense" in c.features for c in plain.candidates)  # off unless asked for


def test_llm_band_over_http_links_only_what_both_rounds_choose(tmp_path: Path) -> None:
    """`kgc link --llm` through the openai client to the scripted server: one call per round for
    two names; 'NONE' twice makes them NIL by the LLM; the same number twice names two different
    concepts (the second round shuffles the options), so nothing links."""
    from kgc.testing.scripted_server import ScriptedServer

    names = tmp_path / "names.txt"
    names.write_text("machine transliteration\nneural translation\n", encoding="utf-8")
    out = tmp_path / "links.sssom.tsv"
    for choice, expected in (("NONE", "nil"), ("1", "uncertain")):
        reply = {"answers": [{"name": 1, "choice": choice}, {"name": 2, "choice": choice}]}
        with ScriptedServer(rules=[{"contains": "# Task: link", "reply": reply}]) as server:
            config = tmp_path / "kgc.toml"
            config.write_text(
                f'[llm]\nbackend = "openai"\nbase_url = "{server.base_url}"\nmodel = "scripted"\n',
                encoding="utf-8",
            )
            r = CliRunner().invoke(
                app,
                ["link", str(names), "--vocab", str(BUNDLED), "--out", str(out), "--llm", "-c", str(config)],
            )
            assert r.exit_code == 0, r.output
            assert len(server.stats.requests) == 2  # two names in one call, two rounds
        links = [json.loads(line) for line in (tmp_path / "links.jsonl").read_text().splitlines()]
        assert [x["match"] for x in links] == [expected, expected]
        if expected == "nil":
            assert all(x["band"] == "llm" for x in links)
        else:
            assert all("two rounds disagreed" in x["reason"] for x in links)
