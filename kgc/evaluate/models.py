"""The evaluation result as typed data: `EvalReport` is the schema of `RUN_DIR/eval.json`.

A ratio whose denominator is zero (precision of a graph without edges, recall against no positives)
is None, shown as "n/a": 0 would claim a failure and 1 a success that nothing measured.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def harmonic(p: float | None, r: float | None) -> float | None:
    if p is None or r is None:
        return None
    return round(2 * p * r / (p + r), 4) if p + r else 0.0


class Score(BaseModel):
    """Precision, recall and F1 of a predicted set against a gold set."""

    true_positives: int
    predicted: int
    gold: int
    precision: float | None
    recall: float | None
    f1: float | None

    @classmethod
    def of(cls, true_positives: int, predicted: int, gold: int) -> Score:
        p, r = ratio(true_positives, predicted), ratio(true_positives, gold)
        return cls(
            true_positives=true_positives,
            predicted=predicted,
            gold=gold,
            precision=p,
            recall=r,
            f1=harmonic(p, r),
        )


class ErrorBreakdown(BaseModel):
    """Why the graph's relations are wrong and the gold ones missed (names matched relaxed).

    Each extracted relation that is not a gold triplet gets the first reason that applies, in this
    order: `name not in the text` (grounding), `conjunction or clause name`, `generic name` (the
    extraction's name rules), `wrong direction` (the gold has the pair with this relation the other
    way), `wrong relation` (the gold has the pair with another relation), `not in the gold`.
    """

    relations: int  # extracted relations (inferred ones are not scored here)
    right: int
    errors: dict[str, int]  # reason -> relations
    missed: int  # gold edges whose pair the graph does not join
    missed_both_names_found: int  # ... of which both names are entities of the graph
    examples: dict[str, list[str]] = Field(default_factory=dict)  # reason -> a sample


class TripletEval(BaseModel):
    """The graph's relations against gold triplets.

    Levels: `strict` (names equal after normalisation, relation and direction equal, undirected
    relations in either order), `relaxed` (names match by `relaxed_rule`), and `strict_pairs` /
    `relaxed_pairs` (the relation and direction ignored: does the graph join the right pairs?).
    """

    gold_file: str
    gold_lines: int
    relaxed_rule: str
    levels: dict[str, Score]
    per_relation: dict[str, dict[str, Score]]  # level (strict, relaxed) -> relation -> score
    entity_recall: dict[str, float | None]  # level -> share of gold entities found in the graph
    missed: list[str] = Field(default_factory=list)  # gold triplets not found (relaxed), a sample
    wrong_relation: list[str] = Field(default_factory=list)  # right pair, other relation or direction
    errors: ErrorBreakdown | None = None


class BCubed(BaseModel):
    precision: float | None
    recall: float | None
    f1: float | None


class AliasEval(BaseModel):
    """The run's entity merging against groups of names that denote one thing, over the gold names the
    run contains (a name the run never saw says nothing about its merging)."""

    alias_file: str
    gold_names: int
    names_in_run: int
    pairwise: Score  # pairs of names put in one entity, against pairs in one gold group
    bcubed: BCubed
    wrong_merges: list[str] = Field(default_factory=list)  # sample: one entity, different gold groups
    missed_merges: list[str] = Field(default_factory=list)  # sample: one gold group, different entities


class Confusion(BaseModel):
    true_positives: int
    false_positives: int
    true_negatives: int
    false_negatives: int
    accuracy: float | None
    precision: float | None
    recall: float | None
    f1: float | None

    @classmethod
    def of(cls, tp: int, fp: int, tn: int, fn: int) -> Confusion:
        p, r = ratio(tp, tp + fp), ratio(tp, tp + fn)
        return cls(
            true_positives=tp,
            false_positives=fp,
            true_negatives=tn,
            false_negatives=fn,
            accuracy=ratio(tp + tn, tp + fp + tn + fn),
            precision=p,
            recall=r,
            f1=harmonic(p, r),
        )


class LinkEval(BaseModel):
    """'Does the graph have an edge (of the pair's relation, if given) between these two entities?'

    Pairs that are edges of the background graph the run was fused with are scored apart
    (`in_background`): fusion was shown them, so finding them measures nothing.
    `including_background` is what a careless evaluation would report, for comparison.
    """

    pairs_file: str
    pairs: int
    positives: int
    negatives: int
    background_graph: str | None
    scores: Confusion  # pairs not in the background graph
    in_background: int = 0
    in_background_found: int = 0
    including_background: Confusion | None = None


class Distribution(BaseModel):
    minimum: int
    median: float
    mean: float
    maximum: int
    histogram: dict[str, int]  # bucket ("0", "1", "2", "3-5", ...) -> entities


class GraphHealth(BaseModel):
    entities: int
    relations: int
    relation_types: dict[str, int]
    degree: Distribution
    components: int  # weakly connected
    largest_component: int  # entities in it
    isolated_entities: int
    inferred_share: float | None
    self_loops: int  # must be 0
    duplicate_edges: int  # must be 0: the same edge twice (an undirected one in either order)
    dangling_edges: int  # must be 0: an end that is no entity
    problems: list[str] = Field(default_factory=list)


class Conformance(BaseModel):
    """How much of what the LLM extracted the relation schema refused."""

    candidates_kept: int
    dropped: dict[str, int]  # reason -> triplets
    dropped_share: float | None
    failed_tasks: int
    entities: int = 0
    entity_names: dict[str, int] = Field(default_factory=dict)  # graph names that are no concept, by reason
    entity_name_examples: list[str] = Field(default_factory=list)
    cues: dict[str, int] = Field(default_factory=dict)  # relation cues: retyped, flipped, added, refused


class Offender(BaseModel):
    """An ungrounded relation."""

    relation: str  # "(head, Relation, tail)"
    support: int
    missing: list[str]  # its names found in none of its source chunks; [] when never in the same one
    chunks: list[str]
    edge: tuple[str, str, str] | None = None  # (head id, relation, tail id) in the graph


class Grounding(BaseModel):
    """Whether the relations are backed by their source text: a measure of hallucination.

    A name occurs in a chunk when it, or one of its entity's aliases, appears there at the start of a
    word, ignoring case and punctuation ('language model' occurs in 'Language-Models are ...').
    An evidence sentence is grounded when it occurs in its chunk the same way.
    """

    relations_checked: int  # extracted relations (the inferred ones are checked apart)
    relations_grounded: int  # head and tail both occur in one of the relation's source chunks
    relations_grounded_share: float | None
    head_or_tail_missing: int  # ungrounded because a name is in none of the source chunks
    evidence_checked: int
    evidence_grounded: int
    evidence_grounded_share: float | None
    ungrounded: list[Offender] = Field(default_factory=list)  # every one: both names missing first
    ungrounded_evidence: list[str] = Field(default_factory=list)  # every one: "chunk id: sentence"
    # Inferred relations (proposed by fusion): head and tail in one chunk either entity was extracted from.
    inferred_checked: int = 0
    inferred_grounded: int = 0
    inferred_grounded_share: float | None = None
    inferred_ungrounded: list[Offender] = Field(default_factory=list)


class Comparison(BaseModel):
    """This run (A) against another (B): entities matched through any shared normalised name."""

    other_run: str
    entities: dict[str, int]  # a, b, shared, only_a, only_b
    relations: dict[str, int]  # a, b, shared, only_a, only_b, other_relation
    relations_score: Score  # A's relations against B's as if B were gold (strict)
    pairs_score: Score  # the same, relation and direction ignored
    only_a: list[str] = Field(default_factory=list)  # samples
    only_b: list[str] = Field(default_factory=list)
    other_relation: list[str] = Field(default_factory=list)


class EvalReport(BaseModel):
    """Everything `kgc eval` measured about one run; written to RUN_DIR/eval.json."""

    run_dir: str
    created_at: str
    kgc_version: str
    health: GraphHealth
    conformance: Conformance | None = None  # None: no extraction_report.json in the run
    grounding: Grounding | None = None  # None: no candidates.jsonl/chunks.jsonl in the run
    triplets: TripletEval | None = None
    aliases: AliasEval | None = None
    links: LinkEval | None = None
    comparison: Comparison | None = None
