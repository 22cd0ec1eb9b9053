"""Entity resolution (kgc.resolve) on small cases with exact expectations."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from kgc.config import ResolveConfig
from kgc.resolve import BandQuestion, Judge, NameRecord, find_definitions, resolve_names
from kgc.resolve.acronyms import abbreviates, abbreviates_partially, looks_like_acronym
from kgc.resolve.candidates import ngram_pairs
from kgc.resolve.scoring import veto
from kgc.resolve.types import Node

CFG = ResolveConfig()


def entities(
    names: Sequence[str | NameRecord], cfg: ResolveConfig = CFG, judge: Judge | None = None
) -> list[list[str]]:
    """The surface forms of each entity, sorted; entities with one name left out."""
    r = resolve_names(names, cfg, judge=judge)
    groups: dict[str, list[str]] = {}
    for name in {n.name if isinstance(n, NameRecord) else n for n in names}:
        if (cid := r.lookup(name)) is not None:
            groups.setdefault(cid, []).append(name)
    return sorted(sorted(g) for g in groups.values() if len(g) > 1)


def test_acronym_forms_each_join_their_long_form() -> None:
    names = [
        "neural machine translation", "NMT",  # initials
        "Contrastive Retrieval-Augmented Learning", "CoRAL",  # letters from inside words and compounds
        "task-oriented dialogue", "ToD",
        "pre-trained language model", "PLMs",  # plural
        "bidirectional encoder representations from transformers", "BERT's",  # possessive, function word
        "open information extraction", "Open IE",  # partial abbreviation
        "question answering (QA)", "QA",  # defined in a name
        "visual question answering", "visual question answering VQA",  # its own acronym appended
        "speech & language processing", "speech and language processing",
    ]  # fmt: skip
    assert entities(names) == [
        ["BERT's", "bidirectional encoder representations from transformers"],
        ["CoRAL", "Contrastive Retrieval-Augmented Learning"],
        ["NMT", "neural machine translation"],
        ["Open IE", "open information extraction"],
        ["PLMs", "pre-trained language model"],
        ["QA", "question answering (QA)"],
        ["ToD", "task-oriented dialogue"],
        ["speech & language processing", "speech and language processing"],
        ["visual question answering", "visual question answering VQA"],
    ]
    r = resolve_names(names)
    reasons = {m.alias: (m.reason, m.via) for m in r.merges}
    assert reasons["CoRAL"] == ("acronym", "Contrastive Retrieval-Augmented Learning")
    assert reasons["QA"] == ("definition", "question answering (QA)")
    assert reasons["question answering (QA)"] == ("normalised", "question answering")
    assert r.clusters[r.lookup("PLMs") or ""].canonical == "pre-trained language model"


def test_acronym_checks() -> None:
    assert [looks_like_acronym(t) for t in ["NMT", "PLMs", "CoRAL", "ToD", "nmt", "GPT-3", "T5", "Transformer"]] == [
        True, True, True, True, False, False, False, False,
    ]  # fmt: skip
    assert abbreviates("bilstm", "bidirectional long short-term memory")
    assert not abbreviates("ml", "multilingual")  # one word never abbreviates itself
    assert not abbreviates("nmt", "machine translation")
    assert abbreviates_partially("neural mt", "neural machine translation")
    assert not abbreviates_partially("neural mt", "neural network")


def test_ambiguous_acronym_is_decided_in_each_document() -> None:
    names = [
        NameRecord("language model", docs=("d1",)),
        NameRecord("linear model", docs=("d2", "d4")),
        NameRecord("LM", docs=("d1",)),  # d1 also names 'language model'
        NameRecord("LM", docs=("d2",)),  # d2 also names 'linear model'
        NameRecord("LM", docs=("d3",)),  # d3 settles nothing
        NameRecord("LM", docs=("d4",)),
    ]
    texts = {"d4": "We fit a linear model (LM) to the scores."}
    r = resolve_names(names, texts=texts)
    assert (r.lookup("LM", "d1"), r.lookup("LM", "d2"), r.lookup("LM", "d3"), r.lookup("LM", "d4")) == (
        "language-model",
        "linear-model",
        "lm",
        "linear-model",
    )
    split = sorted((m.canonical, m.docs) for m in r.merges if m.alias == "LM")
    assert split == [("language model", ["d1"]), ("linear model", ["d2", "d4"])]
    assert r.counts["acronyms_split_by_documents"] == 1
    # Without documents the short form stays apart, and the pairs are recorded as undecided.
    assert entities(["language model", "linear model", "LM"]) == []
    r = resolve_names(["language model", "linear model", "LM"])
    assert sorted((p.a, p.b, p.decision) for p in r.rejected) == [
        ("language model", "LM", "undecided"),
        ("linear model", "LM", "undecided"),
    ]


def test_schwartz_hearst_definitions() -> None:
    text = (
        "Task-oriented Dialogue (ToD) systems help users. We propose Contrastive Retrieval-Augmented "
        "Learning (CoRAL) for pre-trained language models (PLMs). The NMT (neural machine translation) "
        "model works; results (see Table 2) improve."
    )
    assert [(d.short, d.long) for d in find_definitions(text)] == [
        ("ToD", "Task-oriented Dialogue"),
        ("CoRAL", "Contrastive Retrieval-Augmented Learning"),
        ("PLMs", "pre-trained language models"),
        ("NMT", "neural machine translation"),
    ]


def test_plurals_case_and_typos_merge_but_near_homonyms_and_versions_do_not() -> None:
    names = [
        "Neural Machine Translations", "neural machine translation",
        "transformer", "transfomer",  # typo
        "task-oriented dialog system", "task-oriented dialogue system",  # spelling variant
        "pretrained model", "pre-trained model",
        "machine translation", "machine transliteration",  # near-homonyms
        "supervised learning", "unsupervised learning",
        "GPT-3", "GPT-4", "BERT-base", "BERT-large", "BERT", "BART",
    ]  # fmt: skip
    assert entities(names) == [
        ["Neural Machine Translations", "neural machine translation"],
        ["pre-trained model", "pretrained model"],
        ["task-oriented dialog system", "task-oriented dialogue system"],
        ["transfomer", "transformer"],
    ]
    r = resolve_names(names)
    vetoes = {(p.a, p.b): p.reason for p in r.rejected if p.band == "veto"}
    assert (
        veto(Node("gpt-3"), Node("gpt-4")) == "different numbers"
    )  # string similarity below the band anyway
    assert veto(Node("bert-base"), Node("bert-large")) == "different versions"  # too short for LSH to pair
    assert vetoes[("supervised learning", "unsupervised learning")] == "a negating or scoping prefix"
    band = {(p.a, p.b): p.reason for p in r.rejected if p.band == "llm"}
    assert band[("machine translation", "machine transliteration")] == "near-homonym"
    assert r.counts["band_undecided"] == len(band)
    assert r.clusters[r.lookup("transfomer") or ""].canonical == "transformer"


def yes_to_all(batches: list[list[BandQuestion]]) -> list[list[bool | None]]:
    return [[True] * len(b) for b in batches]


# A wide band and LSH that proposes nearly every pair sharing 3-grams, so the chain's pairs reach the LLM.
WIDE = ResolveConfig(band_threshold=0.65, lsh_bands=16, lsh_rows=1)


def test_a_chain_of_approved_pairs_does_not_make_one_entity() -> None:
    names = [
        NameRecord("machine translation", 3),
        NameRecord("machine learning", 2),
        NameRecord("neural machine translation", 1),
    ]
    r = resolve_names(names, WIDE, judge=yes_to_all)
    assert entities(names, WIDE, judge=yes_to_all) == [["machine learning", "machine translation"]]
    [refused] = [p for p in r.rejected if p.band == "cluster"]
    assert (refused.a, refused.b, refused.votes) == (
        "machine translation",
        "neural machine translation",
        [True, True],
    )
    c = r.clusters["machine-translation"]
    assert (c.weakest, c.weakest_pair) == (0.6857, ("machine learning", "machine translation"))


def test_llm_band_votes_over_reordered_rounds() -> None:
    names = ["dependency parsing", "dependency parser", "named entity recognition", "named entity recognizer"]
    seen: list[list[tuple[str, str]]] = []

    def first_yes_then_no(batches: list[list[BandQuestion]]) -> list[list[bool | None]]:
        seen.extend([(q.a, q.b) for q in b] for b in batches)
        # round 1 = the first half of the batches: 'same'; round 2: 'different' for the parser pair only
        half = len(batches) // 2
        return [[i < half or "parser" not in q.a + q.b for q in b] for i, b in enumerate(batches)]

    r = resolve_names(names, judge=first_yes_then_no)
    assert seen == [
        [
            ("dependency parsing", "dependency parser"),
            ("named entity recognition", "named entity recognizer"),
        ],
        [
            ("named entity recognizer", "named entity recognition"),
            ("dependency parser", "dependency parsing"),
        ],
    ]
    assert entities(names, judge=first_yes_then_no) == [
        ["named entity recognition", "named entity recognizer"]
    ]
    [merge] = [m for m in r.merges if m.reason == "llm"]
    assert (merge.alias, merge.votes) == ("named entity recognizer", [True, True])
    [undecided] = [p for p in r.rejected if p.decision == "undecided"]
    assert (undecided.a, undecided.b, undecided.votes) == (
        "dependency parsing",
        "dependency parser",
        [True, False],
    )
    assert (r.counts["band_asked"], r.counts["band_merged"], r.counts["band_undecided"]) == (2, 1, 1)


def test_band_without_llm_stays_apart_and_is_counted() -> None:
    r = resolve_names(["dependency parsing", "dependency parser"])
    assert len(r.clusters) == 2 and r.counts["band_undecided"] == 1


def test_ngram_lsh_finds_variants_and_not_unrelated_names() -> None:
    keys = ["task-oriented dialogue system", "task oriented dialog system", "graph neural network", "speech"]
    found = ngram_pairs(keys, bands=20, rows=3, max_bucket=200, min_ratio=85)
    assert (found.pairs.tolist(), round(float(found.ratios[0]), 2), found.skipped_buckets) == (
        [[0, 1]],
        92.86,
        0,
    )
    assert found.proposed >= 1


def test_ngram_pairs_score_each_proposed_pair_once_whatever_the_band_and_chunk() -> None:
    from rapidfuzz import fuzz

    from kgc.resolve.candidates import band_hashes, minhash_signatures

    keys = [
        f"{w} {v}" for w in ("neural", "neural net", "graph", "graphs") for v in ("model", "models", "parser")
    ]
    keys += ["model", "models", "neural model x"]
    hashes = band_hashes(minhash_signatures(keys, 6 * 2), 6, 2)
    expected: set[tuple[int, int]] = set()
    skipped = 0
    for h in hashes:  # each band's buckets, the oversized ones (more than 3 names) skipped
        buckets: dict[int, list[int]] = {}
        for i, value in enumerate(h.tolist()):
            buckets.setdefault(value, []).append(i)
        skipped += sum(len(b) > 3 for b in buckets.values())
        expected |= {(i, j) for b in buckets.values() if len(b) <= 3 for i in b for j in b if i < j}
    expected = {(i, j) for i, j in expected if fuzz.ratio(keys[i], keys[j]) >= 60}
    found = ngram_pairs(keys, bands=6, rows=2, max_bucket=3, min_ratio=60, score_chunk=3)
    assert {(int(i), int(j)) for i, j in found.pairs} == expected and len(found.pairs) == len(expected)
    assert found.skipped_buckets == skipped > 0


def test_names_that_only_share_a_context_do_not_reach_the_llm_band() -> None:
    from kgc.config import ResolveConfig
    from kgc.resolve.scoring import NO_VOCABULARY, decide
    from kgc.resolve.types import Node

    def node(name: str) -> Node:
        return Node(key=name.lower(), surfaces=Counter({name: 1}))

    cfg = ResolveConfig()
    # Read in one sentence, 'GloVe' and 'learning word embeddings' embedded with their context at 0.98.
    glove = decide(node("GloVe"), node("learning word embeddings"), 0.3, 0.98, cfg, NO_VOCABULARY)
    assert (glove.decision, glove.band) == ("reject", "low")
    spelling = decide(
        node("dialog state tracker"), node("dialogue state tracking"), 0.86, 0.9, cfg, NO_VOCABULARY
    )
    assert spelling.band in ("llm", "high")


def test_the_llm_band_is_off_by_default_with_the_embedded_model_unless_asked_for() -> None:
    from kgc.config import load_config
    from kgc.llm.factory import with_backend_defaults

    def band(**overrides: object) -> bool | None:
        return with_backend_defaults(load_config(None, overrides)).resolve.llm_band

    assert load_config(None).resolve.llm_band is None  # left to the backend
    assert band(**{"llm.backend": "embedded"}) is False
    assert band(**{"llm.backend": "openai"}) is True
    assert band(**{"llm.backend": "embedded", "resolve.llm_band": True}) is True
