"""A graph's entities linked to a vocabulary: each entity by its name, else by one of its aliases.

An entity whose aliases link exactMatch to different concepts is flagged: entity resolution may have
merged two things (linking audits resolution).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from kgc.artifacts import DOCUMENTS
from kgc.config import LinkConfig
from kgc.link.index import VocabIndex
from kgc.link.linker import Embed, LinkResult, link
from kgc.link.llm_band import Chooser
from kgc.models import Entity, KnowledgeGraph, NameLink
from kgc.resolve import NameRecord


def _choose(entity: Entity, by_name: dict[str, NameLink]) -> NameLink:
    """The entity's own name decides when it links; else the best-scored linked alias."""
    own = by_name[entity.name]
    names = [entity.name, *(a for a in entity.aliases if a in by_name)]
    exact = {i for n in names if by_name[n].match == "exactMatch" and (i := by_name[n].id)}
    chosen = own
    if not own.linked:
        linked = [by_name[n] for n in names[1:] if by_name[n].linked]
        if linked:
            chosen = max(linked, key=lambda x: (x.match == "exactMatch", x.score))
    out = chosen.model_copy(update={"entity": entity.id, "name": entity.name})
    if chosen is not own:
        out.reason = f"through its alias {chosen.name!r}: {chosen.reason}"
    if len(exact) > 1:
        out.reason += f"; suspect merge: its names link to {len(exact)} concepts ({', '.join(sorted(exact))})"
    return out


def link_graph(
    graph: KnowledgeGraph,
    index: VocabIndex,
    cfg: LinkConfig | None = None,
    *,
    texts: dict[str, str] | None = None,
    embed: Embed | None = None,
    judge: Chooser | None = None,
) -> LinkResult:
    """One NameLink per entity (`entity` set to its id)."""
    records = [
        NameRecord(name, max(e.support, 1), tuple(e.sources), (), e.type)
        for e in graph.entities
        for name in dict.fromkeys([e.name, *e.aliases])
    ]
    names = link(records, index, cfg, texts=texts, embed=embed, judge=judge)
    by_name = {x.name: x for x in names.links}
    links = [_choose(e, by_name) for e in graph.entities]
    counts: Counter[str] = Counter(entities=len(links))
    counts.update(x.match for x in links)
    counts["suspect_merges"] = sum("suspect merge" in x.reason for x in links)
    return LinkResult(links, index.vocab, counts)


def read_texts(run_dir: Path) -> dict[str, str]:
    """The run's documents (id -> text), for acronym definitions; empty when it has none."""
    from kgc.rundir import RunDir

    documents = RunDir(run_dir, create=False).read_optional(DOCUMENTS) or []
    return {d.id: d.text for d in documents}
