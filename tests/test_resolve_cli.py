"""`kgc resolve`, `kgc explain`, and the LLM band through the real LLM client (in-process scripted backend)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kgc.cli import app
from kgc.config import FusionConfig, LimitsConfig, LLMConfig, ResolveConfig
from kgc.export.graph_files import write_graph
from kgc.llm.client import LLMClient
from kgc.models import Candidate, Provenance
from kgc.resolve import llm_judge, resolve_names
from kgc.resources import prompts_dir
from kgc.rundir import RunDir
from kgc.schema import RelationSchema
from kgc.stages.fusion import fuse
from kgc.stages.fusion.stage import write_explanations
from kgc.testing.scripted_backend import NO_WAIT, ScriptedBackend

runner = CliRunner()


def test_resolve_command_writes_one_line_per_input_name(tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    names.write_text(
        "NMT\t3\nneural machine translation\t5\n\nNeural Machine Translations\nGPT-4\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["resolve", str(names), "--out", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(x["name"], x["entity"], x["reason"], x["score"]) for x in lines] == [
        ("NMT", "neural-machine-translation", "acronym", 0.95),
        ("neural machine translation", "neural-machine-translation", "canonical", 1.0),
        ("Neural Machine Translations", "neural-machine-translation", "normalised", 1.0),
        ("GPT-4", "gpt-4", "canonical", 1.0),
    ]


def test_resolve_command_reads_jsonl_with_documents(tmp_path: Path) -> None:
    rows = [
        {"name": "language model", "doc": "d1"},
        {"name": "linear model", "doc": "d2"},
        {"name": "LM", "doc": "d1"},
        {"name": "LM", "doc": "d2", "context": "an LM fitted by least squares"},
    ]
    names = tmp_path / "names.jsonl"
    names.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = runner.invoke(app, ["resolve", str(names), "--out", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(x["name"], x["doc"], x["entity"], x["reason"]) for x in lines] == [
        ("language model", "d1", "language-model", "canonical"),
        ("linear model", "d2", "linear-model", "canonical"),
        ("LM", "d1", "language-model", "acronym"),
        ("LM", "d2", "linear-model", "acronym"),
    ]


def test_resolve_command_reports_bad_input_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("NMT\tmany\n", encoding="utf-8")
    result = runner.invoke(app, ["resolve", str(bad), "--out", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 1
    assert "bad.txt:1: the count after the tab is not a whole number: 'many'" in result.output
    assert "Traceback" not in result.output


def cand(head: str, rel: str, tail: str, doc: str, evidence: str | None = None) -> Candidate:
    return Candidate(
        head=head,
        relation=rel,
        tail=tail,
        provenance=[Provenance(doc_id=doc, chunk_id=f"{doc}#0", evidence=evidence)],
    )


def test_explain_shows_aliases_kept_apart_pairs_and_relations(tmp_path: Path) -> None:
    candidates = [
        cand("NMT", "Used-for", "BLEU", "d1"),
        cand("neural machine translation", "Used-for", "BLEU", "d2"),
        cand("BLEU", "Used-for", "neural machine translation", "d3"),
        cand("neural machine translation system", "Compare", "BLEU", "d4"),
    ]
    cfg = FusionConfig(resolve_with_llm=False, infer_links=False)
    resolution = ResolveConfig(embedding_merge=False, llm_band=False)
    result = fuse(candidates, RelationSchema(), cfg, resolution, llm=None, prompts_dir=prompts_dir())
    write_graph(result.graph, tmp_path)
    write_explanations(result, RunDir(tmp_path))
    out = runner.invoke(app, ["explain", str(tmp_path), "nmt"])
    assert out.exit_code == 0, out.output
    assert out.output.splitlines() == [
        "neural machine translation  (id neural-machine-translation, 3 documents)",
        "  shown as 'neural machine translation': the most used full form, 2 of 3 mentions",
        "  weakest link: 0.95 between 'NMT' and 'neural machine translation'",
        "aliases (1):",
        "  'NMT': acronym 0.95 via 'neural machine translation' (acronym 0.95)",
        "kept apart (1):",
        "  'neural machine translation' / 'neural machine translation system': undecided, near-homonym [ngram; string 0.8814]",
        "relations (1):",
        "  neural machine translation --Used-for--> BLEU  (support, support 3, confidence 0.875; sources d1, d2; reversed in d3)",
    ]
    missing = runner.invoke(app, ["explain", str(tmp_path), "neural machine trans"])
    assert missing.exit_code == 1
    assert missing.output == (
        "error: no entity named 'neural machine trans' in this run; closest: "
        "'neural machine translation system', 'neural machine translation', 'BLEU'\n"
    )


def test_llm_band_through_the_client_merges_only_when_both_rounds_agree() -> None:
    backend = ScriptedBackend()
    backend.queue(
        {"answers": [{"pair": 1, "same": True}, {"pair": 2, "same": True}]},  # round 1
        {"answers": [{"pair": 1, "same": False}, {"pair": 2, "same": True}]},  # round 2, pairs reversed
    )
    cfg = LLMConfig(cache=False, limits=LimitsConfig(concurrency=1))
    client = LLMClient(
        backend, cfg, cache_path=None, failures_path=None, retry_policy=NO_WAIT, show_progress=False
    )
    judge = llm_judge(client.for_stage("fusion"), prompts_dir(), "resolve.md")
    from kgc.resolve import NameRecord

    names = [
        NameRecord("dependency parsing", context=("We improve dependency parsing of German.",)),
        NameRecord("dependency parser"),
        NameRecord("named entity recognition"),
        NameRecord("named entity recognizer"),
    ]
    r = resolve_names(names, judge=judge)
    assert [m.alias for m in r.merges if m.reason == "llm"] == ["dependency parser"]
    assert [(p.a, p.b, p.votes) for p in r.rejected if p.decision == "undecided"] == [
        ("named entity recognition", "named entity recognizer", [True, False])
    ]
    first, second = (m[-1]["content"] for m in backend.requests)
    assert (
        '1. "dependency parsing" (context: We improve dependency parsing of German.) | "dependency parser"'
        in first
    )
    assert '1. "named entity recognizer" | "named entity recognition"' in second
    assert client.usage("fusion").requests == 2
