"""Names in, one explained link decision per name out.

    from kgc.link import link_names
    result = link_names(["NMT", "chinese spelling correction"], "data/vocabulary/nlp.csv")
    result.lookup("NMT")        # -> 'nlp:neural-machine-translation' (or None)
    print(result.explain("NMT"))
    result.to_sssom()           # SSSOM TSV text

Pure apart from reading the vocabulary (cached); the embedder and the LLM are injected.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kgc.config import LinkConfig
from kgc.embeddings.base import Embed
from kgc.link.bands import Candidate, NameQuery, candidates_for
from kgc.link.decide import LINKED, Decision, decide
from kgc.link.dense import rerank
from kgc.link.index import VocabIndex, build_index
from kgc.link.report import explain_link
from kgc.link.sssom import sssom_text
from kgc.link.vocabulary import Vocabulary, load_vocabulary
from kgc.models import CandidateRecord, NameLink
from kgc.resolve import NameRecord, find_definitions, name_key
from kgc.resolve.acronyms import short_letters

if TYPE_CHECKING:
    from kgc.link.llm_band import Chooser

log = logging.getLogger(__name__)


@dataclass
class LinkResult:
    links: list[NameLink]
    vocabulary: Vocabulary
    counts: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._by_name = {link.name: link for link in self.links}

    def get(self, name: str) -> NameLink | None:
        return self._by_name.get(name)

    def lookup(self, name: str) -> str | None:
        """The vocabulary id `name` links to (exactMatch or broadMatch), else None."""
        link = self._by_name.get(name)
        return link.id if link is not None and link.linked else None

    def explain(self, name: str) -> str:
        link = self._by_name.get(name)
        if link is None:
            return f"{name!r} was not among the names linked"
        return "\n".join(explain_link(link))

    def to_sssom(self, path: str | Path | None = None) -> str:
        text = sssom_text(self.links, self.vocabulary)
        if path is not None:
            from kgc.rundir import atomic_write_text

            atomic_write_text(Path(path), text)
        return text


def _definitions(texts: dict[str, str] | None) -> dict[str, dict[str, set[str]]]:
    """doc -> acronym letters -> keys of the long forms the document gives them."""
    out: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for doc, text in (texts or {}).items():
        for d in find_definitions(text):
            if key := name_key(d.long):
                out[doc][short_letters(d.short)].add(key)
    return out


def _long_forms(record: NameRecord, defs: dict[str, dict[str, set[str]]]) -> tuple[str, ...]:
    letters = short_letters(record.name)
    docs = record.docs or tuple(defs)
    return tuple(sorted({k for d in docs for k in defs.get(d, {}).get(letters, ())}))


def _record(q: NameQuery, d: Decision, cands: list[Candidate], index: VocabIndex, keep: int) -> NameLink:
    concepts = index.vocab.concepts
    linked = d.concept is not None and d.match in LINKED
    return NameLink(
        name=q.name,
        match=d.match,
        id=concepts[d.concept].id if linked and d.concept is not None else None,
        label=concepts[d.concept].label if linked and d.concept is not None else None,
        score=round(d.score, 4),
        band=d.band,
        reason=d.reason,
        candidates=[
            CandidateRecord.model_construct(  # built from typed values: pydantic's checks cost 25% of linking
                id=concepts[c.concept].id,
                label=concepts[c.concept].label,
                matched=index.row_key[c.row],
                bands=c.bands,
                features=c.features,
            )
            for c in cands[:keep]
        ],
    )


def link(
    records: Iterable[NameRecord],
    index: VocabIndex,
    cfg: LinkConfig | None = None,
    *,
    texts: dict[str, str] | None = None,
    embed: Embed | None = None,
    judge: Chooser | None = None,
) -> LinkResult:
    """Link names to the indexed vocabulary. `texts` (doc id -> text) gives acronym definitions;
    `embed` adds the dense band; `judge` (kgc.link.llm_band) decides uncertain and ambiguous names."""
    cfg = cfg or LinkConfig()
    records = list(dict((r.name, r) for r in records).values())  # one decision per distinct name
    defs = _definitions(texts) if cfg.use_definitions else {}
    queries = [
        NameQuery(r.name, name_key(r.name), r.context[0] if r.context else "", _long_forms(r, defs))
        for r in records
    ]
    hits = index.ngram_top([q.key for q in queries], cfg.top_k)
    cands = [candidates_for(q, h, index) for q, h in zip(queries, hits, strict=True)]
    if embed is not None and cfg.dense:
        rerank(queries, cands, index, embed)
    decisions = [decide(q, cs, index, cfg) for q, cs in zip(queries, cands, strict=True)]
    if judge is not None and cfg.llm:
        from kgc.link.llm_band import ask

        ask(judge, queries, cands, decisions, index, cfg)
    links = [
        _record(q, d, cs, index, max(cfg.top_k, 8))
        for q, d, cs in zip(queries, decisions, cands, strict=True)
    ]
    counts: Counter[str] = Counter(names=len(links))
    counts.update(link.match for link in links)
    counts.update(f"band_{link.band}" for link in links if link.linked)
    return LinkResult(links, index.vocab, counts)


def link_names(
    names: Iterable[str | NameRecord],
    vocab: str | Path | Vocabulary | VocabIndex,
    cfg: LinkConfig | None = None,
    *,
    texts: dict[str, str] | None = None,
    embed: Embed | None = None,
    judge: Chooser | None = None,
) -> LinkResult:
    """Link plain names (or NameRecords with documents and context) to a vocabulary file or object."""
    cfg = cfg or LinkConfig()
    index = open_index(vocab, cfg)
    records = [n if isinstance(n, NameRecord) else NameRecord(n) for n in names]
    return link(records, index, cfg, texts=texts, embed=embed, judge=judge)


def open_index(vocab: str | Path | Vocabulary | VocabIndex, cfg: LinkConfig | None = None) -> VocabIndex:
    cfg = cfg or LinkConfig()
    if isinstance(vocab, VocabIndex):
        return vocab
    if not isinstance(vocab, Vocabulary):
        vocab = load_vocabulary(vocab)
    return build_index(vocab, cfg.max_df)
