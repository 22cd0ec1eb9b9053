"""The extraction task the embedded model is tested (tests/test_embedded.py) and benchmarked
(bench/bench_embedded.py) on: one text under the prompt the pipeline gives this model
(`prompts/extraction_compact.md`: the relation names and one worked example), so both measure what
the pipeline sends.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from kgc.llm.base import Message
from kgc.prompts import render
from kgc.resources import prompts_dir
from kgc.schema import GRAPHUSION_RELATIONS

RELATION_NAMES = tuple(t.name for t in GRAPHUSION_RELATIONS)
COMPACT_PROMPT = "extraction_compact.md"


class ExtractedTriplet(BaseModel):
    head: str
    relation: Literal[RELATION_NAMES]  # type: ignore[valid-type]
    tail: str
    evidence: str


def extraction_messages(text: str) -> list[Message]:
    """The chat messages asking for the triplets of `text`."""
    return render(prompts_dir(), COMPACT_PROMPT, relation_names=", ".join(RELATION_NAMES), text=text)
