"""The small extraction task the embedded model is tested (tests/test_embedded.py) and benchmarked
(bench/bench_embedded.py) on: a short prompt with the relation names and one worked example.

Not the pipeline's extraction prompt (`prompts/`): this one stays fixed, so test and benchmark results
remain comparable while the pipeline's prompt changes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from kgc.llm.base import Message
from kgc.schema import GRAPHUSION_RELATIONS

RELATION_NAMES = tuple(t.name for t in GRAPHUSION_RELATIONS)


class ExtractedTriplet(BaseModel):
    head: str
    relation: Literal[RELATION_NAMES]  # type: ignore[valid-type]
    tail: str
    evidence: str


SYSTEM_PROMPT = f"""You extract knowledge-graph triplets (head, relation, tail) from a text.
head and tail are short concept names (1-5 words) as written in the text; relation is exactly one of: {", ".join(RELATION_NAMES)}.
evidence is the part of the text that states the triplet. Only extract what the text states. Answer with JSON only.

Example
Text: "BLEU is a metric used to evaluate machine translation. Neural machine translation is a kind of machine translation that relies on an encoder and a decoder."
Answer: {{"triplets": [
 {{"head": "BLEU", "relation": "Evaluate-for", "tail": "machine translation", "evidence": "BLEU is a metric used to evaluate machine translation"}},
 {{"head": "neural machine translation", "relation": "Hyponym-Of", "tail": "machine translation", "evidence": "Neural machine translation is a kind of machine translation"}},
 {{"head": "encoder", "relation": "Part-of", "tail": "neural machine translation", "evidence": "relies on an encoder and a decoder"}}
]}}"""


def extraction_messages(text: str) -> list[Message]:
    """The chat messages asking for the triplets of `text`."""
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f'Text: "{text}"\nAnswer:'},
    ]
