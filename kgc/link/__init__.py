"""Entity linking to the user's vocabulary: each name tied to a concept id, or told it has none.

    from kgc.link import link_names
    result = link_names(["NMT", "GANs"], "data/vocabulary/nlp_concepts.csv")
    result.lookup("GANs"); print(result.explain("GANs")); result.to_sssom("mappings.sssom.tsv")

Loading (kgc.link.vocabulary, readers, ontologies) -> index (kgc.link.index) -> bands
(kgc.link.bands) -> decision (kgc.link.decide) -> output (kgc.link.sssom, links.jsonl).
"""

from __future__ import annotations

from kgc.link.linker import LinkResult, link, link_names, open_index
from kgc.link.model import Columns, Concept, Synonym
from kgc.link.vocabulary import Vocabulary, check_vocabulary, load_vocabulary
from kgc.models import NameLink

__all__ = [
    "Columns",
    "Concept",
    "LinkResult",
    "NameLink",
    "Synonym",
    "Vocabulary",
    "check_vocabulary",
    "link",
    "link_names",
    "load_vocabulary",
    "open_index",
]
