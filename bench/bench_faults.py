"""How `kgc build` ends against a misbehaving OpenAI-compatible server: exit code, wall time, requests.

The demo corpus in document mode (one extraction call per document, no seeds stage) against the
scripted server, which (a) accepts every request and never answers, like a server stopped with
SIGSTOP, (b) answers every request with HTTP 503, (c) cuts every extraction answer mid-JSON.
`--tree DIR` runs another checkout's kgc (e.g. a worktree of 1e99dfd) against the same servers.

    python bench/bench_faults.py [--tree /tmp/kgc-old --label 1e99dfd]

Writes bench/results/faults[_LABEL].json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from kgc.resources import demo_corpus
from kgc.testing.scripted_server import ScriptedServer

RESULTS = Path(__file__).parent / "results"
TIMEOUT = 2.0  # llm.timeout of the runs: the hung server costs this per request
CUT = '{"triplets": [{"head": "BLEU", "relation": "Evaluate-for", "tail": "machine transl'


def run_build(tree: Path | None, server: ScriptedServer, work: Path) -> dict[str, Any]:
    config = work / "kgc.toml"
    config.write_text(
        f'[llm]\nbackend = "openai"\nbase_url = "{server.base_url}"\nmodel = "scripted"\n'
        f"timeout = {TIMEOUT}\nconcurrency = 4\n"
        '[extraction]\nmode = "document"\n[fusion]\nembedding_merge = false\n',
        encoding="utf-8",
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    command = [sys.executable, "-c", "from kgc.cli import app; app()", "build", str(demo_corpus())]
    command += ["--out", str(work / "run"), "-c", str(config)]
    started = time.monotonic()
    proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=work, timeout=3600)
    seconds = time.monotonic() - started
    manifest = work / "run" / "manifest.json"
    stages = json.loads(manifest.read_text())["stages"] if manifest.is_file() else {}
    graph = work / "run" / "graph.json"
    entities = [e["name"] for e in json.loads(graph.read_text())["entities"]] if graph.is_file() else []
    last_line = next((line for line in reversed(proc.stderr.splitlines()) if line.strip()), "")
    return {
        "exit_code": proc.returncode,
        "seconds": round(seconds, 1),
        "requests": server.stats.total,
        "stages": {name: rec.get("status", "done") for name, rec in stages.items()},
        "graph_entities": len(entities),
        "cut_names_in_graph": sum(1 for name in entities if name.endswith("transl")),
        "last_stderr_line": last_line.strip()[:300],
    }


def scenario(name: str, tree: Path | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, ScriptedServer() as server:
        if name == "hung server":
            server.hang = True
        elif name == "HTTP 503 storm":
            server.add_faults([{"status": 503}] * 100_000)
        else:
            server.set_rules([{"task": "extraction", "raw": CUT}])
        return run_build(tree, server, Path(tmp))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, help="run the kgc of this checkout (PYTHONPATH)")
    parser.add_argument("--label", default="", help="suffix of the results files")
    args = parser.parse_args()
    load_before = os.getloadavg()
    rows = {
        name: scenario(name, args.tree) for name in ("hung server", "HTTP 503 storm", "answers cut mid-JSON")
    }
    meta = {
        "kgc": str(args.tree) if args.tree else "this checkout",
        "corpus": f"{demo_corpus()} (40 documents, document mode: 40 extraction calls)",
        "llm.timeout": TIMEOUT,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
    }
    suffix = f"_{args.label}" if args.label else ""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"faults{suffix}.json").write_text(
        json.dumps({"meta": meta, "scenarios": rows}, indent=2) + "\n"
    )
    lines = [
        f"# kgc build against a misbehaving server{f' ({args.label})' if args.label else ''}",
        "",
        f"kgc: {meta['kgc']}; corpus: {meta['corpus']}; llm.timeout {TIMEOUT} s, concurrency 4, "
        f"defaults otherwise; {meta['machine']}, 1-minute load average before/after "
        f"{meta['load_average_before_after']} (other agents were running).",
        "",
        "| server | exit code | seconds | requests | stages recorded | entities | cut names in graph |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        recorded = ", ".join(f"{k} {v}" for k, v in r["stages"].items()) or "-"
        lines.append(
            f"| {name} | {r['exit_code']} | {r['seconds']} | {r['requests']} | {recorded} | "
            f"{r['graph_entities']} | {r['cut_names_in_graph']} |"
        )
    lines += ["", "Last stderr line of each run:", ""]
    lines += [f"- {name}: `{r['last_stderr_line']}`" for name, r in rows.items()]
    (RESULTS / f"faults{suffix}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
