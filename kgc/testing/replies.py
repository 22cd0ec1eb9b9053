"""The scripted LLM's answers, shared by the in-process ScriptedBackend and the HTTP ScriptedServer.

A request's task is read from its prompt (`# Task: extraction|fusion|resolve`). Rules script exact
replies (the first whose task and `contains` match wins); without one, each task has a deterministic
default: triplets built from the most frequent phrases of the `## Text` section; every fusion conflict
resolved to its first option and a link between the first two neighbours; every name pair of the
resolve band judged different (the conservative answer).
"""

from __future__ import annotations

import itertools
import json
import re
import zlib
from collections import Counter
from typing import Any

Rule = dict[str, Any]  # {"task": str|None, "contains": str|None, "reply": {...}} or "raw": "text"
TASKS = ("extraction", "fusion", "resolve")

_TASK_LINE = re.compile(r"^#\s*Task:\s*(\S+)", re.IGNORECASE)
_SECTION = re.compile(r"^##\s+(.+?)\s*$", re.MULTILINE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9\-]*")
_RELATION_LINE = re.compile(r"^-\s*([^\s(:]+)")
_CONFLICT_LINE = re.compile(
    r"^-\s*(?P<pair>[^:]+?)\s*:\s*(?P<head>.*?)\s*\|\s*(?P<tail>.*?)\s*\|\s*options:\s*(?P<opts>.*)$"
)
_STOPWORDS_TEXT = """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers him his how however i if in into is it its itself just may me might more
    most much must my no nor not now of off on once only or other our ours out over own same she should
    so some such than that the their theirs them then there these they this those through thus to too
    under until up upon us use used uses using very was we were what when where which while who whom why
    will with within without would yet you your one two new many based well also often can via"""
_STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
MAX_EVIDENCE_CHARS = 300


def detect_task(messages: list[dict[str, Any]], response_format: Any) -> tuple[str, str]:
    """(task, prompt): the latest user message starting with `# Task: <name>` decides, so a corrective
    follow-up still belongs to its task; else the json_schema name; else "other"."""
    user_texts = [str(m.get("content", "")) for m in messages if m.get("role") == "user"]
    for text in reversed(user_texts):
        match = _TASK_LINE.match(text.lstrip())
        if match:
            name = match.group(1).lower()
            return (name if name in TASKS else "other"), text
    last = user_texts[-1] if user_texts else ""
    if isinstance(response_format, dict):
        name = str((response_format.get("json_schema") or {}).get("name", "")).lower()
        for task in TASKS:
            if task in name:
                return task, last
    return "other", last


def sections(prompt: str) -> dict[str, str]:
    """`## Name` headings and the text up to the next `## ` heading, keyed by lower-case name."""
    found: dict[str, str] = {}
    heads = list(_SECTION.finditer(prompt))
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(prompt)
        found[head.group(1).strip().lower()] = prompt[head.end() : end].strip()
    return found


def relation_names(section: str) -> list[str]:
    names = []
    for line in section.splitlines():
        match = _RELATION_LINE.match(line.strip())
        if match:
            names.append(match.group(1))
    return names


def bullet_lines(section: str) -> list[str]:
    return [line.strip()[1:].strip() for line in section.splitlines() if line.strip().startswith("-")]


def stable_index(key: str, size: int) -> int:
    return zlib.crc32(key.encode("utf-8")) % size


def default_extraction(prompt: str) -> dict[str, Any]:
    """Triplets (head, relation, tail, evidence) from the most frequent phrases of the text."""
    parts = sections(prompt)
    relations = relation_names(parts.get("relations", "")) or ["Related-to"]
    phrases, sentence_of = frequent_phrases(parts.get("text", ""))
    if concepts := bullet_lines(parts.get("concepts", "")):
        # the passage's candidate names, most frequent first: names the pipeline will find in the text
        phrases, sentence_of = ranked_concepts(concepts, parts.get("text", ""))
    seed_lines = parts.get("seed", "").strip().splitlines()
    head = seed_lines[0].strip() if seed_lines else (phrases[0] if phrases else "")
    if not head:
        return {"triplets": []}
    tails = [p for p in phrases if p.lower() != head.lower()][:3]
    triplets = [
        {
            "head": head,
            "relation": relations[stable_index(f"{head}|{tail}", len(relations))],
            "tail": tail,
            "evidence": sentence_of[tail],
        }
        for tail in tails
    ]
    return {"triplets": triplets}


def ranked_concepts(concepts: list[str], text: str) -> tuple[list[str], dict[str, str]]:
    """Candidate names by how often the text mentions them (ties: listed first first), and the first
    sentence each appears in."""
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    low = text.lower()
    order = sorted(range(len(concepts)), key=lambda i: (-low.count(concepts[i].lower()), i))
    ranked = [concepts[i] for i in order]
    sentence_of = {
        c: next((s[:MAX_EVIDENCE_CHARS] for s in sentences if c.lower() in s.lower()), "") for c in ranked
    }
    return ranked, sentence_of


def frequent_phrases(text: str) -> tuple[list[str], dict[str, str]]:
    """Non-stopword bigrams by frequency, then unigrams (ties: first seen first), and the first
    sentence each appears in."""
    bigrams: Counter[str] = Counter()
    unigrams: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    sentence_of: dict[str, str] = {}
    for sentence in _SENTENCE_END.split(text):
        words = [w.lower() for w in _WORD.findall(sentence)]
        content = [(w if len(w) > 2 and w not in _STOPWORDS else None) for w in words]
        grams = [w for w in content if w] + [f"{a} {b}" for a, b in itertools.pairwise(content) if a and b]
        for gram in grams:
            (bigrams if " " in gram else unigrams)[gram] += 1
            if gram not in first_seen:
                first_seen[gram] = len(first_seen)
                sentence_of[gram] = sentence.strip()[:MAX_EVIDENCE_CHARS]

    def ranked(counts: Counter[str]) -> list[str]:
        return sorted(counts, key=lambda g: (-counts[g], first_seen[g]))

    return ranked(bigrams) + ranked(unigrams), sentence_of


def default_fusion(prompt: str) -> dict[str, Any]:
    """Every conflict resolved to its first option; one new relation between the first two neighbours."""
    parts = sections(prompt)
    relations = relation_names(parts.get("relations", "")) or ["Related-to"]
    resolutions = []
    for line in parts.get("conflicts", "").splitlines():
        match = _CONFLICT_LINE.match(line.strip())
        if match:
            options = [o.strip() for o in match.group("opts").split(",") if o.strip()]
            resolutions.append(
                {"pair": match.group("pair").strip(), "relation": options[0] if options else None}
            )
    neighbours = bullet_lines(parts.get("neighbours", ""))
    new_relations = []
    if len(neighbours) >= 2:
        new_relations.append(
            {
                "head": neighbours[0],
                "relation": relations[0],
                "tail": neighbours[1],
                "reason": "scripted default",
            }
        )
    return {"resolutions": resolutions, "new_relations": new_relations}


# -- HTTP ---------------------------------------------------------------------------------------------


_PAIRS_HEADING = re.compile(r"^##\s*Pairs\s*\((\d+)\)", re.MULTILINE)


def default_resolve(prompt: str) -> dict[str, Any]:
    """Every pair of the resolve band judged different: the answer that never merges wrongly."""
    match = _PAIRS_HEADING.search(prompt)
    count = int(match.group(1)) if match else 0
    return {"answers": [{"pair": n, "same": False} for n in range(1, count + 1)]}


def check_rules(rules: list[Rule]) -> list[Rule]:
    for rule in rules:
        if ("reply" in rule) == ("raw" in rule):
            raise ValueError(f"a rule needs exactly one of 'reply' and 'raw': {rule}")
    return list(rules)


def reply_text(messages: list[dict[str, Any]], task: str, prompt: str, rules: list[Rule]) -> str:
    """The scripted answer to one request: the first matching rule, else the task's default."""
    conversation = "\n".join(str(m.get("content", "")) for m in messages)
    for rule in rules:
        if rule.get("task") not in (None, task):
            continue
        if rule.get("contains") is not None and rule["contains"] not in conversation:
            continue
        return str(rule["raw"]) if "raw" in rule else json.dumps(rule["reply"])
    defaults = {"extraction": default_extraction, "fusion": default_fusion, "resolve": default_resolve}
    return json.dumps(defaults[task](prompt)) if task in defaults else "{}"
