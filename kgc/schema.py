"""The relation schema: which relation types the LLM may use, with definitions and direction.

Relation names end up as Neo4j relationship types and in prompts, so they are validated strictly
here, once, instead of being escaped at every use.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from kgc.errors import SchemaError

# Letters, digits, '-' and '_', starting with a letter: safe as a Cypher type after mapping to
# UPPER_SNAKE, and unambiguous in prompts. Anything else (backticks, quotes, spaces, unicode
# look-alikes) is refused.
SAFE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


def _key(name: str) -> str:
    """Loose key for matching what an LLM writes ('part of', 'PART_OF') to 'Part-of'."""
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


# The kinds of statement kgc.extraction.cues reads from a sentence's syntax without an LLM, each in
# its own direction ('kind-of': the head is a kind of the tail). A relation type takes the cues of
# one kind: the one its `cue` names, else the one its name says (by `_key`, below); `cue = "none"`
# takes none. A schema whose relations have none of these kinds gets no cues.
CueClass = Literal["kind-of", "part-of", "used-for", "evaluate-for", "compare", "conjunction", "prerequisite"]
CUE_NAMES: dict[str, CueClass] = {
    **dict.fromkeys(
        ["hyponymof", "isa", "kindof", "typeof", "subclassof", "subtypeof", "instanceof"], "kind-of"
    ),
    **dict.fromkeys(["partof", "componentof"], "part-of"),
    **dict.fromkeys(["usedfor", "usedto"], "used-for"),
    **dict.fromkeys(["evaluatefor", "evaluatedfor"], "evaluate-for"),
    **dict.fromkeys(["compare", "comparedwith", "comparedto"], "compare"),
    "conjunction": "conjunction",
    **dict.fromkeys(["isaprerequisiteof", "prerequisiteof"], "prerequisite"),
}


class RelationExample(BaseModel):
    """One short sentence stating the relation, and its head and tail as written in it."""

    text: str
    head: str
    tail: str


class RelationType(BaseModel):
    """One relation type the LLM may use."""

    name: str = Field(
        description="letters, digits, '-' and '_', starting with a letter (it becomes a Neo4j relationship type)"
    )
    description: str = Field("", description="what the relation means, shown to the LLM")
    directed: bool = Field(True, description="false: (a, b) and (b, a) are the same relation")
    example: RelationExample | None = Field(
        None, description="one short sentence stating the relation, with its head and tail: shown to the LLM"
    )
    cue: CueClass | Literal["none"] | None = Field(
        None,
        description="the statements read from a sentence's syntax (extraction.cue_retype, cue_add) that "
        "this relation takes, read head-to-tail: kind-of, part-of, used-for, evaluate-for, compare, "
        "conjunction, prerequisite; None: the kind its name says (Hyponym-Of, PART-OF, "
        "Used-for...); 'none': no cues",
    )

    @field_validator("name")
    @classmethod
    def _safe(cls, v: str) -> str:
        if not SAFE_NAME.fullmatch(v):
            raise ValueError(f"relation name {v!r} must match {SAFE_NAME.pattern}")
        return v

    @property
    def cue_kind(self) -> CueClass | None:
        """The kind of cue this relation takes: its `cue`, else the kind its name says, else None."""
        if self.cue == "none":
            return None
        return self.cue or CUE_NAMES.get(_key(self.name))

    @property
    def cypher_type(self) -> str:
        """UPPER_SNAKE form used as Neo4j relationship type ('Is-a-Prerequisite-of' -> IS_A_PREREQUISITE_OF)."""
        return re.sub(r"[-]+", "_", self.name).upper()


GRAPHUSION_RELATIONS: list[RelationType] = [
    RelationType(
        name="Compare",
        description="A comparison between two entities, e.g. 'A is larger than B' or 'X is more efficient than Y'.",
        directed=False,
        example=RelationExample(text="BERT outperforms ELMo on GLUE.", head="BERT", tail="ELMo"),
    ),
    RelationType(
        name="Part-of",
        description="One entity is a constituent or component of the other, e.g. 'wheel is part of car'.",
        example=RelationExample(
            text="The encoder is part of the Transformer.", head="encoder", tail="Transformer"
        ),
    ),
    RelationType(
        name="Conjunction",
        description="Two entities are connected to form a group or composite idea, e.g. 'salt and pepper'.",
        directed=False,
        example=RelationExample(text="We combine CNNs and LSTMs.", head="CNNs", tail="LSTMs"),
    ),
    RelationType(
        name="Evaluate-for",
        description="One entity is assessed in the context of the other, e.g. 'BLEU is evaluated for machine translation'.",
        example=RelationExample(
            text="BLEU evaluates machine translation.", head="BLEU", tail="machine translation"
        ),
    ),
    RelationType(
        name="Is-a-Prerequisite-of",
        description="The head must be understood before the tail, e.g. 'ability to code is a prerequisite of software development'.",
        example=RelationExample(
            text="Learning Bayesian networks requires probability theory.",
            head="probability theory",
            tail="Bayesian networks",
        ),
    ),
    RelationType(
        name="Used-for",
        description="The head is used to accomplish or facilitate the tail, e.g. 'a hammer is used for driving nails'.",
        example=RelationExample(
            text="Word embeddings are used for text classification.",
            head="word embeddings",
            tail="text classification",
        ),
    ),
    RelationType(
        name="Hyponym-Of",
        description="The head is a more specific version or subtype of the tail, e.g. 'a sedan is a hyponym of a car'.",
        example=RelationExample(
            text="An LSTM is a kind of recurrent neural network.",
            head="LSTM",
            tail="recurrent neural network",
        ),
    ),
]


class RelationSchema(BaseModel):
    """The relation types extraction may use (`[[relations.types]]`): Graphusion's seven by default."""

    types: list[RelationType] = Field(
        default_factory=lambda: list(GRAPHUSION_RELATIONS),
        description="Compare, Part-of, Conjunction, Evaluate-for, Is-a-Prerequisite-of, Used-for, Hyponym-Of",
    )

    @field_validator("types")
    @classmethod
    def _unique(cls, v: list[RelationType]) -> list[RelationType]:
        if not v:
            raise ValueError("a relation schema needs at least one relation type")
        keys = [_key(t.name) for t in v]
        if len(set(keys)) != len(keys):
            raise ValueError("relation names must be unique (ignoring case, spaces, '-' and '_')")
        return v

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.types]

    def resolve(self, name: str) -> RelationType | None:
        """The schema type an LLM-written relation name means, or None if it is not in the schema."""
        k = _key(name)
        for t in self.types:
            if _key(t.name) == k:
                return t
        return None

    def for_cue(self, cue: CueClass) -> RelationType | None:
        """The relation type that takes the cues of kind `cue`, or None."""
        for t in self.types:
            if t.cue_kind == cue:
                return t
        return None

    def get(self, name: str) -> RelationType:
        t = self.resolve(name)
        if t is None:
            raise SchemaError(f"unknown relation {name!r}; the schema has: {', '.join(self.names)}")
        return t

    def describe(self) -> str:
        """The schema as prompt text: one line per type, with its example when it has one."""
        lines = []
        for t in self.types:
            direction = "directed" if t.directed else "undirected"
            line = f"- {t.name} ({direction}): {t.description}"
            if t.example is not None:
                e = t.example
                line += f' Example: "{e.text}" gives ({e.head}, {t.name}, {e.tail}).'
            lines.append(line)
        return "\n".join(lines)

    def examples(self) -> list[tuple[RelationType, RelationExample]]:
        return [(t, t.example) for t in self.types if t.example is not None]

    @classmethod
    def from_file(cls, path: str | Path) -> RelationSchema:
        """Read a schema from JSON: a list of types, or Graphusion's {name: {label, description}} map."""
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise SchemaError(f"cannot read relation schema {path}: {e}") from e
        if isinstance(raw, dict) and "types" not in raw:
            undirected = {"compare", "conjunction"}
            raw = {
                "types": [
                    {
                        "name": v.get("label", k) if isinstance(v, dict) else k,
                        "description": v.get("description", "") if isinstance(v, dict) else str(v),
                        "directed": _key(k) not in undirected,
                    }
                    for k, v in raw.items()
                ]
            }
        try:
            return cls.model_validate(raw)
        except ValueError as e:
            raise SchemaError(f"invalid relation schema {path}: {e}") from e
