"""Stage 'link', after fusion: each entity of the graph tied to the user's vocabulary (kgc.link).

Runs when `link.vocabulary` is set. Writes links.jsonl (every entity's decision with its candidates),
links.sssom.tsv, and the linked graph (graph.linked.json / .graphml): entities annotated with
`vocab_id`, `vocab_label`, `vocab_match`, `vocab_score`, and with `link.mode` 'canonicalise' or
'restrict' renamed and merged per concept or cut to the linked entities (kgc.link.graph). Exports,
the view, the report and `kgc eval` read the linked graph when there is one (kgc.export.graph_files).

The vocabulary file's content is in the stage key (`files`). Incremental: each decision carries a key
of what it depends on (the entity's names and documents, the [link] settings, the vocabulary's
content); an update re-links only entities whose key is new, and re-uses the others' decisions.
"""

from __future__ import annotations

import hashlib
import json
from contextlib import ExitStack
from pathlib import Path

from kgc.artifacts import DOCUMENTS, GRAPH, LINKED_GRAPH, LINKED_GRAPHML, LINKS, LINKS_SSSOM
from kgc.config import KgcConfig
from kgc.export.graph_files import graphml_text
from kgc.link.dense import stored_embed
from kgc.link.entities import link_graph
from kgc.link.graph import apply_links
from kgc.link.index import build_index
from kgc.link.linker import LinkResult
from kgc.link.llm_band import llm_chooser
from kgc.link.vocabulary import load_vocabulary
from kgc.models import Entity, KnowledgeGraph, NameLink
from kgc.prompts import prompt_files
from kgc.stages.base import Stage, StageContext, StageOutcome


def decision_key(entity: Entity, settings: str) -> str:
    """What an entity's link depends on: its names and documents, and the stage's settings."""
    names = json.dumps([entity.name, sorted(entity.aliases), sorted(entity.sources)], ensure_ascii=False)
    return hashlib.sha256(f"{settings}\n{names}".encode()).hexdigest()[:16]


def annotate(graph: KnowledgeGraph, links: list[NameLink]) -> KnowledgeGraph:
    """The graph with each linked entity's vocab_* properties set."""
    by_entity = {x.entity: x for x in links if x.entity}
    entities = []
    for e in graph.entities:
        x = by_entity.get(e.id)
        update = {"vocab_match": x.match, "vocab_score": x.score} if x is not None else {}
        if x is not None and x.linked:
            update |= {"vocab_id": x.id, "vocab_label": x.label}
        entities.append(e.model_copy(update=update))
    return graph.model_copy(update={"entities": entities})


def _run(ctx: StageContext) -> StageOutcome:
    cfg = ctx.cfg.link
    assert cfg.vocabulary is not None  # the stage is enabled only then
    vocab = load_vocabulary(cfg.vocabulary)
    graph = ctx.run.read(GRAPH)
    decided_by = cfg.model_dump(mode="json", exclude={"mode"})  # the mode only shapes the linked graph
    if cfg.dense:
        decided_by["embedder"] = ctx.embedder.key  # reading the key loads no model
    if cfg.llm:
        decided_by["llm"] = ctx.cfg.llm.model_dump(mode="json", include={"backend", "model", "temperature"})
    settings = f"{json.dumps(decided_by, sort_keys=True)}|{vocab.sha256}"
    keys = {e.id: decision_key(e, settings) for e in graph.entities}
    before = {x.key: x for x in ctx.run.read_optional(LINKS) or [] if x.key}
    todo = [e for e in graph.entities if keys[e.id] not in before]
    links: dict[str, NameLink] = {
        e.id: before[keys[e.id]].model_copy(update={"entity": e.id})
        for e in graph.entities
        if keys[e.id] in before
    }
    if todo:
        judge = llm_chooser(ctx.llm, ctx.cfg.prompts_path(), cfg.prompt) if cfg.llm else None
        texts = {d.id: d.text for d in ctx.run.read_optional(DOCUMENTS) or []}
        with ExitStack() as stack:
            # the dense band's vectors (labels and names) are kept in the run's vector store
            embed = stack.enter_context(stored_embed(ctx.embedder, ctx.run.path)) if cfg.dense else None
            fresh = link_graph(
                graph.model_copy(update={"entities": todo}),
                build_index(vocab, cfg.max_df),
                cfg,
                texts=texts,
                embed=embed,
                judge=judge,
            )
        links |= {x.entity: x.model_copy(update={"key": keys[x.entity]}) for x in fresh.links if x.entity}
    ordered = [links[e.id] for e in graph.entities]
    linked = apply_links(annotate(graph, ordered), ordered, cfg.mode)
    ctx.run.write(LINKS, ordered)
    ctx.run.write(LINKS_SSSOM, LinkResult(ordered, vocab).to_sssom())
    ctx.run.write(LINKED_GRAPH, linked)
    ctx.run.write(LINKED_GRAPHML, graphml_text(linked))
    counts = {"entities": len(ordered), "relinked": len(todo), "reused": len(ordered) - len(todo)}
    for x in ordered:
        counts[x.match] = counts.get(x.match, 0) + 1
    counts["suspect_merges"] = sum("suspect merge" in x.reason for x in ordered)
    counts["linked_graph_entities"] = len(linked.entities)
    return StageOutcome(counts=counts)


def _prompts(cfg: KgcConfig) -> list[Path]:
    return prompt_files(cfg.prompts_path(), cfg.link.prompt) if cfg.link.llm else []


STAGE = Stage(
    name="link",
    sections=("link", "embedding"),  # embedding: the dense band's model
    inputs=(GRAPH, DOCUMENTS),  # documents: the acronym definitions they give
    outputs=(LINKS, LINKS_SSSOM, LINKED_GRAPH, LINKED_GRAPHML),
    run=_run,
    uses_llm=True,  # only with link.llm; the LLM's identity is in the key either way, as for fusion
    prompts=_prompts,
    files=("link.vocabulary",),
    enabled=lambda cfg: cfg.link.vocabulary is not None,
)
