"""Joining a Ray cluster, for the parts of kgc that can run on one: LLM requests
(kgc.llm.executors) and embedding batches (kgc.embeddings.ray_pool)."""

from __future__ import annotations

import os
from types import ModuleType

from kgc.errors import ConfigError


def require_ray(setting: str) -> ModuleType:
    """The `ray` module; ConfigError naming `setting` ("llm.executor = 'ray'") when it is missing."""
    try:
        import ray
    except ImportError as e:
        raise ConfigError(
            f"{setting} needs Ray: pip install 'kgc[ray]' (on the driver and every worker)"
        ) from e
    return ray


def join_ray(address: str | None, setting: str) -> bool:
    """Connect this process to Ray unless it already is; whether this call started it.

    No address: $RAY_ADDRESS, else the cluster `ray start` started on this node, else Ray starts a
    local one for this process. ConfigError when that fails.
    """
    ray = require_ray(setting)
    if ray.is_initialized():
        return False
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    except (ConnectionError, ValueError, RuntimeError) as e:
        where = address or os.environ.get("RAY_ADDRESS") or "this node's cluster"
        raise ConfigError(f"cannot start or join Ray at {where}: {e}") from e
    return True
