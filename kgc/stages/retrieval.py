"""Retrieval: for each seed, the chunks that discuss it, best first, cut to a character budget.

Two methods (`[retrieval] method`):
- `fuzzy` (Graphusion's): rapidfuzz partial_ratio of the seed against each chunk >= `min_score`, from
  one vectorised `cdist` over all seeds x chunks: seconds for 1,000 seeds over 1,000 abstracts, but
  its cost grows with seeds x chunks x chunk length (minutes at 100k chunks).
- `bm25`: the chunks that contain every word of the seed (Graphusion retrieves the documents that
  contain a concept), those where the words stand together as the seed's phrase first, each group
  ranked by BM25 (bm25s, sparse postings): one index of the corpus, then each seed reads only the
  postings of its own words. Words are compared lower-cased, without stop words and without their
  plural ending (Harman's S-stemmer: 'embeddings' and 'embedding' are one word, 'generation' and
  'generator' stay two).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import numpy as np
from rapidfuzz import fuzz, process, utils

from kgc.artifacts import CHUNKS, CONTEXTS, SEEDS
from kgc.config import RetrievalConfig
from kgc.models import Chunk, Seed, SeedContext
from kgc.stages.base import Stage, StageContext, StageOutcome, in_seed_mode

BM25_DECIMALS = 4  # BM25 scores are floats: rounding keeps contexts.jsonl stable across machines

Ranked = tuple[np.ndarray, np.ndarray]  # (chunk positions, scores), best first


def retrieve(
    seeds: list[Seed], chunks: list[Chunk], cfg: RetrievalConfig, max_chars: int
) -> list[SeedContext]:
    """The best-matching chunks of every seed, best first, at most `cfg.max_chunks` of them and
    `max_chars` characters together (what one extraction call reads, `extraction.max_chars`)."""
    if not seeds or not chunks:
        return [SeedContext(seed=s.name, chunk_ids=[], scores=[]) for s in seeds]
    if cfg.method == "fuzzy":
        ranked = fuzzy_ranking(seeds, chunks, cfg)
    else:
        ranked = bm25_ranking(seeds, chunks, cfg.max_chunks)
    return [
        _within_budget(seed, hits, chunks, cfg.max_chunks, max_chars)
        for seed, hits in zip(seeds, ranked, strict=True)
    ]


def fuzzy_ranking(seeds: list[Seed], chunks: list[Chunk], cfg: RetrievalConfig) -> Iterator[Ranked]:
    """Per seed, the chunks with partial_ratio >= cfg.min_score; ties keep corpus order."""
    scores = process.cdist(
        [s.name for s in seeds],
        [c.text for c in chunks],
        scorer=fuzz.partial_ratio,
        processor=utils.default_process,
        score_cutoff=cfg.min_score,
        dtype=np.uint8,
        workers=-1,
    )
    for row in scores:
        hits = np.flatnonzero(row >= cfg.min_score)
        order = hits[np.lexsort((hits, -row[hits].astype(np.int16)))]
        yield order, row[order].astype(np.float64)


def bm25_ranking(seeds: list[Seed], chunks: list[Chunk], max_chunks: int) -> Iterator[Ranked]:
    """Per seed, the chunks holding all of its words: those with the seed's phrase first, each group
    by BM25 score; ties keep corpus order."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets DEBUG on import: "Building index..."
    corpus = bm25s.tokenize([c.text for c in chunks], stopwords="en", stemmer=s_stems, show_progress=False)
    index = bm25s.BM25()
    index.index(corpus, show_progress=False)
    queries = bm25s.tokenize(
        [s.name for s in seeds], stopwords="en", stemmer=s_stems, return_ids=False, show_progress=False
    )
    nothing: Ranked = (np.zeros(0, dtype=np.int64), np.zeros(0))
    for seed, words in zip(seeds, queries, strict=True):
        ids = index.get_tokens_ids(sorted(set(words)))
        if not ids or len(ids) < len(set(words)):  # no word, or a word no chunk has
            yield nothing
            continue
        # A word's BM25 term is > 0 exactly in the chunks that contain it.
        per_word = [index.get_scores([int(i)]) for i in ids]
        hits = np.flatnonzero(np.logical_and.reduce([s > 0 for s in per_word]))
        total = np.asarray(np.sum(per_word, axis=0, dtype=np.float64))[hits].round(BM25_DECIMALS)
        order = np.lexsort((hits, -total))
        hits, total = hits[order], total[order]
        first = _phrase_first(phrase_pattern(seed.name), hits, chunks, max_chunks)
        yield hits[first], total[first]


def _phrase_first(phrase: re.Pattern[str], hits: np.ndarray, chunks: list[Chunk], wanted: int) -> np.ndarray:
    """Positions into `hits` (ranked) putting the chunks where `phrase` occurs first, in rank order.

    Only as many chunks are read as it takes to find `wanted` with the phrase: a frequent seed has
    tens of thousands of hits at 100k chunks, of which retrieval keeps at most `max_chunks`."""
    with_phrase: list[int] = []
    for position, j in enumerate(hits.tolist()):
        if phrase.search(chunks[j].text) is not None:
            with_phrase.append(position)
            if len(with_phrase) == wanted:
                break
    rest = np.setdiff1d(np.arange(len(hits)), with_phrase, assume_unique=True)
    return np.concatenate([np.asarray(with_phrase, dtype=np.int64), rest])


def phrase_pattern(name: str) -> re.Pattern[str]:
    """The seed's words in order, joined by spaces or hyphens, its last word also plural:
    'word embedding' finds 'Word embeddings' and 'word-embedding'."""
    *words, last = name.split()
    plural = re.escape(last[:-1]) + "(?:y|ies)" if last.endswith("y") else re.escape(last) + "(?:s|es)?"
    return re.compile(r"\b" + r"[\s-]+".join([*(re.escape(w) for w in words), plural]) + r"\b", re.IGNORECASE)


def s_stems(words: list[str]) -> list[str]:
    """Harman's S-stemmer (1991) on lower-case words: 'ies' -> 'y' (not after 'e', 'a'), 'es' -> 'e'
    (not after 'a', 'e', 'o'), 's' -> '' (not after 'u', 's' and, here, 'i', 'a', 'o': 'analysis',
    'bias'): 'queries' -> 'query', 'models' -> 'model'. Words of 3 letters or less stay."""
    return [_s_stem(w) for w in words]


def _s_stem(word: str) -> str:
    if len(word) <= 3:
        return word
    if word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if word.endswith("s") and not word.endswith(("us", "ss", "is", "as", "os")):
        return word[:-1]
    return word


def _within_budget(
    seed: Seed, ranked: Ranked, chunks: list[Chunk], max_chunks: int, max_chars: int
) -> SeedContext:
    positions, scores = ranked
    ids: list[str] = []
    kept: list[float] = []
    budget = max_chars
    for j, score in zip(positions.tolist(), scores.tolist(), strict=True):
        if len(ids) >= max_chunks:
            break
        text_len = len(chunks[j].text)
        if ids and text_len > budget:
            continue  # a shorter, slightly worse match may still fit
        ids.append(chunks[j].id)
        kept.append(float(score))
        budget -= text_len
    return SeedContext(seed=seed.name, chunk_ids=ids, scores=kept)


def _run(ctx: StageContext) -> StageOutcome:
    cfg = ctx.cfg
    contexts = retrieve(ctx.run.read(SEEDS), ctx.run.read(CHUNKS), cfg.retrieval, cfg.extraction.max_chars)
    ctx.run.write(CONTEXTS, contexts)
    empty = sum(1 for c in contexts if not c.chunk_ids)
    return StageOutcome({"seeds_with_context": len(contexts) - empty, "seeds_without": empty})


STAGE = Stage(
    name="retrieval",
    sections=("retrieval", "extraction.max_chars"),
    inputs=(SEEDS, CHUNKS),
    outputs=(CONTEXTS,),
    run=_run,
    enabled=in_seed_mode,
)
