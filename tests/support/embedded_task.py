"""The extraction task the embedded model is tested (tests/test_embedded.py) and benchmarked
(bench/bench_embedded.py) on: one text under the messages the pipeline gives this model in document
mode (`prompts/extraction_compact.md`: the relation definitions with their examples, a worked
example, then the text and its candidate concepts), so both measure what the pipeline sends.
"""

from __future__ import annotations

from typing import Literal

from openai.types.chat import ChatCompletionMessageParam
from pydantic import BaseModel

from kgc.config import load_config
from kgc.llm.base import Message
from kgc.llm.factory import with_backend_defaults
from kgc.models import Chunk
from kgc.resources import prompts_dir
from kgc.schema import GRAPHUSION_RELATIONS
from kgc.stages.extraction import ExtractionTask, build_messages

RELATION_NAMES = tuple(t.name for t in GRAPHUSION_RELATIONS)


class ExtractedTriplet(BaseModel):
    head: str
    relation: Literal[RELATION_NAMES]  # type: ignore[valid-type]
    tail: str


def extraction_messages(text: str) -> list[Message]:
    """The chat messages asking for the triplets of `text`."""
    cfg = with_backend_defaults(load_config(None, {"llm.backend": "embedded", "extraction.mode": "document"}))
    chunk = Chunk(id="text#0", doc_id="text", text=text, start=0, end=len(text))
    task = ExtractionTask(key=chunk.id, seed=None, chunks=[chunk])
    return build_messages(task, cfg.relations, cfg.extraction, prompts_dir())


def chat_messages(messages: list[Message]) -> list[ChatCompletionMessageParam]:
    """`messages` as the openai client types them (kgc's Message is a plain dict of strings)."""
    typed: list[ChatCompletionMessageParam] = []
    for m in messages:
        if m["role"] == "system":
            typed.append({"role": "system", "content": m["content"]})
        elif m["role"] == "user":
            typed.append({"role": "user", "content": m["content"]})
        elif m["role"] == "assistant":
            typed.append({"role": "assistant", "content": m["content"]})
        else:
            raise ValueError(f"no chat role {m['role']!r}")
    return typed
