"""Acronym definitions: mined from text by the Schwartz-Hearst algorithm, and gathered with those
that names carry ('neural machine translation (NMT)') into what acronym linking reads.

Schwartz & Hearst (2003), "A simple algorithm for identifying abbreviation definitions in biomedical
text": find 'long form (SF)' (or 'SF (long form)'), take at most min(|SF| + 5, 2|SF|) words before the
parenthesis, and keep the shortest tail of them whose characters spell the short form right to left,
its first letter starting a word. Written here because the PyPI implementation is unmaintained (2019).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from kgc.resolve.acronyms import Definitions, abbreviates, looks_like_acronym, may_abbreviate, short_letters
from kgc.resolve.keys import name_key
from kgc.resolve.types import Node
from kgc.text import parenthesis

_PAREN = re.compile(r"\(([^()]{1,60})\)")
_SENTENCE_END = re.compile(r"[.;:!?]\s")


@dataclass(frozen=True)
class Definition:
    short: str
    long: str


def _is_short_form(s: str) -> bool:
    """Schwartz-Hearst's short form, with a capital letter; or a lower-case acronym ('scfs'), which
    `collect_definitions` keeps only when every word of its long form gives it a letter."""
    s = s.strip()
    return (
        2 <= len(s) <= 10
        and len(s.split()) <= 2
        and s[0].isalnum()
        and any(c.isalpha() for c in s)
        and any(c.isupper() for c in s)
    ) or may_abbreviate(s)


def best_long_form(short: str, candidate: str) -> str | None:
    """The shortest tail of `candidate` that spells `short` (Schwartz-Hearst's findBestLongForm)."""
    s, lf = short.lower(), candidate.lower()
    si, li = len(s) - 1, len(lf) - 1
    while si >= 0:
        c = s[si]
        if not c.isalnum():
            si -= 1
            continue
        while li >= 0 and (lf[li] != c or (si == 0 and li > 0 and lf[li - 1].isalnum())):
            li -= 1
        if li < 0:
            return None
        li -= 1
        si -= 1
    start = lf.rfind(" ", 0, li + 1) + 1
    return candidate[start:].strip()


def _long_form(short: str, before: str) -> str | None:
    words = before.split()
    limit = min(len(short) + 5, 2 * len(short))
    candidate = " ".join(words[-limit:])
    long = best_long_form(short, candidate)
    if long is None or (len(long.split()) < 2 and "-" not in long):
        return None
    if short.lower() in long.lower().split() or len(long) <= len(short):
        return None
    return long.strip(" ,;-")


def find_definitions(text: str) -> list[Definition]:
    """Every 'long form (SF)' and 'SF (long form)' definition in `text`, in order of appearance."""
    found: list[Definition] = []
    for m in _PAREN.finditer(text):
        inner = m.group(1).strip()
        head = text[: m.start()]
        ends = list(_SENTENCE_END.finditer(head))
        before = head[ends[-1].end() :] if ends else head
        if _is_short_form(inner):
            if (long := _long_form(inner, before)) is not None:
                found.append(Definition(short=inner, long=long))
            continue
        # 'SF (long form)': the word before the parenthesis is the short form
        prev = before.split()[-1:] if before.split() else []
        if prev and _is_short_form(prev[0]) and len(inner.split()) >= 2:
            long = best_long_form(prev[0], inner)
            if long is not None and long == inner:
                found.append(Definition(short=prev[0], long=inner))
    return found


def collect_definitions(nodes: list[Node], mined: Iterable[tuple[str, Definition]] = ()) -> Definitions:
    """Acronym definitions from the documents (`(doc, definition)`) and from names: 'x y z (XYZ)',
    'x y (XY) z', 'XYZ (x y z)'."""
    defs: Definitions = {}

    def add(short: str, long: str, docs: Iterable[str]) -> None:
        key = name_key(long)
        if key and abbreviates(short_letters(short), key):
            defs.setdefault(short_letters(short), {}).setdefault(key, set()).update(docs or {""})

    for n in nodes:
        for surface in n.surfaces:
            before, inner, after = parenthesis(surface)
            if inner is None:
                continue
            if may_abbreviate(inner):
                # all the words before it ('Category Cooccurrence Restrictions (CCRs)'), else the
                # shortest tail that spells it ('Italian verb subcategorization frames (SCFs)')
                whole = abbreviates(short_letters(inner), name_key(before))
                long = before if whole else best_long_form(inner, before)
                if long is not None:
                    add(inner, long, n.docs)
            elif not after and looks_like_acronym(before.strip()):
                add(before.strip(), inner, n.docs)  # 'NMT (neural machine translation)'
    for doc, d in mined:
        add(d.short, d.long, [doc])
    return defs
