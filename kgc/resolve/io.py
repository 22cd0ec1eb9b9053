"""Names files in, one JSON line per input name out: what `kgc resolve` reads and writes."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from kgc.errors import KgcError
from kgc.resolve.decisions import Resolution
from kgc.resolve.types import NameRecord


class ResolvedName(BaseModel):
    """One line of `kgc resolve`'s output."""

    name: str
    doc: str | None = None
    entity: str | None  # cluster id; None for a name without letters or digits
    canonical: str | None
    reason: str  # 'canonical' for the entity's own name, else how the name joined it
    score: float


def read_names(path: Path) -> list[NameRecord]:
    """A text file (one name per line, optionally `name<TAB>count`) or JSONL (`name`, `count`, `doc`,
    `context`): one record per line, in order."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise KgcError(f"cannot read names file {path}: {getattr(e, 'strerror', None) or e}") from e
    records = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            records.append(_json_record(line, path, n))
            continue
        name, _, count = line.partition("\t")
        try:
            records.append(NameRecord(name.strip(), int(count) if count.strip() else 1))
        except ValueError:
            raise KgcError(f"{path}:{n}: the count after the tab is not a whole number: {count!r}") from None
    if not records:
        raise KgcError(f"{path} holds no names")
    return records


def _json_record(line: str, path: Path, n: int) -> NameRecord:
    try:
        row = json.loads(line)
        name = row["name"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise KgcError(f"{path}:{n}: expected a JSON object with a 'name' field") from None
    context = row.get("context")
    return NameRecord(
        name=str(name),
        count=int(row.get("count", 1)),
        docs=(str(row["doc"]),) if row.get("doc") is not None else (),
        context=(str(context),) if context else (),
        type=row.get("type"),
    )


def resolved_lines(records: list[NameRecord], resolution: Resolution) -> list[ResolvedName]:
    """One line per input record: its entity, canonical name and why it belongs there."""
    why: dict[tuple[str, str | None], tuple[str, float]] = {}
    for m in resolution.merges:
        docs: list[str | None] = [*m.docs] or [None]
        for d in docs:
            why[(m.alias, d)] = (m.reason, m.score)
    out = []
    for r in records:
        doc = r.docs[0] if r.docs else None
        entity = resolution.lookup(r.name, doc)
        cluster = resolution.clusters.get(entity) if entity else None
        canonical = cluster.canonical if cluster else None
        if canonical == r.name:
            reason, score = "canonical", 1.0
        else:
            reason, score = why.get((r.name, doc)) or why.get((r.name, None)) or ("canonical", 1.0)
        out.append(
            ResolvedName(name=r.name, doc=doc, entity=entity, canonical=canonical, reason=reason, score=score)
        )
    return out
