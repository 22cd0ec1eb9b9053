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
from dataclasses import dataclass, field
from functools import cache, lru_cache

from kgc.resolve.types import Edge, Node
from kgc.text import words

FUNCTION_WORDS = frozenset(
    {"of", "for", "the", "and", "in", "on", "to", "with", "a", "an", "via", "by", "from"}
)
ACRONYM_SCORE = 0.95  # the score recorded for an acronym read out of a name found in the corpus
DEFINITION_SCORE = 1.0  # ... and for one defined in a document ('neural machine translation (NMT)')
_TOKEN = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:['\u2019]s|s)?$")


def looks_like_acronym(token: str) -> bool:
    """'NMT', 'PLMs', 'CoRAL', 'ToD', 'BERT's' yes; 'Transformer', 'nmt', 'GPT-3', 'T5' no."""
    token = token.strip()
    if " " in token or not 2 <= len(token) <= 12 or not _TOKEN.match(token):
        return False
    letters = [c for c in token if c.isalpha()]
    return sum(c.isupper() for c in letters) >= 2 and not any(c.isdigit() for c in token)


def short_letters(token: str) -> str:
    """The letters a short form spells, plural or possessive dropped: 'PLMs' -> 'plm', "BERT's" -> 'bert'."""
    t = re.sub(r"['\u2019]s?$", "", token.strip())
    if len(t) > 2 and t.endswith("s") and t[-2].isupper():
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


def partial_keys(key: str) -> set[str]:
    """'open information extraction' -> {'open ie', 'oi extraction'}: a run of words as its initials
    (hyphenated words count as several: 'document-level relation extraction' -> 'document level re')."""
    ws = list(words(key))
    out = set()
    for k in range(1, len(ws)):
        if len(ws) - k >= 2:
            out.add(" ".join(ws[:k]) + " " + _initials(ws[k:]))
        if k >= 2:
            out.add(_initials(ws[:k]) + " " + " ".join(ws[k:]))
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
    edges: list[Edge] = field(default_factory=list)  # short node -> one node of the cluster it joins
    by_document: dict[int, dict[str, int]] = field(default_factory=dict)  # short node -> doc -> long node
    unresolved: list[Edge] = field(default_factory=list)  # short forms with several expansions, undecided
    counts: Counter[str] = field(default_factory=Counter)


def _short_surface(node: Node) -> str | None:
    forms = [s for s in node.surfaces if looks_like_acronym(s)]
    return max(forms, key=lambda s: (node.surfaces[s], s)) if forms and " " not in node.key else None


def _edge(i: int, j: int, generator: str, score_name: str, score: float, reason: str) -> Edge:
    a, b = min(i, j), max(i, j)
    return Edge(a, b, generator, {score_name: score}, decision="merge", band="high", reason=reason)


def partial_abbreviations(nodes: list[Node]) -> list[Edge]:
    """'open IE' -> 'open information extraction' when exactly one name fits."""
    by_partial: dict[str, list[int]] = defaultdict(list)
    for i, n in enumerate(nodes):
        if len(words(n.key)) >= 2:
            for k in partial_keys(n.key):
                by_partial[k].append(i)
    edges = []
    for i, n in enumerate(nodes):
        if (
            " " in n.key
            and (spaced := " ".join(words(n.key))) in by_partial
            and any(looks_like_acronym(w) for s in n.surfaces for w in s.split())
        ):
            longs = [j for j in by_partial[spaced] if j != i and abbreviates_partially(n.key, nodes[j].key)]
            if len(longs) == 1:
                edges.append(_edge(i, longs[0], "acronym", "acronym", ACRONYM_SCORE, "acronym"))
    return edges


def link_short_forms(nodes: list[Node], definitions: Definitions, cluster_of: dict[int, int]) -> AcronymLinks:
    """Which cluster each acronym joins; `cluster_of` is the clustering of every other name, so the
    expansions of an acronym that are already one entity ('temporal knowledge graph', 'temporal
    knowledge graphs', 'temporal-knowledge graph') count as one expansion."""
    out = AcronymLinks()
    node_of_key = {n.key: i for i, n in enumerate(nodes)}
    by_initials: dict[str, list[int]] = defaultdict(list)
    for i, n in enumerate(nodes):
        if len(words(n.key)) >= 2:
            for k in long_keys(n.key):
                by_initials[k].append(i)
    for i, n in enumerate(nodes):
        if (surface := _short_surface(n)) is not None:
            _link_short_form(i, surface, nodes, by_initials, node_of_key, definitions, cluster_of, out)
    return out


def _link_short_form(
    i: int,
    surface: str,
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
    found = {j for k in short_keys(surface) for j in by_initials.get(k, []) if j != i}
    expansions = sorted({j for j in found if abbreviates(letters, nodes[j].key)} | set(defined))
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
    if len(by_cluster) == 1:
        out.edges.append(link(next(iter(by_cluster))))
        return
    # Several expansions: decide in each document of the short form.
    chosen: dict[str, int] = {}
    for doc in sorted(nodes[i].docs):
        options = [c for c in by_cluster if doc in defines[c]] or [c for c in by_cluster if doc in names[c]]
        if len(options) == 1:
            chosen[doc] = options[0]
    targets = set(chosen.values())
    if len(targets) == 1 and len(chosen) == len(nodes[i].docs):
        out.edges.append(link(targets.pop()))
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
