"""Backends chosen by `llm.backend`; heavy ones are imported only when chosen."""

from __future__ import annotations

from kgc.config import LLMConfig
from kgc.errors import ConfigError
from kgc.llm.base import ChatBackend

BACKENDS = ("embedded", "openai")


def make_backend(cfg: LLMConfig, api_key: str | None) -> ChatBackend:
    """The backend `cfg.backend` names: "openai" (any OpenAI-compatible server) or "embedded" (llama.cpp)."""
    if cfg.backend == "openai":
        from kgc.llm.openai_backend import OpenAIBackend

        return OpenAIBackend(cfg, api_key)
    if cfg.backend == "embedded":
        # llama.cpp and the model files load only here, so the openai path never needs them.
        from kgc.llm.embedded import EmbeddedBackend

        return EmbeddedBackend(cfg)
    raise ConfigError(f"unknown llm.backend {cfg.backend!r}; valid: {', '.join(BACKENDS)}")
