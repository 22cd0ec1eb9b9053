"""Prompt templates: files in prompts/, placeholders filled in the system and the user message."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgc.config import load_config
from kgc.errors import ConfigError
from kgc.llm.factory import with_backend_defaults
from kgc.models import Chunk
from kgc.prompts import render
from kgc.resources import prompts_dir
from kgc.stages.extraction import ExtractionTask, build_messages


def write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def test_placeholders_are_filled_in_both_messages(tmp_path: Path) -> None:
    write(tmp_path, "task.system.md", "Relations: $names\n")
    write(tmp_path, "task.md", 'Text: "$text" costs $$5')
    assert render(tmp_path, "task.md", names="A, B", text="x $y") == [
        {"role": "system", "content": "Relations: A, B"},
        {"role": "user", "content": 'Text: "x $y" costs $5'},  # values are not templates themselves
    ]


def test_without_a_system_file_there_is_only_the_user_message(tmp_path: Path) -> None:
    write(tmp_path, "task.md", "$text")
    assert render(tmp_path, "task.md", text="hello") == [{"role": "user", "content": "hello"}]


@pytest.mark.parametrize(
    ("system", "message"),
    [
        ("Use $nope here", r"task\.system\.md uses an unknown placeholder \$nope"),
        ("Costs 5$ each", r"task\.system\.md: Invalid placeholder .*write \$\$ for a literal \$"),
    ],
)
def test_a_bad_system_template_names_its_file(tmp_path: Path, system: str, message: str) -> None:
    write(tmp_path, "task.system.md", system)
    write(tmp_path, "task.md", "$text")
    with pytest.raises(ConfigError, match=message):
        render(tmp_path, "task.md", text="hello")


def test_a_missing_template_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read prompt template .*absent\.md"):
        render(tmp_path, "absent.md")


def prompt_of(overrides: dict[str, object]) -> str:
    return with_backend_defaults(load_config(None, overrides)).extraction.prompt


def test_the_prompt_follows_the_backend_unless_chosen() -> None:
    assert load_config(None).extraction.prompt == "auto"  # the config leaves it to the backend
    assert prompt_of({"llm.backend": "embedded"}) == "extraction_compact.md"
    assert prompt_of({"llm.backend": "openai"}) == "extraction.md"
    assert prompt_of({"llm.backend": "embedded", "extraction.prompt": "mine.md"}) == "mine.md"


@pytest.mark.parametrize("backend", ["embedded", "openai"])
def test_the_bundled_extraction_prompts_render(backend: str) -> None:
    cfg = with_backend_defaults(load_config(None, {"llm.backend": backend}))
    chunk = Chunk(id="d1#0", doc_id="d1", text="BERT is a transformer encoder.", start=0, end=30)
    task = ExtractionTask(key="bert", seed="bert", chunks=[chunk])
    messages = build_messages(task, cfg.relations, cfg.extraction, prompts_dir())
    prompt = "\n".join(m["content"] for m in messages)
    assert all(name in prompt for name in cfg.relations.names)
    assert '"BERT is a transformer encoder."' in messages[-1]["content"]
    if backend == "embedded":  # the compact prompt: a fixed system message, the text alone after it
        assert messages[-1]["content"] == 'Text: "BERT is a transformer encoder."\nAnswer:\n'
        assert "Compare (undirected)" not in prompt
    else:  # the full prompt: relation definitions and the seed
        assert "Compare (undirected)" in prompt and "## Seed\nbert" in prompt
