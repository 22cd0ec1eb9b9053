"""Scale of entity resolution: wall time, peak memory and pairs scored as the number of names grows.

    .venv/bin/python bench/bench_resolve_scale.py                         # 10k, 100k, 300k, 1M
    .venv/bin/python bench/bench_resolve_scale.py --sizes 10000 30000 --baselines 10000

Name sets come from bench/name_sets.py (real step-2 names, their systematic variants, then composed
names). Each run is a subprocess, so its peak RSS is its own. Compared with: the pre-resolver
`merge_entities` (kgc at 1e99dfd, kept below only as the baseline) and an all-pairs rapidfuzz resolver
(ratio >= 92 on normalised names, then connected components), at the sizes given by --baselines.
Pairwise precision/recall are against the variants' base names (a rough check: two bases can share an
acronym). Writes bench/results/resolve_scale.json and .md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from name_sets import name_set  # noqa: E402

from kgc.resolve.keys import name_key  # noqa: E402

Lookup = Callable[[str], str | None]  # a name -> its entity, as a resolver grouped them

RESULTS = ROOT / "bench" / "results"


def pairwise_quality(entity: Lookup, labelled: list[tuple[str, str]]) -> dict[str, float]:
    """Pairwise precision and recall of the clustering against the base names, over distinct names."""
    base_of = {name: name_key(base) for name, base in labelled}  # bases alike but for case or plural are one
    by_cluster: dict[str, Counter[str]] = defaultdict(Counter)
    for name, base in base_of.items():
        by_cluster[entity(name) or ""][base] += 1
    by_base = Counter(base_of.values())
    same = sum(c * (c - 1) // 2 for cl in by_cluster.values() for c in cl.values())
    predicted = sum(t * (t - 1) // 2 for t in (sum(cl.values()) for cl in by_cluster.values()))
    gold = sum(c * (c - 1) // 2 for c in by_base.values())
    return {
        "precision": round(same / predicted, 4) if predicted else 1.0,
        "recall": round(same / gold, 4) if gold else 1.0,
    }


def run_kgc(names: list[str]) -> tuple[Lookup, dict[str, int]]:
    from kgc.config import ResolveConfig
    from kgc.resolve import resolve_names

    r = resolve_names(names, ResolveConfig())
    return r.lookup, dict(r.counts)


def run_all_pairs(names: list[str]) -> tuple[Lookup, dict[str, int]]:
    """Every pair compared (rapidfuzz cdist in row blocks), ratio >= 92, connected components."""
    import numpy as np
    from rapidfuzz import fuzz, process
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from kgc.text import normalise_name

    keys = [normalise_name(n) for n in names]
    rows, cols = [], []
    for start in range(0, len(keys), 2000):
        block = process.cdist(
            keys[start : start + 2000], keys, scorer=fuzz.ratio, score_cutoff=92, dtype=np.uint8, workers=-1
        )
        r, c = np.nonzero(block)
        rows.append(r + start)
        cols.append(c)
    r, c = np.concatenate(rows), np.concatenate(cols)
    n, labels = connected_components(
        coo_matrix((np.ones(len(r)), (r, c)), shape=(len(keys), len(keys))), directed=False
    )
    return {name: str(label) for name, label in zip(names, labels, strict=True)}.get, {
        "pairs_scored": len(keys) ** 2,
        "entities": int(n),
    }


def run_old(names: list[str]) -> tuple[Lookup, dict[str, int]]:
    """kgc's merge_entities before kgc.resolve (1e99dfd), without embeddings: leader clustering that
    compares each name with every cluster leader."""
    import re

    from rapidfuzz import fuzz

    from kgc.text import acronym, normalise_name

    paren = re.compile(r"^(?P<name>.+?)\s*\((?P<inner>[^()]+)\)$")
    digits = re.compile(r"\d+")
    key_of: dict[str, str] = {}
    key_count: Counter[str] = Counter()
    hint: dict[str, str] = {}
    for s in names:
        m = paren.match(s.strip())
        base, inner = (m["name"], m["inner"]) if m else (s, None)
        k = normalise_name(base)
        if not k:
            continue
        key_of[s] = k
        key_count[k] += 1
        if inner and acronym(base) == normalise_name(inner):
            hint[normalise_name(inner)] = k
    order = sorted(key_count, key=lambda k: (-key_count[k], len(k), k))
    leader_of: dict[str, str] = {}
    by_acronym: dict[str, list[str]] = defaultdict(list)
    for k in order:
        if a := acronym(k):
            by_acronym[a].append(k)
    leaders: list[str] = []
    for k in order:
        expansions = [e for e in by_acronym.get(k, []) if e != k]
        if " " in k or not expansions:
            continue
        target = hint.get(k) or (expansions[0] if len(expansions) == 1 else None)
        if target is not None:
            if target not in leader_of:
                leader_of[target] = target
                leaders.append(target)
            leader_of[k] = leader_of[target]
    for k in order:
        if k in leader_of:
            continue
        best: tuple[float, str] | None = None
        for lead in leaders:
            if digits.findall(k) != digits.findall(lead):
                continue
            ratio = fuzz.ratio(k, lead)
            if ratio >= 92 and (best is None or ratio > best[0]):
                best = (ratio, lead)
        if best is None:
            leaders.append(k)
            leader_of[k] = k
        else:
            leader_of[k] = leader_of[best[1]]
    return {s: leader_of[k] for s, k in key_of.items()}.get, {"entities": len(set(leader_of.values()))}


RUNNERS = {"kgc": run_kgc, "all_pairs_rapidfuzz": run_all_pairs, "old_merge_entities": run_old}


def one(method: str, size: int) -> dict[str, object]:
    labelled = name_set(size)
    names = list(dict.fromkeys(n for n, _ in labelled))
    start = time.perf_counter()
    entity, counts = RUNNERS[method](names)
    seconds = time.perf_counter() - start
    return {
        "method": method,
        "size": size,
        "distinct_names": len(names),
        "seconds": round(seconds, 2),
        "cpu_seconds": round(
            sum(resource.getrusage(resource.RUSAGE_SELF)[:2]), 1
        ),  # user + system, all threads
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "counts": counts,
        **pairwise_quality(entity, labelled),
    }


def growth(rows: list[dict[str, object]]) -> float | None:
    """Log-log slope of time against size over the runs of one method."""
    pts = [(math.log(float(r["size"])), math.log(max(float(r["seconds"]), 1e-3))) for r in rows]  # type: ignore[arg-type]
    if len(pts) < 2:
        return None
    mx, my = sum(x for x, _ in pts) / len(pts), sum(y for _, y in pts) / len(pts)
    return round(sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts), 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 300_000, 1_000_000])
    ap.add_argument(
        "--baselines", type=int, nargs="*", default=[10_000], help="sizes at which the baselines run"
    )
    ap.add_argument("--one", nargs=2, metavar=("METHOD", "SIZE"), help=argparse.SUPPRESS)
    ap.add_argument("--out", default="resolve_scale")
    ap.add_argument("--md-only", action="store_true", help="rewrite the .md table from the .json")
    args = ap.parse_args()
    if args.md_only:
        report = json.loads((RESULTS / f"{args.out}.json").read_text(encoding="utf-8"))
        kgc_rows = [r for r in report["runs"] if r["method"] == "kgc"]
        cpu_rows = [{**r, "seconds": r.get("cpu_seconds", r["seconds"])} for r in kgc_rows]
        report["growth_exponent_kgc_cpu"] = growth(cpu_rows)
        (RESULTS / f"{args.out}.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        write_md(report, RESULTS / f"{args.out}.md")
        return
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]))))
        return
    rows = []
    plan = [("kgc", s) for s in args.sizes] + [
        (m, s) for s in args.baselines for m in ("old_merge_entities", "all_pairs_rapidfuzz")
    ]
    for method, size in plan:
        load = os.getloadavg()[0]
        out = subprocess.run(
            [sys.executable, __file__, "--one", method, str(size)], capture_output=True, text=True, check=True
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        row["load_average_at_start"] = round(load, 2)
        print(json.dumps(row), flush=True)
        rows.append(row)
    kgc_rows = [r for r in rows if r["method"] == "kgc"]
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "growth_exponent_kgc": growth(kgc_rows),
        "growth_exponent_kgc_cpu": growth(
            [{**r, "seconds": r.get("cpu_seconds", r["seconds"])} for r in kgc_rows]
        ),
        "runs": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    write_md(report, RESULTS / f"{args.out}.md")


def write_md(report: dict[str, object], path: Path) -> None:
    rows = report["runs"]
    assert isinstance(rows, list)
    lines = [
        f"Machine: {report['machine']}, shared with other agents (load average at each start in the last column).",
        "",
        "| method | names | wall s | CPU s | peak MB | entities | pairs proposed by LSH / kept (string >= band) | key pairs | acronyms joined | band left undecided | pairwise P | pairwise R | load |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        c = r["counts"]
        lsh = f"{c['pairs_ngram_proposed']:,} / {c['pairs_ngram']:,}" if "pairs_ngram_proposed" in c else "-"
        lines.append(
            f"| {r['method']} | {r['distinct_names']:,} | {r['seconds']} | {r.get('cpu_seconds', '-')} | {r['peak_rss_mb']:.0f} | "
            f"{c.get('entities', '-'):,} | {lsh} | {c.get('pairs_key', '-')} | {c.get('pairs_acronym', '-')} | "
            f"{c.get('band_undecided', '-')} | {r['precision']} | {r['recall']} | {r['load_average_at_start']} |"
        )
    lines += [
        "",
        f"Growth exponent of kgc (log-log slope of wall time over names): {report['growth_exponent_kgc']}; "
        f"of CPU time: {report.get('growth_exponent_kgc_cpu')}.",
        "Pairwise precision/recall are against the variants' base names (bases equal up to case or plural count as one).",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
