"""Benchmark: `kgc eval` on the demo run against the demo's gold triplets (replaces bench/eval_gold.py).

    .venv/bin/python bench/eval_demo.py                 # builds a demo run against the scripted server
    .venv/bin/python bench/eval_demo.py runs/demo       # or scores a run you built (e.g. `kgc demo`)

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path, nargs="?", help="a finished demo run; default: build one")
    ap.add_argument("--gold", type=Path, default=DEMO / "gold_triplets.tsv")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        run_dir = args.run_dir
        made_by = f"the run in {run_dir}"
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
    (RESULTS / "eval_demo.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (RESULTS / "eval_demo.md").write_text(
        f"# `kgc eval` on the demo run against data/demo/gold_triplets.tsv\n\nRun: {made_by}.\n\n```\n{text}```\n",
        encoding="utf-8",
    )
    print(text)


if __name__ == "__main__":
    main()
