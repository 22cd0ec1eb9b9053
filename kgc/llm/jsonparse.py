"""Tolerant reading of the JSON an LLM wrote, then validation against the expected pydantic model,
and the correction to ask for when it fails.

Small models wrap JSON in code fences, add a sentence before or after it, think aloud in
`<think>` blocks, leave a trailing comma or quote keys with single quotes. All of that is
recoverable. An answer that stops mid-object (cut at the token limit) is not: closing its brackets
would invent its end (an entity named "machine transl"), so it is reported as cut off.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from typing import Any, TypeVar

import json_repair
from pydantic import BaseModel, ValidationError

from kgc.llm.base import Message

T = TypeVar("T", bound=BaseModel)

_THINK = re.compile(r"<think>.*?(</think>|$)", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```[A-Za-z0-9_-]*\s*\n?(.*?)(```|$)", re.DOTALL)


class InvalidAnswerError(ValueError):
    """The reply is not JSON or does not match the schema; the message is fit for a corrective prompt."""


class CutOffAnswerError(InvalidAnswerError):
    """The reply's JSON stops before its end: a string or bracket is left open."""


def extract_json(text: str) -> Any:
    """The JSON value in `text`: strict parse first, then without fences/prose, then repaired;
    CutOffAnswerError when the JSON is unfinished."""
    try:
        return _extract_json(text)
    except RecursionError:  # json's decoder (and json_repair's) recurse once per bracket
        raise InvalidAnswerError("the JSON nests brackets too deep to read") from None


def _extract_json(text: str) -> Any:
    cleaned = _THINK.sub("", text).strip()
    fenced = _FENCE.search(cleaned)
    if fenced:
        cleaned = fenced.group(1).strip()
    try:
        return _DECODER.decode(cleaned)
    except InvalidAnswerError:
        raise
    except ValueError:
        pass
    start = _json_start(cleaned)
    if start is not None:
        try:
            return _DECODER.raw_decode(cleaned, start)[0]  # prose after the JSON
        except InvalidAnswerError:
            raise
        except ValueError:
            cleaned = cleaned[start:]  # repair from the outermost bracket
        if is_cut_off(cleaned):
            raise CutOffAnswerError("the JSON stops before its end: the answer was cut short")
    # json_repair keeps the last of two values of a key (or splits the object in two): refused first.
    _refuse_repeated_keys(cleaned)
    repaired = json_repair.loads(cleaned)
    # json_repair turns text without any JSON into "" (or a bare string): that is not an answer.
    if isinstance(repaired, dict | list) and repaired:
        return repaired
    raise InvalidAnswerError("the reply contains no JSON object")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refused when it names a key twice: which of the two values the model meant is
    unknown, and keeping the last would keep a triplet it may not have meant."""
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise InvalidAnswerError(f"the JSON names the key {key!r} twice in one object")
        obj[key] = value
    return obj


_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys)

# The pieces of JSON as models mangle it: strings in double or single quotes, bare words (unquoted
# keys, numbers, true), brackets, colons and commas.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"?|\'(?:[^\'\\]|\\.)*\'?|[^\s"\'{}\[\]:,]+|[{}\[\]:,]')


def _refuse_repeated_keys(text: str) -> None:
    """InvalidAnswerError when an object of the JSON-like `text` names a key twice, read as loosely
    as json_repair reads it (keys in double, single or no quotes)."""
    objects: list[set[str] | None] = []  # per open bracket: the keys of an object, None for a list
    tokens = _TOKEN.findall(text)
    for token, following in itertools.zip_longest(tokens, tokens[1:], fillvalue=""):
        if token in ("{", "["):
            objects.append(set() if token == "{" else None)
        elif token in ("}", "]"):
            if objects:
                objects.pop()
        elif following == ":" and objects and objects[-1] is not None:
            key = _key_text(token)
            if key in objects[-1]:
                raise InvalidAnswerError(f"the JSON names the key {key!r} twice in one object")
            objects[-1].add(key)


def _key_text(token: str) -> str:
    """A key as written, unquoted and unescaped ("t\\u0061il" is "tail") where it can be."""
    if token.startswith('"'):
        try:
            return str(json.loads(token))
        except ValueError:
            return token.strip('"')
    return token.strip("'")


def _json_start(text: str) -> int | None:
    """Where the outermost JSON value starts: the first '{', else the first '['."""
    for bracket in "{[":
        index = text.find(bracket)
        if index >= 0:
            return index
    return None


def is_cut_off(text: str) -> bool:
    """True when `text` ends inside a double-quoted string or with a bracket still open."""
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
    return in_string or depth > 0


def parse_answer(text: str, schema: type[T]) -> T:
    """`text` read as JSON and validated as `schema`; InvalidAnswerError says what is wrong."""
    value = extract_json(text)
    try:
        return schema.model_validate(value)
    except ValidationError as e:
        raise InvalidAnswerError(_describe(e)) from e


def _describe(error: ValidationError, limit: int = 5) -> str:
    """A short list of what failed validation, e.g. "triplets.0.tail: Field required"."""
    parts = []
    for err in error.errors()[:limit]:
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{where}: {err['msg']}")
    more = error.error_count() - limit
    if more > 0:
        parts.append(f"... and {more} more")
    return "the JSON does not match the schema: " + "; ".join(parts)


@functools.cache
def _json_schema_text(schema: type[BaseModel]) -> str:
    return json.dumps(schema.model_json_schema())


def json_schema_of(schema: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema of a model class, generated once per class (pydantic takes ~1 ms each time);
    a fresh copy each call, so no caller can alter another's."""
    loaded: dict[str, Any] = json.loads(_json_schema_text(schema))
    return loaded


def corrective_turn(bad_reply: str, error: InvalidAnswerError, json_schema: dict[str, Any]) -> list[Message]:
    """The model's invalid answer plus a user message saying what to fix."""
    return [
        {"role": "assistant", "content": bad_reply},
        {
            "role": "user",
            "content": (
                f"Your answer is not valid: {error}. Reply again with only one JSON object, no prose and "
                f"no code fences, following this JSON Schema:\n{json.dumps(json_schema, separators=(',', ':'))}"
            ),
        },
    ]
