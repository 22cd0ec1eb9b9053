"""The fusion stage: all candidates of the run in, the fused graph and its explanations out.

Writes graph.json/graph.graphml, merges.jsonl (every alias: how and why it joined its entity),
rejected_pairs.jsonl (pairs vetoed, left in the LLM band, rejected by the LLM or refused by the
clustering) and clusters.jsonl (each entity of several names: why it is shown under its name, its
weakest link); `kgc explain`
and the view read them.
"""

from __future__ import annotations

from pathlib import Path

from kgc.artifacts import (
    CANDIDATES,
    CLUSTERS,
    DOCUMENTS,
    ENTITIES,
    GRAPH,
    GRAPHML,
    MERGES,
    REJECTED_PAIRS,
    RELATIONS,
)
from kgc.config import EMBEDDING_KEYS, KgcConfig
from kgc.embeddings import StoredEmbedder, VectorStore
from kgc.export.graph_files import write_graph
from kgc.models import ClusterSummary
from kgc.prompts import prompt_files
from kgc.rundir import RunDir
from kgc.stages.base import Stage, StageContext, StageOutcome
from kgc.stages.fusion import Embed, FusionResult, fuse, load_background


def _uses_llm(cfg: KgcConfig) -> bool:
    return cfg.fusion.resolve_with_llm or cfg.fusion.infer_links or cfg.resolve.llm_band is not False


def _run(ctx: StageContext) -> StageOutcome:
    if not ctx.cfg.resolve.embedding_merge:
        return _fuse(ctx, embed=None)
    # Names (with their context) embedded by an earlier fusion of this run are not embedded again.
    with VectorStore.open(ctx.run.path, "names", ctx.embedder.key) as store:
        names = StoredEmbedder(ctx.embedder, store, label="fusion", noun="names")
        outcome = _fuse(ctx, embed=names.encode)
        store.keep_only(names.seen)
    return outcome


def _fuse(ctx: StageContext, embed: Embed | None) -> StageOutcome:
    cfg = ctx.cfg
    texts = {d.id: d.text for d in ctx.run.read(DOCUMENTS)} if cfg.fusion.mine_definitions else None
    result = fuse(
        ctx.run.read(CANDIDATES),
        cfg.relations,
        cfg.fusion,
        cfg.resolve,
        llm=ctx.llm if _uses_llm(cfg) else None,
        prompts_dir=cfg.prompts_path(),
        embed=embed,
        background=load_background(cfg.fusion.background_graph),
        texts=texts,
    )
    write_graph(result.graph, ctx.run.path)
    write_explanations(result, ctx.run)
    return StageOutcome(dict(result.counts), failed=result.counts.get("failed_calls", 0))


def write_explanations(result: FusionResult, run: RunDir) -> None:
    """merges.jsonl, rejected_pairs.jsonl and clusters.jsonl: what `kgc explain` and the view read."""
    run.write(MERGES, result.graph.merges)
    run.write(REJECTED_PAIRS, result.rejected)
    clusters = [
        ClusterSummary(
            id=c.id,
            canonical=c.canonical,
            canonical_reason=c.canonical_reason,
            names=len(c.nodes),
            weakest=c.weakest,
            weakest_pair=c.weakest_pair,
        )
        for c in result.clusters.values()
        if len(set(c.surfaces)) > 1
    ]
    run.write(CLUSTERS, clusters)


def _prompts(cfg: KgcConfig) -> list[Path]:
    files = (
        prompt_files(cfg.prompts_path(), cfg.fusion.prompt)
        if cfg.fusion.resolve_with_llm or cfg.fusion.infer_links
        else []
    )
    if cfg.resolve.llm_band is not False:
        files += prompt_files(cfg.prompts_path(), cfg.resolve.prompt)
    return files


STAGE = Stage(
    name="fusion",
    sections=("fusion", "resolve", "relations", *EMBEDDING_KEYS),
    inputs=(CANDIDATES, DOCUMENTS),  # documents: the definitions fusion.mine_definitions reads
    outputs=(GRAPH, GRAPHML, ENTITIES, RELATIONS, MERGES, REJECTED_PAIRS, CLUSTERS),
    run=_run,
    files=("fusion.background_graph",),
    uses_llm=True,
    prompts=_prompts,
)
