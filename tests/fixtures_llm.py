"""Fixtures for LLM servers (scripted OpenAI-compatible server, llama.cpp server).

`scripted_server` is a real HTTP server on 127.0.0.1 (a fresh one per test); `scripted_llm` is an
LLMClient talking to it through the official openai client, with a cache and failures file in the
test's tmp_path and tiny retry delays.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from kgc.config import LLMConfig
from kgc.llm.client import LLMClient
from kgc.llm.limits import RetryPolicy
from kgc.llm.openai_backend import OpenAIBackend
from kgc.testing.scripted_server import ScriptedServer

# Retries in tests wait milliseconds, and a Retry-After hint at most 2 s.
FAST_RETRY = RetryPolicy(base_delay=0.01, max_delay=0.05, max_retry_after=2.0)


def scripted_llm_config(server: ScriptedServer, **overrides: Any) -> LLMConfig:
    """An "openai" LLMConfig pointing at `server`, with short timeouts; `overrides` win, each key in
    the sub-section that has it (`concurrency=1` sets `limits.concurrency`)."""
    settings: dict[str, Any] = {
        "backend": "openai",
        "base_url": server.base_url,
        "model": "scripted",
        "timeout": 5.0,
        "limits": {"max_retries": 3, "max_invalid_retries": 2, "concurrency": 4},
    }
    sections = {
        name: field.annotation
        for name, field in LLMConfig.model_fields.items()
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
    }
    for key, value in overrides.items():
        section = next((s for s, model in sections.items() if key in model.model_fields), None)
        if section is None:
            settings[key] = value
        else:
            settings.setdefault(section, {})[key] = value
    return LLMConfig(**settings)


def make_scripted_client(
    cfg: LLMConfig, tmp_path: Path, api_key: str | None = None, retry_policy: RetryPolicy = FAST_RETRY
) -> LLMClient:
    """An LLMClient over the openai backend with its cache and failures file in `tmp_path`."""
    return LLMClient(
        OpenAIBackend(cfg, api_key),
        cfg,
        cache_path=tmp_path / "llm_cache.sqlite",
        failures_path=tmp_path / "llm_failures.jsonl",
        retry_policy=retry_policy,
        show_progress=False,
    )


@pytest.fixture
def scripted_server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        yield server


@pytest.fixture
def scripted_llm(scripted_server: ScriptedServer, tmp_path: Path) -> Iterator[LLMClient]:
    client = make_scripted_client(scripted_llm_config(scripted_server), tmp_path)
    yield client
    client.close()
