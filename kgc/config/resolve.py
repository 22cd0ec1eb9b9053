"""`[resolve]`: how names become entities (kgc.resolve), read by fusion and by `kgc resolve`."""

from __future__ import annotations

from pydantic import Field

from kgc.config.base import Section


class ResolveConfig(Section):
    """Entity resolution: which names denote one entity (kgc.resolve), in fusion and `kgc resolve`."""

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
    llm_band: bool | None = Field(
        None,
        description="ask the LLM about pairs in the band (else they stay apart, counted); None: the LLM "
        "backend's choice, off for the embedded 1.5B model (it calls related concepts the same), on for "
        "servers; a caller of kgc.resolve that passes a judge gets it asked",
    )
    llm_pairs_per_call: int = Field(5, ge=1, description="pairs per LLM call")
    llm_rounds: int = Field(
        2, ge=1, description="rounds with reordered pairs; a pair merges only when all agree"
    )
    llm_context_chars: int = Field(160, description="characters of context shown with each name")
    max_llm_pairs: int = Field(
        2000, description="band pairs asked at most (best scores first); the rest stay apart"
    )
    prompt: str = Field("resolve.md", description="template of the band's question, in prompts/")
