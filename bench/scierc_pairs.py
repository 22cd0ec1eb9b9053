"""Name pairs labelled by SciERC's annotators: aliases (one coreference cluster) and distinct entities.

    .venv/bin/python bench/scierc_pairs.py [train|dev] [--show N]   # counts and a sample to spot-check

Read from /work/shared/data/scierc/{train,dev}.json (DyGIE format; Luan et al. 2018) by path, never
copied into the repository; the test split is never used. Rules, per abstract:

- a mention is an entity span (`ner`) whose type is not `Generic` ('this method', 'it', 'system'),
  that is not a pronoun and does not start with a demonstrative or possessive determiner ('this',
  'these', 'its', 'our', ...); its text is the tokens joined back (`-LRB-` -> '(', no space inside
  parentheses or before punctuation);
- same = 1 for two mentions of one coreference cluster (SciERC's `clusters`); same = 0 for two
  mentions of different clusters, or of a cluster and an entity in none (annotators put every
  repeated entity in a cluster, so an entity in none is mentioned once);
- a pair is kept once per abstract, as two texts that differ other than by case and spacing
  (identical texts are the same name to any resolver); a text found in two clusters of one abstract
  is ambiguous there and gives no pair;
- two texts that are one name written two ways (`same_name`: equal but for case, spaces, hyphens and
  the plural of the last word, or one the short form the abstract defines for the other, 'long form
  (SF)') are never a `different` pair: SciERC keeps mentions apart in context ('a classifier' /
  'classifiers', 'LM' / 'language models (LMs)' meaning one model and all of them), a knowledge
  graph names concepts. Such pairs of one cluster are kept as `same` and counted apart (`spelling`).

Coreference is a relation between mentions in context, so some `same` pairs are not aliases a name
resolver could know ('linear SVM classifier' / 'classification progress'): recall is measured
against an upper bound below 1. And some `different` pairs are one name to a knowledge graph though
their mentions were not coreferent ('parsing' / 'parsing process'): the pairs any resolver merged
against the label were read again and relabelled by the criterion of bench/resolve_pairs.tsv (the
two could replace each other in an NLP knowledge graph), with a note each, in
bench/scierc_adjudicated.tsv; scores are given with SciERC's labels and adjudicated.
`bench/bench_resolve_quality.py` scores resolvers on these pairs.
"""

from __future__ import annotations

import csv
import json
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import inflect

ROOT = Path(__file__).resolve().parent.parent
_inflect = inflect.engine()
ADJUDICATED = ROOT / "bench" / "scierc_adjudicated.tsv"
_BRACKETS = {"-LRB-": "(", "-RRB-": ")", "-LSB-": "[", "-RSB-": "]", "-LCB-": "{", "-RCB-": "}"}
_NO_SPACE_BEFORE = {")", "]", "}", ",", ".", ";", ":", "'s", "%"}
_NO_SPACE_AFTER = {"(", "[", "{"}
PRONOUNS = frozenset({
    "it", "its", "they", "them", "their", "this", "these", "that", "those", "which", "who", "we", "our",
    "us", "he", "she", "his", "her", "one", "ones",
})  # fmt: skip
DETERMINERS = frozenset({"this", "these", "that", "those", "its", "their", "our", "such", "his", "her"})


@dataclass(frozen=True)
class Pair:
    doc: str
    a: str
    b: str
    same: bool
    spelling: bool = False  # one name written two ways (`same_name`)
    adjudicated: bool | None = None  # the label after reading it again, where it was


@dataclass
class Abstract:
    doc: str
    text: str
    mentions: list[tuple[str, int | None]]  # (text, cluster index or None), in order of appearance


def data_dir() -> Path:
    for p in (ROOT.parent / "shared" / "data" / "scierc", Path("/work/shared/data/scierc")):
        if (p / "train.json").is_file():
            return p
    raise SystemExit("SciERC not found under ../shared/data/scierc (see its README)")


def detokenise(tokens: list[str]) -> str:
    out = ""
    for t in (_BRACKETS.get(t, t) for t in tokens):
        if out and t not in _NO_SPACE_BEFORE and out[-1] not in _NO_SPACE_AFTER:
            out += " "
        out += t
    return out


def is_name(text: str, kind: str) -> bool:
    words = text.lower().split()
    return kind != "Generic" and text.lower() not in PRONOUNS and words[0] not in DETERMINERS


def read_abstracts(split: str) -> list[Abstract]:
    if split == "test":
        raise SystemExit("SciERC's test split is held back: never used")
    out = []
    for line in (data_dir() / f"{split}.json").read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        tokens = [t for s in d["sentences"] for t in s]
        cluster_of = {(a, b): k for k, c in enumerate(d["clusters"]) for a, b in c}
        mentions = [
            (detokenise(tokens[a : b + 1]), cluster_of.get((a, b)))
            for sentence in d["ner"]
            for a, b, kind in sentence
            if is_name(detokenise(tokens[a : b + 1]), kind)
        ]
        out.append(Abstract(d["doc_key"], " ".join(detokenise(s) for s in d["sentences"]), mentions))
    return out


def _fold(text: str) -> str:
    return " ".join(text.lower().split())


def _spellings(text: str) -> set[tuple[str, str]]:
    """(letters of every word but the last, last word), without spaces, hyphens or punctuation, for the
    text and, when it holds a parenthesis, for each side of it: 'machine translation (MT) systems' ->
    the spellings of 'machine translation systems' and of 'MT systems'."""
    forms = {text}
    if m := re.match(r"^(.*?)\s*[(\[]([^()\[\]]+)[)\]]?\s*(.*)$", text):
        forms |= {f"{m[1]} {m[3]}", f"{m[2]} {m[3]}"}
    out = set()
    for form in forms:
        *head, last = form.lower().split() or [""]
        out.add((re.sub(r"[\W_]+", "", "".join(head)), last.replace("-", "")))
    return out


def same_name(a: str, b: str, abstract: str) -> bool:
    """One name written two ways (the rule of the module docstring)."""
    for head_a, last_a in _spellings(a):
        for head_b, last_b in _spellings(b):
            if head_a == head_b and (last_a == last_b or _inflect.compare_nouns(last_a, last_b)):
                return True
            if head_a + re.sub(r"[\W_]+", "", last_a) == head_b + re.sub(r"[\W_]+", "", last_b):
                return True
    text = _fold(abstract)
    for long, short in ((a, b), (b, a)):
        base = long.split(" (")[0]
        if f"{_fold(base)} ({_fold(short)}" in text or f"{_fold(base)} ({_fold(short).rstrip('s')}" in text:
            return True
    return False


def abstract_pairs(ab: Abstract) -> list[Pair]:
    clusters_of: dict[str, set[int | None]] = {}
    shown: dict[str, str] = {}
    for text, k in ab.mentions:
        clusters_of.setdefault(_fold(text), set()).add(k)
        shown.setdefault(_fold(text), text)
    # A text in two clusters is ambiguous here; one in a cluster and also alone takes the cluster.
    cluster = {t: ks - {None} or {None} for t, ks in clusters_of.items()}
    texts = sorted(t for t, ks in cluster.items() if len(ks) == 1)
    pairs = []
    for i, x in enumerate(texts):
        for y in texts[i + 1 :]:
            (kx,), (ky,) = cluster[x], cluster[y]
            same = kx is not None and kx == ky
            spelling = same_name(shown[x], shown[y], ab.text)
            if same or not spelling:
                pairs.append(Pair(ab.doc, shown[x], shown[y], same, spelling))
    return pairs


def adjudicated(split: str) -> dict[tuple[str, frozenset[str]], bool]:
    """(doc, {a, b}) -> same, for the pairs of `split` relabelled in bench/scierc_adjudicated.tsv."""
    with ADJUDICATED.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return {(r["doc"], frozenset((r["a"], r["b"]))): r["same"] == "1" for r in rows if r["split"] == split}


def labelled_pairs(split: str) -> tuple[list[Abstract], list[Pair]]:
    abstracts = read_abstracts(split)
    relabelled = adjudicated(split)
    pairs = [p for ab in abstracts for p in abstract_pairs(ab)]
    return abstracts, [replace(p, adjudicated=relabelled.get((p.doc, frozenset((p.a, p.b))))) for p in pairs]


def main() -> None:
    split = sys.argv[1] if len(sys.argv) > 1 else "train"
    show = int(sys.argv[sys.argv.index("--show") + 1]) if "--show" in sys.argv else 0
    abstracts, pairs = labelled_pairs(split)
    counts = Counter(p.same for p in pairs)
    print(f"SciERC {split}: {len(abstracts)} abstracts, {sum(len(a.mentions) for a in abstracts)} mentions")
    spelling = sum(p.same and p.spelling for p in pairs)
    print(
        f"pairs: {counts[True]} same ({spelling} of them one name written two ways), {counts[False]} different"
    )
    print(f"relabelled on reading again: {sum(p.adjudicated is not None for p in pairs)}")
    rng = random.Random(7)
    for same in (True, False):
        group = [p for p in pairs if p.same is same]
        for p in rng.sample(group, min(show, len(group))):
            print(f"{int(same)}\t{p.doc}\t{p.a}\t{p.b}")


if __name__ == "__main__":
    main()
