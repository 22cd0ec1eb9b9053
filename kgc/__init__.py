"""kgc: turn a text corpus into a knowledge graph with LLMs (Graphusion-style).

Heavy dependencies (torch, BERTopic, llama.cpp) are imported only by the stages that need them.
"""

__version__ = "0.1.0"

from typing import Any

__all__ = ["__version__", "resolve_names"]


def __getattr__(name: str) -> Any:
    # kgc.resolve_names(...) without importing the resolver (numpy, rapidfuzz) on every `import kgc`
    if name == "resolve_names":
        from kgc.resolve import resolve_names

        return resolve_names
    raise AttributeError(f"module 'kgc' has no attribute {name!r}")
