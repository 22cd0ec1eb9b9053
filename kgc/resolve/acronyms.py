"""Acronyms: which short names can stand for which long ones, and which entity each acronym joins.

Every acronym rule of kgc lives here (linking to vocabularies reuses them):

- reading letters: `looks_like_acronym` ('NMT', 'PLMs', 'CoRAL'), `abbreviates` (can a short form be
  read, letter by letter, out of a long name), `abbreviates_partially` ('open IE'); letters may come
  from inside a word or a hyphenated compound ('CoRAL' = 'Contrastive Retrieval-Augmented Learning',
  'ToD' = 'task-oriented dialogue'); every word that is not a function word gives at least one;
- proposing: keys that bring short and long names together without comparing all pairs
  (`short_keys`, `long_keys`, `partial_keys`);
- linking (a step of kgc.resolve.engine): a short form with one expansion among the names joins it.
  One with several ('LM': 'language model', 'linear model') is decided in each document by the
  definition that document gives ('linear model (LM)') or else by the expansion that document also
  names; documents that settle nothing keep the short form apart. Partial abbreviations ('open IE',
  'NMT model') join the one long name they shorten.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache

from kgc.resolve.heads import MODEL_HEADS, TASK_HEADS, names_action, written_singular
from kgc.resolve.types import Edge, Node
from kgc.text import words

FUNCTION_WORDS = frozenset(
    {"of", "for", "the", "and", "in", "on", "to", "with", "a", "an", "via", "by", "from"}
)
ACRONYM_SCORE = 0.95  # the score recorded for an acronym read out of a name found in the corpus
DEFINITION_SCORE = 1.0  # ... and for one defined in a document ('neural machine translation (NMT)')
_TOKEN = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:['\u2019]s|s)?$")
_LOWER_CASE = re.compile(r"^[a-z]{2,8}$")
_NOT_SHORT_FORMS = frozenset(
    {"ie", "eg", "cf", "etc", "al", "vs", "viz", "see", "resp", "sic", "ibid", "and", "or"}
)
_DOTTED = re.compile(r"^(?:[A-Za-z]\.){2,}[A-Za-z]?$|^(?:[A-Za-z]\.)+[A-Za-z]$")  # 'A.I.', 'U.S', 'N.L.P.'


def looks_like_acronym(token: str) -> bool:
    """'NMT', 'PLMs', 'CoRAL', 'ToD', 'BERT's', 'A.I.' yes; 'Transformer', 'nmt', 'GPT-3', 'T5' no."""
    token = token.strip()
    if " " in token or not 2 <= len(token) <= 12 or not (_TOKEN.match(token) or _DOTTED.match(token)):
        return False
    letters = [c for c in token if c.isalpha()]
    return sum(c.isupper() for c in letters) >= 2 and not any(c.isdigit() for c in token)


def may_abbreviate(token: str) -> bool:
    """An acronym, or a lower-case word that is one when a definition says so ('scfs' in
    'subcategorization frames (scfs)'); never 'ie', 'eg', 'etc'."""
    token = token.strip()
    return looks_like_acronym(token) or (bool(_LOWER_CASE.match(token)) and token not in _NOT_SHORT_FORMS)


def short_letters(token: str) -> str:
    """The letters a short form spells, plural, possessive and dots dropped: 'PLMs' -> 'plm', "BERT's" ->
    'bert', 'A.I.' -> 'ai', 'scfs' -> 'scf'."""
    t = re.sub(r"['\u2019]s?$", "", token.strip()).replace(".", "")
    if len(t) > 2 and t.endswith("s") and (t[-2].isupper() or t.islower()):
        t = t[:-1]
    return t.lower()


def short_keys(token: str) -> set[str]:
    """Lookup keys of a short form: its letters, and its capitals alone ('CoRAL' -> 'coral', 'cral')."""
    base = short_letters(token)
    caps = "".join(c for c in token if c.isupper()).lower()
    if token.endswith("s") and len(caps) > 1 and token[-2:-1].isupper() and caps.endswith("s"):
        caps = caps[:-1]
    return {k for k in (base, caps) if len(k) >= 2}


def _initials(words: list[str]) -> str:
    return "".join(w[0] for w in words if w)


def long_keys(key: str) -> set[str]:
    """Initials a long name could be shortened to, with and without hyphen parts and function words."""
    spaced = [w for w in key.split(" ") if w]
    if len(spaced) < 2 and "-" not in key:
        return set()
    hyphenated = [p for w in spaced for p in w.split("-") if p]
    keys = set()
    for ws in (spaced, hyphenated):
        keys.add(_initials(ws))
        keys.add(_initials([w for w in ws if w not in FUNCTION_WORDS]))
    return {k for k in keys if len(k) >= 2}


def action_letters(keys: Iterable[str], definitions: Definitions) -> set[str]:
    """The letters of acronyms that may name an action: the initials of names ending in one
    ('machine translation' -> 'mt', 'creation of datasets' -> 'cd'), and acronyms defined as one."""
    out = {k for key in keys if " " in key and names_action(key) for k in long_keys(key)}
    out |= {s for s, longs in definitions.items() if any(names_action(k) for k in longs)}
    return out


def partial_keys(key: str, max_words: int = 8) -> set[str]:
    """'open information extraction' -> {'open ie', 'oi extraction'}: a run of two or more words (not
    all of them) as its initials, at the start, the end or, up to `max_words` words, in the middle
    ('dedicated word sense disambiguation model' -> 'dedicated wsd model'); hyphenated words count as
    several ('document-level relation extraction' -> 'document level re')."""
    ws = list(words(key))
    n = len(ws)
    out = set()
    for i in range(n - 1):
        for j in range(i + 2, n + 1):
            if (i, j) != (0, n) and (i == 0 or j == n or n <= max_words):
                out.add(" ".join([*ws[:i], _initials(ws[i:j]), *ws[j:]]))
    return out


@lru_cache(maxsize=200_000)
def abbreviates(short: str, long: str) -> bool:
    """Can the letters of `short` be read, in order, out of the words of `long`?

    Each word of `long` that is not a function word gives one or more letters, the first of them the
    initial of the word or of one of its hyphen parts. abbreviates('coral', 'contrastive
    retrieval-augmented learning') and abbreviates('plm', 'pre-trained language model') are True;
    abbreviates('ml', 'multilingual') is False (one word never abbreviates itself).
    """
    letters = [c for c in short.lower() if c.isalnum()]
    ws = [w for w in long.lower().split(" ") if w]
    if len(ws) < 2 and "-" not in long:
        return False
    if not letters or len(letters) > 3 * len(ws):
        return False

    @cache
    def match(si: int, wi: int) -> bool:
        if wi == len(ws):
            return si == len(letters)
        w = ws[wi]
        if w in FUNCTION_WORDS and match(si, wi + 1):
            return True
        starts = [0] + [i + 1 for i, c in enumerate(w) if c == "-" and i + 1 < len(w)]
        for start in starts:
            if si < len(letters) and w[start] == letters[si]:
                # take w[start] and then any later letters of the word, as many as the rest allows
                pos, s = start + 1, si + 1
                if match(s, wi + 1):
                    return True
                while s < len(letters):
                    found = w.find(letters[s], pos)
                    if found < 0:
                        break
                    pos, s = found + 1, s + 1
                    if match(s, wi + 1):
                        return True
        return False

    return match(0, 0)


def abbreviates_partially(short_key: str, long_key: str) -> bool:
    """'open ie' ~ 'open information extraction', 'nmt model' ~ 'neural machine translation model'.

    The short name's words either equal the long name's words or abbreviate a run of two or more of them,
    and at least one word is abbreviated.
    """
    sw, lw = list(words(short_key)), list(words(long_key))

    @cache
    def match(i: int, j: int, abbreviated: bool) -> bool:
        if i == len(sw):
            return j == len(lw) and abbreviated
        if j < len(lw) and sw[i] == lw[j] and match(i + 1, j + 1, abbreviated):
            return True
        return any(
            abbreviates(sw[i], " ".join(lw[j:end])) and match(i + 1, end, True)
            for end in range(j + 2, len(lw) + 1)
        )

    return len(sw) < len(lw) and match(0, 0, False)


def without_trailing_acronym(name: str) -> str:
    """'visual question answering VQA' -> 'visual question answering': a last word that only repeats
    the words before it as their initials (the parenthesis lost in extraction)."""
    *head, last = name.split(" ") if " " in name else ("", name)
    if len(head) < 2 or not 2 <= len(last) <= 8 or not last.isalpha():
        return name
    letters = last[:-1] if len(last) > 2 and last.endswith("s") and last[:-1].isupper() else last
    tail = [w.lower() for w in head]
    for k in range(2, len(tail) + 1):
        if abbreviates(letters.lower(), " ".join(tail[-k:])):
            return " ".join(head)
    return name


# --- linking short forms to the names they stand for ---------------------------------------

# short form letters -> long form key -> documents defining it ("" when the document is unknown)
Definitions = dict[str, dict[str, set[str]]]


@dataclass
class AcronymLinks:
    edges: list[tuple[int, Edge]] = field(default_factory=list)  # (short node, edge to the cluster it joins)
    by_document: dict[int, dict[str, int]] = field(default_factory=dict)  # short node -> doc -> long node
    unresolved: list[Edge] = field(default_factory=list)  # short forms with several expansions, undecided
    counts: Counter[str] = field(default_factory=Counter)


def _short_surface(node: Node, definitions: Definitions) -> tuple[str, str] | None:
    """The node's spelling as a short form and its head word: an acronym ('NMT', ''), a lower-case one
    that some text defines ('scfs', ''), or an acronym with a head word that adds nothing to it
    ('CRF model', 'model'; 'WSD task', 'task')."""
    *short, head = node.key.split(" ")
    if short and not (len(short) == 1 and head in TASK_HEADS | MODEL_HEADS):
        return None
    if head in TASK_HEADS and not written_singular(node.surfaces, head):
        return None  # 'NLP tasks': the tasks of a field
    forms = [s.split(" ")[0] for s in node.surfaces if not (short and s.isupper())]  # not 'JOINT TASK'
    forms = [
        f for f in forms if looks_like_acronym(f) or (may_abbreviate(f) and short_letters(f) in definitions)
    ]
    if not forms:
        return None
    return max(forms, key=lambda f: (forms.count(f), f)), head if short else ""


def _fits_head(head: str, long_key: str) -> bool:
    """'CRF model' may stand for 'conditional random field', 'WSD task' for 'word sense
    disambiguation'; 'MT system' never for 'machine translation' (a system is not a task)."""
    if not head:
        return True
    return names_action(long_key) == (head in TASK_HEADS)


def _edge(i: int, j: int, generator: str, score_name: str, score: float, reason: str) -> Edge:
    a, b = min(i, j), max(i, j)
    return Edge(a, b, generator, {score_name: score}, decision="merge", band="high", reason=reason)


def partial_abbreviations(nodes: list[Node]) -> list[Edge]:
    """'open IE' -> 'open information extraction' when exactly one name fits."""
    # The names written with an acronym in them first: only their keys are looked up, so only those
    # of the partial keys are kept (every name has O(words^2) of them: too many to hold at a million).
    shortened = {
        i: " ".join(words(n.key))
        for i, n in enumerate(nodes)
        if " " in n.key and any(looks_like_acronym(w) for s in n.surfaces for w in s.split())
    }
    wanted = set(shortened.values())
    by_partial: dict[str, list[int]] = defaultdict(list)
    for i, n in enumerate(nodes):
        if len(words(n.key)) >= 2:
            for k in partial_keys(n.key) & wanted:
                by_partial[k].append(i)
    edges = []
    for i, spaced in shortened.items():
        if spaced in by_partial:
            n = nodes[i]
            longs = [j for j in by_partial[spaced] if j != i and abbreviates_partially(n.key, nodes[j].key)]
            if len(longs) == 1:
                edges.append(_edge(i, longs[0], "acronym", "acronym", ACRONYM_SCORE, "acronym"))
    return edges


def link_short_forms(
    nodes: list[Node], definitions: Definitions, cluster_of: dict[int, int], also: dict[str, int]
) -> AcronymLinks:
    """Which cluster each acronym joins; `cluster_of` is the clustering of every other name, so the
    expansions of an acronym that are already one entity ('temporal knowledge graph', 'temporal
    knowledge graphs', 'temporal-knowledge graph') count as one expansion. `also` gives keys that name
    a node besides its own ('range concatenation grammar' for 'range concatenation grammar formalism',
    where 'RCG' is defined)."""
    out = AcronymLinks()
    node_of_key = {**also, **{n.key: i for i, n in enumerate(nodes)}}
    by_initials: dict[str, list[int]] = defaultdict(list)
    for i, n in enumerate(nodes):
        if len(words(n.key)) >= 2:
            for k in long_keys(n.key):
                by_initials[k].append(i)
    for i, n in enumerate(nodes):
        if (short := _short_surface(n, definitions)) is not None:
            _link_short_form(i, *short, nodes, by_initials, node_of_key, definitions, cluster_of, out)
    return out


def _link_short_form(
    i: int,
    surface: str,
    head: str,
    nodes: list[Node],
    by_initials: dict[str, list[int]],
    node_of_key: dict[str, int],
    definitions: Definitions,
    cluster_of: dict[int, int],
    out: AcronymLinks,
) -> None:
    letters = short_letters(surface)
    defined = {node_of_key[k]: docs for k, docs in definitions.get(letters, {}).items() if k in node_of_key}
    defined.pop(i, None)
    # A lower-case short form joins only what a definition gives it: 'map' is a word, 'MAP' an acronym.
    found = {
        j
        for k in short_keys(surface)
        for j in by_initials.get(k, [])
        if j != i and looks_like_acronym(surface)
    }
    expansions = sorted({j for j in found if abbreviates(letters, nodes[j].key)} | set(defined))
    expansions = [j for j in expansions if _fits_head(head, nodes[j].key)]
    if not expansions:
        return
    out.counts["acronyms"] += 1
    # One entry per cluster: its best-known expansion, and the documents that define or name it.
    by_cluster: dict[int, list[int]] = defaultdict(list)
    for j in expansions:
        by_cluster[cluster_of[j]].append(j)
    best = {c: max(js, key=lambda j: (j in defined, nodes[j].count, -j)) for c, js in by_cluster.items()}
    defines = {c: set().union(*(defined.get(j, set()) for j in js)) for c, js in by_cluster.items()}
    names = {c: set().union(*(nodes[j].docs for j in js)) for c, js in by_cluster.items()}

    def link(c: int) -> Edge:
        j = best[c]
        if j in defined:
            return _edge(i, j, "definition", "definition", DEFINITION_SCORE, "definition")
        return _edge(i, j, "acronym", "acronym", ACRONYM_SCORE, "acronym")

    if not nodes[i].docs and definitions.get(letters):
        # Documents unknown, but the corpus defines this acronym: only the expansions it defines count.
        by_cluster = {c: js for c, js in by_cluster.items() if defines[c]}
        if not by_cluster:
            out.counts["acronyms_defined_as_something_else"] += 1
            return
    # Documents that define the short form as none of these ('singing voice conversion (SVC)' where
    # the names hold 'singing voice characteristics'): there it means what they say.
    covered = set().union(*defines.values())
    elsewhere = {d for docs in definitions.get(letters, {}).values() for d in docs} - covered
    elsewhere &= nodes[i].docs
    if len(by_cluster) == 1 and not elsewhere:
        out.edges.append((i, link(next(iter(by_cluster)))))
        return
    # Several expansions, or one that some documents rule out: decide in each document.
    chosen: dict[str, int] = {}
    for doc in sorted(nodes[i].docs - elsewhere):
        options = [c for c in by_cluster if doc in defines[c]] or [c for c in by_cluster if doc in names[c]]
        if not options and len(by_cluster) == 1:
            options = list(by_cluster)
        if len(options) == 1:
            chosen[doc] = options[0]
    targets = set(chosen.values())
    if len(targets) == 1 and len(chosen) == len(nodes[i].docs):
        out.edges.append((i, link(targets.pop())))
        out.counts["acronyms_settled_by_documents"] += 1
    elif targets:
        out.by_document[i] = {doc: best[c] for doc, c in chosen.items()}
        out.counts["acronyms_split_by_documents"] += 1
    else:
        out.counts["acronyms_ambiguous"] += 1
    for c in by_cluster:
        if c not in targets:
            edge = _edge(
                i, best[c], "acronym", "acronym", ACRONYM_SCORE, "an acronym with several expansions"
            )
            edge.decision, edge.band = "undecided", "low"
            out.unresolved.append(edge)
