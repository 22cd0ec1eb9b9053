"""`kgc` against a server that hangs, fails or cuts answers, and against hostile corpora: the run stops
or ends incomplete with a clear message and exit code, never looks complete, and resumes.

In-process through the typer app, with the scripted server on a real socket (fast tier: user seeds,
no embedding model)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from kgc.cli import app
from kgc.cli.common import EXIT_INCOMPLETE, setup_logging
from kgc.testing.replies import Rule
from kgc.testing.scripted_server import ScriptedServer

runner = CliRunner()


def write_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "d1.txt").write_text("BLEU is a metric used to evaluate machine translation.", encoding="utf-8")
    (corpus / "d2.txt").write_text(
        "Neural machine translation (NMT) is a kind of machine translation. NMT relies on an encoder "
        "and BLEU evaluates it.",
        encoding="utf-8",
    )
    return corpus


def write_config(tmp_path: Path, server: ScriptedServer, **llm: Any) -> Path:
    settings = {"timeout": 5.0, "max_retries": 2, "max_invalid_retries": 0, "circuit_breaker_failures": 3}
    settings.update(llm)
    lines = [f"{k} = {json.dumps(v)}" for k, v in settings.items()]
    config = tmp_path / "kgc.toml"
    config.write_text(
        f'[llm]\nbackend = "openai"\nbase_url = "{server.base_url}"\nmodel = "scripted"\n'
        + "\n".join(lines)
        + '\n[seeds]\nuser_seeds = ["machine translation", "BLEU", "encoder"]\nuser_seeds_only = true\n'
        "[fusion]\nembedding_merge = false\n",
        encoding="utf-8",
    )
    return config


def build(tmp_path: Path, config: Path, *extra: str) -> Result:
    return runner.invoke(
        app, ["build", str(tmp_path / "corpus"), "--out", str(tmp_path / "run"), "-c", str(config), *extra]
    )


def stages(tmp_path: Path) -> dict[str, dict[str, Any]]:
    loaded: dict[str, dict[str, Any]] = json.loads((tmp_path / "run" / "manifest.json").read_text())["stages"]
    return loaded


def test_a_hung_server_stops_the_build_with_the_breakers_message_and_a_rerun_finishes(
    tmp_path: Path,
) -> None:
    write_corpus(tmp_path)
    with ScriptedServer(hang=True) as server:
        config = write_config(tmp_path, server, timeout=0.5, max_retries=10)
        result = build(tmp_path, config)
        assert result.exit_code == 1, result.output
        # 1e99dfd: every seed tried 11 times (0.5 s each), then exit 0 with an empty graph.
        sent = server.stats.timestamps
        assert len(sent) <= 2 + 2  # the second timeout opens the breaker; requests already waiting go out
        assert sent[-1] - sent[0] < 3
        assert "is down, hung or failing (2 requests failed and none succeeded in" in result.output
        assert "request timed out" in result.output
        assert "start the same command again once the server is up" in result.output
        assert "Traceback" not in result.output
        assert list(stages(tmp_path)) == ["corpus", "seeds", "retrieval"]  # extraction not recorded

        server.hang = False
        server.reset_stats()
        again = build(tmp_path, config)
        assert again.exit_code == 0, again.output
        assert {s["status"] for s in stages(tmp_path).values()} == {"done"}
        assert server.stats.by_task["extraction"] == 3


def test_a_5xx_storm_stops_the_build(tmp_path: Path) -> None:
    write_corpus(tmp_path)
    with ScriptedServer() as server:
        server.add_faults([{"status": 502}] * 100)
        result = build(tmp_path, write_config(tmp_path, server, max_retries=10, concurrency=1))
        assert result.exit_code == 1, result.output
        assert "is down, hung or failing (3 of the last 3 requests failed" in result.output
        assert "HTTP 502" in result.output
        assert server.stats.total == 3


def test_failed_fusion_calls_exit_3_and_the_same_command_retries_only_those(tmp_path: Path) -> None:
    write_corpus(tmp_path)
    with ScriptedServer(rules=[{"task": "fusion", "raw": "not json at all"}]) as server:
        config = write_config(tmp_path, server)
        result = build(tmp_path, config)
        fusion_calls = server.stats.by_task["fusion"]
        assert fusion_calls > 0
        assert result.exit_code == EXIT_INCOMPLETE == 3, result.output
        assert (
            f"incomplete: {fusion_calls} failed item{'s' if fusion_calls > 1 else ''} in fusion; run the same "
            "command again to retry only those (exit code 3)"
        ) in " ".join(result.output.split())
        record = stages(tmp_path)["fusion"]
        assert (record["status"], record["failed"]) == ("partial", fusion_calls)
        shown = runner.invoke(app, ["summary", str(tmp_path / "run")])
        assert f"partial ({fusion_calls} failed)" in shown.output

        server.set_rules([])
        server.reset_stats()
        again = build(tmp_path, config)
        assert again.exit_code == 0, again.output
        assert server.stats.by_task == {"fusion": fusion_calls}  # extraction answers came from the cache
        assert (stages(tmp_path)["fusion"]["status"], stages(tmp_path)["fusion"]["failed"]) == ("done", 0)


def test_failed_name_pair_calls_of_fusion_make_it_partial_too(tmp_path: Path) -> None:
    """Fusion asks the LLM about pairs of names it cannot tell apart (the band) besides neighbourhoods."""
    corpus = write_corpus(tmp_path)
    (corpus / "d3.txt").write_text(  # the names of the scripted answer, so they are in the text
        "Dependency parsing helps machine translation; a dependency parser is part of the encoder.",
        encoding="utf-8",
    )
    names = {
        "triplets": [
            {"head": "dependency parsing", "relation": "Used-for", "tail": "machine translation"},
            {"head": "dependency parser", "relation": "Part-of", "tail": "encoder"},
        ]
    }
    rules: list[Rule] = [
        {"task": "extraction", "contains": "## Seed\nmachine translation", "reply": names},
        {"task": "resolve", "raw": "not json at all"},
    ]
    with ScriptedServer(rules=rules) as server:
        config = write_config(tmp_path, server)
        result = build(tmp_path, config)
        band_calls = server.stats.by_task["resolve"]
        assert band_calls > 0
        assert result.exit_code == EXIT_INCOMPLETE, result.output
        record = stages(tmp_path)["fusion"]
        assert (record["status"], record["failed"]) == ("partial", band_calls)

        same = {"answers": [{"pair": 1, "same": True}]}
        server.set_rules([rules[0], {"task": "resolve", "reply": same}])
        server.reset_stats()
        again = build(tmp_path, config)
        assert again.exit_code == 0, again.output
        assert server.stats.by_task["resolve"] == band_calls  # the failed ones asked again
        assert stages(tmp_path)["fusion"]["status"] == "done"
    merges = [json.loads(line) for line in (tmp_path / "run" / "merges.jsonl").read_text().splitlines()]
    assert [(m["alias"], m["reason"]) for m in merges if m["reason"] == "llm"] == [
        ("dependency parser", "llm")
    ]


def test_answers_cut_off_never_reach_the_graph_and_the_build_exits_3(tmp_path: Path) -> None:
    write_corpus(tmp_path)
    # 1e99dfd closed the brackets: a valid triplet whose tail is "machine transl" reached the graph.
    cut = '{"triplets": [{"head": "BLEU", "relation": "Evaluate-for", "tail": "machine transl'
    with ScriptedServer(rules=[{"task": "extraction", "raw": cut}]) as server:
        result = build(tmp_path, write_config(tmp_path, server))
        assert result.exit_code == EXIT_INCOMPLETE, result.output
        assert (stages(tmp_path)["extraction"]["status"], stages(tmp_path)["extraction"]["failed"]) == (
            "partial",
            3,
        )
        # Cut short while the server said "stop": invalid answers, and max_invalid_retries is 0 here.
        assert server.stats.by_task["extraction"] == 3
    graph = json.loads((tmp_path / "run" / "graph.json").read_text())
    assert graph["entities"] == []
    failures = [
        json.loads(line) for line in (tmp_path / "run" / "llm_failures.jsonl").read_text().splitlines()
    ]
    assert {f["reason"] for f in failures} == {"invalid"}


def test_the_deadline_stops_the_build_cleanly_and_a_rerun_resumes(tmp_path: Path) -> None:
    write_corpus(tmp_path)
    with ScriptedServer(latency=0.5) as server:
        config = write_config(tmp_path, server, concurrency=1)
        result = build(tmp_path, config, "--deadline", "1")
        assert result.exit_code == 1, result.output
        assert "the run's deadline has passed: llm.budget.deadline_seconds=1" in result.output
        assert "run the same command again to resume" in result.output
        answered = server.stats.by_task.get("extraction", 0)  # none when a loaded machine took 1 s to start
        assert answered < 3
        assert "extraction" not in stages(tmp_path)

        server.reset_stats()
        again = build(tmp_path, config)
        assert again.exit_code == 0, again.output
        assert server.stats.by_task["extraction"] == 3 - answered


# -- hostile corpora ---------------------------------------------------------------------------------------


def test_a_corpus_folder_with_a_file_name_that_is_not_utf8_builds_and_reports_it(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path)
    (corpus / os.fsdecode(b"caf\xe9.txt")).write_text("Latin-1 name.", encoding="utf-8")
    with ScriptedServer() as server:
        result = build(tmp_path, write_config(tmp_path, server))
    assert result.exit_code == 0, result.output
    skipped = json.loads((tmp_path / "run" / "skipped.json").read_text(encoding="utf-8"))
    assert skipped == [{"where": f"{corpus}/caf\\xe9.txt", "reason": "the file name is not valid UTF-8"}]
    assert stages(tmp_path)["corpus"]["counts"]["documents"] == 2


@pytest.mark.timeout(30)
def test_a_fifo_as_the_corpus_is_a_clear_error_and_creates_nothing(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    result = runner.invoke(app, ["seeds", str(tmp_path / "pipe"), "--out", str(tmp_path / "run")])
    assert result.exit_code == 1
    assert "is neither a regular file nor a folder" in result.output
    assert not (tmp_path / "run").exists()


def test_verbose_logging_quiets_the_http_clients() -> None:
    setup_logging(verbose=True)
    try:
        for name in ("httpx", "httpx2", "httpcore", "httpcore2"):
            assert logging.getLogger(name).level == logging.WARNING, name
    finally:
        setup_logging(verbose=False)


def test_remove_says_what_it_removed_and_what_was_removed_already(tmp_path: Path) -> None:
    """5c6714b printed '-0 removed' when the same `kgc remove` ran again (say after a stop)."""
    corpus = write_corpus(tmp_path)
    (corpus / "d3.txt").write_text("BLEU scores are reported for every encoder.", encoding="utf-8")
    with ScriptedServer() as server:
        assert build(tmp_path, write_config(tmp_path, server)).exit_code == 0
        run = str(tmp_path / "run")

        built = server.stats.total
        first = runner.invoke(app, ["remove", run, "d1"])
        assert first.exit_code == 0, first.output
        # The closing lines say what this command paid, not the run's totals (main at cdcdbc2 did).
        assert f"; {server.stats.total - built} LLM requests, " in first.output
        assert first.output.splitlines()[-1] == "removed 1 document (d1)"

        again = runner.invoke(app, ["remove", run, "d1"])
        assert again.exit_code == 0, again.output
        assert "nothing new: every stage was up to date, no LLM request" in again.output
        assert again.output.splitlines()[-1] == "nothing removed: 1 document (d1) had been removed already"

        both = runner.invoke(app, ["remove", run, "d1", "d2"])
        assert both.exit_code == 0, both.output
        assert (
            both.output.splitlines()[-1]
            == "removed 1 document (d2); 1 document (d1) had been removed already"
        )
