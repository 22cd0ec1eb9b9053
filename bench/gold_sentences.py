"""Benchmark: where human gold states its relations, read by kgc's own rule (kgc.extraction.mentions).

    KGC_SCIERC=/work/qdata/scierc .venv/bin/python bench/gold_sentences.py

For every gold triplet of SciERC's tune split (the first 300 train abstracts; the test split is never
read) and of the demo (data/demo/gold_triplets.tsv against data/demo/corpus.jsonl): does one sentence
of its passage (split as extraction splits it) mention both names apart (kept by
`extraction.same_sentence`), only one inside the other (dropped as nested), only in different
sentences, or is a name not written in the passage at all? Also how often a candidate span 'X of Y'
of the tune abstracts, both parts candidates, is a gold pair: the odds behind re-anchoring a name
that holds the other. Writes bench/results/gold_sentences.md.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scierc import tune_set

from kgc.extraction.mentions import Sentences, remainder
from kgc.extraction.names import key
from kgc.extraction.spans import find_spans

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
KEPT, NOT_WRITTEN = "one sentence", "a name not written in the passage"


def where(sentences: Sentences, head: str, tail: str) -> str:
    if not sentences.mentions(head) or not sentences.mentions(tail):
        return NOT_WRITTEN
    found = sentences.stated(head, tail)
    return KEPT if found.sentence is not None else str(found.why_not)


def scierc() -> tuple[Counter[str], Counter[str], int]:
    """Where the tune gold is stated; and, over 'X of Y' candidates, gold pairs among them."""
    counts: Counter[str] = Counter()
    of_pairs: Counter[str] = Counter()
    abstracts = tune_set()
    for a in abstracts:
        passage = find_spans(a.text)
        sentences = Sentences(passage)
        for g in a.gold:
            counts[where(sentences, g.head, g.tail)] += 1
        gold_pairs = {frozenset((key(g.head), key(g.tail))) for g in a.gold}
        names = {key(n): n for n in passage.names()}
        for longer in passage.names():
            for shorter in passage.names():
                if (
                    shorter == longer
                    or (rest := remainder(longer, shorter)) is None
                    or key(rest) not in names
                ):
                    continue
                of_pairs["X of Y spans"] += 1
                of_pairs["gold pair (X, Y)"] += frozenset((key(rest), key(shorter))) in gold_pairs
                of_pairs["gold pair (X of Y, Y)"] += frozenset((key(longer), key(shorter))) in gold_pairs
    return counts, of_pairs, len(abstracts)


def demo() -> Counter[str]:
    texts = {}
    for line in (ROOT / "data" / "demo" / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        texts[doc["id"]] = doc["text"]
    counts: Counter[str] = Counter()
    rows = (ROOT / "data" / "demo" / "gold_triplets.tsv").read_text(encoding="utf-8").splitlines()[1:]
    sentences = {doc: Sentences(find_spans(text)) for doc, text in texts.items()}
    for row in rows:
        head, _, tail, doc = row.split("\t")
        counts[where(sentences[doc], head, tail)] += 1
    return counts


def table(counts: Counter[str]) -> str:
    total = sum(counts.values())
    lines = ["| gold triplets | n | share |", "|---|---|---|"]
    lines += [f"| {k} | {v} | {v / total:.3f} |" for k, v in counts.most_common()]
    return "\n".join([*lines, f"| all | {total} | 1.000 |"]) + "\n"


def main() -> None:
    tune, of_pairs, n = scierc()
    text = (
        "# Where gold relations are stated\n\n"
        "Written by bench/gold_sentences.py (see its docstring): the rule of `extraction.same_sentence` "
        "(kgc.extraction.mentions) applied to human gold triplets, sentences split as extraction "
        "splits them (spaCy).\n\n"
        f"## SciERC tune split ({n} train abstracts)\n\n{table(tune)}\n"
        "SciERC annotates relations between mentions of one sentence; a gold name that is not "
        "written in a sentence with the other is a Generic mention replaced by its coreferent "
        "(bench/scierc.py).\n\n"
        "Candidate spans 'X of Y' (or 'Y of X') whose parts X and Y are both candidates: how often "
        "X-Y is a gold pair, against how often the whole span is paired with Y.\n\n"
        + "\n".join(f"- {k}: {v}" for k, v in of_pairs.items())
        + f"\n\n## Demo (data/demo/gold_triplets.tsv)\n\n{table(demo())}"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "gold_sentences.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
