"""kgc's configuration: one root (`KgcConfig`, `load_config`) with one section per room.

`kgc config` prints every key with its type, default and description (kgc.config.reference).
"""

from kgc.config.base import Section, kgc_home
from kgc.config.link import LinkConfig
from kgc.config.llm import BudgetConfig, EmbeddedConfig, LimitsConfig, LLMConfig, RayConfig
from kgc.config.resolve import ResolveConfig
from kgc.config.root import KgcConfig, load_config
from kgc.config.sections import (
    EMBEDDING_KEYS,
    CorpusConfig,
    EmbeddingConfig,
    EmbeddingRayConfig,
    ExtractionConfig,
    FusionConfig,
    Neo4jConfig,
    RetrievalConfig,
    SeedsConfig,
)

__all__ = [
    "EMBEDDING_KEYS",
    "BudgetConfig",
    "CorpusConfig",
    "EmbeddedConfig",
    "EmbeddingConfig",
    "EmbeddingRayConfig",
    "ExtractionConfig",
    "FusionConfig",
    "KgcConfig",
    "LLMConfig",
    "LimitsConfig",
    "LinkConfig",
    "Neo4jConfig",
    "RayConfig",
    "ResolveConfig",
    "RetrievalConfig",
    "Section",
    "SeedsConfig",
    "kgc_home",
    "load_config",
]
