"""The whole pipeline against the scripted OpenAI-compatible server (real HTTP, real openai client)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest

from kgc.artifacts import CANDIDATES, CHUNKS
from kgc.config import KgcConfig, load_config
from kgc.embeddings import VectorStore, load_embedder
from kgc.pipeline import Pipeline, build
from kgc.resources import demo_corpus, demo_dir
from kgc.rundir import RunDir
from kgc.testing.scripted_server import ScriptedServer


def server_config(server: ScriptedServer, **overrides: Any) -> KgcConfig:
    base: dict[str, Any] = {
        "llm.backend": "openai",
        "llm.base_url": server.base_url,
        "llm.model": "scripted",
        "llm.timeout": 10.0,
        "resolve.embedding_merge": False,
    }
    return load_config(None, {**base, **overrides})


def write_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "d1.txt").write_text("BLEU is a metric used to evaluate machine translation.", encoding="utf-8")
    (corpus / "d2.txt").write_text(
        "Neural machine translation (NMT) is a kind of machine translation. NMT relies on an encoder.",
        encoding="utf-8",
    )
    (corpus / "d3.txt").write_text("NMT systems are evaluated with BLEU.", encoding="utf-8")
    return corpus


def triplet(head: str, rel: str, tail: str, evidence: str = "") -> dict[str, str]:
    return {"head": head, "relation": rel, "tail": tail, "evidence": evidence}


RULES = [
    {
        "task": "extraction",
        "contains": "## Seed\nmachine translation",
        "reply": {
            "triplets": [
                triplet(
                    "BLEU", "Evaluate-for", "machine translation", "used to evaluate machine translation"
                ),
                triplet(
                    "Neural machine translation", "Hyponym-Of", "machine translation", "is a kind of machine"
                ),
                triplet("encoder", "Part-of", "NMT", "It relies on an encoder."),
                triplet("x", "Causes", "y"),
            ]
        },
    },
    {
        "task": "extraction",
        "contains": "## Seed\nbleu",
        "reply": {
            "triplets": [
                triplet("BLEU", "evaluate for", "NMT", "NMT systems are evaluated with BLEU."),
                triplet("BLEU", "Used-for", "Machine translation", "BLEU is a metric used to evaluate"),
            ]
        },
    },
    {
        "task": "fusion",
        "contains": "## Entity\nmachine translation",
        "reply": {"resolutions": [{"pair": "bleu|machine-translation", "relation": "Evaluate-for"}]},
    },
    {
        "task": "fusion",
        "contains": "## Entity\nNeural machine translation",
        "reply": {
            "new_relations": [
                {"head": "encoder", "relation": "Part-of", "tail": "machine translation", "reason": "r"},
                {"head": "encoder", "relation": "Part-of", "tail": "not a neighbour", "reason": "r"},
            ]
        },
    },
    {"task": "fusion", "reply": {"resolutions": [], "new_relations": []}},
]


def test_exact_graph_from_scripted_answers(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path)
    with ScriptedServer(rules=RULES) as server:
        cfg = server_config(
            server, **{"seeds.user_seeds": ["Machine translation", "BLEU"], "seeds.user_seeds_only": True}
        )
        graph = build(corpus, tmp_path / "run", cfg)
        stats = server.stats
    assert graph is not None
    assert stats.by_task == {"extraction": 2, "fusion": 3}

    edges = {(r.head, r.relation, r.tail): r for r in graph.relations}
    assert sorted(edges) == [
        ("bleu", "Evaluate-for", "machine-translation"),
        ("bleu", "Evaluate-for", "neural-machine-translation"),
        ("encoder", "Part-of", "machine-translation"),
        ("encoder", "Part-of", "neural-machine-translation"),
        ("neural-machine-translation", "Hyponym-Of", "machine-translation"),
    ]
    resolved = edges[("bleu", "Evaluate-for", "machine-translation")]
    assert (resolved.decided_by, resolved.sources, resolved.inferred) == ("llm", ["d1"], False)
    inferred = edges[("encoder", "Part-of", "machine-translation")]
    assert (inferred.inferred, inferred.decided_by, inferred.confidence, inferred.support) == (
        True,
        "inference",
        0.3,
        0,
    )
    assert edges[("bleu", "Evaluate-for", "neural-machine-translation")].sources == ["d3"]
    # the sentence of the passage that mentions both names, not the model's quote
    assert edges[("encoder", "Part-of", "neural-machine-translation")].evidence == [
        "NMT relies on an encoder."
    ]

    nmt = graph.entity("neural-machine-translation")
    assert (nmt.name, nmt.aliases) == ("Neural machine translation", ["NMT"])
    assert [(m.alias, m.reason) for m in graph.merges if m.canonical == nmt.name] == [("NMT", "definition")]
    [conflict] = graph.conflicts
    assert conflict.decided_by == "llm"

    run = tmp_path / "run"
    report = json.loads((run / "extraction_report.json").read_text())
    assert report == {"dropped": {"unknown relation": 1}, "failed_tasks": [], "cues": {}}
    candidates = RunDir(run).read(CANDIDATES)
    assert {(c.head, c.provenance[0].chunk_id, c.provenance[0].seed) for c in candidates} == {
        ("BLEU", "d1#0", "machine translation"),
        ("Neural machine translation", "d2#0", "machine translation"),
        ("encoder", "d2#0", "machine translation"),
        ("BLEU", "d3#0", "bleu"),
        ("BLEU", "d1#0", "bleu"),
    }
    manifest = json.loads((run / "manifest.json").read_text())
    assert list(manifest["stages"]) == ["corpus", "seeds", "retrieval", "extraction", "fusion"]
    assert manifest["stages"]["extraction"]["llm"]["requests"] == 2
    assert "api_key" not in json.dumps(manifest)


def test_rerun_is_free_and_config_change_reruns_only_what_depends_on_it(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path)
    seeds = {"seeds.user_seeds": ["machine translation", "BLEU"], "seeds.user_seeds_only": True}
    with ScriptedServer(rules=RULES) as server:
        first = build(corpus, tmp_path / "run", server_config(server, **seeds))
        server.reset_stats()
        again = build(corpus, tmp_path / "run", server_config(server, **seeds))
        assert server.stats.total == 0
        assert again == first
        # A fusion setting changed: only fusion runs again, and its LLM answers come from the cache.
        changed = build(
            corpus, tmp_path / "run", server_config(server, **seeds, **{"fusion.inferred_confidence": 0.2})
        )
        assert server.stats.total == 0
    assert changed is not None and first is not None
    assert [(r.head, r.tail, r.confidence) for r in changed.relations if r.inferred] == [
        ("encoder", "machine-translation", 0.2)
    ]
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["stages"]["fusion"]["llm"]["cache_hits"] == 3
    assert manifest["stages"]["extraction"]["llm"]["requests"] == 2  # the record of the first run is kept


def test_document_mode_calls_once_per_chunk_without_seeds(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path)
    with ScriptedServer() as server:  # default scripted answers
        cfg = server_config(server, **{"extraction.mode": "document", "fusion.infer_links": False})
        graph = Pipeline(cfg, tmp_path / "run", corpus=corpus).run_until("fusion")
        assert server.stats.by_task["extraction"] == 3
    assert graph is not None and graph.relations
    assert not (tmp_path / "run" / "seeds.jsonl").exists()
    docs = {"d1", "d2", "d3"}
    assert all(set(r.sources) <= docs and r.sources for r in graph.relations)


@pytest.mark.slow
def test_demo_corpus_end_to_end_with_topic_seeds_to_graphml(tmp_path: Path) -> None:
    run = tmp_path / "run"
    with ScriptedServer() as server:
        graph = build(DEMO_CORPUS, run, server_config(server, **{"fusion.max_neighbourhoods": 10}))
        stats = server.stats
    assert graph is not None
    seeds = [json.loads(line) for line in (run / "seeds.jsonl").read_text().splitlines()]
    contexts = [json.loads(line) for line in (run / "contexts.jsonl").read_text().splitlines()]
    # One extraction request per seed that retrieved any text; fusion bounded by its limit.
    assert stats.by_task["extraction"] == sum(1 for c in contexts if c["chunk_ids"])
    assert len(seeds) >= 10
    assert 1 <= stats.by_task["fusion"] <= 10

    g = nx.read_graphml(run / "graph.graphml")
    assert g.number_of_nodes() == len(graph.entities) > 20
    assert g.number_of_edges() == len(graph.relations) > 20
    doc_ids = {json.loads(line)["id"] for line in DEMO_CORPUS.read_text().splitlines()}
    for _, _, data in g.edges(data=True):
        if data["inferred"]:
            assert data["support"] == 0
            continue
        sources = json.loads(data["sources"])
        assert sources and set(sources) <= doc_ids
        assert data["support"] == len(sources)


class Recording:
    """The real MiniLM, recording every text it embeds (chunks, and BERTopic's candidate phrases)."""

    def __init__(self) -> None:
        self.inner = load_embedder()
        self.key = self.inner.key
        self.texts: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.texts += texts
        return self.inner.encode(texts)


@pytest.mark.slow
def test_a_changed_seeds_setting_reuses_the_chunk_vectors(tmp_path: Path) -> None:
    run = tmp_path / "run"
    embedder = Recording()
    Pipeline(load_config(None, {}), run, corpus=DEMO_CORPUS, embedder=embedder).run_until("seeds")
    chunks = {c.text for c in RunDir(run).read(CHUNKS)}
    assert chunks <= set(embedder.texts)
    with VectorStore.open(run, "chunks", "minilm") as store:
        assert store.keys() == {"minilm": 40}  # the demo's 40 one-chunk documents

    embedder.texts.clear()
    Pipeline(load_config(None, {"seeds.max_seeds": 4}), run, embedder=embedder).run_until("seeds")
    assert len((run / "seeds.jsonl").read_text().splitlines()) == 4  # the stage did run again
    assert not chunks & set(embedder.texts)  # no chunk embedded again

    Pipeline(
        load_config(None, {"corpus.chunk_chars": 300}), run, corpus=DEMO_CORPUS, embedder=embedder
    ).run_until("seeds")
    smaller = {c.text for c in RunDir(run).read(CHUNKS)}
    with VectorStore.open(run, "chunks", "minilm") as store:
        assert store.keys() == {"minilm": len(smaller)} and len(smaller) > 40  # the old chunks left the store


def run_cli(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = dict(os.environ)
    return subprocess.Popen(
        [sys.executable, "-m", "kgc.cli", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def run_cli_to_end(
    *args: str, env: dict[str, str] | None = None, timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    """`kgc *args` run to its end, its stdout and stderr captured apart."""
    return subprocess.run(
        [sys.executable, "-m", "kgc.cli", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


DEMO_SEEDS = demo_dir() / "seeds.txt"
DEMO_CORPUS = demo_corpus()


def demo_seed_count() -> int:
    return len([s for s in DEMO_SEEDS.read_text().splitlines() if s.strip()])


def demo_build_args(
    tmp_path: Path, server: ScriptedServer, *, concurrency: int, max_neighbourhoods: int
) -> list[str]:
    """`kgc build` arguments for the demo corpus with only the demo's seeds, against `server`, into tmp_path/run."""
    config = tmp_path / "kgc.toml"
    config.write_text(
        f'[llm]\nbackend = "openai"\nbase_url = "{server.base_url}"\nmodel = "scripted"\n'
        f"[llm.limits]\nconcurrency = {concurrency}\n[seeds]\nuser_seeds_only = true\n"
        f"[resolve]\nembedding_merge = false\n[fusion]\nmax_neighbourhoods = {max_neighbourhoods}\n",
        encoding="utf-8",
    )
    run = tmp_path / "run"
    return ["build", str(DEMO_CORPUS), "--out", str(run), "-c", str(config), "--seeds-file", str(DEMO_SEEDS)]


@pytest.mark.slow
def test_killed_run_resumes_without_paying_again(tmp_path: Path) -> None:
    n_seeds = demo_seed_count()
    with ScriptedServer(latency=0.2) as server:
        args = demo_build_args(tmp_path, server, concurrency=1, max_neighbourhoods=3)
        proc = run_cli(*args, cwd=tmp_path)
        deadline = time.monotonic() + 120
        while server.stats.by_task.get("extraction", 0) < 5:
            assert proc.poll() is None, proc.communicate()[0]
            assert time.monotonic() < deadline, "the run never reached extraction"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        first = server.stats.by_task["extraction"]
        assert first < n_seeds

        out, _ = run_cli(*args, cwd=tmp_path).communicate(timeout=300)
        assert "fusion: done" in out, out
        assert "HTTP Request" not in out  # the HTTP client's line per request is kept out of the log
        # Every answer received before the kill came from the cache; at most the one in flight is repeated.
        assert n_seeds <= server.stats.by_task["extraction"] <= n_seeds + 1
        assert server.stats.by_task["fusion"] == 3

        server.reset_stats()
        out, _ = run_cli(*args, cwd=tmp_path).communicate(timeout=300)
        assert server.stats.total == 0, out
        assert "up to date" in out
        # The closing line says what this build did (nothing new), not what the earlier ones paid.
        assert re.search(
            rf"nothing new: every stage was up to date, no LLM request; 40 documents -> {n_seeds} seeds -> "
            r"\d+ candidates -> \d+ entities, \d+ relations \(\d+ merges\) in ",
            out,
        ), out
        assert "LLM requests," not in out


@pytest.mark.slow
def test_bad_corpus_is_a_clear_error_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    proc = run_cli_to_end("build", str(tmp_path), "--out", str(tmp_path / "run"))
    assert proc.returncode == 1
    assert "error: no usable document" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_unreachable_server_stops_with_a_resumable_message(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path)
    config = tmp_path / "kgc.toml"
    config.write_text(
        '[llm]\nbackend = "openai"\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "m"\ntimeout = 2\n'
        '[llm.limits]\ncircuit_breaker_failures = 2\nmax_retries = 1\n[seeds]\nuser_seeds = ["bleu"]\nuser_seeds_only = true\n',
        encoding="utf-8",
    )
    proc = run_cli_to_end(
        "build", str(corpus), "--out", str(tmp_path / "run"), "-c", str(config), timeout=120
    )
    assert proc.returncode == 1, proc.stderr
    assert "error:" in proc.stderr and "resumable" in proc.stderr
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert list(manifest["stages"]) == ["corpus", "seeds", "retrieval"]  # extraction not marked done


@pytest.mark.slow
def test_dry_run_estimates_without_llm_requests(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path)
    with ScriptedServer() as server:
        config = tmp_path / "kgc.toml"
        config.write_text(
            f'[llm]\nbackend = "openai"\nbase_url = "{server.base_url}"\nmodel = "m"\n'
            '[seeds]\nuser_seeds = ["bleu", "nothing matches this"]\nuser_seeds_only = true\n',
            encoding="utf-8",
        )
        env = {**os.environ, "OPENAI_API_KEY": "sk-very-secret"}
        proc = run_cli_to_end(
            "build", str(corpus), "-o", str(tmp_path / "r"), "-c", str(config), "--dry-run", env=env
        )
        assert server.stats.total == 0
    assert proc.returncode == 0, proc.stderr
    assert "sk-very-secret" not in proc.stdout + proc.stderr
    assert '"extraction_requests": 1' in proc.stdout


@pytest.mark.slow
def test_budget_stops_cleanly_and_a_bigger_budget_resumes(tmp_path: Path) -> None:
    n_seeds = demo_seed_count()
    with ScriptedServer() as server:
        args = demo_build_args(tmp_path, server, concurrency=2, max_neighbourhoods=2)
        out, _ = run_cli(*args, "--max-tokens", "5000", cwd=tmp_path).communicate(timeout=300)
        assert "error:" in out and "budget" in out.lower(), out
        spent = server.stats.by_task["extraction"]
        assert 0 < spent < n_seeds

        out, _ = run_cli(*args, "--max-tokens", "10000000", cwd=tmp_path).communicate(timeout=300)
        assert "fusion: done" in out, out
        assert server.stats.by_task["extraction"] == n_seeds  # nothing paid twice
