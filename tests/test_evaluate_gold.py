"""Gold file readers (every format, every refusal names the file and line) and `evaluate_run`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kgc.artifacts import CANDIDATES, CHUNKS
from kgc.errors import EvaluationError
from kgc.evaluate import (
    EVAL_FILE,
    EvalReport,
    evaluate_run,
    read_alias_groups,
    read_labelled_pairs,
    read_triplets,
)
from kgc.evaluate.report import render
from kgc.export.graph_files import write_graph
from kgc.models import Candidate, Chunk, Entity, KnowledgeGraph, Provenance, Relation
from kgc.resources import demo_dir
from kgc.rundir import RunDir


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_reads_the_demo_gold_tsv_with_its_header_and_extra_column() -> None:
    gold = read_triplets(demo_dir() / "gold_triplets.tsv")
    assert len(gold) == 100
    first = gold[0]
    assert (first.head, first.relation, first.tail) == (
        "tokenization",
        "Is-a-Prerequisite-of",
        "part-of-speech tagging",
    )
    assert first.where.endswith("gold_triplets.tsv:2")


def test_reads_tsv_jsonl_and_python_tuples_alike(tmp_path: Path) -> None:
    expected = [("NMT", "Hyponym-Of", "machine translation"), ("BLEU", "Evaluate-for", "NMT")]
    tsv = write(
        tmp_path, "g.tsv", "# a comment\nNMT\tHyponym-Of\tmachine translation\n\nBLEU\tevaluate for\tNMT\n"
    )
    jsonl = write(
        tmp_path,
        "g.jsonl",
        '{"head": "NMT", "relation": "Hyponym-Of", "tail": "machine translation"}\n'
        '{"head": "BLEU", "relation": "EVALUATE_FOR", "tail": "NMT", "doc": "d1"}\n',
    )
    tuples = write(
        tmp_path, "g.txt", "('NMT', 'Hyponym-Of', 'machine translation')\n(\"BLEU\", 'Evaluate-for', 'NMT')\n"
    )
    for path in (tsv, jsonl, tuples):
        assert [(g.head, g.relation, g.tail) for g in read_triplets(path)] == expected, path


@pytest.mark.parametrize(
    ("name", "text", "line", "message"),
    [
        (
            "g.tsv",
            "a\tUsed-for\tb\na\tUsed-for\n",
            2,
            "expected head<TAB>relation<TAB>tail, got 2 tab-separated field(s)",
        ),
        (
            "g.tsv",
            "a\tUsed-for\tb\n\n# note\na\tCauses\tb\n",
            4,
            "unknown relation 'Causes'; the schema has: Compare",
        ),
        ("g.tsv", "a\tUsed-for\t \n", 1, "tail must be a non-empty string"),
        (
            "g.jsonl",
            '{"head": "a", "relation": "Used-for", "tail": "b"}\n{"head": "a", "relation": \n',
            2,
            "not valid JSON",
        ),
        (
            "g.jsonl",
            '{"head": "a", "relation": "Used-for", "tail": "b"}\n{"head": "a", "tail": "b"}\n',
            2,
            "relation must be a non-empty string, got None",
        ),
        (
            "g.txt",
            "('a', 'Used-for', 'b')\n('a', 'Used-for')\n",
            2,
            "expected a tuple ('head', 'relation', 'tail')",
        ),
        (
            "g.txt",
            "('a', 'Used-for', 'b')\n__import__('os').system('true')\n",
            2,
            "not a Python tuple literal (ValueError)",
        ),
        ("g.txt", "('a', 'Used-for', 'b')\n('a', 'Used-for', f(x))\n", 2, "not a Python tuple literal"),
    ],
)
def test_malformed_gold_is_refused_naming_file_and_line(
    tmp_path: Path, name: str, text: str, line: int, message: str
) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(EvaluationError, match=re.escape(f"{path}:{line}: {message}")):
        read_triplets(path)


def test_empty_or_missing_gold_is_refused(tmp_path: Path) -> None:
    empty = write(tmp_path, "g.tsv", "# only a comment\n\n")
    with pytest.raises(EvaluationError, match=re.escape(f"{empty}: no triplets found")):
        read_triplets(empty)
    with pytest.raises(EvaluationError, match=re.escape(f"cannot read {tmp_path / 'nope.tsv'}")):
        read_triplets(tmp_path / "nope.tsv")
    binary = tmp_path / "g.bin"
    binary.write_bytes(b"\xff\xfe\x00a")
    with pytest.raises(EvaluationError, match="is not UTF-8 text"):
        read_triplets(binary)


def test_alias_groups_jsonl_and_tsv(tmp_path: Path) -> None:
    jsonl = write(tmp_path, "a.jsonl", '["NMT", "neural machine translation"]\n{"names": ["BLEU"]}\n')
    tsv = write(tmp_path, "a.tsv", "NMT\tneural machine translation\nBLEU\n")
    assert (
        read_alias_groups(jsonl)
        == read_alias_groups(tsv)
        == [["NMT", "neural machine translation"], ["BLEU"]]
    )
    twice = write(tmp_path, "b.tsv", "NMT\tneural machine translation\nnmt\tBLEU\n")
    with pytest.raises(
        EvaluationError, match=re.escape(f"{twice}:2: 'nmt' is already in the group on line 1")
    ):
        read_alias_groups(twice)
    bad = write(tmp_path, "c.jsonl", '["a"]\n{"aliases": "b"}\n')
    with pytest.raises(EvaluationError, match=re.escape(f"{bad}:2: expected a JSON array of names")):
        read_alias_groups(bad)


def test_labelled_pairs_three_and_four_columns_header_and_jsonl(tmp_path: Path) -> None:
    three = write(tmp_path, "p.tsv", "syntax\tparsing\t1\nparsing\tsyntax\tno\n")
    four = write(
        tmp_path, "q.tsv", "head\trelation\ttail\tlabel\nsyntax\tIs-a-Prerequisite-of\tparsing\ttrue\n"
    )
    jsonl = write(
        tmp_path, "p.jsonl", '{"head": "syntax", "tail": "parsing", "label": 1, "relation": "Compare"}\n'
    )
    assert [(p.head, p.tail, p.label, p.relation) for p in read_labelled_pairs(three)] == [
        ("syntax", "parsing", True, None),
        ("parsing", "syntax", False, None),
    ]
    assert [(p.head, p.relation, p.label) for p in read_labelled_pairs(four)] == [
        ("syntax", "Is-a-Prerequisite-of", True)
    ]
    assert read_labelled_pairs(jsonl)[0].relation == "Compare"
    bad_label = write(tmp_path, "r.tsv", "a\tb\t1\na\tb\tmaybe\n")
    with pytest.raises(
        EvaluationError, match=re.escape(f"{bad_label}:2: label must be 1/0, true/false or yes/no")
    ):
        read_labelled_pairs(bad_label)
    short = write(tmp_path, "s.tsv", "a\tb\n")
    with pytest.raises(EvaluationError, match=re.escape(f"{short}:1: expected head<TAB>tail<TAB>label")):
        read_labelled_pairs(short)


def make_run(tmp_path: Path) -> Path:
    """A run directory as fusion leaves it, with two extracted relations."""
    run = tmp_path / "run"
    graph = KnowledgeGraph(
        entities=[
            Entity(id="syntax", name="syntax"),
            Entity(id="parsing", name="parsing", aliases=["parsers"]),
            Entity(id="semantics", name="semantics"),
        ],
        relations=[
            Relation(
                head="syntax", relation="Is-a-Prerequisite-of", tail="parsing", support=1, sources=["d1"]
            ),
            Relation(head="semantics", relation="Compare", tail="syntax", support=1, sources=["d1"]),
        ],
    )
    write_graph(graph, run)
    RunDir(run).write(
        CHUNKS,
        [Chunk(id="d1#0", doc_id="d1", text="Syntax comes before parsers.", start=0, end=28)],
    )
    prov = [Provenance(doc_id="d1", chunk_id="d1#0", evidence="Syntax comes before parsers.")]
    RunDir(run).write(
        CANDIDATES,
        [
            Candidate(head="syntax", relation="Is-a-Prerequisite-of", tail="parsers", provenance=prov),
            Candidate(head="semantics", relation="Compare", tail="syntax", provenance=prov),
        ],
    )
    (run / "extraction_report.json").write_text(
        json.dumps({"dropped": {"unknown relation": 2}, "failed_tasks": []})
    )
    return run


def test_evaluate_run_writes_eval_json_and_applies_the_background_guard(tmp_path: Path) -> None:
    background = write(tmp_path, "bg.tsv", "syntax\tIs-a-Prerequisite-of\tparsing\n")
    run = make_run(tmp_path)
    gold = write(tmp_path, "gold.tsv", "syntax\tIs-a-Prerequisite-of\tparsing\nsemantics\tCompare\tsyntax\n")
    pairs = write(tmp_path, "pairs.tsv", "syntax\tparsing\t1\nsemantics\tparsing\t0\n")
    report = evaluate_run(run, gold=gold, pairs=pairs, background=background)
    assert report.triplets is not None and report.triplets.levels["strict"].f1 == 1.0
    assert report.conformance is not None
    assert (report.conformance.candidates_kept, report.conformance.dropped_share) == (2, 0.5)
    assert report.grounding is not None
    # 'semantics' is not in the chunk: one relation of two grounded.
    assert (report.grounding.relations_grounded, report.grounding.relations_checked) == (1, 2)
    assert report.links is not None and report.links.background_graph == str(background)
    assert (report.links.in_background, report.links.scores.true_negatives) == (1, 1)
    saved = EvalReport.model_validate_json((run / EVAL_FILE).read_text(encoding="utf-8"))
    assert saved == report
    text = _text(report)
    assert "1 pairs are joined in the background graph" in text
    assert "strict" in text and "pairs (relaxed names)" in text


def test_evaluate_run_without_gold_or_pipeline_artifacts(tmp_path: Path) -> None:
    run = tmp_path / "bare"
    write_graph(KnowledgeGraph(entities=[Entity(id="a", name="a")]), run)
    report = evaluate_run(run, write=False)
    assert (report.health.entities, report.health.isolated_entities) == (1, 1)
    assert report.conformance is None and report.grounding is None and report.triplets is None
    assert not (run / EVAL_FILE).exists()
    with pytest.raises(EvaluationError, match="no run directory at"):
        evaluate_run(tmp_path / "missing")


def _text(report: EvalReport) -> str:
    from rich.console import Console

    console = Console(record=True, width=200)
    console.print(render(report))
    return console.export_text()


def test_link_prediction_refused_when_the_run_used_an_unnamed_background(tmp_path: Path) -> None:
    run = tmp_path / "run"
    graph = KnowledgeGraph(
        entities=[Entity(id="a", name="a"), Entity(id="b", name="b")],
        relations=[Relation(head="a", relation="Used-for", tail="b", decided_by="background")],
    )
    write_graph(graph, run)
    pairs = write(tmp_path, "pairs.tsv", "a\tb\t1\n")
    with pytest.raises(
        EvaluationError, match=r"fused with a background graph \(1 relation\(s\) decided by it\): pass it"
    ):
        evaluate_run(run, pairs=pairs)


def test_evaluate_a_run_the_pipeline_wrote(tmp_path: Path) -> None:
    """The artifacts as the stages really write them (in-process pipeline, scripted answers)."""
    from kgc.config import load_config
    from kgc.pipeline import Pipeline
    from kgc.testing import ScriptedBackend, scripted_factory

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "d1.txt").write_text("BLEU is a metric used to evaluate machine translation.", encoding="utf-8")
    (corpus / "d2.txt").write_text("Neural machine translation (NMT) relies on an encoder.", encoding="utf-8")

    def t(head: str, rel: str, tail: str, evidence: str) -> dict[str, str]:
        return {"head": head, "relation": rel, "tail": tail, "evidence": evidence}

    backend = ScriptedBackend(
        [
            {
                "triplets": [
                    t("BLEU", "Evaluate-for", "machine translation", "used to evaluate machine translation"),
                    t("BLEU", "Causes", "machine translation", ""),  # not in the schema: dropped
                ]
            },
            {
                "triplets": [
                    t("NMT", "Hyponym-Of", "machine translation", "NMT is a kind of machine translation"),
                    t("encoder", "Part-of", "neural machine translation", "relies on an encoder"),
                ]
            },
        ]
    )
    cfg = load_config(
        None,
        {
            "llm.backend": "openai",
            "llm.model": "scripted",
            "llm.limits.concurrency": 1,  # the two answers go to d1 and d2 in order
            "extraction.mode": "document",
            "resolve.embedding_merge": False,
            "fusion.resolve_with_llm": False,
            "fusion.infer_links": False,
        },
    )
    run = tmp_path / "run"
    Pipeline(cfg, run, corpus=corpus, llm_factory=scripted_factory(backend, cfg.llm)).run_until("fusion")
    gold = write(
        tmp_path,
        "gold.tsv",
        "BLEU\tEvaluate-for\tmachine translation\n"
        "neural machine translation\tHyponym-Of\tmachine translation\n"
        "NMT\tHyponym-Of\tmachine translation\n"  # the same edge through an alias: counted once
        "machine translation\tPart-of\tencoder\n",  # not this direction
    )
    report = evaluate_run(run, gold=gold, schema=cfg.relations)
    assert (report.health.entities, report.health.relations, report.health.problems) == (4, 3, [])
    assert report.conformance is not None
    assert (report.conformance.candidates_kept, report.conformance.dropped) == (3, {"unknown relation": 1})
    assert report.conformance.dropped_share == 0.25
    assert report.grounding is not None
    assert (report.grounding.relations_grounded, report.grounding.relations_checked) == (3, 3)
    # the evidence is the passage's sentence, not the model's paraphrase: always grounded
    assert (report.grounding.evidence_grounded, report.grounding.evidence_checked) == (3, 3)
    assert report.grounding.ungrounded_evidence == []
    assert report.triplets is not None
    strict = report.triplets.levels["strict"]
    assert (strict.true_positives, strict.predicted, strict.gold) == (2, 3, 3)


def test_a_corrupt_run_artifact_is_named(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    (run / "candidates.jsonl").write_text('{"head": "a"}\n', encoding="utf-8")
    with pytest.raises(EvaluationError, match=re.escape(f"cannot read {run / 'candidates.jsonl'}: ")):
        evaluate_run(run)
