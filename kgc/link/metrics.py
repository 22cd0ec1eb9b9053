"""How good the links are against a gold file: `kgc eval RUN --links GOLD` and bench/bench_link.py.

GOLD: `name<TAB>id|NIL[<TAB>broader_id]` a line (more columns are ignored). A prediction is the name's
decision: exactMatch or broadMatch to a concept, or no link (NIL, ambiguous, uncertain).

- accuracy@1: exactMatch to the gold id; for a NIL name, no exactMatch (a broadMatch only to its
  gold broader concept). Broader-tolerant accuracy also accepts a link to the gold id's parents or to
  the gold broader concept.
- auto-link precision: of the links made, the right ones (exactMatch = gold id, broadMatch = gold
  broader); coverage: links made / names with a gold id or broader concept.
- recall@k: the gold id among the first k candidates, per band (its candidates in rank order) and for
  the union (the ranked list), over names with a gold id.
- NIL precision/recall/F1: 'NIL' predicted = no exactMatch; gold NIL = no gold id.
- strata: exact key (a key or definition hit), acronym (the name looks like one), ambiguous (the
  decision was ambiguous), non-trivial (the rest).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from kgc.errors import KgcError
from kgc.models import NameLink
from kgc.resolve.acronyms import looks_like_acronym

KS = (1, 5, 10, 30)
BANDS = ("key", "definition", "variant", "acronym", "narrower", "ngram", "dense")


@dataclass(frozen=True)
class GoldLink:
    name: str
    id: str | None  # None: NIL
    broader: str | None = None


def read_gold(path: Path) -> list[GoldLink]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise KgcError(f"cannot read gold links {path}: {e}") from None
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) < 2 or not cells[0].strip() or not cells[1].strip():
            raise KgcError(f"{path}:{n}: expected name<TAB>id|NIL[<TAB>broader_id]")
        gid = cells[1].strip()
        broader = cells[2].strip() if len(cells) > 2 and cells[2].strip() else None
        out.append(GoldLink(cells[0], None if gid.upper() == "NIL" else gid, broader))
    if not out:
        raise KgcError(f"{path} holds no gold links")
    return out


class Rate(BaseModel):
    hits: int = 0
    total: int = 0

    @property
    def value(self) -> float:
        return self.hits / self.total if self.total else 0.0

    def add(self, hit: bool) -> None:
        self.hits += hit
        self.total += 1


class LinkScores(BaseModel):
    names: int = 0
    missing: int = 0  # gold names the predictions do not hold
    accuracy_at_1: Rate = Field(default_factory=Rate)
    broader_tolerant_accuracy: Rate = Field(default_factory=Rate)
    auto_link_precision: Rate = Field(default_factory=Rate)
    coverage: Rate = Field(default_factory=Rate)
    nil_precision: Rate = Field(default_factory=Rate)
    nil_recall: Rate = Field(default_factory=Rate)
    recall: dict[str, dict[int, Rate]] = Field(default_factory=dict)  # band or 'union' -> k -> rate
    strata: dict[str, Rate] = Field(default_factory=dict)  # accuracy@1 per stratum
    errors: list[str] = Field(default_factory=list)  # a sample of wrong links, for reading

    @property
    def nil_f1(self) -> float:
        p, r = self.nil_precision.value, self.nil_recall.value
        return 2 * p * r / (p + r) if p + r else 0.0

    def table(self) -> list[tuple[str, str]]:
        def pct(r: Rate) -> str:
            return f"{r.value:.3f} ({r.hits}/{r.total})"

        rows = [
            ("names", f"{self.names} ({self.missing} not found)"),
            ("accuracy@1", pct(self.accuracy_at_1)),
            ("broader-tolerant accuracy", pct(self.broader_tolerant_accuracy)),
            ("auto-link precision", pct(self.auto_link_precision)),
            ("auto-link coverage", pct(self.coverage)),
            ("NIL precision", pct(self.nil_precision)),
            ("NIL recall", pct(self.nil_recall)),
            ("NIL F1", f"{self.nil_f1:.3f}"),
        ]
        for band, by_k in self.recall.items():
            rows.append((f"recall@k {band}", "  ".join(f"@{k} {r.value:.3f}" for k, r in by_k.items())))
        for stratum, r in self.strata.items():
            rows.append((f"accuracy@1 {stratum}", pct(r)))
        return rows


def _stratum(link: NameLink) -> str:
    if link.match == "ambiguous":
        return "ambiguous"
    if looks_like_acronym(link.name.strip()):
        return "acronym"
    if link.candidates and {"key", "definition"} & set(link.candidates[0].bands):
        return "exact key"
    return "non-trivial"


def score_links(
    gold: list[GoldLink],
    predicted: dict[str, NameLink],
    parents: Callable[[str], Iterable[str]] = lambda _: (),
) -> LinkScores:
    s = LinkScores(recall={b: {k: Rate() for k in KS} for b in ("union", *BANDS)})
    for g in gold:
        p = predicted.get(g.name)
        if p is None:
            s.missing += 1
            continue
        s.names += 1
        exact = p.id if p.match == "exactMatch" else None
        broad = p.id if p.match == "broadMatch" else None
        right = exact == g.id if g.id is not None else exact is None and broad in (None, g.broader)
        if g.id is not None and broad is not None:
            right = False
        s.accuracy_at_1.add(right)
        accepted = {g.id, g.broader, *(parents(g.id) if g.id else ())} - {None}
        s.broader_tolerant_accuracy.add(right or (p.id in accepted and p.linked))
        s.strata.setdefault(_stratum(p), Rate()).add(right)
        if p.linked:
            good = (exact is not None and exact == g.id) or (
                broad is not None and broad in (g.broader, *(parents(g.id) if g.id else ()))
            )
            s.auto_link_precision.add(good)
            if not good and len(s.errors) < 200:
                s.errors.append(
                    f"{g.name!r}: {p.match} {p.label!r} ({p.band}); gold {g.id or 'NIL'} {g.broader or ''}"
                )
        if g.id is not None or g.broader is not None:
            s.coverage.add(p.linked)
        if exact is None:
            s.nil_precision.add(g.id is None)
        if g.id is None:
            s.nil_recall.add(exact is None)
        if g.id is not None:
            ranked = [c.id for c in p.candidates]
            for k in KS:
                s.recall["union"][k].add(g.id in ranked[:k])
            for band in BANDS:
                in_band = [c.id for c in p.candidates if band in c.bands]
                for k in KS:
                    s.recall[band][k].add(g.id in in_band[:k])
    s.recall = {b: by_k for b, by_k in s.recall.items() if any(r.hits for r in by_k.values()) or b == "union"}
    return s
