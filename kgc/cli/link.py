"""`kgc link` (names or a run's entities against a vocabulary) and `kgc serve reconcile`."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kgc.cli.common import ConfigOpt, VerboseOpt, app, console, guarded, load

if TYPE_CHECKING:
    from kgc.config import KgcConfig
    from kgc.link import LinkResult
    from kgc.link.index import VocabIndex
    from kgc.link.llm_band import Chooser

serve_app = typer.Typer(help="Serve kgc over HTTP on this machine.", no_args_is_help=True)
app.add_typer(serve_app, name="serve")

_VOCAB_HELP = (
    "Vocabulary: CSV/TSV with a header (id, label; optional synonyms, definition, type, parents), "
    "JSONL, SKOS or OWL (.ttl, .rdf, .owl, .nt, .jsonld), OBO, or SSSOM (.sssom.tsv)."
)
VocabOpt = Annotated[Path, typer.Option("--vocab", help=_VOCAB_HELP)]
IdColumnOpt = Annotated[str | None, typer.Option("--id-column", help="CSV/TSV: the id column's name.")]
LabelColumnOpt = Annotated[
    str | None, typer.Option("--label-column", help="CSV/TSV: the label column's name.")
]
SynonymsColumnOpt = Annotated[
    str | None, typer.Option("--synonyms-column", help="CSV/TSV: the synonyms column ('|' or ';' separated).")
]


def links_jsonl_path(out: Path) -> Path:
    """links.sssom.tsv -> links.jsonl beside it; x.tsv -> x.jsonl."""
    stem = out.name.removesuffix(".tsv").removesuffix(".sssom")
    return out.with_name(stem + ".jsonl")


def open_vocab_index(vocab: Path, cfg: KgcConfig, columns: tuple[str | None, ...] = ()) -> VocabIndex:
    from kgc.link import Columns, load_vocabulary
    from kgc.link.index import build_index

    cols = Columns(*columns) if columns else Columns()
    return build_index(load_vocabulary(vocab, cols), cfg.link.max_df)


def make_judge(cfg: KgcConfig, stage: str = "link") -> Chooser:
    from kgc.link.llm_band import llm_chooser
    from kgc.llm.client import LLMClient
    from kgc.llm.factory import make_backend

    client = LLMClient(
        make_backend(cfg.llm, cfg.resolved_api_key()), cfg.llm, cache_path=None, failures_path=None
    )
    return llm_chooser(client.for_stage(stage), cfg.prompts_path(), cfg.link.prompt)


def write_links(result: LinkResult, out: Path) -> Path:
    """SSSOM TSV at `out` and every decision with its candidates in links.jsonl beside it."""
    from kgc.rundir import atomic_write_text

    jsonl = links_jsonl_path(out)
    result.to_sssom(out)
    atomic_write_text(jsonl, "".join(x.model_dump_json() + "\n" for x in result.links))
    c = result.counts
    console.print(
        f"{len(result.links):,} names: {c['exactMatch']:,} exactMatch, {c['broadMatch']:,} broadMatch, "
        f"{c['ambiguous']:,} ambiguous, {c['uncertain']:,} uncertain, {c['nil']:,} NIL -> {out} and {jsonl}",
        soft_wrap=True,
        highlight=False,
    )
    return jsonl


def link_any(
    entities: Path,
    vocab: Path,
    out: Path,
    cfg: KgcConfig,
    columns: tuple[str | None, ...],
    llm: bool,
    dense: bool = False,
) -> None:
    """What `kgc link` and `kgc resolve --against` do: a run directory's entities or a names file."""
    from kgc.link import link
    from kgc.link.entities import link_graph, read_texts

    index = open_vocab_index(vocab, cfg, columns)
    judge = make_judge(cfg) if llm else None
    cfg.link.llm = cfg.link.llm or llm
    cfg.link.dense = cfg.link.dense or dense
    with ExitStack() as stack:
        embed = None
        if cfg.link.dense:  # vectors kept by content in $KGC_HOME/link: the labels are embedded once
            from kgc.embeddings import load_embedder
            from kgc.link.dense import stored_embed
            from kgc.link.vocabulary import cache_dir

            embed = stack.enter_context(stored_embed(load_embedder(cfg.embedding), cache_dir()))
        if entities.is_dir():
            from kgc.artifacts import GRAPH
            from kgc.rundir import RunDir

            result = link_graph(
                RunDir(entities, create=False).read(GRAPH),
                index,
                cfg.link,
                texts=read_texts(entities),
                embed=embed,
                judge=judge,
            )
        else:
            from kgc.resolve.io import read_names

            result = link(read_names(entities), index, cfg.link, embed=embed, judge=judge)
    write_links(result, out)


@app.command("link")
def link_command(
    entities: Annotated[
        Path | None,
        typer.Argument(
            help="A run directory (its entities), a text file of names (one a line) or JSONL (name, doc, context)."
        ),
    ] = None,
    vocab: Annotated[
        Path | None, typer.Option("--vocab", help=_VOCAB_HELP + " Default: link.vocabulary of the config.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="SSSOM TSV to write; links.jsonl (every candidate) goes beside it."),
    ] = None,
    check_vocab: Annotated[
        bool,
        typer.Option(
            "--check-vocab",
            help="Only check the vocabulary: duplicate labels, homonyms, concepts without labels.",
        ),
    ] = False,
    llm: Annotated[
        bool,
        typer.Option("--llm", help="Ask the configured LLM to choose for uncertain and ambiguous names."),
    ] = False,
    dense: Annotated[
        bool,
        typer.Option(
            "--dense", help="Re-rank candidates with the embedding model ([embedding] of the config)."
        ),
    ] = False,
    id_column: IdColumnOpt = None,
    label_column: LabelColumnOpt = None,
    synonyms_column: SynonymsColumnOpt = None,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Link names, or a run's entities, to a vocabulary: each gets a concept id (skos:exactMatch, or
    skos:broadMatch for a narrower name) or is told it has none (NIL, ambiguous, uncertain).

    Example: kgc link names.txt --vocab data/vocabulary/nlp_concepts.csv --out links.sssom.tsv

    Also: `kgc link runs/demo --vocab concepts.ttl --out runs/demo/links.sssom.tsv` (a run's entities);
    `kgc link --check-vocab --vocab concepts.ttl` (duplicate labels, homonyms, concepts without labels).
    """

    def body() -> None:
        from kgc.errors import KgcError

        cfg = load(config)
        columns = (id_column, label_column, synonyms_column)
        vocab_path = vocab or cfg.link.vocabulary
        if vocab_path is None:
            raise KgcError("give the vocabulary with --vocab (or link.vocabulary in the config)")
        if check_vocab:
            from kgc.link import Columns, check_vocabulary, load_vocabulary

            for line in check_vocabulary(load_vocabulary(vocab_path, Columns(*columns))).lines():
                typer.echo(line)
            return
        if entities is None or out is None:
            raise KgcError("give the names (or a run directory) to link and --out, or --check-vocab")
        link_any(entities, vocab_path, out, cfg, columns, llm, dense)

    guarded(verbose, body)


@serve_app.command("reconcile")
def serve_reconcile(
    vocab: VocabOpt,
    host: Annotated[
        str, typer.Option(help="Address to listen on (127.0.0.1: this machine only).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).")] = 8000,
    id_column: IdColumnOpt = None,
    label_column: LabelColumnOpt = None,
    synonyms_column: SynonymsColumnOpt = None,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """A W3C Entity Reconciliation API (v0.2) service over a vocabulary, for OpenRefine and other
    clients: the manifest at /reconcile, batches of queries, suggest and preview.

    Example: kgc serve reconcile --vocab data/vocabulary/nlp_concepts.csv --port 8000
    (in OpenRefine: Reconcile -> Add standard service -> http://127.0.0.1:8000/reconcile)
    """

    def body() -> None:
        from kgc.link.service import serve

        cfg = load(config)
        index = open_vocab_index(vocab, cfg, (id_column, label_column, synonyms_column))
        serve(
            index,
            cfg.link,
            host=host,
            port=port,
            announce=lambda url: console.print(f"serving {url}", highlight=False),
        )

    guarded(verbose, body)
