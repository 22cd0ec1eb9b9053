"""A stage after fusion is one module and one list entry: a toy one goes through build, resume and
`kgc remove` like the built-in stages, and `kgc summary --flow` shows it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import kgc.stages
from kgc.artifacts import GRAPH, Rows
from kgc.cli import app
from kgc.config import KgcConfig, load_config
from kgc.models import Entity
from kgc.pipeline import Pipeline
from kgc.rundir import RunDir
from kgc.stages import STAGES, Stage, StageContext, StageOutcome
from kgc.testing import ScriptedBackend, scripted_factory
from kgc.update import remove_documents

# --- the toy stage: what a new module declares --------------------------------------------------

LABELS = Rows("labels.jsonl", Entity, "the graph's entities, labelled by the toy stage")
RUNS: list[int] = []  # how often the toy stage ran


def _label(ctx: StageContext) -> StageOutcome:
    RUNS.append(1)
    entities = ctx.run.read(GRAPH).entities
    ctx.run.write(LABELS, [e.model_copy(update={"type": "labelled"}) for e in entities])
    return StageOutcome({"labelled": len(entities)})


TOY = Stage(name="labels", sections=(), inputs=(GRAPH,), outputs=(LABELS,), run=_label)

# ----------------------------------------------------------------------------------------------------


@pytest.fixture
def with_toy_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kgc.stages, "STAGES", [*STAGES, TOY])  # the one list entry
    RUNS.clear()


def config() -> KgcConfig:
    overrides: dict[str, Any] = {
        "llm.backend": "openai",
        "llm.model": "scripted",
        "extraction.mode": "document",
        "resolve.embedding_merge": False,
    }
    return load_config(None, overrides)


DOCS = {
    "d1": "BLEU is a metric for machine translation. Machine translation systems are scored with BLEU.",
    "d2": "Word embeddings map words to vectors. Word embeddings help text classification.",
    "d3": "Dependency parsing finds syntactic structure. Dependency parsing uses treebanks.",
}


def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return folder


@pytest.mark.usefixtures("with_toy_stage")
def test_a_stage_after_fusion_runs_resumes_and_follows_a_removal(tmp_path: Path) -> None:
    cfg, backend, run = config(), ScriptedBackend(), tmp_path / "run"
    factory = scripted_factory(backend, cfg.llm)
    with Pipeline(cfg, run, corpus=corpus(tmp_path), llm_factory=factory) as pipeline:
        assert pipeline.stage_names()[-1] == "labels"
        graph = pipeline.run_until()  # the last stage of the list is the default end
    assert graph is not None and RUNS == [1]
    labels = RunDir(run).read(LABELS)
    assert sorted(e.id for e in labels) == sorted(e.id for e in graph.entities)
    assert RunDir(run).manifest().stages["labels"].counts == {"labelled": len(graph.entities)}

    with Pipeline(cfg, run, llm_factory=factory) as pipeline:
        pipeline.run_until()
    assert RUNS == [1]  # resumed: up to date

    (RunDir(run) / LABELS).write_text("", encoding="utf-8")  # its output damaged: it runs again, alone
    asked = len(backend.requests)
    with Pipeline(cfg, run, llm_factory=factory) as pipeline:
        pipeline.run_until()
    assert RUNS == [1, 1] and len(backend.requests) == asked
    assert len(RunDir(run).read(LABELS)) == len(graph.entities)

    remove_documents(cfg, run, ["d1"], llm_factory=factory)  # the graph changes: the stage follows it
    assert RUNS == [1, 1, 1]
    after = RunDir(run).read(GRAPH)
    assert sorted(e.id for e in RunDir(run).read(LABELS)) == sorted(e.id for e in after.entities)
    assert not any("d1" in e.sources for e in after.entities)


@pytest.mark.usefixtures("with_toy_stage")
def test_fusion_can_still_be_the_end_of_a_run_and_the_flow_shows_the_stage_after_it(tmp_path: Path) -> None:
    cfg, run = config(), tmp_path / "run"
    with Pipeline(
        cfg, run, corpus=corpus(tmp_path), llm_factory=scripted_factory(ScriptedBackend(), cfg.llm)
    ) as p:
        p.run_until("fusion")  # `kgc fuse` stops at fusion
    assert not RunDir(run).exists(LABELS)

    result = CliRunner().invoke(app, ["summary", str(run), "--flow"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.count("│") > 4}
    assert list(rows)[-1] == "labels"
    assert "graph.json" in rows["labels"] and "labels.jsonl" in rows["labels"] and "not run" in rows["labels"]
    assert "candidates.jsonl" in rows["fusion"]
