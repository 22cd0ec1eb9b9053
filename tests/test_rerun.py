"""Redoing a stage on cached LLM answers: `kgc build --rerun STAGE` / `Pipeline(rerun=...)`, and a
bumped rules version (an upgraded kgc) doing the same by itself. Both redo the stage and the ones after
it with the current rules and pay no LLM request again; the stages before are left alone."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

import kgc.stages
from kgc.artifacts import CANDIDATES
from kgc.cli import app
from kgc.config import KgcConfig, load_config
from kgc.errors import KgcError
from kgc.extraction.triplets import CleanTriplet
from kgc.pipeline import Pipeline
from kgc.rundir import RunDir
from kgc.stages import extraction
from kgc.testing.scripted_backend import ScriptedBackend, scripted_factory
from kgc.testing.scripted_server import ScriptedServer
from tests.test_pipeline import write_corpus

DOCUMENT_MODE = {"extraction.mode": "document", "fusion.infer_links": False, "resolve.embedding_merge": False}


def config() -> KgcConfig:
    return load_config(None, {"llm.backend": "openai", "llm.model": "scripted", **DOCUMENT_MODE})


def run(tmp_path: Path, backend: ScriptedBackend, rerun: str | None = None) -> Pipeline:
    cfg = config()
    corpus = tmp_path / "corpus"
    factory = scripted_factory(backend, cfg.llm)
    with Pipeline(cfg, tmp_path / "run", corpus=corpus, llm_factory=factory, rerun=rerun) as pipeline:
        pipeline.run_until()
    return pipeline


def candidates(tmp_path: Path) -> int:
    return len(RunDir(tmp_path / "run", create=False).read(CANDIDATES))


def no_variants(triplets: list[CleanTriplet], sentences: object) -> tuple[list[CleanTriplet], Counter[str]]:
    """A 'new rule' for the test: every triplet is dropped (as a variant of another)."""
    return [], Counter({"a shorter variant of another triplet": len(triplets)})


def test_rerun_redoes_the_stage_and_after_from_the_cache_with_the_current_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_corpus(tmp_path)
    backend = ScriptedBackend()
    first = run(tmp_path, backend)
    asked = len(backend.requests)
    assert first.ran == ["corpus", "extraction", "fusion"] and candidates(tmp_path) > 0
    assert len(backend.requests_for("extraction")) == 3  # one per document

    monkeypatch.setattr(extraction, "one_per_statement", no_variants)  # the rules change
    assert run(tmp_path, backend).ran == []  # up to date by its key: the old candidates stay
    assert candidates(tmp_path) > 0

    again = run(tmp_path, backend, rerun="extraction")
    assert again.ran == ["extraction", "fusion"]  # the corpus stage is left alone
    assert len(backend.requests) == asked  # every answer came from the cache
    record = RunDir(tmp_path / "run", create=False).manifest().stages["extraction"]
    assert record.llm["cache_hits"] == 3 and record.llm.get("requests", 0) == 0
    assert candidates(tmp_path) == 0  # the current rules cleaned the cached answers
    assert run(tmp_path, backend).ran == []  # and the run is up to date again


def test_a_bumped_rules_version_redoes_extraction_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_corpus(tmp_path)
    backend = ScriptedBackend()
    run(tmp_path, backend)
    asked, units_before = len(backend.requests), (tmp_path / "run" / "extraction_units.jsonl").read_text()

    # What an upgraded kgc with new extraction rules looks like: another version, another rule.
    monkeypatch.setattr(extraction, "RULES_VERSION", "bumped")
    bumped = dataclasses.replace(extraction.STAGE, version="bumped")
    monkeypatch.setattr(
        kgc.stages, "STAGES", [bumped if s is extraction.STAGE else s for s in kgc.stages.STAGES]
    )
    monkeypatch.setattr(extraction, "one_per_statement", no_variants)

    assert run(tmp_path, backend).ran == ["extraction", "fusion"]
    assert len(backend.requests) == asked  # no request paid again
    assert candidates(tmp_path) == 0
    units = [
        json.loads(line) for line in (tmp_path / "run" / "extraction_units.jsonl").read_text().splitlines()
    ]
    assert len(units) == 3 and not set(units_before.split()) & {u["key"] for u in units}  # new keys only


def test_rerun_names_a_stage_of_the_run(tmp_path: Path) -> None:
    write_corpus(tmp_path)
    with pytest.raises(
        KgcError, match="cannot rerun 'seeds': this run's stages are corpus, extraction, fusion"
    ):
        Pipeline(config(), tmp_path / "run", rerun="seeds")  # document mode has no seeds stage


def test_kgc_build_rerun_over_http_pays_no_request(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path)
    out = tmp_path / "run"
    with ScriptedServer() as server:
        cfg_file = tmp_path / "kgc.toml"
        cfg_file.write_text(
            f'[llm]\nbackend = "openai"\nbase_url = "{server.base_url}"\nmodel = "scripted"\n'
            '[extraction]\nmode = "document"\n[fusion]\ninfer_links = false\n[resolve]\nembedding_merge = false\n',
            encoding="utf-8",
        )
        args = ["build", str(corpus), "--out", str(out), "-c", str(cfg_file)]
        assert CliRunner().invoke(app, args).exit_code == 0
        server.reset_stats()
        result = CliRunner().invoke(app, [*args, "--rerun", "extraction"])
        assert result.exit_code == 0, result.output
        assert server.stats.total == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stages"]["extraction"]["llm"]["cache_hits"] == 3
    bad = CliRunner().invoke(app, [*args, "--rerun", "nonsense"])
    assert bad.exit_code == 1 and "cannot rerun 'nonsense'" in bad.output
