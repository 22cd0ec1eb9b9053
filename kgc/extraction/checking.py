"""The relation check: a second, small question per extracted pair, for models that label and
direct relations badly in a long answer (the embedded 1.5B model).

The pair is shown with the sentence that states it and every statement the schema allows between
its two names, both orders of each directed relation, plus "none":

    Sentence: "We use a CRF for named entity recognition."
    Statements:
    - CRF USED-FOR named entity recognition
    - named entity recognition USED-FOR CRF
    - ...
    - none

The answer's JSON Schema admits only those statements, so a constrained decoder picks one: the
triplet takes its relation and direction, or is dropped for "none". The instructions and the
relation definitions form a fixed system message, so llama.cpp evaluates them once for all pairs.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, create_model

from kgc.extraction.triplets import CleanTriplet
from kgc.llm.base import Message
from kgc.prompts import render
from kgc.schema import RelationSchema

NONE = "none"
_MODELS_KEPT = 256


class CheckAnswer(BaseModel):
    answer: str


@lru_cache(maxsize=_MODELS_KEPT)
def check_model(options: tuple[str, ...]) -> type[CheckAnswer]:
    field: Any = (str, Field(json_schema_extra={"enum": list(options)}))
    return create_model("CheckAnswer", __base__=CheckAnswer, answer=field)


def statements(head: str, tail: str, schema: RelationSchema) -> dict[str, tuple[str, str, str] | None]:
    """Every statement the schema allows between two names (both orders of a directed relation),
    and "none": statement -> the triplet it makes."""
    out: dict[str, tuple[str, str, str] | None] = {}
    for t in schema.types:
        out[f"{head} {t.name} {tail}"] = (head, t.name, tail)
        if t.directed:
            out[f"{tail} {t.name} {head}"] = (tail, t.name, head)
    out[NONE] = None
    return out


def check_messages(
    triplet: CleanTriplet, schema: RelationSchema, prompts_dir: Path, prompt: str
) -> tuple[list[Message], dict[str, tuple[str, str, str] | None]]:
    """The question for one triplet, and what each possible answer means."""
    options = statements(triplet.head, triplet.tail, schema)
    example_text, example_options, example_choice = "", "", ""
    if examples := schema.examples():
        relation, e = examples[0]
        example_text = e.text
        example_options = "\n".join(f"- {s}" for s in statements(e.head, e.tail, schema))
        example_choice = f"{e.head} {relation.name} {e.tail}"
    messages = render(
        prompts_dir,
        prompt,
        relations=schema.describe(),
        example_text=example_text,
        example_options=example_options,
        example_choice=example_choice,
        sentence=triplet.evidence,
        options="\n".join(f"- {s}" for s in options),
    )
    return messages, options
