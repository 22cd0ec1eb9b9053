"""Readers for the gold files `kgc eval` scores against: triplets, alias groups and labelled pairs.

Every reader is strict: a line it cannot read stops it with an EvaluationError naming the file and the
line, because a silently skipped gold line changes every score computed from the file.
The format is recognised from the first line that is not blank or a `#` comment: `{` is JSON Lines,
`(` is a Python tuple (Graphusion's `candidates/*.txt`), anything else is tab-separated.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from kgc.errors import EvaluationError
from kgc.schema import RelationSchema

Format = Literal["jsonl", "tuple", "tsv"]
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}


@dataclass(frozen=True)
class GoldTriplet:
    head: str
    relation: str  # the schema's spelling
    tail: str
    where: str  # "file:line", for messages


@dataclass(frozen=True)
class LabelledPair:
    head: str
    tail: str
    label: bool
    relation: str | None  # None: any relation, either direction
    where: str


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of the lines that are neither blank nor `#` comments."""
    try:
        with path.open(encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                text = line.rstrip("\r\n")
                if text.strip() and not text.lstrip().startswith("#"):
                    yield number, text
    except OSError as e:
        raise EvaluationError(f"cannot read {path}: {e.strerror or e}") from e
    except UnicodeDecodeError as e:
        raise EvaluationError(f"{path} is not UTF-8 text ({e.reason} at byte {e.start})") from e


def _sniff(first: str) -> Format:
    start = first.lstrip()
    if start.startswith(("{", "[")):
        return "jsonl"
    if start.startswith("("):
        return "tuple"
    return "tsv"


def _fail(path: Path, number: int, problem: str) -> EvaluationError:
    return EvaluationError(f"{path}:{number}: {problem}")


def _json_line(path: Path, number: int, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as e:
        raise _fail(path, number, f"not valid JSON ({e})") from e


def _name(path: Path, number: int, value: Any, field: str) -> str:
    if not isinstance(value, str) or not " ".join(value.split()):
        raise _fail(path, number, f"{field} must be a non-empty string, got {value!r}")
    return " ".join(value.split())


def _relation(path: Path, number: int, value: Any, schema: RelationSchema) -> str:
    name = _name(path, number, value, "relation")
    rel = schema.resolve(name)
    if rel is None:
        raise _fail(path, number, f"unknown relation {name!r}; the schema has: {', '.join(schema.names)}")
    return rel.name


def _header(fields: list[str], wanted: tuple[str, ...]) -> dict[str, int] | None:
    """Column positions when `fields` is a header line naming every wanted column, else None."""
    lowered = [f.strip().lower() for f in fields]
    if all(w in lowered for w in wanted):
        return {w: lowered.index(w) for w in wanted}
    return None


def read_triplets(path: str | Path, schema: RelationSchema | None = None) -> list[GoldTriplet]:
    """Gold triplets from TSV (`head<TAB>relation<TAB>tail`, an optional header naming those columns,
    extra columns ignored), JSON Lines (`head`, `relation`, `tail` fields) or Python tuple lines."""
    path, schema = Path(path), schema or RelationSchema()
    out: list[GoldTriplet] = []
    fmt: Format | None = None
    columns = {"head": 0, "relation": 1, "tail": 2}
    for number, text in _lines(path):
        where = f"{path}:{number}"
        if fmt is None:
            fmt = _sniff(text)
            if fmt == "tsv" and (found := _header(text.split("\t"), ("head", "relation", "tail"))):
                columns = found
                continue
        if fmt == "jsonl":
            row = _json_line(path, number, text)
            if not isinstance(row, dict):
                raise _fail(path, number, "expected a JSON object with head, relation and tail")
            values = [row.get("head"), row.get("relation"), row.get("tail")]
        elif fmt == "tuple":
            try:
                row = ast.literal_eval(text.strip())
            except (ValueError, SyntaxError) as e:
                raise _fail(path, number, f"not a Python tuple literal ({e.__class__.__name__})") from e
            if not isinstance(row, tuple) or len(row) != 3:
                raise _fail(path, number, "expected a tuple ('head', 'relation', 'tail')")
            values = list(row)
        else:
            fields = text.split("\t")
            if len(fields) < 3:
                raise _fail(
                    path,
                    number,
                    f"expected head<TAB>relation<TAB>tail, got {len(fields)} tab-separated field(s)",
                )
            values = [fields[columns["head"]], fields[columns["relation"]], fields[columns["tail"]]]
        head = _name(path, number, values[0], "head")
        tail = _name(path, number, values[2], "tail")
        out.append(GoldTriplet(head, _relation(path, number, values[1], schema), tail, where))
    if not out:
        raise EvaluationError(f"{path}: no triplets found")
    return out


def read_alias_groups(path: str | Path) -> list[list[str]]:
    """Groups of names that denote one thing: one group per line, as a JSON array (or an object with a
    `names` list) or as tab-separated names. A name may appear in one group only."""
    path = Path(path)
    groups: list[list[str]] = []
    seen: dict[str, int] = {}
    fmt: Format | None = None
    for number, text in _lines(path):
        fmt = fmt or _sniff(text)
        if fmt == "jsonl":
            row = _json_line(path, number, text)
            values = row.get("names") if isinstance(row, dict) else row
            if not isinstance(values, list) or not values:
                raise _fail(path, number, 'expected a JSON array of names or {"names": [...]}')
        elif fmt == "tuple":
            raise _fail(path, number, "expected a JSON array of names or tab-separated names")
        else:
            values = text.split("\t")
        names = [_name(path, number, v, "a name") for v in values]
        for n in names:
            key = n.casefold()
            if key in seen and seen[key] != number:
                raise _fail(path, number, f"{n!r} is already in the group on line {seen[key]}")
            seen[key] = number
        groups.append(list(dict.fromkeys(names)))
    if not groups:
        raise EvaluationError(f"{path}: no alias groups found")
    return groups


def _label(path: Path, number: int, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _fail(path, number, f"label must be 1/0, true/false or yes/no, got {value!r}")


def read_labelled_pairs(path: str | Path, schema: RelationSchema | None = None) -> list[LabelledPair]:
    """Labelled pairs from TSV (`head<TAB>tail<TAB>label`, or `head<TAB>relation<TAB>tail<TAB>label`;
    an optional header naming the columns) or JSON Lines (`head`, `tail`, `label`, optional `relation`)."""
    path, schema = Path(path), schema or RelationSchema()
    out: list[LabelledPair] = []
    fmt: Format | None = None
    header: dict[str, int] | None = None
    for number, text in _lines(path):
        if fmt is None:
            fmt = _sniff(text)
            header = _header(text.split("\t"), ("head", "tail", "label")) if fmt == "tsv" else None
            if header is not None:
                lowered = [f.strip().lower() for f in text.split("\t")]
                if "relation" in lowered:
                    header["relation"] = lowered.index("relation")
                continue
        if fmt == "jsonl":
            row = _json_line(path, number, text)
            if not isinstance(row, dict):
                raise _fail(path, number, "expected a JSON object with head, tail and label")
            if "label" not in row:
                raise _fail(path, number, "missing field 'label'")
            head, tail, label, relation = row.get("head"), row.get("tail"), row["label"], row.get("relation")
        elif fmt == "tuple":
            raise _fail(path, number, "expected head<TAB>tail<TAB>label or a JSON object")
        else:
            fields = text.split("\t")
            columns = header or (
                {"head": 0, "relation": 1, "tail": 2, "label": 3}
                if len(fields) == 4
                else {"head": 0, "tail": 1, "label": 2}
            )
            if len(fields) <= max(columns.values()) or (header is None and len(fields) > 4):
                raise _fail(
                    path,
                    number,
                    f"expected head<TAB>tail<TAB>label or head<TAB>relation<TAB>tail<TAB>label, "
                    f"got {len(fields)} tab-separated field(s)",
                )
            head, tail, label = fields[columns["head"]], fields[columns["tail"]], fields[columns["label"]]
            relation = fields[columns["relation"]] if "relation" in columns else None
        out.append(
            LabelledPair(
                head=_name(path, number, head, "head"),
                tail=_name(path, number, tail, "tail"),
                label=_label(path, number, label),
                relation=None if relation in (None, "") else _relation(path, number, relation, schema),
                where=f"{path}:{number}",
            )
        )
    if not out:
        raise EvaluationError(f"{path}: no labelled pairs found")
    return out
