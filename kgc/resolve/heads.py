"""What kind of thing a name names, read from its words: head words that add nothing to a name,
nouns that name an action, and where the action is in a name. Shared by kgc.resolve.forms
('detection task' = 'detection') and kgc.resolve.acronyms ('CRF model' = 'conditional random
field', but 'MT system' is no 'machine translation')."""

from __future__ import annotations

import re
from collections.abc import Iterable

from kgc.text import singular

TASK_HEADS = frozenset({"task", "problem", "process", "stage", "step"})  # after an action
METHOD_HEADS = frozenset({
    "approach", "method", "methodology", "technique", "procedure", "framework", "scheme", "algorithm",
})  # fmt: skip
MODEL_HEADS = frozenset({"model", "architecture", "structure", "formalism"})  # after a named model
# After a CamelCase name ('SmartKom architecture', 'IntEx system'), any of these adds nothing.
ARTEFACT_HEADS = METHOD_HEADS | MODEL_HEADS | {"system", "toolkit", "tool"}

# Endings of nouns made from verbs ('detection', 'alignment', 'parsing', 'analysis'), the nouns with
# such an ending that name no action, and action nouns without one.
_ACTION_ENDINGS = ("tion", "sion", "ment", "ysis", "ing")
_NOT_ACTIONS = frozenset({
    "question", "region", "opinion", "function", "relation", "emotion", "dimension", "version", "vision",
    "precision",
    "session", "position", "proportion", "criterion", "document", "argument", "segment", "element",
    "sentiment", "comment", "environment", "instrument", "fragment", "statement", "experiment",
    "string", "thing", "embedding", "meaning", "setting", "something", "evening", "morning",
})  # fmt: skip
_ACTIONS = frozenset({
    "search", "design", "control", "transfer", "study", "survey", "review", "test", "match",
    "inference", "retrieval", "synthesis", "diagnosis", "dialogue", "dialog", "capture", "removal",
})  # fmt: skip
_GERUND = re.compile(r"^[a-z][a-z-]{3,}ing$")  # 'estimating'; not 'string', 'thing'


def is_action(word: str) -> bool:
    """'detection', 'parsing', 'alignment', 'analysis', 'retrieval', 'search': a noun made of a verb."""
    return word in _ACTIONS or (len(word) > 5 and word.endswith(_ACTION_ENDINGS) and word not in _NOT_ACTIONS)


def is_gerund(word: str) -> bool:
    return bool(_GERUND.match(word)) and word not in _NOT_ACTIONS


def action_form(key: str) -> tuple[tuple[str, ...], str, bool] | None:
    """(object words, singular; the action word; written as a compound) of a name key, or None:
    'estimating object pose' -> (('object', 'pose'), 'estimating', False); 'failure of reference' ->
    (('reference',), 'failure', False); 'object pose estimation' -> (('object', 'pose'), 'estimation', True)."""
    ws = key.split(" ")
    if ws.count("of") == 1 and 0 < ws.index("of") < len(ws) - 1:
        at = ws.index("of")
        head, obj = ws[:at], ws[at + 1 :]
        if obj[0] in ("the", "a", "an") and len(obj) > 1:
            obj = obj[1:]
        return tuple(singular(w) for w in [*head[:-1], *obj]), singular(head[-1]), False
    if len(ws) >= 2 and is_gerund(ws[0]) and ws[-1] not in TASK_HEADS | ARTEFACT_HEADS:
        return tuple(singular(w) for w in ws[1:]), ws[0], False  # not 'learning tasks': a kind of task
    if len(ws) >= 2:
        return tuple(singular(w) for w in ws[:-1]), ws[-1], True
    return None


def names_action(key: str) -> bool:
    """'machine translation', 'detecting objects', 'creation of datasets' name an action."""
    form = action_form(key)
    return is_action(form[1] if form else key)


def names_paradigm(key: str) -> bool:
    """'machine learning', 'deep learning': a task with their name is one they solve, not them."""
    return key.endswith("learning")


def written_singular(surfaces: Iterable[str], head: str) -> bool:
    """Some surface ends with the head word in the singular: 'detection task', not only 'NLP tasks'
    (the tasks of a field)."""
    return any(s.lower().rstrip(" .").endswith(f" {head}") for s in surfaces)
