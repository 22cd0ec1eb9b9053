"""Relations between members of one list: 'A, B and C' coordinates its members, it does not say that
one is a kind, a part or a use of another.

A small model reads 'used for parsing, tagging and translation' as (parsing, Used-for, tagging).
When spaCy's parse of a triplet's evidence sentence makes its two names conjuncts of one
coordination (a `conj` chain), the relation between them is a conjunction. SciERC's tune-split gold
(bench/eval_coordination.py, results/coordination.md) between such mentions:

- **adjacent** conjuncts (one is the other's `conj`: 'A and B'; 'A, B' and 'B and C' of 'A, B and
  C'): 225 CONJUNCTION, 3 COMPARE, 5 (2%) another relation, 39 none. A triplet of another relation
  is re-typed to the schema's conjunction relation (the one whose cue kind is "conjunction"; counted
  CONJOINED), or dropped when the schema has none (ADJACENT): its own relation is wrong 98 times in
  100;
- conjuncts **apart** ('A' and 'C' of 'A, B and C'): 62 of 65 pairs related by nothing, 2
  CONJUNCTION, 1 USED-FOR: the list is stated through its adjacent members, so a triplet between
  members apart is dropped (MEMBERS_APART) rather than re-typed.

The word a list is introduced for is no member: with 'i.e.', 'e.g.', 'namely' or a colon between the
two ('multiple cues, i.e., positions, velocities and appearance') the parser's coordination is
ignored (the tune split's gold relates 6 of 7 such pairs, each by HYPONYM-OF).

Compare and conjunction triplets stay as they are. A list the parser reads as an apposition ('three
gates: an input gate, a forget gate and an output gate' hangs 'forget gate' on 'input gate' as
`appos`) is not seen: SciERC's gold between an apposition and its head is HYPONYM-OF most often.
Needs the passage's parse; without it nothing changes.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Literal

from kgc.extraction.mentions import Sentences
from kgc.extraction.triplets import CleanTriplet, distinct
from kgc.schema import RelationSchema

if TYPE_CHECKING:
    from spacy.tokens import Span

Coordinated = Literal["adjacent", "apart"]

MEMBERS_APART = "members of one list apart"
ADJACENT = "members of one list (no conjunction relation)"
CONJOINED = "conjoined"  # what the cue counts of the extraction report call a re-typed triplet
_LEFT_ALONE = frozenset({"conjunction", "compare"})
# Words that introduce the members of what precedes them ('three factors, i.e., A, B and C', 'cues:
# A, B'): the parser may chain the word before them into the list, which is its class, not a member.
INTRODUCERS = frozenset({"i.e.", "e.g.", "namely", "viz.", ":"})


def coordination(a: Span, b: Span) -> Coordinated | None:
    """How the head words of two mentions are coordinated: 'adjacent' when one is the other's
    conjunct ('A and B'; 'A, B' and 'B and C' of 'A, B and C'), 'apart' when they are conjuncts of one
    coordination further apart ('A' and 'C'), None when they are not conjuncts or an INTRODUCER stands
    between them."""
    x, y = a.root, b.root
    if x.i == y.i or y not in x.conjuncts:
        return None
    first, last = sorted((a, b), key=lambda s: s.start)
    if any(t.lower_ in INTRODUCERS for t in a.doc[first.end : last.start]):
        return None
    if (y.dep_ == "conj" and y.head.i == x.i) or (x.dep_ == "conj" and x.head.i == y.i):
        return "adjacent"
    return "apart"


def _how_coordinated(t: CleanTriplet, sentences: Sentences) -> Coordinated | None:
    """How the triplet's names are coordinated in its evidence sentence ('adjacent' if any two
    mentions are), None when no two mentions there are conjuncts or there is no parse."""
    found: Coordinated | None = None
    for head, tail in sentences.mention_pairs(t.head, t.tail, t.evidence):
        how = coordination(head, tail)
        if how == "adjacent":
            return how
        found = found or how
    return found


def conjoin(
    triplets: list[CleanTriplet], sentences: Sentences, schema: RelationSchema
) -> tuple[list[CleanTriplet], Counter[str], Counter[str]]:
    """The triplets with those between members of one list re-typed or dropped (see the module), the
    count of re-typed ones (CONJOINED) and of dropped ones by reason."""
    conjunction = schema.for_cue("conjunction")
    retyped: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    out: list[CleanTriplet] = []
    for t in triplets:
        rel = schema.resolve(t.relation)
        how = None if rel is None or rel.cue_kind in _LEFT_ALONE else _how_coordinated(t, sentences)
        if how == "apart":
            dropped[MEMBERS_APART] += 1
            continue
        if how == "adjacent":
            if conjunction is None:
                dropped[ADJACENT] += 1
                continue
            t = CleanTriplet(t.head, conjunction.name, t.tail, t.evidence)
            retyped[CONJOINED] += 1
        out.append(t)
    return distinct(out), retyped, dropped
