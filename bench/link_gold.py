"""A labelled set for entity linking, built by written rules (not by kgc's linker) from Graphusion's data.

Names: every head and tail of the four models' step-2 candidate triplets (18,846 distinct names).
Vocabulary: the 322 LectureBank concepts (refined_concepts.tsv). Labels, in this order:

  E  exact: the name, normalised by `norm` below (lower case, hyphens and underscores as spaces, a
     possessive, a leading article and a trailing parenthesis dropped, each word's plural 's'
     dropped), equals one concept's normalised label, or does with spaces removed -> that concept.
  P  parenthesis: 'long form (SF)' whose long form is rule E -> that concept.
  A  acronym: the name is one of the acronyms of ACRONYMS (written by hand from the concept list:
     what an NLP reader takes the acronym to mean in an ACL abstract), optionally plural -> its concept.
  T  task: '<label> task(s)' or '<label> problem(s)' -> the concept (the task is the concept).
  B  narrower: the name is one to three words followed by a concept's normalised label (of at least
     5 characters, not 'others'), e.g. 'chinese spelling correction' -> NIL, broader 'spelling correction'.
  N  trivially NIL: no word of 4+ letters of the name shares its first 5 letters with a word of any
     label, and the name is not an acronym of the table -> NIL.
  H  by hand: a random sample of the remaining names (sharing words with labels, no rule), labelled
     by reading them (bench/link_gold_hand.tsv); the rest of the remaining names are left out.

Names whose concept has a duplicate in the vocabulary (the same normalised label twice: 'question
answering', 'named entity recognition', 'convolutional neural network(s)'...) are left out: the
linker must call them ambiguous, and a gold id would be arbitrary.

The set is split by a hash of the name: 30% `test` (kept untouched for the final check), 70% `dev`.
Written to /work/shared/data/graphusion_links/{dev,test}.tsv as name<TAB>id|NIL[<TAB>broader_id]<TAB>rule.
"""

from __future__ import annotations

import ast
import hashlib
import os
import random
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "graphusion"
if not DATA.is_dir():
    DATA = Path("/work/shared/data/graphusion")
OUT = Path(os.environ.get("KGC_LINK_GOLD", DATA.parent / "graphusion_links"))  # $KGC_LINK_GOLD: elsewhere
HAND = Path(__file__).with_name("link_gold_hand.tsv")

ACRONYMS = {
    "gcn": "graph convolutional networks", "mdp": "markov decision processes",
    "smt": "statistical machine translation", "gan": "generative adversarial networks",
    "lstm": "long short term memory networks", "rl": "reinforcement learning",
    "hmm": "hidden markov models", "mle": "maximum likelihood estimation",
    "rnn": "recurrent neural networks", "pos": "parts of speech", "nmt": "neural machine translation",
    "mt": "machine translation", "ir": "information retrieval", "ie": "information extraction",
    "lda": "latent dirichlet allocation", "wsd": "word sense disambiguation",
    "srl": "semantic role labeling", "em": "expectation maximization algorithm",
    "svm": "support vector machines", "vae": "variational autoencoders", "mcts": "monte carlo tree search",
    "mcmc": "markov chain monte carlo", "pca": "principal component analysis",
    "cca": "canonical correlation analysis", "svd": "singular value decomposition",
    "lsi": "latent semantic indexing", "gru": "gated recurrent units",
    "pcfg": "probabilistic context free grammars", "tts": "text to speech generation",
    "asr": "speech recognition", "dqn": "deep q-network", "vqa": "visual qa", "mrf": "markov random fields",
    "fst": "finite state transducers", "tag": "tree adjoining grammar", "ccg": "combinatory categorial grammar",
    "mtl": "multi-task learning", "aes": "automated essay scoring", "knn": "k-nn", "seq2seq": "seq2seq",
    "crf": "sequence classification and conditional random fields", "lsa": "latent semantic indexing",
    "kg": "knowledge graph", "rbm": "restricted boltzmann machine, deep belief networks",
    "mlp": "neural networks",
}  # fmt: skip
_ARTICLE = re.compile(r"^(the|a|an)\s+")
_PAREN = re.compile(r"\s*\(([^()]*)\)?\s*$")


def _singular(w: str) -> str:
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def norm(name: str) -> str:
    s = name.lower().strip()
    s = _PAREN.sub("", s)
    s = re.sub(r"['\u2019]s\b", "", s)
    s = re.sub(r"[-_/]", " ", s)
    s = re.sub(r"[^\w\s*]", " ", s)
    s = _ARTICLE.sub("", " ".join(s.split()))
    return " ".join(_singular(w) for w in s.split())


def read_names() -> Counter[str]:
    names: Counter[str] = Counter()
    for f in sorted((DATA / "candidates").glob("*.step2.txt")):
        for line in f.read_text(encoding="utf-8").splitlines():
            try:
                h, _, t = ast.literal_eval(line.strip())
            except (ValueError, SyntaxError):
                continue
            names[str(h).strip()] += 1
            names[str(t).strip()] += 1
    return names


def read_concepts() -> list[tuple[str, str]]:
    rows = (line.split("|", 1) for line in (DATA / "refined_concepts.tsv").read_text().splitlines() if line)
    return [(i.strip(), label.strip()) for i, label in rows]


def label(
    name: str, by_norm: dict[str, list[str]], by_compact: dict[str, list[str]], words5: set[str]
) -> tuple[str, str, str] | None:
    """(id or NIL, broader id or '', rule) or None when no rule applies."""
    n = norm(name)
    if not n:
        return None
    if n in by_norm:
        return by_norm[n][0], "", "E"
    if n.replace(" ", "") in by_compact:  # 'multitask learning' = 'multi-task learning'
        return by_compact[n.replace(" ", "")][0], "", "E"
    m = _PAREN.search(name.strip())
    if m and norm(name[: m.start()]) in by_norm:
        return by_norm[norm(name[: m.start()])][0], "", "P"
    bare = name.strip().rstrip("s").lower() if name.strip().endswith("s") else name.strip().lower()
    if name.strip()[:1].isupper() or name.strip().isupper():
        for token in (name.strip().lower(), bare):
            if token in ACRONYMS and norm(ACRONYMS[token]) in by_norm:
                return by_norm[norm(ACRONYMS[token])][0], "", "A"
    ws = n.split()
    if len(ws) >= 2 and ws[-1] in ("task", "problem") and " ".join(ws[:-1]) in by_norm:
        return by_norm[" ".join(ws[:-1])][0], "", "T"
    for start in range(1, min(4, len(ws))):
        tail = " ".join(ws[start:])
        found = by_norm.get(tail) or by_compact.get(tail.replace(" ", ""))
        if found and len(tail) >= 5 and tail != "other":
            return "NIL", found[0], "B"
    if not any(w[:5] in words5 for w in ws if len(w) >= 4) and name.strip().lower() not in ACRONYMS:
        return "NIL", "", "N"
    return None


def main() -> None:
    concepts = read_concepts()
    groups: dict[str, list[str]] = defaultdict(list)
    for cid, lab in concepts:
        groups[norm(lab)].append(cid)
    duplicated = {cid for ids in groups.values() if len(ids) > 1 for cid in ids}
    by_norm = dict(groups)
    by_compact: dict[str, list[str]] = defaultdict(list)
    for key, ids in groups.items():
        by_compact[key.replace(" ", "")] += ids
    duplicated |= {cid for ids in by_compact.values() if len(ids) > 1 for cid in ids}
    words5 = {w[:5] for lab in by_norm for w in lab.split() if len(w) >= 4}
    names = read_names()
    rows: list[tuple[str, str, str, str]] = []
    rest: list[str] = []
    left_out = Counter[str]()
    for name in sorted(names):
        if not name or "\t" in name or "\n" in name:
            continue
        got = label(name, by_norm, by_compact, words5)
        if got is None:
            rest.append(name)
            continue
        gold, broader, rule = got
        if gold in duplicated or broader in duplicated:
            left_out["duplicated concept"] += 1
            continue
        rows.append((name, gold, broader, rule))
    by_rule = Counter(r[3] for r in rows)
    # trivially-NIL names are most of the corpus: keep 1,500 of them so they do not swamp the set
    rng = random.Random(20)
    nil = [r for r in rows if r[3] == "N"]
    keep_nil = set(rng.sample(range(len(nil)), min(1500, len(nil))))
    rows = [r for r in rows if r[3] != "N"] + [r for k, r in enumerate(nil) if k in keep_nil]
    if HAND.is_file():
        for line in HAND.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                name, gold, broader = [*line.split("\t"), "", ""][:3]
                if gold not in duplicated:
                    rows.append((name, gold, broader, "H"))
    elif "--sample" in sys.argv:
        sample = rng.sample(rest, 250)
        print("\n".join(sample))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    split: dict[str, list[str]] = {"dev": [], "test": []}
    for name, gold, broader, rule in sorted(rows):
        part = "test" if int(hashlib.sha256(name.encode()).hexdigest(), 16) % 10 < 3 else "dev"
        split[part].append(f"{name}\t{gold}\t{broader}\t{rule}")
    for part, lines in split.items():
        (OUT / f"{part}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"names {len(names):,}; rules {dict(by_rule)}; no rule {len(rest):,}; left out {dict(left_out)}")
    print(
        f"kept {len(rows):,} ({sum(r[3] == 'N' for r in rows):,} trivially NIL sampled): "
        f"dev {len(split['dev']):,}, test {len(split['test']):,} -> {OUT}"
    )


if __name__ == "__main__":
    main()
