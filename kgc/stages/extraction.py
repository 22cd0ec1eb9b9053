"""Stage 2: the LLM extracts candidate triplets, one call per seed (with its retrieved chunks) or per chunk.

The answer is validated against the relation schema triplet by triplet: unknown relations and empty,
overlong or self-referencing names are dropped and counted, never passed on silently.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, create_model
from rapidfuzz import fuzz, utils

from kgc.config import ExtractionConfig, KgcConfig
from kgc.llm.client import StageLLM
from kgc.models import Candidate, Chunk, Provenance, SeedContext
from kgc.prompts import prompt_files, render
from kgc.rundir import write_jsonl
from kgc.schema import RelationSchema
from kgc.stages.base import Stage, StageContext, StageOutcome
from kgc.text import clean_text, normalise_name


class Triplet(BaseModel):
    head: str
    relation: str
    tail: str
    evidence: str = ""


class ExtractionAnswer(BaseModel):
    triplets: list[Triplet] = Field(default_factory=list)


@cache
def answer_model(relation_names: tuple[str, ...]) -> type[ExtractionAnswer]:
    """ExtractionAnswer whose JSON Schema lists the allowed relations as an enum, so constrained
    decoders (grammars, json_schema servers) cannot invent one; validation stays per triplet."""
    enum_triplet = create_model(
        "Triplet",
        __base__=Triplet,
        relation=(str, Field(json_schema_extra={"enum": list(relation_names)})),
    )
    return create_model(
        "ExtractionAnswer",
        __base__=ExtractionAnswer,
        triplets=(list[enum_triplet], Field(default_factory=list)),
    )


@dataclass
class ExtractionTask:
    """One LLM call: the passages to read and, in seed mode, the seed they were retrieved for."""

    key: str  # seed name or chunk id
    seed: str | None
    chunks: list[Chunk]


@dataclass
class ExtractionResult:
    candidates: list[Candidate]
    dropped: Counter[str] = field(default_factory=Counter)  # reason -> count
    failed_tasks: list[str] = field(default_factory=list)  # keys whose answer was never valid


def seed_tasks(contexts: list[SeedContext], chunks: list[Chunk]) -> list[ExtractionTask]:
    by_id = {c.id: c for c in chunks}
    return [
        ExtractionTask(key=ctx.seed, seed=ctx.seed, chunks=[by_id[i] for i in ctx.chunk_ids])
        for ctx in contexts
        if ctx.chunk_ids
    ]


def chunk_tasks(chunks: list[Chunk]) -> list[ExtractionTask]:
    return [ExtractionTask(key=c.id, seed=None, chunks=[c]) for c in chunks]


def build_messages(
    task: ExtractionTask, schema: RelationSchema, cfg: ExtractionConfig, prompts_dir: Path
) -> list[dict[str, str]]:
    text = "\n\n".join(c.text for c in task.chunks)[: cfg.max_chars]
    seed_section = f"\n## Seed\n{task.seed}\n" if task.seed else ""
    focus = f', focusing on relations that involve "{task.seed}"' if task.seed else ""
    return render(
        prompts_dir,
        cfg.prompt,
        relations=schema.describe(),
        relation_names=", ".join(schema.names),
        seed_section=seed_section,
        text=text,
        max_triplets=cfg.max_triplets_per_call,
        focus=focus,
    )


def _best_chunk(triplet: Triplet, chunks: list[Chunk]) -> Chunk:
    """The passage the triplet most likely came from: evidence first, then both names."""
    if len(chunks) == 1:
        return chunks[0]

    def score(c: Chunk) -> float:
        text = c.text
        s = fuzz.partial_ratio(triplet.head, text, processor=utils.default_process)
        s += fuzz.partial_ratio(triplet.tail, text, processor=utils.default_process)
        if triplet.evidence:
            s += 2 * fuzz.partial_ratio(triplet.evidence, text, processor=utils.default_process)
        return s

    return max(chunks, key=score)  # max keeps the first of equal scores: retrieval order


def validate_triplets(
    answer: ExtractionAnswer, task: ExtractionTask, schema: RelationSchema, cfg: ExtractionConfig
) -> tuple[list[Candidate], Counter[str]]:
    """Schema-valid candidates of one answer, and the reasons for the ones dropped."""
    kept: list[Candidate] = []
    dropped: Counter[str] = Counter()
    for t in answer.triplets[: cfg.max_triplets_per_call]:
        head, tail = clean_text(t.head), clean_text(t.tail)
        rel = schema.resolve(t.relation)
        if rel is None:
            dropped["unknown relation"] += 1
        elif not head or not tail:
            dropped["empty name"] += 1
        elif len(head) > cfg.max_name_chars or len(tail) > cfg.max_name_chars:
            dropped["name too long"] += 1
        elif normalise_name(head) == normalise_name(tail):
            dropped["head equals tail"] += 1
        else:
            chunk = _best_chunk(t, task.chunks)
            evidence = clean_text(t.evidence)[:500] or None
            prov = Provenance(doc_id=chunk.doc_id, chunk_id=chunk.id, seed=task.seed, evidence=evidence)
            kept.append(Candidate(head=head, relation=rel.name, tail=tail, provenance=[prov]))
    if len(answer.triplets) > cfg.max_triplets_per_call:
        dropped["over the per-call limit"] += len(answer.triplets) - cfg.max_triplets_per_call
    return kept, dropped


def extract(
    tasks: list[ExtractionTask],
    llm: StageLLM,
    schema: RelationSchema,
    cfg: ExtractionConfig,
    prompts_dir: Path,
) -> ExtractionResult:
    """Run every task through the LLM (concurrently, cached) and keep the valid triplets."""
    model = answer_model(tuple(schema.names))

    def run(task: ExtractionTask) -> tuple[ExtractionTask, Any]:
        return task, llm.complete(build_messages(task, schema, cfg, prompts_dir), model)

    result = ExtractionResult(candidates=[])
    for task, answer in llm.map(run, tasks, description="extracting triplets"):
        if answer is None:
            result.failed_tasks.append(task.key)
            continue
        kept, dropped = validate_triplets(answer, task, schema, cfg)
        result.candidates.extend(kept)
        result.dropped.update(dropped)
    return result


# --- the stage --------------------------------------------------------------------------------


def tasks_for(
    cfg: KgcConfig, contexts: list[SeedContext] | None, chunks: list[Chunk]
) -> list[ExtractionTask]:
    """The extraction calls of a run: per seed (seed mode) or per chunk (document mode). The run and
    `--dry-run`'s estimate both build them here."""
    if cfg.extraction.mode == "seed":
        return seed_tasks(contexts or [], chunks)
    return chunk_tasks(chunks)


def inputs(cfg: KgcConfig) -> list[str]:
    return ["contexts.jsonl", "chunks.jsonl"] if cfg.extraction.mode == "seed" else ["chunks.jsonl"]


def read_tasks(ctx: StageContext) -> list[ExtractionTask]:
    contexts = ctx.run.contexts() if ctx.cfg.extraction.mode == "seed" else None
    return tasks_for(ctx.cfg, contexts, ctx.run.chunks())


def _run(ctx: StageContext) -> StageOutcome:
    cfg = ctx.cfg
    tasks = read_tasks(ctx)
    result = extract(tasks, ctx.llm, cfg.relations, cfg.extraction, cfg.prompts_path())
    write_jsonl(ctx.run / "candidates.jsonl", result.candidates)
    ctx.run.write_json(
        "extraction_report.json", {"dropped": dict(result.dropped), "failed_tasks": result.failed_tasks}
    )
    counts = {
        "tasks": len(tasks),
        "candidates": len(result.candidates),
        "failed_tasks": len(result.failed_tasks),
    }
    counts.update({f"dropped_{k.replace(' ', '_')}": v for k, v in result.dropped.items()})
    return StageOutcome(
        ["candidates.jsonl", "extraction_report.json"], counts, failed=len(result.failed_tasks)
    )


STAGE = Stage(
    name="extraction",
    sections=("extraction", "relations"),
    inputs=inputs,
    run=_run,
    uses_llm=True,
    prompts=lambda cfg: prompt_files(cfg.prompts_path(), cfg.extraction.prompt),
)
