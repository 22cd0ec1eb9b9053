"""Stage 2: the LLM extracts candidate triplets, one call per batch of a seed's retrieved chunks or per chunk.

Each call is a unit keyed by its content (kgc.stages.units): an update pays only for the units whose
text is new, and a removed document's units (and so its candidates) are dropped.

The answer is validated against the relation schema triplet by triplet: unknown relations and empty,
overlong or self-referencing names are dropped and counted, never passed on silently.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pydantic import BaseModel, Field, create_model
from rapidfuzz import fuzz, utils

from kgc.artifacts import CANDIDATES, CHUNKS, CONTEXTS, EXTRACTION_REPORT, UNITS
from kgc.config import ExtractionConfig, KgcConfig
from kgc.llm.client import StageLLM
from kgc.models import Candidate, Chunk, ExtractionReport, Provenance, SeedContext, Unit
from kgc.prompts import prompt_files, render
from kgc.schema import RelationSchema
from kgc.stages.base import Stage, StageContext, StageOutcome
from kgc.stages.units import UnitLog
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

    key: str  # "seed/batch number" or chunk id
    seed: str | None
    chunks: list[Chunk]


def seed_tasks(
    contexts: list[SeedContext], chunks: list[Chunk], batch_chunks: int = 0
) -> list[ExtractionTask]:
    """One task per batch of a seed's retrieved chunks (see `content_batches`), or per seed when
    `batch_chunks` is 0."""
    by_id = {c.id: c for c in chunks}
    tasks = []
    for ctx in contexts:
        retrieved = [by_id[i] for i in ctx.chunk_ids]
        batches = content_batches(retrieved, batch_chunks) if batch_chunks else [retrieved]
        tasks += [
            ExtractionTask(key=f"{ctx.seed}/{n}", seed=ctx.seed, chunks=batch)
            for n, batch in enumerate(batches)
            if batch
        ]
    return tasks


def content_batches(chunks: list[Chunk], size: int) -> list[list[Chunk]]:
    """`chunks` in the order of their content hashes, cut after every chunk whose hash is 0 modulo
    `size` (batches of `size` chunks on average).

    Where a batch ends depends only on the chunks in it, never on their neighbours or number, so a
    chunk added to a seed's context changes the one batch it falls in (or splits it in two) and
    leaves the prompts of the others untouched: an update pays for the batches new text enters.
    """
    batches: list[list[Chunk]] = [[]]
    for chunk in sorted(chunks, key=lambda c: (c.hash, c.id)):
        batches[-1].append(chunk)
        if int(chunk.hash, 16) % size == 0:
            batches.append([])
    return [b for b in batches if b]


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


def extract_unit(
    task: ExtractionTask,
    messages: list[dict[str, str]],
    llm: StageLLM,
    schema: RelationSchema,
    cfg: ExtractionConfig,
) -> tuple[list[Candidate], Counter[str]] | None:
    """One LLM call and its valid triplets (with the reasons for those dropped); None when the
    answer was never valid."""
    answer = llm.complete(messages, answer_model(tuple(schema.names)))
    return None if answer is None else validate_triplets(answer, task, schema, cfg)


def unit_key(task: ExtractionTask, messages: list[dict[str, str]], cfg: KgcConfig) -> str:
    """What a unit's candidates depend on: the prompt, the chunks it cites, the model, the validation."""
    payload = [
        messages,
        [c.id for c in task.chunks],
        cfg.section_hash("extraction", "relations"),
        cfg.llm.identity(),
    ]
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


# --- the stage --------------------------------------------------------------------------------


def tasks_for(
    cfg: KgcConfig, contexts: list[SeedContext] | None, chunks: list[Chunk]
) -> list[ExtractionTask]:
    """The extraction calls of a run: per batch of a seed's chunks (seed mode) or per chunk
    (document mode). The run and `--dry-run`'s estimate both build them here."""
    if cfg.extraction.mode == "seed":
        return seed_tasks(contexts or [], chunks, cfg.extraction.seed_batch_chunks)
    return chunk_tasks(chunks)


def read_tasks(ctx: StageContext) -> list[ExtractionTask]:
    contexts = ctx.run.read(CONTEXTS) if ctx.cfg.extraction.mode == "seed" else None
    return tasks_for(ctx.cfg, contexts, ctx.run.read(CHUNKS))


Call = tuple[ExtractionTask, list[dict[str, str]], str]  # task, its messages, its unit key


def plan_calls(ctx: StageContext) -> tuple[list[ExtractionTask], list[str], list[Call]]:
    """The run's tasks, their unit keys, and the calls still to pay for (units not in the log yet):
    what the stage runs and what `--dry-run` counts."""
    cfg = ctx.cfg
    prompts = cfg.prompts_path()
    tasks = read_tasks(ctx)
    messages = [build_messages(t, cfg.relations, cfg.extraction, prompts) for t in tasks]
    keys = [unit_key(t, m, cfg) for t, m in zip(tasks, messages, strict=True)]
    units = UnitLog(ctx.run)
    return tasks, keys, [(t, m, k) for t, m, k in zip(tasks, messages, keys, strict=True) if k not in units]


def _run(ctx: StageContext) -> StageOutcome:
    """Extract the units this run has not paid for yet; the candidates are those of the current units,
    in task order (so an updated run and a fresh build of the same corpus write the same file)."""
    cfg = ctx.cfg
    tasks, keys, todo = plan_calls(ctx)
    units = UnitLog(ctx.run)
    if todo:
        llm = ctx.llm  # built only when some unit is new: a removal needs no model

        def run(item: Call) -> None:
            task, msgs, key = item
            result = extract_unit(task, msgs, llm, cfg.relations, cfg.extraction)
            if result is not None:
                units.add(Unit(key=key, candidates=result[0], dropped=dict(result[1])))

        llm.map(run, todo, description="extracting triplets")
    units.compact(keys)
    candidates: list[Candidate] = []
    dropped: Counter[str] = Counter()
    failed: list[str] = []
    for task, key in zip(tasks, keys, strict=True):
        unit = units.get(key)
        if unit is None:
            failed.append(task.key)
            continue
        candidates += unit.candidates
        dropped.update(unit.dropped)
    ctx.run.write(CANDIDATES, candidates)
    ctx.run.write(EXTRACTION_REPORT, ExtractionReport(dropped=dict(dropped), failed_tasks=failed))
    counts = {
        "tasks": len(tasks),
        "new_tasks": len(todo),
        "candidates": len(candidates),
        "failed_tasks": len(failed),
    }
    counts.update({f"dropped_{k.replace(' ', '_')}": v for k, v in dropped.items()})
    return StageOutcome(counts, failed=len(failed))


STAGE = Stage(
    name="extraction",
    sections=("extraction", "relations"),
    inputs=(CONTEXTS, CHUNKS),  # contexts in seed mode; document mode has no retrieval stage to write them
    outputs=(CANDIDATES, EXTRACTION_REPORT, UNITS),
    run=_run,
    uses_llm=True,
    prompts=lambda cfg: prompt_files(cfg.prompts_path(), cfg.extraction.prompt),
)
