"""Incremental updates: a changed corpus costs the new text's calls only, and gives the graph a fresh
build of the final corpus gives; `kgc remove` withdraws documents without their source files."""

from __future__ import annotations

import json
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from kgc.artifacts import DOCUMENTS, SEEDS
from kgc.changes import read_changes
from kgc.cli.summary import headline
from kgc.config import KgcConfig, SeedsConfig, load_config
from kgc.errors import KgcError
from kgc.estimate import estimate
from kgc.export.graph_files import read_graph
from kgc.models import Chunk, KnowledgeGraph, Seed
from kgc.pipeline import Pipeline
from kgc.rundir import RunDir
from kgc.stages.extraction_tasks import content_batches
from kgc.stages.seed_updates import update_seeds
from kgc.testing import ScriptedBackend, scripted_factory
from kgc.testing.scripted_server import ScriptedServer
from kgc.update import remove_documents
from tests.test_pipeline import run_cli

DOCS = {
    "d1": "BLEU is a metric for machine translation. Machine translation systems are scored with BLEU.",
    "d2": "Neural machine translation uses an encoder and a decoder. BLEU scores machine translation.",
    "d3": "Word embeddings map words to vectors. Word embeddings help text classification.",
    "d4": "Dependency parsing finds syntactic structure. Dependency parsing uses treebanks for training.",
    "d5": "Named entity recognition finds names in text. Named entity recognition uses sequence labeling.",
}
FINAL = {
    **{k: v for k, v in DOCS.items() if k != "d3"},
    "d2": "Neural machine translation uses attention. Attention lets the decoder look at source words.",
    "d6": "Question answering reads a passage. Question answering systems use reading comprehension.",
    "d7": "Sentiment analysis classifies opinions. Sentiment analysis uses labeled reviews.",
}


def write(folder: Path, docs: dict[str, str]) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, text in docs.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return folder


def config(**overrides: Any) -> KgcConfig:
    base = {"llm.backend": "openai", "llm.model": "scripted", "resolve.embedding_merge": False}
    return load_config(None, {**base, **overrides})


def build(cfg: KgcConfig, corpus: Path | None, run: Path, backend: ScriptedBackend) -> KnowledgeGraph:
    graph = Pipeline(cfg, run, corpus=corpus, llm_factory=scripted_factory(backend, cfg.llm)).run_until()
    assert graph is not None
    return graph


def same_graph(a: KnowledgeGraph, b: KnowledgeGraph) -> None:
    assert a.model_dump(include={"entities", "relations"}) == b.model_dump(include={"entities", "relations"})
    assert a.model_dump() == b.model_dump()  # merges and conflict decisions too


def test_document_mode_update_equals_a_fresh_build_and_pays_only_for_new_text(tmp_path: Path) -> None:
    cfg = config(**{"extraction.mode": "document"})
    backend = ScriptedBackend()
    corpus, run = tmp_path / "corpus", tmp_path / "run"
    build(cfg, write(corpus, DOCS), run, backend)
    assert len(backend.requests_for("extraction")) == 5
    assert read_changes(RunDir(run)) == []

    before = len(backend.requests_for("extraction"))
    write(corpus, FINAL)
    dry_run = estimate(Pipeline(cfg, run, corpus=corpus, llm_factory=scripted_factory(backend, cfg.llm)))
    assert dry_run.extraction_requests == 3  # --dry-run tells what the update will cost
    updated = build(cfg, corpus, run, backend)
    # Exactly the chunks of the added and changed documents: d2, d6, d7.
    new_texts = [r[-1]["content"] for r in backend.requests_for("extraction")[before:]]
    assert len(new_texts) == 3
    assert all(any(FINAL[d] in t for t in new_texts) for d in ("d2", "d6", "d7"))

    [change] = read_changes(RunDir(run))
    assert (change.how, change.added, change.changed, change.removed) == (
        "build",
        ["d6", "d7"],
        ["d2"],
        ["d3"],
    )
    manifest = RunDir(run).manifest()
    assert headline(manifest).startswith("update: +2 documents, ~1 changed, -1 removed; 6 documents")
    # Said by a command that ran only fusion: its own LLM figures, the stages it re-used, no update.
    fusion = manifest.stages["fusion"].llm
    assert headline(manifest, ran=["fusion"]).startswith("6 documents")
    assert headline(manifest, ran=["fusion"]).endswith(
        f"; {int(fusion['requests']):,} LLM requests, {int(fusion['total_tokens']):,} tokens; "
        f"{manifest.stages['fusion'].seconds:,.0f} s; not run now: {', '.join(list(manifest.stages)[:-1])}"
    )
    assert manifest.stages["extraction"].counts["new_tasks"] == 3

    fresh = build(cfg, tmp_path / "corpus", tmp_path / "fresh", ScriptedBackend())
    same_graph(updated, fresh)
    assert not any("d3" in r.sources for r in updated.relations)
    units = (run / "extraction_units.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(units) == 6  # the removed and the replaced chunks' units are gone

    again = len(backend.requests)
    build(cfg, corpus, run, backend)  # nothing changed: nothing is asked, nothing logged
    assert len(backend.requests) == again
    assert len(read_changes(RunDir(run))) == 1


def triplet(head: str, rel: str, tail: str) -> dict[str, str]:
    return {"head": head, "relation": rel, "tail": tail, "evidence": ""}


# Per document, what the LLM reads there (rules match the document's text in the prompt).
SHARED = triplet("BLEU", "Evaluate-for", "machine translation")
RULES = [
    {"task": "extraction", "contains": DOCS["d1"], "reply": {"triplets": [SHARED]}},
    {"task": "extraction", "contains": DOCS["d2"], "reply": {"triplets": [SHARED]}},
    {
        "task": "extraction",
        "contains": DOCS["d3"],
        "reply": {"triplets": [triplet("word embeddings", "Used-for", "text classification")]},
    },
    {"task": "extraction", "reply": {"triplets": []}},
    {"task": "fusion", "reply": {"resolutions": [], "new_relations": []}},
]


def test_remove_without_the_source_keeps_what_other_documents_support(tmp_path: Path) -> None:
    cfg = config(**{"extraction.mode": "document"})
    backend = ScriptedBackend(rules=RULES)
    corpus, run = write(tmp_path / "corpus", DOCS), tmp_path / "run"
    graph = build(cfg, corpus, run, backend)
    edges = {(r.head, r.relation, r.tail): r for r in graph.relations}
    assert edges[("bleu", "Evaluate-for", "machine-translation")].sources == ["d1", "d2"]
    assert ("word-embedding", "Used-for", "text-classification") in edges

    shutil.rmtree(corpus)  # the source files are gone
    asked = len(backend.requests_for("extraction"))
    change = remove_documents(cfg, run, ["d1", "d3"], llm_factory=scripted_factory(backend, cfg.llm))
    assert (change.how, change.removed) == ("remove", ["d1", "d3"])
    assert len(backend.requests_for("extraction")) == asked  # removal asks no extraction call

    after = read_graph(run)
    [relation] = after.relations
    assert (relation.head, relation.tail, relation.support, relation.sources) == (
        "bleu",
        "machine-translation",
        1,
        ["d2"],
    )
    assert sorted(e.id for e in after.entities) == ["bleu", "machine-translation"]
    assert [d.id for d in RunDir(run).read(DOCUMENTS)] == ["d2", "d4", "d5"]
    assert RunDir(run).removed() == ["d1", "d3"]
    assert "-2 removed" in headline(RunDir(run).manifest())

    # Repeating the command (as after a kill) changes nothing; an unknown id is a clear error.
    remove_documents(cfg, run, ["d1"], llm_factory=scripted_factory(backend, cfg.llm))
    assert len(read_changes(RunDir(run))) == 1
    with pytest.raises(KgcError, match="no document 'd9'"):
        remove_documents(cfg, run, ["d9"], llm_factory=scripted_factory(backend, cfg.llm))

    # A later build of a corpus that still holds them keeps them out.
    write(corpus, DOCS)
    rebuilt = build(cfg, corpus, run, backend)
    assert [(r.head, r.sources) for r in rebuilt.relations] == [("bleu", ["d2"])]
    skipped = json.loads((run / "skipped.json").read_text(encoding="utf-8"))
    assert sorted(s["reason"] for s in skipped) == ["removed with kgc remove"] * 2


def test_seed_mode_update_equals_a_fresh_build_with_the_same_seeds(tmp_path: Path) -> None:
    seeds = ["machine translation", "BLEU", "encoder", "word embeddings", "question answering"]
    cfg = config(
        **{
            "seeds.user_seeds": seeds,
            "seeds.user_seeds_only": True,
            "retrieval.min_score": 90,
            "extraction.seed_batch_chunks": 2,
        }
    )
    backend = ScriptedBackend()
    corpus, run = tmp_path / "corpus", tmp_path / "run"
    build(cfg, write(corpus, DOCS), run, backend)
    full = len(backend.requests_for("extraction"))

    updated = build(cfg, write(corpus, FINAL), run, backend)
    update_calls = len(backend.requests_for("extraction")) - full
    fresh_backend = ScriptedBackend()
    fresh = build(cfg, corpus, tmp_path / "fresh", fresh_backend)
    same_graph(updated, fresh)
    assert RunDir(run).read(SEEDS) == RunDir(tmp_path / "fresh").read(SEEDS)
    # The batches the changed text entered are asked again, the others not.
    assert 0 < update_calls < len(fresh_backend.requests_for("extraction"))


def test_update_keeps_the_seeds_and_fits_new_ones_only_for_uncovered_text() -> None:
    kept = [Seed(name="machine translation", topic=0), Seed(name="bleu", topic=1)]
    old = [chunk(DOCS["d1"]), chunk(DOCS["d3"])]  # d3 holds no seed, but the seeds were fitted on it
    new = [chunk(DOCS["d2"]), chunk(DOCS["d4"]), chunk(DOCS["d5"])]
    fitted_on: list[list[str]] = []

    def fit(chunks: list[Chunk]) -> list[Seed]:
        fitted_on.append([c.text for c in chunks])
        return [
            Seed(name="dependency parsing", topic=0),
            Seed(name="mt", topic=0),  # the acronym of a kept seed: skipped
            Seed(name="treebank", topic=1),
            Seed(name="user seed", topic=-1, origin="user"),
        ]

    cfg = SeedsConfig(max_seeds=4, min_topic_size=2)
    seeds, waiting = update_seeds(kept, {c.hash for c in old}, [*old, *new], cfg, fit)
    assert fitted_on == [[DOCS["d4"], DOCS["d5"]]]  # d2 holds "machine translation"
    assert waiting == []
    assert [(s.name, s.topic) for s in seeds] == [
        ("machine translation", 0),
        ("bleu", 1),
        ("dependency parsing", 2),  # new topics are numbered after the kept ones
        ("treebank", 3),
    ]
    # Fewer uncovered chunks than a topic needs, or no room left: nothing is fitted, they wait.
    assert update_seeds(kept, set(), new, SeedsConfig(min_topic_size=3), fit) == (kept, new[1:])
    assert update_seeds(kept, set(), new, SeedsConfig(max_seeds=2, min_topic_size=2), fit) == (kept, new[1:])
    assert len(fitted_on) == 1


def chunk(text: str) -> Chunk:
    return Chunk(id=text, doc_id=text, text=text, start=0, end=len(text))


def test_content_batches_change_only_where_a_chunk_enters() -> None:
    chunks = [chunk(f"passage {i}") for i in range(40)]
    before = content_batches(chunks, 3)
    assert sorted(c.id for b in before for c in b) == sorted(c.id for c in chunks)
    assert content_batches(list(reversed(chunks)), 3) == before  # order of retrieval does not matter
    after = content_batches([*chunks, chunk("a new passage")], 3)
    changed = [b for b in after if b not in before]
    assert len(changed) in (1, 2)  # the batch it entered (split in two when it ends a batch)
    assert sum(len(b) for b in changed) == sum(len(b) for b in before if b not in after) + 1


@pytest.mark.slow
def test_an_update_killed_during_extraction_resumes_without_paying_again(tmp_path: Path) -> None:
    first = {
        f"p{n:02d}": f"Paper {n} studies topic {n} with method {n}. Method {n} beats baseline {n}."
        for n in range(30)
    }
    final = {k: v for k, v in first.items() if k not in ("p01", "p02", "p03")}
    final |= {k: first[k] + " It also studies transfer." for k in ("p10", "p11", "p12", "p13")}
    final |= {f"q{n:02d}": f"Survey {n} reviews area {n} and open problem {n}." for n in range(16)}
    new_chunks = 4 + 16
    corpus, run = tmp_path / "corpus", tmp_path / "run"
    with ScriptedServer(latency=0.2) as server:
        config_file = tmp_path / "kgc.toml"
        config_file.write_text(
            f'[llm]\nbackend = "openai"\nbase_url = "{server.base_url}"\nmodel = "scripted"\n'
            '[llm.limits]\nconcurrency = 1\n[extraction]\nmode = "document"\n'
            "[resolve]\nembedding_merge = false\n[fusion]\nmax_neighbourhoods = 3\n",
            encoding="utf-8",
        )
        args = ["build", str(corpus), "--out", str(run), "-c", str(config_file)]
        write(corpus, first)
        out, _ = run_cli(*args, cwd=tmp_path).communicate(timeout=300)
        assert "fusion: done" in out, out

        write(corpus, final)
        server.reset_stats()
        proc = run_cli(*args, cwd=tmp_path)
        deadline = time.monotonic() + 120
        while server.stats.by_task.get("extraction", 0) < 5:
            assert proc.poll() is None, proc.communicate()[0]
            assert time.monotonic() < deadline, "the update never reached extraction"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert server.stats.by_task["extraction"] < new_chunks

        out, _ = run_cli(*args, cwd=tmp_path).communicate(timeout=300)
        # The resumed command's closing line says what it did: the corpus stage had already run.
        assert "not run now: corpus" in out, out
        summary, _ = run_cli("summary", str(run), cwd=tmp_path).communicate(timeout=60)
        assert "update: +16 documents, ~4 changed, -3 removed" in summary, summary
        # What was answered before the kill is not asked again; at most the call in flight is.
        assert new_chunks <= server.stats.by_task["extraction"] <= new_chunks + 1

        fresh = ["build", str(corpus), "--out", str(tmp_path / "fresh"), "-c", str(config_file)]
        out, _ = run_cli(*fresh, cwd=tmp_path).communicate(timeout=300)
        assert "fusion: done" in out, out
        same_graph(read_graph(run), read_graph(tmp_path / "fresh"))
        [change] = read_changes(RunDir(run))
        assert (len(change.added), len(change.changed), change.removed) == (16, 4, ["p01", "p02", "p03"])

        # kgc remove with the configuration the run recorded (no --config): no extraction call.
        server.reset_stats()
        removal = run_cli("remove", str(run), "q00", "p20", cwd=tmp_path)
        out, _ = removal.communicate(timeout=300)
        assert removal.returncode == 0, out
        [line] = [line for line in out.splitlines() if line.startswith("removed ")]
        assert line in ("removed 2 documents (q00, p20)", "removed 2 documents (p20, q00)"), out
        assert "extraction" not in server.stats.by_task
    assert not any({"q00", "p20"} & set(r.sources) for r in read_graph(run).relations)
