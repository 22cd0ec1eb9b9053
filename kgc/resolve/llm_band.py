"""The middle band: pairs neither alike enough to merge nor different enough to reject go to the LLM.

About five pairs per call, each name with a line of context. Every pair is asked in several rounds,
the pairs reordered and each pair's names swapped between rounds (LLM-Align's voting); a pair merges
only when every round says 'same', is rejected only when every round says 'different', and is left
undecided (and counted) otherwise.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from pydantic import BaseModel

from kgc.config import ResolveConfig
from kgc.llm.base import Message
from kgc.prompts import render
from kgc.resolve.types import Edge, Node

T = TypeVar("T", bound=BaseModel)
X = TypeVar("X")
R = TypeVar("R")


@dataclass(frozen=True)
class BandQuestion:
    a: str
    b: str
    a_context: str = ""
    b_context: str = ""


# All batches of questions in, one vote per question (True same, False different, None no answer) out.
Judge = Callable[[list[list[BandQuestion]]], list[list[bool | None]]]


class SameAnswer(BaseModel):
    pair: int
    same: bool


class BandAnswer(BaseModel):
    answers: list[SameAnswer]


class BandLLM(Protocol):
    """The part of a stage's LLM client the band needs (kgc.llm.client.StageLLM)."""

    def complete(self, messages: list[Message], schema: type[T]) -> T | None: ...

    def map(self, fn: Callable[[X], R], items: Sequence[X], *, description: str) -> list[R]: ...


def _question(a: Node, b: Node, swap: bool, context_chars: int) -> BandQuestion:
    first, second = (b, a) if swap else (a, b)
    return BandQuestion(
        first.label,
        second.label,
        (first.context[0] if first.context else "")[:context_chars],
        (second.context[0] if second.context else "")[:context_chars],
    )


def vote(edges: list[Edge], nodes: list[Node], judge: Judge, cfg: ResolveConfig) -> None:
    """Ask about `edges` in `cfg.llm_rounds` reordered rounds and set each edge's votes and decision."""
    per_call = cfg.llm_pairs_per_call
    batches: list[list[BandQuestion]] = []
    owners: list[list[int]] = []  # edge index of each question
    for r in range(cfg.llm_rounds):
        order = list(range(len(edges)))
        if r % 2:
            order.reverse()
        if r >= 2:  # further rounds: another fixed order
            random.Random(r).shuffle(order)
        for start in range(0, len(order), per_call):
            chunk = order[start : start + per_call]
            owners.append(chunk)
            batches.append(
                [
                    _question(nodes[edges[k].i], nodes[edges[k].j], bool(r % 2), cfg.llm_context_chars)
                    for k in chunk
                ]
            )
    answers = judge(batches)
    for chunk, got in zip(owners, answers, strict=True):
        for k, v in zip(chunk, got, strict=True):
            edges[k].votes.append(v)
    for e in edges:
        if e.votes and all(v is True for v in e.votes):
            e.decision, e.reason = "merge", "llm"
        elif e.votes and all(v is False for v in e.votes):
            e.decision, e.reason = "reject", "the LLM said different"
        else:
            e.decision, e.reason = "undecided", "the LLM rounds disagreed or did not answer"


def _pair_lines(batch: list[BandQuestion]) -> str:
    def side(name: str, context: str) -> str:
        return f'"{name}"' + (f" (context: {context})" if context else "")

    return "\n".join(
        f"{n}. {side(q.a, q.a_context)} | {side(q.b, q.b_context)}" for n, q in enumerate(batch, 1)
    )


def llm_judge(llm: BandLLM, prompts_dir: Path, prompt: str) -> Judge:
    """A Judge asking the LLM with the `prompt` template (placeholders: $pairs, $count)."""

    def ask(batch: list[BandQuestion]) -> list[bool | None]:
        messages = render(prompts_dir, prompt, pairs=_pair_lines(batch), count=len(batch))
        answer = llm.complete(messages, BandAnswer)
        votes: list[bool | None] = [None] * len(batch)
        for a in answer.answers if answer is not None else []:
            if 1 <= a.pair <= len(batch):
                votes[a.pair - 1] = a.same
        return votes

    def judge(batches: list[list[BandQuestion]]) -> list[list[bool | None]]:
        return llm.map(ask, batches, description="deciding name pairs")

    return judge
