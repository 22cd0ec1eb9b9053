"""bench/scierc.py: SciERC's DyGIE lines as a corpus and gold triplets, on a made-up abstract."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import scierc

LINE = {
    "doc_key": "X_1",
    "sentences": [
        ["We", "use", "a", "conditional", "random", "field", "-LRB-", "CRF", "-RRB-", "for", "tagging", "."],
        ["The", "method", "beats", "HMMs", "and", "it", "is", "fast", "."],
    ],
    "ner": [
        [[3, 5, "Method"], [7, 7, "Method"], [10, 10, "Task"]],
        [[13, 13, "Generic"], [15, 15, "Method"], [17, 17, "Generic"]],
    ],
    "relations": [
        [[3, 5, 10, 10, "USED-FOR"]],
        [[13, 13, 15, 15, "COMPARE"], [17, 17, 15, 15, "COMPARE"]],
    ],
    "clusters": [[[3, 5], [13, 13]]],
}


def test_a_generic_mention_becomes_its_named_coreferent_or_leaves_the_gold(tmp_path: Path) -> None:
    (tmp_path / "dev.json").write_text(json.dumps(LINE) + "\n", encoding="utf-8")
    [a] = scierc.read_split("dev", tmp_path)
    assert (
        a.text == "We use a conditional random field (CRF) for tagging. The method beats HMMs and it is fast."
    )
    assert [(g.head, g.relation, g.tail) for g in a.gold] == [
        ("conditional random field", "USED-FOR", "tagging"),
        ("conditional random field", "COMPARE", "HMMs"),  # 'The method' is the CRF (coreference)
    ]
    assert a.generic_only == 1  # 'it' has no named coreferent
    assert a.generic_mentions == {"method", "it"}
    for g in a.gold:
        assert g.head in a.text and g.tail in a.text


def test_the_test_split_is_never_read(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="held back"):
        scierc.read_split("test", tmp_path)
