"""Entity linking benchmark: speed and memory at scale (quality: bench/bench_link_quality.py).

    python bench/bench_link.py speed [--names 10000 --concepts 100000]

Speed: a synthetic vocabulary (labels of 2-4 words drawn from
a Zipf-weighted lexicon of made-up words, a synonym for a third of them) and names that are labels
with a typo, a plural, an extra word, or made-up (NIL); run in a child process so the index is built
cold, then again from its cache; peak memory from the child's maximum resident set size.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


RESULTS = Path(__file__).with_name("results")
# The generated labelled sets (bench/link_gold.py, bench/link_gold_scierc.py); $KGC_LINK_GOLD moves them
# (the shared data folder may be read-only), the Graphusion data stays where it is.
SHARED = Path("/work/shared/data")
if not SHARED.is_dir():
    SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
GOLD = Path(os.environ.get("KGC_LINK_GOLD", SHARED / "graphusion_links"))
CONCEPTS = SHARED / "graphusion" / "refined_concepts.tsv"


def lecturebank_vocabulary(out: Path) -> Path:
    """refined_concepts.tsv ('id|concept', no header) as a TSV with a header, the format kgc reads."""
    rows = [line.split("|", 1) for line in CONCEPTS.read_text(encoding="utf-8").splitlines() if line]
    out.write_text("id\tlabel\n" + "".join(f"{i}\t{label}\n" for i, label in rows), encoding="utf-8")
    return out


_CONSONANTS, _VOWELS = "bcdfghklmnprstvz", "aeiou"


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_CONSONANTS) + rng.choice(_VOWELS) for _ in range(rng.randint(2, 4)))


def synthetic(concepts: int, names: int, seed: int = 7) -> tuple[list[str], list[str]]:
    """Vocabulary CSV lines and names (a third exact or inflected, a third with a typo or an extra
    word, a third made up)."""
    rng = random.Random(seed)
    lexicon = list(dict.fromkeys(_word(rng) for _ in range(30_000)))
    cum = list(itertools.accumulate(1 / (r + 1) for r in range(len(lexicon))))  # Zipf-like word use
    labels: list[str] = []
    seen: set[str] = set()
    while len(labels) < concepts:
        label = " ".join(rng.choices(lexicon, cum_weights=cum, k=rng.randint(2, 4)))
        if label not in seen:
            seen.add(label)
            labels.append(label)
    lines = ["id,label,synonyms"]
    for i, label in enumerate(labels):
        syn = " ".join(reversed(label.split())) if i % 3 == 0 else ""
        lines.append(f"C:{i},{label},{syn}")
    out = []
    for n in range(names):
        label = labels[rng.randrange(len(labels))]
        kind = n % 6
        if kind == 0:
            out.append(label)
        elif kind == 1:
            out.append(label + "s")
        elif kind == 2:
            at = rng.randrange(len(label))
            out.append(label[:at] + rng.choice(_VOWELS) + label[at + 1 :])
        elif kind == 3:
            out.append(_word(rng) + " " + label)
        else:
            out.append(
                " ".join(rng.choices(lexicon, cum_weights=cum, k=rng.randint(2, 4))) + " " + _word(rng)
            )
    return lines, out


def _child(vocab: str, names: str, home: str) -> None:
    """One timed run in this (child) process: load + index + link."""
    os.environ["KGC_HOME"] = home
    from kgc.link import link_names, load_vocabulary
    from kgc.link.index import build_index

    cpu0, t0 = time.process_time(), time.perf_counter()
    v = load_vocabulary(vocab)
    index = build_index(v)
    t_index, cpu_index = time.perf_counter() - t0, time.process_time() - cpu0
    all_names = Path(names).read_text(encoding="utf-8").splitlines()
    t1 = time.perf_counter()
    result = link_names(all_names, index)
    t_link = time.perf_counter() - t1
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "index_seconds": round(t_index, 2), "index_cpu_seconds": round(cpu_index, 2),
        "link_seconds": round(t_link, 2), "total_seconds": round(time.perf_counter() - t0, 2),
        "cpu_seconds": round(time.process_time() - cpu0, 2), "peak_rss_mb": round(rss),
        "linked": sum(x.linked for x in result.links), "names": len(result.links),
    }))  # fmt: skip


def speed(n_names: int, n_concepts: int) -> dict[str, object]:
    lines, names = synthetic(n_concepts, n_names)
    with tempfile.TemporaryDirectory() as tmp:
        vocab, names_file, home = Path(tmp) / "vocab.csv", Path(tmp) / "names.txt", Path(tmp) / "home"
        vocab.write_text("\n".join(lines) + "\n", encoding="utf-8")
        names_file.write_text("\n".join(names) + "\n", encoding="utf-8")
        runs = {}
        for run in ("cold", "cached"):
            out = subprocess.run(
                [sys.executable, __file__, "_child", str(vocab), str(names_file), str(home)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            runs[run] = json.loads(out.stdout.strip().splitlines()[-1])
            print(run, runs[run])
    return {"names": n_names, "concepts": n_concepts, "load_average": os.getloadavg()[0], **runs}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["speed", "_child"])
    ap.add_argument("args", nargs="*")
    ap.add_argument("--names", type=int, default=10_000)
    ap.add_argument("--concepts", type=int, default=100_000)
    a = ap.parse_args()
    if a.what == "_child":
        _child(*a.args)
        return
    result = speed(a.names, a.concepts)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "link_speed.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print("wrote", RESULTS / "link_speed.json")


if __name__ == "__main__":
    main()
