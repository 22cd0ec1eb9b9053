"""Benchmark: which way SciERC's annotators direct a relation whose two names a preposition joins.

    KGC_SCIERC=/work/qdata/scierc .venv/bin/python bench/eval_directions.py

For each gold triplet of a directed relation, its sentence (SciERC's own tokens) is parsed by the
pipeline extraction uses, and kgc.extraction.direction.link finds the preposition joining the two
mentions (either way round) and how it hangs (on the governor's phrase or on its verb). Counted per
relation and preposition: how often the head is the governor ('A for B': A) and how often the
object. kgc.extraction.direction.DIRECTIONS keeps the prepositions that go one way clearly on the
tune split (SciERC's first 300 train abstracts); the eval split is reported to show they hold.
Writes bench/results/directions.md and directions.json.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scierc import SCIERC, TUNE_SIZE
from spacy.tokens import Doc

from kgc.config import load_config
from kgc.extraction.direction import DIRECTIONS, link
from kgc.extraction.spans import load_spacy

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
CONFIG = BENCH.parent / "data" / "scierc" / "kgc.toml"


def split_lines(name: str) -> list[str]:
    """The raw SciERC documents of a split: tune (first 300 train) or eval (dev + last 50 train)."""

    def read(part: str) -> list[str]:
        return [line for line in (SCIERC / f"{part}.json").read_text(encoding="utf-8").splitlines() if line]

    train = read("train")
    return train[:TUNE_SIZE] if name == "tune" else read("dev") + train[TUNE_SIZE:]


def measure(name: str) -> dict[str, dict[str, Counter[str]]]:
    """relation -> 'preposition (attached)' -> {'governor': n, 'object': n}: which end was the head."""
    nlp = load_spacy()
    if nlp is None:
        raise SystemExit("needs spaCy and its English pipeline: pip install 'kgc[nlp]'")
    schema = load_config(CONFIG).relations
    out: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for line in split_lines(name):
        d = json.loads(line)
        offset = 0
        for words, relations in zip(d["sentences"], d["relations"], strict=True):
            doc = nlp(Doc(nlp.vocab, words=words))
            for hs, he, ts, te, relation in relations:
                rel = schema.resolve(relation)
                if rel is None or not rel.directed:
                    continue
                head, tail = doc[hs - offset : he - offset + 1], doc[ts - offset : te - offset + 1]
                if head.end <= tail.start or tail.end <= head.start:
                    for governor, obj, end in ((head, tail, "governor"), (tail, head, "object")):
                        found = link(governor, obj)
                        if found is not None:
                            out[rel.name][f"{found[0]} ({found[1]})"][end] += 1
            offset += len(words)
    return out


def table(name: str, counts: dict[str, dict[str, Counter[str]]], least: int) -> list[str]:
    lines = [
        f"## {name}: head on the governor : on the object (prepositions seen {least}+ times)",
        "",
        "| relation | preposition (attached) | governor | object |",
        "|---|---|---|---|",
    ]
    for relation, by in sorted(counts.items()):
        for phrase, c in sorted(by.items(), key=lambda kv: -sum(kv[1].values())):
            if sum(c.values()) >= least:
                lines.append(f"| {relation} | {phrase} | {c['governor']} | {c['object']} |")
    return [*lines, ""]


def kept(counts: dict[str, dict[str, Counter[str]]]) -> list[str]:
    """How DIRECTIONS' entries fare on a split: right (the chosen end was the head) / cases."""
    schema = load_config(CONFIG).relations
    lines = ["| relation | preposition | head | right / cases |", "|---|---|---|---|"]
    for rel in schema.types:
        for phrase, end in DIRECTIONS.get(rel.cue_kind or "compare", {}).items():
            by = counts.get(rel.name, {})
            c: Counter[str] = sum((v for k, v in by.items() if k.rsplit(" (", 1)[0] == phrase), Counter())
            lines.append(f"| {rel.name} | {phrase} | {end} | {c[end]} / {sum(c.values())} |")
    return [*lines, ""]


def main() -> None:
    measured = {name: measure(name) for name in ("tune", "eval")}
    text = [
        "# Relation direction by preposition, SciERC gold",
        "",
        "Written by bench/eval_directions.py (see its docstring).",
        "",
    ]
    for name, counts in measured.items():
        text += [f"## {name}: the rules of kgc.extraction.direction.DIRECTIONS", "", *kept(counts)]
    text += table("tune", measured["tune"], 3)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "directions.md").write_text("\n".join(text), encoding="utf-8")
    data: dict[str, Any] = {n: {r: dict(by) for r, by in c.items()} for n, c in measured.items()}
    (RESULTS / "directions.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print("\n".join(text))


if __name__ == "__main__":
    main()
