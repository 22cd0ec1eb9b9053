"""Benchmark: the common-word name rule (kgc.extraction.specificity) on relation cues alone, no LLM.

    KGC_SCIERC=/work/qdata/scierc .venv/bin/python bench/eval_specificity.py     # tune, eval, demo

Each document is read as extraction reads it (spaCy's candidate spans, relation cues between them,
names judged by the name rules: bench/eval_cues.py); the cue triplets of the whole set are the
corpus's candidates, and the rule drops those with a common word at each Zipf threshold, with the
corpus check ('a longer name holds it') and without it (frequency alone). Scored as pairs: a triplet
is right when its two names (kgc.extraction.names.key) are a gold pair of the set (as eval_cues.py). Thresholds
are chosen on the tune split (SciERC's first 300 train abstracts); eval and the demo are reported.
Writes bench/results/specificity.md and specificity.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_cues import documents

from kgc.extraction.cues import cue_triplets, find_cues
from kgc.extraction.names import NameRules, key
from kgc.extraction.spans import find_spans
from kgc.extraction.specificity import CommonWords, drop_common_words, english_frequency
from kgc.extraction.triplets import PassageIndex
from kgc.models import Candidate, Provenance

RESULTS = Path(__file__).resolve().parent / "results"
THRESHOLDS = (3.5, 4.0, 4.25, 4.5, 4.75, 5.0, 5.5)


def cue_candidates(name: str) -> tuple[list[Candidate], set[frozenset[str]]]:
    """The set's cue triplets as candidates (one per pair and document) and its gold pairs."""
    docs, gold, schema = documents(name)
    candidates: list[Candidate] = []
    for doc_id, text in docs:
        passage = find_spans(text)
        found, _ = cue_triplets(find_cues(passage), PassageIndex(passage), schema, NameRules(), 80, known=[])
        seen: set[frozenset[str]] = set()
        for t, _ in found:
            if (pair := frozenset((key(t.head), key(t.tail)))) not in seen:
                seen.add(pair)
                prov = Provenance(doc_id=doc_id, chunk_id=doc_id)
                candidates.append(Candidate(head=t.head, relation=t.relation, tail=t.tail, provenance=[prov]))
    return candidates, {frozenset((key(g.head), key(g.tail))) for g in gold}


def score(candidates: list[Candidate], gold: set[frozenset[str]]) -> dict[str, float]:
    """Pairs precision, recall and F1 (names compared by `key`, as bench/eval_cues.py does)."""
    right = sum(frozenset((key(c.head), key(c.tail))) in gold for c in candidates)
    p = right / len(candidates) if candidates else 0.0
    r = right / len(gold) if gold else 0.0
    return {"relations": len(candidates), "right": right, "P": p, "R": r, "F1": 2 * p * r / (p + r or 1)}


def measure(name: str) -> dict[str, Any]:
    zipf = english_frequency()
    if zipf is None:
        raise SystemExit("wordfreq is not installed: pip install 'kgc[nlp]'")
    candidates, gold = cue_candidates(name)
    rows: dict[str, Any] = {"off": score(candidates, gold)}
    for t in THRESHOLDS:
        rows[f"{t} corpus"] = score(drop_common_words(candidates, t, zipf)[0], gold)
        # frequency alone: a corpus with no multiword names, so no word is a domain word
        common = CommonWords([], t, zipf)
        alone = [c for c in candidates if c.head not in common and c.tail not in common]
        rows[f"{t} alone"] = score(alone, gold)
    return {"set": name, "gold_pairs": len(gold), "rows": rows}


def render(results: list[dict[str, Any]]) -> str:
    lines = [
        "# The common-word name rule on relation cues alone",
        "",
        "Written by bench/eval_specificity.py (see its docstring). Pairs scored by name key; 'corpus': "
        "a common word stays when a longer candidate name of the set holds it; 'alone': Zipf frequency "
        "only. Thresholds chosen on tune.",
    ]
    for res in results:
        lines += ["", f"## {res['set']} ({res['gold_pairs']} gold pairs)", ""]
        lines += ["| rule | relations | right | P | R | F1 |", "|---|---|---|---|---|---|"]
        for label, s in res["rows"].items():
            lines.append(
                f"| {label} | {s['relations']} | {s['right']} | {s['P']:.3f} | {s['R']:.3f} | {s['F1']:.3f} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", nargs="+", choices=["tune", "eval", "demo"], default=["tune", "eval", "demo"])
    args = ap.parse_args()
    results = [measure(name) for name in args.sets]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "specificity.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    text = render(results)
    (RESULTS / "specificity.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
