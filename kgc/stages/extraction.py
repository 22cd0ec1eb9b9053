"""Stage 2: the LLM extracts candidate triplets, one call per batch of a seed's retrieved chunks or per chunk.

The calls are built by kgc.stages.extraction_tasks. Each is a unit keyed by its content
(kgc.stages.units): an update pays only for the units whose text is new, and a removed document's
units (and so its candidates) are dropped.

What a unit does (the pure parts live in kgc.extraction):
1. find the passage's candidate concept spans without an LLM (`spans`) and offer them to the model,
   whose answer's JSON Schema admits only those names where the backend constrains decoding;
2. keep the triplets whose names are spans of the passage (or snap to one), split coordinations,
   refuse generic, clause and conjunction names (`triplets`, `names`), each drop counted by reason;
3. optionally ask a second, small question per triplet: which relation and direction its sentence
   states, or none (`checking`);
4. read relation cues from the passage's syntax (`cues`: 'X such as Y', 'X consists of Y', 'X and
   Y'...): a triplet whose names a cue links takes its relation and direction, one whose names a
   preposition joins the direction it states, one between members of one list a conjunction or
   nothing (`cue_retype`, `direction`, `coordination`), and the cues enter as triplets of their own
   (`cue_add`, provenance `cue`).
A triplet is kept when one sentence mentions both its names (`extraction.same_sentence`); that
sentence is its evidence, so evidence is always text of the passage.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from rapidfuzz import fuzz, utils

from kgc.artifacts import CANDIDATES, CHUNKS, CONTEXTS, EXTRACTION_REPORT, UNITS
from kgc.config import ExtractionConfig, KgcConfig
from kgc.extraction import RULES_VERSION
from kgc.extraction.answers import ExtractionAnswer, Triplet, answer_model
from kgc.extraction.checking import NONE, check_messages, check_model
from kgc.extraction.coordination import conjoin
from kgc.extraction.cues import cue_triplets, find_cues, retype
from kgc.extraction.direction import orient
from kgc.extraction.names import NameRules
from kgc.extraction.spans import PassageSpans, find_spans, finder_in_use, split_sentences
from kgc.extraction.specificity import drop_common_words, english_frequency
from kgc.extraction.triplets import CleanTriplet, PassageIndex, RawTriplet, clean_triplets, one_per_statement
from kgc.llm.base import Message
from kgc.llm.client import StageLLM
from kgc.models import Candidate, Chunk, ExtractionReport, Provenance, Unit
from kgc.prompts import prompt_files, render
from kgc.schema import RelationSchema
from kgc.stages.base import Stage, StageContext, StageOutcome
from kgc.stages.extraction_tasks import ExtractionTask, read_tasks
from kgc.stages.units import UnitLog

__all__ = ["ExtractionAnswer", "ExtractionTask", "Triplet", "build_messages", "validate_triplets"]


# --- one unit ----------------------------------------------------------------------------------


def passage_of(task: ExtractionTask, cfg: ExtractionConfig) -> PassageSpans:
    """The text the model reads, its sentences and (unless `candidates = "off"`) its candidate names."""
    text = "\n\n".join(c.text for c in task.chunks)[: cfg.max_chars]
    if cfg.candidates == "off":
        return PassageSpans(text=text, sentences=split_sentences(text))
    return find_spans(text, finder=cfg.candidates, seeds=(task.seed,) if task.seed else ())


def example_values(schema: RelationSchema) -> dict[str, str]:
    """The worked example of the prompts, made of the schema's own examples (one per relation)."""
    examples = schema.examples()
    concepts = list(dict.fromkeys(n for _, e in examples for n in (e.head, e.tail)))
    answer = [{"head": e.head, "relation": t.name, "tail": e.tail} for t, e in examples]
    return {
        "example_text": " ".join(e.text for _, e in examples),
        "example_concepts": "; ".join(concepts),
        "example_answer": json.dumps({"triplets": answer}),
    }


def build_messages(
    task: ExtractionTask,
    schema: RelationSchema,
    cfg: ExtractionConfig,
    prompts_dir: Path,
    passage: PassageSpans | None = None,
) -> list[Message]:
    passage = passage or passage_of(task, cfg)
    names = passage.names()
    seed_section = f"\n## Seed\n{task.seed}\n" if task.seed else ""
    focus = f', focusing on relations that involve "{task.seed}"' if task.seed else ""
    return render(
        prompts_dir,
        cfg.prompt,
        relations=schema.describe(),
        relation_names=", ".join(schema.names),
        seed_section=seed_section,
        text=passage.text,
        max_triplets=cfg.max_triplets_per_call,
        focus=focus,
        candidates="; ".join(names) if names else "(none found: use short names as written in the text)",
        candidate_lines="\n".join(f"- {n}" for n in names) or "(none found)",
        **example_values(schema),
    )


def answer_schema(
    passage: PassageSpans, schema: RelationSchema, cfg: ExtractionConfig
) -> type[ExtractionAnswer]:
    names = tuple(passage.names()) if cfg.choose_names else ()
    return answer_model(
        tuple(schema.names),
        names,
        min_triplets=cfg.min_triplets or 0,
        max_triplets=cfg.max_answer_triplets,
    )


def index_of(passage: PassageSpans, cfg: ExtractionConfig) -> PassageIndex:
    """The passage indexed once for the rules its answer's triplets and its cues pass."""
    return PassageIndex(passage, ground_names=cfg.candidates != "off")


def validate_triplets(
    answer: ExtractionAnswer,
    task: ExtractionTask,
    schema: RelationSchema,
    cfg: ExtractionConfig,
    index: PassageIndex | None = None,
) -> tuple[list[CleanTriplet], Counter[str]]:
    """The triplets of one answer that may enter the graph, and the reasons for the others."""
    index = index or index_of(passage_of(task, cfg), cfg)
    raw = [RawTriplet(t.head, t.relation, t.tail) for t in answer.triplets[: cfg.max_triplets_per_call]]
    rules = NameRules.of(cfg.stop_concepts, cfg.max_name_words)
    kept, dropped = clean_triplets(
        raw, index, schema, rules, cfg.max_name_chars, same_sentence=cfg.same_sentence
    )
    kept, variants = one_per_statement(kept, index.sentences)
    dropped += variants
    if len(answer.triplets) > cfg.max_triplets_per_call:
        dropped["over the per-call limit"] += len(answer.triplets) - cfg.max_triplets_per_call
    return kept, dropped


def _source_chunk(t: CleanTriplet, chunks: list[Chunk]) -> Chunk:
    """The chunk that holds the triplet's evidence sentence, else the one holding both names best
    (the first of equal scores: retrieval order)."""
    holding = [c for c in chunks if t.evidence and t.evidence in c.text]
    if holding or len(chunks) == 1:
        return (holding or chunks)[0]

    def score(c: Chunk) -> float:
        return sum(fuzz.partial_ratio(n, c.text, processor=utils.default_process) for n in (t.head, t.tail))

    return max(chunks, key=score)


def candidates_of(
    task: ExtractionTask, triplets: list[CleanTriplet], cued: list[tuple[CleanTriplet, str]] | None = None
) -> list[Candidate]:
    """The unit's candidates: the LLM's triplets, then those of relation cues (with their pattern)."""
    out = []
    for t, cue in [*((t, None) for t in triplets), *(cued or [])]:
        chunk = _source_chunk(t, task.chunks)
        prov = Provenance(
            doc_id=chunk.doc_id, chunk_id=chunk.id, seed=task.seed, evidence=t.evidence or None, cue=cue
        )
        out.append(Candidate(head=t.head, relation=t.relation, tail=t.tail, provenance=[prov]))
    return out


def unit_key(task: ExtractionTask, ctx_cfg: KgcConfig, prompt_hashes: list[str]) -> str:
    """What a unit's candidates depend on: its chunks (content), the seed, the prompt templates, the
    candidate finder, the model, the stage's config and the version of its rules."""
    cfg = ctx_cfg
    payload = [
        task.key,
        task.seed,
        [(c.id, c.hash) for c in task.chunks],
        prompt_hashes,
        finder_in_use(cfg.extraction.candidates) if cfg.extraction.candidates != "off" else "off",
        cfg.section_hash("extraction", "relations"),
        cfg.llm.identity(),
        RULES_VERSION,
    ]
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


# --- the stage --------------------------------------------------------------------------------


def stage_prompts(cfg: KgcConfig) -> list[Path]:
    files = prompt_files(cfg.prompts_path(), cfg.extraction.prompt)
    if cfg.extraction.relation_check:
        files += prompt_files(cfg.prompts_path(), cfg.extraction.check_prompt)
    return files


class Call(NamedTuple):
    """One unit to pay for: its task, the messages asking it, its key, and the passage read."""

    task: ExtractionTask
    messages: list[Message]
    key: str
    passage: PassageSpans


def plan_calls(ctx: StageContext) -> tuple[list[ExtractionTask], list[str], list[Call]]:
    """The run's tasks, their unit keys, and the calls still to pay for (units not in the log yet):
    what the stage runs and what `--dry-run` counts. Candidate spans are found for those only."""
    cfg = ctx.cfg
    prompt_hashes = [hashlib.sha256(p.read_bytes()).hexdigest()[:16] for p in stage_prompts(cfg)]
    tasks = read_tasks(ctx)
    keys = [unit_key(t, cfg, prompt_hashes) for t in tasks]
    units = UnitLog(ctx.run)
    calls = []
    for task, key in zip(tasks, keys, strict=True):
        if key not in units:
            passage = passage_of(task, cfg.extraction)
            messages = build_messages(task, cfg.relations, cfg.extraction, cfg.prompts_path(), passage)
            calls.append(Call(task, messages, key, passage))
    return tasks, keys, calls


@dataclass
class _Extracted:
    call: Call
    index: PassageIndex  # the passage's mention index and grounder, built once for all its rules
    triplets: list[CleanTriplet]
    dropped: Counter[str]
    cued: list[tuple[CleanTriplet, str]] = field(default_factory=list)  # from relation cues, with the pattern
    cues: Counter[str] = field(default_factory=Counter)  # what the cues did: retyped, flipped, added, refused


def _extract(llm: StageLLM, cfg: KgcConfig, call: Call) -> _Extracted | None:
    """Pass 1: one unit's question and its valid triplets; None when the answer was never valid."""
    task, messages, _, passage = call
    answer = llm.complete(messages, answer_schema(passage, cfg.relations, cfg.extraction))
    if answer is None:
        return None
    index = index_of(passage, cfg.extraction)
    kept, dropped = validate_triplets(answer, task, cfg.relations, cfg.extraction, index)
    return _Extracted(call, index, kept, dropped)


def _check(llm: StageLLM, cfg: KgcConfig, triplet: CleanTriplet) -> CleanTriplet | bool | None:
    """Pass 2: the triplet as its sentence states it, None for "none", False when never answered."""
    messages, options = check_messages(
        triplet, cfg.relations, cfg.prompts_path(), cfg.extraction.check_prompt
    )
    answer = llm.complete(messages, check_model(tuple(options)))
    if answer is None:
        return False
    chosen = options.get(answer.answer, triplet.as_tuple()) if answer.answer != NONE else None
    if chosen is None:
        return None
    return CleanTriplet(chosen[0], chosen[1], chosen[2], triplet.evidence)


def _with_cues(e: _Extracted, cfg: ExtractionConfig, schema: RelationSchema) -> None:
    """Pass 3 (no LLM): the unit's triplets turned round where a preposition says so, retyped by the
    relation cues of its passage, those between members of one list conjoined or dropped, and the
    cues' own triplets, as `cue_retype` and `cue_add` say."""
    if not (cfg.cue_retype or cfg.cue_add):
        return
    cues = find_cues(e.index.passage)
    if cfg.cue_retype:
        e.triplets, oriented = orient(e.triplets, e.index.sentences, schema)
        e.triplets, counts = retype(e.triplets, cues, schema)
        e.triplets, conjoined, lists = conjoin(e.triplets, e.index.sentences, schema)
        e.cues.update(oriented + counts + conjoined)
        e.dropped.update(lists)
    if cfg.cue_add:
        rules = NameRules.of(cfg.stop_concepts, cfg.max_name_words)
        e.cued, counts = cue_triplets(cues, e.index, schema, rules, cfg.max_name_chars, e.triplets)
        e.cues.update(counts)


def _run(ctx: StageContext) -> StageOutcome:
    """Extract the units this run has not paid for yet; the candidates are those of the current units,
    in task order (so an updated run and a fresh build of the same corpus write the same file)."""
    cfg = ctx.cfg
    if ctx.rerun:  # every unit again: the cache answers, the current rules clean the answers
        UnitLog(ctx.run).compact([])
    tasks, keys, todo = plan_calls(ctx)
    units = UnitLog(ctx.run)
    if todo:
        llm = ctx.llm  # built only when some unit is new: a removal needs no model
        extracted = llm.map(lambda call: _extract(llm, cfg, call), todo, description="extracting triplets")
        done = [e for e in extracted if e is not None]
        if cfg.extraction.relation_check:
            # All first questions, then all checks: llama.cpp keeps the shared prefix of each kind.
            pending = [(e, t) for e in done for t in e.triplets]
            checked = llm.map(
                lambda item: _check(llm, cfg, item[1]), pending, description="checking relations"
            )
            results: dict[int, list[CleanTriplet]] = {id(e): [] for e in done}
            failed_checks: set[int] = set()
            for (e, _), c in zip(pending, checked, strict=True):
                if c is False:
                    failed_checks.add(id(e))
                elif c is None:
                    e.dropped["no relation on checking"] += 1
                elif isinstance(c, CleanTriplet):
                    results[id(e)].append(c)
            done = [e for e in done if id(e) not in failed_checks]  # retried by the next run
            for e in done:
                e.triplets = list({t.as_tuple(): t for t in results[id(e)]}.values())
        for e in done:
            _with_cues(e, cfg.extraction, cfg.relations)
            task, _, key, _ = e.call
            found = candidates_of(task, e.triplets, e.cued)
            units.add(Unit(key=key, candidates=found, dropped=dict(e.dropped), cues=dict(e.cues)))
    units.compact(keys)
    candidates: list[Candidate] = []
    dropped: Counter[str] = Counter()
    cues: Counter[str] = Counter()
    failed: list[str] = []
    for task, key in zip(tasks, keys, strict=True):
        unit = units.get(key)
        if unit is None:
            failed.append(task.key)
            continue
        candidates += unit.candidates
        dropped.update(unit.dropped)
        cues.update(unit.cues)
    # the one name rule that needs the whole corpus: common words no concept name is built from
    candidates, common = drop_common_words(candidates, cfg.extraction.common_word_zipf, english_frequency())
    dropped.update(common)
    ctx.run.write(CANDIDATES, candidates)
    report = ExtractionReport(dropped=dict(dropped), failed_tasks=failed, cues=dict(cues))
    ctx.run.write(EXTRACTION_REPORT, report)
    counts = {
        "tasks": len(tasks),
        "new_tasks": len(todo),
        "candidates": len(candidates),
        "failed_tasks": len(failed),
    }
    counts.update({f"dropped_{k.replace(' ', '_')}": v for k, v in dropped.items()})
    counts.update({f"cue_{k}": v for k, v in cues.items()})
    return StageOutcome(counts, failed=len(failed))


STAGE = Stage(
    name="extraction",
    sections=("extraction", "relations"),
    inputs=(CONTEXTS, CHUNKS),  # contexts in seed mode; document mode has no retrieval stage to write them
    outputs=(CANDIDATES, EXTRACTION_REPORT, UNITS),
    run=_run,
    uses_llm=True,
    prompts=stage_prompts,
    version=RULES_VERSION,
)
