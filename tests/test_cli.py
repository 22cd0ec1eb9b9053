"""The command line, in-process: every command has help with an example, and the exit codes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import typer
from typer.testing import CliRunner

from kgc.cli import app

runner = CliRunner()


def _is_group(command: Any) -> bool:
    return hasattr(command, "list_commands")  # click's Group, or typer's own copy of it


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        path = (*prefix, name)
        yield path
        if _is_group(command):
            yield from _commands(command, path)


ALL_COMMANDS = sorted(_commands(typer.main.get_group(app)))


def test_the_command_list_is_found() -> None:
    names = {" ".join(c) for c in ALL_COMMANDS}
    assert {"build", "seeds", "extract", "fuse", "demo", "summary", "export graphml", "export neo4j"} <= names


@pytest.mark.parametrize("command", ALL_COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(command: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    leaf: Any = typer.main.get_group(app)
    for name in command:
        leaf = leaf.get_command(click.Context(leaf), name)
    assert leaf.help and leaf.help.strip(), f"kgc {' '.join(command)} has no help text"
    if not _is_group(leaf):
        assert "Example: kgc " in result.output, f"kgc {' '.join(command)} --help shows no example"


def test_summary_of_a_missing_run_directory_is_an_error_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here"
    result = runner.invoke(app, ["summary", str(missing)])
    assert result.exit_code == 1
    assert "not a kgc run directory" in result.output
    assert not missing.exists()


def test_out_pointing_at_a_file_is_a_clear_error(tmp_path: Path) -> None:
    corpus = tmp_path / "c.txt"
    corpus.write_text("one document\n", encoding="utf-8")
    taken = tmp_path / "taken"
    taken.write_text("x", encoding="utf-8")
    result = runner.invoke(app, ["seeds", str(corpus), "--out", str(taken)])
    assert result.exit_code == 1
    assert "is a file, not a directory" in result.output


def test_a_missing_corpus_is_a_clear_error_and_leaves_no_run_directory(tmp_path: Path) -> None:
    result = runner.invoke(app, ["seeds", str(tmp_path / "no-such-corpus"), "--out", str(tmp_path / "run")])
    assert result.exit_code == 1
    assert "corpus not found" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "run").exists()
