"""A server that hangs, keeps failing or cuts answers short: the run stops cleanly or the item fails,
and nothing incomplete is kept. Real HTTP through the openai client to the scripted server."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from kgc.config import LimitsConfig
from kgc.errors import DeadlineExceededError, LLMUnavailableError
from kgc.llm.client import LLMClient
from kgc.llm.jsonparse import CutOffAnswerError, extract_json, is_cut_off
from kgc.llm.limits import RetryPolicy
from kgc.stages.extraction import ExtractionAnswer
from kgc.testing.faults import FaultMix
from kgc.testing.replies import default_extraction
from kgc.testing.scripted_server import ScriptedServer
from tests.fixtures_llm import make_scripted_client, scripted_llm_config
from tests.test_llm_client import counts, expected, extract_all, failures, prompt

SEED_WITH_TWO_CUTS = 0  # a seed where some item gets two cut answers
SEEDS = ["neural network", "attention mechanism", "transformer", "machine translation", "parallel corpora"]
HUNG_MESSAGE = (
    r"is down, hung or failing \(2 requests failed and none succeeded in \d+\.\d s of waiting on the "
    r"server; last error: .*start the same command again once the server is up"
)
NEVER_ANSWERED = (
    r"is down, hung or failing \(6 requests in a row failed with connection errors, timeouts or HTTP 5xx "
    r"and none has ever been answered; last error: .*start the same command again once the server is up"
)
NOW_DOWN = r"is down, hung or failing \(\d+ requests in a row failed .* since the last answer; last error"


def answer_text(seed: str = "neural network") -> str:
    """The scripted server's answer to `prompt(seed)`."""
    return json.dumps(default_extraction(prompt(seed)[1]["content"]))


def answer_chars(seed: str = "neural network") -> int:
    return len(answer_text(seed))


# -- the circuit breaker: down, hung or failing nearly everything, never merely flaky ----------------------


@pytest.mark.parametrize("concurrency", [1, 3])
def test_a_hung_server_opens_the_breaker_within_about_two_timeouts(tmp_path: Path, concurrency: int) -> None:
    with ScriptedServer(hang=True) as server:
        cfg = scripted_llm_config(server, timeout=0.3, max_retries=10, concurrency=concurrency)
        with (
            make_scripted_client(cfg, tmp_path) as client,
            pytest.raises(LLMUnavailableError, match=HUNG_MESSAGE) as error,
        ):
            extract_all(client, SEEDS)
        # From the first request: making the client is no part of it (seconds on a loaded machine).
        elapsed = time.monotonic() - server.stats.timestamps[0]
        assert "last error: model 'scripted'" in str(error.value)
        assert "request timed out" in str(error.value)
        # The second timeout opens it, ~0.6 s. Until an answer settles the response_format one request
        # goes at a time; those waiting for a request that failed are not sent but retried, so none
        # of them waits another timeout after the breaker opened (5c6714b: all 3 went, one by one).
        # 1e99dfd: 5 seeds x 11 attempts x 0.3 s, no error.
        assert server.stats.total == 2
        assert client.usage().requests == 2
        assert elapsed < 3.0


@pytest.mark.parametrize("concurrency", [1, 4])
@pytest.mark.parametrize("fault", [{"status": 503}, {"status": 500}, {"drop": True}])
def test_a_server_that_never_answered_stops_the_run_after_six_requests(
    scripted_server: ScriptedServer, tmp_path: Path, fault: dict[str, Any], concurrency: int
) -> None:
    """HTTP 5xx or connections reset from the first request on. ae0c6e1's breaker (19 of the last 20)
    took 19 requests; 5c6714b's (5 in a row) 5."""
    scripted_server.add_faults([fault] * 100)
    cfg = scripted_llm_config(scripted_server, max_retries=30, concurrency=concurrency)
    with make_scripted_client(cfg, tmp_path) as client:
        with pytest.raises(LLMUnavailableError, match=NEVER_ANSWERED) as error:
            extract_all(client, SEEDS)
        last_error = str(error.value).split("last error: ")[1]
        assert ("HTTP 5" in last_error) is ("status" in fault)
        # Until a first answer settles the response format one request goes at a time: exactly six.
        assert client.usage().requests == 6
        # Once open it stays open for this client (run): no further request is sent.
        with pytest.raises(LLMUnavailableError):
            client.complete(prompt(), ExtractionAnswer, stage="extraction")
    assert scripted_server.stats.total == 6


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_server_that_goes_down_mid_run_stops_it_within_a_few_failed_requests(
    scripted_server: ScriptedServer, tmp_path: Path, concurrency: int
) -> None:
    """Answers, then HTTP 503 to everything. 7b3b064's breaker let 19 requests fail."""
    answered = 12
    scripted_server.add_faults([{}] * answered + [{"status": 503}] * 100)
    cfg = scripted_llm_config(scripted_server, max_retries=30, concurrency=concurrency)
    seeds = [f"concept {i}" for i in range(40)]
    # Retries after 0.1-0.2 s, 0.2-0.4 s...: the answers on their way when the server went down
    # arrive before the first retries, as with a real server (milliseconds against a backoff).
    backoff = RetryPolicy(base_delay=0.2, max_delay=1.0)
    with (
        make_scripted_client(cfg, tmp_path, retry_policy=backoff) as client,
        pytest.raises(LLMUnavailableError, match=NOW_DOWN),
    ):
        extract_all(client, seeds)
    failed = scripted_server.stats.total - answered
    if concurrency == 1:
        assert failed == 6
    else:
        # An answer on its way when the first 503 came back ends that streak and the failures
        # before it count (two more each): up to 3 such answers, 6 + 2 * 3 in a row; the other
        # threads' requests may be in flight when the breaker opens.
        assert 6 <= failed <= 12 + 3


@pytest.mark.parametrize("blip", [1, 5])
def test_a_brief_blip_costs_retries_not_the_run(
    scripted_server: ScriptedServer, tmp_path: Path, blip: int
) -> None:
    scripted_server.add_faults([{}] * 8 + [{"status": 503}] * blip)
    cfg = scripted_llm_config(scripted_server, max_retries=30, concurrency=1)
    seeds = [f"concept {i}" for i in range(12)]
    with make_scripted_client(cfg, tmp_path) as client:
        assert extract_all(client, seeds) == [expected(s) for s in seeds]
        assert counts(client.usage()) == (12 + blip, 0, blip, 0, 0)


def test_a_server_that_failed_often_before_must_fail_longer_in_a_row(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    """Two failures among the requests before a streak: 6 + 2 * 2 in a row open it, 9 do not."""
    outage = [{"status": 500}] * 9
    scripted_server.add_faults([{"status": 500}, {}, {}, {"status": 500}, {}, *outage, {}])
    cfg = scripted_llm_config(scripted_server, max_retries=30, concurrency=1)
    with make_scripted_client(cfg, tmp_path) as client:
        assert extract_all(client, SEEDS[:4]) == [expected(s) for s in SEEDS[:4]]
    scripted_server.add_faults([{"status": 500}, {}, {}, {"status": 500}, {}, *outage, {"status": 500}])
    with (
        make_scripted_client(cfg, tmp_path / "again") as client,
        pytest.raises(LLMUnavailableError, match=r"\(10 requests in a row failed"),
    ):
        extract_all(client, [f"other {s}" for s in SEEDS[:4]])


def test_a_server_failing_half_the_requests_costs_retries_not_the_run(tmp_path: Path) -> None:
    seeds = [f"concept {i}" for i in range(60)]
    # faults are drawn by a hash of the request (its JSON Schema too): seed 2 gives a streak of 6
    half = FaultMix.parse("500=0.25,503=0.25", seed=2)
    with ScriptedServer(fault_mix=half) as server:
        cfg = scripted_llm_config(server, max_retries=12, concurrency=1)  # one thread: a fixed order
        with make_scripted_client(cfg, tmp_path / "a") as client:
            assert extract_all(client, seeds) == [expected(s) for s in seeds]
            usage = client.usage()
        assert usage.failed == 0
        assert usage.retries >= 40  # about one failure per success
        assert longest_failure_streak(server) == 6
    # 5c6714b's breaker, five failures in a row, stops the same run.
    with ScriptedServer(fault_mix=half) as server:
        streak = scripted_llm_config(
            server, max_retries=12, concurrency=1, circuit_breaker_window=5, circuit_breaker_failures=5
        )
        with make_scripted_client(streak, tmp_path / "b") as client, pytest.raises(LLMUnavailableError):
            extract_all(client, seeds)


def longest_failure_streak(server: ScriptedServer) -> int:
    """The longest run of consecutive failed requests the server gave, in arrival order."""
    longest = streak = 0
    for request in server.stats.requests:
        streak = streak + 1 if request.fault is not None and "status" in request.fault else 0
        longest = max(longest, streak)
    return longest


def test_backoff_between_retries_is_not_waiting_on_the_server(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    """Three quick 500s spread over ~2 s of backoff: longer than the timeout, yet the server was never slow."""
    scripted_server.add_faults([{"status": 500}] * 3)
    # Each 500 is quick, yet on a loaded machine it may take 0.1 s: the timeout leaves room for three.
    cfg = scripted_llm_config(scripted_server, timeout=0.5, concurrency=1)
    slow_backoff = RetryPolicy(base_delay=0.4, max_delay=1.0)
    with make_scripted_client(cfg, tmp_path, retry_policy=slow_backoff) as client:
        assert client.complete(prompt(), ExtractionAnswer, stage="extraction") == expected()
        assert counts(client.usage()) == (4, 0, 3, 0, 0)


def test_a_slow_answer_between_timeouts_keeps_the_breaker_closed(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    """A timeout, a slow success, a timeout: each wait is under the window, none opens it."""
    scripted_server.add_faults([{"delay": 1.0}, {"delay": 0.2}, {"delay": 1.0}])
    cfg = scripted_llm_config(scripted_server, timeout=0.5, concurrency=1)
    with make_scripted_client(cfg, tmp_path) as client:
        assert extract_all(client, SEEDS[:2]) == [expected(SEEDS[0]), expected(SEEDS[1])]
        assert counts(client.usage()) == (4, 0, 2, 0, 0)


def test_a_success_among_failures_keeps_the_breaker_closed(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    scripted_server.add_faults([{"status": 500}, {"status": 500}, {}, {"status": 500}, {"status": 500}])
    cfg = scripted_llm_config(
        scripted_server, concurrency=1, circuit_breaker_failures=3, circuit_breaker_window=3
    )
    with make_scripted_client(cfg, tmp_path) as client:
        assert extract_all(client, SEEDS[:2]) == [expected(SEEDS[0]), expected(SEEDS[1])]
        assert counts(client.usage()) == (6, 0, 4, 0, 0)


def test_rate_limits_do_not_count_toward_the_breaker(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    scripted_server.add_faults([{"status": 429, "retry_after": 0.01}] * 5)
    cfg = scripted_llm_config(scripted_server, max_retries=6, circuit_breaker_failures=2)
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
            f"the run's deadline has passed: llm.budget.deadline_seconds=0.75 ({answered} requests, 0 failed). "
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
    assert counts(scripted_llm.usage()) == (3, 0, 0, 3, 1)  # max_invalid_retries=2 corrections
    scripted_server.set_rules([])
    assert scripted_llm.complete(prompt(), ExtractionAnswer, stage="extraction") == expected()


def test_an_answer_cut_short_while_the_server_says_stop_is_asked_again_like_an_invalid_one(
    scripted_server: ScriptedServer, scripted_llm: LLMClient, tmp_path: Path
) -> None:
    """Cut far below max_tokens, by a flaky server or proxy: more room would not help, a new answer does.
    5c6714b asked once more with twice the budget and then failed the item (issue 17.1)."""
    scripted_server.add_faults([{"cut": 0.5}, {"cut": 0.5}])
    assert scripted_llm.complete(prompt(), ExtractionAnswer, stage="extraction") == expected()
    usage = scripted_llm.usage()
    assert (usage.requests, usage.invalid, usage.truncated, usage.failed) == (3, 2, 0, 0)
    sent = scripted_server.stats.requests
    assert [r.max_tokens for r in sent] == [1024] * 3
    correction = sent[1].messages[-1]["content"]
    assert correction.startswith("Your answer is not valid: the JSON stops before its end")
    assert sent[1].messages[-2] == {"role": "assistant", "content": answer_text()[: len(answer_text()) // 2]}


def test_cut_short_answers_fail_an_item_only_after_max_invalid_retries(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    scripted_server.add_faults([{"cut": 0.5}] * 4)
    cfg = scripted_llm_config(scripted_server, max_invalid_retries=3)
    with make_scripted_client(cfg, tmp_path) as client:
        assert client.complete(prompt(), ExtractionAnswer, stage="extraction") is None
        assert counts(client.usage()) == (4, 0, 0, 4, 1)
    [record] = failures(tmp_path)
    assert record["reason"] == "invalid"
    assert {a["error"] for a in record["attempts"]} == {
        "the JSON stops before its end: the answer was cut short"
    }


def test_a_flaky_server_that_cuts_answers_costs_retries_never_items(tmp_path: Path) -> None:
    """Issue 17.1's mix, 20% HTTP 429/500 and 10% answers cut in half, with the default retries."""
    seeds = [f"concept {i}" for i in range(40)]
    mix = FaultMix.parse("429=0.1,500=0.1,cut=0.1", seed=SEED_WITH_TWO_CUTS)
    defaults = LimitsConfig()
    with ScriptedServer(fault_mix=mix) as server:
        cfg = scripted_llm_config(
            server, max_retries=defaults.max_retries, max_invalid_retries=defaults.max_invalid_retries
        )
        with make_scripted_client(cfg, tmp_path) as client:
            assert extract_all(client, seeds) == [expected(s) for s in seeds]
            assert client.usage().failed == 0
        # Some item got two cut answers: 5c6714b failed an item at its second one.
        cuts = Counter(
            r.messages[1]["content"]
            for r in server.stats.requests
            if r.fault is not None and "cut" in r.fault
        )
        assert max(cuts.values()) >= 2


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
