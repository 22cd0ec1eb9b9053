"""`--dry-run`: what a run would ask of the LLM, before anything is spent.

It runs the stages that cost no LLM call (their artifacts are re-used by the real run), then builds
the extraction calls with the same task builder the real run uses, renders every prompt and counts.
The relation check (extraction.relation_check) asks at most one question per triplet an answer may
keep (extraction.max_answer_triplets, else max_triplets_per_call). Fusion is bounded by its
neighbourhood limit, the link stage's LLM band (link.llm) by the names it may ask about (two rounds of
link.max_llm_names, link.llm_names_per_call names a call).
"""

from __future__ import annotations

from pydantic import BaseModel

from kgc.config import KgcConfig
from kgc.extraction.checking import check_messages
from kgc.extraction.triplets import CleanTriplet
from kgc.llm.client import LLMClient
from kgc.pipeline import Pipeline
from kgc.stages import extraction

FUSION_PROMPT_TOKENS = 1500  # the fusion template's size bound: its lists are cut by the fusion config
LINK_PROMPT_TOKENS_PER_NAME = 250  # a name, its context (160 chars) and 8 options of up to 120 chars
CHECK_SENTENCE_CHARS = 400  # a long sentence of an abstract: the check prompt's one variable part


class Estimate(BaseModel):
    extraction_requests: int
    extraction_prompt_tokens: int
    extraction_max_output_tokens: int
    relation_check_max_requests: int
    relation_check_max_tokens: int
    fusion_max_requests: int
    fusion_max_tokens: int
    link_max_requests: int
    link_max_tokens: int
    total_max_tokens: int
    max_cost: float | None  # None when the model has no price in llm.budget.prices


def estimate(pipeline: Pipeline) -> Estimate:
    cfg = pipeline.cfg
    names = pipeline.stage_names()
    before_llm = names[names.index(extraction.STAGE.name) - 1]
    pipeline.run_until(before_llm)
    # Only the calls the run has not paid for: on an updated corpus, what the update costs.
    _, _, calls = extraction.plan_calls(pipeline.context(extraction.STAGE))
    prompt_tokens = sum(LLMClient.estimate_tokens(call.messages) for call in calls)
    out_tokens = len(calls) * cfg.llm.max_output_tokens
    check_requests, check_in = 0, 0
    if cfg.extraction.relation_check:
        per_answer = cfg.extraction.max_answer_triplets or cfg.extraction.max_triplets_per_call
        check_requests = len(calls) * per_answer
        check_in = check_requests * _check_prompt_tokens(cfg)
    check_out = check_requests * cfg.llm.max_output_tokens
    fusion_requests = (
        cfg.fusion.max_neighbourhoods if (cfg.fusion.resolve_with_llm or cfg.fusion.infer_links) else 0
    )
    fusion_in = fusion_requests * FUSION_PROMPT_TOKENS
    fusion_out = fusion_requests * cfg.llm.max_output_tokens
    link_requests, link_in = 0, 0
    if cfg.link.vocabulary is not None and cfg.link.llm:
        per_call = cfg.link.llm_names_per_call
        link_requests = 2 * -(-cfg.link.max_llm_names // per_call)  # two rounds, shuffled
        link_in = 2 * cfg.link.max_llm_names * LINK_PROMPT_TOKENS_PER_NAME
    link_out = link_requests * cfg.llm.max_output_tokens
    price = cfg.llm.budget.prices.get(cfg.llm.model)
    cost = None
    if price is not None:
        tokens_in = prompt_tokens + check_in + fusion_in + link_in
        tokens_out = out_tokens + check_out + fusion_out + link_out
        cost = round((tokens_in * price[0] + tokens_out * price[1]) / 1e6, 4)
    return Estimate(
        extraction_requests=len(calls),
        extraction_prompt_tokens=prompt_tokens,
        extraction_max_output_tokens=out_tokens,
        relation_check_max_requests=check_requests,
        relation_check_max_tokens=check_in + check_out,
        fusion_max_requests=fusion_requests,
        fusion_max_tokens=fusion_in + fusion_out,
        link_max_requests=link_requests,
        link_max_tokens=link_in + link_out,
        total_max_tokens=prompt_tokens
        + out_tokens
        + check_in
        + check_out
        + fusion_in
        + fusion_out
        + link_in
        + link_out,
        max_cost=cost,
    )


def _check_prompt_tokens(cfg: KgcConfig) -> int:
    """One relation check's prompt, rendered for a sentence of CHECK_SENTENCE_CHARS."""
    triplet = CleanTriplet("head concept", "", "tail concept", "x" * CHECK_SENTENCE_CHARS)
    messages, _ = check_messages(triplet, cfg.relations, cfg.prompts_path(), cfg.extraction.check_prompt)
    return LLMClient.estimate_tokens(messages)
