"""Draws the pairs labelled by hand for bench/bench_resolve_quality.py (run once; kept for the record).

    .venv/bin/python bench/resolve_sample.py > bench/resolve_pairs.tsv   # then label the last column

Every distinct name of the four step-2 candidate files is resolved without an LLM; pairs are drawn
per stratum (what the resolver did with them), with a fixed seed. `population` is the stratum's size,
used to weight the strata when estimating recall.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from name_sets import real_names  # noqa: E402

from kgc.resolve import resolve_names  # noqa: E402
from kgc.resolve.candidates import ngram_pairs  # noqa: E402
from kgc.resolve.keys import name_key  # noqa: E402

SIZES = {
    "merged_key": 40,
    "merged_fuzzy": 50,
    "merged_acronym": 50,
    "band": 60,
    "veto": 30,
    "near_miss": 50,
    "cluster_refused": 20,
}


def strata() -> dict[str, list[tuple[str, str, float]]]:
    names = real_names()
    r = resolve_names(names)
    out: dict[str, list[tuple[str, str, float]]] = {k: [] for k in SIZES}
    for m in r.merges:
        if m.via is None or m.docs:
            continue
        kind = {
            "normalised": "merged_key",
            "fuzzy": "merged_fuzzy",
            "acronym": "merged_acronym",
            "definition": "merged_acronym",
        }.get(m.reason)
        if kind:
            out[kind].append((m.alias, m.via, m.score))
    for p in r.rejected:
        kind = {"llm": "band", "veto": "veto", "cluster": "cluster_refused"}.get(p.band)
        if kind:
            out[kind].append((p.a, p.b, max(p.scores.values(), default=0.0)))
    # Near misses: proposed by the n-gram generator, string similarity 0.70-0.85, so never in the band.
    label_of: dict[str, str] = {}
    for n in names:
        label_of.setdefault(name_key(n), n)
    keys = sorted(k for k in label_of if k)
    found = ngram_pairs(keys, bands=20, rows=3, max_bucket=200, min_ratio=70)
    for (i, j), s in zip(found.pairs.tolist(), (found.ratios / 100).tolist(), strict=True):
        if s < 0.85 and r.lookup(label_of[keys[i]]) != r.lookup(label_of[keys[j]]):
            out["near_miss"].append((label_of[keys[i]], label_of[keys[j]], round(s, 4)))
    return out


def main() -> None:
    rng = random.Random(11)
    print("stratum\tpopulation\ta\tb\tscore\tsame")
    for kind, rows in strata().items():
        rows = sorted(set(rows))
        for a, b, s in rng.sample(rows, min(SIZES[kind], len(rows))):
            print(f"{kind}\t{len(rows)}\t{a}\t{b}\t{s}\t")


if __name__ == "__main__":
    main()
