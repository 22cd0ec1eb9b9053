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


# ids without the word 'embedded', which conftest takes for the marker of the real model's tests
@pytest.mark.parametrize("backend", ["embedded", "openai"], ids=["compact", "full"])
def test_the_bundled_extraction_prompts_render(backend: str) -> None:
    cfg = with_backend_defaults(load_config(None, {"llm.backend": backend}))

    def messages_for(text: str) -> list[dict[str, str]]:
        chunk = Chunk(id="d1#0", doc_id="d1", text=text, start=0, end=len(text))
        task = ExtractionTask(key="bert", seed="bert", chunks=[chunk])
        return build_messages(task, cfg.relations, cfg.extraction, prompts_dir())

    messages = messages_for("BERT is a transformer encoder.")
    prompt = "\n".join(m["content"] for m in messages)
    # every relation with its definition and example, and a worked example made of those examples
    assert (
        "- Compare (undirected): " in prompt
        and '"BERT outperforms ELMo on GLUE." gives (BERT, Compare, ELMo)' in prompt
    )
    assert '{"head": "LSTM", "relation": "Hyponym-Of", "tail": "recurrent neural network"}' in prompt
    assert '"BERT is a transformer encoder."' in messages[-1]["content"]
    if backend == "embedded":  # a fixed system message (llama.cpp reuses it), then the text and its concepts
        assert messages[-1]["content"] == (
            'Text: "BERT is a transformer encoder."\nConcepts: BERT; transformer encoder\nAnswer:\n'
        )
        assert messages_for("GPT is a decoder.")[0] == messages[0]
    else:  # the full prompt: the seed, and the concepts as a list
        assert "## Seed\nbert" in prompt
        assert "## Concepts\n- BERT\n- transformer encoder\n" in prompt
