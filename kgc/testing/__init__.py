"""kgc's public testing API: LLM doubles for tests of code built on kgc (and kgc's own tests).

- `ScriptedBackend` (in-process, no socket): queued replies, rules, deterministic defaults;
  `scripted_factory` plugs it into a Pipeline;
- `ScriptedServer` (a real OpenAI-compatible HTTP server on 127.0.0.1), for tests of the HTTP path;
  `python -m kgc.testing.scripted_server` serves one from the command line;
- `HashingEmbedder`: a deterministic sentence embedder without a model, for `Pipeline(embedder=...)`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["HashingEmbedder", "ScriptedBackend", "ScriptedServer", "scripted_factory"]


def __getattr__(name: str) -> Any:
    # Imported on first use, so `python -m kgc.testing.scripted_server` does not import itself twice.
    if name in ("ScriptedBackend", "scripted_factory"):
        from kgc.testing import scripted_backend

        return getattr(scripted_backend, name)
    if name == "HashingEmbedder":
        from kgc.testing.embedder import HashingEmbedder

        return HashingEmbedder
    if name == "ScriptedServer":
        from kgc.testing.scripted_server import ScriptedServer

        return ScriptedServer
    raise AttributeError(name)
