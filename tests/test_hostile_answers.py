"""What a hostile OpenAI-compatible server can answer besides errors and hangs, over real HTTP through
the openai client: each ends as a retry (the server failed), a re-ask (the answer is invalid) or an
answer read as the model meant it; never a crash, a hang or a silently wrong triplet."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from kgc.llm.jsonparse import InvalidAnswerError, extract_json
from kgc.llm.openai_backend import retry_after_seconds
from kgc.stages.extraction import ExtractionAnswer
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
