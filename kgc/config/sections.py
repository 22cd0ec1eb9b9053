"""The sections of the stages that read text and build the graph, one per room of kgc."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from kgc.config.base import Section
from kgc.extraction.names import STOP_CONCEPTS


class CorpusConfig(Section):
    """How the corpus is read and cut into chunks (kgc.stages.corpus)."""

    format: Literal["auto", "folder", "jsonl", "csv", "lines"] = Field(
        "auto",
        description="'folder' (.txt/.md files), 'jsonl', 'csv' (or .tsv), 'lines' (one document per line); "
        "'auto': a folder, else by file suffix (.jsonl/.ndjson, .csv/.tsv, anything else lines)",
    )
    id_field: str = Field("id", description="jsonl/csv: the field holding a document's id")
    text_field: str = Field("text", description="jsonl/csv: the field holding a document's text")
    chunk_chars: int = Field(4000, ge=200, description="documents longer than this are chunked")
    chunk_overlap: int = Field(200, ge=0, description="characters two neighbouring chunks share")


class EmbeddingRayConfig(Section):
    """`embedding.executor = "ray"`: each batch a Ray task; a worker process loads the model on its
    first batch and keeps it; the vector store stays in this process (kgc.embeddings.ray_pool)."""

    address: str | None = Field(
        None,
        description="the cluster to join ('auto', 'host:6379', 'ray://host:10001'); None: $RAY_ADDRESS, "
        "else the one `ray start` started on this node, else a new local one. When the LLM runs on "
        "Ray too, whichever starts first joins the cluster for both",
    )
    workers: int = Field(
        2, ge=1, description="batches encoded at once (each by a worker process holding the model)"
    )
    cpus_per_worker: float = Field(
        1.0, gt=0, description="CPUs a batch's task reserves (and the threads PyTorch uses for it)"
    )
    gpus_per_worker: float = Field(
        0.0, ge=0, description="GPUs a batch's task reserves; above 0 the model runs on the GPU Ray gives it"
    )


class EmbeddingConfig(Section):
    """The sentence embedding model (kgc.embeddings), shared by the stages that embed (seeds' chunks,
    fusion's names): both name its `model`, `backend` and `quantize` in their keys, so changing one
    re-runs both; where the vectors are computed (`device`, `executor`) changes no key. Vectors are
    kept in the run's embeddings.sqlite under the embedder's key: only text not yet embedded with
    this model and backend is embedded."""

    model: str = Field(
        "minilm",
        description="'minilm' (bundled all-MiniLM-L6-v2, 384 dimensions), 'mpnet' (all-mpnet-base-v2, "
        "Graphusion's, 768 dimensions, about 17x slower; needs its part packages) or the path of a local "
        "sentence-transformers folder (known by the hash of its weights, not its path)",
    )
    backend: Literal["auto", "torch", "onnx"] = Field(
        "auto",
        description="'torch' (sentence-transformers), 'onnx' (ONNX Runtime, needs kgc[onnx]; exported "
        "once into KGC_HOME), 'auto': onnx where ONNX Runtime has a GPU, else torch",
    )
    quantize: bool = Field(
        False,
        description="onnx on a CPU: int8 weights (about half the CPU time, neighbours move: "
        "bench/results/embedder.md); stored under its own key",
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto",
        description="where the torch backend runs: 'auto' is the GPU when PyTorch sees one "
        "(torch.cuda.is_available()), else the CPU; the vectors agree within float tolerance, so "
        "the store reuses them across devices",
    )
    executor: Literal["local", "ray"] = Field(
        "local",
        description="where batches are encoded: 'local' (this process) or 'ray' (Ray tasks, one model "
        "per worker process, see [embedding.ray]; the same vectors and the same store)",
    )
    ray: EmbeddingRayConfig = Field(default_factory=EmbeddingRayConfig, description="the Ray executor")


# What the embedded vectors depend on: the keys of the stages that embed. Where they are computed
# (`device`, `executor`, `ray`) is left out, so moving a run onto Ray or a GPU re-runs nothing.
EMBEDDING_KEYS = ("embedding.model", "embedding.backend", "embedding.quantize")


class SeedsConfig(Section):
    """The seed entities: keyphrases of BERTopic topics, plus your own (kgc.stages.seeds)."""

    nr_topics: int | None = Field(
        None, description="reduce to this many topics; None keeps BERTopic's choice"
    )
    keywords_per_topic: int = Field(10, description="keyphrases BERTopic keeps per topic")
    ngram_range: tuple[int, int] = Field((1, 3), description="shortest and longest keyphrase, in words")
    min_phrase_docs: int = Field(
        2,
        description="a keyphrase must occur in this many documents (1: any phrase; lowered to 1 when no phrase does)",
    )
    min_topic_size: int = Field(
        10,
        description="documents a topic needs (HDBSCAN's min_cluster_size); a corpus of fewer than "
        "twice this is clustered by k-means",
    )
    fit_sample: int = Field(
        5000,
        ge=0,
        description="fit the topic model on at most this many chunks (chosen by content hash: the same on "
        "every run) and give every other chunk the topic whose keyphrases it shares most, so only these "
        "are embedded; 0: fit on all (README 'Large corpora')",
    )
    max_seeds: int = Field(500, description="topics take turns, best keyphrase first, until this many")
    user_seeds: list[str] = Field(
        default_factory=list, description="seeds of your own, added to the topics' (`--seeds-file`)"
    )
    user_seeds_only: bool = Field(False, description="only `user_seeds`: no topic modelling at all")
    from_vocabulary: bool = Field(
        False,
        description="the preferred labels of link.vocabulary's concepts are user seeds (Graphusion's setting, "
        "where the concept list is given; with user_seeds_only, the only seeds)",
    )
    random_state: int = Field(
        42, description="seed of UMAP and k-means: the same corpus gives the same seeds"
    )
    keep_on_update: bool = Field(
        True,
        description="on a changed corpus keep the seeds (new ones only for text they do not cover), so "
        "unchanged text is not extracted again; false (or `kgc build --refit-seeds`): fit them anew",
    )


class RetrievalConfig(Section):
    """The chunks each seed is extracted from (kgc.stages.retrieval); they are chosen to fit
    `extraction.max_chars`."""

    method: Literal["fuzzy", "bm25"] = Field(
        "fuzzy",
        description="'fuzzy': chunks with rapidfuzz partial_ratio >= min_score (Graphusion's; its time grows "
        "with seeds x chunks x chunk length); 'bm25': chunks that contain every word of the seed, those "
        "with the seed's phrase first, ranked by BM25 (seconds at 100,000 chunks; README 'Large corpora')",
    )
    min_score: float = Field(70.0, description="fuzzy: rapidfuzz partial_ratio threshold (Graphusion: 70)")
    max_chunks: int = Field(20, description="chunks retrieved for one seed at most, best match first")


class ExtractionConfig(Section):
    """Triplets from text, one LLM call per seed or per chunk (kgc.stages.extraction)."""

    mode: Literal["seed", "document"] = Field(
        "seed", description="'seed': one call per seed with its retrieved chunks; 'document': one per chunk"
    )
    max_chars: int = Field(
        10_000,
        description="characters of text one extraction call reads: a seed's retrieved chunks are chosen "
        "to fit it, a longer text is cut",
    )
    seed_batch_chunks: int = Field(
        0,
        ge=0,
        description="seed mode: read a seed's retrieved chunks in batches of about this many, cut by "
        "content, so a corpus update re-reads only the batches new text enters (more, smaller calls); "
        "0: one call per seed",
    )
    prompt: str = Field(
        "auto",
        description="template in prompts/; 'auto': the LLM backend's choice (extraction_compact.md for "
        "the embedded model, extraction.md with relation definitions and seed focus for servers)",
    )
    max_name_chars: int = Field(80, description="a triplet with a longer head or tail is dropped")
    same_sentence: bool = Field(
        True,
        description="keep a triplet only when one sentence of its passage mentions both names, that "
        "sentence its evidence (SciERC and the demo's gold state every relation in one sentence); "
        "false: also pairs mentioned only in different sentences (counted as 'names in different "
        "sentences' when dropped)",
    )
    max_triplets_per_call: int = Field(
        40, description="triplets kept from one answer; the rest are dropped (counted)"
    )
    max_answer_triplets: int | None = Field(
        None,
        description="the most triplets a constrained decoder may write in one answer (maxItems of its "
        "grammar); None: the backend's choice (10 for the embedded model, whose answers otherwise run "
        "on to the token limit; no bound for servers)",
    )
    candidates: Literal["auto", "spacy", "rules", "off"] = Field(
        "auto",
        description="candidate concept spans offered to the model (kgc.extraction.spans): 'spacy' (noun "
        "phrases; needs kgc[nlp]), 'rules' (no dependency), 'auto' (spacy when installed, else rules), "
        "'off' (names are not checked against the text)",
    )
    choose_names: bool | None = Field(
        None,
        description="the answer's JSON Schema lists the passage's candidate names as the only heads and "
        "tails, so a constrained decoder (the embedded model's grammar) chooses among them; None: on with "
        "the embedded model; off, a model writes names freely and they are snapped to the text",
    )
    min_triplets: int | None = Field(
        None,
        ge=0,
        description="the answer's JSON Schema asks for at least this many triplets; None: 1 with the "
        "embedded model (whose grammar otherwise closes the list at once for most abstracts), else 0",
    )
    relation_check: bool | None = Field(
        None,
        description="a second, small question per triplet: which relation and direction its sentence "
        "states, or none (prompts/relation_check.md); None: the backend's choice (off: with the embedded "
        "model it doubled the time and mostly chose its first option)",
    )
    check_prompt: str = Field("relation_check.md", description="template of the relation check")
    cue_retype: bool | None = Field(
        None,
        description="an LLM triplet whose two names a relation cue links ('X such as Y', 'X consists of "
        "Y', 'X outperforms Y', 'X and Y': kgc.extraction.cues, read from spaCy's parse) takes the cue's "
        "relation and direction, and one whose names a preposition joins the direction it states ('X for "
        "Y', 'Y is produced by X': kgc.extraction.direction); one between members of one list ('A, B and C' "
        "in spaCy's parse: kgc.extraction.coordination) becomes the schema's conjunction when they are "
        "adjacent and is dropped when they are apart; None: the backend's choice",
    )
    cue_add: bool | None = Field(
        None,
        description="relation cues enter as extracted triplets themselves (provenance `cue` names the "
        "pattern; names judged by the same rules), where the LLM gave nothing for the pair; None: the "
        "backend's choice",
    )
    stop_concepts: list[str] = Field(
        default_factory=lambda: list(STOP_CONCEPTS),
        description="generic nouns that are never a name, also behind evaluative modifiers ('proposed "
        "method'); kgc eval counts the graph's names that are such (kgc.extraction.names)",
    )
    max_name_words: int = Field(
        8, ge=1, description="a longer name is a clause or a definition, not a concept"
    )
    common_word_zipf: float | Literal["off"] = Field(
        4.5,
        description="a one-word lower-case name is a common word, not a concept, when general English "
        "uses it this often (wordfreq's Zipf frequency: 'date' 5.2, 'translation' 4.4, 'parsing' 2.9) "
        "and no longer name of the run's candidates holds it ('translation' of 'machine translation' "
        "stays) and it is no seed (kgc.extraction.specificity; needs kgc[nlp]); so is one capitalised only "
        "where it starts a sentence when the corpus writes it in lower case too; 'off': no such rule "
        "(kgc eval still counts them, at the default)",
    )


class FusionConfig(Section):
    """The global pass over all candidates (kgc.stages.fusion): one relation per entity pair and the
    LLM's neighbourhood calls; how names merge into entities is `[resolve]`."""

    resolve_with_llm: bool = Field(
        True, description="ask the LLM to settle relation conflicts that document support leaves tied"
    )
    infer_links: bool = Field(
        True, description="ask the LLM for relations missing between an entity and its neighbours"
    )
    max_neighbourhoods: int = Field(200, description="at most this many entities get a fusion LLM call")
    min_degree_for_inference: int = Field(
        2, description="relations an entity needs before it is asked for missing links"
    )
    inferred_confidence: float = Field(
        0.3,
        description="confidence of a relation the LLM inferred (an extracted one has 0.5 from one document, "
        "more with more)",
    )
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
    prompt: str = Field("fusion.md", description="template of the neighbourhood calls, in prompts/")


class Neo4jConfig(Section):
    """`kgc export neo4j`: how the graph is written (the connection comes from NEO4J_* variables)."""

    label: str = Field("Entity", description="node label of the entities")
    # bench/results/neo4j_export.md: the server's CPU per row is flat from 2,000 to 10,000 rows a
    # transaction; smaller batches pay per-commit costs, larger ones hold more transaction state.
    batch_size: int = Field(5000, ge=1, description="rows per transaction")
    writers: int = Field(2, ge=1, description="parallel write sessions (relationships never share a node)")
