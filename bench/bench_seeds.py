"""Benchmark of stage 1 (seeds) on the Graphusion corpus: time, memory, topics, seeds, and a quality figure.

    .venv/bin/python bench/bench_seeds.py                       # all 1,073 abstracts, minilm
    .venv/bin/python bench/bench_seeds.py --limit 300 --model mpnet

The abstracts are embedded once (timed alone), then `find_seeds` runs on those embeddings for each
n-gram range asked (timed: clustering plus keyphrases, which embeds the candidate phrases). Quality:
the share of seeds that fuzzy-match (rapidfuzz ratio >= 90 after normalise_name) one of the 687 expert
seed concepts of gold_concepts.tsv, and the share of those concepts matched by some seed.
Writes bench/results/seeds.json and seeds.md (`--out` changes the stem).
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import resource
import sys
import time
from pathlib import Path

from pydantic import BaseModel
from rapidfuzz import fuzz, process

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kgc.config import EmbeddingConfig, SeedsConfig  # noqa: E402
from kgc.embeddings import load_embedder  # noqa: E402
from kgc.stages.seeds import find_seeds  # noqa: E402
from kgc.text import normalise_name  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "graphusion"
RESULTS_DIR = ROOT / "bench" / "results"
MATCH_RATIO = 90.0


class SeedRun(BaseModel):
    ngram_range: tuple[int, int]
    topic_seconds: float
    method: str
    topics: int
    outliers: int
    seeds: int
    seeds_matching_gold: float  # share of seeds close to some gold concept
    gold_matched_by_seeds: float  # share of gold concepts close to some seed
    top_seeds: list[str]


class SeedsBench(BaseModel):
    documents: int
    model: str
    load_seconds: float
    embed_seconds: float
    docs_per_second: float
    peak_rss_mb: float
    load_average_at_start: float
    cpus: int
    python: str
    runs: list[SeedRun]


def read_gold(path: Path) -> list[str]:
    """`id|concept` lines -> normalised concept names."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return sorted({normalise_name(line.split("|", 1)[1]) for line in lines if "|" in line})


def share_matched(names: list[str], targets: list[str]) -> float:
    """Share of `names` with a `targets` entry at rapidfuzz ratio >= MATCH_RATIO."""
    if not names:
        return 0.0
    hits = sum(
        process.extractOne(n, targets, scorer=fuzz.ratio, score_cutoff=MATCH_RATIO) is not None for n in names
    )
    return round(hits / len(names), 4)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux reports KiB


def run(limit: int | None, model: str, ngram_ranges: list[tuple[int, int]]) -> SeedsBench:
    with (DATA / "abstracts.txt").open(encoding="utf-8") as f:
        abstracts = [line.strip() for line in f if line.strip()][:limit]
    gold = read_gold(DATA / "gold_concepts.tsv")
    load_average = os.getloadavg()[0]

    started = time.perf_counter()
    embedder = load_embedder(EmbeddingConfig(model=model))
    embedder.encode(["load the model"])
    load_seconds = time.perf_counter() - started

    started = time.perf_counter()
    vectors = embedder.encode(abstracts)
    embed_seconds = time.perf_counter() - started

    runs = []
    for ngram_range in ngram_ranges:
        cfg = SeedsConfig(ngram_range=ngram_range)
        started = time.perf_counter()
        result = find_seeds(abstracts, cfg, embedder=embedder, embeddings=vectors)
        topic_seconds = time.perf_counter() - started
        names = [s.name for s in result.seeds]
        runs.append(
            SeedRun(
                ngram_range=ngram_range,
                topic_seconds=round(topic_seconds, 1),
                method=result.method,
                topics=len(result.topics),
                outliers=result.outliers,
                seeds=len(names),
                seeds_matching_gold=share_matched(names, gold),
                gold_matched_by_seeds=share_matched(gold, names),
                top_seeds=names[:20],
            )
        )
    return SeedsBench(
        documents=len(abstracts),
        model=model,
        load_seconds=round(load_seconds, 1),
        embed_seconds=round(embed_seconds, 1),
        docs_per_second=round(len(abstracts) / embed_seconds, 1),
        peak_rss_mb=peak_rss_mb(),
        load_average_at_start=round(load_average, 2),
        cpus=os.cpu_count() or 0,
        python=platform.python_version(),
        runs=runs,
    )


def markdown(bench: SeedsBench) -> str:
    lines = [
        f"# Seeds on {bench.documents} Graphusion abstracts ({bench.model})",
        "",
        f"Model load {bench.load_seconds} s; embedding {bench.embed_seconds} s ({bench.docs_per_second} docs/s); "
        f"peak RSS {bench.peak_rss_mb} MB; {bench.cpus} CPUs, load average {bench.load_average_at_start} at start "
        f"(the machine is shared: times are upper bounds).",
        "",
        "| ngram range | topic modeling s | method | topics | outliers | seeds | seeds ~ gold | gold ~ seeds |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in bench.runs:
        lines.append(
            f"| {r.ngram_range} | {r.topic_seconds} | {r.method} | {r.topics} | {r.outliers} | {r.seeds} "
            f"| {r.seeds_matching_gold:.1%} | {r.gold_matched_by_seeds:.1%} |"
        )
    lines += [
        "",
        f"'seeds ~ gold': share of seeds with rapidfuzz ratio >= {MATCH_RATIO:g} to a concept of "
        "gold_concepts.tsv (after normalise_name); 'gold ~ seeds': share of those concepts matched by a seed. "
        "The first run's topic modeling includes UMAP's one-time JIT compilation.",
        "",
    ]
    for r in bench.runs:
        lines.append(f"Top seeds {r.ngram_range}: {', '.join(r.top_seeds)}")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=None, help="only the first N abstracts")
    parser.add_argument("--model", default="minilm")
    parser.add_argument(
        "--ngram",
        nargs=2,
        type=int,
        action="append",
        metavar=("LOW", "HIGH"),
        help="repeatable; default 1 3 and 2 4",
    )
    parser.add_argument("--out", default="seeds", help="result file stem under bench/results")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    ngram_ranges: list[tuple[int, int]] = [(low, high) for low, high in args.ngram or [(1, 3), (2, 4)]]
    bench = run(args.limit, args.model, ngram_ranges)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{args.out}.json").write_text(bench.model_dump_json(indent=2) + "\n", encoding="utf-8")
    (RESULTS_DIR / f"{args.out}.md").write_text(markdown(bench), encoding="utf-8")
    print(markdown(bench))


if __name__ == "__main__":
    main()
