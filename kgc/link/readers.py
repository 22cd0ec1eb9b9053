"""Vocabulary files into concepts: CSV/TSV with named columns, JSONL and SSSOM here; RDF (SKOS, OWL)
and OBO in kgc.link.ontologies, through rdflib and pronto.

Each reader returns the concepts it found and the ids of those it left out for having no label.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from kgc.link.model import STRENGTHS, Columns, Concept, Strength, Synonym, VocabularyError

# The usual names of each column (case, spaces and underscores ignored), first match wins.
_USUAL = {
    "id": ("id", "identifier", "conceptid", "curie", "uri", "iri", "code"),
    "label": ("label", "preflabel", "preferredlabel", "name", "prefname", "concept", "term"),
    "synonyms": ("synonyms", "synonym", "altlabel", "altlabels", "aliases", "alias"),
    "definition": ("definition", "description", "def"),
    "type": ("type", "category", "semantictype", "class"),
    "parents": ("parents", "parent", "broader", "isa", "parentid", "parentids"),
}
_LIST_SEPARATORS = ("|", ";")
_RDF_SUFFIXES = {".ttl", ".rdf", ".owl", ".xml", ".nt", ".n3", ".jsonld", ".trig", ".nq"}


def read_any(path: Path, columns: Columns) -> tuple[list[Concept], list[str]]:
    name = path.name.lower()
    suffix = path.suffix.lower()
    if suffix == ".obo":
        from kgc.link.ontologies import read_obo

        return read_obo(path)
    if suffix in _RDF_SUFFIXES:
        from kgc.link.ontologies import read_rdf

        return read_rdf(path)
    text = _text(path)
    if suffix in (".jsonl", ".ndjson") or (suffix == ".json" and text.lstrip().startswith("{")):
        return read_jsonl(text, path)
    if name.endswith(".sssom.tsv") or _is_sssom(text):
        return read_sssom(text, path)
    if suffix in (".csv", ".tsv", ".txt", ".tab", ".psv"):
        return read_table(text, path, columns)
    raise VocabularyError(
        f"{path}: unknown vocabulary format {suffix or '(no suffix)'}; use .csv/.tsv (a header row with "
        "id and label), .jsonl, .sssom.tsv, SKOS or OWL (.ttl, .rdf, .owl, .nt, .jsonld) or .obo"
    )


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise VocabularyError(f"{path} is not UTF-8 text (byte {e.start}): save it as UTF-8") from None
    except OSError as e:
        raise VocabularyError(f"cannot read {path}: {e.strerror or e}") from None


def _norm(column: str) -> str:
    return column.strip().lower().replace(" ", "").replace("_", "").replace("-", "").replace(":", "")


def _find(header: list[str], given: str | None, role: str, path: Path, required: bool) -> int | None:
    if given is not None:
        if given not in header:
            raise VocabularyError(f"{path}: no column {given!r} for {role}; the header is {header}")
        return header.index(given)
    normalised = [_norm(h) for h in header]
    for usual in _USUAL[role]:
        if usual in normalised:
            return normalised.index(usual)
    if required:
        raise VocabularyError(
            f"{path}: no {role} column in the header {header}: name it {_USUAL[role][0]!r} "
            f"(or one of {', '.join(_USUAL[role][1:4])}) or pass --{role}-column"
        )
    return None


def _split(value: str) -> list[str]:
    for sep in _LIST_SEPARATORS:
        if sep in value:
            return [v.strip() for v in value.split(sep) if v.strip()]
    return [value.strip()] if value.strip() else []


def read_table(text: str, path: Path, columns: Columns) -> tuple[list[Concept], list[str]]:
    """A CSV or TSV file with a header row; `id` and `label` found by name."""
    first = text.split("\n", 1)[0]
    delimiter = max(("\t", ",", "|", ";"), key=first.count)
    rows = list(csv.reader(text.splitlines(), delimiter=delimiter))
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise VocabularyError(f"{path} is empty")
    header = [h.strip() for h in rows[0]]
    at = {
        role: _find(header, getattr(columns, role), role, path, required=role in ("id", "label"))
        for role in ("id", "label", "synonyms", "definition", "type", "parents")
    }

    def cell(row: list[str], role: str) -> str:
        i = at[role]
        return row[i].strip() if i is not None and i < len(row) else ""

    concepts: list[Concept] = []
    unlabelled: list[str] = []
    for n, row in enumerate(rows[1:], 2):
        cid = cell(row, "id")
        if not cid:
            raise VocabularyError(f"{path}:{n}: a row without an id")
        label = cell(row, "label")
        if not label:
            unlabelled.append(cid)
            continue
        concepts.append(
            Concept(
                id=cid,
                label=label,
                synonyms=tuple(Synonym(s) for s in _split(cell(row, "synonyms")) if s != label),
                definition=cell(row, "definition") or None,
                type=cell(row, "type") or None,
                parents=tuple(_split(cell(row, "parents"))),
            )
        )
    return concepts, unlabelled


def _synonym(value: object) -> Synonym:
    if isinstance(value, dict):
        strength = str(value.get("strength", "exact")).lower()
        if strength not in STRENGTHS:
            raise ValueError(f"synonym strength {strength!r} is not one of {', '.join(STRENGTHS)}")
        return Synonym(str(value["text"]), strength)
    return Synonym(str(value))


def read_jsonl(text: str, path: Path) -> tuple[list[Concept], list[str]]:
    """One JSON object a line: id, label, optional synonyms (strings or {text, strength}), definition,
    type, parents."""
    concepts: list[Concept] = []
    unlabelled: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            cid = str(row["id"])
            label = str(row.get("label") or "").strip()
            synonyms = tuple(_synonym(s) for s in row.get("synonyms") or ())
            parents = row.get("parents") or ()
            parents = (parents,) if isinstance(parents, str) else tuple(str(p) for p in parents)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
            raise VocabularyError(f"{path}:{n}: expected an object with 'id' and 'label' ({e})") from None
        if not label:
            unlabelled.append(cid)
            continue
        concepts.append(
            Concept(cid, label, synonyms, row.get("definition") or None, row.get("type") or None, parents)
        )
    return concepts, unlabelled


def _is_sssom(text: str) -> bool:
    header = next((line for line in text.splitlines() if line and not line.startswith("#")), "")
    cells = set(header.split("\t"))
    return {"subject_id", "object_id", "predicate_id"} <= cells


# A mapping 'subject predicate object' read as a synonym of the object concept: the subject's label
# names the object (exactMatch), something narrower (broadMatch: the object is broader), and so on.
_SSSOM_STRENGTH: dict[str, Strength] = {
    "skos:exactMatch": "exact",
    "owl:equivalentClass": "exact",
    "oboInOwl:hasDbXref": "exact",
    "skos:broadMatch": "narrow",
    "skos:narrowMatch": "broad",
    "skos:closeMatch": "related",
    "skos:relatedMatch": "related",
}


def read_sssom(text: str, path: Path) -> tuple[list[Concept], list[str]]:
    """An SSSOM mapping table as a vocabulary: its objects are the concepts (object_label the label),
    each mapped subject_label a synonym whose strength follows the predicate."""
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    rows = list(csv.DictReader(lines, delimiter="\t"))
    labels: dict[str, str] = {}
    synonyms: dict[str, list[Synonym]] = {}
    for row in rows:
        oid = (row.get("object_id") or "").strip()
        if not oid:
            continue
        labels.setdefault(oid, "")
        if not labels[oid] and (label := (row.get("object_label") or "").strip()):
            labels[oid] = label
        strength = _SSSOM_STRENGTH.get((row.get("predicate_id") or "").strip())
        subject = (row.get("subject_label") or "").strip()
        if strength and subject and row.get("predicate_modifier", "") != "Not":
            synonyms.setdefault(oid, []).append(Synonym(subject, strength))
    concepts = [
        Concept(oid, label, tuple(dict.fromkeys(s for s in synonyms.get(oid, []) if s.text != label)))
        for oid, label in labels.items()
        if label
    ]
    return concepts, [oid for oid, label in labels.items() if not label]
