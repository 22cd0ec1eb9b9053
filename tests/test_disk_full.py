"""A full disk: one line saying so and that a rerun after freeing space resumes; the LLM cache is never
called damaged unless sqlite's integrity check says it is (issue 17.5).

A real full disk where the machine lets us mount a small tmpfs (root with CAP_SYS_ADMIN, as in CI's
container); an injected OSError(ENOSPC) everywhere else."""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kgc.cli import app
from kgc.errors import DISK_FULL_HINT, DiskFullError, ExportError, LLMError, is_disk_full
from kgc.llm.cache import AnswerCache, check_file
from kgc.testing.scripted_server import ScriptedServer

runner = CliRunner()
WORDS = ["neural", "machine", "translation", "attention", "encoder", "parsing", "tagging", "corpus", "metric"]
DOCUMENTS = 40


def write_corpus(folder: Path) -> Path:
    """DOCUMENTS short texts, each pairing a few phrases (the scripted server's triplets come from them)."""
    folder.mkdir()
    for i in range(DOCUMENTS):
        a, b, c = WORDS[i % 9], WORDS[i // 9], WORDS[(7 * i + 3) % 9]  # a distinct text each
        text = f"{a} {b} is used for {c} {a}. The {b} {c} improves {a} {b}. " * 8
        (folder / f"d{i:02d}.txt").write_text(text, encoding="utf-8")
    return folder


def write_config(path: Path, server: ScriptedServer) -> Path:
    path.write_text(
        f'[llm]\nbackend = "openai"\nbase_url = "{server.base_url}"\nmodel = "scripted"\ntimeout = 5.0\n'
        '[extraction]\nmode = "document"\n[fusion]\nembedding_merge = false\n',
        encoding="utf-8",
    )
    return path


@contextlib.contextmanager
def small_disk(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at `where`; the test is skipped where mounting is not allowed."""
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def grow(disk: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(disk)], check=True)


def answers_by_stage(cache: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(f"{cache.as_uri()}?mode=ro", uri=True)) as db:
        return dict(db.execute("SELECT stage, COUNT(*) FROM answers GROUP BY stage").fetchall())


def one_line(output: str) -> str:
    return " ".join(output.split())


def test_a_full_disk_stops_the_build_in_one_line_and_a_rerun_after_freeing_space_resumes(
    tmp_path: Path,
) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    with ScriptedServer() as server, small_disk(tmp_path / "disk", "160k") as disk:
        config = write_config(tmp_path / "kgc.toml", server)
        command = ["build", str(corpus), "--out", str(disk / "run"), "-c", str(config)]
        result = runner.invoke(app, command)
        assert result.exit_code == 1, result.output
        message = one_line(result.output)
        assert "error: the disk is full: " in message
        assert DISK_FULL_HINT in message
        assert "Traceback" not in result.output
        assert "start afresh" not in message  # 5c6714b: a traceback, then advice to delete the cache
        cached = answers_by_stage(disk / "run" / "llm_cache.sqlite").get("extraction", 0)
        assert 0 < cached < DOCUMENTS  # it stopped during extraction, with answers kept

        grow(disk, "8m")
        server.reset_stats()
        again = runner.invoke(app, command)
        assert again.exit_code == 0, again.output
        assert server.stats.by_task["extraction"] == DOCUMENTS - cached  # the paid answers were kept


def test_a_full_disk_when_the_cache_is_opened_says_so_and_keeps_the_intact_cache(tmp_path: Path) -> None:
    """5c6714b: 'cannot open the LLM cache ...: disk I/O error; delete the file to start afresh'."""
    with small_disk(tmp_path / "disk", "256k") as disk:
        with AnswerCache(disk / "llm_cache.sqlite") as cache:
            for i in range(20):
                cache.put(f"key {i}", "extraction", "an answer " * 50)
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        (disk / "filler").write_bytes(b"\0" * free)
        with pytest.raises(DiskFullError) as error:
            AnswerCache(disk / "llm_cache.sqlite")
        message = str(error.value)
        assert message.startswith(
            f"the disk is full: the LLM cache {disk / 'llm_cache.sqlite'} cannot be opened"
        )
        assert "Do not delete the cache, it is intact (20 answers)" in message
        assert message.endswith(DISK_FULL_HINT)
        (disk / "filler").unlink()
        with AnswerCache(disk / "llm_cache.sqlite") as cache:
            assert len(cache) == 20


def test_only_a_cache_that_fails_its_integrity_check_is_called_damaged(tmp_path: Path) -> None:
    with AnswerCache(tmp_path / "llm_cache.sqlite") as cache:
        for i in range(50):
            cache.put(f"key {i}", "extraction", f"answer {i} " * 40)
    assert check_file(tmp_path / "llm_cache.sqlite") == (50, "")
    data = bytearray((tmp_path / "llm_cache.sqlite").read_bytes())
    data[3 * 4096 : 3 * 4096 + 512] = b"\xff" * 512  # a torn page among the answers
    (tmp_path / "torn.sqlite").write_bytes(bytes(data))
    answers, problem = check_file(tmp_path / "torn.sqlite")
    assert answers is None and problem
    with AnswerCache(tmp_path / "torn.sqlite") as torn, pytest.raises(LLMError) as error:
        for i in range(50):
            torn.get(f"key {i}")
    assert "cannot be read" in str(error.value)
    assert "the file is damaged" in str(error.value)
    assert "Delete it and its -wal and -shm files to start afresh" in str(error.value)

    (tmp_path / "garbage.sqlite").write_bytes(b"not a database " * 500)
    with pytest.raises(LLMError, match=r"cannot be opened .*file is not a database.*Delete it"):
        AnswerCache(tmp_path / "garbage.sqlite")


@pytest.mark.parametrize("wrapped", [False, True])
def test_no_space_left_on_any_write_is_one_line_saying_the_disk_is_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wrapped: bool
) -> None:
    """An artifact write that meets ENOSPC, raw or inside a KgcError: the same one line, exit 1."""
    import kgc.rundir

    writes = 0
    real_write = kgc.rundir.atomic_write_bytes

    def full_after_two_writes(path: Path, data: bytes) -> None:
        nonlocal writes
        writes += 1
        if writes <= 2:
            return real_write(path, data)
        full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        if not wrapped:
            raise full
        raise ExportError(f"cannot write {path}: {full.strerror}") from full

    monkeypatch.setattr(kgc.rundir, "atomic_write_bytes", full_after_two_writes)
    corpus = write_corpus(tmp_path / "corpus")
    with ScriptedServer() as server:
        config = write_config(tmp_path / "kgc.toml", server)
        result = runner.invoke(app, ["build", str(corpus), "--out", str(tmp_path / "run"), "-c", str(config)])
    assert result.exit_code == 1, result.output
    message = one_line(result.output)
    assert "error: the disk is full: " in message
    assert "No space left on device" in message
    assert message.endswith(DISK_FULL_HINT)
    assert "Traceback" not in result.output


def test_other_os_errors_are_not_taken_for_a_full_disk() -> None:
    assert is_disk_full(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not is_disk_full(LLMError("the disk is full"))  # by type and code, never by text
    try:
        raise ExportError("cannot write") from OSError(errno.ENOSPC, "No space left on device")
    except ExportError as e:
        assert is_disk_full(e)
