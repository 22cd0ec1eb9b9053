"""Files kgc needs at run time (prompt templates, the demo corpus, the example vocabulary), wherever kgc
is installed.

The repository keeps them once, in `prompts/`, `data/demo/` and `data/vocabulary/`; the wheel carries them as package data
under `kgc/_data/` (hatchling `force-include` in pyproject.toml). An editable install or a checkout has
no `kgc/_data/`, and reads the repository folders instead.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

_PACKAGE_DATA = Path(str(files("kgc"))) / "_data"
_CHECKOUT = Path(__file__).resolve().parent.parent


def _data_dir(packaged: str, in_checkout: str) -> Path:
    installed = _PACKAGE_DATA / packaged
    return installed if installed.is_dir() else _CHECKOUT / in_checkout


def prompts_dir() -> Path:
    """The bundled prompt templates (`extraction.md`, `fusion.md`, ...)."""
    return _data_dir("prompts", "prompts")


def demo_dir() -> Path:
    """The bundled demo: `corpus.jsonl`, `kgc.toml`, `gold_triplets.tsv`, `seeds.txt`."""
    return _data_dir("demo", "data/demo")


def demo_corpus() -> Path:
    return demo_dir() / "corpus.jsonl"


def example_vocabulary() -> Path:
    """The bundled example vocabulary of the README's linking examples (41 NLP concepts)."""
    return _data_dir("vocabulary", "data/vocabulary") / "nlp_concepts.csv"
