"""The name an entity is shown under is a form seen in the text, chosen by a stated rule."""

from __future__ import annotations

import csv
import random

from kgc.resolve import resolve_names
from kgc.resolve.canonical import shown_form
from kgc.resources import demo_dir
from kgc.text import singular


def canonical(names: list[str]) -> dict[str, str]:
    """Each name -> the shown name of its entity."""
    r = resolve_names(names)
    return {n: r.clusters[r.lookup(n) or ""].canonical for n in names}


def test_singular_when_seen_and_never_a_made_up_one() -> None:
    names = ["naive Bayes", "Naive Bayes", "Hugging Face Transformers", "analyses", "analyses", "analysis"]
    shown = canonical([*names, "corpora", "corpora", "corpus", "low rank matrices", "low rank matrix"])
    assert shown["Naive Bayes"] == "naive Bayes"  # inflect's singular would be 'Baye'
    assert shown["Hugging Face Transformers"] == "Hugging Face Transformers"  # no singular was seen
    assert shown["analyses"] == "analysis"  # the singular, though the plural is more frequent
    assert shown["corpora"] == "corpus"
    assert shown["low rank matrices"] == "low rank matrix"  # 'matrices' is the plural of 'matrix'


def test_acronyms_keep_their_dots_and_join_their_full_form() -> None:
    assert set(canonical(["AI", "A.I."]).values()) == {"A.I."}
    shown = canonical(["AI", "A.I.", "artificial intelligence", "Artificial Intelligence", "MT"])
    assert {shown["AI"], shown["A.I."], shown["Artificial Intelligence"]} == {"artificial intelligence"}
    assert shown["MT"] == "MT"


def test_what_is_not_part_of_a_name_is_left_out() -> None:
    assert shown_form("The BERT's") == "BERT"
    assert shown_form("“neural MT (NMT)”") == "neural MT"
    assert shown_form("U.S. election.") == "U.S. election"
    assert shown_form("C++") == "C++"
    assert shown_form("[CLS] token") == "[CLS] token"
    assert canonical(["C++", "C"])["C++"] == "C++"  # a different language, not 'C' with punctuation


def test_every_shown_name_is_the_form_of_a_name_of_its_entity() -> None:
    with (demo_dir() / "gold_triplets.tsv").open(encoding="utf-8") as f:
        bases = sorted({row[k] for row in csv.DictReader(f, delimiter="\t") for k in ("head", "tail")})
    rng = random.Random(3)
    variants = [rng.choice([b, b + "s", b.title(), b.upper(), f"the {b}'s", f'"{b}".']) for b in bases * 3]
    r = resolve_names(variants)
    for c in r.clusters.values():
        assert c.canonical in {shown_form(s) for s in c.surfaces}, (c.canonical, c.surfaces)
        assert c.canonical_reason


def test_singular_rules() -> None:
    plural_to_singular = {
        "matrices": "matrix", "vertices": "vertex", "lemmata": "lemma", "corpora": "corpus",
        "analyses": "analysis", "GANs": "GAN", "classes": "class", "changes": "change",
        "Bayes": "Bayes", "data": "data", "series": "series", "bias": "bias", "media": "media",
    }  # fmt: skip
    assert {w: singular(w) for w in plural_to_singular} == plural_to_singular
