"""The JSON answers the model gives, as pydantic models whose JSON Schema constrains decoding.

Constrained decoders (the embedded backend's grammar, a server's json_schema mode) can then only
write a relation of the schema and, when the passage's candidate names are given, only those names:
the model chooses among the spans of the text instead of writing names of its own. Validation by
pydantic stays per triplet and lenient (an enum is not enforced on parsing): answers from a server
without constrained decoding are checked name by name afterwards (kgc.extraction.triplets).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

# Distinct candidate lists make distinct answer models; a bound keeps memory flat on big corpora.
_MODELS_KEPT = 256


class Triplet(BaseModel):
    head: str
    relation: str
    tail: str
    evidence: str = ""


class ExtractionAnswer(BaseModel):
    # Required in the JSON Schema (a grammar must write the list); still parsed when a server omits it.
    model_config = ConfigDict(json_schema_extra={"required": ["triplets"]})

    triplets: list[Triplet] = Field(default_factory=list)  # answer_model narrows it: enums, no evidence


@lru_cache(maxsize=_MODELS_KEPT)
def answer_model(
    relation_names: tuple[str, ...],
    names: tuple[str, ...] = (),
    *,
    min_triplets: int = 0,
    max_triplets: int | None = None,
) -> type[ExtractionAnswer]:
    """ExtractionAnswer whose JSON Schema lists the allowed relations (and, given `names`, the allowed
    heads and tails) as enums, without an evidence field (the stage takes the sentence holding both
    names: fewer tokens to write); `min_triplets` > 0 makes an empty list invalid for a constrained
    decoder, `max_triplets` bounds how long it writes."""

    def enum(values: tuple[str, ...]) -> Any:
        return (str, Field(json_schema_extra={"enum": list(values)}))

    name = enum(names) if names else (str, ...)
    fields: dict[str, Any] = {"head": name, "relation": enum(relation_names), "tail": name}
    triplet = create_model("Triplet", **fields)
    # minItems only in the JSON Schema: a grammar cannot close an empty list, but a server's empty
    # answer still parses (a passage may state nothing).
    bounds: dict[str, Any] = {"minItems": min_triplets} if min_triplets else {}
    if max_triplets:
        bounds["maxItems"] = max_triplets
    listed: Any = Field(default_factory=list, json_schema_extra=bounds or None)
    triplets: Any = (list[triplet], listed)
    return create_model("ExtractionAnswer", __base__=ExtractionAnswer, triplets=triplets)
