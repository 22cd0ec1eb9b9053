"""Benchmark: graph content on human gold. Document mode on SciERC abstracts, scored by `kgc eval`.

    .venv/bin/python bench/eval_scierc.py --backend scripted          # plumbing: the scripted server
    nice -n 10 .venv/bin/python bench/eval_scierc.py --backend embedded    # the offline model (~1 h)
    .venv/bin/python bench/eval_scierc.py --score RUN_DIR --label before   # a run built elsewhere
    .venv/bin/python bench/eval_scierc.py --table                      # the before/after table only
    ... --run COPY --backend embedded --rerun extraction   # a copy of a run, rebuilt from its cache
    ... --ids FILE                     # only the abstracts FILE lists (a subset both runs answered)

The eval set is SciERC's 50 dev abstracts plus the last 50 train abstracts (file order); rules and
prompts were tuned only on the first 300 train abstracts (`--split tune`); the test split is never
read (bench/scierc.py says how the gold is made). The configuration is data/scierc/kgc.toml (SciERC's
relation schema, document mode, fusion without the LLM), so the graph holds what extraction found.

Measured: `kgc eval` (strict, relaxed and pair levels, per relation, the error breakdown), the share
of abstracts with a triplet, grounding, names that are no concept (by kgc's rules and by SciERC's
annotators: a graph name annotated only as "Generic"), tokens per triplet, and the wall and CPU
seconds of extraction, in all and per abstract the model answered in this run (abstracts answered
from the LLM cache, or by an earlier run, cost next to nothing and are not counted: a rebuild from
cached answers shows "n/a (0 answered)" and its total). Writes
bench/results/eval_scierc_<label>.{json,md} and eval_scierc.md, the table of every label measured.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from rich.console import Console
from scierc import Abstract, eval_set, tune_set, write_corpus, write_gold

from kgc.artifacts import CANDIDATES
from kgc.config import load_config
from kgc.evaluate import EvalReport, evaluate_run, render
from kgc.export.graph_files import read_graph
from kgc.pipeline import Pipeline
from kgc.rundir import RunDir
from kgc.testing.scripted_server import ScriptedServer
from kgc.text import normalise_name

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
CONFIG = ROOT / "data" / "scierc" / "kgc.toml"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def build(
    abstracts: list[Abstract],
    run_dir: Path,
    backend: str,
    settings: dict[str, str] | None = None,
    rerun: str | None = None,
) -> dict[str, float]:
    """Build the run (resuming it) and return the wall and CPU seconds its extraction took, and how
    many abstracts the model answered in it (0 when extraction was up to date); `settings` are config
    keys set on top of data/scierc/kgc.toml (`--set extraction.cue_add=false`); `rerun` a stage to
    redo although up to date (`--rerun extraction`: the current rules on the cached answers)."""
    corpus = run_dir / "scierc_corpus.jsonl"
    run_dir.mkdir(parents=True, exist_ok=True)
    write_corpus(abstracts, corpus)

    def run(overrides: dict[str, Any]) -> dict[str, float]:
        cfg = load_config(CONFIG, {**overrides, **(settings or {})})
        pipeline = Pipeline(cfg, run_dir, corpus=corpus, rerun=rerun)
        pipeline.run_until("corpus")
        wall, cpu = time.perf_counter(), cpu_seconds()
        pipeline.run_until("extraction")
        timing = {"seconds": time.perf_counter() - wall, "cpu_seconds": cpu_seconds() - cpu}
        stage = pipeline.run.manifest().stages["extraction"]
        ran = "extraction" in pipeline.ran
        timing["answered"] = answered_abstracts(stage.counts, stage.llm) if ran else 0
        pipeline.run_until("fusion")
        return timing

    if backend == "scripted":
        with ScriptedServer() as server:
            return run({"llm.backend": "openai", "llm.base_url": server.base_url, "llm.model": "scripted"})
    return run({"llm.backend": backend})


def scierc_generic_names(run_dir: Path, abstracts: list[Abstract]) -> tuple[int, int, list[str]]:
    """Graph entities whose name SciERC's annotators tagged only as Generic (never as a named
    mention) in the eval abstracts: an independent judge of generic names."""
    generic = {normalise_name(n) for a in abstracts for n in a.generic_mentions}
    named = {normalise_name(n) for a in abstracts for g in a.gold for n in (g.head, g.tail)}
    graph = read_graph(run_dir)
    hits = [e.name for e in graph.entities if normalise_name(e.name) in generic - named]
    return len(hits), len(graph.entities), sorted(hits)[:20]


def measure(
    run_dir: Path, abstracts: list[Abstract], gold: Path, timing: dict[str, float] | None
) -> dict[str, Any]:
    cfg = RunDir(run_dir, create=False).config()
    if cfg is None:
        raise SystemExit(f"{run_dir}: no recorded configuration, not a run of this kgc")
    report = evaluate_run(run_dir, gold=gold, schema=cfg.relations)
    candidates = RunDir(run_dir, create=False).read(CANDIDATES)
    docs_with = {p.doc_id for c in candidates for p in c.provenance}
    stage = RunDir(run_dir, create=False).manifest().stages["extraction"]
    llm = stage.llm
    generic, entities, generic_examples = scierc_generic_names(run_dir, abstracts)
    n = len(abstracts)
    out: dict[str, Any] = {
        "abstracts": n,
        "abstracts_with_triplets": len(docs_with),
        "abstracts_with_triplets_share": round(len(docs_with) / n, 3),
        "candidates": len(candidates),
        "completion_tokens_per_triplet": round(llm.get("completion_tokens", 0) / max(len(candidates), 1), 1),
        "tokens_per_triplet": round(llm.get("total_tokens", 0) / max(len(candidates), 1), 1),
        "llm_requests": llm.get("requests", 0),
        "scierc_generic_entities": generic,
        "scierc_generic_share": round(generic / entities, 4) if entities else None,
        "scierc_generic_examples": generic_examples,
        "report": report.model_dump(mode="json"),
    }
    if timing is not None and timing.get("seconds"):
        answered = int(timing.get("answered", answered_abstracts(stage.counts, llm)))
        out["abstracts_answered"] = answered
        out["extraction_seconds"] = round(timing["seconds"], 1)
        out["extraction_cpu_seconds"] = round(timing["cpu_seconds"], 1)
        if answered:
            out["seconds_per_answered_abstract"] = round(timing["seconds"] / answered, 1)
            out["cpu_seconds_per_answered_abstract"] = round(timing["cpu_seconds"] / answered, 1)
    return out


def answered_abstracts(counts: dict[str, int], llm: dict[str, float]) -> int:
    """Abstracts the model answered in the extraction stage's last run: its new units less those
    answered from the LLM cache or failed (document mode: one unit, one question per abstract; with
    `extraction.relation_check` on, cached checks are subtracted too, so this is then a lower bound)."""
    answered = counts.get("new_tasks", 0) - counts.get("failed_tasks", 0) - llm.get("cache_hits", 0)
    return max(int(answered), 0)


def summary_row(label: str, m: dict[str, Any]) -> dict[str, str]:
    r = EvalReport.model_validate(m["report"])
    tr = r.triplets
    assert tr is not None and tr.errors is not None
    lv = tr.levels

    def f1(level: str) -> str:
        s = lv[level]
        return f"{s.f1 or 0:.3f} ({s.precision or 0:.2f}/{s.recall or 0:.2f})"

    er = tr.errors
    names = r.conformance.entity_names if r.conformance else {}
    entities = r.health.entities or 1
    return {
        "run": label,
        "abstracts with triplets": f"{m['abstracts_with_triplets']}/{m['abstracts']}",
        "relations": str(r.health.relations),
        "strict F1 (P/R)": f1("strict"),
        "relaxed F1 (P/R)": f1("relaxed"),
        "pairs F1 (P/R)": f1("relaxed_pairs"),
        "wrong direction": str(er.errors.get("wrong direction", 0)),
        "wrong relation": str(er.errors.get("wrong relation", 0)),
        "grounded": f"{r.grounding.relations_grounded_share:.3f}"
        if r.grounding and r.grounding.relations_grounded_share is not None
        else "n/a",
        "generic/clause names (kgc)": f"{sum(names.values()) / entities:.3f}",
        "generic names (SciERC)": f"{m['scierc_generic_share'] or 0:.3f}",
        "tokens/triplet (out)": f"{m['tokens_per_triplet']} ({m['completion_tokens_per_triplet']})",
        "s (CPU s) per answered abstract": per_answered(m),
    }


def per_answered(m: dict[str, Any]) -> str:
    """Extraction's wall (CPU) seconds per abstract the model answered in the run; 'n/a' with the
    reason when it answered none (a rebuild from cached answers) or the run was not timed."""
    if "seconds_per_answered_abstract" in m:
        return f"{m['seconds_per_answered_abstract']} ({m['cpu_seconds_per_answered_abstract']})"
    if m.get("abstracts_answered") == 0:
        total = f"; {m['extraction_cpu_seconds']} CPU s in all" if "extraction_cpu_seconds" in m else ""
        return f"n/a (0 answered{total})"
    return "n/a"


def markdown_table(rows: list[dict[str, str]]) -> str:
    if not rows:
        return ""
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(row[c] for c in cols) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def write_table() -> str:
    rows = []
    for path in sorted(RESULTS.glob("eval_scierc_*.json")):
        m = json.loads(path.read_text(encoding="utf-8"))
        rows.append(summary_row(path.stem.removeprefix("eval_scierc_"), m))
    text = (
        "# SciERC: graph content against human gold\n\n"
        "100 eval abstracts (dev 50 + the last 50 of train), document mode, data/scierc/kgc.toml; "
        "written by bench/eval_scierc.py (see its docstring). Per-run details in eval_scierc_<run>.md.\n\n"
        + markdown_table(rows)
    )
    (RESULTS / "eval_scierc.md").write_text(text, encoding="utf-8")
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=["scripted", "embedded", "openai"], default="scripted")
    ap.add_argument("--run", type=Path, help="run directory (default: runs/scierc-<label>)")
    ap.add_argument("--score", type=Path, help="only score this finished run (built from the eval corpus)")
    ap.add_argument("--label", help="results name (default: the backend)")
    ap.add_argument("--split", choices=["eval", "tune"], default="eval")
    ap.add_argument("--limit", type=int, help="only the first N abstracts of the split")
    ap.add_argument(
        "--ids",
        type=Path,
        help="only the abstracts whose ids this file lists (one per line), e.g. those a run answered",
    )
    ap.add_argument("--cpu-seconds", type=float, help="with --score: CPU seconds the build took (time -v)")
    ap.add_argument("--seconds", type=float, help="with --score: wall seconds the build's extraction took")
    ap.add_argument("--table", action="store_true", help="only rewrite eval_scierc.md from the results")
    ap.add_argument(
        "--rerun",
        metavar="STAGE",
        help="redo this stage and those after it (extraction: the current rules on the cached answers)",
    )
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a config key on top of data/scierc/kgc.toml, e.g. extraction.cue_add=false (repeatable)",
    )
    args = ap.parse_args()
    if args.table:
        print(write_table())
        return

    abstracts = (eval_set() if args.split == "eval" else tune_set())[: args.limit]
    if args.ids is not None:
        wanted = set(args.ids.read_text(encoding="utf-8").split())
        abstracts = [a for a in abstracts if a.doc_id in wanted]
    label = args.label or args.backend
    run_dir = args.score or args.run or ROOT / "runs" / f"scierc-{label}"
    timing = None
    if args.score is None:
        settings = dict(item.split("=", 1) for item in args.set)
        timing = build(abstracts, run_dir, args.backend, settings, args.rerun)
    elif args.seconds is not None and args.cpu_seconds is not None:
        timing = {"seconds": args.seconds, "cpu_seconds": args.cpu_seconds}
    gold = run_dir / "scierc_gold.tsv"
    write_gold(abstracts, gold)
    measured = measure(run_dir, abstracts, gold, timing)
    measured["split"] = f"{args.split} ({len(abstracts)} abstracts)"
    report = EvalReport.model_validate(measured["report"])
    console = Console(record=True, width=120, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(render(report))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"eval_scierc_{label}.json").write_text(
        json.dumps(measured, indent=2) + "\n", encoding="utf-8"
    )
    facts = {k: v for k, v in measured.items() if k != "report"}
    (RESULTS / f"eval_scierc_{label}.md").write_text(
        f"# SciERC, run `{label}`\n\n```\n{json.dumps(facts, indent=2)}\n\n{console.export_text()}```\n",
        encoding="utf-8",
    )
    print(write_table())


if __name__ == "__main__":
    main()
