"""Why an entity of a run is what it is: its aliases and how each joined, the pairs kept apart and
why, and its relations with support and sources. Read from the fusion stage's files (`kgc explain`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import process

from kgc.artifacts import CLUSTERS, MERGES, REJECTED_PAIRS
from kgc.errors import KgcError
from kgc.export.graph_files import read_graph
from kgc.models import ClusterSummary, Entity, MergeDecision, PairDecision, Relation
from kgc.resolve.index import NameIndex
from kgc.rundir import RunDir


@dataclass
class Explanation:
    entity: Entity
    merges: list[MergeDecision]
    rejected: list[PairDecision]
    relations: list[Relation]
    names: dict[str, str]  # entity id -> name, for the relations' other ends
    cluster: ClusterSummary | None = None  # its clusters.jsonl line: weakest link

    def lines(self) -> list[str]:
        e = self.entity
        out = [f"{e.name}  (id {e.id}, {e.support} documents)"]
        if self.cluster is not None and self.cluster.canonical_reason:
            out.append(f"  shown as {e.name!r}: {self.cluster.canonical_reason}")
        if self.cluster is not None and self.cluster.weakest_pair:
            a, b = self.cluster.weakest_pair
            out.append(f"  weakest link: {self.cluster.weakest} between {a!r} and {b!r}")
        out.append(f"aliases ({len(self.merges)}):")
        for m in self.merges:
            how = f"{m.reason} {m.score}" + (f" via {m.via!r}" if m.via else "")
            extra = [f"{k} {v}" for k, v in m.scores.items()]
            if m.votes:
                extra.append(
                    "LLM votes " + "/".join({True: "same", False: "different", None: "-"}[v] for v in m.votes)
                )
            if m.docs:
                extra.append("only in " + ", ".join(m.docs))
            out.append(f"  {m.alias!r}: {how}" + (f" ({'; '.join(extra)})" if extra else ""))
        out.append(f"kept apart ({len(self.rejected)}):")
        for p in self.rejected:
            scores = ", ".join(f"{k} {v}" for k, v in p.scores.items())
            votes = f"; LLM votes {p.votes}" if p.votes else ""
            out.append(f"  {p.a!r} / {p.b!r}: {p.decision}, {p.reason} [{p.generator}; {scores}{votes}]")
        out.append(f"relations ({len(self.relations)}):")
        for r in self.relations:
            arrow = f"{self.names.get(r.head, r.head)} --{r.relation}--> {self.names.get(r.tail, r.tail)}"
            src = ", ".join(r.sources[:5]) + (" ..." if len(r.sources) > 5 else "")
            rev = f"; reversed in {', '.join(r.reversed_sources)}" if r.reversed_sources else ""
            how = "inferred" if r.inferred else f"{r.decided_by}, support {r.support}"
            out.append(f"  {arrow}  ({how}, confidence {r.confidence}; sources {src or '-'}{rev})")
        return out


def explain(run_dir: Path, name: str) -> Explanation:
    """The explanation of the entity named `name` (its canonical name, an alias or its id) in a run."""
    graph = read_graph(run_dir)
    run = RunDir(run_dir)
    merges = run.read_optional(MERGES) or []
    entity = _find(graph.entities, merges, name)
    own = [m for m in merges if m.entity == entity.id or (m.entity is None and m.canonical == entity.name)]
    names = {entity.name, *entity.aliases, *(m.alias for m in own)}
    rejected = run.read_optional(REJECTED_PAIRS) or []
    cluster = next((c for c in run.read_optional(CLUSTERS) or [] if c.id == entity.id), None)
    return Explanation(
        entity=entity,
        merges=own,
        rejected=[p for p in rejected if p.a in names or p.b in names],
        relations=[r for r in graph.relations if entity.id in (r.head, r.tail)],
        names={e.id: e.name for e in graph.entities},
        cluster=cluster,
    )


def _find(entities: list[Entity], merges: list[MergeDecision], name: str) -> Entity:
    by_id = {e.id: e for e in entities}
    if name in by_id:
        return by_id[name]
    if (found := NameIndex.from_entities(entities, merges).lookup(name)) in by_id:
        return by_id[found]
    close = process.extract(name, [e.name for e in entities], limit=3)
    hint = f"; closest: {', '.join(repr(c[0]) for c in close)}" if close else ""
    raise KgcError(f"no entity named {name!r} in {(entities and 'this run') or 'an empty graph'}{hint}")
