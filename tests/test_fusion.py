"""Fusion without an LLM: entity merging and relation choice by document support."""

from pathlib import Path

import numpy as np

from kgc.config import FusionConfig, ResolveConfig
from kgc.models import Candidate, Provenance
from kgc.resources import prompts_dir
from kgc.schema import RelationSchema
from kgc.stages.fusion import fuse, load_background, merge_entities

SCHEMA = RelationSchema()
NO_LLM = FusionConfig(resolve_with_llm=False, infer_links=False)
NO_EMBEDDING = ResolveConfig(embedding_merge=False)


def cand(head: str, rel: str, tail: str, *docs: str) -> Candidate:
    return Candidate(
        head=head, relation=rel, tail=tail, provenance=[Provenance(doc_id=d, chunk_id=f"{d}#0") for d in docs]
    )


def names_as_candidates(counts: dict[str, int]) -> list[Candidate]:
    """Each name as the head of `count` candidates (one document each) towards a filler tail."""
    return [cand(name, "Used-for", "filler", f"{name}-{k}") for name, n in counts.items() for k in range(n)]


def test_merges_case_plural_acronym_and_near_spellings() -> None:
    counts = {
        "Neural machine translation": 3,
        "neural machine translations": 1,
        "NMT": 2,
        "named entity recognition (NER)": 1,
        "NER": 1,
        "task-oriented dialogue system": 2,
        "task-oriented dialog system": 1,
        "GPT-3": 1,
        "GPT-4": 1,
    }
    index = merge_entities(names_as_candidates(counts), NO_EMBEDDING)
    by_name = {e.name: e for e in index.entities.values()}
    assert sorted(by_name) == [
        "GPT-3",
        "GPT-4",
        "Neural machine translation",
        "filler",
        "named entity recognition",
        "task-oriented dialogue system",
    ]
    assert by_name["Neural machine translation"].aliases == ["NMT", "neural machine translations"]
    assert by_name["named entity recognition"].aliases == ["NER", "named entity recognition (NER)"]
    reasons = {m.alias: (m.reason, m.via) for m in index.merges}
    assert reasons == {
        "neural machine translations": ("normalised", "Neural machine translation"),
        "NMT": ("acronym", "Neural machine translation"),
        "NER": ("definition", "named entity recognition (NER)"),
        "named entity recognition (NER)": ("normalised", "named entity recognition"),
        "task-oriented dialog system": ("normalised", "task-oriented dialogue system"),  # dialogue = dialog
    }
    assert index.entity("NMT") == index.entity("Neural machine translation") == "neural-machine-translation"


def test_ambiguous_acronym_is_not_merged_without_documents_that_settle_it() -> None:
    index = merge_entities(
        names_as_candidates({"language model": 2, "linear model": 2, "LM": 1}),
        NO_EMBEDDING,
    )
    assert sorted(e.name for e in index.entities.values()) == [
        "LM",
        "filler",
        "language model",
        "linear model",
    ]
    assert index.merges == []


def test_embedding_neighbours_merge_only_with_a_close_spelling_else_go_to_the_band() -> None:
    vec = {
        "alpha method": np.array([1.0, 0.0, 0.0]),
        "alfa technique": np.array([0.95, np.sqrt(1 - 0.95**2), 0.0]),
        "task-oriented dialogue system": np.array([0.0, 0.0, 1.0]),
        "task-orientated dialogue system": np.array([0.0, np.sqrt(1 - 0.95**2), 0.95]),
        "filler": np.array([0.0, 1.0, 0.0]),
    }

    def embed(texts: list[str]) -> np.ndarray:
        return np.stack([vec[t] for t in texts])

    counts = {
        "alpha method": 3,
        "alfa technique": 2,
        "task-oriented dialogue system": 2,
        "task-orientated dialogue system": 1,
    }
    cfg = ResolveConfig(
        merge_threshold=0.99, embedding_threshold=0.9
    )  # string similarity alone merges nothing
    index = merge_entities(names_as_candidates(counts), cfg, embed=embed)
    [merge] = index.merges
    assert (merge.alias, merge.reason, merge.generator, merge.scores) == (
        "task-orientated dialogue system",
        "embedding",
        "ngram",
        {"string": 0.9643, "embedding": 0.95},
    )
    # Spelt apart, close only in meaning: below embedding_band_min_string the pair is not even asked
    # (names read in one sentence embed alike); with a lower floor it goes to the LLM band.
    assert not [p for p in index.rejected if p.generator == "embedding"]
    lenient = merge_entities(
        names_as_candidates(counts), cfg.model_copy(update={"embedding_band_min_string": 0.4}), embed=embed
    )
    [band] = [p for p in lenient.rejected if p.generator == "embedding"]
    assert (band.a, band.b, band.decision, band.scores) == (
        "alpha method",
        "alfa technique",
        "undecided",
        {"string": 0.4615, "embedding": 0.95},
    )


def test_conflict_chooses_the_relation_with_most_documents() -> None:
    candidates = [
        cand("BLEU", "Evaluate-for", "machine translation", "d1", "d2"),
        cand("bleu", "Evaluate-for", "Machine Translation", "d3"),
        cand("BLEU", "Used-for", "machine translation", "d4"),
        cand("machine translation", "Part-of", "BLEU", "d5"),
        cand("encoder", "Conjunction", "decoder", "d1"),
        cand("decoder", "Conjunction", "encoder", "d2"),  # undirected: the same edge
        cand("encoder", "Part-of", "Encoder", "d1"),  # self-loop after merging
    ]
    result = fuse(candidates, SCHEMA, NO_LLM, NO_EMBEDDING, llm=None, prompts_dir=prompts_dir())
    g = result.graph
    edges = {(r.head, r.relation, r.tail): r for r in g.relations}
    assert sorted(edges) == [
        ("bleu", "Evaluate-for", "machine-translation"),
        ("decoder", "Conjunction", "encoder"),
    ]
    bleu = edges[("bleu", "Evaluate-for", "machine-translation")]
    assert (bleu.support, bleu.sources, bleu.decided_by) == (3, ["d1", "d2", "d3"], "support")
    assert bleu.confidence == round(3 / 5 * (1 - 0.5**3), 4)
    conj = edges[("decoder", "Conjunction", "encoder")]
    assert (conj.support, conj.confidence) == (2, 0.75)
    [conflict] = g.conflicts
    assert conflict.options == {
        "bleu|Evaluate-for|machine-translation": 3,
        "bleu|Used-for|machine-translation": 1,
        "machine-translation|Part-of|bleu": 1,
    }
    assert (conflict.chosen, conflict.decided_by) == ("bleu|Evaluate-for|machine-translation", "support")
    assert result.counts["self_loops"] == 1
    assert result.counts["conflicts"] == 1 and result.counts["ties"] == 0
    assert {e.id: e.support for e in g.entities} == {
        "bleu": 5,
        "decoder": 2,
        "encoder": 2,
        "machine-translation": 5,
    }


def test_tie_is_broken_by_background_graph(tmp_path: Path) -> None:
    bg = tmp_path / "bg.tsv"
    bg.write_text("tokenization\tIs-a-Prerequisite-of\tparsing\nmalformed line\n", encoding="utf-8")
    candidates = [
        cand("tokenization", "Used-for", "parsing", "d1"),
        cand("tokenization", "Is-a-Prerequisite-of", "parsing", "d2"),
    ]
    background = load_background(bg)
    assert background == [("tokenization", "Is-a-Prerequisite-of", "parsing")]
    g = fuse(
        candidates, SCHEMA, NO_LLM, NO_EMBEDDING, llm=None, prompts_dir=prompts_dir(), background=background
    ).graph
    [rel] = g.relations
    assert (rel.relation, rel.decided_by, rel.support) == ("Is-a-Prerequisite-of", "background", 1)


def test_tie_without_llm_falls_back_deterministically() -> None:
    candidates = [
        cand("a thing", "Used-for", "b thing", "d1"),
        cand("a thing", "Part-of", "b thing", "d2"),
    ]
    first = fuse(candidates, SCHEMA, NO_LLM, NO_EMBEDDING, llm=None, prompts_dir=prompts_dir()).graph
    again = fuse(
        list(reversed(candidates)), SCHEMA, NO_LLM, NO_EMBEDDING, llm=None, prompts_dir=prompts_dir()
    ).graph
    assert [(r.relation, r.decided_by) for r in first.relations] == [("Part-of", "support")]
    assert first.relations == again.relations


def test_relation_names_must_match_the_safe_pattern_in_full() -> None:
    import pytest
    from pydantic import ValidationError

    from kgc.schema import RelationType

    for bad in ["Defines\n", "X`]->(b) DETACH DELETE a //", "Cites\u00a0paper", "1st", ""]:
        with pytest.raises(ValidationError):
            RelationType(name=bad)
    assert RelationType(name="Is-a-Prerequisite-of").cypher_type == "IS_A_PREREQUISITE_OF"


def test_relations_are_repointed_to_merged_entities_and_directions_voted_together() -> None:
    candidates = [
        cand("NMT", "Used-for", "BLEU", "d1"),
        cand("neural machine translation", "Used-for", "bleu", "d2"),
        cand("BLEU", "Used-for", "Neural Machine Translations", "d3"),  # the other direction
        cand("BLEU", "Evaluate-for", "NMT", "d4", "d5"),
    ]
    g = fuse(candidates, SCHEMA, NO_LLM, NO_EMBEDDING, llm=None, prompts_dir=prompts_dir()).graph
    [rel] = g.relations
    # Used-for: 3 documents over both directions beat Evaluate-for's 2 (one direction alone would tie).
    assert (rel.head, rel.relation, rel.tail, rel.support) == (
        "neural-machine-translation",
        "Used-for",
        "bleu",
        3,
    )
    assert (rel.sources, rel.reversed_sources, rel.confidence) == (
        ["d1", "d2"],
        ["d3"],
        round(3 / 5 * 0.875, 4),
    )
    [conflict] = g.conflicts
    assert conflict.chosen == "neural-machine-translation|Used-for|bleu"


def test_an_acronym_of_two_meanings_is_repointed_document_by_document() -> None:
    candidates = [
        cand("language model", "Used-for", "speech recognition", "d1"),
        cand("LM", "Used-for", "speech recognition", "d1"),
        cand("linear model", "Used-for", "regression analysis", "d2"),
        cand("LM", "Used-for", "regression analysis", "d2"),
    ]
    result = fuse(candidates, SCHEMA, NO_LLM, NO_EMBEDDING, llm=None, prompts_dir=prompts_dir())
    assert sorted((r.head, r.relation, r.tail, r.support) for r in result.graph.relations) == [
        ("language-model", "Used-for", "speech-recognition", 1),
        ("linear-model", "Used-for", "regression-analysis", 1),
    ]
    assert [e.id for e in result.graph.entities] == [
        "language-model",
        "linear-model",
        "regression-analysis",
        "speech-recognition",
    ]
    assert sorted((m.alias, m.canonical, m.docs) for m in result.graph.merges) == [
        ("LM", "language model", ["d1"]),
        ("LM", "linear model", ["d2"]),
    ]
    assert result.counts["resolve_acronyms_split_by_documents"] == 1


def test_a_direction_tie_goes_to_the_direction_syntax_stated_then_to_more_units() -> None:
    """Two documents give one relation in opposite directions: the one a relation cue stated (its
    provenance names the pattern) wins over the model's, though the model's sorts first."""
    stated = cand("beta tagger", "Used-for", "alpha parser", "d2")
    stated.provenance[0].cue = "Y uses X"
    candidates = [cand("alpha parser", "Used-for", "beta tagger", "d1"), stated]
    for ordered in (candidates, candidates[::-1]):
        [rel] = fuse(
            ordered, SCHEMA, NO_LLM, NO_EMBEDDING, llm=None, prompts_dir=prompts_dir()
        ).graph.relations
        assert (rel.head, rel.tail, rel.sources, rel.reversed_sources) == (
            "beta-tagger",
            "alpha-parser",
            ["d2"],
            ["d1"],
        )
    # One document read by two units one way and by one unit the other (seed mode): two units win.
    units = [cand("beta tagger", "Used-for", "alpha parser", "d1")] * 2
    units.append(cand("alpha parser", "Used-for", "beta tagger", "d1"))
    [rel] = fuse(units, SCHEMA, NO_LLM, NO_EMBEDDING, llm=None, prompts_dir=prompts_dir()).graph.relations
    assert (rel.head, rel.tail) == ("beta-tagger", "alpha-parser")
