"""`[llm]`: which model answers and how it is reached, with one sub-section per concern:
`[llm.limits]` (how many requests, how fast, how often tried again), `[llm.budget]` (when the run
stops cleanly), `[llm.ray]` (the Ray executor) and `[llm.embedded]` (the in-process model).

The backends themselves are registered in kgc.llm.factory; this module does not know them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from kgc.config.base import Section


class LimitsConfig(Section):
    """How many requests run at once, how fast, and how often one is tried again."""

    concurrency: int = Field(
        4, ge=1, description="requests in flight at once (the embedded model answers one at a time)"
    )
    requests_per_minute: float | None = Field(None, description="requests started per minute at most")
    tokens_per_minute: float | None = Field(None, description="tokens (prompt and answer) per minute at most")
    max_retries: int = Field(
        12,
        description="retries of a request that met a transient error (HTTP 429/5xx, timeout, dropped "
        "connection), with backoff: enough for an item to get through a server failing half the "
        "requests (0.5**13: one item in 8,000 fails); a dead or hung one is stopped by the circuit breaker",
    )
    max_invalid_retries: int = Field(
        4,
        description="corrective re-asks when the answer is not schema-valid JSON (or JSON cut short "
        "although the server said it had finished): with a server cutting 10% of the answers, one "
        "item in 100,000 fails",
    )
    circuit_breaker_streak: int = Field(
        6,
        ge=1,
        description="server failures in a row (connection errors, timeouts, HTTP 5xx; not 429) that stop "
        "the run, two more for each failure among the circuit_breaker_window requests before them: a "
        "server that never answered, or answered well and then went down, stops after 6 failed requests",
    )
    circuit_breaker_failures: int = Field(
        19,
        ge=1,
        description="server failures (connection errors, timeouts, HTTP 5xx; not 429) among the last "
        "circuit_breaker_window requests that stop the run: a server that is down or fails nearly "
        "everything (a 50%-flaky one does not)",
    )
    circuit_breaker_rate_limited: int = Field(
        50,
        ge=1,
        description="HTTP 429s in a row, with no answer between, that stop the run (resumable): a server "
        "or account refusing everything; pacing that lets answers through never gets there",
    )
    circuit_breaker_window: int = Field(
        20, ge=1, description="the requests circuit_breaker_failures counts over"
    )
    circuit_breaker_seconds: float | None = Field(
        None,
        gt=0,
        description="seconds of waiting on the server without one successful answer (and two failed "
        "requests) that stop the run: a hung server. Backoff between retries is not waiting. "
        "None: llm.timeout, so a hung server stops the run within about two timeouts",
    )


class BudgetConfig(Section):
    """When the run stops cleanly (resumable: the next run goes on from there)."""

    max_tokens_total: int | None = Field(None, description="stop after this many tokens")
    max_cost: float | None = Field(None, description="stop at this cost, in the currency of `prices`")
    deadline_seconds: float | None = Field(
        None,
        gt=0,
        description="seconds from the start of the run: after it no LLM request starts and the run stops "
        "(resumable); a request already sent may take up to `llm.timeout` longer",
    )
    prices: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="model -> (input, output) price per 1M tokens"
    )


class RayConfig(Section):
    """`llm.executor = "ray"`: requests as tasks on a Ray cluster (cache, limits, budgets and retries
    stay in this process, see kgc.llm.executors)."""

    address: str | None = Field(
        None,
        description="the cluster to join ('auto', 'host:6379', 'ray://host:10001'); None: $RAY_ADDRESS, "
        "else the one `ray start` started on this node, else a new local one",
    )
    cpus_per_call: float = Field(
        0.25, gt=0, description="CPUs a request task reserves (an HTTP call mostly waits)"
    )


class EmbeddedConfig(Section):
    """`llm.backend = "embedded"`: llama.cpp in this process, offline."""

    model_path: Path | None = Field(
        None, description="a GGUF file; None assembles the bundled Qwen2.5-Coder-1.5B"
    )
    n_ctx: int = Field(8192, description="context window in tokens (prompt and answer); more costs memory")


class LLMConfig(Section):
    """The LLM: which model answers, and how it is reached."""

    backend: str = Field(
        "embedded",
        description="'embedded': llama.cpp in this process (offline); 'openai': any OpenAI-compatible "
        "server (the backends are registered in kgc.llm.factory)",
    )
    model: str = Field(
        "qwen2.5-coder-1.5b-instruct-q4_k_m",
        description="the model name sent to the server (part of every cache and stage key)",
    )
    base_url: str | None = Field(None, description="the server's endpoint; None: $OPENAI_BASE_URL")
    temperature: float = Field(0.0, description="sampling temperature; 0 answers the same every time")
    max_output_tokens: int = Field(1024, description="tokens one answer may have")
    response_format: Literal["auto", "json_schema", "json_object", "none"] = Field(
        "auto",
        description="how JSON answers are asked of a server: 'json_schema' (strict), 'json_object' "
        "(with the schema in the prompt), 'none'; 'auto' tries them in that order",
    )
    timeout: float = Field(
        120.0,
        description="seconds one request to a server may take in all: connecting, sending, waiting, "
        "and reading the whole answer",
    )
    max_answer_bytes: int = Field(
        4 * 2**20,
        ge=2**16,
        description="bytes an answer's body may have once decoded (4 MiB: a thousand times a "
        "1024-token answer); a larger one is not read further and counts as a failed request",
    )
    cache: bool = Field(
        True, description="keep answers in the run directory (llm_cache.sqlite): a rerun asks nothing twice"
    )
    executor: Literal["local", "ray"] = Field(
        "local",
        description="where requests run: 'local' (threads of this process) or 'ray' (see [llm.ray])",
    )
    limits: LimitsConfig = Field(
        default_factory=LimitsConfig, description="how many requests, how fast, how often tried again"
    )
    budget: BudgetConfig = Field(
        default_factory=BudgetConfig, description="when the run stops cleanly (tokens, cost, time)"
    )
    ray: RayConfig = Field(default_factory=RayConfig, description="the Ray executor")
    embedded: EmbeddedConfig = Field(default_factory=EmbeddedConfig, description="the in-process model")

    @model_validator(mode="before")
    @classmethod
    def _no_key_in_config(cls, data: Any) -> Any:
        if isinstance(data, dict) and "api_key" in data:
            raise ValueError(
                "llm.api_key is not read from config files or KGC_LLM__API_KEY: a key there ends up in "
                "shell history, dotfiles and commits. Set OPENAI_API_KEY in the environment instead"
            )
        return data

    def identity(self) -> dict[str, Any]:
        """What makes two answers comparable: part of the key of every stage that calls the LLM."""
        model_path = self.embedded.model_path
        return {
            "backend": self.backend,
            "model": self.model,
            "temperature": self.temperature,
            "model_path": None if model_path is None else str(model_path),
        }
