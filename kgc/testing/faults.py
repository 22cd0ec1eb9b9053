"""Random faults of a flaky server, for the scripted server: a share of its answers are HTTP 429,
HTTP 500, cut short, or never come.

Which request gets which fault is decided by a hash of the seed, the request and how many times that
same request was seen, not by the order requests arrive in: a seed gives the same faults to a run
whatever its threads do, and a retried request draws afresh.

    FaultMix.parse("429=0.1,500=0.1,cut=0.1", seed=3)   # 20% HTTP 429/500, 10% answers cut in half
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

Fault = dict[str, Any]

# The kinds of fault a mix draws, as written in `parse`, and the queued fault each one stands for.
KINDS: dict[str, Fault] = {
    "429": {"status": 429, "retry_after": 0},
    "500": {"status": 500},
    "503": {"status": 503},
    "cut": {"cut": 0.5},  # the answer cut in half, the server still says finish_reason "stop"
    "drop": {"drop": True},  # the connection closed without an answer
    "hang": {"hang": True},  # no answer at all: the client's timeout ends it
}


@dataclass(frozen=True)
class FaultMix:
    """`rates`: fault kind (a key of KINDS) -> share of requests, summing to at most 1."""

    rates: tuple[tuple[str, float], ...]
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = [kind for kind, _ in self.rates if kind not in KINDS]
        if unknown:
            raise ValueError(f"unknown fault kind {unknown[0]!r}; known: {', '.join(KINDS)}")
        if any(rate < 0 for _, rate in self.rates) or sum(rate for _, rate in self.rates) > 1:
            raise ValueError("fault rates must be >= 0 and sum to at most 1")

    @classmethod
    def parse(cls, text: str, seed: int = 0) -> FaultMix:
        """'429=0.1,500=0.1,cut=0.1' -> a mix; '' -> no faults."""
        rates = []
        for part in filter(None, (p.strip() for p in text.split(","))):
            kind, _, rate = part.partition("=")
            try:
                rates.append((kind.strip(), float(rate)))
            except ValueError:
                raise ValueError(f"not KIND=RATE: {part!r}") from None
        return cls(tuple(rates), seed)

    def draw(self, request_key: str, occurrence: int) -> Fault | None:
        """The fault for the `occurrence`-th sending (0 first) of the request hashed to `request_key`."""
        digest = hashlib.sha256(f"{self.seed}|{request_key}|{occurrence}".encode()).digest()
        x = int.from_bytes(digest[:8], "big") / 2**64
        for kind, rate in self.rates:
            if x < rate:
                return dict(KINDS[kind])
            x -= rate
        return None

    def describe(self) -> str:
        return ", ".join(f"{rate:.0%} {kind}" for kind, rate in self.rates) or "no faults"
