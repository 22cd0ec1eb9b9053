"""The fusion stage: all candidates of the run in, the fused graph and its explanations out."""

from __future__ import annotations

from typing import Any

from kgc.config import KgcConfig
from kgc.export.graph_files import GRAPH_FILES, write_graph
from kgc.prompts import prompt_files
from kgc.rundir import write_jsonl
from kgc.stages.base import Stage, StageContext, StageOutcome
from kgc.stages.fusion import Embed, fuse, load_background


def _uses_llm(cfg: KgcConfig) -> bool:
    return cfg.fusion.resolve_with_llm or cfg.fusion.infer_links


def _run(ctx: StageContext) -> StageOutcome:
    cfg = ctx.cfg
    embed: Embed | None = None
    if cfg.fusion.embedding_merge:
        from kgc.embeddings import embed as embed_texts

        def embed(names: list[str]) -> Any:
            return embed_texts(names, model=cfg.embedding.model)

    result = fuse(
        ctx.run.candidates(),
        cfg.relations,
        cfg.fusion,
        llm=ctx.llm if _uses_llm(cfg) else None,
        prompts_dir=cfg.prompts_path(),
        embed=embed,
        background=load_background(cfg.fusion.background_graph),
    )
    write_graph(result.graph, ctx.run.path)
    write_jsonl(ctx.run / "merges.jsonl", result.graph.merges)
    return StageOutcome(
        [*GRAPH_FILES, "merges.jsonl"], dict(result.counts), failed=result.counts.get("failed_calls", 0)
    )


STAGE = Stage(
    name="fusion",
    sections=("fusion", "relations", "embedding"),
    inputs=lambda cfg: ["candidates.jsonl"],
    run=_run,
    uses_llm=True,
    prompts=lambda cfg: prompt_files(cfg.prompts_path(), cfg.fusion.prompt) if _uses_llm(cfg) else [],
)
