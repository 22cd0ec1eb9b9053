"""Seeds and contexts on the 1,073 Graphusion abstracts, today's way and the ways that scale, side by side.

    .venv/bin/python bench/bench_seeds_scale.py            # writes bench/results/seeds_scale.{json,md}

Seeds: the topic model fitted on all abstracts (today; `seeds.fit_sample` >= 1,073) and on samples of
them, every other abstract assigned to a topic by its keyphrases (c-TF-IDF); measured like
bench/results/seeds.md (share of seeds close to a gold concept, share of gold concepts close to a
seed). For the samples, the keyphrase assignment of the abstracts outside the sample is compared with
the assignment that needs their embeddings (the nearest topic centroid), and both with the labels of
the full fit (adjusted Rand index), next to the noise floor of two full fits that differ only in
their random state.

Contexts: for the full fit's seeds, retrieval by `fuzzy` (today's) and `bm25`: seconds, seeds with a
context, chunks per seed, and the share of retrieved chunks that contain the seed (its name is one of
the chunk's candidate phrases, normalised: what the seeds stage calls a covered chunk), plus the
overlap of the two methods' contexts.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import time
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel
from sklearn.metrics import adjusted_rand_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["HF_HUB_OFFLINE"] = "1"

from bench_seeds import read_gold, share_matched  # noqa: E402

from kgc.config import ExtractionConfig, RetrievalConfig, SeedsConfig  # noqa: E402
from kgc.embeddings import Embedder, load_embedder  # noqa: E402
from kgc.models import Chunk, Seed  # noqa: E402
from kgc.stages.retrieval import retrieve  # noqa: E402
from kgc.stages.seed_phrases import candidate_phrases  # noqa: E402
from kgc.stages.seeds import find_seeds, fit_sample  # noqa: E402
from kgc.text import normalise_name  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "graphusion"
RESULTS_DIR = ROOT / "bench" / "results"


class SeedRow(BaseModel):
    fit: str  # "all" or the sample size
    fitted: int
    embed_cpu_seconds: float  # embedding the fitted abstracts (per-document CPU of the full embedding)
    topic_cpu_seconds: float  # clustering, keyphrases and the assignment of the rest
    method: str
    topics: int
    outliers: int
    seeds: int
    seeds_matching_gold: float
    gold_matched_by_seeds: float
    ari_vs_full: float  # of all 1,073 labels
    ari_rest_vs_full: float | None  # of the abstracts outside the sample only
    ari_rest_by_embedding_vs_full: float | None  # the same, assigned by nearest topic centroid
    keyword_agrees_with_embedding: float | None  # share of the abstracts outside the sample


class ContextRow(BaseModel):
    method: str
    cpu_seconds: float
    seeds_with_context: int
    chunks_per_seed: float
    containing_share: float  # of the retrieved chunks, those that contain the seed
    containing_per_seed: float


class Results(BaseModel):
    documents: int
    model: str
    embed_cpu_seconds_per_document: float
    noise_floor_ari: float  # two full fits, random_state 42 and 7
    seeds: list[SeedRow]
    contexts: list[ContextRow]
    context_overlap: float  # mean Jaccard of a seed's fuzzy and bm25 chunk sets
    load_average_before_after: str
    cpus: int
    python: str


def cpu() -> float:
    return time.process_time()


def seed_row(
    fit: str,
    abstracts: list[str],
    vectors: np.ndarray,
    embedder: Embedder,
    cfg: SeedsConfig,
    full_labels: np.ndarray | None,
    gold: list[str],
    embed_per_doc: float,
) -> tuple[SeedRow, list[Seed], np.ndarray]:
    sample = fit_sample(abstracts, cfg)
    started = cpu()
    result = find_seeds(abstracts, cfg, embedder=embedder, embeddings=vectors[sample])
    topic_cpu = cpu() - started
    labels = np.asarray(result.labels)
    names = [s.name for s in result.seeds]
    rest = np.setdiff1d(np.arange(len(abstracts)), sample)
    ari_rest = ari_rest_emb = agree = None
    if full_labels is not None and len(rest):
        # Assignment with the embeddings of the abstracts outside the sample: the nearest topic centroid.
        topics = sorted(set(labels[sample].tolist()) - {-1})
        centroids = np.vstack([vectors[np.asarray(sample)[labels[sample] == t]].mean(axis=0) for t in topics])
        centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
        by_embedding = np.asarray(topics)[np.argmax(vectors[rest] @ centroids.T, axis=1)]
        ari_rest = round(adjusted_rand_score(full_labels[rest], labels[rest]), 3)
        ari_rest_emb = round(adjusted_rand_score(full_labels[rest], by_embedding), 3)
        agree = round(float(np.mean(by_embedding == labels[rest])), 3)
    row = SeedRow(
        fit=fit,
        fitted=result.fitted,
        embed_cpu_seconds=round(embed_per_doc * result.fitted, 1),
        topic_cpu_seconds=round(topic_cpu, 1),
        method=result.method,
        topics=len(result.topics),
        outliers=result.outliers,
        seeds=len(names),
        seeds_matching_gold=share_matched(names, gold),
        gold_matched_by_seeds=share_matched(gold, names),
        ari_vs_full=round(adjusted_rand_score(full_labels, labels), 3) if full_labels is not None else 1.0,
        ari_rest_vs_full=ari_rest,
        ari_rest_by_embedding_vs_full=ari_rest_emb,
        keyword_agrees_with_embedding=agree,
    )
    return row, result.seeds, labels


def context_row(
    method: Literal["fuzzy", "bm25"], seeds: list[Seed], chunks: list[Chunk], phrases: list[set[str]]
) -> tuple[ContextRow, list[set[str]]]:
    started = cpu()
    contexts = retrieve(seeds, chunks, RetrievalConfig(method=method), max_chars=ExtractionConfig().max_chars)
    seconds = cpu() - started
    position = {c.id: i for i, c in enumerate(chunks)}
    retrieved = [c.chunk_ids for c in contexts]
    containing = [
        sum(1 for cid in ids if seed.name in phrases[position[cid]])
        for seed, ids in zip(seeds, retrieved, strict=True)
    ]
    total = sum(len(ids) for ids in retrieved)
    row = ContextRow(
        method=method,
        cpu_seconds=round(seconds, 2),
        seeds_with_context=sum(1 for ids in retrieved if ids),
        chunks_per_seed=round(total / len(seeds), 2),
        containing_share=round(sum(containing) / total, 3) if total else 0.0,
        containing_per_seed=round(sum(containing) / len(seeds), 2),
    )
    return row, [set(ids) for ids in retrieved]


def run(samples: list[int]) -> Results:
    with (DATA / "abstracts.txt").open(encoding="utf-8") as f:
        abstracts = [line.strip() for line in f if line.strip()]
    gold = read_gold(DATA / "gold_concepts.tsv")
    load_before = os.getloadavg()[0]
    embedder = load_embedder()  # MiniLM
    started = cpu()
    vectors = embedder.encode(abstracts)
    per_doc = (cpu() - started) / len(abstracts)

    full_cfg = SeedsConfig(fit_sample=0)
    full, full_seeds, full_labels = seed_row(
        "all", abstracts, vectors, embedder, full_cfg, None, gold, per_doc
    )
    _, _, other_labels = seed_row(
        "all", abstracts, vectors, embedder, SeedsConfig(fit_sample=0, random_state=7), None, gold, per_doc
    )
    rows = [full]
    for size in samples:
        cfg = SeedsConfig(fit_sample=size)
        rows.append(seed_row(str(size), abstracts, vectors, embedder, cfg, full_labels, gold, per_doc)[0])

    chunks = [
        Chunk(id=f"a{i}#0", doc_id=f"a{i}", text=t, start=0, end=len(t)) for i, t in enumerate(abstracts)
    ]
    phrases = [{normalise_name(p) for p in candidate_phrases(t, (1, 3))} for t in abstracts]
    fuzzy, fuzzy_sets = context_row("fuzzy", full_seeds, chunks, phrases)
    bm25, bm25_sets = context_row("bm25", full_seeds, chunks, phrases)
    overlap = np.mean(
        [len(a & b) / len(a | b) if a | b else 1.0 for a, b in zip(fuzzy_sets, bm25_sets, strict=True)]
    )
    return Results(
        documents=len(abstracts),
        model="minilm",
        embed_cpu_seconds_per_document=round(per_doc, 3),
        noise_floor_ari=round(adjusted_rand_score(full_labels, other_labels), 3),
        seeds=rows,
        contexts=[fuzzy, bm25],
        context_overlap=round(float(overlap), 3),
        load_average_before_after=f"{load_before:.1f} / {os.getloadavg()[0]:.1f}",
        cpus=os.cpu_count() or 0,
        python=platform.python_version(),
    )


def markdown(r: Results) -> str:
    lines = [
        f"# Seeds and contexts on {r.documents} Graphusion abstracts ({r.model}): fitted on all or on a sample",
        "",
        f"Embedding: {r.embed_cpu_seconds_per_document} CPU seconds per abstract; {r.cpus} CPUs, load average "
        f"{r.load_average_before_after} before / after (a shared machine: CPU seconds, not wall time).",
        "",
        "## Seeds",
        "",
        "| fitted on | embed CPU s | topic CPU s | method | topics | outliers | seeds | seeds ~ gold | gold ~ seeds "
        "| ARI vs full | ARI rest (keyphrases) | ARI rest (embeddings) | keyphrases = embeddings |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in r.seeds:
        rest = [s.ari_rest_vs_full, s.ari_rest_by_embedding_vs_full, s.keyword_agrees_with_embedding]
        cells = " | ".join("-" if v is None else f"{v}" for v in rest)
        lines.append(
            f"| {s.fit} ({s.fitted}) | {s.embed_cpu_seconds} | {s.topic_cpu_seconds} | {s.method} | {s.topics} "
            f"| {s.outliers} | {s.seeds} | {s.seeds_matching_gold:.1%} | {s.gold_matched_by_seeds:.1%} "
            f"| {s.ari_vs_full} | {cells} |"
        )
    lines += [
        "",
        f"'seeds ~ gold', 'gold ~ seeds': as in seeds.md. ARI: adjusted Rand index of the topic labels against "
        f"the full fit's; two full fits that differ only in their random state agree at ARI {r.noise_floor_ari} "
        "(the noise floor of UMAP/HDBSCAN). 'rest': the abstracts outside the sample, assigned by their "
        "keyphrases (c-TF-IDF, what kgc does) or by their embeddings (nearest topic centroid, which needs "
        "every chunk embedded); 'keyphrases = embeddings': share of them the two assign alike.",
        "",
        "## Contexts (seeds of the full fit)",
        "",
        "| method | CPU s | seeds with context | chunks per seed | retrieved chunks containing the seed "
        "| containing chunks per seed |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for c in r.contexts:
        lines.append(
            f"| {c.method} | {c.cpu_seconds} | {c.seeds_with_context} | {c.chunks_per_seed} "
            f"| {c.containing_share:.1%} | {c.containing_per_seed} |"
        )
    lines += [
        "",
        "A chunk contains a seed when the seed's name is one of the chunk's candidate phrases (normalised). "
        f"Mean overlap (Jaccard) of a seed's fuzzy and bm25 contexts: {r.context_overlap}.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, nargs="*", default=[500, 800], help="sample sizes to fit on")
    ap.add_argument("--out", default="seeds_scale", help="result file stem under bench/results")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    results = run(args.samples)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{args.out}.json").write_text(results.model_dump_json(indent=2) + "\n", encoding="utf-8")
    (RESULTS_DIR / f"{args.out}.md").write_text(markdown(results), encoding="utf-8")
    print(markdown(results))


if __name__ == "__main__":
    main()
