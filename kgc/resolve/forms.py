"""Other ways of writing one name: an action written three ways, and head words that add nothing.

- An action on an object is one name whether written as a compound, with a gerund or with 'of':
  'object pose estimation' = 'estimating object pose' = 'estimation of object pose'; 'sentence boundary
  detection' = 'detecting sentence boundaries'; 'reference failures' = 'failures of reference'. The
  object's words are compared singular; the action's noun and its gerund by their shared stem, the
  noun ending as nouns made of verbs do ('estimation', 'alignment', 'analysis'): 'detecting' /
  'detector' or 'translating' / 'transliteration' are other words.
- A head word that only says what kind of thing the rest is:
  'detection task' = 'detection': a task word (`TASK_HEADS`), singular, after an action ('parsing',
  'detection'; 'deep learning tasks' are the tasks of a field);
  'bootstrapping approach' = 'bootstrapping procedure': method words (`METHOD_HEADS`) for one another;
  'SmartKom architecture' = 'SmartKom', 'IntEx system' = 'IntEx': any of those (`ARTEFACT_HEADS`)
  after a CamelCase name; 'BERT model' = 'BERT', 'stacked auto-encoder architecture' = 'stacked
  auto-encoders': a model word (`MODEL_HEADS`) after an acronym, or (but 'model') after the long form
  of one, that names no action ('MT system' is no 'MT'; 'vision language model' no 'vision language').
  'language model' is never 'language', 'Japanese text' never 'Japanese': 'language' is neither an
  action nor a named thing, and 'text' is no head word. ('CRF model' = 'conditional random field'
  goes through the acronym: kgc.resolve.acronyms.)

Both forms only ever join names that were both seen; `form_pairs` finds them in O(n) by grouping
names on a shared key.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection

from kgc.resolve.acronyms import looks_like_acronym, short_letters
from kgc.resolve.heads import (
    ARTEFACT_HEADS,
    METHOD_HEADS,
    MODEL_HEADS,
    TASK_HEADS,
    action_form,
    is_action,
    is_gerund,
    names_action,
    names_paradigm,
    written_singular,
)
from kgc.resolve.types import Node

_CAMEL = re.compile(r"^[A-Z]?[a-z]+[A-Z][A-Za-z]*$")  # 'SmartKom', 'WordNet', 'PropBank'


def _noun_of(gerund: str, noun: str) -> bool:
    """'estimating' / 'estimation', 'recognizing' / 'recognition', 'analyzing' / 'analysis'; not
    'translating' / 'transliteration' or 'detecting' / 'detector'."""
    base = gerund[:-3]
    shared = next(
        (k for k, (a, b) in enumerate(zip(base, noun, strict=False)) if a != b), min(len(base), len(noun))
    )
    return shared >= max(4, len(base) - 1) and is_action(noun)


def same_action(a: str, b: str) -> bool:
    if a == b:
        return True
    if is_gerund(a) and not is_gerund(b):
        return _noun_of(a, b)
    if is_gerund(b) and not is_gerund(a):
        return _noun_of(b, a)
    return False


def same_action_form(a: str, b: str) -> bool:
    """Two name keys that write one action on one object differently ('estimating object pose' /
    'object pose estimation'); never two compounds, which differ in a word."""
    fa, fb = action_form(a), action_form(b)
    if fa is None or fb is None or (fa[2] and fb[2]) or a == b:
        return False
    return fa[0] == fb[0] and same_action(fa[1], fb[1])


def head_reduced(
    node: Node, named: Collection[str], action_letters: Collection[str]
) -> tuple[str, str] | None:
    """The name a node's head word adds nothing to, as a key, and the kind of head word (task, named,
    model, method); method words all read 'method': 'detection task' -> ('detection', 'task'),
    'bootstrapping approach' -> ('bootstrapping method', 'method'), 'SmartKom architecture' ->
    ('smartkom', 'named'), 'BERT model' -> ('bert', 'model'). `named` holds the long forms (keys) of the
    acronyms the texts define; `action_letters` the letters of acronyms that may name an action
    ('mt' for 'machine translation': 'MT system' stays apart from 'MT')."""
    ws = node.key.split(" ")
    if len(ws) < 2:
        return None
    rest, head = " ".join(ws[:-1]), ws[-1]
    acronym = _acronym(node, rest)
    # 'detection task' = 'detection'; but 'NLP tasks', 'deep learning tasks' are the tasks of a field
    action = (names_action(rest) and not names_paradigm(rest)) or (
        acronym and short_letters(rest) in action_letters
    )
    if head in TASK_HEADS and action and written_singular(node.surfaces, head):
        return rest, "task"
    if head in ARTEFACT_HEADS and _is_camel(node, rest):
        return rest, "named"
    # 'BERT model' = 'BERT'; 'stacked auto-encoder architecture' = 'stacked auto-encoders', but a long
    # form with 'model' is left alone: 'vision language model' is no 'vision language'.
    acronym_model = acronym and short_letters(rest) not in action_letters
    long_form_model = rest in named and head != "model"
    if head in MODEL_HEADS and (acronym_model or long_form_model) and not names_action(rest):
        return rest, "model"
    if head in METHOD_HEADS:
        return f"{rest} method", "method"
    return None


def _is_camel(node: Node, rest: str) -> bool:
    return " " not in rest and any(_CAMEL.match(s.split(" ")[0]) for s in node.surfaces)


def _acronym(node: Node, rest: str) -> bool:
    """The name's first word is written as an acronym ('BERT model'; not 'JOINT TASK', all capitals)."""
    return " " not in rest and any(
        looks_like_acronym(s.split(" ")[0]) for s in node.surfaces if not s.isupper()
    )


def form_pairs(
    nodes: list[Node], named: Collection[str], action_letters: Collection[str], max_group: int = 50
) -> list[tuple[int, int, str]]:
    """Pairs of nodes (i < j) that are one name written two ways, with the rule: 'action' or 'head'.
    Names reduced by head words of different kinds are not paired: 'NL task' and 'NL model' both
    shorten 'NL', a task and a model."""
    by_form: dict[tuple[tuple[str, ...], str], list[int]] = defaultdict(list)
    by_reduced: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for i, n in enumerate(nodes):
        if (form := action_form(n.key)) is not None:
            by_form[(form[0], form[1][:4])].append(i)
        by_reduced[n.key].append((i, ""))
        if (reduced := head_reduced(n, named, action_letters)) is not None:
            by_reduced[reduced[0]].append((i, reduced[1]))
    out: dict[tuple[int, int], str] = {}
    for group in by_form.values():
        if 1 < len(group) <= max_group:
            for x in group:
                for y in group:
                    if x < y and same_action_form(nodes[x].key, nodes[y].key):
                        out[(x, y)] = "action"
    for reduced_group in by_reduced.values():
        if 1 < len(reduced_group) <= max_group:
            for x, kind_x in reduced_group:
                for y, kind_y in reduced_group:
                    same_kind = kind_x == kind_y or "" in (kind_x, kind_y)
                    if x < y and nodes[x].key != nodes[y].key and same_kind:
                        out.setdefault((x, y), "head")
    return [(i, j, why) for (i, j), why in sorted(out.items())]
