"""The view's data and the report's numbers, from a small run whose every answer is scripted."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kgc.artifacts import REJECTED_PAIRS
from kgc.cli import app
from kgc.errors import ExportError
from kgc.export.graph_files import read_graph, write_graph
from kgc.models import Entity, KnowledgeGraph, PairDecision, Relation
from kgc.pipeline import build
from kgc.rundir import RunDir
from kgc.testing.scripted_server import ScriptedServer
from kgc.view import write_report, write_view
from kgc.view.charts import bar_chart
from kgc.view.graph_data import view_payload
from kgc.view.report import report_html, run_report
from kgc.view.run_data import load_run
from tests.test_pipeline import RULES, server_config, write_corpus

UNDIRECTED = {"Compare", "Conjunction"}
runner = CliRunner()


@pytest.fixture(scope="module")
def scripted_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/test_pipeline.py's exact graph: an acronym merge, an LLM-decided conflict, an inferred edge."""
    tmp = tmp_path_factory.mktemp("view")
    with ScriptedServer(rules=RULES) as server:
        cfg = server_config(
            server, **{"seeds.user_seeds": ["Machine translation", "BLEU"], "seeds.user_seeds_only": True}
        )
        build(write_corpus(tmp), tmp / "run", cfg)
    return tmp / "run"


def embedded_json(html: str) -> dict[str, Any]:
    [text] = re.findall(r'<script id="kgc-data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(text)


def test_entity_details_carry_aliases_merges_and_evidence_with_doc_ids(scripted_run: Path) -> None:
    data = view_payload(load_run(scripted_run), UNDIRECTED)
    nodes = {n["id"]: n for n in data["nodes"]}
    assert sorted(nodes) == ["bleu", "encoder", "machine-translation", "neural-machine-translation"]
    nmt = nodes["neural-machine-translation"]
    assert (nmt["name"], nmt["aliases"], nmt["degree"], nmt["support"]) == (
        "Neural machine translation",
        ["NMT"],
        3,
        2,
    )
    assert nmt["merges"] == [
        {
            "alias": "NMT",
            "reason": "definition",  # the document says 'neural machine translation (NMT)'
            "score": 1.0,
            "extra": {
                "via": "Neural machine translation",
                "generator": "definition",
                "scores": {"definition": 1.0},
            },
        }
    ]

    def evidence(indices: list[int]) -> list[tuple[str, ...]]:
        return [tuple(data["strings"][k] for k in data["evidence"][i]) for i in indices]

    assert evidence(nmt["evidence"]) == [
        (
            "d2",
            "d2#0",
            "Neural machine translation (NMT) is a kind of machine translation.",
            "Neural machine translation — Hyponym-Of — machine translation",
        ),
        (  # the passage's sentence mentioning both names, not the model's quote
            "d2",
            "d2#0",
            "NMT relies on an encoder.",
            "encoder — Part-of — NMT",
        ),
        ("d3", "d3#0", "NMT systems are evaluated with BLEU.", "BLEU — Evaluate-for — NMT"),
    ]
    assert nmt["evidence_total"] == 3


def test_edges_carry_provenance_direction_and_the_conflict_decided(scripted_run: Path) -> None:
    data = view_payload(load_run(scripted_run), UNDIRECTED)
    edges = {(e["head"], e["relation"], e["tail"]): e for e in data["edges"]}
    decided = edges[("bleu", "Evaluate-for", "machine-translation")]
    assert (decided["sources"], decided["decided_by"], decided["directed"], decided["inferred"]) == (
        ["d1"],
        "llm",
        True,
        False,
    )
    assert decided["conflict"] == {
        "options": {"bleu|Evaluate-for|machine-translation": 1, "bleu|Used-for|machine-translation": 1},
        "chosen": "bleu|Evaluate-for|machine-translation",
        "decided_by": "llm",
    }
    inferred = edges[("encoder", "Part-of", "machine-translation")]
    assert (inferred["inferred"], inferred["sources"], inferred["conflict"]) == (True, [], None)
    assert [data["strings"][data["evidence"][i][0]] for i in decided["pair_evidence"]] == ["d1", "d1"]
    assert data["relation_types"] == ["Evaluate-for", "Part-of", "Hyponym-Of"]  # by count, then name


def test_merge_fields_beyond_the_model_are_shown_not_dropped(scripted_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(scripted_run, run)
    (run / "merges.jsonl").write_text(
        json.dumps({"alias": "NMT", "canonical": "Neural machine translation", "reason": "acronym",
                    "score": 1.0, "explanation": "NMT abbreviates it (d2)", "evidence_docs": ["d2"]})
        + "\n",
        encoding="utf-8",
    )  # fmt: skip
    data = view_payload(load_run(run))
    [nmt] = [n for n in data["nodes"] if n["id"] == "neural-machine-translation"]
    assert nmt["merges"][0]["extra"] == {"explanation": "NMT abbreviates it (d2)", "evidence_docs": ["d2"]}


def test_the_page_is_self_contained_and_names_cannot_break_out_of_its_data(tmp_path: Path) -> None:
    hostile = "</script><script>alert(1)</script> & <!--"
    graph = KnowledgeGraph(
        entities=[Entity(id="a", name=hostile), Entity(id="b", name="b")],
        relations=[Relation(head="a", relation="Part-of", tail="b", support=1, confidence=0.5)],
    )
    write_graph(graph, tmp_path)
    html = write_view(tmp_path).read_text(encoding="utf-8")
    assert embedded_json(html)["nodes"][0]["name"] == hostile
    assert html.count("<script") == 6  # the data, three vendored builds, the view's two scripts
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", html)
    assert "default-src 'none'" in html
    assert "sourceMappingURL" not in html


def page_policy(html: str) -> dict[str, list[str]]:
    """The page's Content-Security-Policy, directive -> sources, as the browser reads the attribute."""
    [content] = re.findall(r'<meta http-equiv="Content-Security-Policy"\s+content="([^"]*)"', html)
    directives = (d.split() for d in unescape(content).split(";") if d.strip())
    return {name: sources for name, *sources in directives}


def test_the_view_runs_its_own_scripts_only_each_allowed_by_its_hash(tmp_path: Path) -> None:
    """5c6714b allowed 'unsafe-inline': any <script> that slipped into the page would have run."""
    write_graph(KnowledgeGraph(entities=[Entity(id="a", name="a")]), tmp_path)
    html = write_view(tmp_path).read_text(encoding="utf-8")
    policy = page_policy(html)
    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)  # the executable ones (not the data)
    assert len(scripts) == 5
    expected = {
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'" for s in scripts
    }
    assert set(policy["script-src"]) == expected
    assert policy["default-src"] == ["'none'"]
    assert policy["worker-src"] == ["blob:"]
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]


def test_report_numbers_equal_the_run_artifacts(scripted_run: Path) -> None:
    report = run_report(load_run(scripted_run))
    manifest = json.loads((scripted_run / "manifest.json").read_text(encoding="utf-8"))
    graph = read_graph(scripted_run)
    assert report.headline == {
        "documents": 3,
        "chunks": 3,
        "seeds": 2,
        "candidates": manifest["stages"]["extraction"]["counts"]["candidates"],
        "entities": len(graph.entities),
        "relations": len(graph.relations),
        "inferred relations": 1,
        "merges": 1,  # 'Machine translation' is written as d1 writes it: no case merge
        "conflicts": 1,
    }
    assert report.headline["candidates"] == 5
    assert report.dropped == {"unknown relation": 1}
    assert [(s.name, s.counts) for s in report.stages] == [
        (name, rec["counts"]) for name, rec in manifest["stages"].items()
    ]
    assert report.relation_types == [("Evaluate-for", 2, 0), ("Part-of", 1, 1), ("Hyponym-Of", 1, 0)]
    assert report.degree_histogram == [("1", 0), ("2", 2), ("3", 2)]
    assert [(e["name"], e["degree"]) for e in report.top_entities[:2]] == [
        ("Neural machine translation", 3),
        ("machine translation", 3),
    ]
    assert report.merges_by_reason == {"definition": 1}
    assert report.merge_examples["definition"] == [
        {
            "alias": "NMT",
            "canonical": "Neural machine translation",
            "score": 1.0,
            "extra": {
                "via": "Neural machine translation",
                "generator": "definition",
                "scores": {"definition": 1.0},
            },
        }
    ]
    assert report.not_merged_counts == {}  # this run's fusion considered no pair it did not merge
    assert report.llm_total["requests"] == 5  # 2 extraction + 3 fusion, as the scripted server counted
    assert report.evaluation is None


def test_report_lists_the_name_pairs_fusion_did_not_merge(scripted_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(scripted_run, run)
    pairs = [
        PairDecision(
            a="BLEU",
            b="BLEURT",
            generator="ngram",
            decision="reject",
            band="veto",
            reason="string veto",
            scores={"string": 0.8},
        ),
        PairDecision(
            a="encoder", b="decoder", generator="ngram", decision="reject", band="veto", reason="string veto"
        ),
        PairDecision(
            a="NMT",
            b="SMT",
            generator="acronym",
            decision="undecided",
            band="llm",
            reason="the LLM rounds disagreed",
        ),
    ]
    RunDir(run).write(REJECTED_PAIRS, pairs)
    report = run_report(load_run(run))
    assert report.not_merged_counts == {"reject: string veto": 2, "undecided: the LLM rounds disagreed": 1}
    assert report.not_merged["reject: string veto"] == [
        {"a": "BLEU", "b": "BLEURT", "scores": {"string": 0.8}},
        {"a": "encoder", "b": "decoder", "scores": {}},
    ]
    assert re.search(r'data-not-merged="reject: string veto">2<', report_html(report))


def test_report_page_shows_the_same_numbers(scripted_run: Path, tmp_path: Path) -> None:
    html = write_report(scripted_run, tmp_path / "r.html").read_text(encoding="utf-8")
    cards = dict(re.findall(r'data-count="([^"]+)">([\d,]+)<', html))
    assert cards == {
        "documents": "3",
        "chunks": "3",
        "seeds": "2",
        "candidates": "5",
        "entities": "4",
        "relations": "5",
        "inferred relations": "1",
        "merges": "1",
        "conflicts": "1",
    }
    assert re.search(r'data-llm="extraction.requests">2<', html)
    assert re.search(r'data-llm="fusion.requests">3<', html)
    assert html.count("<svg") == 4  # relation types, degrees, seconds, memory
    assert "<script" not in html


def test_report_shows_eval_figures_and_survives_a_damaged_eval_file(
    scripted_run: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    shutil.copytree(scripted_run, run)
    evaluation = {
        "run_dir": "runs/x",
        "triplets": {
            "gold_lines": 7,
            "levels": {
                "strict": {"true_positives": 1, "predicted": 4, "precision": 0.25, "recall": None, "f1": None}
            },
            "missed": ["a", "b"],
        },
    }
    (run / "eval.json").write_text(json.dumps(evaluation), encoding="utf-8")
    report = run_report(load_run(run))
    assert report.evaluation is not None
    assert report.evaluation.scores == [
        ("triplets.levels.strict", ["0.25", "n/a", "n/a"], "true positives 1, predicted 4")
    ]
    assert report.evaluation.sections == {
        "run": [("run_dir", "runs/x")],
        "triplets": [("triplets.gold_lines", "7"), ("triplets.missed", "2 items")],
    }
    html = report_html(report)
    assert re.search(r'data-eval="triplets.levels.strict.precision">0.25<', html)
    (run / "eval.json").write_text("{not json", encoding="utf-8")
    damaged = run_report(load_run(run))
    assert damaged.evaluation is None
    assert len(damaged.notes) == 1 and damaged.notes[0].startswith("could not read eval.json")


def test_a_run_without_a_graph_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"no graph at .*graph.json: run `kgc build`"):
        write_view(tmp_path)
    with pytest.raises(ExportError, match="no run directory at"):
        write_report(tmp_path / "missing")


def test_build_writes_both_pages_and_prints_their_paths(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path)
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("machine translation\nBLEU\n", encoding="utf-8")
    with ScriptedServer(rules=RULES) as server:
        config = tmp_path / "kgc.toml"
        config.write_text(
            f'[llm]\nbackend = "openai"\nbase_url = "{server.base_url}"\nmodel = "scripted"\n'
            "[seeds]\nuser_seeds_only = true\n[resolve]\nembedding_merge = false\n",
            encoding="utf-8",
        )
        run = tmp_path / "run"
        result = runner.invoke(
            app, ["build", str(corpus), "--out", str(run), "-c", str(config), "--seeds-file", str(seeds)]
        )
    assert result.exit_code == 0, result.output
    assert f"view: {run / 'graph.html'}" in result.output
    assert f"report: {run / 'report.html'}" in result.output
    assert [n["id"] for n in embedded_json((run / "graph.html").read_text(encoding="utf-8"))["nodes"]] == [
        "bleu",
        "encoder",
        "machine-translation",
        "neural-machine-translation",
    ]
    assert 'href="graph.html"' in (run / "report.html").read_text(encoding="utf-8")


def test_view_and_report_commands_write_where_asked(scripted_run: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["view", str(scripted_run), "--out", str(tmp_path / "v.html")])
    assert result.exit_code == 0, result.output
    edges = embedded_json((tmp_path / "v.html").read_text(encoding="utf-8"))["edges"]
    assert {e["relation"]: e["directed"] for e in edges} == {
        "Evaluate-for": True,
        "Part-of": True,
        "Hyponym-Of": True,
    }
    result = runner.invoke(app, ["report", str(scripted_run), "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!doctype html>")
    missing = runner.invoke(app, ["report", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1
    assert "no run directory at" in missing.output
    assert "Traceback" not in missing.output


def test_bar_chart_scales_bars_to_the_largest_and_escapes_labels() -> None:
    svg = str(bar_chart([("a<b", 10), ("c", 5), ("none", 0)], title="t & u", unit=" s"))
    assert re.findall(r'<rect [^>]*width="([\d.]+)"', svg) == ["320.0", "160.0", "0.0"]
    assert "t &amp; u" in svg
    assert [t for t in re.findall(r">([^<>]+)</text>", svg)] == ["a&lt;b", "10 s", "c", "5 s", "none", "0 s"]
