"""Benchmark of the embedded model on triplet extraction: assembly and load time, seconds per
document and the rate of schema-valid JSON answers.

    .venv/bin/python bench/bench_embedded.py                      # the bundled demo corpus
    .venv/bin/python bench/bench_embedded.py --corpus abstracts.txt --limit 6

Reads JSONL (`id`, `text`) or plain text (one document per line). Writes
bench/results/embedded.json and embedded.md (`--out` changes the stem).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from kgc.assets import GGUF_MODEL, ensure_assembled
from kgc.config import EmbeddedConfig, LLMConfig
from kgc.llm.embedded import EmbeddedBackend
from kgc.llm.jsonparse import InvalidAnswerError, parse_answer
from kgc.resources import demo_corpus

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support, beside kgc

from tests.support.embedded_task import ExtractedTriplet, extraction_messages

RESULTS_DIR = Path(__file__).resolve().parent / "results"


# The task tests/test_embedded.py runs too (tests.support.embedded_task), without the tests' cap of 4 triplets.
class ExtractionAnswer(BaseModel):
    triplets: list[ExtractedTriplet]


class DocResult(BaseModel):
    id: str
    chars: int
    seconds: float
    prompt_tokens: int
    completion_tokens: int
    valid: bool  # strict: the whole reply is schema-valid JSON
    recovered: bool  # kgc's tolerant parser (json_repair) gets a schema-valid answer out of it
    finish: str  # "stop" or "length" (cut at max_tokens)
    triplets: int  # in the (recovered) answer
    error: str | None = None


def read_documents(path: Path, limit: int | None) -> list[tuple[str, str]]:
    """(id, text) pairs from JSONL with `id`/`text`, or from plain text with one document per line."""
    docs: list[tuple[str, str]] = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            line = line.strip()
            if not line:
                continue
            if path.suffix == ".jsonl":
                record = json.loads(line)
                docs.append((str(record["id"]), str(record["text"])))
            else:
                docs.append((f"{path.name}:{n}", line))
            if limit is not None and len(docs) >= limit:
                break
    return docs


def time_cold_assembly() -> float:
    """Seconds to assemble and verify the GGUF from the installed parts, in a scratch directory."""
    with tempfile.TemporaryDirectory(dir=ensure_assembled(GGUF_MODEL).parent) as scratch:
        start = time.perf_counter()
        ensure_assembled(GGUF_MODEL, Path(scratch) / GGUF_MODEL.name)
        return time.perf_counter() - start


def run_document(backend: EmbeddedBackend, doc_id: str, text: str, max_tokens: int) -> DocResult:
    start = time.perf_counter()
    reply = backend.chat(
        extraction_messages(text),
        json_schema=ExtractionAnswer.model_json_schema(),
        temperature=0.0,
        max_tokens=max_tokens,
    )
    seconds = time.perf_counter() - start
    valid, recovered, triplets, error = True, True, 0, None
    try:
        triplets = len(ExtractionAnswer.model_validate_json(reply.text).triplets)
    except ValidationError as e:
        valid, error = False, f"{e.error_count()} validation errors; reply ends: {reply.text[-200:]}"
        try:
            triplets = len(parse_answer(reply.text, ExtractionAnswer).triplets)
        except InvalidAnswerError:
            recovered = False
    return DocResult(
        id=doc_id,
        chars=len(text),
        seconds=round(seconds, 2),
        prompt_tokens=reply.usage.prompt_tokens,
        completion_tokens=reply.usage.completion_tokens,
        valid=valid,
        recovered=recovered,
        finish="length" if reply.usage.completion_tokens >= max_tokens else "stop",
        triplets=triplets,
        error=error,
    )


def summarise(results: list[DocResult], max_tokens: int) -> dict[str, Any]:
    seconds = [r.seconds for r in results]
    completion = sum(r.completion_tokens for r in results)
    return {
        "documents": len(results),
        "valid_json_rate": round(sum(r.valid for r in results) / len(results), 3),
        "recovered_rate": round(sum(r.recovered for r in results) / len(results), 3),
        "seconds_per_document_mean": round(statistics.mean(seconds), 2),
        "seconds_per_document_median": round(statistics.median(seconds), 2),
        "seconds_per_document_max": round(max(seconds), 2),
        "triplets_per_document_mean": round(statistics.mean(r.triplets for r in results), 2),
        "prompt_tokens_mean": round(statistics.mean(r.prompt_tokens for r in results), 1),
        "completion_tokens_mean": round(statistics.mean(r.completion_tokens for r in results), 1),
        "completion_tokens_per_second": round(completion / sum(seconds), 2),
        "answers_cut_at_max_tokens": sum(r.completion_tokens >= max_tokens for r in results),
    }


def to_markdown(report: dict[str, Any]) -> str:
    s = report["summary"]
    lines = [
        "# Embedded model benchmark",
        "",
        f"Model `{report['model']}`, llama-cpp-python {report['llama_cpp_version']}, "
        f"{report['threads']} threads, n_ctx {report['n_ctx']}, max_tokens {report['max_tokens']}, "
        f"grammar-constrained JSON. Corpus `{report['corpus']}` ({s['documents']} of {report['documents_planned']} documents done). {report['machine']}; "
        f"1-minute load average before/after: {report['load_average_before_after']}.",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| cold assembly of the GGUF from the 22 parts (concatenate + sha256) | {report['assembly_seconds']} s |",
        f"| reuse of the assembled GGUF (marker check) | {report['reuse_seconds']} s |",
        f"| model load | {report['load_seconds']} s |",
        f"| valid-JSON rate (strict: the whole reply validates) | {s['valid_json_rate']:.1%} |",
        f"| usable-answer rate (kgc's tolerant parser, json_repair) | {s['recovered_rate']:.1%} |",
        f"| seconds per document (mean / median / max) | {s['seconds_per_document_mean']} / "
        f"{s['seconds_per_document_median']} / {s['seconds_per_document_max']} |",
        f"| triplets per document (mean) | {s['triplets_per_document_mean']} |",
        f"| answers cut at max_tokens | {s['answers_cut_at_max_tokens']} |",
        f"| prompt / completion tokens per document (mean) | {s['prompt_tokens_mean']} / {s['completion_tokens_mean']} |",
        f"| completion tokens per second (incl. prompt processing) | {s['completion_tokens_per_second']} |",
        "",
        "| document | chars | seconds | prompt tok | completion tok | finish | valid | usable | triplets |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in report["documents"]:
        lines.append(
            f"| {r['id']} | {r['chars']} | {r['seconds']} | {r['prompt_tokens']} | "
            f"{r['completion_tokens']} | {r['finish']} | {'yes' if r['valid'] else 'NO'} | "
            f"{'yes' if r['recovered'] else 'NO'} | {r['triplets']} |"
        )
    return "\n".join(lines) + "\n"


def write_report(report: dict[str, Any], stem: str) -> None:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (RESULTS_DIR / f"{stem}.md").write_text(to_markdown(report), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=demo_corpus())
    parser.add_argument("--limit", type=int, default=None, help="only the first N documents")
    parser.add_argument("--max-tokens", type=int, default=LLMConfig().max_output_tokens)
    parser.add_argument("--n-ctx", type=int, default=EmbeddedConfig().n_ctx)
    parser.add_argument("--out", default="embedded", help="results file stem under bench/results/")
    parser.add_argument("--skip-assembly", action="store_true", help="do not time a cold assembly")
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: all cores)")
    args = parser.parse_args()

    import llama_cpp

    docs = read_documents(args.corpus, args.limit)
    load_before = os.getloadavg()  # other processes on the cores slow llama.cpp a lot: record them
    assembly = None if args.skip_assembly else round(time_cold_assembly(), 2)
    start = time.perf_counter()
    ensure_assembled(GGUF_MODEL)
    reuse = round(time.perf_counter() - start, 4)

    backend = EmbeddedBackend(LLMConfig(embedded=EmbeddedConfig(n_ctx=args.n_ctx)), n_threads=args.threads)
    start = time.perf_counter()
    backend.load()
    load = round(time.perf_counter() - start, 2)

    report: dict[str, Any] = {
        "model": GGUF_MODEL.name,
        "llama_cpp_version": llama_cpp.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "threads": backend.n_threads,
        "n_ctx": args.n_ctx,
        "max_tokens": args.max_tokens,
        "corpus": str(args.corpus),
        "documents_planned": len(docs),
        "assembly_seconds": assembly,
        "reuse_seconds": reuse,
        "load_seconds": load,
    }
    results: list[DocResult] = []
    for doc_id, text in docs:
        result = run_document(backend, doc_id, text, args.max_tokens)
        print(f"{doc_id}: {result.seconds} s, valid={result.valid}, {result.triplets} triplets", flush=True)
        results.append(result)
        # Rewritten after every document: a long run on a busy machine leaves usable partial results.
        report["load_average_before_after"] = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]
        report["summary"] = summarise(results, args.max_tokens)
        report["documents"] = [r.model_dump() for r in results]
        write_report(report, args.out)
    backend.close()
    print(to_markdown(report))


if __name__ == "__main__":
    main()
