"""The words and dependency-tree walks the relation cue patterns (kgc.extraction.cue_patterns) share:
verb forms and noun lists that decide a reading, and the steps from a word to its subject, objects,
conjuncts and prepositions in a spaCy parse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.tokens import Token


def forms(*lemmas: str) -> frozenset[str]:
    """The inflected forms of regular verbs ('evaluate' -> evaluates, evaluated, evaluating): the
    pipeline runs without its lemmatizer."""
    out: set[str] = set()
    for v in lemmas:
        stem = v[:-1] if v.endswith("e") else v
        out |= {v, v + "s", v + "es", stem + "ed", stem + "ing"}
        if v.endswith("y"):
            out |= {v[:-1] + "ies", v[:-1] + "ied"}
    return frozenset(out)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


BE = frozenset({"is", "are", "was", "were", "be", "been", "being", "'s", "remains", "remain"})
KIND_NOUNS = _words(
    "kind kinds type types form forms class classes variant variants instance instances example "
    "examples family subclass subtype subtypes version versions species category"
)
PART_NOUNS = _words(
    "part parts component components module modules element elements constituent constituents "
    "ingredient ingredients piece pieces subsystem subsystems building"
)
# 'X for Y' where Y is a time, a quantity or a purpose word is no use of X.
NOT_PURPOSE = _words(
    "situation situations context contexts order "
    "time times year years while moment example instance instances reason reasons purpose purposes "
    "part most lack first all each both case cases use sake"
)
# 'X for Y' where X is a result or a quantity states no use ('a significant improvement for Y')
NOT_MEANS = _words(
    "need needs improvement improvements gain gains advantage advantages performance results result "
    "support evidence way ways step steps paradigm accuracy error errors rate rates score scores"
)
QUANTITY_NOUNS = _words("set sets number numbers variety range lot lots pair pairs collection series amount")
# 'an approach to Y': a means named by what it is for
MEANS_NOUNS = _words(
    "approach approaches method methods solution solutions framework frameworks algorithm algorithms "
    "technique techniques model models system systems"
)
# 'the accuracy of X': a measure of X
METRIC_NOUNS = _words(
    "accuracy accuracies precision recall quality performance robustness error errors f-measure "
    "f-score f1 bleu perplexity"
)
USE_VERBS = forms("use", "employ", "utilize", "utilise", "exploit", "adopt", "leverage", "apply")
# 'induce a grammar from corpora': what a thing is made from is used for it
MADE_FROM_VERBS = forms(
    "induce",
    "learn",
    "extract",
    "derive",
    "build",
    "construct",
    "estimate",
    "train",
    "acquire",
    "compile",
    "obtain",
)
MADE_FOR_VERBS = forms("design", "develop", "propose", "tailor", "intend", "build", "train", "optimize")
PART_VERBS = forms("contain", "comprise", "include", "incorporate")
COMPOSED = forms("compose", "consist", "make")
EVALUATE_VERBS = forms("evaluate", "test", "assess", "benchmark", "validate", "measure", "score")
OUTPERFORM = forms("outperform", "surpass", "beat", "exceed", "outscore", "rival")
REQUIRE = forms("require")
COMPARED = frozenset({"compared", "comparing", "compare", "contrasted", "comparison"})
# 'X is superior / comparable to Y'
COMPARABLE = _words(
    "superior inferior comparable equivalent similar competitive complementary preferable analogous "
    "identical equal close"
)
# 'experiments on Z show that X ...': what an abstract reports its evaluation with
SHOW_VERBS = forms("show", "demonstrate", "indicate", "prove", "confirm", "reveal", "verify", "suggest")
TRIAL_NOUNS = _words(
    "experiment experiments experimentation experimentations result results evaluation evaluations test "
    "tests trial trials"
)
# 'a representation called a semantic frame', 'a method known as X'
NAMING = _words("called named termed dubbed known")
INDEFINITE = frozenset({"a", "an"})


def negated(tok: Token) -> bool:
    return any(c.dep_ == "neg" or c.lower_ in ("not", "never", "n't") for c in tok.children)


def nominal(tok: Token) -> bool:
    return tok.pos_ in ("NOUN", "PROPN") or (
        tok.tag_ == "VBG" and tok.dep_ in ("pobj", "dobj", "conj", "nsubj", "nsubjpass")
    )


def through_quantity(tok: Token) -> Token:
    """The noun a quantity phrase is about: 'a small set of face metrics' -> metrics."""
    if tok.lower_ in QUANTITY_NOUNS:
        for p in children(tok, ("prep",), frozenset({"of"})):
            for o in children(p, ("pobj",)):
                if nominal(o):
                    return o
    return tok


def with_conjuncts(tok: Token) -> list[Token]:
    """`tok` and the nouns coordinated with it ('such as A, B and C' reaches all three), each
    through a quantity phrase."""
    return [through_quantity(t) for t in (tok, *(c for c in tok.conjuncts if nominal(c)))]


def children(tok: Token, deps: tuple[str, ...], words: frozenset[str] | None = None) -> list[Token]:
    return [c for c in tok.children if c.dep_ in deps and (words is None or c.lower_ in words)]


def objects(prep: Token) -> list[Token]:
    """The nouns a preposition governs, with their conjuncts."""
    return [n for o in children(prep, ("pobj",)) if nominal(o) for n in with_conjuncts(o)]


def subjects(verb: Token) -> list[Token]:
    """What a verb says something about: its subject, the subject of the verb it is coordinated
    with ('X is fast and outperforms Y'), or the noun a relative clause hangs on ('X, which is ...')."""
    found = children(verb, ("nsubj", "nsubjpass"))
    if not found and verb.dep_ == "conj":
        found = children(verb.head, ("nsubj", "nsubjpass"))
    out = []
    for s in found:
        if s.tag_ in ("WDT", "WP") and verb.dep_ == "relcl":
            s = verb.head
        if nominal(s):
            out += with_conjuncts(s)
    if not found and verb.dep_ in ("relcl", "acl") and nominal(verb.head):
        out += with_conjuncts(verb.head)
    return out


def preps(tok: Token, *words: str) -> list[Token]:
    return children(tok, ("prep", "agent", "dative"), frozenset(words))
