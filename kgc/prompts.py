"""Prompt templates live as files in prompts/: `<name>.system.md` and `<name>.md` ($placeholders)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from string import Template

from kgc.errors import ConfigError
from kgc.llm.base import Message


def _template(path: Path) -> Template:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read prompt template {path}: {e.strerror or e}") from e
    return _parsed(text)


@lru_cache(maxsize=64)
def _parsed(text: str) -> Template:
    # Keyed by the text, not the path: an edited template is read afresh (and re-runs its stage).
    return Template(text)


def prompt_files(prompts_dir: Path, name: str) -> list[Path]:
    """The files template `name` is made of: `<name>` and, if present, its `.system` companion."""
    user_path = prompts_dir / name
    system_path = user_path.with_name(user_path.stem + ".system" + user_path.suffix)
    return [user_path, system_path] if system_path.is_file() else [user_path]


def render(prompts_dir: Path, name: str, **values: object) -> list[Message]:
    """System + user messages of template `name` (e.g. 'extraction.md'), placeholders filled in both."""
    user_path, *system = prompt_files(prompts_dir, name)
    messages: list[Message] = []
    for system_path in system:
        messages.append({"role": "system", "content": _fill(system_path, values).strip()})
    messages.append({"role": "user", "content": _fill(user_path, values)})
    return messages


def _fill(path: Path, values: dict[str, object]) -> str:
    try:
        return _template(path).substitute(values)
    except KeyError as e:
        raise ConfigError(f"prompt {path} uses an unknown placeholder ${e.args[0]}") from e
    except ValueError as e:  # a '$' followed by neither a name nor '$'
        raise ConfigError(f"prompt {path}: {e} (write $$ for a literal $)") from e
