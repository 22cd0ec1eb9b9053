"""The name an entity is shown under: the most used full form, not an acronym, not a plural."""

from __future__ import annotations

import re
from collections import Counter

from kgc.resolve.acronyms import looks_like_acronym
from kgc.resolve.types import Node
from kgc.text import split_parenthetical

_POSSESSIVE = re.compile(r"['\u2019]s?$")


def _abbreviated(node: Node) -> bool:
    """'NMT', 'open IE': the node is written with an acronym."""
    return any(looks_like_acronym(w) for s in node.surfaces for w in split_parenthetical(s)[0].split())


def _singular(surface: str, key: str) -> str:
    """'Neural Machine Translations' -> 'Neural Machine Translation', "BERT's" -> 'BERT' (the key's last word)."""
    *head, last = surface.split(" ")
    last = _POSSESSIVE.sub("", last)
    want = key.split(" ")[-1]
    if last.lower() != want and last.lower().startswith(want[:-1] if len(want) > 3 else want):
        last = want.upper() if last[:-1].isupper() else want.title() if last.istitle() else want
    return " ".join([*head, last])


def canonical_name(nodes: list[Node]) -> tuple[int, str]:
    """'neural machine translation' for {'NMT', 'Neural machine translations', 'neural machine translation'},
    and the position of the node it was taken from."""
    at = min(
        range(len(nodes)),
        key=lambda k: (_abbreviated(nodes[k]), -nodes[k].count, -len(nodes[k].key), nodes[k].key),
    )
    node = nodes[at]
    forms: Counter[str] = Counter()
    for surface, n in node.surfaces.items():
        forms[_singular(split_parenthetical(surface)[0].strip(), node.key)] += n
    return at, min(forms, key=lambda s: (-forms[s], sum(c.isupper() for c in s), s))
