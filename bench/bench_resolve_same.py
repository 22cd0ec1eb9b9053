"""Same decisions: entity resolution of this checkout against a baseline commit, decision by decision.

    .venv/bin/python bench/bench_resolve_same.py --baseline 85108a0 [--synthetic 100000]

For a change meant to alter how resolution runs (memory, speed) and not what it decides. Each job is
resolved by both in subprocesses (the baseline from `git archive` of its commit), no LLM, no
embeddings, and everything resolution gives out is compared: the entities (their ids, canonical
names and every name in them), every merge decision (alias, entity, reason, via, generator, score,
documents) and every pair kept apart (with its band, reason and scores), and the counts. Jobs:

- `graphusion`: the 18,846 names of Graphusion's step-2 candidates with the abstracts (acronym
  definitions), as bench/bench_resolve_quality.py resolves them;
- `graphusion-docs`: the same names, each with the abstracts it occurs in (case-insensitive), so the
  decisions made per document (an acronym with two expansions) are compared too;
- `synthetic`: bench/name_sets.py's names at --synthetic names (real names, variants, compositions).

Prints each job's differences (none is the aim) and exits 1 when there is one. Writes
bench/results/resolve_same.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

Job = dict[str, Any]


def jobs(synthetic: int) -> dict[str, Job]:
    from bench_resolve_quality import graphusion_set
    from name_sets import name_set

    graphusion, _ = graphusion_set()
    texts: dict[str, str] = graphusion["texts"]
    lowered = {doc: text.lower() for doc, text in texts.items()}
    with_docs = [
        [name, 1, [doc for doc, text in lowered.items() if name.lower() in text]]
        for name, _, _ in graphusion["records"]
    ]
    names = list(dict.fromkeys(n for n, _ in name_set(synthetic)))
    return {
        "graphusion": {"records": graphusion["records"], "texts": texts},
        "graphusion-docs": {"records": with_docs, "texts": texts},
        f"synthetic-{synthetic}": {"records": [[n, 1, []] for n in names], "texts": None},
    }


def fingerprint(job: Job) -> dict[str, Any]:
    """Everything a resolution decides, as sorted plain lists (run by the worker, under either kgc)."""
    from kgc.resolve import NameRecord, resolve_names

    records = [NameRecord(name, count, tuple(docs)) for name, count, docs in job["records"]]
    start = time.process_time()
    r = resolve_names(records, texts=job["texts"])
    cpu = time.process_time() - start
    clusters = sorted([c.id, c.canonical, sorted(c.surfaces)] for c in r.clusters.values())
    merges = sorted(
        [m.alias, m.entity, m.canonical, m.reason, m.via, m.generator, m.score, sorted(m.docs)]
        for m in r.merges
    )
    rejected = sorted(
        [p.a, p.b, p.generator, p.decision, p.band, p.reason, sorted(p.scores.items())] for p in r.rejected
    )
    return {
        "entities": clusters,
        "merges": merges,
        "rejected": rejected,
        "counts": dict(sorted(r.counts.items())),
        "cpu_seconds": round(cpu, 1),
    }


def run(job: Job, tree: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, __file__, "--worker"], input=json.dumps(job), text=True, capture_output=True, env=env
    )
    if out.returncode != 0:
        raise SystemExit(f"the resolver under {tree} failed:\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def differences(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[str]]:
    """Per part (entities, merges, rejected, counts): what only one side has, as printable lines."""
    out: dict[str, list[str]] = {}
    for part in ("entities", "merges", "rejected"):
        a = {json.dumps(x) for x in before[part]}
        b = {json.dumps(x) for x in after[part]}
        out[part] = [f"- {x}" for x in sorted(a - b)] + [f"+ {x}" for x in sorted(b - a)]
    keys = set(before["counts"]) | set(after["counts"])
    out["counts"] = [
        f"{k}: {before['counts'].get(k)} -> {after['counts'].get(k)}"
        for k in sorted(keys)
        if before["counts"].get(k) != after["counts"].get(k)
    ]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", help="the commit whose decisions must be kept (required)")
    ap.add_argument("--synthetic", type=int, default=100_000, help="names in the synthetic job")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        json.dump(fingerprint(json.load(sys.stdin)), sys.stdout)
        return
    if not args.baseline:
        ap.error("--baseline is required")
    from bench_resolve_quality import baseline_tree

    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    dirty = subprocess.run(["git", "-C", str(ROOT), "diff", "--quiet", "HEAD", "--", "kgc"]).returncode != 0
    here = head.stdout.strip() + (" with changes" if dirty else "")
    lines = [
        f"Resolution at {here} against {args.baseline}: every entity, merge and rejected pair compared.",
        "",
        "| job | names | entities | merges | pairs kept apart | differences | CPU s before | CPU s after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        tree = baseline_tree(args.baseline, Path(tmp))
        for name, job in jobs(args.synthetic).items():
            before, after = run(job, tree), run(job, ROOT)
            diff = differences(before, after)
            n = sum(len(d) for d in diff.values())
            failed |= n > 0
            for part, shown in diff.items():
                for line in shown[:10]:
                    print(f"{name} {part} {line}", file=sys.stderr)
            lines.append(
                f"| {name} | {len(job['records']):,} | {len(after['entities']):,} | {len(after['merges']):,} | "
                f"{len(after['rejected']):,} | {n} | {before['cpu_seconds']} | {after['cpu_seconds']} |"
            )
            print(lines[-1], flush=True)
    (ROOT / "bench" / "results" / "resolve_same.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
