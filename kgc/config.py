"""One root configuration with a sub-model per stage; defaults are declared here and nowhere else.

Precedence: defaults < TOML file (`--config kgc.toml`) < environment (`KGC_LLM__MODEL=...`) < CLI flags.
Secrets (API keys) come only from the environment and are never serialised.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from kgc.errors import ConfigError
from kgc.resources import prompts_dir as bundled_prompts_dir
from kgc.schema import RelationSchema


def kgc_home() -> Path:
    """User state (model files, shared caches): $KGC_HOME, else ~/.cache/kgc."""
    return Path(os.environ.get("KGC_HOME", Path.home() / ".cache" / "kgc"))


class Section(BaseModel):
    """A config section: an unknown key is an error (a typo must not silently keep a default)."""

    model_config = ConfigDict(extra="forbid")


class CorpusConfig(Section):
    format: Literal["auto", "folder", "jsonl", "csv", "lines"] = "auto"
    id_field: str = "id"
    text_field: str = "text"
    chunk_chars: int = Field(4000, ge=200, description="documents longer than this are chunked")
    chunk_overlap: int = Field(200, ge=0)


class EmbeddingConfig(Section):
    """The sentence embedding model, shared by the stages that embed (seeds, fusion): both name this
    section in their keys, so changing the model re-runs both."""

    model: str = Field(
        "minilm",
        description="'minilm' (bundled all-MiniLM-L6-v2), 'mpnet' (all-mpnet-base-v2, Graphusion's) "
        "or a local sentence-transformers folder",
    )
    backend: Literal["auto", "torch", "onnx"] = Field(
        "auto",
        description="'torch' (sentence-transformers), 'onnx' (ONNX Runtime, needs kgc[onnx]), "
        "'auto': onnx where a GPU is there for it, else torch",
    )
    quantize: bool = Field(False, description="onnx on CPU: int8 weights (faster, vectors less exact)")


class SeedsConfig(Section):
    nr_topics: int | None = Field(
        None, description="reduce to this many topics; None keeps BERTopic's choice"
    )
    keywords_per_topic: int = 10
    ngram_range: tuple[int, int] = (1, 3)
    min_phrase_docs: int = Field(
        2,
        description="a keyphrase must occur in this many documents (1: any phrase; lowered to 1 when no phrase does)",
    )
    min_topic_size: int = 10
    max_seeds: int = Field(500, description="topics take turns, best keyphrase first, until this many")
    user_seeds: list[str] = Field(default_factory=list)
    user_seeds_only: bool = False
    random_state: int = 42
    keep_on_update: bool = Field(
        True,
        description="on a changed corpus keep the seeds (new ones only for text they do not cover), so "
        "unchanged text is not extracted again; false (or `kgc build --refit-seeds`): fit them anew",
    )


class RetrievalConfig(Section):
    min_score: float = Field(70.0, description="rapidfuzz partial_ratio threshold (Graphusion: 70)")
    max_chars: int = Field(10_000, description="character budget of the context given for one seed")
    max_chunks: int = 20


class ExtractionConfig(Section):
    mode: Literal["seed", "document"] = Field(
        "seed", description="'seed': one call per seed with its retrieved chunks; 'document': one per chunk"
    )
    max_chars: int = Field(10_000, description="characters of text given to one extraction call")
    seed_batch_chunks: int = Field(
        0,
        ge=0,
        description="seed mode: read a seed's retrieved chunks in batches of about this many, cut by "
        "content, so a corpus update re-reads only the batches new text enters (more, smaller calls); "
        "0: one call per seed",
    )
    prompt: str = Field(
        "auto",
        description="template in prompts/; 'auto': extraction_compact.md for the embedded model, "
        "extraction.md (relation definitions, seed focus) for servers",
    )
    max_name_chars: int = 80
    max_triplets_per_call: int = 40


class ResolveConfig(Section):
    """Entity resolution (kgc.resolve): what `kgc resolve` uses and fusion inherits."""

    merge_threshold: float = Field(
        0.92, description="string similarity (rapidfuzz ratio of name keys, 0-1) from which two names merge"
    )
    band_threshold: float = Field(
        0.85, description="string similarity from which a pair goes to the LLM band instead of being rejected"
    )
    min_fuzzy_chars: int = Field(
        5, description="names shorter than this never merge by string similarity alone"
    )
    real_word_names: int = Field(
        3, description="a word in this many names is a real word: a close spelling of it is not a typo"
    )
    lsh_bands: int = Field(20, description="MinHash-LSH bands over character 3-grams")
    lsh_rows: int = Field(
        3,
        description="MinHash rows per band (20 x 3 finds a pair of 3-gram Jaccard 0.5 93% of the time, 0.2 15%)",
    )
    max_bucket: int = Field(200, description="LSH buckets with more names than this are skipped (counted)")
    embedding_merge: bool = Field(
        True,
        description="embedding nearest neighbours of name + context as candidates (needs the embedding model)",
    )
    embedding_neighbours: int = Field(5, description="nearest neighbours per name")
    embedding_band_threshold: float = Field(
        0.85, description="cosine from which a neighbour goes to the LLM band"
    )
    embedding_band_min_string: float = Field(
        0.6,
        description="string similarity an embedding neighbour needs as well to reach the LLM band: names "
        "read in one sentence embed alike with their context ('GloVe' / 'word embedding')",
    )
    embedding_threshold: float = Field(
        0.9, description="cosine that, with string similarity in the band and no word differing, merges"
    )
    embedding_context_chars: int = Field(100, description="characters of context embedded with the name")
    llm_band: bool = Field(
        True,
        description="ask the LLM about pairs in the band (else they stay apart, counted); off by default "
        "with the embedded 1.5B model, which calls related concepts the same",
    )
    llm_pairs_per_call: int = Field(5, ge=1, description="pairs per LLM call")
    llm_rounds: int = Field(
        2, ge=1, description="rounds with reordered pairs; a pair merges only when all agree"
    )
    llm_context_chars: int = Field(160, description="characters of context shown with each name")
    max_llm_pairs: int = Field(
        2000, description="band pairs asked at most (best scores first); the rest stay apart"
    )
    resolve_prompt: str = Field("resolve.md", description="template of the band's question")


class FusionConfig(ResolveConfig):
    resolve_with_llm: bool = True
    infer_links: bool = True
    max_neighbourhoods: int = Field(200, description="at most this many entities get a fusion LLM call")
    min_degree_for_inference: int = 2
    inferred_confidence: float = 0.3
    max_evidence: int = Field(3, description="evidence sentences kept per relation")
    max_neighbours: int = Field(15, description="neighbours shown in one neighbourhood call")
    max_known_edges: int = Field(30, description="known relations shown in one neighbourhood call")
    max_background_lines: int = Field(
        20, description="background-graph edges shown in one neighbourhood call"
    )
    max_new_relations: int = Field(5, description="new relations taken from one neighbourhood call")
    mine_definitions: bool = Field(
        True, description="read acronym definitions ('long form (LF)') from the documents for resolution"
    )
    background_graph: Path | None = Field(
        None, description="TSV of head<TAB>relation<TAB>tail known edges given to fusion as background"
    )
    prompt: str = "fusion.md"


class LinkConfig(Section):
    """Entity linking to the user's vocabulary (kgc.link): `kgc link`, `kgc resolve --against`, the
    reconciliation service and the `link` stage after fusion."""

    vocabulary: Path | None = Field(
        None,
        description="the vocabulary file (CSV/TSV with id and label columns, JSONL, SKOS or OWL, OBO, "
        "SSSOM); None: no linking stage",
    )
    mode: Literal["annotate", "canonicalise", "restrict"] = Field(
        "annotate",
        description="'annotate': add vocab_id, vocab_label, match and score to entities; 'canonicalise': "
        "also rename linked entities to the preferred label and merge two linked to one concept; "
        "'restrict': keep only linked entities and their relations (Graphusion's concept graph)",
    )
    top_k: int = Field(30, ge=1, description="character 3-gram TF-IDF candidates kept per name")
    max_df: float = Field(
        0.05, gt=0, le=1, description="3-grams found in more than this share of the labels are ignored"
    )
    auto_threshold: float = Field(
        0.92,
        description="string similarity (rapidfuzz ratio of name keys, 0-1) from which a fuzzy candidate "
        "links exactMatch when nothing vetoes it and no other candidate is as close",
    )
    nil_threshold: float = Field(
        0.75, description="below this similarity the best candidate is not even uncertain: the name is NIL"
    )
    tie_margin: float = Field(
        0.02, description="two candidates closer than this are a tie: no link, flagged ambiguous"
    )
    min_acronym_letters: int = Field(
        3,
        description="an acronym read out of a label alone (no definition in the documents) links only "
        "from this many letters ('NER' yes, 'MT' no: two letters fit too many labels)",
    )
    use_definitions: bool = Field(
        True, description="read acronym definitions ('long form (LF)') from the documents"
    )
    dense: bool = Field(
        False,
        description="re-rank candidates with the embedding model (name + context vs label + definition)",
    )
    llm: bool = Field(False, description="ask the LLM to choose among the candidates of uncertain names")
    llm_candidates: int = Field(8, ge=2, le=8, description="candidates shown in one multiple-choice question")
    llm_names_per_call: int = Field(4, ge=1, description="names asked about in one LLM call")
    max_llm_names: int = Field(500, ge=0, description="uncertain names asked at most (most similar first)")
    prompt: str = Field("link.md", description="template of the multiple-choice question")


class Neo4jConfig(Section):
    """`kgc export neo4j`: how the graph is written (the connection comes from NEO4J_* variables)."""

    label: str = Field("Entity", description="node label of the entities")
    # bench/results/neo4j_export.md: the server's CPU per row is flat from 2,000 to 10,000 rows a
    # transaction; smaller batches pay per-commit costs, larger ones hold more transaction state.
    batch_size: int = Field(5000, ge=1, description="rows per transaction")
    writers: int = Field(2, ge=1, description="parallel write sessions (relationships never share a node)")


class LLMConfig(Section):
    backend: Literal["embedded", "openai"] = Field(
        "embedded",
        description="'embedded': llama.cpp in-process (offline); 'openai': any OpenAI-compatible server",
    )
    model: str = "qwen2.5-coder-1.5b-instruct-q4_k_m"
    base_url: str | None = Field(None, description="defaults to $OPENAI_BASE_URL")
    response_format: Literal["auto", "json_schema", "json_object", "none"] = "auto"
    temperature: float = 0.0
    max_output_tokens: int = 1024
    timeout: float = Field(120.0, description="seconds per request; the embedded model can stall ~30 s")
    max_retries: int = Field(
        6,
        description="retries of a request that met a transient error (HTTP 429/5xx, timeout, dropped "
        "connection), with backoff; a dead server is stopped sooner by the circuit breaker",
    )
    max_invalid_retries: int = Field(
        3,
        description="corrective re-asks when the answer is not schema-valid JSON (or JSON cut short "
        "although the server said it had finished)",
    )
    concurrency: int = Field(4, ge=1)
    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    max_tokens_total: int | None = Field(None, description="budget: stop cleanly after this many tokens")
    max_cost: float | None = Field(None, description="budget in the price table's currency")
    deadline_seconds: float | None = Field(
        None,
        gt=0,
        description="budget of time in seconds from the start of the run: after it no LLM request starts "
        "and the run stops cleanly (resumable); a request already sent may take up to `timeout` longer",
    )
    prices: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="model -> (input, output) price per 1M tokens"
    )
    circuit_breaker_failures: int = Field(
        19,
        ge=1,
        description="server failures (connection errors, timeouts, HTTP 5xx; not 429) among the last "
        "circuit_breaker_window requests that stop the run: a server that is down or fails nearly "
        "everything (a 50%-flaky one does not)",
    )
    circuit_breaker_window: int = Field(
        20, ge=1, description="the requests circuit_breaker_failures counts over"
    )
    circuit_breaker_seconds: float | None = Field(
        None,
        gt=0,
        description="seconds of waiting on the server without one successful answer (and two failed "
        "requests) that stop the run: a hung server. Backoff between retries is not waiting. "
        "None: llm.timeout, so a hung server stops the run within about two timeouts",
    )
    cache: bool = True
    executor: Literal["local", "ray"] = Field(
        "local",
        description="where requests run: 'local' (threads of this process) or 'ray' (tasks on a Ray "
        "cluster; cache, limits, budgets and retries stay in this process, see kgc.llm.executors)",
    )
    ray_address: str | None = Field(
        None,
        description="executor 'ray': the cluster to join ('auto', 'host:6379', 'ray://host:10001'); "
        "None: $RAY_ADDRESS, else the one `ray start` started on this node, else a new local one",
    )
    ray_cpus_per_call: float = Field(
        0.25, gt=0, description="executor 'ray': CPUs a request task reserves (an HTTP call mostly waits)"
    )
    model_path: Path | None = Field(
        None, description="embedded: a GGUF file; default assembles the bundled one"
    )
    n_ctx: int = 8192

    @model_validator(mode="before")
    @classmethod
    def _no_key_in_config(cls, data: Any) -> Any:
        if isinstance(data, dict) and "api_key" in data:
            raise ValueError(
                "llm.api_key is not read from config files or KGC_LLM__API_KEY: a key there ends up in "
                "shell history, dotfiles and commits. Set OPENAI_API_KEY in the environment instead"
            )
        return data


class KgcConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KGC_", env_nested_delimiter="__", extra="forbid")

    corpus: CorpusConfig = Field(default_factory=CorpusConfig)
    embedding: EmbeddingConfig = Field(default_factory=EmbeddingConfig)
    seeds: SeedsConfig = Field(default_factory=SeedsConfig)
    retrieval: RetrievalConfig = Field(default_factory=RetrievalConfig)
    extraction: ExtractionConfig = Field(default_factory=ExtractionConfig)
    fusion: FusionConfig = Field(default_factory=FusionConfig)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    link: LinkConfig = Field(default_factory=LinkConfig)
    neo4j: Neo4jConfig = Field(default_factory=Neo4jConfig)
    relations: RelationSchema = Field(default_factory=RelationSchema)
    prompts_dir: Path | None = Field(
        None, description="a folder with your own prompt templates; None: the bundled ones"
    )

    toml_file: ClassVar[Path | None] = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if cls.toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls.toml_file))
        return tuple(sources)

    @model_validator(mode="after")
    def _choose_extraction_prompt(self) -> KgcConfig:
        # The 1.5B embedded model returned empty answers for 8 of 10 demo seeds with the full prompt;
        # the compact one (instructions and example as a fixed system message, then the text alone)
        # got triplets from all four seeds tried.
        if self.extraction.prompt == "auto":
            compact = self.llm.backend == "embedded"
            self.extraction.prompt = "extraction_compact.md" if compact else "extraction.md"
        # In the demo the 1.5B model answered "same" in both rounds for all 6 band pairs it was shown,
        # every one wrong (GloVe / word embedding, LSTM / RNN): unless asked for, it decides no merge.
        if self.llm.backend == "embedded" and "llm_band" not in self.fusion.model_fields_set:
            self.fusion.llm_band = False
        return self

    def prompts_path(self) -> Path:
        """Where the prompt templates are read from: `prompts_dir`, else the bundled templates."""
        return self.prompts_dir if self.prompts_dir is not None else bundled_prompts_dir()

    def section_hash(self, *sections: str) -> str:
        """A stable hash of some config sections: a stage re-runs when its own part changes."""
        dumped = self.model_dump(mode="json", include=set(sections))
        return hashlib.sha256(json.dumps(dumped, sort_keys=True).encode()).hexdigest()[:16]

    def redacted(self) -> dict[str, Any]:
        """The resolved config for display (`--dry-run`); the API key never appears."""
        data = self.model_dump(mode="json")
        data["llm"]["api_key"] = "*** (from OPENAI_API_KEY)" if self.resolved_api_key() else None
        return data

    def resolved_api_key(self) -> str | None:
        """The API key: from the OPENAI_API_KEY environment variable, and nowhere else."""
        return os.environ.get("OPENAI_API_KEY") or None


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> KgcConfig:
    """Defaults, then the TOML file, then KGC_* environment variables, then `overrides` (CLI flags)."""
    if path is not None and not Path(path).is_file():
        raise ConfigError(f"config file not found: {path}")
    toml = Path(path) if path is not None else None
    # pydantic-settings reads the TOML path from the class; a subclass keeps concurrent loads apart.
    cls = type("KgcConfigFromFile", (KgcConfig,), {"toml_file": toml})
    try:
        cfg = cls(**_nest(overrides or {}))
    except ValidationError as e:
        # Without the input values: a misplaced secret must not be echoed into logs.
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc']) or 'config'}: {err['msg']}"
            for err in e.errors(include_input=False, include_url=False)
        )
        raise ConfigError(f"invalid configuration: {problems}") from None
    return cfg


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    """{'llm.model': 'x'} -> {'llm': {'model': 'x'}}."""
    out: dict[str, Any] = {}
    for dotted, value in flat.items():
        node = out
        *parents, leaf = dotted.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out
