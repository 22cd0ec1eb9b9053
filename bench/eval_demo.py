"""Benchmark: `kgc eval` on the demo run against the demo's gold triplets (replaces bench/eval_gold.py).

    .venv/bin/python bench/eval_demo.py                 # builds a demo run against the scripted server
    .venv/bin/python bench/eval_demo.py runs/demo       # or scores a run you built (e.g. `kgc demo`)
    .venv/bin/python bench/eval_demo.py COPY --rebuild --set extraction.cue_add=false --label cues-off
        # rebuilds a copy of a demo run from its LLM cache (no model call while the prompts are the
        # same): extraction with the settings given, fusion without the LLM (its calls would be new)

The scripted server is no model: it answers each seed with its three most frequent phrases and a
relation picked by hash, so its scores are a floor that shows the measures working, not a quality
figure. Grounding is high by construction (its names and evidence are copied from the text).
Writes bench/results/eval_demo.json (the EvalReport plus how the run was made) and eval_demo.md.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from rich.console import Console

from kgc.config import load_config
from kgc.evaluate import evaluate_run, render
from kgc.pipeline import Pipeline
from kgc.resources import demo_dir
from kgc.testing.scripted_server import ScriptedServer

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
DEMO = demo_dir()


def scripted_demo_run(run_dir: Path) -> None:
    """The demo's configuration with the scripted server in place of the embedded model."""
    with ScriptedServer() as server:
        overrides = {"llm.backend": "openai", "llm.base_url": server.base_url, "llm.model": "scripted"}
        pipeline = Pipeline(load_config(DEMO / "kgc.toml", overrides), run_dir, corpus=DEMO / "corpus.jsonl")
        pipeline.llm.show_progress = False
        pipeline.run_until("fusion")


def rebuild(run_dir: Path, settings: dict[str, str]) -> None:
    """A demo run built again in place with `settings`: its cached LLM answers serve extraction, and
    fusion asks no LLM (its calls would not be cached), so extraction changes are scored alone."""
    overrides: dict[str, object] = {"fusion.resolve_with_llm": False, "fusion.infer_links": False, **settings}
    pipeline = Pipeline(load_config(DEMO / "kgc.toml", overrides), run_dir, corpus=DEMO / "corpus.jsonl")
    pipeline.llm.show_progress = False
    pipeline.run_until("fusion")
    requests = pipeline.run.manifest().stages["extraction"].llm.get("requests", 0)
    if requests:
        print(f"note: {requests:.0f} extraction requests were not in the cache (the model answered them)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path, nargs="?", help="a finished demo run; default: build one")
    ap.add_argument("--gold", type=Path, default=DEMO / "gold_triplets.tsv")
    ap.add_argument("--rebuild", action="store_true", help="build run_dir again from its LLM cache first")
    ap.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="with --rebuild: a config key"
    )
    ap.add_argument("--label", help="results name: bench/results/eval_demo_<label>.{json,md}")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        run_dir = args.run_dir
        made_by = f"the run in {run_dir}"
        if run_dir is not None and args.rebuild:
            rebuild(run_dir, dict(item.split("=", 1) for item in args.set))
            made_by += (
                f", rebuilt from its LLM cache with fusion without the LLM and {args.set or 'defaults'}"
            )
        if run_dir is None:
            run_dir = Path(tmp) / "demo"
            scripted_demo_run(run_dir)
            made_by = "demo corpus and config, scripted server (phrase frequencies, not a model)"
        report = evaluate_run(run_dir, gold=args.gold, write=args.run_dir is not None)
    console = Console(record=True, width=120, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(render(report))
    text = console.export_text()
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {"run": made_by, "report": report.model_dump(mode="json")}
    name = f"eval_demo_{args.label}" if args.label else "eval_demo"
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (RESULTS / f"{name}.md").write_text(
        f"# `kgc eval` on the demo run against data/demo/gold_triplets.tsv\n\nRun: {made_by}.\n\n```\n{text}```\n",
        encoding="utf-8",
    )
    print(text)


if __name__ == "__main__":
    main()
