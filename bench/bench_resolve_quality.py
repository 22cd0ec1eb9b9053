"""Quality of entity resolution on labelled name pairs: this checkout against a baseline commit.

    .venv/bin/python bench/bench_resolve_quality.py [--baseline 5c6714b] [--misses 40]

Three labelled sets, no LLM, no embeddings; each resolver resolves all the names of a set at once,
with the set's abstracts for acronym definitions, as fusion does with a corpus:

- `graphusion`: 300 pairs from Graphusion's step-2 names (bench/resolve_pairs.tsv), drawn by
  bench/resolve_sample.py with a fixed seed from seven strata of what the resolver of the time did:
  merged by key (40), by string similarity (50), by acronym (50); left in the LLM band (60); vetoed
  (30); refused by the clustering (20); near misses, n-gram candidates with string similarity
  0.70-0.85 (50). Labelled by the fusion helper (one reader), `same` = 1 when the two names could
  replace each other in an NLP knowledge graph (spelling, plural, verb form, abbreviation, truncation
  artefacts); a broader or narrower concept, a method vs its task, another version = 0. Precision and
  recall weight the strata by their size when drawn (they estimate over the pairs of those strata).
- `scierc-train`, `scierc-dev`: pairs of SciERC names labelled by its coreference clusters, built by
  bench/scierc_pairs.py (its docstring gives the rules). Rules are tuned on train only; dev is the
  check. Recall is also given apart for `spelling` pairs (one name written two ways) and the `other`
  ones; about 40% of the other ones are name aliases (a spot check of 60), the rest are coreferent
  mentions that name a broader or narrower concept, which a resolver should keep apart. `adjudicated`:
  the same pairs, those any resolver merged against SciERC's label relabelled after reading them
  again (bench/scierc_adjudicated.tsv, a note each): mentions not coreferent in context can still be
  one name ('parsing' / 'parsing process').

The baseline is run from `git archive` of its commit, in a subprocess like this checkout
(bench/resolve_worker.py), in the same run. Writes bench/results/resolve_quality.json and .md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from name_sets import data_dir, real_names  # noqa: E402
from scierc_pairs import labelled_pairs  # noqa: E402

PAIRS = ROOT / "bench" / "resolve_pairs.tsv"
RESULTS = ROOT / "bench" / "results"
WORKER = ROOT / "bench" / "resolve_worker.py"
HISTORIC = "merge_entities at 1e99dfd"  # the resolver before kgc.resolve; its figures are carried over

Job = dict[str, Any]


def graphusion_set() -> tuple[Job, list[dict[str, Any]]]:
    with PAIRS.open(encoding="utf-8", newline="") as f:
        pairs = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    abstracts = (data_dir() / "abstracts.txt").read_text(encoding="utf-8").splitlines()
    job = {
        "records": [[n, 1, []] for n in real_names()],
        "texts": {str(i): line for i, line in enumerate(abstracts)},
        "queries": [[n, None] for p in pairs for n in (p["a"], p["b"])] + [[n, None] for n in real_names()],
    }
    labels = [
        {"stratum": p["stratum"], "population": int(p["population"]), "same": p["same"] == "1"} for p in pairs
    ]
    return job, labels


def scierc_set(split: str) -> tuple[Job, list[dict[str, Any]], list[dict[str, Any]]]:
    """The job, the labels as SciERC gives them, and as adjudicated."""
    abstracts, pairs = labelled_pairs(split)
    counts = Counter((text, ab.doc) for ab in abstracts for text, _ in ab.mentions)
    job = {
        "records": [[name, n, [doc]] for (name, doc), n in counts.items()],
        "texts": {ab.doc: ab.text for ab in abstracts},
        "queries": [[n, p.doc] for p in pairs for n in (p.a, p.b)],
    }
    labels = [
        {"stratum": "spelling" if p.spelling else "other", "same": p.same, "doc": p.doc, "a": p.a, "b": p.b}
        for p in pairs
    ]
    relabelled = [
        {**label, "same": p.same if p.adjudicated is None else p.adjudicated}
        for label, p in zip(labels, pairs, strict=True)
    ]
    return job, labels, relabelled


def run(job: Job, kgc_path: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(kgc_path), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, str(WORKER)],
        input=json.dumps(job),
        text=True,
        capture_output=True,
        env=env,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def score(labels: list[dict[str, Any]], entities: list[str | None], weighted: bool) -> dict[str, Any]:
    """Precision and recall over the pairs (strata weighted by their population when `weighted`)."""
    per: dict[str, Counter[str]] = defaultdict(Counter)
    false_merges, missed = [], []
    for k, label in enumerate(labels):
        a, b = entities[2 * k], entities[2 * k + 1]
        merged = a is not None and a == b
        s = per[label["stratum"]]
        s["pairs"] += 1
        s["same"] += label["same"]
        s["merged"] += merged
        s["true_merges"] += merged and label["same"]
        if "doc" in label and merged and not label["same"]:
            false_merges.append(f"{label['doc']}: {label['a']} / {label['b']}")
        if "doc" in label and label["same"] and not merged:
            missed.append(f"{label['a']} / {label['b']}")
    total: defaultdict[str, float] = defaultdict(float)
    strata = {}
    for name, s in sorted(per.items()):
        w = labels_population(labels, name) / s["pairs"] if weighted else 1.0
        for key in ("same", "merged", "true_merges"):
            total[key] += w * s[key]
        strata[name] = {
            "pairs": s["pairs"],
            "same": s["same"],
            "merged": s["merged"],
            "precision": _ratio(s["true_merges"], s["merged"]),
            "recall": _ratio(s["true_merges"], s["same"]),
        }
    return {
        "pairs": len(labels),
        "same": sum(label["same"] for label in labels),
        "precision": _ratio(total["true_merges"], total["merged"]),
        "recall": _ratio(total["true_merges"], total["same"]),
        "true_merges": sum(s["true_merges"] for s in per.values()),
        "false_merges": sum(s["merged"] - s["true_merges"] for s in per.values()),
        "strata": strata,
        "false_merge_list": false_merges,
        "missed_list": missed,
    }


def new_joins(names: list[str], before: list[str | None], after: list[str | None], n: int) -> str:
    """The names that are one entity after and were not before (one pair per group that joined), and
    the other way round, with a sample of them to read: what the 300 pairs, drawn from the resolver of
    their time, cannot tell."""

    def changes(now: list[str | None], then: list[str | None]) -> list[tuple[str, str]]:
        groups: dict[str | None, dict[str | None, list[str]]] = defaultdict(lambda: defaultdict(list))
        for name, x, y in zip(names, now, then, strict=True):
            if x is not None:
                groups[x][y].append(name)
        return [
            (parts[0][0], other[0])
            for g in groups.values()
            for parts in [list(g.values())]
            for other in parts[1:]
        ]

    joins, splits = changes(after, before), changes(before, after)
    sample = random.Random(19).sample(joins, min(n, len(joins)))
    lines = [
        f"Graphusion's {len(names):,} step-2 names: {len(joins)} groups of names one entity now and not "
        f"before (a pair each), {len(splits)} apart now and not before. A sample of {len(sample)} joins:",
        "",
        *(f"{k}. {a} / {b}" for k, (a, b) in enumerate(sample, 1)),
        "",
        "Apart now:",
        "",
        *(f"- {a} / {b}" for a, b in splits),
    ]
    return "\n".join(lines)


def labels_population(labels: list[dict[str, Any]], stratum: str) -> int:
    return next(int(label.get("population", 0)) for label in labels if label["stratum"] == stratum)


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def baseline_tree(commit: str, into: Path) -> Path:
    """The kgc package of `commit`, unpacked into `into`."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, "kgc"], capture_output=True, check=True
    )
    tar = into / "kgc.tar"
    tar.write_bytes(archive.stdout)
    with tarfile.open(tar) as t:
        t.extractall(into, filter="data")
    return into


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", default="5c6714b", help="the commit to compare with (default: %(default)s)")
    ap.add_argument("--misses", type=int, default=0, help="print this many missed SciERC train pairs")
    ap.add_argument(
        "--sample", type=int, default=100, help="Graphusion names newly joined, to read (seed 19)"
    )
    args = ap.parse_args()
    jobs: dict[str, Job] = {}
    sets: dict[str, tuple[str, list[dict[str, Any]]]] = {}  # label set -> (its job, its labels)
    jobs["graphusion"], labels = graphusion_set()
    sets["graphusion"] = ("graphusion", labels)
    for split in ("train", "dev"):
        jobs[f"scierc-{split}"], raw, relabelled = scierc_set(split)
        sets[f"scierc-{split}"] = (f"scierc-{split}", raw)
        sets[f"scierc-{split} adjudicated"] = (f"scierc-{split}", relabelled)
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    dirty = subprocess.run(["git", "-C", str(ROOT), "diff", "--quiet", "HEAD", "--", "kgc"]).returncode != 0
    here = head.stdout.strip() + (" with changes" if dirty else "")
    resolvers = {f"kgc at {args.baseline} (before)": None, f"kgc at {here} (after)": ROOT}
    report: dict[str, dict[str, Any]] = {}
    entities_of: dict[str, list[str | None]] = {}  # resolver -> the entity of every Graphusion name
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in resolvers.items():
            tree = path or baseline_tree(args.baseline, Path(tmp))
            report[name] = {}
            results = {job_name: run(job, tree) for job_name, job in jobs.items()}
            entities_of[name] = results["graphusion"]["entities"][2 * len(sets["graphusion"][1]) :]
            for set_name, (job_name, labels) in sets.items():
                result = results[job_name]
                scored = score(labels, result["entities"], weighted=set_name == "graphusion")
                report[name][set_name] = {
                    "seconds": result["seconds"],
                    "entities": result["clusters"],
                    **scored,
                }
                print(f"{name} {set_name}: P {scored['precision']} R {scored['recall']}", file=sys.stderr)
    previous = RESULTS / "resolve_quality.json"
    if previous.is_file():
        old = json.loads(previous.read_text(encoding="utf-8"))["runs"].get(HISTORIC)
        if old:
            report[HISTORIC] = {"graphusion": old.get("graphusion", old)}
    RESULTS.mkdir(parents=True, exist_ok=True)
    sizes = {
        s: {"pairs": len(labels), "same": sum(x["same"] for x in labels)} for s, (_, labels) in sets.items()
    }
    previous.write_text(json.dumps({"sets": sizes, "runs": report}, indent=2) + "\n", encoding="utf-8")
    (RESULTS / "resolve_quality.md").write_text(markdown(report, sizes) + "\n", encoding="utf-8")
    print(markdown(report, sizes))
    before_name, after_name = list(resolvers)
    (RESULTS / "resolve_new_joins.md").write_text(
        new_joins(real_names(), entities_of[before_name], entities_of[after_name], args.sample) + "\n",
        encoding="utf-8",
    )
    after = report[list(resolvers)[-1]]["scierc-train"]
    for line in after["missed_list"][: args.misses]:
        print("missed:", line)


def _cell(run: dict[str, Any], stratum: str | None = None) -> str:
    r = run["strata"][stratum] if stratum else run
    if r["precision"] is None and r["recall"] is None:
        return "-"
    return f"{r['precision'] if r['precision'] is not None else '-'} / {r['recall'] if r['recall'] is not None else '-'}"


def markdown(report: dict[str, dict[str, Any]], sizes: dict[str, dict[str, int]]) -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        "Entity resolution on labelled name pairs, no LLM (bench/bench_resolve_quality.py).",
        f"Seconds are wall clock on a shared machine (load average {load} at the end of the run).",
        "",
    ]
    lines += ["| set | pairs | same |", "|---|---:|---:|"]
    lines += [f"| {s} | {n['pairs']:,} | {n['same']:,} |" for s, n in sizes.items()]
    lines += [
        "",
        "| resolver | set | precision | recall | merged right / wrong | entities | s | strata P / R |",
    ]
    lines.append("|---|---|---:|---:|---|---:|---:|---|")
    for name, runs in report.items():
        for set_name, r in runs.items():
            strata = " · ".join(f"{s} {_cell(r, s)}" for s in r["strata"])
            counts = f"{r['true_merges']} / {r['false_merges']}" if "true_merges" in r else "-"
            lines.append(
                f"| {name} | {set_name} | {r['precision']} | {r['recall']} | {counts} | "
                f"{r.get('entities', '-'):,} | {r.get('seconds', '-')} | {strata} |"
            )
    last = list(report.values())[-2 if HISTORIC in report else -1]
    for set_name in ("scierc-train adjudicated", "scierc-dev adjudicated"):
        wrong = last[set_name]["false_merge_list"]
        lines += ["", f"False merges on {set_name} (after): " + ("; ".join(wrong) if wrong else "none")]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
