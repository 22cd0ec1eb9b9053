"""The embedded outputs: networkx, GraphML (Gephi, yEd, networkx.read_graphml) and JSON/JSONL."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import networkx as nx

from kgc.artifacts import ENTITIES, GRAPH, GRAPHML, LINKED_GRAPH, RELATIONS
from kgc.errors import ExportError, KgcError
from kgc.models import Entity, KnowledgeGraph, Relation
from kgc.rundir import RunDir

# GraphML attributes are scalars: list-valued fields travel as JSON strings.
_ENTITY_LISTS = ("aliases", "sources")
_RELATION_LISTS = ("sources", "reversed_sources", "evidence")
# Characters XML 1.0 cannot hold at all (not even escaped): control characters but tab and line
# breaks, lone surrogates, U+FFFE/U+FFFF. Gephi, yEd and networkx refuse a file with one.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def to_networkx(graph: KnowledgeGraph) -> nx.DiGraph:
    """Nodes are entity ids, edges carry the relation name and its provenance.

    There is at most one relation per entity pair, so a DiGraph is enough; undirected relation types
    (Compare, Conjunction) are stored once with `directed=False`.
    """
    g = nx.DiGraph()
    for e in graph.entities:
        g.add_node(e.id, **e.model_dump(exclude={"id"}))
    for r in graph.relations:
        g.add_edge(r.head, r.tail, **r.model_dump(exclude={"head", "tail"}))
    return g


def from_networkx(g: nx.DiGraph) -> KnowledgeGraph:
    """The inverse of `to_networkx` (merges and conflicts are not part of a networkx graph)."""
    entities = [
        Entity.model_validate({"id": str(n), **_decode(d, _ENTITY_LISTS)}) for n, d in g.nodes(data=True)
    ]
    relations = [
        Relation.model_validate({"head": str(u), "tail": str(v), **_decode(d, _RELATION_LISTS)})
        for u, v, d in g.edges(data=True)
    ]
    return KnowledgeGraph(entities=entities, relations=relations)


def xml_safe(text: str) -> str:
    """`text` with each character XML cannot hold replaced by U+FFFD (graph.json keeps the original)."""
    return _NOT_XML.sub("\ufffd", text)


def _encode(data: dict[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in data.items():
        if v is None:
            continue  # GraphML has no null; a missing attribute reads back as the model default
        value = json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v
        out[k] = xml_safe(value) if isinstance(value, str) else value
    return out


def _decode(data: dict[str, object], list_fields: tuple[str, ...]) -> dict[str, object]:
    out = dict(data)
    for k in list_fields:
        if isinstance(out.get(k), str):
            out[k] = json.loads(str(out[k]))
    return out


def graphml_text(graph: KnowledgeGraph) -> str:
    g = to_networkx(graph)
    flat = nx.DiGraph()
    flat.add_nodes_from((xml_safe(n), _encode(d)) for n, d in g.nodes(data=True))
    flat.add_edges_from((xml_safe(u), xml_safe(v), _encode(d)) for u, v, d in g.edges(data=True))
    if flat.number_of_nodes() != g.number_of_nodes():
        raise ExportError("entity ids differ only by characters XML cannot hold: cannot write GraphML")
    buf = io.BytesIO()
    nx.write_graphml(flat, buf, encoding="utf-8", named_key_ids=True)
    return buf.getvalue().decode("utf-8")


def write_graph(graph: KnowledgeGraph, out_dir: Path) -> list[Path]:
    """graph.json (everything), graph.graphml, entities.jsonl, relations.jsonl; all atomic."""
    try:
        run = RunDir(out_dir)
        return [
            run.write(GRAPH, graph),
            run.write(GRAPHML, graphml_text(graph)),
            run.write(ENTITIES, graph.entities),
            run.write(RELATIONS, graph.relations),
        ]
    except OSError as e:
        raise ExportError(f"cannot write the graph to {out_dir}: {e.strerror or e}") from e


def linked_is_current(run: RunDir) -> bool:
    """Whether the run's graph is the linked one: the link stage wrote it after the last fusion, and
    the latest run still links (a vocabulary is configured)."""
    if not run.exists(LINKED_GRAPH):
        return False
    cfg = run.config()
    if cfg is None or cfg.link.vocabulary is None:
        return False
    return (run / LINKED_GRAPH).stat().st_mtime >= (run / GRAPH).stat().st_mtime


def read_graph(path: str | Path) -> KnowledgeGraph:
    """Load graph.json, a .graphml written by kgc, or a run directory's graph: the linked graph
    (graph.linked.json) when the run links to a vocabulary, else the fused graph.json."""
    p = Path(path)
    if p.is_dir():
        run = RunDir(p)
        if not run.exists(GRAPH):
            raise ExportError(f"no graph at {run / GRAPH}: run `kgc build` or `kgc fuse` first")
        try:
            return run.read(LINKED_GRAPH if linked_is_current(run) else GRAPH)
        except KgcError as e:
            raise ExportError(str(e)) from None
    try:
        if p.suffix == ".graphml":
            return from_networkx(nx.read_graphml(p))
        return KnowledgeGraph.model_validate_json(p.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ExportError(f"no graph at {p}: run `kgc build` or `kgc fuse` first") from e
    except (OSError, ValueError) as e:
        raise ExportError(f"cannot read graph {p}: {e}") from e
