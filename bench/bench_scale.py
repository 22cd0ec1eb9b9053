"""Scale benchmark: `kgc build` on synthetic corpora of 10,000 and 100,000 documents, per stage.

    nice -n 10 .venv/bin/python bench/bench_scale.py                       # 10k and 100k, both modes
    .venv/bin/python bench/bench_scale.py --sizes 1000 10000 --modes document

The corpora are prefixes of one stream of synthetic documents made from the 1,073 shared abstracts
(bench/synthetic_corpus.py: recombined sentences, renamed words, so that names grow like a real
corpus's). Each stage of a build runs in its own process, the way `kgc build` resumes a run: the
Pipeline with the in-process scripted LLM backend (kgc.testing, zero latency; its answers name
phrases of the text it is given, so fusion has real names to resolve) and the configured embedder
(MiniLM). Per stage: wall and CPU seconds of the stage itself, CPU seconds spent inside the scripted
backend (the stand-in for the LLM, subtracted to give kgc's own work), peak RSS of the process, the
bytes of its artifacts and its LLM requests. Then `kgc view` and `kgc report` (the CLI) on the
result, and an incremental update that adds 1% new documents. Growth exponent per stage: b in
time ~ documents^b between the two sizes (1.0 is linear).

Writes bench/results/scale.json and scale.md (`--out` changes the stem). Runs go to --work (default
/tmp/kgc-scale), which is not cleaned up, so a stage can be looked at afterwards.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import math
import os
import platform
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from synthetic_corpus import CorpusRecipe, read_abstracts, synthetic_documents, write_corpus  # noqa: E402

RESULTS_DIR = ROOT / "bench" / "results"
STAGES = {
    "seed": ["corpus", "seeds", "retrieval", "extraction", "fusion"],
    "document": ["corpus", "extraction", "fusion"],
}


class StageRun(BaseModel):
    stage: str
    wall_seconds: float
    cpu_seconds: float  # of the stage's own work in its process, all threads
    backend_cpu_seconds: float  # of which inside the scripted LLM backend
    peak_rss_mb: float  # of the process (imports and models included)
    artifact_bytes: int
    llm_requests: int
    counts: dict[str, int]
    parts: dict[str, float] = {}  # CPU s of named parts of the stage (see PartTimer)
    embedded_texts: int = 0

    @property
    def kgc_cpu_seconds(self) -> float:
        return self.cpu_seconds - self.backend_cpu_seconds


class Build(BaseModel):
    documents: int
    mode: str
    stages: list[StageRun]
    view: StageRun | None = None
    report: StageRun | None = None
    update: list[StageRun] = []
    update_documents: int = 0
    load_average: list[float] = []  # 1-minute, sampled every 30 s during the build
    finished: bool = False  # False: the stages so far (the results are saved after each one)


class Results(BaseModel):
    config: dict[str, Any]
    builds: list[Build]
    cpus: int
    python: str
    notes: list[str] = []  # what the figures need to be read right (--note)


# -- the child: one stage in its own process ---------------------------------------------------------


class PartTimer:
    """CPU seconds of named parts of a stage, each without the parts it calls (the process's CPU:
    torch's threads included, and the LLM client's while a part waits for it)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._stack: list[list[float]] = []  # [start, CPU of timed parts called inside]

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._stack.append([time.process_time(), 0.0])
            try:
                return fn(*args, **kwargs)
            finally:
                start, inner = self._stack.pop()
                total = time.process_time() - start
                self.seconds[name] = self.seconds.get(name, 0.0) + total - inner
                if self._stack:
                    self._stack[-1][1] += total

        return timed

    def patch(self, owner: Any, attribute: str, name: str) -> None:
        setattr(owner, attribute, self.wrap(name, getattr(owner, attribute)))


def run_stage_in_this_process(run: Path, corpus: Path, stage_name: str, overrides: dict[str, Any]) -> None:
    """Run one stage of the run at `run` (earlier stages done) and print its own times as JSON."""
    from kgc.config import load_config
    from kgc.embeddings import Embedder, load_embedder
    from kgc.pipeline import Pipeline  # first: it imports every stage

    # The modules themselves (kgc.stages binds the name `fusion` to the fusion *stage* module).
    fusion = importlib.import_module("kgc.stages.fusion")
    fusion_stage = importlib.import_module("kgc.stages.fusion.stage")
    from kgc.stages.seed_topics import TopicModel
    from kgc.testing import ScriptedBackend, scripted_factory

    parts = PartTimer()

    class TimedBackend(ScriptedBackend):
        """The scripted backend, counting the CPU its answers take (they run on the client's threads)."""

        cpu = 0.0
        lock = threading.Lock()

        def chat(self, messages: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return super().chat(messages, **kwargs)
            finally:
                with self.lock:
                    TimedBackend.cpu += time.thread_time() - started

    class TimedEmbedder:
        """The configured embedder (lazy: the model loads on the first `encode`), its encoding timed."""

        def __init__(self, inner: Embedder) -> None:
            self.inner = inner
            self.key = inner.key
            self.texts = 0
            self._encode = parts.wrap("embedding", inner.encode)

        def encode(self, texts: Sequence[str]) -> np.ndarray:
            self.texts += len(texts)
            return np.asarray(self._encode(texts))

    for attribute, name in [
        ("merge_entities", "resolution"),
        ("collect_pairs", "relations"),
        ("_decide", "relations"),
        ("plan_neighbourhoods", "neighbourhoods"),
        ("ask_llm", "neighbourhoods (LLM calls)"),
    ]:
        parts.patch(fusion, attribute, name)
    parts.patch(fusion_stage, "write_graph", "writing")
    parts.patch(fusion_stage, "write_explanations", "writing")
    parts.patch(TopicModel, "assign", "topic assignment")

    cfg = load_config(None, overrides)
    backend = TimedBackend()
    embedder = TimedEmbedder(load_embedder(cfg.embedding))
    pipeline = Pipeline(
        cfg,
        run,
        corpus=corpus,
        llm_factory=scripted_factory(backend, cfg.llm),
        embedder=embedder,
    )
    stage = next(s for s in pipeline.stages if s.name == stage_name)
    pipeline.run.write_config(cfg)
    wall, cpu = time.perf_counter(), time.process_time()
    pipeline.run_stage(stage)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    out = {"wall": wall, "cpu": cpu, "backend_cpu": TimedBackend.cpu, "parts": parts.seconds}
    print(json.dumps({**out, "embedded_texts": embedder.texts}))


# -- the parent ---------------------------------------------------------------------------------------


def measured(command: list[str]) -> tuple[float, float, float, str]:
    """Run `command`; (wall s, CPU s of the process and its children, peak RSS MB, stdout)."""
    started = time.perf_counter()
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as proc:
        out = proc.stdout.read() if proc.stdout else ""
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed with exit code {proc.returncode}")
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out


def stage_run(run: Path, corpus: Path, stage: str, overrides: dict[str, Any]) -> StageRun:
    command = [sys.executable, __file__, "_stage", str(run), str(corpus), stage, json.dumps(overrides)]
    _, _, peak, out = measured(command)
    own = json.loads(out.strip().splitlines()[-1])
    record = json.loads((run / "manifest.json").read_text(encoding="utf-8"))["stages"][stage]
    return StageRun(
        stage=stage,
        wall_seconds=round(own["wall"], 2),
        cpu_seconds=round(own["cpu"], 2),
        backend_cpu_seconds=round(own["backend_cpu"], 2),
        peak_rss_mb=round(peak, 1),
        artifact_bytes=sum(
            (run / name).stat().st_size for name in record["outputs"] if (run / name).is_file()
        ),
        llm_requests=int(record.get("llm", {}).get("requests", 0)),
        counts=record.get("counts", {}),
        parts={k: round(v, 2) for k, v in own["parts"].items()},
        embedded_texts=own["embedded_texts"],
    )


def cli_run(run: Path, command: str) -> StageRun:
    """`kgc view` or `kgc report` on a finished run, timed as a whole process."""
    out_file = run / f"{command}.html"
    wall, cpu, peak, _ = measured(
        [str(Path(sys.executable).parent / "kgc"), command, str(run), "--out", str(out_file)]
    )
    return StageRun(
        stage=f"kgc {command}",
        wall_seconds=round(wall, 2),
        cpu_seconds=round(cpu, 2),
        backend_cpu_seconds=0.0,
        peak_rss_mb=round(peak, 1),
        artifact_bytes=out_file.stat().st_size,
        llm_requests=0,
        counts={},
    )


class LoadSampler:
    """The 1-minute load average every 30 s while a build runs: the machine is shared."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            self.samples.append(round(os.getloadavg()[0], 1))
            if self._stop.wait(30):
                return

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def corpora(work: Path, sizes: list[int], update_share: float) -> dict[int, Path]:
    """The corpus files: for each size its prefix and the prefix grown by `update_share`."""
    wanted = sorted({n for size in sizes for n in (size, size + round(size * update_share))})
    paths = {n: work / f"corpus_{n}.jsonl" for n in wanted}
    if all(p.is_file() for p in paths.values()):
        return paths
    logging.info("writing synthetic corpora of %s documents into %s", wanted, work)
    stream = synthetic_documents(CorpusRecipe(read_abstracts()))
    documents = [next(stream) for _ in range(max(wanted))]
    for n, path in paths.items():
        write_corpus(iter(documents[:n]), path, n)
    return paths


def build(
    work: Path,
    files: dict[int, Path],
    size: int,
    mode: str,
    overrides: dict[str, Any],
    update: int,
    save: Callable[[Build], None],
) -> Build:
    """Build, view, report and update one corpus; `save` gets the build after every step, so a build
    stopped half-way still leaves the stages it finished."""
    run = work / f"run_{mode}_{size}"
    if run.exists():
        raise SystemExit(f"{run} exists: remove it (or choose another --work) so the build starts afresh")
    cfg = {**overrides, "extraction.mode": mode}
    result = Build(documents=size, mode=mode, stages=[], update_documents=update)
    with LoadSampler() as load:

        def saved() -> None:
            result.load_average = list(load.samples)
            save(result)

        for stage in STAGES[mode]:
            logging.info("%s mode, %d documents: %s", mode, size, stage)
            result.stages.append(stage_run(run, files[size], stage, cfg))
            logging.info("  %s", result.stages[-1].model_dump())
            saved()
        result.view = cli_run(run, "view")
        saved()
        result.report = cli_run(run, "report")
        saved()
        for stage in STAGES[mode]:
            logging.info("%s mode, update to %d documents: %s", mode, size + update, stage)
            result.update.append(stage_run(run, files[size + update], stage, cfg))
            saved()
    result.finished = True
    save(result)
    return result


# -- the results ---------------------------------------------------------------------------------------


def exponent(small: float, large: float, ratio: float) -> float | None:
    """b in t ~ n^b from two sizes `ratio` apart; None when a time is too small to compare."""
    if small < 0.05 or large < 0.05:
        return None
    return round(math.log(large / small) / math.log(ratio), 2)


def markdown(results: Results) -> str:
    lines = [
        "# kgc build at scale: synthetic corpora, scripted LLM at zero latency",
        "",
        f"Config overrides: `{json.dumps(results.config)}`; {results.cpus} CPUs shared with other work "
        "(load averages below): wall times are upper bounds, CPU seconds are what the work cost. "
        "'kgc CPU' is the stage's CPU minus the scripted backend's (the stand-in for the LLM).",
        "",
        *(f"- {note}" for note in results.notes),
        *([""] if results.notes else []),
    ]
    for b in results.builds:
        load = f"{min(b.load_average):.1f}-{max(b.load_average):.1f}" if b.load_average else "?"
        unfinished = "" if b.finished else ", UNFINISHED: the stages it got through"
        lines += [
            f"## {b.mode} mode, {b.documents:,} documents (load average {load}{unfinished})",
            "",
            "| stage | wall s | CPU s | kgc CPU s | kgc CPU ms / doc | peak RSS MB | artifacts MB | LLM requests | counts |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        rows = [*b.stages, *(r for r in (b.view, b.report) if r is not None)]
        for r in rows:
            counts = shown_counts(r)
            lines.append(
                f"| {r.stage} | {r.wall_seconds} | {r.cpu_seconds} | {r.kgc_cpu_seconds:.1f} "
                f"| {1000 * r.kgc_cpu_seconds / b.documents:.2f} | {r.peak_rss_mb:.0f} "
                f"| {r.artifact_bytes / 1e6:.1f} | {r.llm_requests} | {counts} |"
            )
        total = sum(r.kgc_cpu_seconds for r in b.stages)
        lines += ["", f"Build: kgc CPU {total:.0f} s ({1000 * total / b.documents:.2f} ms per document).", ""]
        lines += [f"- {r.stage}: {parts_text(r)}" for r in b.stages if r.parts] + [""]
        if b.update:
            lines += [
                f"Update with {b.update_documents:,} new documents (+{b.update_documents / b.documents:.0%}):",
                "",
                "| stage | wall s | kgc CPU s | share of the first build's | LLM requests | counts |",
                "| --- | --- | --- | --- | --- | --- |",
            ]
            first = {r.stage: r for r in b.stages}
            for r in b.update:
                share = (
                    r.kgc_cpu_seconds / first[r.stage].kgc_cpu_seconds
                    if first[r.stage].kgc_cpu_seconds
                    else 0
                )
                counts = shown_counts(r)
                lines.append(
                    f"| {r.stage} | {r.wall_seconds} | {r.kgc_cpu_seconds:.1f} | {share:.0%} | {r.llm_requests} | {counts} |"
                )
            lines.append("")
    lines += growth_table(results) + aims(results)
    return "\n".join(lines)


def shown_counts(r: StageRun) -> str:
    """The stage's counts without resolution's details (all of them are in the JSON)."""
    return ", ".join(
        f"{k} {v}" for k, v in r.counts.items() if not k.startswith("resolve_") or k == "resolve_names"
    )


def parts_text(r: StageRun) -> str:
    """CPU seconds of the stage's parts, largest first; the rest is the stage's other work."""
    named = sorted(r.parts.items(), key=lambda kv: -kv[1])
    rest = r.cpu_seconds - sum(r.parts.values())
    text = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in named)
    texts = f" ({r.embedded_texts:,} texts embedded)" if r.embedded_texts else ""
    return f"{text}, other {rest:.1f} s{texts} (CPU)"


def growth_table(results: Results) -> list[str]:
    """Per mode, per stage: kgc CPU per document at the largest size over the smallest, and b."""
    lines = ["## Growth", ""]
    for mode in STAGES:
        builds = sorted((b for b in results.builds if b.mode == mode), key=lambda b: b.documents)
        if len(builds) < 2:
            continue
        small, large = builds[0], builds[-1]
        ratio = large.documents / small.documents
        lines += [
            f"{mode} mode, {small.documents:,} -> {large.documents:,} documents: b in time ~ documents^b "
            "(1.0 linear); per-doc ratio = kgc CPU per document at the larger size over the smaller.",
            "",
            "| stage | kgc CPU s small | kgc CPU s large | per-doc ratio | b (kgc CPU) | b (wall) | b (peak RSS) |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        done = {r.stage: r for r in large.stages}  # an unfinished build: the stages it got through
        pairs = [(s, done[s.stage]) for s in small.stages if s.stage in done]
        pairs += [(a, b) for a, b in ((small.view, large.view), (small.report, large.report)) if a and b]
        for a, b in pairs:
            per_doc = (
                (b.kgc_cpu_seconds / large.documents) / (a.kgc_cpu_seconds / small.documents)
                if a.kgc_cpu_seconds
                else 0
            )
            lines.append(
                f"| {a.stage} | {a.kgc_cpu_seconds:.1f} | {b.kgc_cpu_seconds:.1f} | {per_doc:.2f} "
                f"| {exponent(a.kgc_cpu_seconds, b.kgc_cpu_seconds, ratio)} | {exponent(a.wall_seconds, b.wall_seconds, ratio)} "
                f"| {exponent(a.peak_rss_mb, b.peak_rss_mb, ratio)} |"
            )
        total_a = sum(a.kgc_cpu_seconds for a, b in pairs if a in small.stages)
        total_b = sum(b.kgc_cpu_seconds for a, b in pairs if b in large.stages)
        lines += [
            "",
            f"Whole build{'' if large.finished else ' (the stages both got through)'}: {total_a:.0f} -> {total_b:.0f} kgc CPU s, per-doc ratio "
            f"{(total_b / large.documents) / (total_a / small.documents):.2f}, b {exponent(total_a, total_b, ratio)}.",
            "",
        ]
    return lines


def aims(results: Results) -> list[str]:
    """Issue 21's aims for the largest build of each mode, against the smallest for the per-document one."""
    lines = ["## Aims", ""]
    for mode in STAGES:
        builds = sorted((b for b in results.builds if b.mode == mode), key=lambda b: b.documents)
        if not builds:
            continue
        small, large = builds[0], builds[-1]
        runs = [*large.stages, *(r for r in (large.view, large.report) if r is not None)]
        peak = max(r.peak_rss_mb for r in runs)
        cpu = sum(r.kgc_cpu_seconds for r in large.stages)
        lines += [
            f"{mode} mode, {large.documents:,} documents{'' if large.finished else ' (unfinished)'}:",
            "",
            f"- peak RSS < 8 GB: {peak / 1024:.1f} GB ({'met' if peak < 8192 else 'missed'})",
            f"- non-LLM work < 60 min on 2 cores: {cpu:.0f} kgc CPU s = {cpu / 60:.1f} CPU min, "
            f"{cpu / 120:.1f} min on 2 busy cores ({'met' if cpu < 7200 else 'missed'})",
        ]
        if len(builds) > 1:
            first = sum(r.kgc_cpu_seconds for r in small.stages)
            ratio = (cpu / large.documents) / (first / small.documents)
            lines.append(
                f"- non-LLM time per document at {large.documents:,} <= 1.2x that at {small.documents:,}: "
                f"{ratio:.2f}x ({'met' if ratio <= 1.2 else 'missed'})"
            )
        lines.append("")
    return lines


def kept_builds(path: Path, overrides: dict[str, Any], new: list[Build]) -> list[Build]:
    """The builds of an earlier results file with the same config that this run does not redo, then
    the new ones: the sizes and modes can be run one at a time (10k today, 100k overnight)."""
    if not path.is_file():
        return new
    earlier = Results.model_validate_json(path.read_text(encoding="utf-8"))
    if earlier.config != overrides:
        return new
    redone = {(b.documents, b.mode) for b in new}
    kept = [b for b in earlier.builds if (b.documents, b.mode) not in redone]
    return sorted([*kept, *new], key=lambda b: (b.documents, b.mode != "seed"))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_stage":
        logging.basicConfig(level=logging.WARNING)
        run_stage_in_this_process(Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4], json.loads(sys.argv[5]))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--modes", nargs="+", choices=list(STAGES), default=list(STAGES))
    ap.add_argument("--work", type=Path, default=Path("/tmp/kgc-scale"))
    ap.add_argument("--update", type=float, default=0.01, help="share of new documents in the update")
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="config override (JSON value), e.g. --set retrieval.method='\"fuzzy\"'; repeatable",
    )
    ap.add_argument("--out", default="scale", help="result file stem under bench/results")
    ap.add_argument("--note", action="append", default=[], help="a line the results need to be read right")
    ap.add_argument(
        "--render", action="store_true", help="only rewrite the .md from the .json (with --note: new notes)"
    )
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    path = RESULTS_DIR / f"{args.out}.json"
    if args.render:
        results = Results.model_validate_json(path.read_text(encoding="utf-8"))
        results.notes = args.note or results.notes
        path.write_text(results.model_dump_json(indent=2) + "\n", encoding="utf-8")
        path.with_suffix(".md").write_text(markdown(results), encoding="utf-8")
        return

    overrides: dict[str, Any] = {
        "llm.backend": "openai",  # the server-style defaults; the scripted backend answers
        "llm.model": "scripted",
        "llm.limits.concurrency": 4,
        "retrieval.method": "bm25",
    }
    for item in args.set:
        key, value = item.split("=", 1)
        overrides[key] = json.loads(value)
    args.work.mkdir(parents=True, exist_ok=True)
    files = corpora(args.work, args.sizes, args.update)
    done: list[Build] = []

    def save(current: Build) -> None:
        builds = kept_builds(path, overrides, [*done, current])  # `current` is not in `done` yet
        results = Results(
            config=overrides,
            builds=builds,
            cpus=os.cpu_count() or 0,
            python=platform.python_version(),
            notes=args.note,
        )
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(results.model_dump_json(indent=2) + "\n", encoding="utf-8")
        path.with_suffix(".md").write_text(markdown(results), encoding="utf-8")

    for size in args.sizes:
        for mode in args.modes:
            done.append(build(args.work, files, size, mode, overrides, round(size * args.update), save))
    print(path.with_suffix(".md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
