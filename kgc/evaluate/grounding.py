"""Grounding: are a relation's names and evidence in the text it was extracted from?

A relation's source chunks are the chunks of the candidates fusion turned into it (any candidate
between its two entities); when no candidate is found (a graph fused elsewhere), every chunk of its
source documents. An inferred relation (proposed by fusion, not extracted) has no source chunk: it is
checked apart, against every chunk either of its entities was extracted from, to tell whether the
text ever says anything of the two together. Matching is deliberately literal, so a low share points
at invented names or paraphrased evidence, not at the matcher. Every ungrounded relation is listed.
"""

from __future__ import annotations

import re
from collections import defaultdict

from kgc.evaluate.matching import GraphMatcher, Pair, pair
from kgc.evaluate.models import Grounding, Offender, ratio
from kgc.models import Candidate, Chunk, KnowledgeGraph, Relation

_NON_WORD = re.compile(r"[\W_]+")


def plain(text: str) -> str:
    """Lower case, every run of punctuation and spaces one space, with a leading space."""
    return " " + _NON_WORD.sub(" ", text.casefold()).strip()


def occurs(needle: str, plain_text: str) -> bool:
    """`needle` appears in the text (given as `plain(text)`) at the start of a word: 'language model'
    occurs in 'Language-Models are', 'bert' does not occur in 'RoBERTa'."""
    p = plain(needle)
    return p != " " and p in plain_text


def ground(graph: KnowledgeGraph, candidates: list[Candidate], chunks: list[Chunk]) -> Grounding:
    index = GraphMatcher(graph)
    text_of = {c.id: plain(c.text) for c in chunks}
    chunks_of_doc: dict[str, list[str]] = defaultdict(list)
    for c in chunks:
        chunks_of_doc[c.doc_id].append(c.id)
    chunks_of_pair: dict[Pair, set[str]] = defaultdict(set)
    chunks_of_entity: dict[str, set[str]] = defaultdict(set)
    evidence_checked = evidence_grounded = 0
    ungrounded_evidence: list[str] = []
    for cand in candidates:
        for prov in cand.provenance:
            h, t = index.strict(cand.head, prov.doc_id), index.strict(cand.tail, prov.doc_id)
            for end in (h, t):
                if end is not None:
                    chunks_of_entity[end].add(prov.chunk_id)
            if h is not None and t is not None:
                chunks_of_pair[pair(h, t)].add(prov.chunk_id)
            if prov.evidence and prov.chunk_id in text_of:
                evidence_checked += 1
                if occurs(prov.evidence, text_of[prov.chunk_id]):
                    evidence_grounded += 1
                else:
                    ungrounded_evidence.append(f"{prov.chunk_id}: {prov.evidence}")

    surfaces = {e.id: [e.name, *e.aliases] for e in graph.entities}

    def check(r: Relation, sources: set[str]) -> Offender | None:
        """None when head and tail occur in one of `sources`, else what is wrong."""
        texts = [text_of[c] for c in sorted(sources) if c in text_of]
        found = {
            end: {i for i, text in enumerate(texts) if any(occurs(s, text) for s in surfaces.get(end, [end]))}
            for end in (r.head, r.tail)
        }
        if found[r.head] & found[r.tail]:
            return None
        return Offender(
            relation=f"({index.label(r.head)}, {r.relation}, {index.label(r.tail)})",
            support=r.support,
            missing=[index.label(end) for end in (r.head, r.tail) if not found[end]],
            chunks=sorted(sources),
            edge=(r.head, r.relation, r.tail),
        )

    extracted = [r for r in graph.relations if not r.inferred]
    inferred = [r for r in graph.relations if r.inferred]
    ungrounded = [
        o
        for r in extracted
        if (
            o := check(
                r,
                chunks_of_pair.get(pair(r.head, r.tail))
                or {c for d in r.sources for c in chunks_of_doc.get(d, [])},
            )
        )
    ]
    inferred_ungrounded = [
        o for r in inferred if (o := check(r, chunks_of_entity[r.head] | chunks_of_entity[r.tail]))
    ]
    return Grounding(
        relations_checked=len(extracted),
        relations_grounded=len(extracted) - len(ungrounded),
        relations_grounded_share=ratio(len(extracted) - len(ungrounded), len(extracted)),
        head_or_tail_missing=sum(1 for o in ungrounded if o.missing),
        evidence_checked=evidence_checked,
        evidence_grounded=evidence_grounded,
        evidence_grounded_share=ratio(evidence_grounded, evidence_checked),
        ungrounded=sorted(ungrounded, key=worst_first),
        ungrounded_evidence=ungrounded_evidence,
        inferred_checked=len(inferred),
        inferred_grounded=len(inferred) - len(inferred_ungrounded),
        inferred_grounded_share=ratio(len(inferred) - len(inferred_ungrounded), len(inferred)),
        inferred_ungrounded=sorted(inferred_ungrounded, key=worst_first),
    )


def worst_first(o: Offender) -> tuple[int, int, str]:
    """Both names missing, then one, then never together; the best supported (most trusted) first."""
    return (-len(o.missing), -o.support, o.relation)
