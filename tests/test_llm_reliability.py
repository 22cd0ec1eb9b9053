"""A server that hangs, keeps failing or cuts answers short: the run stops cleanly or the item fails,
and nothing incomplete is kept. Real HTTP through the openai client to the scripted server."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from kgc.errors import DeadlineExceededError, LLMUnavailableError
from kgc.llm.client import LLMClient, RetryPolicy
from kgc.llm.jsonparse import CutOffAnswerError, extract_json, is_cut_off
from kgc.stages.extraction import ExtractionAnswer
from kgc.testing.replies import default_extraction
from kgc.testing.scripted_server import ScriptedServer
from tests.fixtures_llm import make_scripted_client, scripted_llm_config
from tests.test_llm_client import counts, expected, extract_all, failures, prompt

SEEDS = ["neural network", "attention mechanism", "transformer", "machine translation", "parallel corpora"]
BREAKER_MESSAGE = r"unreachable or failing \(3 consecutive failed requests.*start the same command again"


def answer_chars(seed: str = "neural network") -> int:
    """Length of the scripted server's answer to `prompt(seed)`."""
    return len(json.dumps(default_extraction(prompt(seed)[1]["content"])))


# -- the circuit breaker: timeouts and 5xx count ---------------------------------------------------------


def test_a_hung_server_opens_the_breaker_within_a_few_timeouts(tmp_path: Path) -> None:
    with ScriptedServer(hang=True) as server:
        cfg = scripted_llm_config(server, timeout=0.3, max_retries=10, concurrency=2)
        started = time.monotonic()
        with (
            make_scripted_client(cfg, tmp_path) as client,
            pytest.raises(LLMUnavailableError, match=BREAKER_MESSAGE) as error,
        ):
            extract_all(client, SEEDS)
        elapsed = time.monotonic() - started
        assert "request timed out" in str(error.value)
        # Two requests at a time, the third consecutive timeout opens it: 4 requests (3 when one thread
        # is slow to retry), about 0.6 s. 1e99dfd: 5 seeds x 11 attempts x 0.3 s / 2 threads, > 8 s, no error.
        assert 3 <= server.stats.total <= 4
        assert elapsed < 5.0


def test_a_5xx_storm_opens_the_breaker(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    scripted_server.add_faults([{"status": 503}] * 50)
    cfg = scripted_llm_config(scripted_server, max_retries=10, concurrency=1)
    with make_scripted_client(cfg, tmp_path) as client:
        with pytest.raises(LLMUnavailableError, match=BREAKER_MESSAGE + ".*") as error:
            extract_all(client, SEEDS)
        assert "HTTP 503" in str(error.value)
        assert client.usage().requests == 3
        # Once open it stays open for this client (run): no further request is sent.
        with pytest.raises(LLMUnavailableError):
            client.complete(prompt(), ExtractionAnswer, stage="extraction")
    assert scripted_server.stats.total == 3


def test_a_success_between_failures_keeps_the_breaker_closed(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    scripted_server.add_faults([{"status": 500}, {"status": 500}, {}, {"status": 500}, {"status": 500}])
    cfg = scripted_llm_config(scripted_server, concurrency=1)
    with make_scripted_client(cfg, tmp_path) as client:
        assert extract_all(client, SEEDS[:2]) == [expected(SEEDS[0]), expected(SEEDS[1])]
        assert counts(client.usage()) == (6, 0, 4, 0, 0)


def test_rate_limits_do_not_count_toward_the_breaker(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    scripted_server.add_faults([{"status": 429, "retry_after": 0.01}] * 5)
    cfg = scripted_llm_config(scripted_server, max_retries=6)
    with make_scripted_client(cfg, tmp_path) as client:
        assert client.complete(prompt(), ExtractionAnswer, stage="extraction") == expected()
        assert counts(client.usage()) == (6, 0, 5, 0, 0)


# -- the deadline -----------------------------------------------------------------------------------------


def test_the_deadline_stops_the_run_and_a_rerun_resumes(tmp_path: Path) -> None:
    with ScriptedServer(latency=0.3) as server:
        cfg = scripted_llm_config(server, concurrency=1, deadline_seconds=0.75)
        with make_scripted_client(cfg, tmp_path) as client, pytest.raises(DeadlineExceededError) as error:
            extract_all(client, SEEDS)
        answered = server.stats.total  # about 3 (0.3 s each); fewer on a loaded machine
        assert 1 <= answered < len(SEEDS)
        assert str(error.value).startswith(
            f"the run's deadline has passed: llm.deadline_seconds=0.75 ({answered} requests, 0 failed). "
            "Every answer received so far is cached: run the same command again to resume"
        )
        with make_scripted_client(cfg, tmp_path) as rerun:
            assert extract_all(rerun, SEEDS[:answered]) == [expected(s) for s in SEEDS[:answered]]
            assert counts(rerun.usage()) == (0, answered, 0, 0, 0)


def test_the_deadline_cuts_a_retry_wait_short(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    scripted_server.add_faults([{"status": 429, "retry_after": 30}])
    cfg = scripted_llm_config(scripted_server, deadline_seconds=0.5)
    honour_30s = RetryPolicy(base_delay=0.01, max_delay=0.05, max_retry_after=30.0)
    started = time.monotonic()
    with (
        make_scripted_client(cfg, tmp_path, retry_policy=honour_30s) as client,
        pytest.raises(DeadlineExceededError),
    ):
        client.complete(prompt(), ExtractionAnswer, stage="extraction")
    assert time.monotonic() - started < 10  # not the 30 s the server asked for
    assert scripted_server.stats.total == 1


# -- answers cut off at max_tokens ------------------------------------------------------------------------


def test_an_answer_cut_at_max_tokens_is_asked_again_with_twice_the_budget(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    budget = answer_chars() // 4 // 2 + 1  # too small for the answer, twice that is enough
    cfg = scripted_llm_config(scripted_server, max_output_tokens=budget)
    with make_scripted_client(cfg, tmp_path) as client:
        assert client.complete(prompt(), ExtractionAnswer, stage="extraction") == expected()
        assert counts(client.usage()) == (2, 0, 0, 1, 0)
        assert client.usage().truncated == 1
    assert [r.max_tokens for r in scripted_server.stats.requests] == [budget, 2 * budget]
    # The same question again, not a correction: the cut answer is not sent back.
    assert [r.messages for r in scripted_server.stats.requests] == [prompt(), prompt()]


def test_an_answer_cut_twice_fails_the_item_and_is_never_kept(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    budget = answer_chars() // 4 // 3  # even twice the budget cuts the answer
    cfg = scripted_llm_config(scripted_server, max_output_tokens=budget)
    with make_scripted_client(cfg, tmp_path) as client:
        assert client.complete(prompt(), ExtractionAnswer, stage="extraction") is None
        assert counts(client.usage()) == (2, 0, 0, 2, 1)
        # Not cached: the next run asks again.
        assert client.complete(prompt(), ExtractionAnswer, stage="extraction") is None
    assert scripted_server.stats.total == 4
    record = failures(tmp_path)[0]
    assert record["reason"] == "truncated"
    assert [a["error"] for a in record["attempts"]] == [
        f"the answer was cut off at max_tokens={budget}",
        f"the answer was cut off at max_tokens={2 * budget}",
    ]
    assert (
        record["attempts"][0]["raw"] == json.dumps(default_extraction(prompt()[1]["content"]))[: budget * 4]
    )


def test_finish_reason_length_makes_even_parseable_json_invalid(
    scripted_server: ScriptedServer, scripted_llm: LLMClient
) -> None:
    cut = '{"triplets": [{"head": "machine transl", "relation": "Used-for", "tail": "b"}]}'
    scripted_server.add_faults([{"raw": cut, "finish_reason": "length"}])
    assert scripted_llm.complete(prompt(), ExtractionAnswer, stage="extraction") == expected()
    assert counts(scripted_llm.usage()) == (2, 0, 0, 1, 0)


@pytest.mark.parametrize(
    "cut",
    [
        '{"triplets": [{"head": "machine transl',
        '{"triplets": [{"head": "a", "relation": "Used-for", "tail": "b"}',
        '```json\n{"triplets": [{"head": "a", "relation": "Used-for", "tail": "b"}, {"head": "c"',
    ],
)
def test_json_the_repair_would_have_to_close_is_never_kept(
    scripted_server: ScriptedServer, scripted_llm: LLMClient, cut: str
) -> None:
    """A server that does not say finish_reason "length": the unfinished JSON gives it away."""
    scripted_server.set_rules([{"task": "extraction", "contains": None, "raw": cut}])
    assert scripted_llm.complete(prompt(), ExtractionAnswer, stage="extraction") is None
    assert counts(scripted_llm.usage()) == (2, 0, 0, 2, 1)
    scripted_server.set_rules([])
    assert scripted_llm.complete(prompt(), ExtractionAnswer, stage="extraction") == expected()


@pytest.mark.parametrize(
    ("text", "cut_off"),
    [
        ('{"a": [1, 2', True),
        ('{"a": "unfinished', True),
        ('{"a": "escaped quote \\"}', True),
        ('{"a": "brackets in a string: {["}', False),
        ('{"a": [1, 2,]}', False),
        ("{'a': 'b'}", False),
    ],
)
def test_is_cut_off(text: str, cut_off: bool) -> None:
    assert is_cut_off(text) is cut_off


def test_extract_json_refuses_to_close_a_cut_answer() -> None:
    with pytest.raises(CutOffAnswerError, match="the JSON stops before its end"):
        extract_json('Here: {"triplets": [{"head": "machine transl')
    assert extract_json('{"triplets": [{"head": "a"},]}') == {"triplets": [{"head": "a"}]}
