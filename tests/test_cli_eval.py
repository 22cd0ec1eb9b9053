"""`kgc eval` in-process: the report on stdout, eval.json and --json written, bad gold one line and exit 1."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from kgc.cli import app
from kgc.evaluate import EVAL_FILE, EvalReport
from tests.test_evaluate_gold import make_run, write

runner = CliRunner()


def test_eval_prints_the_report_and_writes_json(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    gold = write(tmp_path, "gold.tsv", "head\trelation\ttail\nsyntax\tIs-a-Prerequisite-of\tparsers\n")
    out = tmp_path / "report.json"
    result = runner.invoke(app, ["eval", str(run), "--gold", str(gold), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "Graph health" in result.output and "Triplets against" in result.output
    assert f"wrote {run / EVAL_FILE} and {out}" in result.output
    report = EvalReport.model_validate_json(out.read_text(encoding="utf-8"))
    assert report.triplets is not None
    strict = report.triplets.levels["strict"]  # 'parsers' is an alias of the entity 'parsing'
    assert (strict.true_positives, strict.precision, strict.recall) == (1, 0.5, 1.0)
    assert (run / EVAL_FILE).read_text(encoding="utf-8") == out.read_text(encoding="utf-8")


def test_eval_takes_the_background_graph_from_the_config(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    write(tmp_path, "bg.tsv", "syntax\tIs-a-Prerequisite-of\tparsing\n")
    config = write(tmp_path, "kgc.toml", f'[fusion]\nbackground_graph = "{tmp_path / "bg.tsv"}"\n')
    pairs = write(tmp_path, "pairs.tsv", "syntax\tparsing\t1\nsemantics\tparsing\t0\n")
    result = runner.invoke(app, ["eval", str(run), "--pairs", str(pairs), "--config", str(config)])
    assert result.exit_code == 0, result.output
    report = EvalReport.model_validate_json((run / EVAL_FILE).read_text(encoding="utf-8"))
    assert report.links is not None
    assert (report.links.background_graph, report.links.in_background) == (str(tmp_path / "bg.tsv"), 1)


def test_eval_with_a_malformed_gold_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    gold = write(tmp_path, "gold.tsv", "syntax\tIs-a-Prerequisite-of\tparsing\nsyntax\tparsing\n")
    result = runner.invoke(app, ["eval", str(run), "--gold", str(gold)])
    assert result.exit_code == 1
    assert f"error: {gold}:2: expected head<TAB>relation<TAB>tail, got 2 tab-separated field(s)" in " ".join(
        result.output.split()
    )
    assert "Traceback" not in result.output
    assert not (run / EVAL_FILE).exists()
