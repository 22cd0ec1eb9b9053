"""The declared stages and the pipeline loop, in-process with the scripted backend (fast tier)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kgc import artifacts
from kgc.artifacts import Text
from kgc.cli import app
from kgc.config import ExtractionConfig, KgcConfig, load_config
from kgc.errors import ConfigError
from kgc.estimate import estimate
from kgc.llm.base import TransientLLMError
from kgc.models import Chunk
from kgc.pipeline import Pipeline, configured_files
from kgc.resources import prompts_dir
from kgc.rundir import RunDir, StageRecord
from kgc.schema import RelationSchema
from kgc.stages import STAGES, stages_for
from kgc.stages.extraction import ExtractionAnswer, ExtractionTask, Triplet, validate_triplets
from kgc.testing import ScriptedBackend, scripted_factory
from kgc.testing.scripted_server import ScriptedServer

SEEDS = {"seeds.user_seeds": ["machine translation", "BLEU"], "seeds.user_seeds_only": True}


def config(**overrides: Any) -> KgcConfig:
    base: dict[str, Any] = {
        "llm.backend": "openai",
        "llm.model": "scripted",
        "resolve.embedding_merge": False,
        "llm.limits.max_retries": 0,
        "llm.limits.max_invalid_retries": 0,
        **SEEDS,
    }
    return load_config(None, {**base, **overrides})


def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "d1.txt").write_text("BLEU is a metric used to evaluate machine translation.", encoding="utf-8")
    (folder / "d2.txt").write_text("Neural machine translation (NMT) relies on an encoder.", encoding="utf-8")
    return folder


def pipeline(tmp_path: Path, backend: ScriptedBackend, cfg: KgcConfig | None = None) -> Pipeline:
    cfg = cfg or config()
    return Pipeline(
        cfg, tmp_path / "run", corpus=corpus(tmp_path), llm_factory=scripted_factory(backend, cfg.llm)
    )


def manifest(tmp_path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((tmp_path / "run" / "manifest.json").read_text())
    return loaded


# -- the stage list -------------------------------------------------------------------------------


def test_the_stage_list_is_chosen_once_by_mode() -> None:
    assert [s.name for s in stages_for(config())] == ["corpus", "seeds", "retrieval", "extraction", "fusion"]
    assert [s.name for s in stages_for(config(**{"extraction.mode": "document"}))] == [
        "corpus",
        "extraction",
        "fusion",
    ]


def test_llm_usage_is_filed_under_the_stage_that_spent_it(tmp_path: Path) -> None:
    backend = ScriptedBackend()
    pipeline(tmp_path, backend).run_until("fusion")
    stages = manifest(tmp_path)["stages"]
    assert stages["extraction"]["llm"]["requests"] == len(backend.requests_for("extraction")) == 2
    assert stages["fusion"]["llm"]["requests"] == len(backend.requests_for("fusion")) > 0
    assert "llm" not in stages["corpus"] or not stages["corpus"]["llm"]


# -- the stage key ----------------------------------------------------------------------------------


def test_editing_a_prompt_template_reruns_its_stage_and_only_the_changed_calls_are_paid(
    tmp_path: Path,
) -> None:
    templates = tmp_path / "prompts"
    shutil.copytree(prompts_dir(), templates)
    cfg = config(prompts_dir=str(templates))
    backend = ScriptedBackend()
    pipeline(tmp_path, backend, cfg).run_until("extraction")
    assert len(backend.requests) == 2

    rerun = Pipeline(cfg, tmp_path / "run", llm_factory=scripted_factory(backend, cfg.llm))
    rerun.run_until("extraction")
    assert len(backend.requests) == 2  # nothing changed: up to date

    system = templates / "extraction.system.md"
    system.write_text(system.read_text(encoding="utf-8") + "\nBe brief.\n", encoding="utf-8")
    Pipeline(cfg, tmp_path / "run", llm_factory=scripted_factory(backend, cfg.llm)).run_until("extraction")
    assert len(backend.requests) == 4  # both prompts changed, both asked again
    assert "Be brief." in backend.requests[-1][0]["content"]


def test_editing_a_file_named_in_the_config_reruns_the_stage_that_reads_it(tmp_path: Path) -> None:
    background = tmp_path / "background.tsv"
    background.write_text("BLEU\tEvaluate-for\tmachine translation\n", encoding="utf-8")
    cfg = config(**{"fusion.background_graph": str(background)})
    backend = ScriptedBackend()
    pipeline(tmp_path, backend, cfg).run_until()
    first = RunDir(tmp_path / "run").manifest().stages

    Pipeline(cfg, tmp_path / "run", llm_factory=scripted_factory(backend, cfg.llm)).run_until()
    assert RunDir(tmp_path / "run").manifest().stages == first  # same file: every stage up to date

    background.write_text("BLEU\tUsed-for\tmachine translation\n", encoding="utf-8")  # same path
    Pipeline(cfg, tmp_path / "run", llm_factory=scripted_factory(backend, cfg.llm)).run_until()
    after = RunDir(tmp_path / "run").manifest().stages
    assert after["fusion"].config_hash != first["fusion"].config_hash  # fusion ran again ...
    assert {n: after[n] for n in after if n != "fusion"} == {n: first[n] for n in first if n != "fusion"}


def test_an_edited_seeds_file_reruns_the_seeds_stage(tmp_path: Path, scripted_server: ScriptedServer) -> None:
    """--seeds-file is read into seeds.user_seeds: the seeds stage's key holds its content, not its path."""
    seeds_file = tmp_path / "seeds.txt"
    seeds_file.write_text("machine translation\n", encoding="utf-8")
    settings = tmp_path / "kgc.toml"
    settings.write_text(
        f'[llm]\nbackend = "openai"\nbase_url = "{scripted_server.base_url}"\nmodel = "scripted"\n'
        "[seeds]\nuser_seeds_only = true\n[resolve]\nembedding_merge = false\n",
        encoding="utf-8",
    )
    run = RunDir(tmp_path / "run")
    command = ["build", str(corpus(tmp_path)), "--out", str(run.path), "-c", str(settings)]

    def build() -> list[str]:
        result = CliRunner().invoke(app, [*command, "--seeds-file", str(seeds_file)])
        assert result.exit_code == 0, result.output
        return sorted(seed.name for seed in run.read(artifacts.SEEDS))

    assert build() == ["machine translation"]
    first = run.manifest().stages["seeds"]
    assert build() == ["machine translation"] and run.manifest().stages["seeds"] == first  # up to date
    seeds_file.write_text("machine translation\nBLEU\n", encoding="utf-8")  # same path
    assert build() == ["bleu", "machine translation"]  # seeds are normalised
    assert run.manifest().stages["seeds"].config_hash != first.config_hash


def test_every_file_a_stage_declares_is_a_config_key() -> None:
    for stage in STAGES:
        configured_files(config(), stage.files)  # an unknown or renamed key fails here


def test_a_missing_prompt_template_is_a_config_error(tmp_path: Path) -> None:
    cfg = config(**{"extraction.prompt": "no-such-template.md"})
    with pytest.raises(ConfigError, match="prompt template not found"):
        pipeline(tmp_path, ScriptedBackend(), cfg).run_until("extraction")


OUT = Text("out.txt", "a test stage's output")


def test_resume_decisions_of_the_run_directory(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "run")
    run.write(OUT, "x\n")
    run.record("s", StageRecord(config_hash="c", input_hash="i", outputs=[OUT.name]))
    assert run.is_done("s", "c", "i")
    assert not run.is_done("s", "c2", "i")  # config changed
    assert not run.is_done("s", "c", "i2")  # inputs changed
    assert not run.is_done("other", "c", "i")  # never ran
    (run / OUT).unlink()
    assert not run.is_done("s", "c", "i")  # an output went missing
    run.write(OUT, "x\n")
    run.record(
        "s", StageRecord(status="partial", failed=2, config_hash="c", input_hash="i", outputs=[OUT.name])
    )
    assert not run.is_done("s", "c", "i")  # partial: the next run retries


def test_opening_a_missing_run_directory_read_only_is_an_error_and_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="not a kgc run directory"):
        RunDir(tmp_path / "none", create=False)
    assert not (tmp_path / "none").exists()


# -- incomplete runs ----------------------------------------------------------------------------------


def test_failed_extraction_calls_make_the_stage_partial_and_the_rerun_asks_only_those(tmp_path: Path) -> None:
    backend = ScriptedBackend([TransientLLMError("server error")])  # the first call fails
    p = pipeline(tmp_path, backend, config(**{"llm.limits.concurrency": 1}))
    p.run_until("extraction")
    assert p.failed_items() == {"extraction": 1}
    record = manifest(tmp_path)["stages"]["extraction"]
    assert (record["status"], record["failed"]) == ("partial", 1)

    asked = len(backend.requests)
    again = Pipeline(p.cfg, tmp_path / "run", llm_factory=scripted_factory(backend, p.cfg.llm))
    again.run_until("extraction")
    assert len(backend.requests) == asked + 1  # only the failed one; the other came from the cache
    assert again.failed_items() == {}


def test_failed_fusion_calls_make_fusion_partial(tmp_path: Path) -> None:
    backend = ScriptedBackend(rules=[{"task": "fusion", "raw": "not json at all"}])
    p = pipeline(tmp_path, backend)
    p.run_until("fusion")
    failed = p.failed_items()
    assert set(failed) == {"fusion"} and failed["fusion"] == len(backend.requests_for("fusion")) > 0


# -- extraction validation: every drop reason ------------------------------------------------------------


def test_each_drop_reason_is_counted() -> None:
    text = "BLEU scores evaluate machine translation."
    chunk = Chunk(id="d#0", doc_id="d", text=text, start=0, end=len(text))
    task = ExtractionTask(key="k", seed=None, chunks=[chunk])
    cfg = ExtractionConfig(max_name_chars=20, max_triplets_per_call=5)
    answer = ExtractionAnswer(
        triplets=[
            Triplet(head="BLEU", relation="Evaluate-for", tail="machine translation"),  # kept
            Triplet(head="BLEU", relation="Causes", tail="machine translation"),
            Triplet(head=" \x07 ", relation="Used-for", tail="machine translation"),
            Triplet(head="BLEU", relation="Used-for", tail="an extremely long name of something"),
            Triplet(head="BLEU score", relation="Used-for", tail="bleu scores"),
            Triplet(head="a", relation="Used-for", tail="b"),
            Triplet(head="c", relation="Used-for", tail="d"),  # 7th: over the limit of 5
        ]
    )
    kept, dropped = validate_triplets(answer, task, RelationSchema(), cfg)
    assert [(c.head, c.relation, c.tail) for c in kept] == [("BLEU", "Evaluate-for", "machine translation")]
    assert dict(dropped) == {
        "unknown relation": 1,
        "empty name": 1,
        "name too long": 1,
        "head equals tail": 1,
        "over the per-call limit": 2,
    }


# -- configuration -----------------------------------------------------------------------------------------


def test_precedence_is_toml_then_environment_then_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml = tmp_path / "kgc.toml"
    toml.write_text(
        '[llm]\nmodel = "from-toml"\ntimeout = 7\n[llm.limits]\nconcurrency = 2\n', encoding="utf-8"
    )
    monkeypatch.setenv("KGC_LLM__MODEL", "from-env")
    monkeypatch.setenv("KGC_LLM__LIMITS__CONCURRENCY", "3")
    cfg = load_config(toml, {"llm.model": "from-flag"})
    assert (cfg.llm.model, cfg.llm.limits.concurrency, cfg.llm.timeout) == ("from-flag", 3, 7.0)


@pytest.mark.parametrize("where", ["toml", "env"])
def test_an_api_key_outside_openai_api_key_is_refused(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml = tmp_path / "kgc.toml"
    if where == "toml":
        toml.write_text('[llm]\napi_key = "sk-secret"\n', encoding="utf-8")
    else:
        toml.write_text("", encoding="utf-8")
        monkeypatch.setenv("KGC_LLM__API_KEY", "sk-secret")
    with pytest.raises(ConfigError, match="OPENAI_API_KEY") as raised:
        load_config(toml)
    assert "sk-secret" not in str(raised.value)


def test_the_api_key_comes_from_openai_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    cfg = load_config()
    assert cfg.resolved_api_key() == "sk-from-env"
    assert "sk-from-env" not in json.dumps(cfg.redacted())


def test_an_unknown_key_in_a_section_is_an_error(tmp_path: Path) -> None:
    toml = tmp_path / "kgc.toml"
    toml.write_text("[fusion]\nfuzzy_treshold = 80\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="fuzzy_treshold"):
        load_config(toml)


# -- the dry-run estimate -----------------------------------------------------------------------------------


def test_estimate_counts_the_calls_the_run_makes_without_asking_the_llm(tmp_path: Path) -> None:
    backend = ScriptedBackend()
    p = pipeline(tmp_path, backend)
    guess = estimate(p)
    assert backend.requests == []
    assert guess.extraction_requests == 2
    assert guess.extraction_prompt_tokens > 0
    p.run_until("extraction")
    assert len(backend.requests_for("extraction")) == guess.extraction_requests


def test_the_run_records_its_resolved_config_without_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-never-written")
    cfg = config(**{"fusion.inferred_confidence": 0.25})
    pipeline(tmp_path, ScriptedBackend(), cfg).run_until("extraction")
    text = (tmp_path / "run" / "config.json").read_text(encoding="utf-8")
    assert "sk-never-written" not in text
    recorded = RunDir(tmp_path / "run").config()
    assert recorded is not None and recorded.fusion.inferred_confidence == 0.25
    assert recorded.relations == cfg.relations


def test_eval_uses_the_background_graph_the_run_recorded(tmp_path: Path) -> None:
    from kgc.evaluate import evaluate_run

    background = tmp_path / "background.tsv"
    background.write_text("bleu\tEvaluate-for\tmachine translation\n", encoding="utf-8")
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("bleu\tmachine translation\t1\nencoder\tbleu\t0\n", encoding="utf-8")
    cfg = config(**{"fusion.background_graph": str(background)})
    pipeline(tmp_path, ScriptedBackend(), cfg).run_until("fusion")
    report = evaluate_run(tmp_path / "run", pairs=pairs, write=False)
    assert report.links is not None
    assert report.links.background_graph == str(background)
    assert report.links.in_background == 1
