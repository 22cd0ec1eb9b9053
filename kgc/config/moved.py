"""Keys that moved to another section: read from their old place with a warning naming the new one.

Old TOML files, old `KGC_...` variables and the `config.json` of run directories made by an older
kgc keep loading; a run's recorded config is moved quietly (its user never wrote those keys).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

log = logging.getLogger(__name__)

_RESOLVE_KEYS = (
    "merge_threshold",
    "band_threshold",
    "min_fuzzy_chars",
    "real_word_names",
    "lsh_bands",
    "lsh_rows",
    "max_bucket",
    "embedding_merge",
    "embedding_neighbours",
    "embedding_band_threshold",
    "embedding_band_min_string",
    "embedding_threshold",
    "embedding_context_chars",
    "llm_band",
    "llm_pairs_per_call",
    "llm_rounds",
    "llm_context_chars",
    "max_llm_pairs",
)
_LIMITS_KEYS = (
    "concurrency",
    "requests_per_minute",
    "tokens_per_minute",
    "max_retries",
    "max_invalid_retries",
    "circuit_breaker_failures",
    "circuit_breaker_window",
    "circuit_breaker_seconds",
)
_BUDGET_KEYS = ("max_tokens_total", "max_cost", "deadline_seconds", "prices")

# old dotted key -> new dotted key
MOVED: dict[str, str] = {
    **{f"fusion.{k}": f"resolve.{k}" for k in _RESOLVE_KEYS},
    "fusion.resolve_prompt": "resolve.prompt",
    **{f"llm.{k}": f"llm.limits.{k}" for k in _LIMITS_KEYS},
    **{f"llm.{k}": f"llm.budget.{k}" for k in _BUDGET_KEYS},
    "llm.ray_address": "llm.ray.address",
    "llm.ray_cpus_per_call": "llm.ray.cpus_per_call",
    "llm.model_path": "llm.embedded.model_path",
    "llm.n_ctx": "llm.embedded.n_ctx",
    "retrieval.max_chars": "extraction.max_chars",
}


def where(dotted: str) -> str:
    """'llm.limits.concurrency' -> '[llm.limits] concurrency (KGC_LLM__LIMITS__CONCURRENCY)'."""
    section, _, key = dotted.rpartition(".")
    variable = "KGC_" + dotted.upper().replace(".", "__")
    return f"[{section}] {key} ({variable})"


def move_old_keys(data: dict[str, Any], *, quiet: bool = False) -> dict[str, Any]:
    """`data` (the raw config: file, environment and flags merged) with every key of `MOVED` taken
    from its old place to its new one. A key given in both places keeps the new place's value."""
    out = _copy(data)
    for old, new in MOVED.items():
        found, value = _pop(out, old.split("."))
        if not found:
            continue
        if _has(out, new.split(".")):
            message = f"config: {old} is ignored, {where(new)} is given too; remove the old key"
        else:
            _put(out, new.split("."), value)
            message = f"config: {old} has moved to {where(new)}; the old place is read for now"
        if not quiet:
            log.warning(message)
    return out


def _copy(node: Any) -> Any:
    """Dicts copied all the way down (the caller's are left alone); sections given as models become dicts."""
    if isinstance(node, BaseModel):
        node = node.model_dump(exclude_unset=True)
    if isinstance(node, Mapping):
        return {k: _copy(v) for k, v in node.items()}
    return node


def _pop(node: dict[str, Any], path: list[str]) -> tuple[bool, Any]:
    *parents, leaf = path
    for p in parents:
        child = node.get(p)
        if not isinstance(child, dict):
            return False, None
        node = child
    if leaf not in node:
        return False, None
    return True, node.pop(leaf)


def _has(node: dict[str, Any], path: list[str]) -> bool:
    for p in path:
        if not isinstance(node, dict) or p not in node:
            return False
        node = node[p]
    return True


def _put(node: dict[str, Any], path: list[str], value: Any) -> None:
    *parents, leaf = path
    for p in parents:
        node = node.setdefault(p, {})
    node[leaf] = value
