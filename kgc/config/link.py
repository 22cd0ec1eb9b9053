"""`[link]`: entity linking to the user's vocabulary (kgc.link)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from kgc.config.base import Section


class LinkConfig(Section):
    """Entity linking to the user's vocabulary (kgc.link): `kgc link`, `kgc resolve --against`, the
    reconciliation service and the `link` stage after fusion."""

    vocabulary: Path | None = Field(
        None,
        description="the vocabulary file (CSV/TSV with id and label columns, JSONL, SKOS or OWL, OBO, "
        "SSSOM); None: no linking stage",
    )
    mode: Literal["annotate", "canonicalise", "restrict"] = Field(
        "annotate",
        description="'annotate': add vocab_id, vocab_label, match and score to entities; 'canonicalise': "
        "also rename linked entities to the preferred label and merge two linked to one concept; "
        "'restrict': keep only linked entities and their relations (Graphusion's concept graph)",
    )
    top_k: int = Field(30, ge=1, description="character 3-gram TF-IDF candidates kept per name")
    max_df: float = Field(
        0.05, gt=0, le=1, description="3-grams found in more than this share of the labels are ignored"
    )
    auto_threshold: float = Field(
        0.92,
        description="string similarity (rapidfuzz ratio of name keys, 0-1) from which a fuzzy candidate "
        "links exactMatch when nothing vetoes it and no other candidate is as close",
    )
    nil_threshold: float = Field(
        0.75, description="below this similarity the best candidate is not even uncertain: the name is NIL"
    )
    tie_margin: float = Field(
        0.02, description="two candidates closer than this are a tie: no link, flagged ambiguous"
    )
    min_acronym_letters: int = Field(
        3,
        description="an acronym read out of a label alone (no definition in the documents) links only "
        "from this many letters ('NER' yes, 'MT' no: two letters fit too many labels)",
    )
    use_definitions: bool = Field(
        True, description="read acronym definitions ('long form (LF)') from the documents"
    )
    dense: bool = Field(
        False,
        description="re-rank candidates with the embedding model (name + context vs label + definition)",
    )
    llm: bool = Field(False, description="ask the LLM to choose among the candidates of uncertain names")
    llm_candidates: int = Field(8, ge=2, le=8, description="candidates shown in one multiple-choice question")
    llm_names_per_call: int = Field(4, ge=1, description="names asked about in one LLM call")
    max_llm_names: int = Field(500, ge=0, description="uncertain names asked at most (most similar first)")
    prompt: str = Field("link.md", description="template of the multiple-choice question")
