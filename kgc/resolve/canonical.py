"""The name an entity is shown under: always a form seen in the corpus, chosen by a stated rule.

Among the cluster's surface forms, each taken as written minus what is not part of a name (a leading
article, a possessive, a parenthesis, quotes and edge punctuation; the dots of 'A.I.' stay):

1. a full form before an abbreviation ('neural machine translation', not 'NMT'), from the name most
   used in the cluster (its spellings counted together: 'Transformer', 'transformers');
2. within it, a singular before a plural when a singular was seen ('corpus' over 'corpora', 'analysis'
   over 'analyses'); a plural seen alone stays as seen ('naive Bayes', 'Hugging Face Transformers'):
   no form is made up;
3. then the most frequent form, then the one with fewer capitals ('machine translation' over a
   sentence-initial 'Machine translation'), then the longer ('A.I.' over 'A.I'), then alphabetical order.

`canonical_name` also says which of these decided, for merges.jsonl and `kgc explain`.
"""

from __future__ import annotations

import re
from collections import Counter

from kgc.resolve.acronyms import looks_like_acronym
from kgc.resolve.types import Node
from kgc.text import QUOTES, singular, split_parenthetical

_POSSESSIVE = re.compile(r"['\u2019]s?$")
_ARTICLE = re.compile(r"^(?:the|a|an)\s+(?=\S)", re.IGNORECASE)
_LEADING = re.compile(rf"^[\s{QUOTES},;:!?*-]+")
# closing punctuation, and a final dot unless it ends an abbreviation with dots ('A.I.', 'U.S.')
_TRAILING = re.compile(rf"[\s{QUOTES},;:!?*]+$|(?<!\.\w)\.+$")


def _abbreviated(node: Node) -> bool:
    """'NMT', 'open IE': the node is written with an acronym."""
    return any(looks_like_acronym(w) for s in node.surfaces for w in split_parenthetical(s)[0].split())


def shown_form(surface: str) -> str:
    """A surface form as a name: "The BERT's" -> 'BERT', '“neural MT (NMT)”' -> 'neural MT', 'A.I.' stays."""
    s = _TRAILING.sub("", _LEADING.sub("", surface.strip()))
    if s.count("(") > s.count(")") and s.startswith("("):  # '(recurrent neural network', cut off
        s = s[1:]
    s = split_parenthetical(s)[0].strip()
    s = _POSSESSIVE.sub("", _TRAILING.sub("", _ARTICLE.sub("", s)))
    return s.strip() or surface.strip()


def is_singular(form: str) -> bool:
    """The last word is its own singular ('corpus', 'naive Bayes'; not 'corpora', 'analyses')."""
    last = form.split(" ")[-1]
    return singular(last) == last


def canonical_name(nodes: list[Node]) -> tuple[int, str, str]:
    """The shown name of a cluster of nodes, the position of the node it was taken from, and the rule
    that chose it: 'neural machine translation' for {'NMT', 'Neural machine translations',
    'neural machine translation'}."""
    full = [k for k in range(len(nodes)) if not _abbreviated(nodes[k])]
    at = min(full or range(len(nodes)), key=lambda k: (-nodes[k].count, -len(nodes[k].key), nodes[k].key))
    forms: Counter[str] = Counter()
    for surface, n in nodes[at].surfaces.items():
        forms[shown_form(surface)] += n
    singular = {f for f in forms if is_singular(f)}
    name = min(forms, key=lambda f: (f not in singular, -forms[f], sum(c.isupper() for c in f), -len(f), f))
    total = sum(n.count for n in nodes)
    why = ["the most used full form" if full else "no full form seen: the most used abbreviation"]
    if singular and len(singular) < len(forms):
        why.append("singular preferred")
    why.append(f"{forms[name]} of {total} mentions")
    return at, name, ", ".join(why)
