"""The link decision for one name, from its ranked candidates: exactMatch, broadMatch, NIL, or no link
with a flag (ambiguous: a tie or a homonym; uncertain: close, not close enough).

In order: a key or definition hit names the concept (one concept: exactMatch; several: a homonym,
never linked, unless the documents' definition or the hierarchy settles it); a label written another
way (kgc.link.forms) likewise; a narrow synonym links broadMatch; an acronym read out of one label
links when it has enough letters and all of them are initials (of the whole label, before a label
without its head word or one part of a label); a fuzzy candidate links only above `auto_threshold`, clear of the next one by `tie_margin`,
differing by no whole word, and not vetoed by kgc.resolve (numbers, versions, negating prefixes).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Literal

from kgc.config import LinkConfig
from kgc.link.bands import Candidate, NameQuery
from kgc.link.index import VocabIndex
from kgc.resolve.scoring import near_homonym, veto
from kgc.resolve.types import Node

Match = Literal["exactMatch", "broadMatch", "nil", "ambiguous", "uncertain"]
LINKED = ("exactMatch", "broadMatch")


@dataclass
class Decision:
    match: Match
    concept: int | None  # the concept linked to (None unless exactMatch or broadMatch)
    band: str  # what decided: key, definition, acronym, narrower, ngram, hierarchy, llm, none
    reason: str
    score: float = 0.0


def _node(key: str, surface: str) -> Node:
    return Node(key=key, surfaces=Counter({surface: 1}))


def vetoed(q: NameQuery, index: VocabIndex, c: Candidate) -> str | None:
    """kgc.resolve's veto between the name and the candidate's matched label."""
    key = index.row_key[c.row]
    return veto(_node(q.key, q.name), _node(key, key))


def _ancestors(index: VocabIndex, concept: int) -> set[str]:
    by_id, seen = index.vocab.by_id, set()
    todo = list(index.vocab.concepts[concept].parents)
    while todo:
        p = todo.pop()
        if p not in seen:
            seen.add(p)
            todo += by_id[p].parents if p in by_id else []
    return seen


def _common_ancestor(index: VocabIndex, tied: list[int]) -> int | None:
    """The one tied concept that is an ancestor (broader / is_a) of all the others, if there is one."""
    ids = [index.vocab.concepts[c].id for c in tied]
    for c, cid in zip(tied, ids, strict=True):
        if all(cid in _ancestors(index, o) for o in tied if o != c):
            return c
    return None


def _strengths(c: Candidate) -> set[str]:
    return {k.removeprefix("strength_") for k in c.features if k.startswith("strength_")}


def decide(q: NameQuery, cands: list[Candidate], index: VocabIndex, cfg: LinkConfig) -> Decision:
    if not q.key:
        return Decision("nil", None, "none", "the name has no letters or digits")
    if not cands:
        return Decision("nil", None, "none", "no candidate")

    named = [
        c
        for c in cands
        if "definition" in c.bands or ("key" in c.bands and _strengths(c) & {"label", "exact"})
    ]
    if len(named) == 1:
        c = named[0]
        band = "key" if "key" in c.bands else "definition"
        return Decision("exactMatch", c.concept, band, f"{band} ({index.row_key[c.row]!r})", 1.0)
    if named:
        defined = [c for c in named if "definition" in c.bands]
        if len(defined) == 1:
            return Decision("exactMatch", defined[0].concept, "definition", "the documents' definition", 1.0)
        top = _common_ancestor(index, [c.concept for c in named])
        if top is not None:
            return Decision("broadMatch", top, "hierarchy", "a homonym whose senses share this parent", 1.0)
        return Decision("ambiguous", None, "key", f"a homonym: {len(named)} concepts share this name")

    variants = [c for c in cands if "variant" in c.bands]
    direct = [c for c in variants if any(k.endswith("=label") for k in c.features)]
    if len(direct) == 1:  # the name written another way is a label: before a label written another way
        variants = direct
    if len(variants) == 1:
        c = variants[0]
        how = ", ".join(k.removeprefix("variant_") for k in c.features if k.startswith("variant_"))
        return Decision(
            "exactMatch", c.concept, "variant", f"{index.row_key[c.row]!r} written another way ({how})", 0.95
        )
    if variants:
        top = _common_ancestor(index, [c.concept for c in variants])
        if top is not None:
            return Decision(
                "broadMatch", top, "hierarchy", "written like several concepts that share this parent", 0.95
            )
        return Decision("ambiguous", None, "variant", f"written like {len(variants)} concepts")

    narrow = [c for c in cands if "key" in c.bands and "narrow" in _strengths(c)]
    if len({c.concept for c in narrow}) == 1:
        return Decision("broadMatch", narrow[0].concept, "key", "a narrow synonym of the concept", 1.0)

    acronyms = [c for c in cands if "acronym" in c.bands]
    initials = [c for c in acronyms if "acronym_initials" in c.features]
    full = [c for c in initials if "acronym_full" in c.features]
    if len(initials) > 1 and len(full) == 1:  # the whole label's initials before a shortened label's
        initials = full
    if len(initials) > 1:
        return Decision("ambiguous", None, "acronym", f"an acronym of {len(initials)} concepts")
    if initials:
        c = initials[0]
        if c.features.get("acronym_letters", 0) >= cfg.min_acronym_letters:
            return Decision(
                "exactMatch", c.concept, "acronym", f"the initials of {index.row_key[c.row]!r}", 0.95
            )
        return Decision("uncertain", None, "acronym", "a short acronym read out of one label")
    if acronyms:  # letters from inside words ('VAE': variational autoencoder) fit too many labels
        return Decision(
            "uncertain", None, "acronym", f"letters of {len(acronyms)} concepts, not their initials"
        )

    by_string = sorted(cands, key=lambda c: -c.features.get("string", 0.0))
    best = next((c for c in by_string if vetoed(q, index, c) is None), None)  # vetoes checked lazily
    if best is not None and best.features.get("string", 0.0) >= cfg.auto_threshold:
        s = best.features["string"]
        near = [c for c in by_string if c is not best and s - c.features.get("string", 0.0) < cfg.tie_margin]
        rivals = [c for c in near if vetoed(q, index, c) is None]
        if rivals:
            top = _common_ancestor(index, [best.concept, *(c.concept for c in rivals)])
            if top is not None:
                return Decision("broadMatch", top, "hierarchy", "tied candidates share this parent", s)
            return Decision("ambiguous", None, "ngram", f"a tie with {len(rivals)} other concepts", s)
        if not near_homonym(q.key, index.row_key[best.row]):
            return Decision("exactMatch", best.concept, "ngram", "a close spelling", s)

    narrower = [c for c in cands if "narrower" in c.bands and vetoed(q, index, c) is None]
    if narrower:
        c = max(narrower, key=lambda c: c.features["narrower"])
        return Decision(
            "broadMatch",
            c.concept,
            "narrower",
            f"a narrower form of {index.row_key[c.row]!r}",
            c.features["narrower"],
        )

    score = best.features.get("string", 0.0) if best is not None else 0.0
    if score >= cfg.nil_threshold or any("key" in c.bands for c in cands):
        return Decision("uncertain", None, "ngram", "close to a label, not close enough to link", score)
    closest = max(cands, key=lambda c: c.features.get("string", 0.0))
    why = vetoed(q, index, closest)
    if why is not None and closest.features.get("string", 0.0) >= cfg.nil_threshold:
        return Decision(
            "nil", None, "veto", f"the closest label {index.row_key[closest.row]!r} is vetoed: {why}", score
        )
    return Decision("nil", None, "none", "no label is close", score)
