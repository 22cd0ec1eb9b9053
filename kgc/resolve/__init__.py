"""Entity resolution: which names name the same thing, decided in near-linear time and explained.

    from kgc.resolve import NameRecord, resolve_names
    result = resolve_names(["NMT", "neural machine translation", "Neural Machine Translations"])
    result.lookup("NMT")  # -> 'neural-machine-translation'

Used by fusion (kgc.stages.fusion) and by `kgc resolve`; pure: no files, no stage, the LLM injected.
The public parts other rooms reuse: `NameIndex` (which entity a name is: fusion, explain, the view
and eval ask it), `name_key` (what 'the same name' means), `kgc.resolve.acronyms` (which short form
can stand for which long name) and `find_definitions` (acronyms a text defines).
"""

from __future__ import annotations

from collections.abc import Iterable

from kgc.config import ResolveConfig
from kgc.resolve.decisions import Resolution
from kgc.resolve.definitions import Definition, find_definitions
from kgc.resolve.engine import Embed, resolve
from kgc.resolve.index import NameIndex
from kgc.resolve.keys import name_key
from kgc.resolve.llm_band import BandQuestion, Judge, llm_judge
from kgc.resolve.types import NameRecord

__all__ = [
    "BandQuestion",
    "Definition",
    "Embed",
    "Judge",
    "NameIndex",
    "NameRecord",
    "Resolution",
    "find_definitions",
    "llm_judge",
    "name_key",
    "resolve",
    "resolve_names",
]


def resolve_names(
    names: Iterable[str | NameRecord],
    cfg: ResolveConfig | None = None,
    *,
    texts: dict[str, str] | None = None,
    embed: Embed | None = None,
    judge: Judge | None = None,
) -> Resolution:
    """Resolve plain names (or NameRecords with counts, documents and context) into entities.

    `texts` maps document ids to their text, from which acronym definitions are mined.
    """
    records = (n if isinstance(n, NameRecord) else NameRecord(n) for n in names)  # one at a time
    definitions = [(doc, d) for doc, text in (texts or {}).items() for d in find_definitions(text)]
    return resolve(records, cfg or ResolveConfig(), definitions=definitions, embed=embed, judge=judge)
