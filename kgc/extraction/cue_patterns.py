"""Lexico-syntactic patterns over a spaCy dependency parse: which noun of a sentence a cue word
relates to which other, by what kind of statement, in which direction.

Hearst (1992) read hyponymy from `X such as Y` and `Y and other X`; the same idea serves the other
relation kinds of scientific text (`X consists of Y`, `X is used for Y`, `we evaluate X on Y`,
`X outperforms Y`, `X and Y`). The patterns are written over dependency arcs, not over the raw
text, so `X, such as the Y and Z` reaches Y and Z whatever words stand between. Each statement
reads `head CLASS tail` in the class's own direction:

    kind-of       head is a kind of tail            'Y such as X', 'X is a Y', 'X, a Y',
                                                    'Y called X'
    part-of       head is a part of tail            'Y consists of X', 'Y contains X', 'X is part of Y'
    used-for      head is used for tail             'X for Y', 'X is used for Y', 'Y uses X',
                                                    'Y using X', 'Y (is) based on X', 'Y from X',
                                                    'an approach to Y'
    evaluate-for  head evaluates tail               'we evaluate Y on X', 'the accuracy of Y',
                                                    'Y outperforms Z on X', 'experiments on X
                                                    show that Y ...'
    compare       head is compared with tail        'X outperforms Y', 'X is faster than Y',
                                                    'compared with Y, X', 'X is superior to Y'
    conjunction   the two are coordinated           'X and Y', 'X or Y', 'X as well as Y'
    prerequisite  head must be known before tail    'Y requires X', 'X is a prerequisite of Y'

Measured and left out (0 right on SciERC's tune abstracts): 'X-based Y', 'X, including Y', 'Y via
X', Hearst's 'Y and other X' (0 of 4: the annotators read such a list as a conjunction), and 'the property of Y' for feature-of (SciERC annotates those names as one mention); 'we
compare X with Y' read from the verb's object (0 of 6), 'improvements of X over Y' (0 of 4); 'X
achieves higher accuracy' for evaluate-for (1 of 15: the measure is written with its value, 'almost
60% accuracy', and the annotators relate it to a method named elsewhere).

A negated statement ('X is not a kind of Y') gives nothing. The parser may be wrong; patterns ask
for the arcs that make the reading unambiguous rather than guess, so they state little but state it
well (bench/results/cues.md measures each).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kgc.extraction.cue_syntax import (
    BE,
    COMPARABLE,
    COMPARED,
    COMPOSED,
    EVALUATE_VERBS,
    INDEFINITE,
    KIND_NOUNS,
    MADE_FOR_VERBS,
    MADE_FROM_VERBS,
    MEANS_NOUNS,
    METRIC_NOUNS,
    NAMING,
    NOT_MEANS,
    NOT_PURPOSE,
    OUTPERFORM,
    PART_NOUNS,
    PART_VERBS,
    REQUIRE,
    SHOW_VERBS,
    TRIAL_NOUNS,
    USE_VERBS,
    children,
    negated,
    nominal,
    objects,
    preps,
    subjects,
    with_conjuncts,
)
from kgc.schema import CueClass

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token


@dataclass(frozen=True)
class Statement:
    """`head` (a token heading a noun phrase) stands in relation `cue` to `tail`, by `pattern`."""

    head: Token
    cue: CueClass
    tail: Token
    pattern: str


def _kind_of(tok: Token) -> Iterator[Statement]:
    # 'X such as Y' (also ', such as'), and 'such X as Y'
    such = any(c.lower_ == "such" for c in tok.children) or any(
        c.lower_ == "such" and c.dep_ == "amod" for c in tok.head.children
    )
    if tok.lower_ == "as" and tok.dep_ == "prep" and nominal(tok.head) and such:
        for y in objects(tok):
            yield Statement(y, "kind-of", tok.head, "X such as Y")
    # 'Y, a X,': an apposition with an indefinite article
    if tok.dep_ == "appos" and nominal(tok) and nominal(tok.head) and children(tok, ("det",), INDEFINITE):
        yield Statement(tok.head, "kind-of", tok, "Y, a X")


def _named(tok: Token) -> Iterator[Statement]:
    """'a representation called a semantic frame', 'a technique known as X': X names a kind of it."""
    if tok.lower_ in NAMING and tok.dep_ == "acl" and nominal(tok.head) and not negated(tok):
        named = [y for o in children(tok, ("oprd", "attr", "dobj")) if nominal(o) for y in with_conjuncts(o)]
        named += [y for p in preps(tok, "as") for y in objects(p)]
        yield from (Statement(y, "kind-of", tok.head, "X called Y") for y in named)


def _copula(tok: Token) -> Iterator[Statement]:
    """'Y is a kind of X', 'Y is part of X', 'Y is a prerequisite of X', 'Y is a X'."""
    if tok.lower_ not in BE or negated(tok):
        return
    for attr in children(tok, ("attr",)):
        if not nominal(attr):
            continue
        of = [x for p in preps(attr, "of", "for") for x in objects(p)]
        word = attr.lower_
        for y in subjects(tok):
            if word in KIND_NOUNS and of:
                yield from (Statement(y, "kind-of", x, "Y is a kind of X") for x in of)
            elif word in PART_NOUNS and of:
                yield from (Statement(y, "part-of", x, "Y is part of X") for x in of)
            elif word in ("prerequisite", "prerequisites") and of:
                yield from (Statement(y, "prerequisite", x, "Y is a prerequisite of X") for x in of)
            elif children(attr, ("det",), INDEFINITE) and not preps(attr, "of"):
                yield Statement(y, "kind-of", attr, "Y is a X")


def _part_of(tok: Token) -> Iterator[Statement]:
    if tok.pos_ not in ("VERB", "AUX") or tok.dep_ == "prep" or negated(tok):
        return
    word = tok.lower_
    if word in COMPOSED:  # 'X consists of Y', 'X is composed/made up of Y'
        for x in subjects(tok):
            for p in preps(tok, "of"):
                yield from (Statement(y, "part-of", x, "X consists of Y") for y in objects(p))
    elif word in PART_VERBS:
        passive = children(tok, ("auxpass",))
        if passive:  # 'Y is contained in X'
            for y in subjects(tok):
                for p in preps(tok, "in"):
                    yield from (Statement(y, "part-of", x, "Y is contained in X") for x in objects(p))
        else:  # 'X contains Y'
            for x in subjects(tok):
                for o in children(tok, ("dobj",)):
                    if nominal(o):
                        yield from (Statement(y, "part-of", x, "X contains Y") for y in with_conjuncts(o))


def _purposes(verb: Token) -> list[Token]:
    """What a verb of use serves: 'for Y', 'in Y', 'to Y' (apply X to Y), 'to V Y' (use X to V Y)."""
    out = [y for p in preps(verb, "for", "in", "to") for y in objects(p) if y.lower_ not in NOT_PURPOSE]
    for clause in children(verb, ("xcomp", "advcl")):
        if any(c.lower_ == "to" for c in clause.children):
            out += [y for o in children(clause, ("dobj",)) if nominal(o) for y in with_conjuncts(o)]
    return out


def _used_for(tok: Token) -> Iterator[Statement]:
    # 'X for Y' between two nouns
    if (
        tok.lower_ == "for"
        and tok.dep_ == "prep"
        and nominal(tok.head)
        and tok.head.dep_ != "pobj"
        and tok.head.lower_ not in NOT_MEANS
    ):
        for y in objects(tok):
            if y.lower_ not in NOT_PURPOSE and not any(c.like_num for c in y.children):
                for x in with_conjuncts(tok.head):
                    yield Statement(x, "used-for", y, "X for Y")
    if tok.pos_ == "VERB" and not negated(tok):
        word = tok.lower_
        passive = bool(children(tok, ("auxpass",))) or (tok.tag_ == "VBN" and tok.dep_ == "acl")
        if word in USE_VERBS:
            users = (
                subjects(tok) if passive else [y for o in children(tok, ("dobj",)) for y in with_conjuncts(o)]
            )
            purposes = _purposes(tok)
            for x in (u for u in users if nominal(u)):
                yield from (Statement(x, "used-for", y, "X is used for Y") for y in purposes)
            if not passive and not purposes and tok.dep_ not in ("xcomp", "advcl", "acl"):  # 'Y uses X'
                for y in subjects(tok):
                    yield from (Statement(x, "used-for", y, "Y uses X") for x in users if nominal(x))
        elif word in MADE_FOR_VERBS and passive:
            for x in subjects(tok):
                for p in preps(tok, "for"):
                    yield from (Statement(x, "used-for", y, "X is designed for Y") for y in objects(p))
        if word == "using" and tok.dep_ in ("acl", "advcl", "xcomp"):
            tools = [x for o in children(tok, ("dobj",)) if nominal(o) for x in with_conjuncts(o)]
            if tok.dep_ == "acl" and nominal(tok.head):
                served = with_conjuncts(tok.head)
            else:
                served = [y for o in children(tok.head, ("dobj",)) if nominal(o) for y in with_conjuncts(o)]
            yield from (Statement(x, "used-for", y, "Y using X") for x in tools for y in served)
    if tok.lower_ == "based" and tok.dep_ == "acl" and nominal(tok.head):  # 'Y based on X'
        for p in preps(tok, "on", "upon"):
            yield from (Statement(x, "used-for", tok.head, "Y based on X") for x in objects(p))
    if tok.lower_ == "based" and children(tok, ("auxpass",)) and not negated(tok):  # 'Y is based on X'
        for y in subjects(tok):
            for p in preps(tok, "on", "upon"):
                yield from (Statement(x, "used-for", y, "Y based on X") for x in objects(p))
    if tok.lower_ == "to" and tok.dep_ == "prep" and tok.head.lower_ in MEANS_NOUNS:  # 'an approach to Y'
        for x in with_conjuncts(tok.head):
            yield from (Statement(x, "used-for", y, "X to Y") for y in objects(tok))
    if tok.pos_ == "VERB" and tok.lower_ in MADE_FROM_VERBS and not negated(tok):  # 'induce Y from X'
        passive = bool(children(tok, ("auxpass",))) or (tok.tag_ == "VBN" and tok.dep_ == "acl")
        made = subjects(tok) if passive else [y for o in children(tok, ("dobj",)) for y in with_conjuncts(o)]
        for y in (m for m in made if nominal(m)):
            for p in preps(tok, "from"):
                yield from (
                    Statement(x, "used-for", y, "Y from X") for x in objects(p) if x.lower_ != "scratch"
                )


def _evaluate_for(tok: Token) -> Iterator[Statement]:
    if tok.pos_ != "VERB" or tok.lower_ not in EVALUATE_VERBS or negated(tok):
        return
    passive = bool(children(tok, ("auxpass",))) or (tok.tag_ == "VBN" and tok.dep_ == "acl")
    evaluated = subjects(tok) if passive else [y for o in children(tok, ("dobj",)) for y in with_conjuncts(o)]
    evaluated = [e for e in evaluated if nominal(e)]
    # 'on/with/against Y' hangs on the verb or, as the small parser often has it, on the object
    holders = [tok, *evaluated]
    by = [m for h in holders for p in preps(h, "on", "with", "against", "using", "by") for m in objects(p)]
    for p in preps(tok, "in"):  # 'in terms of Y'
        for terms in children(p, ("pobj",)):
            if terms.lower_ == "terms":
                by += [m for q in preps(terms, "of") for m in objects(q)]
    for x in evaluated:
        yield from (Statement(m, "evaluate-for", x, "evaluate X on Y") for m in by if m is not x)


def _outperforms_on(tok: Token) -> Iterator[Statement]:
    """'X outperforms Y on / in Z': Z (a data set, a task, a measure) evaluates both."""
    if tok.pos_ != "VERB" or tok.lower_ not in OUTPERFORM or negated(tok):
        return
    rivals = [y for o in children(tok, ("dobj",)) if nominal(o) for y in with_conjuncts(o)]
    # 'on Z' hangs on the verb or, as the small parser often has it, on the object
    on = [z for h in (tok, *rivals) for p in preps(h, "in", "on") for z in objects(p)]
    for x in [*subjects(tok), *rivals]:
        yield from (Statement(z, "evaluate-for", x, "X outperforms Y on Z") for z in on if z is not x)


def _trials_show(tok: Token) -> Iterator[Statement]:
    """'Experiments on Z show that X outperforms ...', 'results on Z demonstrate the merit of X': the
    data the trials ran on evaluates what the clause (or the merit's 'of') says something about."""
    if tok.pos_ != "VERB" or tok.lower_ not in SHOW_VERBS or negated(tok):
        return
    trials = [s for s in children(tok, ("nsubj",)) if s.lower_ in TRIAL_NOUNS]
    data = [z for s in trials for p in preps(s, "on", "with", "over", "for") for z in objects(p)]
    shown = [x for c in children(tok, ("ccomp",)) for x in subjects(c)]
    shown += [x for o in children(tok, ("dobj",)) for p in preps(o, "of") for x in objects(p)]
    for x in shown:
        yield from (Statement(z, "evaluate-for", x, "trials on Z show X") for z in data if z is not x)


def _metric_of(tok: Token) -> Iterator[Statement]:
    """'the accuracy of the parser': a measure evaluates what it measures."""
    if tok.lower_ in METRIC_NOUNS and nominal(tok):
        for p in preps(tok, "of"):
            yield from (Statement(tok, "evaluate-for", y, "the accuracy of Y") for y in objects(p))


def _compare(tok: Token) -> Iterator[Statement]:
    if negated(tok):
        return
    if tok.pos_ == "VERB" and tok.lower_ in OUTPERFORM:
        for x in subjects(tok):
            for o in children(tok, ("dobj",)):
                if nominal(o):
                    yield from (Statement(x, "compare", y, "X outperforms Y") for y in with_conjuncts(o))
    if tok.lower_ == "than" and tok.dep_ == "prep":
        degree = tok.head if tok.head.lower_ not in ("more", "less") else tok.head.head
        if degree.tag_ in ("JJR", "RBR") or any(c.lower_ in ("more", "less") for c in degree.children):
            if degree.dep_ == "amod" and nominal(degree.head):
                known = with_conjuncts(degree.head)
            else:
                verb = degree.head if degree.dep_ in ("acomp", "advmod", "attr", "dobj") else degree
                known = [] if negated(verb) or negated(degree) else subjects(verb)
            for x in known:
                yield from (Statement(x, "compare", y, "X is faster than Y") for y in objects(tok))
    if tok.lower_ in COMPARED:
        others = [y for p in preps(tok, "with", "to", "against") for y in objects(p)]
        if tok.dep_ == "acl" and nominal(tok.head):
            known = with_conjuncts(tok.head)
        elif tok.dep_ in ("advcl", "prep"):
            known = subjects(tok.head)
        else:
            known = subjects(tok)
        for x in known:
            yield from (Statement(x, "compare", y, "X compared with Y") for y in others if y is not x)
    if tok.lower_ in COMPARABLE and tok.pos_ == "ADJ":  # 'X is superior to Y', 'a tagger comparable to Y'
        others = [y for p in preps(tok, "to", "with") for y in objects(p)]
        if tok.dep_ == "acomp":
            known = [] if negated(tok.head) else subjects(tok.head)
        else:
            known = with_conjuncts(tok.head) if tok.dep_ == "amod" and nominal(tok.head) else []
        for x in known:
            yield from (Statement(x, "compare", y, "X is comparable to Y") for y in others if y is not x)


def _conjunction(tok: Token) -> Iterator[Statement]:
    if tok.dep_ == "conj" and nominal(tok) and nominal(tok.head):
        yield Statement(tok.head, "conjunction", tok, "X and Y")


def _prerequisite(tok: Token) -> Iterator[Statement]:
    if tok.pos_ == "VERB" and tok.lower_ in REQUIRE and not negated(tok) and not children(tok, ("auxpass",)):
        for x in subjects(tok):
            for o in children(tok, ("dobj",)):
                if nominal(o):
                    yield from (Statement(y, "prerequisite", x, "X requires Y") for y in with_conjuncts(o))


PATTERNS = (
    _kind_of,
    _named,
    _copula,
    _part_of,
    _used_for,
    _evaluate_for,
    _metric_of,
    _outperforms_on,
    _trials_show,
    _compare,
    _conjunction,
    _prerequisite,
)


def statements(doc: Doc) -> list[Statement]:
    """Every statement the patterns read in `doc`, in token order, without repeats."""
    seen: dict[tuple[int, str, int], Statement] = {}
    for tok in doc:
        for pattern in PATTERNS:
            for s in pattern(tok):
                if s.head.i != s.tail.i and s.head.sent == s.tail.sent:
                    seen.setdefault((s.head.i, s.cue, s.tail.i), s)
    return list(seen.values())
