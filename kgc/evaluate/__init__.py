"""How good is a graph? Scores against gold data, and health, conformance and grounding without it.

    from kgc.evaluate import evaluate_run
    report = evaluate_run("runs/demo", gold="data/demo/gold_triplets.tsv")  # also writes eval.json
    report.triplets.levels["strict"].f1

`EvalReport` is the schema of RUN_DIR/eval.json. The parts work on in-memory graphs too:
`score_triplets`, `score_aliases`, `score_links`, `compare_graphs`, `graph_health`, `ground`.
"""

from kgc.evaluate.aliases import score_aliases
from kgc.evaluate.compare import compare_graphs
from kgc.evaluate.gold import (
    GoldTriplet,
    LabelledPair,
    read_alias_groups,
    read_labelled_pairs,
    read_triplets,
)
from kgc.evaluate.grounding import ground
from kgc.evaluate.health import conformance, graph_health
from kgc.evaluate.links import score_links
from kgc.evaluate.matching import RELAXED_THRESHOLD
from kgc.evaluate.models import EvalReport
from kgc.evaluate.report import render
from kgc.evaluate.run import EVAL_FILE, evaluate_run
from kgc.evaluate.triplets import score_triplets

__all__ = [
    "EVAL_FILE",
    "RELAXED_THRESHOLD",
    "EvalReport",
    "GoldTriplet",
    "LabelledPair",
    "compare_graphs",
    "conformance",
    "evaluate_run",
    "graph_health",
    "ground",
    "read_alias_groups",
    "read_labelled_pairs",
    "read_triplets",
    "render",
    "score_aliases",
    "score_links",
    "score_triplets",
]
