"""SciERC (Luan et al. 2018) as a kgc corpus and gold triplets, read by path from the shared data.

    /work/shared/data/scierc/{train,dev}.json   (DyGIE format; see the README there)

Splits used by the quality loop (the test split is held back and never read):
- **eval**: all 50 dev abstracts + the last 50 train abstracts in file order (100 in all);
- **tune**: the other 300 train abstracts (the first 300 in file order). Rules and prompts are
  tuned on these only.

Gold for a knowledge graph: SciERC annotates relations between *mentions*, a third of them "Generic"
mentions (`it`, `method`, `approach`, `this system`). A graph holds concepts, so a Generic end is
replaced by the first non-Generic mention of its coreference cluster ("our approach" -> "Minimum
Bayes-Risk decoding"); a relation whose Generic end has no such mention names no concept and is
left out of the gold (counted in `Gold.generic_only`). Tokens are joined back into text with the
same detokenizer for the corpus and the gold names, so every gold name is a span of its abstract.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

SCIERC = Path(os.environ.get("KGC_SCIERC", "/work/shared/data/scierc"))
TUNE_SIZE = 300  # first 300 train abstracts; the last 50 go to the eval set

_BRACKETS = {"-LRB-": "(", "-RRB-": ")", "-LSB-": "[", "-RSB-": "]", "-LCB-": "{", "-RCB-": "}"}
_QUOTES = {"``": '"', "''": '"', "`": "'"}
_NO_SPACE_BEFORE = re.compile(r" ([.,;:?!%)\]}]|'s\b|n't\b)")
_NO_SPACE_AFTER = re.compile(r"([(\[{]) ")


def detokenize(tokens: list[str]) -> str:
    """PTB tokens back to plain text: brackets and quotes restored, no space before punctuation."""
    text = " ".join(_BRACKETS.get(t, _QUOTES.get(t, t)) for t in tokens)
    return _NO_SPACE_AFTER.sub(r"\1", _NO_SPACE_BEFORE.sub(r"\1", text))


@dataclass(frozen=True)
class GoldTriplet:
    head: str
    relation: str
    tail: str


@dataclass
class Abstract:
    doc_id: str
    text: str
    gold: list[GoldTriplet]
    generic_mentions: set[str] = field(default_factory=set)  # names annotated Generic, lowercased
    generic_only: int = 0  # gold relations left out: a Generic end with no named mention


def _abstract(line: str) -> Abstract:
    doc = json.loads(line)
    tokens = [t for sentence in doc["sentences"] for t in sentence]
    kind = {(s, e): k for sentence in doc["ner"] for s, e, k in sentence}
    cluster_of = {(m[0], m[1]): cluster for cluster in doc["clusters"] for m in cluster}

    def name(span: tuple[int, int]) -> str:
        return detokenize(tokens[span[0] : span[1] + 1])

    def concept(span: tuple[int, int]) -> str | None:
        if kind.get(span) != "Generic":
            return name(span)
        named = [(m[0], m[1]) for m in cluster_of.get(span, []) if kind.get((m[0], m[1])) != "Generic"]
        return name(min(named)) if named else None

    gold: list[GoldTriplet] = []
    generic_only = 0
    for sentence in doc["relations"]:
        for hs, he, ts, te, relation in sentence:
            head, tail = concept((hs, he)), concept((ts, te))
            if head is None or tail is None:
                generic_only += 1
            elif head.lower() != tail.lower():
                gold.append(GoldTriplet(head, relation, tail))
    generic = {name(span).lower() for span, k in kind.items() if k == "Generic"}
    return Abstract(
        doc_id=doc["doc_key"],
        text=detokenize(tokens),
        gold=list(dict.fromkeys(gold)),
        generic_mentions=generic,
        generic_only=generic_only,
    )


def read_split(name: str, root: Path = SCIERC) -> list[Abstract]:
    if name == "test":
        raise ValueError("the SciERC test split is held back: kgc never reads it")
    path = root / f"{name}.json"
    with path.open(encoding="utf-8") as f:
        return [_abstract(line) for line in f if line.strip()]


def eval_set(root: Path = SCIERC) -> list[Abstract]:
    """The 100 abstracts the results are measured on: dev (50) + the last 50 of train."""
    return read_split("dev", root) + read_split("train", root)[TUNE_SIZE:]


def tune_set(root: Path = SCIERC) -> list[Abstract]:
    """The 300 train abstracts rules and prompts may be tuned on."""
    return read_split("train", root)[:TUNE_SIZE]


def write_corpus(abstracts: list[Abstract], path: Path) -> None:
    """A kgc JSONL corpus (`id`, `text`)."""
    lines = [json.dumps({"id": a.doc_id, "text": a.text}) for a in abstracts]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_gold(abstracts: list[Abstract], path: Path) -> None:
    """Gold triplets as `kgc eval --gold` reads them (TSV head, relation, tail)."""
    rows = {(g.head, g.relation, g.tail) for a in abstracts for g in a.gold}
    path.write_text("".join("\t".join(r) + "\n" for r in sorted(rows)), encoding="utf-8")
