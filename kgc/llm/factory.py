"""The LLM backends, each registered once: its name (`llm.backend`), how it is built, and the defaults
it brings to the config (the extraction prompt of `extraction.prompt = "auto"`, whether fusion asks
it about uncertain name pairs). Heavy backends are imported only when chosen."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kgc.config import KgcConfig, LLMConfig
from kgc.errors import ConfigError
from kgc.llm.base import ChatBackend


@dataclass(frozen=True)
class Backend:
    name: str
    build: Callable[[LLMConfig, str | None], ChatBackend]  # (config, API key) -> backend
    extraction_prompt: str  # the template `extraction.prompt = "auto"` means with this backend
    llm_band: bool  # `resolve.llm_band` when the config leaves it unset
    # extraction.choose_names / min_triplets / relation_check when the config leaves them unset
    choose_names: bool = False
    min_triplets: int = 0
    relation_check: bool = False
    max_answer_triplets: int | None = None
    # extraction.cue_retype / cue_add when the config leaves them unset
    cue_retype: bool = False
    cue_add: bool = False


def _openai(cfg: LLMConfig, api_key: str | None) -> ChatBackend:
    from kgc.llm.openai_backend import OpenAIBackend

    return OpenAIBackend(cfg, api_key)


def _embedded(cfg: LLMConfig, api_key: str | None) -> ChatBackend:
    # llama.cpp and the model files load only here, so the openai path never needs them.
    from kgc.llm.embedded import EmbeddedBackend

    return EmbeddedBackend(cfg)


BACKENDS: dict[str, Backend] = {
    b.name: b
    for b in (
        # The 1.5B embedded model returned empty answers for 8 of 10 demo seeds with the full prompt;
        # the compact one (instructions and example as a fixed system message, then the text alone)
        # got triplets from all four seeds tried. In the demo it answered "same" in both rounds for all
        # 6 name pairs of the band it was shown, every one wrong (GloVe / word embedding, LSTM / RNN):
        # unless asked for, it decides no merge.
        # Its grammar lets it choose among the passage's candidate names, and without minItems it closed
        # the list at once for 32 of 40 SciERC abstracts (issue 19). With minItems it went on listing
        # pairs to the token limit (maxItems bounds it), and with the candidate names as the grammar's
        # only heads and tails each token cost 6x the CPU (430 vs 71 CPU s for 400 tokens) while the
        # model walked the list in order: names are grounded after the answer instead. The relation
        # check doubled its time and answered mostly its first option (108 of 109 SciERC relations
        # USED-FOR, 46 of 62 demo relations Compare; pairs F1 .018 with it, .026 without): off.
        Backend(
            "embedded",
            _embedded,
            extraction_prompt="extraction_compact.md",
            llm_band=False,
            choose_names=False,
            min_triplets=1,
            max_answer_triplets=10,
            cue_retype=True,
            cue_add=True,
        ),
        Backend("openai", _openai, extraction_prompt="extraction.md", llm_band=True),
    )
}


def backend(name: str) -> Backend:
    """The registered backend called `name`; ConfigError listing the valid ones otherwise."""
    if name not in BACKENDS:
        raise ConfigError(f"unknown llm.backend {name!r}; valid: {', '.join(BACKENDS)}")
    return BACKENDS[name]


def make_backend(cfg: LLMConfig, api_key: str | None) -> ChatBackend:
    """The backend `cfg.backend` names, built."""
    return backend(cfg.backend).build(cfg, api_key)


def with_backend_defaults(cfg: KgcConfig) -> KgcConfig:
    """`cfg` with what it leaves to the LLM backend decided: the extraction prompt ('auto'), how names
    are chosen and relations checked (None), and the name-pair band (None). What a run records and
    keys its stages by."""
    chosen = backend(cfg.llm.backend)
    update: dict[str, Any] = {}
    extraction: dict[str, Any] = {}
    if cfg.extraction.prompt == "auto":
        extraction["prompt"] = chosen.extraction_prompt
    for key in (
        "choose_names",
        "min_triplets",
        "relation_check",
        "max_answer_triplets",
        "cue_retype",
        "cue_add",
    ):
        if getattr(cfg.extraction, key) is None:
            extraction[key] = getattr(chosen, key)
    if extraction:
        update["extraction"] = cfg.extraction.model_copy(update=extraction)
    if cfg.resolve.llm_band is None:
        update["resolve"] = cfg.resolve.model_copy(update={"llm_band": chosen.llm_band})
    return cfg.model_copy(update=update) if update else cfg
