"""`llm.executor = "ray"` on a real local Ray runtime against the real-HTTP scripted server: the same
graph and cache as a local run, and a worker killed mid-run costs at most its own request again."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kgc.cli import app
from kgc.config import KgcConfig, load_config
from kgc.pipeline import Pipeline
from kgc.resources import demo_corpus
from kgc.testing.scripted_server import ScriptedServer


def server_config(server: ScriptedServer, **overrides: Any) -> KgcConfig:
    base: dict[str, Any] = {
        "llm.backend": "openai",
        "llm.base_url": server.base_url,
        "llm.model": "scripted",
        "llm.timeout": 10.0,
        "llm.limits.concurrency": 4,
        "extraction.mode": "document",
        "resolve.embedding_merge": False,
    }
    return load_config(None, {**base, **overrides})


def cache_rows(run: Path) -> dict[str, str]:
    with sqlite3.connect(run / "llm_cache.sqlite") as db:
        return dict(db.execute("SELECT key, answer FROM answers").fetchall())


def extraction_requests(server: ScriptedServer) -> Counter[str]:
    """How often the server was asked each distinct extraction request."""
    return Counter(
        json.dumps(r.messages, sort_keys=True) for r in server.stats.requests if r.task == "extraction"
    )


def busy_ray_workers() -> list[int]:
    """Pids of this test's Ray worker processes that are running a request task (their title)."""
    import psutil

    busy = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "chat_on_worker" in " ".join(child.cmdline()):
                busy.append(child.pid)
        except psutil.Error:
            continue
    return busy


@pytest.mark.slow
def test_ray_run_gives_the_local_graph_and_cache(tmp_path: Path, ray_runtime: None) -> None:
    with ScriptedServer() as server:
        local = Pipeline(server_config(server), tmp_path / "local", corpus=demo_corpus()).run_until()
        local_requests = server.stats.total
        server.reset_stats()
        on_ray = Pipeline(
            server_config(server, **{"llm.executor": "ray"}), tmp_path / "ray", corpus=demo_corpus()
        ).run_until()
        assert server.stats.total == local_requests
        assert server.stats.by_task["extraction"] == 40  # the demo's 40 one-chunk documents
    assert local is not None and on_ray is not None and local.relations
    assert on_ray.model_dump() == local.model_dump()
    assert cache_rows(tmp_path / "ray") == cache_rows(tmp_path / "local")
    for name in ("candidates.jsonl", "graph.json"):
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()
    manifest = json.loads((tmp_path / "ray" / "manifest.json").read_text())
    assert manifest["stages"]["extraction"]["llm"]["requests"] == 40  # counted once, on the driver


@pytest.mark.slow
def test_killed_ray_worker_costs_at_most_its_own_request(tmp_path: Path, ray_runtime: None) -> None:
    with ScriptedServer() as server:
        Pipeline(server_config(server), tmp_path / "local", corpus=demo_corpus()).run_until("extraction")
    with ScriptedServer(latency=0.4) as server:  # requests stay in flight long enough to kill one
        pipeline = Pipeline(
            server_config(server, **{"llm.executor": "ray"}), tmp_path / "ray", corpus=demo_corpus()
        )
        errors: list[BaseException] = []

        def run() -> None:
            try:
                pipeline.run_until("extraction")
            except BaseException as e:  # re-raised in the test thread below
                errors.append(e)

        runner = threading.Thread(target=run)
        runner.start()
        killed = None
        deadline = time.monotonic() + 60
        while killed is None and time.monotonic() < deadline and runner.is_alive():
            busy = busy_ray_workers() if server.stats.total >= 8 else []
            if busy:
                killed = busy[0]
                os.kill(killed, signal.SIGKILL)
            time.sleep(0.05)
        runner.join(timeout=90)
        assert not runner.is_alive() and not errors
        asked = extraction_requests(server)
    assert killed is not None, "no busy Ray worker was found to kill"
    assert len(asked) == 40
    assert sum(asked.values()) - len(asked) <= 1  # only the killed task's request was sent twice
    ray_run, local_run = tmp_path / "ray", tmp_path / "local"
    assert (ray_run / "candidates.jsonl").read_bytes() == (local_run / "candidates.jsonl").read_bytes()
    manifest = json.loads((ray_run / "manifest.json").read_text())
    assert manifest["stages"]["extraction"]["status"] == "done"
    assert manifest["stages"]["extraction"]["llm"]["requests"] == 40  # the re-run is not counted twice


def test_unknown_executor_is_a_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["extract", str(tmp_path), "--out", str(tmp_path / "run"), "--executor", "spark"]
    )
    assert result.exit_code == 1
    assert "executor" in result.output and "Traceback" not in result.output
