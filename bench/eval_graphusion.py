"""Benchmark: kgc's fusion and evaluation on Graphusion's published data (no LLM anywhere).

For each model's step-2 candidates (`candidates/<model>.step2.txt`):
1. fuse them with kgc's fusion without an LLM (merging and support-decided relations only; each
   candidate line counts as one supporting document);
2. score the fused graph against that model's `step3-fused.txt`, Graphusion's own LLM fusion
   (how close kgc's fusion comes to it), next to the unfused step-2 candidates as a baseline;
3. compare the four fused graphs with each other;
4. link prediction: the 471 expert prerequisite edges as positives, as many sampled non-edges among
   the 322 expert concepts as negatives (fixed seed); for kgc's graph fused without and with the
   expert graph as background, and for Graphusion's step-3 graph (which its fusion built with that
   background), to show the leakage guard;
5. `kgc eval` itself on the first model's graph fused with the background (eval_graphusion_cli.txt).

    .venv/bin/python bench/eval_graphusion.py [--data ../shared/data/graphusion] [--models gpt-4o ...]

Writes bench/results/eval_graphusion.json, .md and _cli.txt.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from kgc.config import FusionConfig, ResolveConfig
from kgc.evaluate import compare_graphs, graph_health, score_links, score_triplets
from kgc.evaluate.gold import GoldTriplet, LabelledPair, read_triplets
from kgc.evaluate.matching import edge
from kgc.export.graph_files import write_graph
from kgc.models import Candidate, Entity, KnowledgeGraph, Provenance, Relation
from kgc.resources import prompts_dir
from kgc.schema import RelationSchema
from kgc.stages.fusion import fuse
from kgc.text import normalise_name

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
DATA = BENCH.parent.parent / "shared" / "data" / "graphusion"
MODELS = ("gpt-4o", "gpt-4-turbo", "gpt-3.5-turbo", "llama3_70b")
PREREQ = "Is-a-Prerequisite-of"
SEED = 13
SCHEMA = RelationSchema()
NO_LLM = FusionConfig(resolve_with_llm=False, infer_links=False)
NO_EMBEDDING = ResolveConfig(embedding_merge=False)


def as_graph(triplets: list[GoldTriplet]) -> KnowledgeGraph:
    """Triplets as a graph without any merging beyond kgc's name normalisation (every line kept)."""
    entities: dict[str, Entity] = {}
    relations = []
    for t in triplets:
        ends = []
        for name in (t.head, t.tail):
            key = normalise_name(name)
            entities.setdefault(key, Entity(id=key, name=name))
            ends.append(key)
        relations.append(Relation(head=ends[0], relation=t.relation, tail=ends[1]))
    return KnowledgeGraph(entities=list(entities.values()), relations=relations)


def kgc_fuse(
    triplets: list[GoldTriplet], background: list[GoldTriplet] | None
) -> tuple[KnowledgeGraph, float]:
    candidates = [
        Candidate(
            head=t.head,
            relation=t.relation,
            tail=t.tail,
            provenance=[Provenance(doc_id=t.where, chunk_id=t.where)],  # one line, one piece of support
        )
        for t in triplets
    ]
    started = time.perf_counter()
    bg = [(b.head, b.relation, b.tail) for b in background] if background else None
    result = fuse(
        candidates, SCHEMA, NO_LLM, NO_EMBEDDING, llm=None, prompts_dir=prompts_dir(), background=bg
    )
    return result.graph, round(time.perf_counter() - started, 1)


def labelled_pairs(
    concepts: list[str], expert: list[GoldTriplet], relation: str | None
) -> list[LabelledPair]:
    """The expert edges as positives, and as many concept pairs joined in neither direction as negatives."""
    known = {(normalise_name(e.head), normalise_name(e.tail)) for e in expert}
    rng = random.Random(SEED)
    negatives: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    while len(negatives) < len(expert):
        a, b = rng.sample(concepts, 2)
        ka, kb = normalise_name(a), normalise_name(b)
        if (ka, kb) in known or (kb, ka) in known or (ka, kb) in seen:
            continue
        seen.add((ka, kb))
        negatives.append((a, b))
    pairs = [LabelledPair(e.head, e.tail, True, relation, e.where) for e in expert]
    pairs += [LabelledPair(a, b, False, relation, f"negative {i}") for i, (a, b) in enumerate(negatives)]
    return pairs


def scores(s: Any) -> dict[str, Any]:
    return {
        k: s.model_dump()[k] for k in ("precision", "recall", "f1", "true_positives", "predicted", "gold")
    }


def links(
    graph: KnowledgeGraph, pairs: dict[str, list[LabelledPair]], background: list[GoldTriplet] | None
) -> dict[str, Any]:
    out = {}
    for kind, labelled in pairs.items():
        ev = score_links(
            graph, labelled, SCHEMA, background=background, background_file="prerequisite-of_graph.tsv"
        )
        out[kind] = ev.model_dump(exclude={"pairs_file"})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--models", nargs="+", default=list(MODELS))
    args = ap.parse_args()
    started = time.perf_counter()

    expert = read_triplets(args.data / "prerequisite-of_graph.tsv", SCHEMA)
    concepts = [
        line.split("|", 1)[1].strip()
        for line in (args.data / "refined_concepts.tsv").read_text(encoding="utf-8").splitlines()
        if "|" in line
    ]
    pairs = {
        "prerequisite_edge": labelled_pairs(concepts, expert, PREREQ),
        "any_edge": labelled_pairs(concepts, expert, None),
    }
    expert_edges = {edge(normalise_name(e.head), PREREQ, normalise_name(e.tail), SCHEMA) for e in expert}

    result: dict[str, Any] = {
        "data": str(args.data),
        "fusion": "kgc fusion without an LLM or embeddings: names merged by string evidence alone, one relation per pair by support",
        "link_pairs": {"positives": len(expert), "negatives": len(expert), "seed": SEED},
        "models": {},
    }
    fused: dict[str, KnowledgeGraph] = {}
    step3_graphs: dict[str, KnowledgeGraph] = {}
    fused_with_background: dict[str, KnowledgeGraph] = {}
    for model in args.models:
        step2 = read_triplets(args.data / "candidates" / f"{model}.step2.txt", SCHEMA)
        step3 = read_triplets(args.data / "candidates" / f"{model}.step3-fused.txt", SCHEMA)
        graph, seconds = kgc_fuse(step2, None)
        graph_bg, seconds_bg = kgc_fuse(step2, expert)
        fused_with_background[model] = graph_bg
        fused[model] = graph
        raw, theirs = as_graph(step2), as_graph(step3)
        step3_graphs[model] = theirs
        against = score_triplets(graph, step3, SCHEMA)
        baseline = score_triplets(raw, step3, SCHEMA)

        def expert_in(triplets: list[GoldTriplet]) -> int:
            have = {
                edge(normalise_name(t.head), t.relation, normalise_name(t.tail), SCHEMA) for t in triplets
            }
            return len(expert_edges & have)

        result["models"][model] = {
            "step2_candidates": len(step2),
            "step3_triplets": len(step3),
            "fusion_seconds": seconds,
            "fusion_seconds_with_background": seconds_bg,
            "kgc_graph": {"entities": len(graph.entities), "relations": len(graph.relations)},
            "kgc_vs_step3": {level: scores(s) for level, s in against.levels.items()},
            "step2_unfused_vs_step3": {level: scores(s) for level, s in baseline.levels.items()},
            "kgc_vs_step3_entity_recall": against.entity_recall,
            "health": {
                "kgc": graph_health(graph, SCHEMA).model_dump(
                    include={
                        "entities",
                        "relations",
                        "components",
                        "largest_component",
                        "self_loops",
                        "duplicate_edges",
                    }
                ),
                "graphusion_step3": graph_health(theirs, SCHEMA).model_dump(
                    include={
                        "entities",
                        "relations",
                        "components",
                        "largest_component",
                        "self_loops",
                        "duplicate_edges",
                    }
                ),
            },
            "expert_edges_present": {"step2": expert_in(step2), "step3": expert_in(step3)},
            "links": {
                "kgc_no_background": links(graph, pairs, None),
                "kgc_with_background": links(graph_bg, pairs, expert),
                "graphusion_step3_with_background": links(theirs, pairs, expert),
            },
        }
        print(f"{model}: fused in {seconds}s, F1 vs step3 strict {against.levels['strict'].f1}", flush=True)

    names = list(fused)
    result["models_against_each_other"] = {
        f"{a} vs {b}": {
            graph_kind: {
                "relations_f1": (c := compare_graphs(graphs[a], graphs[b], SCHEMA)).relations_score.f1,
                "pairs_f1": c.pairs_score.f1,
                "shared_entities": c.entities["shared"],
            }
            for graph_kind, graphs in (("kgc", fused), ("graphusion_step3", step3_graphs))
        }
        for i, a in enumerate(names)
        for b in names[i + 1 :]
    }
    first = names[0]
    cli_output = run_the_command(fused_with_background[first], pairs["prerequisite_edge"], args.data, first)
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "eval_graphusion.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (RESULTS / "eval_graphusion.md").write_text(markdown(result), encoding="utf-8")
    (RESULTS / "eval_graphusion_cli.txt").write_text(cli_output, encoding="utf-8")
    print(markdown(result))


def run_the_command(graph: KnowledgeGraph, pairs: list[LabelledPair], data: Path, model: str) -> str:
    """`kgc eval` itself on one fused graph saved as a run directory: the gold is the model's step-3
    file, the pairs the expert edges and sampled non-edges, the background the expert graph."""
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / f"graphusion-{model}"
        write_graph(graph, run)
        pairs_file = Path(tmp) / "prerequisite_pairs.tsv"
        pairs_file.write_text(
            "".join(f"{p.head}\t{p.relation}\t{p.tail}\t{int(p.label)}\n" for p in pairs), encoding="utf-8"
        )
        command = [
            "eval",
            str(run),
            "--gold",
            str(data / "candidates" / f"{model}.step3-fused.txt"),
            "--pairs",
            str(pairs_file),
            "--background",
            str(data / "prerequisite-of_graph.tsv"),
        ]
        done = subprocess.run(
            [sys.executable, "-m", "kgc.cli", *command],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "COLUMNS": "120"},
        )
        shown = " ".join(command).replace(tmp + "/", "").replace(str(data) + "/", "")
        return f"$ kgc {shown}\n{done.stdout}".replace(tmp + "/", "").replace(str(data) + "/", "")


def f(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def markdown(r: dict[str, Any]) -> str:
    lines = [
        "# kgc fusion and evaluation on Graphusion's data (no LLM)",
        "",
        f"Fusion: {r['fusion']}. Relaxed names: rapidfuzz token_sort_ratio >= 85.",
        "",
        "## kgc's fused graph against Graphusion's own step-3 fusion",
        "",
        "Step 3 as gold: precision = share of kgc's relations that Graphusion's fusion kept, recall = share "
        "of Graphusion's that kgc has. 'unfused' scores the step-2 candidates as they are, for reference.",
        "",
        "| model | candidates | step-3 | kgc entities/relations | fusion s | strict P/R/F1 | relaxed F1 | pairs F1 | unfused strict F1 | unfused pairs F1 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m, d in r["models"].items():
        k, b = d["kgc_vs_step3"], d["step2_unfused_vs_step3"]
        strict = k["strict"]
        lines.append(
            f"| {m} | {d['step2_candidates']} | {d['step3_triplets']} | {d['kgc_graph']['entities']}/{d['kgc_graph']['relations']} "
            f"| {d['fusion_seconds']} | {f(strict['precision'])}/{f(strict['recall'])}/{f(strict['f1'])} "
            f"| {f(k['relaxed']['f1'])} | {f(k['strict_pairs']['f1'])} | {f(b['strict']['f1'])} | {f(b['strict_pairs']['f1'])} |"
        )
    lines += [
        "",
        "## Graph health: kgc's fused graph and Graphusion's step 3",
        "",
        "| model | graph | entities | relations | components (largest) | self-loops | duplicate edges |",
        "|---|---|---|---|---|---|---|",
    ]
    for m, d in r["models"].items():
        for name, h in d["health"].items():
            lines.append(
                f"| {m} | {name} | {h['entities']} | {h['relations']} | {h['components']} ({h['largest_component']}) "
                f"| {h['self_loops']} | {h['duplicate_edges']} |"
            )
    lines += [
        "",
        "## The four models against each other (kgc's fused graphs; Graphusion's step 3)",
        "",
        "| pair | kgc relations F1 | kgc pairs F1 | kgc shared entities | step-3 relations F1 | step-3 pairs F1 | step-3 shared entities |",
        "|---|---|---|---|---|---|---|",
    ]
    for pair_name, d in r["models_against_each_other"].items():
        k, g = d["kgc"], d["graphusion_step3"]
        lines.append(
            f"| {pair_name} | {f(k['relations_f1'])} | {f(k['pairs_f1'])} | {k['shared_entities']} "
            f"| {f(g['relations_f1'])} | {f(g['pairs_f1'])} | {g['shared_entities']} |"
        )
    lp = r["link_pairs"]
    lines += [
        "",
        f"## Link prediction: {lp['positives']} expert prerequisite edges vs {lp['negatives']} sampled non-edges (seed {lp['seed']})",
        "",
        "Prediction: the graph has an `Is-a-Prerequisite-of` edge head -> tail ('prerequisite edge'), or any edge "
        "between the two in either direction ('any edge'). "
        "With a background graph, pairs joined in it are set apart (guarded); 'inflated' counts them as a careless evaluation would.",
        "",
        "| model | graph | prediction | expert edges in step-2 / step-3 | P | R | F1 | set apart (found) | inflated P | inflated R | inflated F1 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m, d in r["models"].items():
        present = f"{d['expert_edges_present']['step2']} / {d['expert_edges_present']['step3']}"
        for name, ev in d["links"].items():
            for kind in ("prerequisite_edge", "any_edge"):
                e = ev[kind]
                s, inc = e["scores"], e["including_background"] or {}
                lines.append(
                    f"| {m} | {name} | {kind.replace('_', ' ')} | {present} | {f(s['precision'])} | {f(s['recall'])} "
                    f"| {f(s['f1'])} | {e['in_background']} ({e['in_background_found']}) "
                    f"| {f(inc.get('precision'))} | {f(inc.get('recall'))} | {f(inc.get('f1'))} |"
                )
    edges_present = {m: d["expert_edges_present"] for m, d in r["models"].items()}
    inflated = [
        d["links"]["graphusion_step3_with_background"]["prerequisite_edge"]["including_background"]["recall"]
        for d in r["models"].values()
    ]
    lines += [
        "",
        f"Graphusion's step-3 graphs hold {min(p['step3'] for p in edges_present.values())}-"
        f"{max(p['step3'] for p in edges_present.values())} of the expert edges although its step-2 extraction found "
        f"{min(p['step2'] for p in edges_present.values())}-{max(p['step2'] for p in edges_present.values())}: they came "
        "from the background graph its fusion was given. Scored as found they give a recall of "
        f"{min(inflated):.3f}-{max(inflated):.3f}; the guard sets every positive apart, so no recall can honestly "
        "be reported for those graphs on these pairs.",
    ]
    lines += [
        "",
        "`kgc eval` itself on the first model's graph (fused with the background; gold: its step 3; "
        "pairs: the prerequisite pairs above): `eval_graphusion_cli.txt`.",
    ]
    lines += [
        "",
        f"Total {r['seconds']} s, peak RSS {r['peak_rss_mb']} MB (2 shared cores, other agents working).",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
