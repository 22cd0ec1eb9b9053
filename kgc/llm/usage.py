"""What an LLMClient's calls cost and how they went, per (stage, model): the numbers the run manifest
records (`StageRecord.llm`) and the progress bar shows."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class UsageReport:
    requests: int = 0  # HTTP requests sent, retries included
    cache_hits: int = 0
    retries: int = 0  # transient errors retried
    invalid: int = 0  # answers that failed JSON/schema validation (cut ones included)
    truncated: int = 0  # answers cut off at max_tokens (finish_reason "length")
    failed: int = 0  # complete() calls that returned None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, other: UsageReport) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, float]:
        """Flat numbers for the run manifest (`StageRecord.llm`)."""
        return {**asdict(self), "total_tokens": self.total_tokens}


@dataclass
class UsageLedger:
    """Usage per (stage, model), thread-safe."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    rows: dict[tuple[str, str], UsageReport] = field(default_factory=dict)

    def add(self, stage: str, model: str, **counts: Any) -> None:
        with self.lock:
            row = self.rows.setdefault((stage, model), UsageReport())
            for name, value in counts.items():
                setattr(row, name, getattr(row, name) + value)

    def total(self, stage: str | None = None, model: str | None = None) -> UsageReport:
        out = UsageReport()
        with self.lock:
            for (s, m), row in self.rows.items():
                if (stage is None or s == stage) and (model is None or m == model):
                    out.add(row)
        return out

    def models(self) -> list[str]:
        with self.lock:
            return sorted({m for _, m in self.rows})
