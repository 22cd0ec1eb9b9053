"""Ontology files into concepts: SKOS and OWL (any RDF serialisation rdflib reads) and OBO (pronto).

Labels come only from label properties (skos:prefLabel, else rdfs:label, English or untagged first);
a concept or class without one is counted, never named after its URI fragment. Ids are CURIEs where
the file declares a prefix for the URI (or it is an OBO PURL), else the full URI.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from kgc.link.model import Concept, Strength, Synonym, VocabularyError

_OBO_PURL = re.compile(r"^http://purl\.obolibrary\.org/obo/([A-Za-z][A-Za-z0-9]*)_(\w+)$")
_SKOS = "http://www.w3.org/2004/02/skos/core#"
_OIO = "http://www.geneontology.org/formats/oboInOwl#"
_SYNONYMS: dict[str, Strength] = {
    _SKOS + "altLabel": "exact",
    _SKOS + "hiddenLabel": "exact",
    _OIO + "hasExactSynonym": "exact",
    _OIO + "hasRelatedSynonym": "related",
    _OIO + "hasBroadSynonym": "broad",
    _OIO + "hasNarrowSynonym": "narrow",
}
_DEFINITIONS = (_SKOS + "definition", "http://purl.obolibrary.org/obo/IAO_0000115")
_FORMATS = {
    ".ttl": "turtle",
    ".nt": "nt",
    ".n3": "n3",
    ".jsonld": "json-ld",
    ".trig": "trig",
    ".nq": "nquads",
}


def read_rdf(path: Path) -> tuple[list[Concept], list[str]]:
    """SKOS concepts (prefLabel, altLabel, hiddenLabel, broader, definition) and OWL classes (rdfs:label,
    oboInOwl synonyms by scope, rdfs:subClassOf, IAO definition)."""
    try:
        from rdflib import OWL, RDF, RDFS, Graph, Literal, URIRef
        from rdflib.namespace import SKOS
    except ImportError:
        raise VocabularyError("reading SKOS or OWL files needs rdflib: pip install 'kgc[link]'") from None

    g = Graph()
    try:
        g.parse(str(path), format=_FORMATS.get(path.suffix.lower(), "xml"))
    except Exception as e:  # rdflib raises many types (SAX, syntax, plugin) for a bad file
        raise VocabularyError(f"{path}: not readable as RDF ({type(e).__name__}: {e})") from None
    prefixes = {str(ns): p for p, ns in g.namespaces() if p}

    def curie(node: object) -> str:
        uri = str(node)
        if m := _OBO_PURL.match(uri):
            return f"{m[1]}:{m[2]}"
        for ns in sorted(prefixes, key=len, reverse=True):
            if uri.startswith(ns) and len(uri) > len(ns):
                return f"{prefixes[ns]}:{uri[len(ns) :]}"
        return uri

    def texts(s: object, prop: object) -> list[str]:
        lits = [o for o in g.objects(s, prop) if isinstance(o, Literal)]  # type: ignore[arg-type]
        lits.sort(key=lambda o: (o.language not in (None, "en") and not str(o.language).startswith("en-"),))
        return [str(o).strip() for o in lits if str(o).strip()]

    subjects = [s for s in g.subjects(RDF.type, SKOS.Concept) if isinstance(s, URIRef)]
    subjects += [s for s in g.subjects(RDF.type, OWL.Class) if isinstance(s, URIRef)]
    subjects += [s for s in g.subjects(SKOS.prefLabel, None) if isinstance(s, URIRef)]
    concepts: list[Concept] = []
    unlabelled: list[str] = []
    for s in dict.fromkeys(subjects):
        if (s, OWL.deprecated, Literal(True)) in g:
            continue
        pref, rdfs = texts(s, SKOS.prefLabel), texts(s, RDFS.label)
        labels = pref or rdfs
        if not labels:
            unlabelled.append(curie(s))
            continue
        synonyms = [Synonym(t) for t in (*labels[1:], *(rdfs if pref else ()))]
        for prop, strength in _SYNONYMS.items():
            synonyms += [Synonym(t, strength) for t in texts(s, URIRef(prop))]
        definition = next((t for p in _DEFINITIONS for t in texts(s, URIRef(p))), None)
        parents = [o for o in g.objects(s, SKOS.broader) if isinstance(o, URIRef)]
        parents += [o for o in g.objects(s, RDFS.subClassOf) if isinstance(o, URIRef) and o != OWL.Thing]
        concepts.append(
            Concept(
                id=curie(s),
                label=labels[0],
                synonyms=tuple(dict.fromkeys(x for x in synonyms if x.text != labels[0])),
                definition=definition,
                parents=tuple(dict.fromkeys(curie(p) for p in parents)),
            )
        )
    return concepts, unlabelled


def read_obo(path: Path) -> tuple[list[Concept], list[str]]:
    """OBO terms: name, synonyms with their scope (EXACT, RELATED, BROAD, NARROW), def, is_a."""
    try:
        import pronto
    except ImportError:
        raise VocabularyError("reading .obo files needs pronto: pip install 'kgc[link]'") from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pronto warns about every unusual header line
        try:
            onto = pronto.Ontology(str(path))
        except Exception as e:  # fastobo's syntax errors have several types
            raise VocabularyError(f"{path}: not readable as OBO ({type(e).__name__}: {e})") from None
        concepts: list[Concept] = []
        unlabelled: list[str] = []
        for term in onto.terms():
            if term.obsolete:
                continue
            if not term.name:
                unlabelled.append(term.id)
                continue
            scope: dict[str, Strength] = {"EXACT": "exact", "RELATED": "related", "BROAD": "broad"}
            synonyms = tuple(
                Synonym(s.description, scope.get(s.scope or "RELATED", "narrow"))
                for s in sorted(term.synonyms, key=lambda s: s.description)
                if s.description and s.description != term.name
            )
            parents = tuple(sorted(p.id for p in term.superclasses(distance=1, with_self=False)))
            concepts.append(
                Concept(
                    term.id,
                    term.name,
                    synonyms,
                    str(term.definition) if term.definition else None,
                    None,
                    parents,
                )
            )
    return concepts, unlabelled
