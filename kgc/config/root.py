"""The root configuration: one section per room of kgc; defaults are declared in the sections and
nowhere else.

Precedence: defaults < TOML file (`--config kgc.toml`) < environment (`KGC_LLM__MODEL=...`) < CLI flags.
Secrets (API keys) come only from the environment and are never serialised.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from kgc.config.link import LinkConfig
from kgc.config.llm import LLMConfig
from kgc.config.moved import move_old_keys
from kgc.config.resolve import ResolveConfig
from kgc.config.sections import (
    CorpusConfig,
    EmbeddingConfig,
    ExtractionConfig,
    FusionConfig,
    Neo4jConfig,
    RetrievalConfig,
    SeedsConfig,
)
from kgc.errors import ConfigError
from kgc.resources import prompts_dir as bundled_prompts_dir
from kgc.schema import RelationSchema


class KgcConfig(BaseSettings):
    """Everything a run is configured by."""

    model_config = SettingsConfigDict(env_prefix="KGC_", env_nested_delimiter="__", extra="forbid")

    corpus: CorpusConfig = Field(default_factory=CorpusConfig, description="reading the corpus")
    embedding: EmbeddingConfig = Field(
        default_factory=EmbeddingConfig, description="the sentence embedding model"
    )
    seeds: SeedsConfig = Field(default_factory=SeedsConfig, description="the seed entities")
    retrieval: RetrievalConfig = Field(default_factory=RetrievalConfig, description="each seed's chunks")
    extraction: ExtractionConfig = Field(default_factory=ExtractionConfig, description="triplets from text")
    resolve: ResolveConfig = Field(default_factory=ResolveConfig, description="names into entities")
    fusion: FusionConfig = Field(default_factory=FusionConfig, description="the global pass")
    llm: LLMConfig = Field(default_factory=LLMConfig, description="the LLM")
    link: LinkConfig = Field(default_factory=LinkConfig, description="linking to your vocabulary")
    neo4j: Neo4jConfig = Field(default_factory=Neo4jConfig, description="export to Neo4j")
    relations: RelationSchema = Field(default_factory=RelationSchema, description="the relation schema")
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

    @model_validator(mode="before")
    @classmethod
    def _moved_keys(cls, data: Any) -> Any:
        return move_old_keys(data) if isinstance(data, dict) else data

    def prompts_path(self) -> Path:
        """Where the prompt templates are read from: `prompts_dir`, else the bundled templates."""
        return self.prompts_dir if self.prompts_dir is not None else bundled_prompts_dir()

    @classmethod
    def recorded(cls, data: dict[str, Any]) -> KgcConfig:
        """The config a run recorded (its config.json, perhaps from an older kgc), keys that moved since
        moved quietly: its user never wrote them. A key it lacks (newer than the run) comes from
        KGC_* variables, else its default."""
        return cls(**move_old_keys(data, quiet=True))

    def section_hash(self, *sections: str) -> str:
        """A stable hash of some config sections ('fusion') or keys ('extraction.max_chars'): a stage
        re-runs when its own part changes."""
        include: dict[str, Any] = {}
        for dotted in sections:
            section, _, key = dotted.partition(".")
            if not key:
                include[section] = True
            elif include.get(section) is not True:
                include.setdefault(section, {})[key] = True
        dumped = self.model_dump(mode="json", include=include)
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
