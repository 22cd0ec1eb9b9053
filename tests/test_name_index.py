"""One answer to "which entity is this name": resolution's own index and the one rebuilt from a run's
entities and merges (what explain, the view and eval read) agree on every name in every document."""

from __future__ import annotations

from kgc.config import ResolveConfig
from kgc.evaluate.matching import GraphMatcher
from kgc.models import Candidate, Entity, KnowledgeGraph, MergeDecision, Provenance
from kgc.resolve import NameIndex
from kgc.stages.fusion import merge_entities

NO_EMBEDDING = ResolveConfig(embedding_merge=False)


def cand(head: str, tail: str, doc: str) -> Candidate:
    return Candidate(
        head=head, relation="Used-for", tail=tail, provenance=[Provenance(doc_id=doc, chunk_id=f"{doc}#0")]
    )


CANDIDATES = [
    cand("language model", "speech recognition", "d1"),
    cand("LM", "speech recognition", "d1"),
    cand("linear model", "regression analysis", "d2"),
    cand("LMs", "regression analysis", "d2"),
    cand("LM", "parsing", "d3"),  # names neither expansion: the acronym stays itself there
    cand("Neural Machine Translation", "NMT", "d4"),
    cand("neural machine translations", "BLEU", "d5"),
    cand("The BLEU score", "BLEU scores", "d5"),
]


def test_a_run_read_back_finds_every_name_where_fusion_put_it() -> None:
    index = merge_entities(CANDIDATES, NO_EMBEDDING)
    read_back = NameIndex.from_entities(index.entities.values(), index.merges)
    matcher = GraphMatcher(KnowledgeGraph(entities=list(index.entities.values()), merges=index.merges))
    for c in CANDIDATES:
        doc = c.provenance[0].doc_id
        for name in (c.head, c.tail):
            fused = index.entity(name, doc)
            assert fused is not None
            assert read_back.lookup(name, doc) == fused, (name, doc)
            assert matcher.strict(name, doc) == fused, (name, doc)
    assert index.entity("LM", "d1") == "language-model"
    assert index.entity("LMs", "d2") == "linear-model"
    assert index.entity("LM", "d3") == index.entity("LM") not in {"language-model", "linear-model"}
    assert index.entity("nmt") == index.entity("neural machine translation") == "neural-machine-translation"


def test_names_are_found_by_their_key() -> None:
    index = NameIndex.from_entities([Entity(id="nmt", name="neural machine translation", aliases=["NMT"])])
    for name in ("Neural Machine Translations", "the neural machine translation", "NMT's", "nmt"):
        assert index.lookup(name) == "nmt", name
    assert index.lookup("neural machine transliteration") is None
    assert index.lookup("") is None


def test_an_alias_merged_in_some_documents_is_found_only_there() -> None:
    entities = [
        Entity(id="language-model", name="language model", aliases=["LM"]),
        Entity(id="lm", name="LM"),
    ]
    merges = [
        MergeDecision(
            alias="LM", canonical="language model", reason="acronym", entity="language-model", docs=["d1"]
        )
    ]
    index = NameIndex.from_entities(entities, merges)
    assert index.lookup("LM", "d1") == "language-model"
    assert index.lookup("LM", "d2") == index.lookup("LM") == "lm"


def test_a_canonical_name_keeps_its_key_against_another_entitys_alias() -> None:
    entities = [
        Entity(id="transformers-library", name="Hugging Face Transformers", aliases=["Transformers"]),
        Entity(id="transformer", name="Transformer"),
    ]
    assert NameIndex.from_entities(entities).lookup("transformers") == "transformer"


def test_merges_name_entities_that_lost_their_relations_and_old_runs_without_ids() -> None:
    merges = [
        MergeDecision(alias="NMT", canonical="neural machine translation", reason="acronym", entity="nmt-id"),
        MergeDecision(alias="Transformers", canonical="Transformer", reason="normalised"),  # no id yet
    ]
    entities = [Entity(id="transformer", name="Transformer")]
    index = NameIndex.from_entities(entities, merges)
    assert index.lookup("NMT") == "nmt-id"
    assert index.lookup("the transformers") == "transformer"
