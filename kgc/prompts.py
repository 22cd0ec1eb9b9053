"""Prompt templates live as files in prompts/: `<name>.system.md` and `<name>.md` ($placeholders)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from string import Template

from kgc.errors import ConfigError
from kgc.llm.base import Message


@lru_cache(maxsize=64)
def _template(path: Path) -> Template:
    try:
        return Template(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"cannot read prompt template {path}: {e.strerror or e}") from e


def render(prompts_dir: Path, name: str, **values: object) -> list[Message]:
    """System + user messages of template `name` (e.g. 'extraction.md'), placeholders filled."""
    user_path = prompts_dir / name
    system_path = user_path.with_name(user_path.stem + ".system" + user_path.suffix)
    try:
        user = _template(user_path).substitute(values)
    except KeyError as e:
        raise ConfigError(f"prompt {user_path} uses an unknown placeholder ${e.args[0]}") from e
    messages: list[Message] = []
    if system_path.is_file():
        messages.append({"role": "system", "content": _template(system_path).template.strip()})
    messages.append({"role": "user", "content": user})
    return messages
