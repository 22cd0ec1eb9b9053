"""The run directory: each artifact declared once and read and written through one door, damaged
artifacts noticed and written again by their stage, the files' permissions, one writer at a time."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from kgc import artifacts
from kgc.artifacts import CANDIDATES, CHUNKS, DOCUMENTS, GRAPH, LLM_CACHE, MANIFEST, VECTORS
from kgc.cli import app
from kgc.config import KgcConfig, load_config
from kgc.embeddings.store import VectorStore
from kgc.errors import RunDirError
from kgc.llm.cache import AnswerCache
from kgc.models import Chunk, KnowledgeGraph
from kgc.pipeline import Pipeline
from kgc.rundir import RunDir
from kgc.runlock import RunLock
from kgc.testing import ScriptedBackend, scripted_factory

KGC = Path(artifacts.__file__).parent
runner = CliRunner()


# -- the contract ---------------------------------------------------------------------------------


# Names a run directory shares with other files kgc reads: a sentence-transformers model folder's.
ALSO_ELSEWHERE = {"config.json"}


def test_every_artifact_name_is_written_once_in_kgc_its_declaration() -> None:
    names = [a.name for a in artifacts.ALL]
    assert len(names) == len(set(names))
    sources = {p: p.read_text(encoding="utf-8") for p in KGC.rglob("*.py") if p.name != "artifacts.py"}
    for name in set(names) - ALSO_ELSEWHERE:
        quoted = re.compile(rf"[\"']{re.escape(name)}[\"']")
        assert not [str(p) for p, text in sources.items() if quoted.search(text)], (
            f"{name} outside kgc/artifacts.py"
        )


def test_rows_round_trip_and_a_damaged_line_is_named(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    chunks = [Chunk(id="d#0", doc_id="d", text="some text", start=0, end=9)]
    run.write(CHUNKS, chunks)
    assert run.read(CHUNKS) == chunks
    assert run.read_optional(DOCUMENTS) is None
    with pytest.raises(RunDirError, match=r"missing artifact .*documents\.jsonl"):
        run.read(DOCUMENTS)
    (run / CHUNKS).write_text((run / CHUNKS).read_text() + '{"id": "d#1", "doc_id": "d", "te\n')
    with pytest.raises(RunDirError, match=r"chunks.jsonl: line 2: .*damaged") as e:
        run.read(CHUNKS)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_artifacts_get_the_permissions_the_umask_gives(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        path = RunDir(tmp_path).write(GRAPH, KnowledgeGraph())
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == [GRAPH.name]  # no temporary file left


@pytest.mark.parametrize("umask", [0o002, 0o077])
def test_the_sqlite_caches_and_their_journals_get_the_permissions_the_umask_gives(
    tmp_path: Path, umask: int
) -> None:
    """sqlite creates its files 0644 whatever the umask: a team member could read but not resume."""
    old = os.umask(umask)
    try:
        with AnswerCache(tmp_path / LLM_CACHE.name) as cache:
            cache.put("k", "extraction", "{}")
            journals = sorted(p.name for p in tmp_path.iterdir())
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
        with VectorStore.open(tmp_path, "chunks", "key") as store:
            store.put(["h"], np.ones((1, 4), dtype=np.float32))
        modes[VECTORS.name] = stat.S_IMODE((tmp_path / VECTORS.name).stat().st_mode)
    finally:
        os.umask(old)
    assert len(journals) == 3  # the cache, its -wal and -shm files
    assert modes == {name: 0o666 & ~umask for name in [*journals, VECTORS.name]}


def test_a_run_directory_under_a_file_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "c.txt").write_text("BLEU is a metric for machine translation.\n", encoding="utf-8")
    for out in ("/dev/null/x", str(tmp_path / "c.txt" / "run")):
        result = runner.invoke(app, ["build", str(tmp_path / "c.txt"), "--out", out])
        assert result.exit_code == 1
        assert "Traceback" not in result.output
        assert f"cannot create the run directory {out}: Not a directory" in result.output


# -- damaged artifacts ------------------------------------------------------------------------------


def config() -> KgcConfig:
    overrides: dict[str, Any] = {
        "llm.backend": "openai",
        "llm.model": "scripted",
        "extraction.mode": "document",
        "resolve.embedding_merge": False,
    }
    return load_config(None, overrides)


DOCS = [
    "BLEU is a metric for machine translation. Machine translation systems are scored with BLEU.",
    "Word embeddings map words to vectors. Word embeddings help text classification.",
    "Dependency parsing finds syntactic structure. Dependency parsing uses treebanks.",
    "Named entity recognition finds names in text. Named entity recognition uses sequence labeling.",
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, KnowledgeGraph]]:
    """A finished run (document mode, scripted LLM) and its graph."""
    root = tmp_path_factory.mktemp("built")
    corpus = root / "corpus.txt"
    corpus.write_text("\n".join(DOCS) + "\n", encoding="utf-8")
    cfg = config()
    with Pipeline(
        cfg, root / "run", corpus=corpus, llm_factory=scripted_factory(ScriptedBackend(), cfg.llm)
    ) as p:
        graph = p.run_until()
    assert graph is not None and len(graph.relations) > 4
    yield root / "run", graph


def rebuild(run: Path) -> tuple[KnowledgeGraph | None, ScriptedBackend]:
    cfg, backend = config(), ScriptedBackend()
    with Pipeline(cfg, run, llm_factory=scripted_factory(backend, cfg.llm)) as pipeline:
        return pipeline.run_until(), backend


def cut(path: Path, at: int) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:at])


def copy(built: tuple[Path, KnowledgeGraph], tmp_path: Path) -> Path:
    shutil.copytree(built[0], tmp_path / "run")
    return tmp_path / "run"


@pytest.mark.parametrize("where", ["at a line boundary", "mid-line"])
def test_cut_candidates_are_written_again_from_the_units_and_the_graph_stays_whole(
    built: tuple[Path, KnowledgeGraph], tmp_path: Path, where: str, caplog: pytest.LogCaptureFixture
) -> None:
    run = copy(built, tmp_path)
    text = (run / CANDIDATES.name).read_bytes()
    half = text.index(b"\n", len(text) // 2) + 1
    cut(run / CANDIDATES.name, half if where == "at a line boundary" else half - 7)
    graph, backend = rebuild(run)
    assert graph == built[1]  # every candidate back, nothing fused from half of them
    assert backend.requests == []  # the extraction units and the LLM cache had every answer
    assert "candidates.jsonl missing or not as the stage wrote it" in caplog.text
    assert (run / CANDIDATES.name).read_bytes() == (built[0] / CANDIDATES.name).read_bytes()


def test_a_cut_graph_is_fused_again(built: tuple[Path, KnowledgeGraph], tmp_path: Path) -> None:
    run = copy(built, tmp_path)
    cut(run / GRAPH.name, 100)
    graph, backend = rebuild(run)
    assert graph == built[1]
    assert backend.requests == []  # fusion's calls come from the LLM cache
    assert RunDir(run).manifest().stages["fusion"].status == "done"


def test_a_cut_manifest_is_rebuilt_by_running_the_stages_from_the_caches(
    built: tuple[Path, KnowledgeGraph], tmp_path: Path
) -> None:
    run = copy(built, tmp_path)
    cut(run / MANIFEST.name, 200)
    for command in (["summary", str(run)], ["summary", str(run), "--flow"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        assert f"cannot read {run / MANIFEST.name}" in result.output and "kgc build" in result.output
    for command in (["view", str(run)], ["report", str(run)]):  # the graph is there: the pages are made
        result = runner.invoke(app, command)
        assert result.exit_code == 0 and "Traceback" not in result.output, result.output

    graph, backend = rebuild(run)  # the corpus path was in the manifest: the run's documents are used
    assert graph == built[1] and backend.requests == []
    assert set(RunDir(run).manifest().stages) == {"corpus", "extraction", "fusion"}
    assert (run / f"{MANIFEST.name}.damaged").is_file()


# -- one writer at a time ---------------------------------------------------------------------------

HOLDER = """
import sys, time
from kgc.rundir import RunDir
from kgc.runlock import RunLock
with RunLock(RunDir(sys.argv[1])):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold(run: Path, seconds: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(run), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_a_second_writer_refuses_naming_the_holder_or_waits_for_it(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "run")
    holder = hold(run.path, 60)
    try:
        with pytest.raises(RunDirError, match=rf"in use by pid {holder.pid} on .* since .*--wait"):
            RunLock(run).acquire()
        holder.kill()  # killed: the kernel releases its lock
        holder.wait()
        with RunLock(run):
            pass
    finally:
        holder.kill()

    holder = hold(run.path, 1.5)
    started = time.monotonic()
    with RunLock(run, wait=True):
        assert time.monotonic() - started > 1.0  # it got the lock when the holder let go
    assert holder.wait(timeout=30) == 0
    assert not (run / artifacts.LOCK_HOLDER).exists()


def test_kgc_build_on_a_run_directory_in_use_says_who_holds_it(tmp_path: Path) -> None:
    corpus = tmp_path / "c.txt"
    corpus.write_text(DOCS[0] + "\n", encoding="utf-8")
    holder = hold(tmp_path / "run", 60)
    try:
        result = runner.invoke(app, ["build", str(corpus), "--out", str(tmp_path / "run")])
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        assert f"is in use by pid {holder.pid}" in result.output and "--wait" in result.output
        assert not (tmp_path / "run" / MANIFEST.name).exists()  # nothing was written
    finally:
        holder.kill()
        holder.wait()


BUILDER = """
import sys, time
from pathlib import Path
from kgc.pipeline import Pipeline
from kgc.testing import ScriptedBackend, scripted_factory
from tests.test_run_directory import config
cfg, run, corpus, gate = config(), Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
with Pipeline(cfg, run, corpus=corpus, llm_factory=scripted_factory(ScriptedBackend(), cfg.llm)) as p:
    print("held", flush=True)
    p.run_until()
    while not gate.exists():  # a build that takes its time: the other one waits for it
        time.sleep(0.02)
"""


@pytest.mark.slow  # a build in another process: ~10 s on a loaded machine
def test_build_wait_after_another_build_says_it_did_nothing_new_and_where_the_run_is(tmp_path: Path) -> None:
    """Another process builds the run while `kgc build --wait` waits for it: the waiting build finds
    every stage up to date and its closing line says so, not the other build's LLM totals (7b3b064
    quoted them as its own)."""
    corpus, run, gate = tmp_path / "c.txt", tmp_path / "run", tmp_path / "gate"
    corpus.write_text("\n".join(DOCS[:2]) + "\n", encoding="utf-8")
    settings = tmp_path / "kgc.toml"  # what config() sets
    settings.write_text(
        '[llm]\nbackend = "openai"\nmodel = "scripted"\n[extraction]\nmode = "document"\n'
        "[resolve]\nembedding_merge = false\n",
        encoding="utf-8",
    )
    builder = subprocess.Popen(
        [sys.executable, "-c", BUILDER, str(run), str(corpus), str(gate)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=KGC.parent,
    )
    try:
        assert builder.stdout is not None and builder.stdout.readline().strip() == "held"
        threading.Timer(1.0, gate.touch).start()
        waiting = runner.invoke(app, ["build", str(corpus), "--out", str(run), "-c", str(settings), "--wait"])
        assert builder.wait(timeout=60) == 0
    finally:
        builder.kill()
    assert waiting.exit_code == 0, waiting.output
    paid = RunDir(run).manifest().stages["extraction"].llm["requests"]
    assert paid == 2  # what the other build paid, and 7b3b064 quoted
    waited = re.search(
        rf"waited (\d+\.\d) s for pid {builder.pid} on .*; nothing new: every stage was up to date, no LLM "
        rf"request; 2 documents -> - seeds -> \d+ candidates -> \d+ entities, \d+ relations \(\d+ merges\) "
        rf"in {re.escape(str(run))}\n",
        waiting.output,
    )
    assert waited is not None and float(waited.group(1)) >= 1.0, waiting.output
    assert "LLM requests," not in waiting.output
    assert f"graph: {run / 'graph.graphml'}" in waiting.output


def test_the_lock_is_reentrant_within_a_pipeline(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "run")
    lock = RunLock(run)
    with lock, lock:
        assert (run / artifacts.LOCK_HOLDER).is_file()
    assert not lock.held


def test_pipeline_closes_its_llm_client(tmp_path: Path) -> None:
    cfg, closed = config(), []
    factory = scripted_factory(ScriptedBackend(), cfg.llm)

    def tracking(run: RunDir) -> Any:
        client = factory(run)
        close = client.close

        def closing() -> None:
            closed.append(True)
            close()

        client.close = closing
        return client

    (tmp_path / "c.txt").write_text(DOCS[0] + "\n", encoding="utf-8")
    with Pipeline(cfg, tmp_path / "run", corpus=tmp_path / "c.txt", llm_factory=tracking) as pipeline:
        pipeline.run_until()
        assert pipeline.lock.held
    assert closed == [True] and not pipeline.lock.held
