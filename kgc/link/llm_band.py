"""The opt-in LLM band: uncertain and ambiguous names as multiple-choice questions.

Each name is shown with at most `llm_candidates` numbered concepts (label and a little of the
definition); the answer's schema admits only a number, "BROADER n" or "NONE" (GENRE's constrained
choice, made a JSON enum). Several names go in one call. Every name is asked twice, its candidates
in another order the second time (LLM-Align's answer to position bias); a link is made only when both
rounds choose the same concept in the same way.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, TypeVar

from pydantic import BaseModel

from kgc.config import LinkConfig
from kgc.link.bands import Candidate, NameQuery
from kgc.link.decide import Decision, Match
from kgc.link.index import VocabIndex
from kgc.llm.base import Message
from kgc.prompts import render

T = TypeVar("T", bound=BaseModel)
X = TypeVar("X")
R = TypeVar("R")

Choice = Literal[
    "1", "2", "3", "4", "5", "6", "7", "8", "NONE",
    "BROADER 1", "BROADER 2", "BROADER 3", "BROADER 4", "BROADER 5", "BROADER 6", "BROADER 7", "BROADER 8",
]  # fmt: skip


class NameChoice(BaseModel):
    name: int
    choice: Choice


class ChoiceAnswer(BaseModel):
    answers: list[NameChoice]


@dataclass(frozen=True)
class Question:
    name: str
    context: str
    options: tuple[str, ...]  # 'label: definition' of each numbered concept


# All batches in, one answer per question ('2', 'BROADER 1', 'NONE' or None for no answer) out.
Chooser = Callable[[list[list[Question]]], list[list[str | None]]]


class ChooserLLM(Protocol):
    def complete(self, messages: list[Message], schema: type[T]) -> T | None: ...

    def map(self, fn: Callable[[X], R], items: Sequence[X], *, description: str) -> list[R]: ...


def _lines(batch: list[Question]) -> str:
    out = []
    for n, q in enumerate(batch, 1):
        out.append(f'{n}. "{q.name}"' + (f" (context: {q.context})" if q.context else ""))
        out += [f"   {k}) {option}" for k, option in enumerate(q.options, 1)]
    return "\n".join(out)


def llm_chooser(llm: ChooserLLM, prompts_dir: Path, prompt: str) -> Chooser:
    """A Chooser asking `llm` with the `prompt` template (placeholders: $names, $count)."""

    def ask(batch: list[Question]) -> list[str | None]:
        answer = llm.complete(
            render(prompts_dir, prompt, names=_lines(batch), count=len(batch)), ChoiceAnswer
        )
        got: list[str | None] = [None] * len(batch)
        for a in answer.answers if answer is not None else []:
            if 1 <= a.name <= len(batch):
                got[a.name - 1] = a.choice
        return got

    def choose(batches: list[list[Question]]) -> list[list[str | None]]:
        return llm.map(ask, batches, description="choosing concepts")

    return choose


def _read(choice: str | None, order: list[Candidate]) -> tuple[Match, int] | None:
    """('exactMatch' | 'broadMatch' | 'nil', concept) from one round's answer; None: no valid answer."""
    if choice is None:
        return None
    if choice == "NONE":
        return ("nil", -1)
    broader = choice.startswith("BROADER ")
    k = int(choice.removeprefix("BROADER ")) - 1
    if k >= len(order):
        return None  # a number past this name's options
    return ("broadMatch" if broader else "exactMatch", order[k].concept)


def ask(
    choose: Chooser,
    queries: list[NameQuery],
    cands: list[list[Candidate]],
    decisions: list[Decision],
    index: VocabIndex,
    cfg: LinkConfig,
) -> None:
    """Replace the uncertain and ambiguous decisions the two rounds agree on."""
    todo = [i for i, d in enumerate(decisions) if d.match in ("uncertain", "ambiguous") and cands[i]]
    todo = sorted(todo, key=lambda i: -decisions[i].score)[: cfg.max_llm_names]
    rounds: list[list[list[Candidate]]] = []
    for r in range(2):
        orders = []
        for i in todo:
            shown = cands[i][: cfg.llm_candidates]
            if r:
                shown = shown[:]
                rng = random.Random(queries[i].name)
                rng.shuffle(shown)
                if len(shown) > 1 and shown[0] is cands[i][0]:  # another concept first: a model that
                    k = rng.randrange(1, len(shown))  # always answers '1' never agrees with itself
                    shown[0], shown[k] = shown[k], shown[0]
            orders.append(shown)
        rounds.append(orders)
    batches, owners = [], []
    for r, orders in enumerate(rounds):
        for start in range(0, len(todo), cfg.llm_names_per_call):
            part = list(range(start, min(start + cfg.llm_names_per_call, len(todo))))
            owners.append((r, part))
            batches.append([_question(queries[todo[k]], orders[k], index) for k in part])
    answers = choose(batches) if batches else []
    got: dict[tuple[int, int], tuple[Match, int] | None] = {}
    for (r, part), batch_answers in zip(owners, answers, strict=True):
        for k, a in zip(part, batch_answers, strict=True):
            got[(r, k)] = _read(a, rounds[r][k])
    for k, i in enumerate(todo):
        first, second = got.get((0, k)), got.get((1, k))
        if first is None or first != second:
            decisions[i].reason += "; the LLM's two rounds disagreed or did not answer"
            continue
        match, concept = first
        if match == "nil":
            decisions[i] = Decision("nil", None, "llm", "the LLM chose none of the candidates (both rounds)")
        else:
            decisions[i] = Decision(
                match, concept, "llm", "the LLM's choice in both rounds", decisions[i].score
            )
        for c in cands[i]:
            if c.concept == concept:
                c.features["llm"] = 1.0


def _question(q: NameQuery, order: list[Candidate], index: VocabIndex) -> Question:
    def option(c: Candidate) -> str:
        concept = index.vocab.concepts[c.concept]
        return concept.label + (f": {concept.definition[:120]}" if concept.definition else "")

    return Question(q.name, q.context[:160], tuple(option(c) for c in order))
