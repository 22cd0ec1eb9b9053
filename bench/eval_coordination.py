"""Benchmark: which relation SciERC's annotators give two mentions that are members of one list.

    KGC_SCIERC=/work/qdata/scierc .venv/bin/python bench/eval_coordination.py

Every pair of gold mentions of one sentence (SciERC's own tokens, parsed by the pipeline extraction
uses) whose head words kgc.extraction.coordination.coordination finds coordinated, adjacent ('A and
B') or apart ('A' and 'C' of 'A, B and C'), counted by the gold relation between them (either order;
'none' when gold relates them not). kgc.extraction.coordination re-types and drops by the tune split
(SciERC's first 300 train abstracts); the eval split is reported to show the figures hold.
Writes bench/results/coordination.md and coordination.json.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_directions import split_lines
from spacy.tokens import Doc

from kgc.extraction.coordination import coordination
from kgc.extraction.spans import load_spacy

RESULTS = Path(__file__).resolve().parent / "results"


def measure(name: str) -> dict[str, Counter[str]]:
    """'adjacent' / 'apart' -> gold relation (or 'none') -> pairs of mentions."""
    nlp = load_spacy()
    if nlp is None:
        raise SystemExit("needs spaCy and its English pipeline: pip install 'kgc[nlp]'")
    out: dict[str, Counter[str]] = {"adjacent": Counter(), "apart": Counter()}
    for line in split_lines(name):
        d = json.loads(line)
        offset = 0
        for words, ner, relations in zip(d["sentences"], d["ner"], d["relations"], strict=True):
            doc = nlp(Doc(nlp.vocab, words=words))
            mentions = [doc[s - offset : e - offset + 1] for s, e, _ in ner]
            gold = {
                frozenset([(hs - offset, he - offset + 1), (ts - offset, te - offset + 1)]): relation
                for hs, he, ts, te, relation in relations
            }
            for i, a in enumerate(mentions):
                for b in mentions[i + 1 :]:
                    how = coordination(a, b) if a.end <= b.start or b.end <= a.start else None
                    if how is not None:
                        out[how][gold.get(frozenset([(a.start, a.end), (b.start, b.end)]), "none")] += 1
            offset += len(words)
    return out


def main() -> None:
    measured = {name: measure(name) for name in ("tune", "eval")}
    relations = sorted({r for by in measured.values() for c in by.values() for r in c})
    text = [
        "# Members of one list: the relation SciERC's gold gives them",
        "",
        "Written by bench/eval_coordination.py (see its docstring): pairs of gold mentions whose head",
        "words spaCy's parse coordinates, by the gold relation between them.",
        "",
        f"| split | members | {' | '.join(relations)} |",
        f"|---|---|{'---|' * len(relations)}",
    ]
    for name, by in measured.items():
        for how, c in by.items():
            text.append(f"| {name} | {how} | {' | '.join(str(c[r]) for r in relations)} |")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "coordination.md").write_text("\n".join([*text, ""]), encoding="utf-8")
    data = {n: {how: dict(c) for how, c in by.items()} for n, by in measured.items()}
    (RESULTS / "coordination.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print("\n".join(text))


if __name__ == "__main__":
    main()
