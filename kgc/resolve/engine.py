"""Entity resolution: names in, clusters with canonical names and explained decisions out.

(1) names sharing a key become one node; (2) generators propose pairs of nodes (equal compact keys,
partial abbreviations, other forms of one name (kgc.resolve.forms), character n-gram MinHash-LSH,
embedding neighbours); (3) each pair is scored and put in a
band: merge, the LLM's, or reject; (4) the LLM band is voted on; (5) merge edges are clustered so
that chains cannot form; (6) each cluster gets a canonical name, and every alias a reason.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable

import numpy as np
from rapidfuzz import fuzz, process

from kgc.config import ResolveConfig
from kgc.embeddings.base import Embed
from kgc.resolve.acronyms import action_letters, link_short_forms, partial_abbreviations
from kgc.resolve.candidates import embedding_pairs, key_pairs, ngram_pairs
from kgc.resolve.cluster import cluster
from kgc.resolve.decisions import Resolution, build_resolution
from kgc.resolve.definitions import Definition, collect_definitions
from kgc.resolve.forms import form_pairs, head_reduced
from kgc.resolve.keys import compact_key, name_key
from kgc.resolve.llm_band import Judge, vote
from kgc.resolve.scoring import FORM_SCORE, Vocabulary, decide, veto
from kgc.resolve.types import Edge, NameRecord, Node

log = logging.getLogger(__name__)


def build_nodes(records: Iterable[NameRecord], max_context: int = 3) -> tuple[list[Node], int]:
    """Group names by key; returns the nodes and the number of names without a key."""
    nodes: list[Node] = []
    index: dict[str, int] = {}
    empty = 0
    for r in records:
        key = name_key(r.name)
        if not key:
            empty += 1
            continue
        i = index.setdefault(key, len(nodes))
        if i == len(nodes):
            nodes.append(Node(key=key))
        n = nodes[i]
        n.surfaces[r.name] += r.count
        if r.docs:
            docs = n.docs if isinstance(n.docs, set) else set(n.docs)
            docs.update(r.docs)
            n.docs = docs
        for c in r.context:
            if len(n.context) < max_context and c not in n.context:
                n.context = (*n.context, c)
        if r.type:
            n.types[r.type] += r.count
    return nodes, empty


def _embedding_texts(nodes: list[Node], cfg: ResolveConfig) -> list[str]:
    """The name plus a little of its first context, so that the neighbours are about the same thing."""
    return [
        f"{n.label}: {n.context[0][: cfg.embedding_context_chars]}" if n.context else n.label for n in nodes
    ]


def propose(nodes: list[Node], cfg: ResolveConfig, embed: Embed | None, counts: Counter[str]) -> list[Edge]:
    """Scored candidate pairs from the string generators (keys and acronyms are handled apart)."""
    keys = [n.key for n in nodes]
    found = ngram_pairs(
        keys,
        bands=cfg.lsh_bands,
        rows=cfg.lsh_rows,
        max_bucket=cfg.max_bucket,
        min_ratio=cfg.band_threshold * 100,
    )
    counts["pairs_ngram_proposed"] = found.proposed
    counts["pairs_ngram"] = len(found.pairs)
    counts["lsh_buckets_skipped"] = found.skipped_buckets
    ngrams, strings = found.pairs, found.ratios
    cosine: dict[tuple[int, int], float] = {}
    if embed is not None and cfg.embedding_merge and len(nodes) > 1:
        vectors = np.asarray(embed(_embedding_texts(nodes, cfg)), dtype=np.float32)
        pairs, sims = embedding_pairs(
            vectors, k=cfg.embedding_neighbours, min_cosine=cfg.embedding_band_threshold
        )
        counts["pairs_embedding"] = len(pairs)
        cosine = {(int(i), int(j)): round(float(s), 4) for (i, j), s in zip(pairs, sims, strict=True)}
    from_ngrams = len(ngrams)
    if cosine:  # embedding neighbours the n-grams did not find, scored too
        extra = np.array(sorted(set(cosine) - {(int(i), int(j)) for i, j in ngrams}), dtype=np.int64).reshape(
            -1, 2
        )
        extra_ratios = process.cpdist(
            [keys[i] for i in extra[:, 0]], [keys[j] for j in extra[:, 1]], scorer=fuzz.ratio, workers=-1
        )
        ngrams, strings = np.concatenate([ngrams, extra]), np.concatenate([strings, extra_ratios])
    vocabulary = Vocabulary(keys, cfg.real_word_names)
    keep = strings >= cfg.band_threshold * 100
    if cosine:  # every embedding neighbour kept is at least at the band's cosine
        keep |= np.fromiter(((int(i), int(j)) in cosine for i, j in ngrams), dtype=bool, count=len(ngrams))
    edges: list[Edge] = []
    for row in np.flatnonzero(keep).tolist():
        i, j = int(ngrams[row, 0]), int(ngrams[row, 1])
        emb = cosine.get((i, j))
        string = round(float(strings[row]) / 100, 4)
        scores = {"string": string} if emb is None else {"string": string, "embedding": emb}
        verdict = decide(nodes[i], nodes[j], string, emb, cfg, vocabulary)
        generator = "ngram" if row < from_ngrams else "embedding"
        edges.append(Edge(i, j, generator, scores, verdict.decision, verdict.band, verdict.reason))
    return edges


def resolve(
    records: Iterable[NameRecord],
    cfg: ResolveConfig,
    *,
    definitions: Iterable[tuple[str, Definition]] = (),
    embed: Embed | None = None,
    judge: Judge | None = None,
) -> Resolution:
    """Resolve names into entities. `definitions` are acronym definitions mined from the documents
    (kgc.resolve.definitions.find_definitions); `embed` adds embedding neighbours; `judge` (the LLM)
    decides the middle band, which is otherwise left unmerged and counted."""
    nodes, empty = build_nodes(records)
    names = sum(len(n.surfaces) for n in nodes)
    counts: Counter[str] = Counter(names=names, keys=len(nodes), names_without_key=empty)

    edges: dict[tuple[int, int], Edge] = {}
    for i, j in key_pairs([compact_key(n.key) for n in nodes]):
        edges[(int(i), int(j))] = Edge(int(i), int(j), "key", {"key": 1.0}, "merge", "high", "normalised")
    counts["pairs_key"] = len(edges)
    for e in partial_abbreviations(nodes):
        edges.setdefault((e.i, e.j), e)
        counts["pairs_partial_abbreviation"] += 1
    known = collect_definitions(nodes, definitions)
    named = {long for expansions in known.values() for long in expansions}  # long forms of acronyms
    actions = action_letters((n.key for n in nodes), known)
    for i, j, rule in form_pairs(nodes, named, actions):
        if (i, j) not in edges and veto(nodes[i], nodes[j]) is None:
            edges[(i, j)] = Edge(i, j, "form", {rule: FORM_SCORE}, "merge", "high", rule)
            counts[f"pairs_form_{rule}"] += 1
    for e in propose(nodes, cfg, embed, counts):
        edges.setdefault((e.i, e.j), e)
    band = sorted((e for e in edges.values() if e.band == "llm"), key=lambda e: (-e.score, e.i, e.j))
    counts["band_pairs"] = len(band)
    if judge is not None and cfg.llm_band is not False and band:
        asked = band[: cfg.max_llm_pairs]
        vote(asked, nodes, judge, cfg)
        counts["band_asked"] = len(asked)
        counts["band_merged"] = sum(e.decision == "merge" for e in asked)
        counts["band_rejected"] = sum(e.decision == "reject" for e in asked)
    counts["band_undecided"] = sum(e.decision == "undecided" for e in band)

    merges = [e for e in edges.values() if e.decision == "merge"]
    forbidden = {(e.i, e.j) for e in edges.values() if e.band in ("veto", "llm") and e.decision == "reject"}
    grouping = cluster(nodes, merges, forbidden, cfg)
    counts["merge_edges"] = len(merges)
    counts["merge_edges_refused"] = len(grouping.refused)
    # Acronyms last: their expansions are counted per entity, not per spelling.
    reduced = {r[0]: i for i, n in enumerate(nodes) if (r := head_reduced(n, named, actions)) is not None}
    acronyms = link_short_forms(nodes, known, grouping.cluster_of, reduced)
    counts.update(acronyms.counts)
    for short, e in acronyms.edges:
        attached = grouping.attach(short, e)  # 'AI' with 'A.I.', 'CRF' with 'CRF model'
        counts["pairs_acronym" if attached else "acronyms_refused"] += 1
    grouping.join_all(merges)  # names that followed an acronym's spellings ('NER tasks' ~ 'NER task')
    unresolved = [*acronyms.unresolved, *(e for e in edges.values() if e.decision != "merge")]
    return build_resolution(nodes, grouping, acronyms.by_document, unresolved, counts)
