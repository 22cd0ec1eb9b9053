"""Benchmark: what a corpus update costs against a fresh build of the resulting corpus.

On Graphusion's 1,073 ACL abstracts (as a JSONL corpus with stable ids) against the scripted LLM
server (fixed latency per request): build on the first 1,000, add the remaining 73, remove 50 (with
`kgc remove`'s library call, no source files), change 10; after each step a fresh build of the
resulting corpus in its own run directory. Per step and per stage: LLM requests, tokens, wall time.

    .venv/bin/python bench/bench_incremental.py --mode seed      # writes bench/results/incremental.*
    .venv/bin/python bench/bench_incremental.py --mode document --mode seed --batch 0 --batch 3
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from kgc.config import KgcConfig, load_config
from kgc.pipeline import Pipeline
from kgc.rundir import RunDir
from kgc.testing.scripted_server import ScriptedServer
from kgc.update import remove_documents

REPO_ROOT = Path(__file__).resolve().parents[1]
ABSTRACTS = REPO_ROOT.parent / "shared" / "data" / "graphusion" / "abstracts.txt"
RESULTS = REPO_ROOT / "bench" / "results"
STAGES = ("corpus", "seeds", "retrieval", "extraction", "fusion")


@dataclass
class Step:
    name: str
    documents: dict[str, str]  # the corpus after the step
    removed: list[str] | None = None  # removed with remove_documents instead of a build


def steps(abstracts: list[str]) -> list[Step]:
    docs = {f"a{n:04d}": text for n, text in enumerate(abstracts, start=1)}
    ids = list(docs)
    first = {i: docs[i] for i in ids[:1000]}
    everything = dict(docs)
    removed = ids[0:1000:20]  # 50 spread over the first build's documents
    after_removal = {i: t for i, t in everything.items() if i not in removed}
    changed_ids = [i for i in after_removal][5:1000:100][:10]
    changed = {
        i: (t + " We also release our code and data." if i in changed_ids else t)
        for i, t in after_removal.items()
    }
    return [
        Step("build 1,000", first),
        Step("add 73", everything),
        Step("remove 50", after_removal, removed=removed),
        Step("change 10", changed),
    ]


def write_corpus(path: Path, documents: dict[str, str]) -> Path:
    path.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in documents.items()))
    return path


def measure(run_dir: Path, server: ScriptedServer, action: Callable[[], object]) -> dict[str, Any]:
    """Run `action`; per stage that ran: seconds, requests, tokens (from the manifest)."""
    run = RunDir(run_dir)
    before = {n: r.finished_at + r.input_hash for n, r in run.manifest().stages.items()}
    server.reset_stats()
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    stages: dict[str, Any] = {}
    for name, rec in run.manifest().stages.items():
        if before.get(name) == rec.finished_at + rec.input_hash:
            stages[name] = "up to date"
            continue
        stages[name] = {
            "seconds": rec.seconds,
            "requests": int(rec.llm.get("requests", 0)),
            "cache_hits": int(rec.llm.get("cache_hits", 0)),
            "tokens": int(rec.llm.get("prompt_tokens", 0) + rec.llm.get("completion_tokens", 0)),
            "counts": rec.counts,
        }
    return {
        "seconds": round(seconds, 2),
        "requests": dict(server.stats.by_task),
        "stages": stages,
    }


def build_into(cfg: KgcConfig, run_dir: Path, corpus: Path) -> None:
    pipeline = Pipeline(cfg, run_dir, corpus=corpus)
    pipeline.llm.show_progress = False
    pipeline.run_until("fusion")


def run_mode(
    mode: str, batch: int, abstracts: list[str], latency: float, concurrency: int, fresh: bool
) -> dict[str, Any]:
    with ScriptedServer(latency=latency) as server, tempfile.TemporaryDirectory() as tmp:
        cfg: KgcConfig = load_config(
            None,
            {
                "llm.backend": "openai",
                "llm.base_url": server.base_url,
                "llm.model": "scripted",
                "llm.limits.concurrency": concurrency,
                "extraction.mode": mode,
                "extraction.seed_batch_chunks": batch,
                # Name embeddings in fusion took ~200 s a run on this loaded machine; they do not
                # change what an update costs in LLM calls.
                "resolve.embedding_merge": False,
            },
        )
        updated = Path(tmp) / "updated"
        rows = []
        for n, step in enumerate(steps(abstracts)):
            corpus = write_corpus(Path(tmp) / f"corpus{n}.jsonl", step.documents)
            action: Callable[[], object]
            if step.removed is not None:
                action = partial(remove_documents, cfg, updated, step.removed)
            else:
                action = partial(build_into, cfg, updated, corpus)
            update = measure(updated, server, action)
            row: dict[str, Any] = {"step": step.name, "documents": len(step.documents), "update": update}
            if n > 0 and fresh:
                fresh_dir = Path(tmp) / f"fresh{n}"
                row["fresh"] = measure(fresh_dir, server, partial(build_into, cfg, fresh_dir, corpus))
            rows.append(row)
            print(json.dumps(row), flush=True)
    return {"mode": mode, "seed_batch_chunks": batch, "steps": rows}


def markdown(results: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    lines = [
        "# Incremental updates (bench/bench_incremental.py)",
        "",
        f"Corpus: Graphusion's {meta['abstracts']:,} abstracts as JSONL with stable ids; scripted server, "
        f"{meta['latency']} s per request, concurrency {meta['concurrency']}; {meta['machine']}.",
        "Each step updates one run directory; 'fresh' builds the step's resulting corpus from nothing.",
        "",
        "| mode | step | docs | extraction requests: update / fresh | % | fusion requests (with name resolution): update / fresh "
        "| tokens: update / fresh | wall s: update / fresh | stages re-run by the update |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for res in results:
        label = res["mode"] + (
            f" (batches of {res['seed_batch_chunks']})" if res["seed_batch_chunks"] else ""
        )
        for row in res["steps"]:
            up, fr = row["update"], row.get("fresh")

            def req(m: dict[str, Any], task: str) -> int:
                """Requests the server saw for extraction, or for the rest (fusion and resolution)."""
                if task == "extraction":
                    return int(m["requests"].get(task, 0))
                return sum(int(n) for t, n in m["requests"].items() if t != "extraction")

            def tokens(m: dict[str, Any]) -> int:
                return sum(s["tokens"] for s in m["stages"].values() if isinstance(s, dict))

            ran = ", ".join(
                f"{name} {s['seconds']:.1f}s" for name, s in up["stages"].items() if isinstance(s, dict)
            )
            if fr is None:  # the first build, or a run without fresh builds: compared with the first build
                first = res["steps"][0]["update"]
                share = (
                    f"{100 * req(up, 'extraction') / max(1, req(first, 'extraction')):.1f}% of the first build"
                    if row is not res["steps"][0]
                    else ""
                )
                lines.append(
                    f"| {label} | {row['step']} | {row['documents']:,} | {req(up, 'extraction'):,} | {share} | "
                    f"{req(up, 'fusion'):,} | {tokens(up):,} | {up['seconds']:.1f} | {ran} |"
                )
                continue
            percent = 100 * req(up, "extraction") / max(1, req(fr, "extraction"))
            lines.append(
                f"| {label} | {row['step']} | {row['documents']:,} | {req(up, 'extraction'):,} / "
                f"{req(fr, 'extraction'):,} | {percent:.1f}% | {req(up, 'fusion'):,} / {req(fr, 'fusion'):,} | "
                f"{tokens(up):,} / {tokens(fr):,} | {up['seconds']:.1f} / {fr['seconds']:.1f} | {ran} |"
            )
    lines += ["", *(f"- {note}" for note in meta.get("notes", []))] if meta.get("notes") else []
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ABSTRACTS)
    ap.add_argument("--mode", action="append", choices=["seed", "document"])
    ap.add_argument("--batch", action="append", type=int, help="seed mode: extraction.seed_batch_chunks")
    ap.add_argument("--latency", type=float, default=0.02)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--machine", default="2 shared cores, other agents' work running")
    ap.add_argument("--out", default="incremental")
    ap.add_argument(
        "--no-fresh",
        action="store_true",
        help="updates only (a fresh seed-mode build refits the topic model)",
    )
    ap.add_argument("--render", action="store_true", help="only write the .md again from the .json")
    args = ap.parse_args()
    if args.render:
        saved = json.loads((RESULTS / f"{args.out}.json").read_text())
        (RESULTS / f"{args.out}.md").write_text(markdown(saved.pop("results"), saved))
        return
    abstracts = [
        line.strip() for line in args.corpus.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    meta = {
        "abstracts": len(abstracts),
        "latency": args.latency,
        "concurrency": args.concurrency,
        "machine": args.machine,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = []
    for mode in args.mode or ["seed"]:
        for batch in (args.batch or [0]) if mode == "seed" else [0]:
            results.append(
                run_mode(mode, batch, abstracts, args.latency, args.concurrency, not args.no_fresh)
            )
            # Written after each mode, so a long benchmark stopped half-way keeps what it measured.
            (RESULTS / f"{args.out}.json").write_text(
                json.dumps({**meta, "results": results}, indent=2) + "\n"
            )
            (RESULTS / f"{args.out}.md").write_text(markdown(results, meta))
    print(markdown(results, meta))


if __name__ == "__main__":
    main()
