"""Links as an SSSOM mapping table (TSV with a YAML header), one row per exactMatch or broadMatch.

SSSOM (Simple Standard for Sharing Ontological Mappings) is what ontology tools read; a NIL name gets
no row. The subject is the name as given (`subject_label`) with a `kgc:` CURIE made from it (or the
graph entity's id when linked from a run); the object is the vocabulary's own id.
"""

from __future__ import annotations

import csv
import io
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import quote

from kgc.link.vocabulary import Vocabulary
from kgc.models import NameLink

COLUMNS = (
    "subject_id", "subject_label", "predicate_id", "object_id", "object_label",
    "mapping_justification", "confidence", "mapping_tool", "comment",
)  # fmt: skip
# semapv (the semantic mapping vocabulary) names how a mapping was found.
_JUSTIFICATION = {
    "key": "semapv:LexicalMatching",
    "definition": "semapv:LexicalMatching",
    "acronym": "semapv:LexicalMatching",
    "narrower": "semapv:LexicalMatching",
    "ngram": "semapv:LexicalMatching",
    "hierarchy": "semapv:CompositeMatching",
    "llm": "semapv:CompositeMatching",
}
_PREFIXES = {
    "kgc": "https://w3id.org/kgc/name/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "semapv": "https://w3id.org/semapv/vocab/",
}


def subject_id(link: NameLink) -> str:
    return "kgc:" + quote((link.entity or link.name).replace(" ", "_"), safe="")


def sssom_text(links: list[NameLink], vocab: Vocabulary) -> str:
    header = ["curie_map:"] + [f"  {p}: {uri}" for p, uri in _PREFIXES.items()]
    header += [
        f"mapping_set_id: https://w3id.org/kgc/mappings/{vocab.sha256[:16] or 'unsaved'}",
        "license: https://w3id.org/sssom/license/unspecified",
        f"object_source: {vocab.source or 'unsaved'}",
        f"mapping_tool: kgc {_version()}",
    ]
    out = io.StringIO()
    out.write("".join(f"# {line}\n" for line in header))
    writer = csv.writer(out, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    for link in links:
        if not link.linked:
            continue
        writer.writerow(
            [
                subject_id(link),
                _one_line(link.name),
                f"skos:{link.match}",
                link.id,
                _one_line(link.label or ""),
                _JUSTIFICATION.get(link.band, "semapv:LexicalMatching"),
                f"{link.score:.4g}",
                "kgc",
                _one_line(f"{link.band}: {link.reason}"),
            ]
        )
    return out.getvalue()


def _version() -> str:
    try:
        return version("kgc")
    except PackageNotFoundError:  # a checkout that was never installed
        return "unknown"


def _one_line(text: str) -> str:
    return " ".join(text.split())
