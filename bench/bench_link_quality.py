"""Entity linking quality on three labelled sets, this checkout against a baseline commit, no LLM.

    .venv/bin/python bench/bench_link_quality.py [--split dev|test] [--baseline 87ba972] [--errors 40]

Sets (each split 70/30 by a hash of the name; `test` is kept untouched until the final check):
- `rules`: Graphusion's step-2 names against the 322 LectureBank concepts, labelled by the written rules
  of bench/link_gold.py (exact, acronym table, 'X task', narrower, trivially NIL) plus 240 names read by
  hand; /work/shared/data/graphusion_links/{dev,test}.tsv. Close to what the linker's bands do.
- `hard`: the same vocabulary, 1,118 names all read and decided by hand (bench/link_gold_hard.tsv, its
  header gives the criteria and strata): every acronym of the step-2 names, samples of the names no rule
  labels, and written variants and near misses.
- `scierc`: a SKOS vocabulary of the entity names of SciERC train's first 175 abstracts (1,791 concepts)
  and the names of its last 175, by bench/link_gold_scierc.py (rules plus 400 hand labels);
  /work/shared/data/scierc_links/.

Both linkers run in a subprocess (bench/bench_link_worker.py); the baseline from `git archive` of its
commit. Scores by this checkout's kgc.link.metrics. Writes bench/results/link_quality_<split>.json and
prints the tables of bench/results/link.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_link import CONCEPTS, GOLD, lecturebank_vocabulary  # noqa: E402

from kgc.link.metrics import GoldLink, score_links  # noqa: E402
from kgc.models import NameLink  # noqa: E402

HARD = ROOT / "bench" / "link_gold_hard.tsv"
SCIERC = Path(os.environ.get("KGC_SCIERC_LINKS", GOLD.parent / "scierc_links"))
RESULTS = ROOT / "bench" / "results"
WORKER = ROOT / "bench" / "bench_link_worker.py"


def part_of(name: str) -> str:
    """The split of bench/link_gold.py: 30% test by a hash of the name."""
    return "test" if int(hashlib.sha256(name.encode()).hexdigest(), 16) % 10 < 3 else "dev"


def read_rows(path: Path, split: str | None) -> list[tuple[GoldLink, str]]:
    """(gold, stratum) of a name<TAB>id|NIL<TAB>broader<TAB>stratum file, of one split when given."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, gold, broader, stratum = [*line.split("\t"), "", "", ""][:4]
        if split is None or part_of(name) == split:
            out.append((GoldLink(name, None if gold == "NIL" else gold, broader or None), stratum or "?"))
    return out


def labelled_sets(split: str, vocab_dir: Path) -> dict[str, tuple[Path, list[tuple[GoldLink, str]]]]:
    lecturebank = lecturebank_vocabulary(vocab_dir / "lecturebank.tsv")
    sets = {
        "rules": (lecturebank, read_rows(GOLD / f"{split}.tsv", None)),
        "hard": (lecturebank, read_rows(HARD, split)),
    }
    if (SCIERC / f"{split}.tsv").is_file():
        sets["scierc"] = (SCIERC / "vocabulary.ttl", read_rows(SCIERC / f"{split}.tsv", None))
    return sets


def checkout_of(rev: str, into: Path) -> Path:
    """`git archive` of a commit unpacked into a folder (its kgc first on the worker's path)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], capture_output=True, check=True).stdout
    into.mkdir(parents=True)
    with tempfile.TemporaryFile() as f:
        f.write(archive)
        f.seek(0)
        with tarfile.open(fileobj=f) as tar:
            tar.extractall(into, filter="data")
    return into


def run_worker(code: Path, vocab: Path, names: list[str], dense: bool, home: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(code), "KGC_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    job = json.dumps({"vocab": str(vocab), "names": names, "dense": dense})
    done = subprocess.run(
        [sys.executable, str(WORKER)], input=job, capture_output=True, text=True, env=env, cwd=code
    )
    if done.returncode:
        raise SystemExit(f"worker failed ({code}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def scores(rows: list[tuple[GoldLink, str]], links: dict[str, NameLink]) -> dict[str, Any]:
    s = score_links([g for g, _ in rows], links)
    by_stratum: dict[str, list[GoldLink]] = defaultdict(list)
    for g, stratum in rows:
        by_stratum[stratum].append(g)
        if g.id is not None:
            by_stratum[f"{stratum} (linkable)"].append(g)
    strata = {}
    for stratum, golds in sorted(by_stratum.items()):
        part = score_links(golds, links)
        strata[stratum] = {"names": part.names, "accuracy_at_1": round(part.accuracy_at_1.value, 4)}
    return {
        "names": s.names,
        "accuracy_at_1": round(s.accuracy_at_1.value, 4),
        "auto_link_precision": round(s.auto_link_precision.value, 4),
        "auto_links": s.auto_link_precision.total,
        "coverage": round(s.coverage.value, 4),
        "nil_precision": round(s.nil_precision.value, 4),
        "nil_recall": round(s.nil_recall.value, 4),
        "nil_f1": round(s.nil_f1, 4),
        "recall_at_30": round(s.recall["union"][30].value, 4),
        "recall_at_1": round(s.recall["union"][1].value, 4),
        "strata": strata,
        "errors": s.errors,
    }


METRICS = [
    ("accuracy@1", "accuracy_at_1"),
    ("auto-link precision", "auto_link_precision"),
    ("auto-links made", "auto_links"),
    ("auto-link coverage", "coverage"),
    ("NIL precision", "nil_precision"),
    ("NIL recall", "nil_recall"),
    ("NIL F1", "nil_f1"),
    ("union recall@1", "recall_at_1"),
    ("union recall@30", "recall_at_30"),
]


def table(name: str, runs: dict[str, dict[str, Any]]) -> list[str]:
    labels = list(runs)
    out = [f"### {name}", "", "| metric | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    for title, key in METRICS:
        out.append(f"| {title} | " + " | ".join(str(runs[r][key]) for r in labels) + " |")
    strata = list(next(iter(runs.values()))["strata"])
    for stratum in strata:
        cells = [f"{runs[r]['strata'][stratum]['accuracy_at_1']:.3f}" for r in labels]
        n = next(iter(runs.values()))["strata"][stratum]["names"]
        out.append(f"| accuracy@1 {stratum} ({n}) | " + " | ".join(cells) + " |")
    return [*out, ""]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="dev", choices=["dev", "test"])
    ap.add_argument("--baseline", default=None, help="a commit to measure beside this checkout")
    ap.add_argument("--dense", action="store_true", help="with the dense band (MiniLM)")
    ap.add_argument("--errors", type=int, default=0, help="print this many wrong links per set")
    ap.add_argument("--sets", default="rules,hard,scierc")
    a = ap.parse_args()
    if not CONCEPTS.is_file():
        raise SystemExit(f"{CONCEPTS} not found")
    results: dict[str, dict[str, Any]] = {}
    lines = [f"## Quality, {a.split} split{' (dense band)' if a.dense else ''}", ""]
    with tempfile.TemporaryDirectory() as tmp:
        codes = {"this checkout": ROOT}
        if a.baseline:
            codes = {f"baseline {a.baseline}": checkout_of(a.baseline, Path(tmp) / "baseline"), **codes}
        for set_name, (vocab, rows) in labelled_sets(a.split, Path(tmp)).items():
            if set_name not in a.sets.split(","):
                continue
            names = list(dict.fromkeys(g.name for g, _ in rows))
            runs = {}
            for label, code in codes.items():
                out = run_worker(code, vocab, names, a.dense, Path(tmp) / "home")
                links = {x["name"]: NameLink.model_validate(x) for x in out["links"]}
                runs[label] = scores(rows, links) | {
                    "seconds": out["seconds"],
                    "cpu_seconds": out["cpu_seconds"],
                }
                print(f"{set_name} / {label}: {len(names)} names, {out['cpu_seconds']} CPU s", flush=True)
            for line in runs["this checkout"]["errors"][: a.errors]:
                print("  wrong:", line)
            results[set_name] = runs
            lines += table(f"{set_name} ({len(names)} names)", runs)
    print("\n".join(lines))
    RESULTS.mkdir(exist_ok=True)
    out_file = RESULTS / f"link_quality_{a.split}{'_dense' if a.dense else ''}.json"
    for runs in results.values():
        for r in runs.values():
            r["errors"] = r["errors"][:50]
    out_file.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print("wrote", out_file)


if __name__ == "__main__":
    main()
