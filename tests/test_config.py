"""The config follows its rooms: every key described, the reference printed, old keys still read."""

from __future__ import annotations

import json
import logging
import re
import tomllib
from pathlib import Path

import pytest
from pydantic import Field
from typer.testing import CliRunner

from kgc.cli import app
from kgc.config import KgcConfig, Section, load_config
from kgc.config.moved import MOVED
from kgc.config.reference import render_markdown, sections, undescribed
from kgc.errors import ConfigError
from kgc.llm.factory import BACKENDS, make_backend, with_backend_defaults
from kgc.pipeline import Pipeline
from kgc.resources import demo_dir
from kgc.rundir import RunDir

REPO = Path(__file__).resolve().parents[1]
OLD_RUN_CONFIG = Path(__file__).parent / "data" / "config_5c6714b.json"  # a run's config.json at 5c6714b
runner = CliRunner()


def all_keys() -> set[str]:
    return {f"{s.name}.{k.name}" if s.name else k.name for s in sections() for k in s.keys}


# -- every key described, the reference printed ------------------------------------------------------


def test_every_key_and_section_has_a_description() -> None:
    assert undescribed() == [], "describe these keys: Field(..., description=...) (sections: a docstring)"


def test_a_key_without_a_description_is_found() -> None:
    class Toy(Section):
        """A toy section."""

        described: int = 1
        documented: int = Field(1, description="a number")

    class Root(Section):
        toy: Toy = Toy()

    assert undescribed(Root) == ["toy.described"]


def test_kgc_config_prints_every_key_with_its_default() -> None:
    out = runner.invoke(app, ["config"])
    assert out.exit_code == 0, out.output
    for s in sections():
        for k in s.keys:
            assert re.search(rf"^  {k.name}: ", out.output, re.M), f"{s.name}.{k.name} not in `kgc config`"
    assert "  concurrency: int = 4\n      requests in flight at once" in out.output


def test_kgc_config_shows_one_section_or_says_which_exist() -> None:
    llm = runner.invoke(app, ["config", "llm"])
    assert llm.exit_code == 0
    assert re.findall(r"^\[(\S+)\]$", llm.output, re.M) == [
        "llm",
        "llm.limits",
        "llm.budget",
        "llm.ray",
        "llm.embedded",
    ]
    wrong = runner.invoke(app, ["config", "lm"])
    assert wrong.exit_code == 1
    assert "no config section 'lm'; sections: corpus, embedding," in wrong.output


def test_the_toml_reference_is_the_defaults_once_uncommented(tmp_path: Path) -> None:
    text = runner.invoke(app, ["config", "--toml"]).output
    assert tomllib.loads(text) == {s.name: {} for s in sections() if s.name and "." not in s.name} | {
        "llm": {"limits": {}, "budget": {}, "ray": {}, "embedded": {}},
        "embedding": {"ray": {}},
    }  # every key commented out: the file as printed changes nothing
    uncommented = re.sub(r"^# (\[\[relations\.types\]\]|\w+ = .*)$", r"\1", text, flags=re.M)
    (tmp_path / "all.toml").write_text(uncommented, encoding="utf-8")
    values = tomllib.loads(uncommented)
    assert values["llm"]["limits"]["concurrency"] == 4 and len(values["relations"]["types"]) == 7
    assert load_config(tmp_path / "all.toml").model_dump() == load_config(None).model_dump()


def test_docs_configuration_md_is_the_generated_reference() -> None:
    committed = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == render_markdown(sections()), (
        "regenerate: kgc config --markdown > docs/configuration.md"
    )


def test_the_demo_config_is_valid_and_uses_no_old_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    cfg = load_config(demo_dir() / "kgc.toml")
    assert (cfg.llm.limits.concurrency, cfg.extraction.max_chars) == (1, 1200)
    assert caplog.messages == []


# -- keys that moved --------------------------------------------------------------------------------------


def test_every_moved_key_has_a_new_place_and_no_longer_an_old_one() -> None:
    keys = all_keys()
    assert {new for new in MOVED.values()} <= keys
    assert not set(MOVED) & keys


def test_an_old_toml_key_is_read_with_a_warning_naming_its_new_place(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    toml = tmp_path / "old.toml"
    toml.write_text(
        "[fusion]\nmerge_threshold = 0.8\nmax_neighbourhoods = 3\n[llm]\nconcurrency = 2\nn_ctx = 4096\n"
        "[retrieval]\nmax_chars = 1200\n",
        encoding="utf-8",
    )
    caplog.set_level(logging.WARNING)
    cfg = load_config(toml)
    assert (cfg.resolve.merge_threshold, cfg.fusion.max_neighbourhoods) == (0.8, 3)
    assert (cfg.llm.limits.concurrency, cfg.llm.embedded.n_ctx, cfg.extraction.max_chars) == (2, 4096, 1200)
    assert sorted(caplog.messages) == [
        "config: fusion.merge_threshold has moved to [resolve] merge_threshold "
        "(KGC_RESOLVE__MERGE_THRESHOLD); the old place is read for now",
        "config: llm.concurrency has moved to [llm.limits] concurrency (KGC_LLM__LIMITS__CONCURRENCY); "
        "the old place is read for now",
        "config: llm.n_ctx has moved to [llm.embedded] n_ctx (KGC_LLM__EMBEDDED__N_CTX); the old place is "
        "read for now",
        "config: retrieval.max_chars has moved to [extraction] max_chars (KGC_EXTRACTION__MAX_CHARS); the "
        "old place is read for now",
    ]


def test_old_and_new_environment_variables_and_flags(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("KGC_LLM__CONCURRENCY", "2")
    monkeypatch.setenv("KGC_LLM__BUDGET__MAX_COST", "1.5")
    caplog.set_level(logging.WARNING)
    cfg = load_config(None)
    assert (cfg.llm.limits.concurrency, cfg.llm.budget.max_cost) == (2, 1.5)
    assert [m.split(";")[0] for m in caplog.messages] == [
        "config: llm.concurrency has moved to [llm.limits] concurrency (KGC_LLM__LIMITS__CONCURRENCY)"
    ]
    # A flag (the new place) wins over an old variable, which is then said to be ignored.
    caplog.clear()
    assert load_config(None, {"llm.limits.concurrency": 7}).llm.limits.concurrency == 7
    assert caplog.messages == [
        "config: llm.concurrency is ignored, [llm.limits] concurrency (KGC_LLM__LIMITS__CONCURRENCY) is "
        "given too; remove the old key"
    ]


def test_a_run_directory_of_an_older_kgc_keeps_its_config(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "config.json").write_text(OLD_RUN_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    caplog.set_level(logging.WARNING)
    cfg = RunDir(tmp_path).config()
    assert cfg is not None
    assert caplog.messages == []  # its user never wrote those keys: moved quietly
    assert (cfg.llm.limits.concurrency, cfg.resolve.merge_threshold, cfg.resolve.prompt) == (
        1,
        0.9,
        "my_resolve.md",
    )
    assert (cfg.extraction.max_chars, cfg.llm.budget.deadline_seconds) == (1200, 600)
    assert cfg.llm.embedded.model_path == Path("/models/my.gguf")
    assert (cfg.extraction.prompt, cfg.resolve.llm_band) == ("extraction_compact.md", False)


def test_the_llm_identity_in_stage_keys_is_unchanged() -> None:
    """Stage keys of runs made before the split keep matching: the identity is the same JSON."""
    cfg = KgcConfig.recorded(json.loads(OLD_RUN_CONFIG.read_text(encoding="utf-8")))
    assert json.dumps(cfg.llm.identity(), sort_keys=True) == (
        '{"backend": "embedded", "model": "qwen2.5-coder-1.5b-instruct-q4_k_m", '
        '"model_path": "/models/my.gguf", "temperature": 0.0}'
    )


def test_section_hash_of_one_key_changes_with_that_key_only() -> None:
    base = KgcConfig()
    one = base.section_hash("retrieval", "extraction.max_chars")
    other_key = base.model_copy(update={"extraction": base.extraction.model_copy(update={"prompt": "x.md"})})
    assert other_key.section_hash("retrieval", "extraction.max_chars") == one
    that_key = base.model_copy(update={"extraction": base.extraction.model_copy(update={"max_chars": 5})})
    assert that_key.section_hash("retrieval", "extraction.max_chars") != one


# -- what the backend decides ---------------------------------------------------------------------------


def test_each_backend_is_registered_with_its_defaults() -> None:
    assert sorted(BACKENDS) == ["embedded", "openai"]
    chosen = {name: with_backend_defaults(load_config(None, {"llm.backend": name})) for name in BACKENDS}
    assert {n: (c.extraction.prompt, c.resolve.llm_band) for n, c in chosen.items()} == {
        "embedded": ("extraction_compact.md", False),
        "openai": ("extraction.md", True),
    }


def test_an_unknown_backend_names_the_registered_ones(tmp_path: Path) -> None:
    cfg = load_config(None, {"llm.backend": "nope"})  # the config does not know the backends
    with pytest.raises(ConfigError, match=r"unknown llm.backend 'nope'; valid: embedded, openai"):
        Pipeline(cfg, tmp_path / "run")
    with pytest.raises(ConfigError, match=r"unknown llm.backend 'nope'"):
        make_backend(cfg.llm, None)


def test_the_pipeline_records_what_the_backend_decided(tmp_path: Path) -> None:
    pipeline = Pipeline(load_config(None, {"llm.backend": "openai"}), tmp_path / "run")
    pipeline.run.write_config(pipeline.cfg)
    recorded = pipeline.run.config()
    assert recorded is not None
    assert (recorded.extraction.prompt, recorded.resolve.llm_band) == ("extraction.md", True)
