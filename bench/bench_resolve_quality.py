"""Quality of entity resolution on 300 name pairs labelled by hand, from Graphusion's step-2 names.

    .venv/bin/python bench/bench_resolve_quality.py

How the pairs were drawn: bench/resolve_sample.py resolved the 18,8xx distinct names of the four
step-2 files (no LLM) and drew, with a fixed seed, pairs from seven strata of what it did: merged by
key (40), by string similarity (50), by acronym (50); left in the LLM band (60); vetoed (30); refused
by the clustering (20); and near misses, n-gram candidates with string similarity 0.70-0.85 (50).
How they were labelled: by the fusion helper (one reader, no second opinion), `same` = 1 when the two
names could replace each other in an NLP knowledge graph (spelling, plural, verb form, abbreviation,
truncation artefacts of the extraction); a broader or narrower concept, a method vs its task ('language
model' / 'language modeling'), explicit vs implicit, another version = 0. Ambiguous calls are few and
went to 0 unless the names were clearly one thing.

Any resolver is scored on the same pairs: merged = both names in one entity. Precision and recall are
per stratum and overall, the strata weighted by their size when the sample was drawn (so the overall
figures estimate precision/recall over the pairs of those strata, not over all pairs of names).
Writes bench/results/resolve_quality.json and .md.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_resolve_scale import run_old  # noqa: E402
from name_sets import data_dir, real_names  # noqa: E402

from kgc.resolve import resolve_names  # noqa: E402

PAIRS = ROOT / "bench" / "resolve_pairs.tsv"
RESULTS = ROOT / "bench" / "results"


def load_pairs() -> list[dict[str, str]]:
    with PAIRS.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def score(pairs: list[dict[str, str]], entity: Callable[[str], str | None]) -> dict[str, object]:
    per: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for p in pairs:
        s = per[p["stratum"]]
        s["population"] = float(p["population"])
        merged = entity(p["a"]) is not None and entity(p["a"]) == entity(p["b"])
        same = p["same"] == "1"
        s["n"] += 1
        s["same"] += same
        s["merged"] += merged
        s["true_merges"] += merged and same
    strata = {}
    tot = defaultdict(float)
    for name, s in per.items():
        w = s["population"] / s["n"]
        for k in ("same", "merged", "true_merges"):
            tot[k] += w * s[k]
        strata[name] = {
            "pairs": int(s["n"]),
            "population": int(s["population"]),
            "labelled_same": int(s["same"]),
            "merged": int(s["merged"]),
            "precision": round(s["true_merges"] / s["merged"], 3) if s["merged"] else None,
            "recall": round(s["true_merges"] / s["same"], 3) if s["same"] else None,
        }
    return {
        "precision": round(tot["true_merges"] / tot["merged"], 3),
        "recall": round(tot["true_merges"] / tot["same"], 3),
        "strata": strata,
    }


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--reuse-baseline",
        action="store_true",
        help="take merge_entities' figures from the last results file (it takes ~7 min)",
    )
    args = ap.parse_args()
    pairs = load_pairs()
    names = real_names()
    texts = {
        str(n): line
        for n, line in enumerate((data_dir() / "abstracts.txt").read_text(encoding="utf-8").splitlines())
    }
    runs = {}
    start = time.perf_counter()
    r = resolve_names(names, texts=texts)
    runs["kgc (definitions from the abstracts)"] = (
        score(pairs, r.lookup),
        time.perf_counter() - start,
        len(r.clusters),
    )
    start = time.perf_counter()
    r = resolve_names(names)
    runs["kgc (names only)"] = (
        score(pairs, r.lookup),
        time.perf_counter() - start,
        len(r.clusters),
    )
    previous = RESULTS / "resolve_quality.json"
    if args.reuse_baseline and previous.is_file():
        base = json.loads(previous.read_text(encoding="utf-8"))["runs"]["merge_entities at 1e99dfd"]
        runs["merge_entities at 1e99dfd"] = (
            {k: base[k] for k in ("precision", "recall", "strata")},
            base["seconds"],
            base["entities"],
        )
    else:
        start = time.perf_counter()
        old, counts = run_old(names)
        runs["merge_entities at 1e99dfd"] = (
            score(pairs, old),
            time.perf_counter() - start,
            counts["entities"],
        )
    report = {
        name: {"seconds": round(sec, 1), "entities": n, **result} for name, (result, sec, n) in runs.items()
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "resolve_quality.json").write_text(
        json.dumps({"names": len(names), "runs": report}, indent=2) + "\n", encoding="utf-8"
    )
    strata = list(next(iter(report.values()))["strata"])  # type: ignore[call-overload]
    lines = [f"{len(pairs)} labelled pairs from {len(names):,} distinct step-2 names (no LLM).", ""]
    lines.append(
        "| resolver | precision | recall | entities | s | " + " | ".join(f"{s} P/R" for s in strata) + " |"
    )
    lines.append("|---|---:|---:|---:|---:|" + "---|" * len(strata))
    for name, rep in report.items():
        cells = []
        for s in strata:
            st = rep["strata"][s]  # type: ignore[index]
            cells.append(
                f"{st['precision'] if st['precision'] is not None else '-'} / {st['recall'] if st['recall'] is not None else '-'}"
            )
        lines.append(
            f"| {name} | {rep['precision']} | {rep['recall']} | {rep['entities']:,} | {rep['seconds']} | "
            + " | ".join(cells)
            + " |"
        )
    counts_line = " · ".join(
        f"{s}: {st['pairs']} pairs of {st['population']:,}, {st['labelled_same']} same"
        for s, st in report["kgc (names only)"]["strata"].items()  # type: ignore[index, union-attr]
    )
    lines += ["", f"Strata: {counts_line}."]
    (RESULTS / "resolve_quality.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
