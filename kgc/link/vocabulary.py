"""The user's vocabulary as one typed model, whatever file it came from, parsed once and cached.

A concept has an id, a preferred label, synonyms with a strength, a definition, a type and parents
(`broader` / `is_a`). Labels come from label properties only, never from an id or a URI fragment: a
concept without any label is counted and left out. The parsed vocabulary is cached under
KGC_HOME/link by the file's content hash, so a second run reads JSON instead of parsing RDF again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from kgc.config import kgc_home
from kgc.link.model import Columns, Concept, Synonym, VocabularyError
from kgc.link.readers import read_any
from kgc.rundir import atomic_write_text

log = logging.getLogger(__name__)

CACHE_VERSION = "1"


@dataclass
class Vocabulary:
    """Concepts in file order; `unlabelled` counts the concepts left out for having no label."""

    concepts: list[Concept]
    source: str = ""
    sha256: str = ""
    unlabelled: list[str] = field(default_factory=list)
    duplicate_ids: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.by_id: dict[str, Concept] = {c.id: c for c in self.concepts}

    def __len__(self) -> int:
        return len(self.concepts)

    def children(self) -> dict[str, list[str]]:
        kids: dict[str, list[str]] = defaultdict(list)
        for c in self.concepts:
            for p in c.parents:
                kids[p].append(c.id)
        return kids


def build(raw: list[Concept], unlabelled: list[str], source: str, sha: str) -> Vocabulary:
    """Concepts in order; a repeated id is merged into its first occurrence and reported."""
    seen: dict[str, int] = {}
    out: list[Concept] = []
    duplicates: list[str] = []
    for c in raw:
        if c.id in seen:
            duplicates.append(c.id)
            first = out[seen[c.id]]
            extra = tuple(s for s in (Synonym(c.label), *c.synonyms) if s.text != first.label)
            out[seen[c.id]] = Concept(
                first.id,
                first.label,
                tuple(dict.fromkeys((*first.synonyms, *extra))),
                first.definition or c.definition,
                first.type or c.type,
                tuple(dict.fromkeys((*first.parents, *c.parents))),
            )
            continue
        seen[c.id] = len(out)
        out.append(c)
    return Vocabulary(out, source, sha, unlabelled, duplicates)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_vocabulary(path: str | Path, columns: Columns | None = None, *, cache: bool = True) -> Vocabulary:
    """Read a vocabulary file (format from its name and content), or its cached parse."""
    path = Path(path)
    if not path.is_file():
        from kgc.resources import example_vocabulary

        raise VocabularyError(
            f"vocabulary file not found: {path} (the README's example vocabulary is {example_vocabulary()})"
        )
    columns = columns or Columns()
    sha = file_sha256(path)
    options = json.dumps([CACHE_VERSION, columns.__dict__], sort_keys=True)
    cache_file = cache_dir() / f"vocab-{hashlib.sha256((sha + options).encode()).hexdigest()[:24]}.json"
    if cache and cache_file.is_file():
        try:
            return _from_json(cache_file.read_text(encoding="utf-8"), str(path), sha)
        except (ValueError, KeyError, TypeError) as e:
            log.warning("vocabulary cache %s is unreadable (%s): parsing %s again", cache_file, e, path)
    raw, unlabelled = read_any(path, columns)
    vocab = build(raw, unlabelled, str(path), sha)
    if not vocab.concepts:
        raise VocabularyError(
            f"{path}: no concept with a label ({len(unlabelled)} without one): "
            "labels come from label columns or properties, never from ids"
        )
    if cache:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(cache_file, _to_json(vocab))
    return vocab


def cache_dir() -> Path:
    return kgc_home() / "link"


def _to_json(v: Vocabulary) -> str:
    rows = [
        [c.id, c.label, [[s.text, s.strength] for s in c.synonyms], c.definition, c.type, list(c.parents)]
        for c in v.concepts
    ]
    return json.dumps({"concepts": rows, "unlabelled": v.unlabelled, "duplicate_ids": v.duplicate_ids})


def _from_json(text: str, source: str, sha: str) -> Vocabulary:
    data = json.loads(text)
    concepts = [
        Concept(i, label, tuple(Synonym(t, s) for t, s in syn), d, ty, tuple(parents))
        for i, label, syn, d, ty, parents in data["concepts"]
    ]
    return Vocabulary(concepts, source, sha, data["unlabelled"], data["duplicate_ids"])


@dataclass
class VocabularyCheck:
    """What `kgc link --check-vocab` reports."""

    concepts: int
    unlabelled: list[str]
    duplicate_ids: list[str]
    duplicate_labels: dict[
        str, list[str]
    ]  # one concept's label given twice... -> ids (same label, several ids)
    homonyms: dict[str, list[str]]  # a name key shared by several concepts -> their ids
    missing_parents: list[tuple[str, str]]

    def lines(self) -> list[str]:
        out = [f"{self.concepts:,} concepts with a label"]
        out.append(f"{len(self.unlabelled):,} concepts without a label (left out)")
        out += [f"  {i}" for i in self.unlabelled[:10]]
        out.append(f"{len(self.duplicate_ids):,} ids given more than once (merged)")
        out += [f"  {i}" for i in self.duplicate_ids[:10]]
        out.append(f"{len(self.duplicate_labels):,} preferred labels shared by several concepts")
        out += [f"  {k!r}: {', '.join(v)}" for k, v in list(self.duplicate_labels.items())[:10]]
        out.append(
            f"{len(self.homonyms):,} homonyms (one name, several concepts: never linked automatically)"
        )
        out += [f"  {k!r}: {', '.join(v)}" for k, v in list(self.homonyms.items())[:10]]
        out.append(f"{len(self.missing_parents):,} parents that are not concepts of the vocabulary")
        out += [f"  {c} -> {p}" for c, p in self.missing_parents[:10]]
        return out


def check_vocabulary(v: Vocabulary) -> VocabularyCheck:
    from kgc.resolve import name_key

    labels: dict[str, list[str]] = defaultdict(list)
    for c in v.concepts:
        labels[c.label.strip().lower()].append(c.id)
    owners: dict[str, set[str]] = defaultdict(set)
    for c in v.concepts:
        for text, strength in c.names():
            if strength in ("label", "exact") and (key := name_key(text)):
                owners[key].add(c.id)
    homonyms = {k: sorted(ids) for k, ids in owners.items() if len(ids) > 1}
    missing = [(c.id, p) for c in v.concepts for p in c.parents if p not in v.by_id]
    return VocabularyCheck(
        concepts=len(v),
        unlabelled=v.unlabelled,
        duplicate_ids=sorted(Counter(v.duplicate_ids)),
        duplicate_labels={k: ids for k, ids in labels.items() if len(ids) > 1},
        homonyms=homonyms,
        missing_parents=missing,
    )
