"""`--dry-run`: what a run would ask of the LLM, before anything is spent.

It runs the stages that cost no LLM call (corpus, seeds, retrieval; their artifacts are re-used by the
real run), renders every extraction prompt and counts. Fusion is bounded by its neighbourhood limit.
"""

from __future__ import annotations

from pydantic import BaseModel

from kgc.llm.client import LLMClient
from kgc.pipeline import Pipeline
from kgc.stages.extraction import build_messages, chunk_tasks, seed_tasks


class Estimate(BaseModel):
    extraction_requests: int
    extraction_prompt_tokens: int
    extraction_max_output_tokens: int
    fusion_max_requests: int
    fusion_max_tokens: int
    total_max_tokens: int
    max_cost: float | None  # None when the model has no price in llm.prices


def estimate(pipeline: Pipeline) -> Estimate:
    cfg = pipeline.cfg
    before_llm = "retrieval" if cfg.extraction.mode == "seed" else "corpus"
    pipeline.run_until(before_llm)
    chunks = pipeline.chunks()
    tasks = seed_tasks(pipeline.contexts(), chunks) if cfg.extraction.mode == "seed" else chunk_tasks(chunks)
    prompt_tokens = sum(
        LLMClient.estimate_tokens(
            build_messages(t, cfg.relations, cfg.extraction, cfg.prompts_dir, cfg.retrieval.max_chars)
        )
        for t in tasks
    )
    out_tokens = len(tasks) * cfg.llm.max_output_tokens
    fusion_requests = (
        cfg.fusion.max_neighbourhoods if (cfg.fusion.resolve_with_llm or cfg.fusion.infer_links) else 0
    )
    fusion_tokens = fusion_requests * (
        1500 + cfg.llm.max_output_tokens
    )  # prompt size is bounded by the template
    price = cfg.llm.prices.get(cfg.llm.model)
    cost = None
    if price is not None:
        fusion_in = fusion_requests * 1500
        cost = round(
            (
                (prompt_tokens + fusion_in) * price[0]
                + (out_tokens + fusion_requests * cfg.llm.max_output_tokens) * price[1]
            )
            / 1e6,
            4,
        )
    return Estimate(
        extraction_requests=len(tasks),
        extraction_prompt_tokens=prompt_tokens,
        extraction_max_output_tokens=out_tokens,
        fusion_max_requests=fusion_requests,
        fusion_max_tokens=fusion_tokens,
        total_max_tokens=prompt_tokens + out_tokens + fusion_tokens,
        max_cost=cost,
    )
