"""The link stage after fusion: annotate, canonicalise, restrict; keyed by the vocabulary's content;
incremental; read by the exports through the linked graph."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from kgc.artifacts import LINKED_GRAPH, LINKED_GRAPHML, LINKS, LINKS_SSSOM
from kgc.config import load_config
from kgc.errors import ConfigError
from kgc.export.graph_files import read_graph
from kgc.pipeline import Pipeline
from kgc.rundir import RunDir
from kgc.testing import HashingEmbedder, ScriptedBackend, scripted_factory

BUNDLED = Path(__file__).resolve().parents[1] / "data" / "vocabulary" / "nlp_concepts.csv"
DOCS = {
    "d1": "We study neural machine translation (NMT) and evaluate NMT with BLEU.",
    "d2": "Neural machine translations and chinese named entity recognition share data.",
}


def triplets(*rows: tuple[str, str, str]) -> dict[str, Any]:
    return {"triplets": [{"head": h, "relation": r, "tail": t} for h, r, t in rows]}


RULES: list[dict[str, Any]] = [
    {
        "task": "extraction",
        "contains": "evaluate NMT with BLEU",
        "reply": triplets(("BLEU", "Evaluate-for", "NMT")),
    },
    {
        "task": "extraction",
        "contains": "recognition share data",
        "reply": triplets(("neural machine translations", "Conjunction", "chinese named entity recognition")),
    },
    {
        "task": "extraction",
        "contains": "banana bread recipe",
        "reply": triplets(("banana bread", "Conjunction", "NMT")),
    },
    {"task": "extraction", "reply": {"triplets": []}},
]


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KGC_HOME", str(tmp_path / "home"))


def build(
    tmp_path: Path, vocab: Path, embedder: HashingEmbedder | None = None, **settings: Any
) -> tuple[RunDir, ScriptedBackend]:
    corpus = tmp_path / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for name, text in DOCS.items():
        (corpus / f"{name}.txt").write_text(text, encoding="utf-8")
    cfg = load_config(
        None,
        {
            "llm.backend": "openai",
            "llm.model": "scripted",
            "extraction.mode": "document",
            "resolve.llm_band": False,
            "fusion.infer_links": False,
            "fusion.resolve_with_llm": False,
            "link.vocabulary": str(vocab),
            **settings,
        },
    )
    backend = ScriptedBackend(rules=RULES)
    with Pipeline(
        cfg,
        tmp_path / "run",
        corpus=corpus,
        llm_factory=scripted_factory(backend, cfg.llm),
        embedder=embedder or HashingEmbedder(),
    ) as p:
        p.run_until()
    return RunDir(tmp_path / "run"), backend


def test_annotate_then_restrict_and_the_vocabulary_in_the_key(tmp_path: Path) -> None:
    vocab = tmp_path / "vocab.csv"
    shutil.copy(BUNDLED, vocab)
    run, _ = build(tmp_path, vocab)
    links = {x.name: x for x in run.read(LINKS)}
    nmt = next(x for x in links.values() if x.id == "nlp:neural-machine-translation")
    assert nmt.match == "exactMatch" and nmt.entity
    assert links["chinese named entity recognition"].match == "broadMatch"
    assert links["BLEU"].match in ("nil", "uncertain")
    graph = read_graph(run.path)  # what exports and the view read: the linked graph
    by_id = {e.id: e for e in graph.entities}
    assert by_id[nmt.entity].vocab_id == "nlp:neural-machine-translation"
    assert by_id[nmt.entity].vocab_match == "exactMatch" and by_id[nmt.entity].vocab_score == 1.0
    assert "nlp:neural-machine-translation" in run.read(LINKS_SSSOM)
    assert "vocab_id" in run.read(LINKED_GRAPHML)
    record = run.manifest().stages["link"]
    assert record.counts["relinked"] == len(graph.entities) and record.counts["reused"] == 0
    from kgc.view.report import write_report

    page = write_report(run.path).read_text(encoding="utf-8")  # the report's stage table shows the links
    assert "exactMatch" in page and "relinked" in page

    # the vocabulary file's content is in the key: an edit re-runs the stage, the decisions follow it
    vocab.write_text(vocab.read_text().replace("nlp:neural-machine-translation", "nlp:NMT"), encoding="utf-8")
    run, _ = build(tmp_path, vocab)
    assert any(x.id == "nlp:NMT" for x in run.read(LINKS))
    assert run.manifest().stages["link"].counts["reused"] == 0

    # restrict: only linked entities and the relations between them; no decision is made again
    run, _ = build(tmp_path, vocab, **{"link.mode": "restrict"})
    restricted = run.read(LINKED_GRAPH)
    assert {e.vocab_id for e in restricted.entities} <= {"nlp:NMT", "nlp:named-entity-recognition"}
    assert all(e.vocab_match in ("exactMatch", "broadMatch") for e in restricted.entities)
    assert run.manifest().stages["link"].counts["relinked"] == 0


def test_an_update_relinks_only_new_entities(tmp_path: Path) -> None:
    run, _ = build(tmp_path, BUNDLED)
    first = run.manifest().stages["link"].counts
    DOCS["d3"] = "A banana bread recipe, and NMT."
    try:
        run, _ = build(tmp_path, BUNDLED)
    finally:
        del DOCS["d3"]
    counts = run.manifest().stages["link"].counts
    assert counts["entities"] == first["entities"] + 1
    # the new entity, and NMT whose documents changed (d3 names it), are linked again; the rest re-used
    assert counts["relinked"] == 2 and counts["reused"] == first["entities"] - 1


def test_the_dense_band_of_a_build_embeds_each_label_once(tmp_path: Path) -> None:
    embedder = HashingEmbedder()
    vocab = tmp_path / "vocab.csv"
    shutil.copy(BUNDLED, vocab)
    run, _ = build(tmp_path, vocab, embedder, **{"link.dense": True})
    assert all("dense" in c.features for x in run.read(LINKS) for c in x.candidates)
    embedded = embedder.encoded
    assert embedded > 0
    # an edited vocabulary re-links every entity; the labels and names are in the run's vector store
    vocab.write_text(vocab.read_text().replace("nlp:neural-machine-translation", "nlp:NMT"), encoding="utf-8")
    run, _ = build(tmp_path, vocab, embedder, **{"link.dense": True})
    assert run.manifest().stages["link"].counts["reused"] == 0
    assert any(x.id == "nlp:NMT" for x in run.read(LINKS))
    assert embedder.encoded == embedded  # nothing embedded again
    # another embedding model is another decision
    run, _ = build(tmp_path, vocab, HashingEmbedder(32), **{"link.dense": True})
    assert run.manifest().stages["link"].counts["reused"] == 0


def test_without_a_vocabulary_there_is_no_link_stage(tmp_path: Path) -> None:
    run, _ = build(tmp_path, BUNDLED)
    assert "link" in run.manifest().stages
    cfg = json.loads((run.path / "config.json").read_text())
    assert cfg["link"]["vocabulary"]
    run2, _ = build(tmp_path / "other", BUNDLED, **{"link.vocabulary": None})
    assert "link" not in run2.manifest().stages and not run2.exists(LINKED_GRAPH)
    assert all(e.vocab_id is None for e in read_graph(run2.path).entities)


def test_vocabulary_concepts_as_seeds(tmp_path: Path) -> None:
    from kgc.artifacts import SEEDS

    corpus = tmp_path / "corpus.txt"
    corpus.write_text(
        "Neural machine translation needs parsing.\nParsing helps translation.\n", encoding="utf-8"
    )
    vocab = tmp_path / "v.csv"
    vocab.write_text("id,label\n1,neural machine translation\n2,parsing\n", encoding="utf-8")
    settings = {
        "corpus.format": "lines",
        "seeds.from_vocabulary": True,
        "seeds.user_seeds_only": True,
        "seeds.user_seeds": ["beam search"],
        "link.vocabulary": str(vocab),
    }

    def seeds() -> list[str]:
        with Pipeline(
            load_config(None, settings), tmp_path / "run", corpus=corpus, embedder=HashingEmbedder()
        ) as p:
            p.run_until("seeds")
        return sorted(s.name for s in RunDir(tmp_path / "run").read(SEEDS))

    assert seeds() == ["beam search", "neural machine translation", "parsing"]
    vocab.write_text("id,label\n1,neural machine translation\n3,dependency parsing\n", encoding="utf-8")
    assert seeds() == [
        "beam search",
        "dependency parsing",
        "neural machine translation",
    ]  # the edit re-ran it
    settings["link.vocabulary"] = None
    with pytest.raises(ConfigError, match=r"needs link\.vocabulary"):
        seeds()


def test_build_links_from_the_command_line_and_only_the_link_stage_runs_again(tmp_path: Path) -> None:
    """`kgc build --vocab V --link-mode M` over the scripted HTTP server: a finished run gains the link
    stage and no LLM request; the mode shapes the linked graph; the dry run counts the LLM band."""
    from typer.testing import CliRunner

    from kgc.cli import app
    from kgc.testing.scripted_server import ScriptedServer

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in DOCS.items():
        (corpus / f"{name}.txt").write_text(text, encoding="utf-8")
    runner = CliRunner()
    with ScriptedServer(rules=RULES) as server:
        config = tmp_path / "kgc.toml"
        config.write_text(
            f'[llm]\nbackend = "openai"\nbase_url = "{server.base_url}"\nmodel = "scripted"\n'
            '[extraction]\nmode = "document"\n[fusion]\nembedding_merge = false\nllm_band = false\n'
            "infer_links = false\nresolve_with_llm = false\n",
            encoding="utf-8",
        )
        base = ["build", str(corpus), "--out", str(tmp_path / "run"), "-c", str(config)]
        r = runner.invoke(app, base)
        assert r.exit_code == 0, r.output
        run = RunDir(tmp_path / "run")
        assert "link" not in run.manifest().stages
        sent = len(server.stats.requests)

        r = runner.invoke(app, [*base, "--link-mode", "restrict"])
        assert r.exit_code == 1 and "--link-mode needs a vocabulary" in r.output

        r = runner.invoke(app, [*base, "--vocab", str(BUNDLED), "--link-mode", "restrict"])
        assert r.exit_code == 0, r.output
        assert len(server.stats.requests) == sent  # extraction and fusion are up to date
        restricted = run.read(LINKED_GRAPH)
        assert restricted.entities and all(e.vocab_id for e in restricted.entities)
        assert len(restricted.entities) < len(run.read(LINKS))  # BLEU (NIL) is cut

        r = runner.invoke(app, [*base, "--vocab", str(BUNDLED), "--link-mode", "sideways"])
        assert r.exit_code == 1 and "annotate" in r.output  # the valid modes are named

        config.write_text(config.read_text() + "[link]\nllm = true\nmax_llm_names = 10\n", encoding="utf-8")
        r = runner.invoke(app, [*base, "--vocab", str(BUNDLED), "--dry-run"])
        assert r.exit_code == 0, r.output
        assert '"link_max_requests": 6' in r.output  # two rounds of ceil(10 / 4) calls
