"""A second vocabulary and labelled set for entity linking, of another kind than LectureBank's: a SKOS
vocabulary of the entity names of SciERC train's first 175 abstracts, and the names of its last 175
abstracts to link against it. Built by written rules and hand labels, never by kgc's linker.

    python bench/link_gold_scierc.py vocab    # vocabulary.ttl and to_label.tsv (names for the hand labels)
    python bench/link_gold_scierc.py split    # dev.tsv / test.tsv from the rules and hand.tsv

Read by path from /work/shared/data/scierc/train.json (SciERC's test split is never used); everything is
written to /work/shared/data/scierc_links/ and never committed (SciERC's names are SciERC's data).

The vocabulary (part A: train abstracts 1-175, Generic mentions left out). Surface forms are grouped
by `norm` (bench/link_gold.py: case, hyphens, plural 's', articles, a trailing parenthesis); each group
is a concept `sci:<its norm, slugged>` with the most frequent surface as skos:prefLabel and the other surfaces as
skos:altLabel, its SciERC type as skos:scopeNote. A mention 'long form (SF)' whose SF spells the long
form's initials defines SF: SF becomes an altLabel of the long form's concept, and is not a concept by itself; a concept whose label is an
all-capitals word (2-6 letters) that is the initials of exactly one other concept's label (function
words skipped) is folded into that concept as an altLabel too. Other acronym labels stay concepts
('BLEU'). Labels of more than six words are left out. skos:broader: the concept whose label is the
longest run of last words of this one's ('statistical machine translation' -> 'machine translation').

The names (part B: train abstracts 176-350, Generic left out), labelled in this order:
  E  exact: the name's `norm` equals one concept's label or altLabel `norm` -> that concept (a `norm`
     shared by several concepts: left out).
  N  trivially NIL: no word of 4+ letters shares its first 5 letters with a word of any label, and the
     name is not an all-capitals word -> NIL (a sample of 300).
  H  by hand (hand.tsv): every all-capitals or mixed-case acronym-like name the rules leave, and a random
     sample of the others, read one by one with the criteria of bench/link_gold_hard.tsv.
Split by a hash of the name as bench/link_gold.py does: 30% test (kept untouched until the end).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from link_gold import norm

TRAIN = Path("/work/shared/data/scierc/train.json")
OUT = Path("/work/shared/data/scierc_links")
FUNCTION_WORDS = {"of", "for", "the", "and", "in", "on", "to", "with", "a", "an", "via", "by", "from"}
_BRACKETS = {"-LRB-": "(", "-RRB-": ")", "-LSB-": "[", "-RSB-": "]", "-LCB-": "{", "-RCB-": "}"}
_DEFINED = re.compile(r"^(?P<long>.+?)\s*\(\s*(?P<short>[A-Za-z][A-Za-z0-9-]{1,9})\s*\)$")
_CAPS = re.compile(r"^[A-Z][A-Z0-9-]{1,5}s?$")


def surface(tokens: list[str]) -> str:
    text = " ".join(_BRACKETS.get(t, t) for t in tokens)
    return re.sub(r"\(\s+", "(", re.sub(r"\s+\)", ")", text))


def mentions(docs: list[dict]) -> list[tuple[str, str, str]]:
    """(document, surface, SciERC type) of every non-Generic mention."""
    out = []
    for d in docs:
        tokens = [t for s in d["sentences"] for t in s]
        for sentence in d["ner"]:
            for start, end, kind in sentence:
                if kind != "Generic":
                    out.append((d["doc_key"], surface(tokens[start : end + 1]), kind))
    return out


def initials(label: str, hyphens: bool = True) -> str:
    ws = [
        w for w in re.split(r"[\s-]+" if hyphens else r"\s+", label.lower()) if w and w not in FUNCTION_WORDS
    ]
    return "".join(w[0] for w in ws)


def spells(short: str, long: str) -> bool:
    """The short form is the long form's initials (hyphenated words as one word or as several)."""
    letters = re.sub(r"s$", "", short).lower().replace("-", "")
    return letters in (initials(long), initials(long, hyphens=False))


def build_vocabulary(part_a: list[dict]) -> list[dict]:
    surfaces: dict[str, Counter[str]] = defaultdict(Counter)
    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    defined: dict[str, str] = {}  # norm of a short form -> norm of its long form
    for _, text, kind in mentions(part_a):
        if m := _DEFINED.match(text):
            long, short = m["long"], m["short"]
            if spells(short, long):
                defined[norm(short)] = norm(long)
            text = long
        key = norm(text)
        if key and len(key.split()) <= 6:
            surfaces[key][text] += 1
            kinds[key][kind] += 1
    # short forms defined in part A, or all-capitals labels that are one other label's initials
    by_initials: dict[str, list[str]] = defaultdict(list)
    for key in surfaces:
        if len(key.split()) >= 2:
            by_initials[initials(key)].append(key)
    fold: dict[str, str] = {}
    for key, forms in surfaces.items():
        top = forms.most_common(1)[0][0]
        if key in defined and defined[key] in surfaces and defined[key] != key:
            fold[key] = defined[key]
        elif _CAPS.match(top) and len(by_initials.get(top.lower().rstrip("s"), [])) == 1:
            fold[key] = by_initials[top.lower().rstrip("s")][0]
    concepts: dict[str, dict] = {}
    for key in sorted(k for k in surfaces if k not in fold):
        forms = surfaces[key]
        label = sorted(forms, key=lambda s: (-forms[s], len(s), s))[0]
        concepts[key] = {
            "id": "sci:"
            + (re.sub(r"[^a-z0-9]+", "-", key).strip("-") or hashlib.sha1(key.encode()).hexdigest()[:8]),
            "label": label,
            "alt": sorted(s for s in forms if s != label),
            "type": kinds[key].most_common(1)[0][0],
        }
    for short, long in fold.items():
        concepts[long]["alt"] += sorted(surfaces[short])
    for key, c in concepts.items():
        ws = key.split()
        c["broader"] = next(
            (concepts[t]["id"] for t in (" ".join(ws[i:]) for i in range(1, len(ws))) if t in concepts), None
        )
    return list(concepts.values())


def turtle(concepts: list[dict]) -> str:
    def lit(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"@en'

    lines = [
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .",
        "@prefix sci: <https://example.org/scierc-train-a/> .",
        "",
    ]
    for c in concepts:
        parts = [f"{c['id']} a skos:Concept", f"skos:prefLabel {lit(c['label'])}"]
        parts += [f"skos:altLabel {lit(a)}" for a in c["alt"]]
        parts.append(f"skos:scopeNote {lit(c['type'])}")
        if c["broader"]:
            parts.append(f"skos:broader {c['broader']}")
        lines.append(" ;\n    ".join(parts) + " .")
    return "\n".join(lines) + "\n"


def rule_label(name: str, by_norm: dict[str, set[str]], words5: set[str]) -> tuple[str, str] | None:
    """(id or NIL, rule) by rules E and N, or None."""
    key = norm(name)
    if not key:
        return None
    if key in by_norm:
        ids = by_norm[key]
        return (next(iter(ids)), "E") if len(ids) == 1 else ("", "ambiguous")
    if not _CAPS.match(name) and not any(w[:5] in words5 for w in key.split() if len(w) >= 4):
        return "NIL", "N"
    return None


def load() -> tuple[list[dict], list[dict], list[dict]]:
    docs = [json.loads(line) for line in TRAIN.read_text(encoding="utf-8").splitlines() if line.strip()]
    part_a, part_b = docs[:175], docs[175:]
    return part_a, part_b, build_vocabulary(part_a)


def indexes(concepts: list[dict]) -> tuple[dict[str, set[str]], set[str]]:
    by_norm: dict[str, set[str]] = defaultdict(set)
    for c in concepts:
        for s in (c["label"], *c["alt"]):
            by_norm[norm(s)].add(c["id"])
    words5 = {w[:5] for k in by_norm for w in k.split() if len(w) >= 4}
    return by_norm, words5


def helper_candidates(name: str, concepts: list[dict], k: int = 6) -> list[str]:
    """For the labeller only: the concepts sharing most 5-letter word prefixes with the name, and for
    an acronym the concepts whose initials it could be (not kgc's linker)."""
    ws = {w[:5] for w in norm(name).split() if len(w) >= 3} - FUNCTION_WORDS
    scored = []
    for c in concepts:
        lw = {w[:5] for w in norm(c["label"]).split() if len(w) >= 3}
        overlap = len(ws & lw)
        if _CAPS.match(name) or re.match(r"^[A-Za-z]*[A-Z][A-Za-z]*[A-Z]", name):
            letters = re.sub(r"s$", "", name).lower()
            if initials(c["label"]).startswith(letters[:2]):
                overlap += 2 if initials(c["label"]) == letters else 1
        if overlap:
            scored.append((-overlap, len(c["label"]), c["label"], c["id"]))
    return [f"{i} {label}" for _, _, label, i in sorted(scored)[:k]]


def vocab() -> None:
    _, part_b, concepts = load()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "vocabulary.ttl").write_text(turtle(concepts), encoding="utf-8")
    by_norm, words5 = indexes(concepts)
    names = sorted({text for _, text, _ in mentions(part_b)})
    rows, counts = [], Counter[str]()
    for name in names:
        got = rule_label(name, by_norm, words5)
        counts[got[1] if got else "none"] += 1
        if got is None:
            rows.append(f"{name}\t\t\t|| " + " | ".join(helper_candidates(name, concepts)))
    (OUT / "to_label.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    with_broader = sum(c["broader"] is not None for c in concepts)
    alts = sum(len(c["alt"]) for c in concepts)
    print(f"{len(concepts):,} concepts ({alts:,} altLabels, {with_broader:,} with a broader concept)")
    print(f"{len(names):,} names in part B: {dict(counts)} -> {OUT}")


def split() -> None:
    _, part_b, concepts = load()
    by_norm, words5 = indexes(concepts)
    names = sorted({text for _, text, _ in mentions(part_b)})
    rows: list[tuple[str, str, str, str]] = []
    nil: list[tuple[str, str, str, str]] = []
    for name in names:
        got = rule_label(name, by_norm, words5)
        if got is not None and got[1] == "E":
            rows.append((name, got[0], "", "E"))
        elif got is not None and got[1] == "N":
            nil.append((name, "NIL", "", "N"))
    rng = random.Random(20)
    rows += rng.sample(nil, min(300, len(nil)))
    known = {c["id"] for c in concepts}
    for line in (OUT / "hand.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, gold, broader, stratum = [*line.split("\t"), "", "", ""][:4]
        if gold == "EXCLUDE":
            continue
        for i in (gold, broader):
            if i and i != "NIL" and i not in known:
                raise SystemExit(f"hand.tsv: unknown id {i!r} for {name!r}")
        rows.append((name, gold, broader, stratum or "H"))
    parts: dict[str, list[str]] = {"dev": [], "test": []}
    for name, gold, broader, rule in sorted(set(rows)):
        part = "test" if int(hashlib.sha256(name.encode()).hexdigest(), 16) % 10 < 3 else "dev"
        parts[part].append(f"{name}\t{gold}\t{broader}\t{rule}")
    for part, lines in parts.items():
        (OUT / f"{part}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(part, len(lines), dict(Counter(line.split("\t")[3] for line in lines)))


if __name__ == "__main__":
    {"vocab": vocab, "split": split}[sys.argv[1] if len(sys.argv) > 1 else "vocab"]()
