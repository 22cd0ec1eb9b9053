"""What a hostile OpenAI-compatible server can answer besides errors and hangs, over real HTTP through
the openai client: each ends as a retry (the server failed), a re-ask (the answer is invalid) or an
answer read as the model meant it; never a crash, a hang or a silently wrong triplet."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from kgc.llm.http_status import retry_after_seconds
from kgc.llm.jsonparse import InvalidAnswerError, extract_json
from kgc.stages.extraction import ExtractionAnswer
from kgc.testing.http_server import completion_body
from kgc.testing.replies import default_extraction
from kgc.testing.scripted_server import ScriptedServer
from tests.fixtures_llm import make_scripted_client, scripted_llm_config
from tests.test_llm_client import counts, expected, prompt

RETRIED = (2, 0, 1, 0, 0)  # requests, cache hits, retries, invalid, failed
ASKED_AGAIN = (2, 0, 0, 1, 0)
ONE = '{"head": "neural network", "relation": "Used-for", "tail": "machine translation"}'

# fault -> what it costs before the scripted server's next (good) answer is taken
CASES: dict[str, tuple[dict[str, Any], tuple[int, ...]]] = {
    "HTTP 200, empty body": ({"body": ""}, RETRIED),
    "HTTP 200, HTML body": ({"body": "<html>502 Bad Gateway</html>"}, RETRIED),
    "HTTP 200, a JSON error object": ({"body": '{"error": {"message": "overloaded"}}'}, RETRIED),
    "HTTP 200, JSON null": ({"body": "null"}, RETRIED),
    "HTTP 200, a JSON list": ({"body": "[]"}, RETRIED),
    "HTTP 200, brackets nested 5,000 deep": ({"body": "[" * 5000 + "]" * 5000}, RETRIED),
    "an event stream, brackets nested 5,000 deep": ({"body": "data: " + "[" * 5000 + "]" * 5000}, RETRIED),
    "choices: []": ({"completion": {"choices": []}}, RETRIED),
    "choices: a string": ({"completion": {"choices": ["x"]}}, RETRIED),
    "message: null": ({"completion": {"message": None}}, RETRIED),
    "content: a number": ({"completion": {"message": {"role": "assistant", "content": 42}}}, RETRIED),
    "content: null": ({"completion": {"message": {"role": "assistant", "content": None}}}, ASKED_AGAIN),
    "finish_reason content_filter, valid JSON": (
        {"raw": f'{{"triplets": [{ONE}]}}', "finish_reason": "content_filter"},
        ASKED_AGAIN,
    ),
    "a key twice in one object": (
        {"raw": '{"triplets": [{"head": "a", "relation": "Used-for", "tail": "b", "tail": "c"}]}'},
        ASKED_AGAIN,
    ),
    "a key twice in an answer that needs repair (a trailing comma)": (
        {"raw": '{"triplets": [{"head": "a", "relation": "Used-for", "tail": "b", "tail": "c"},]}'},
        ASKED_AGAIN,
    ),
    "brackets nested 2,000 deep": ({"raw": "[" * 2000 + "]" * 2000}, ASKED_AGAIN),
    "an enormous answer": (
        {"raw": json.dumps({"triplets": [json.loads(ONE)] * 100_000})},  # 8 MB, far past max_tokens
        ASKED_AGAIN,
    ),
    "Retry-After of a century": ({"status": 429, "retry_after_header": "3155760000"}, RETRIED),
    "Retry-After as an HTTP date": (
        {"status": 503, "retry_after_header": "Wed, 21 Oct 2099 07:28:00 GMT"},
        RETRIED,
    ),
    "a Retry-After on an answer": ({"headers": {"Retry-After": "3600"}}, (1, 0, 0, 0, 0)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_answer_costs_a_retry_or_a_re_ask(
    scripted_server: ScriptedServer, tmp_path: Path, case: str
) -> None:
    """On 7b3b064 an empty, HTML, null or list body, 'choices: a string', 'message: null' and 'content:
    a number' raised out of the client (JSONDecodeError, AttributeError, TypeError: a traceback ending
    the run), a key twice kept the last value, and content_filter's JSON was taken as the answer."""
    fault, cost = CASES[case]
    scripted_server.add_faults([fault])
    cfg = scripted_llm_config(scripted_server, concurrency=1)
    with make_scripted_client(cfg, tmp_path) as client:
        assert client.complete(prompt(), ExtractionAnswer, stage="extraction") == expected()
        assert counts(client.usage()) == cost


@pytest.mark.parametrize(
    "raw",
    [f'```json\n{{"triplets": [{ONE}]}}\n```', f'{{"triplets": [{ONE}]}}\n\nHope this helps! {{"a": 1}}'],
)
def test_an_answer_in_a_code_fence_or_before_prose_is_read_as_written(
    scripted_server: ScriptedServer, tmp_path: Path, raw: str
) -> None:
    scripted_server.add_faults([{"raw": raw}])
    with make_scripted_client(scripted_llm_config(scripted_server), tmp_path) as client:
        answer = client.complete(prompt(), ExtractionAnswer, stage="extraction")
        assert answer == ExtractionAnswer.model_validate({"triplets": [json.loads(ONE)]})
        assert counts(client.usage()) == (1, 0, 0, 0, 0)


def test_an_answer_sent_a_byte_at_a_time_times_out_at_llm_timeout(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    """Every byte comes well within the read timeout, the whole far past it. On 7b3b064 the request
    took as long as the server liked (164 s for one answer at 0.2 s a byte, timeout 2 s)."""
    scripted_server.add_faults([{"trickle": 0.05}])  # ~800 bytes: 40 s
    cfg = scripted_llm_config(scripted_server, timeout=1.0, concurrency=1)
    started = time.monotonic()
    with make_scripted_client(cfg, tmp_path) as client:
        assert client.complete(prompt(), ExtractionAnswer, stage="extraction") == expected()
        assert counts(client.usage()) == RETRIED
    assert time.monotonic() - started < 6.0


@pytest.mark.parametrize(
    "text",
    [
        'Here: {"head": "a", "tail": "b", "tail": "c"} done',
        # JSON that needs repair: json_repair keeps the last value (or splits the object in two)
        '{"head": "a", "tail": "b", "tail": "c",}',
        '[{"head": "a", "tail": "b", "head": "c", "tail": "d"}',
        "{'head': 'a', 'tail': 'b', tail: 'c'}",
        '{"head": "a", "tail": "b", "t\\u0061il": "c",}',
    ],
)
def test_a_key_named_twice_is_refused_not_resolved_silently(text: str) -> None:
    """On cdcdbc2 the repaired ones kept the last value without a word."""
    with pytest.raises(InvalidAnswerError, match=r"names the key '(tail|head)' twice in one object"):
        extract_json(text)


def test_keys_named_again_in_other_objects_or_inside_strings_are_no_repeat() -> None:
    assert extract_json('{"a": {"k": 1}, "b": {"k": 2}}') == {"a": {"k": 1}, "b": {"k": 2}}
    assert extract_json('{"a": {"k": 1}, "b": [{"k": 2}, {"k": 3}],}') == {
        "a": {"k": 1},
        "b": [{"k": 2}, {"k": 3}],
    }
    assert extract_json('{"a": "a: 1, a: 2", "b": 1,}') == {"a": "a: 1, a: 2", "b": 1}


def test_retry_after_beyond_an_hour_or_in_the_past_is_ignored() -> None:
    assert retry_after_seconds({"retry-after": "3155760000"}) is None
    assert retry_after_seconds({"retry-after": "inf"}) is None
    assert retry_after_seconds({"retry-after": "nan"}) is None
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) is None
    soon = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 <= (retry_after_seconds({"retry-after": soon}) or 0) <= 31


def chat_body(text: str, **fields: Any) -> dict[str, Any]:
    """A chat completion answering `prompt()` with `text`; `fields` replace the body's own."""
    return {**completion_body({"messages": prompt()}, text), **fields}


def events(text: str, done: bool = True) -> str:
    """`text` as a server streaming it would send it (three chunks), ended by 'data: [DONE]'."""
    cuts = [text[:10], text[10:30], text[30:]]
    chunks = [
        {
            "object": "chat.completion.chunk",
            "model": "scripted",
            "choices": [{"index": 0, "delta": {"content": part}, "finish_reason": "stop" if last else None}],
        }
        for last, part in zip((False, False, True), cuts, strict=True)
    ]
    lines = [f"data: {json.dumps(c)}\n\n" for c in chunks]
    return "".join(lines) + ("data: [DONE]\n\n" if done else "")


ANSWER = json.dumps(default_extraction(prompt()[1]["content"]))
FRENCH = {"triplets": [{"head": "réseau neuronal", "relation": "Used-for", "tail": "traduction"}]}
FRENCH_BODY = json.dumps(chat_body(json.dumps(FRENCH, ensure_ascii=False)), ensure_ascii=False)

# fault -> (the answer, requests, retries) for the faults kgc reads through
READ_THROUGH: dict[str, tuple[dict[str, Any], ExtractionAnswer, int, int]] = {
    "an event stream nobody asked for": (
        {"body": events(ANSWER), "headers": {"Content-Type": "text/event-stream"}},
        expected(),
        1,
        0,
    ),
    "an event stream cut before [DONE]": ({"body": events(ANSWER, done=False)}, expected(), 2, 1),
    "the answer in a tool call": (
        {
            "completion": {
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": "1", "type": "function", "function": {"name": "a", "arguments": ANSWER}}
                    ],
                },
                "finish_reason": "tool_calls",
            }
        },
        expected(),
        1,
        0,
    ),
    "Latin-1, declared": (
        {
            "body": FRENCH_BODY.encode("latin-1"),
            "headers": {"Content-Type": "application/json; charset=iso-8859-1"},
        },
        ExtractionAnswer.model_validate(FRENCH),
        1,
        0,
    ),
    "UTF-8 declared as Latin-1": (
        {
            "body": FRENCH_BODY.encode("utf-8"),
            "headers": {"Content-Type": "application/json; charset=iso-8859-1"},
        },
        ExtractionAnswer.model_validate(FRENCH),
        1,
        0,
    ),
    "bytes that are no text": ({"body": FRENCH_BODY.encode("latin-1")}, expected(), 2, 1),
}


@pytest.mark.parametrize("case", list(READ_THROUGH))
def test_a_body_in_another_shape_or_encoding_is_read_as_the_model_meant_it(
    scripted_server: ScriptedServer, tmp_path: Path, case: str
) -> None:
    """On cdcdbc2 an event stream, a tool call and Latin-1 text cost every retry or re-ask (a
    server answering so always made the run stop or every item fail)."""
    fault, answer, requests, retries = READ_THROUGH[case]
    scripted_server.add_faults([fault])
    with make_scripted_client(scripted_llm_config(scripted_server, concurrency=1), tmp_path) as client:
        assert client.complete(prompt(), ExtractionAnswer, stage="extraction") == answer
        assert counts(client.usage()) == (requests, 0, retries, 0, 0)


@pytest.mark.parametrize(
    "usage",
    [
        {"prompt_tokens": 10**15, "completion_tokens": 10**15},
        {"prompt_tokens": True, "completion_tokens": True},
        {"prompt_tokens": -5, "completion_tokens": 3},
        {"prompt_tokens": "12", "completion_tokens": None},
        {"prompt_tokens": 12.5, "completion_tokens": 3},
    ],
)
def test_token_counts_no_server_could_mean_are_estimated(
    scripted_server: ScriptedServer, tmp_path: Path, usage: dict[str, Any]
) -> None:
    """On cdcdbc2 10**15 tokens were booked (a budget spent by one answer) and true counted as 1."""
    scripted_server.add_faults([{"completion": {"usage": usage}}])
    with make_scripted_client(scripted_llm_config(scripted_server), tmp_path) as client:
        assert client.complete(prompt(), ExtractionAnswer, stage="extraction") == expected()
        # the estimate, 4 characters a token: what the scripted server itself reports
        sent = completion_body({"messages": prompt()}, ANSWER)["usage"]
        assert (client.usage().prompt_tokens, client.usage().completion_tokens) == (
            sent["prompt_tokens"],
            sent["completion_tokens"],
        )


def test_an_answer_from_another_model_is_said_once(
    scripted_server: ScriptedServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    scripted_server.add_faults(
        [{"completion": {"model": "other-model"}}] * 2 + [{"completion": {"model": "scripted-2025-01-01"}}]
    )
    with make_scripted_client(scripted_llm_config(scripted_server, concurrency=1), tmp_path) as client:
        for seed in ("a", "b", "c"):
            assert client.complete(prompt(seed), ExtractionAnswer, stage="extraction") == expected(seed)
    said = [r.getMessage() for r in caplog.records if "answered as model" in r.getMessage()]
    assert (
        len(said) == 1
        and "answered as model 'other-model'; its answers are cached under llm.model='scripted'" in said[0]
    )
