"""Other ways of writing a vocabulary label, as lookup keys for the index and the bands.

A name can write a label another way without naming anything else:
- a head word that only says what kind of thing it is: 'transfer learning methods', 'NMT models',
  'GRU networks', 'sentiment analysis task' (kgc.resolve.heads' head words,
  with its rules for when they add nothing);
- a modifier that says nothing about what it is: 'state-of-the-art neural machine translation';
- a model for its modelling: 'language models' = 'language modeling', 'topic models' = 'topic modeling';
- '-based' and clipped words: 'attention-based models' = 'attention models', 'neural nets';
- one action on one object written as a compound, with 'of' or with a gerund: 'recognition of
  speech', 'recognizing speech' = 'speech recognition' (kgc.resolve.heads.action_form, same_action);
- one of the two topics of a label that joins them: 'conditional random fields' for 'sequence
  classification and conditional random fields', 'deep belief network' for 'Restricted Boltzmann
  machine, deep belief networks';
- a label's acronym when the label has an acronym in it: 'VQA' for 'Visual QA', or when a word of it
  joins a prefix to a word: 'VAE' for 'variational autoencoders' (`split_prefixes`).

All keys are name keys (kgc.resolve.name_key), so a label and a name meet whatever their case,
plural, accents or British spelling.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import combinations

from kgc.resolve.acronyms import FUNCTION_WORDS, looks_like_acronym
from kgc.resolve.forms import same_action
from kgc.resolve.heads import METHOD_HEADS, MODEL_HEADS, TASK_HEADS, action_form, is_action, is_gerund
from kgc.text import singular

# Modifiers that say nothing about what a thing is ('a novel neural machine translation' is one).
EMPTY_MODIFIERS = frozenset({
    "state-of-the-art", "novel", "new", "proposed", "existing", "standard", "current", "recent",
    "popular", "abundant", "various", "several", "many",
})  # fmt: skip
# Head words that only say what kind of thing a name is: a method, a task.
GENERIC_HEADS = METHOD_HEADS | TASK_HEADS
# Head words after which what remains is the name: 'transfer learning methods', 'BERT model'.
_NAME_HEADS = METHOD_HEADS | MODEL_HEADS | {"classifier"}
# ... and after an acronym or a CamelCase name only: 'GRU networks', 'NLTK toolkit' (not 'dataset' or
# 'corpus': 'CCG corpora' are corpora annotated with CCG).
_NAMED_HEADS = {"network", "toolkit", "tool", "library", "package"}
_CAMEL = re.compile(r"^[A-Z]?[a-z]+[A-Z][A-Za-z]*$")  # 'ImageNet', 'WordNet', 'PageRank'
_MODEL_WORDS = {"model", "modeling", "modelling"}
_BASED = re.compile(r"(?<=\w)[- ](?:based|driven)\b")
_CLIPPED = {"net": "network", "nets": "network", "intro": "introduction", "algo": "algorithm"}
# Words between a modifier and a label that make the name a clause or a relation, not a narrower form.
RELATION_WORDS = FUNCTION_WORDS | {
    "or", "towards", "toward", "due", "using", "vs", "versus", "through", "into", "against", "between",
    "within", "without", "over", "under", "at", "as", "than", "beyond", "across", "about", "like",
}  # fmt: skip


def _named(token: str) -> bool:
    return looks_like_acronym(token) or bool(_CAMEL.match(token))


def without_head(key: str, surface: str = "") -> str | None:
    """The name without a head word that adds nothing, or None: 'transfer learning method' ->
    'transfer learning', 'nmt model' (surface 'NMT models') -> 'nmt', 'sentiment analysis task' ->
    'sentiment analysis'; never 'language model' -> 'language' or 'NLP tasks' -> 'NLP' (the tasks of
    a field). `surface` is the name as written (for acronyms, CamelCase and a singular task word)."""
    ws = key.split(" ")
    if len(ws) < 2:
        return None
    rest, head = " ".join(ws[:-1]), ws[-1]
    first = (surface.split(" ") or [""])[0] if len(ws) == 2 else ""
    named = bool(first) and _named(first)
    if head in TASK_HEADS:
        singular_head = surface.lower().rstrip(" .").endswith(f" {head}") or not surface
        return rest if is_action(ws[-2]) or is_gerund(ws[-2]) or (named and singular_head) else None
    if head in _NAMED_HEADS:
        return rest if named else None
    if head in METHOD_HEADS or (head in _NAME_HEADS and (len(ws) >= 3 or named)):
        return rest
    return None


def label_without_head(key: str, text: str) -> str | None:
    """A label without a head word, as another name of it: 'image registration methods' -> 'image
    registration', 'long short term memory networks' -> 'long short term memory' (whose initials are
    'LSTM'), 'KKT conditions' stays (a condition is no kind of model or method)."""
    ws = key.split(" ")
    if len(ws) < 2:
        return None
    if ws[-1] in TASK_HEADS:  # 'convex optimization problem'
        return " ".join(ws[:-1]) if is_action(ws[-2]) else None
    if ws[-1] not in _NAME_HEADS | {"network"}:
        return None
    named = len(ws) == 2 and _named(text.split(" ")[0])
    return " ".join(ws[:-1]) if len(ws) >= 3 or named or ws[-1] in METHOD_HEADS else None


def without_modifiers(key: str) -> str | None:
    """'state-of-the-art neural machine translation' -> 'neural machine translation'."""
    ws = key.split(" ")
    n = 0
    while n < len(ws) - 1 and ws[n] in EMPTY_MODIFIERS:
        n += 1
    return " ".join(ws[n:]) if n else None


def loose(key: str) -> str | None:
    """A model for its modelling, '-based' dropped, clipped words in full: 'language model' and
    'language modeling' -> 'language model'; 'attention-based model' -> 'attention model'; 'neural
    net' -> 'neural network'."""
    ws = _BASED.sub("", key).split(" ")
    ws = [_CLIPPED.get(w, w) for w in ws]
    if len(ws) >= 2 and ws[-1] in _MODEL_WORDS:
        ws[-1] = "model"
    out = " ".join(ws)
    return out if out != key else None


def name_variants(key: str, surface: str = "") -> dict[str, str]:
    """Other keys a name may match a label by, with what made each ('head', 'modifier', 'model')."""
    out: dict[str, str] = {}
    bare = without_modifiers(key)
    for base, how in ((key, ""), (bare, "modifier")):
        if base is None:
            continue
        if how:
            out.setdefault(base, how)
        if (reduced := without_head(base, surface)) is not None:
            out.setdefault(reduced, "head")
        if (model := loose(base)) is not None:
            out.setdefault(model, "model")
    out.pop(key, None)
    return out


def label_parts(key: str) -> list[str]:
    """The two topics of a label that joins them ('x and y', 'x, y'), each of two words or more:
    'sequence classification and conditional random field' -> both halves; none for 'data structures
    and algorithms' (one word), 'morphology and semantics in machine translation' (a relation word)."""
    parts = re.split(r", | and ", key)
    if len(parts) != 2 or any(w in RELATION_WORDS - {"and"} for w in key.split(" ")):
        return []
    out = [" ".join([*p.split(" ")[:-1], singular(p.split(" ")[-1])]) for p in parts]
    return [p for p in out if len(p.split(" ")) >= 2]


# Prefixes an acronym takes a letter after ('VAE': variational AutoEncoder, 'SSL': Semi-Supervised
# Learning); only before a word of 5+ letters, so 'biased' or 'autumn' are never split.
PREFIXES = ("auto", "multi", "semi", "self", "cross", "hyper", "inter", "intra", "meta", "bi")
_PREFIXED = re.compile(rf"\b({'|'.join(PREFIXES)})-?(?=[a-z]{{5,}})")


def split_prefixes(key: str) -> str:
    """The key with prefixes parted from their word: 'variational autoencoders' -> 'variational auto
    encoders'; the key itself when it has none."""
    return _PREFIXED.sub(r"\1 ", key)


def acronym_initials(text: str) -> set[str]:
    """Initials of a label with an acronym in it, the acronym giving all its letters: 'Visual QA' ->
    'vqa', 'graph-based NLP' -> 'gbnlp'. Empty when no word of the label is an acronym."""
    ws = [w for w in re.split(r"[\s]+", text.strip()) if w]
    if len(ws) < 2 or not any(looks_like_acronym(w) for w in ws):
        return set()
    out = set()
    for skip in (False, True):
        letters = [
            w.lower() if looks_like_acronym(w) else w[0].lower()
            for w in ws
            if not (skip and w.lower() in FUNCTION_WORDS)
        ]
        out.add("".join(letters))
    return out


Form = tuple[str, str, bool]  # (object words, the action word, written as a compound)


def forms(key: str) -> list[Form]:
    """The ways a key can be read as one action on one object: 'speech recognition' -> ('speech',
    'recognition', compound); 'recognition of speech' -> ('speech', 'recognition'); 'tagging parts of
    speech' -> ('part of speech', 'tagging'). Objects in the singular."""
    ws = key.split(" ")
    if len(ws) < 2:
        return []
    out: set[Form] = set()
    if (f := action_form(key)) is not None:
        out.add((" ".join(f[0]), singular(f[1]), f[2]))
    if is_gerund(ws[0]):
        out.add((" ".join(singular(w) for w in ws[1:]), ws[0], False))
    out.add((" ".join(singular(w) for w in ws[:-1]), singular(ws[-1]), True))
    return [f for f in out if f[0]]


def same_form(a: Form, b: Form) -> bool:
    """One action on one object, written two ways (never two compounds: they would be one key)."""
    return a[0] == b[0] and not (a[2] and b[2]) and same_action(a[1], b[1])


def subsequences(letters: str, shortest: int = 2) -> Iterator[str]:
    """The initials an acronym can stand for when some of its letters come from inside a word ('vae'
    -> 'vae', 'va', 've'): its first letter and any of the others, in order."""
    rest = letters[1:]
    for n in range(len(rest), shortest - 2, -1):
        for picked in combinations(range(len(rest)), n):
            yield letters[0] + "".join(rest[i] for i in picked)
