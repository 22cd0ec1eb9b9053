"""The scripted OpenAI-compatible server, spoken to over real HTTP with the official openai client."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import urllib.request
from collections import Counter
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from kgc.testing.faults import FaultMix
from kgc.testing.replies import default_extraction, default_fusion, sections
from kgc.testing.scripted_server import ScriptedServer

RELATIONS = "- Used-for (directed): the head helps to do the tail\n- Part-of (directed): a component\n"
TEXT = (
    "Neural networks are used for machine translation. Machine translation needs parallel corpora. "
    "The attention mechanism improves machine translation. The attention mechanism is part of the transformer."
)


def extraction_prompt(text: str = TEXT, seed: str | None = None) -> str:
    seed_part = f"## Seed\n{seed}\n\n" if seed else ""
    return f"# Task: extraction\nExtract.\n\n## Relations\n{RELATIONS}\n{seed_part}## Text\n{text}\n\n## Answer\nJSON.\n"


FUSION_PROMPT = (
    "# Task: fusion\n## Relations\n" + RELATIONS + "\n## Entity\nmachine translation\n\n"
    "## Conflicts\n- p1: machine translation | bleu | options: Used-for, Part-of\n"
    "- p2: attention | machine translation | options: Part-of\n\n"
    "## Neighbours\n- bleu\n- attention\n- transformer\n\n## Background\n(none)\n"
)


def client(server: ScriptedServer, timeout: float = 5.0) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="test", timeout=timeout, max_retries=0)


def ask(server: ScriptedServer, content: str, **kwargs: Any) -> str:
    reply = client(server).chat.completions.create(
        model="scripted", messages=[{"role": "user", "content": content}], **kwargs
    )
    return reply.choices[0].message.content or ""


def test_sections_are_split_at_second_level_headings() -> None:
    assert sections("# Task: x\n## Relations\n- A (directed): d\n\n## Text\nline one\nline two\n") == {
        "relations": "- A (directed): d",
        "text": "line one\nline two",
    }


def test_default_extraction_uses_the_seed_and_the_most_frequent_phrases() -> None:
    answer = default_extraction(extraction_prompt(seed="neural network"))
    assert [(t["head"], t["tail"]) for t in answer["triplets"]] == [
        ("neural network", "machine translation"),
        ("neural network", "attention mechanism"),
        ("neural network", "neural networks"),
    ]
    assert {t["relation"] for t in answer["triplets"]} <= {"Used-for", "Part-of"}
    assert answer["triplets"][1]["evidence"] == "The attention mechanism improves machine translation."
    assert answer == default_extraction(extraction_prompt(seed="neural network"))  # deterministic


def test_default_extraction_without_seed_heads_with_the_top_bigram() -> None:
    triplets = default_extraction(extraction_prompt())["triplets"]
    assert [(t["head"], t["tail"]) for t in triplets] == [
        ("machine translation", "attention mechanism"),
        ("machine translation", "neural networks"),
        ("machine translation", "translation needs"),  # frequency ties: first seen first
    ]


def test_default_fusion_takes_first_options_and_links_the_first_two_neighbours() -> None:
    assert default_fusion(FUSION_PROMPT) == {
        "resolutions": [{"pair": "p1", "relation": "Used-for"}, {"pair": "p2", "relation": "Part-of"}],
        "new_relations": [
            {"head": "bleu", "relation": "Used-for", "tail": "attention", "reason": "scripted default"}
        ],
    }


def test_chat_completion_is_openai_shaped_with_deterministic_usage(scripted_server: ScriptedServer) -> None:
    prompt = extraction_prompt(seed="neural network")
    reply = client(scripted_server).chat.completions.create(
        model="my-model", messages=[{"role": "user", "content": prompt}]
    )
    text = reply.choices[0].message.content or ""
    assert json.loads(text) == default_extraction(prompt)
    assert reply.model == "my-model"
    assert reply.usage is not None
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (len(prompt) // 4, len(text) // 4)
    stats = scripted_server.stats
    assert (stats.total, stats.by_task, stats.response_formats) == (1, {"extraction": 1}, [None])


def test_fusion_and_other_tasks(scripted_server: ScriptedServer) -> None:
    assert json.loads(ask(scripted_server, FUSION_PROMPT)) == default_fusion(FUSION_PROMPT)
    assert ask(scripted_server, "hello") == "{}"
    assert scripted_server.stats.by_task == {"fusion": 1, "other": 1}


def test_task_from_json_schema_name_when_there_is_no_task_line(scripted_server: ScriptedServer) -> None:
    prompt = extraction_prompt(seed="neural network").replace("# Task: extraction\n", "")
    rf = {"type": "json_schema", "json_schema": {"name": "ExtractionAnswer", "schema": {"type": "object"}}}
    assert json.loads(ask(scripted_server, prompt, response_format=rf)) == default_extraction(prompt)
    assert scripted_server.stats.by_task == {"extraction": 1}
    assert scripted_server.stats.response_formats == ["json_schema"]


def test_rules_first_match_wins_with_task_and_contains(scripted_server: ScriptedServer) -> None:
    scripted_server.set_rules(
        [
            {"task": "fusion", "contains": None, "reply": {"resolutions": [], "new_relations": []}},
            {"task": None, "contains": "parallel corpora", "raw": "RAW ANSWER"},
            {"task": "extraction", "contains": None, "reply": {"triplets": []}},
        ]
    )
    assert ask(scripted_server, extraction_prompt()) == "RAW ANSWER"
    assert json.loads(ask(scripted_server, extraction_prompt("Nothing here."))) == {"triplets": []}
    assert json.loads(ask(scripted_server, FUSION_PROMPT)) == {"resolutions": [], "new_relations": []}
    with pytest.raises(ValueError, match="exactly one of 'reply' and 'raw'"):
        scripted_server.set_rules([{"task": None, "contains": None}])


def test_faults_are_consumed_in_order_one_per_request(scripted_server: ScriptedServer) -> None:
    scripted_server.add_faults(
        [{"status": 429, "retry_after": 1}, {"status": 500}, {"raw": "not json at all"}]
    )
    with pytest.raises(openai.RateLimitError) as rate_limited:
        ask(scripted_server, "hello")
    assert rate_limited.value.response.headers["retry-after"] == "1"
    with pytest.raises(openai.InternalServerError):
        ask(scripted_server, "hello")
    assert ask(scripted_server, "hello") == "not json at all"
    assert ask(scripted_server, "hello") == "{}"
    assert scripted_server.stats.total == 4


def test_fault_with_task_filter_waits_for_its_task(scripted_server: ScriptedServer) -> None:
    scripted_server.add_faults([{"task": "fusion", "status": 500}])
    assert ask(scripted_server, "hello") == "{}"
    with pytest.raises(openai.InternalServerError):
        ask(scripted_server, FUSION_PROMPT)
    assert json.loads(ask(scripted_server, FUSION_PROMPT)) == default_fusion(FUSION_PROMPT)


def test_drop_closes_the_connection_without_an_answer(scripted_server: ScriptedServer) -> None:
    scripted_server.add_faults([{"drop": True}])
    with pytest.raises(openai.APIConnectionError):
        ask(scripted_server, "hello")
    assert ask(scripted_server, "hello") == "{}"


def test_delay_makes_a_client_time_out(scripted_server: ScriptedServer) -> None:
    scripted_server.add_faults([{"delay": 1.0}])
    with pytest.raises(openai.APITimeoutError):
        client(scripted_server, timeout=0.2).chat.completions.create(
            model="scripted", messages=[{"role": "user", "content": "hello"}]
        )


def test_hang_accepts_and_never_answers_until_the_server_stops() -> None:
    with ScriptedServer() as server:
        server.add_faults([{"hang": True}])
        with pytest.raises(openai.APITimeoutError):
            client(server, timeout=0.3).chat.completions.create(
                model="scripted", messages=[{"role": "user", "content": "hello"}]
            )
        assert ask(server, "hello") == "{}"  # a fault hangs one request
        server.hang = True  # a stopped server: every request hangs
        with pytest.raises(openai.APITimeoutError):
            client(server, timeout=0.3).chat.completions.create(
                model="scripted", messages=[{"role": "user", "content": "hello"}]
            )
        assert server.stats.total == 3
    # stop() released the hanging handlers: nothing is left waiting.
    assert not any(t.name.startswith("scripted-llm") for t in threading.enumerate())


def test_max_tokens_cuts_the_answer_with_finish_reason_length(scripted_server: ScriptedServer) -> None:
    full = json.dumps(default_extraction(extraction_prompt()))
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": extraction_prompt()}]
    cut = client(scripted_server).chat.completions.create(model="scripted", messages=messages, max_tokens=10)
    assert (cut.choices[0].message.content, cut.choices[0].finish_reason) == (full[:40], "length")
    assert cut.usage is not None and cut.usage.completion_tokens == 10
    whole = client(scripted_server).chat.completions.create(
        model="scripted", messages=messages, max_tokens=1000
    )
    assert (whole.choices[0].message.content, whole.choices[0].finish_reason) == (full, "stop")
    assert [r.max_tokens for r in scripted_server.stats.requests] == [10, 1000]


def test_a_fault_can_say_finish_reason_length(scripted_server: ScriptedServer) -> None:
    scripted_server.add_faults([{"raw": '{"a": 1}', "finish_reason": "length"}])
    reply = client(scripted_server).chat.completions.create(
        model="scripted", messages=[{"role": "user", "content": "hello"}]
    )
    assert (reply.choices[0].message.content, reply.choices[0].finish_reason) == ('{"a": 1}', "length")


def test_a_cut_fault_sends_half_the_answer_and_says_stop(scripted_server: ScriptedServer) -> None:
    scripted_server.add_faults([{"cut": 0.5}])
    full = json.dumps(default_extraction(extraction_prompt()))
    reply = client(scripted_server).chat.completions.create(
        model="scripted", messages=[{"role": "user", "content": extraction_prompt()}]
    )
    assert (reply.choices[0].message.content, reply.choices[0].finish_reason) == (
        full[: len(full) // 2],
        "stop",
    )


def test_a_fault_mix_draws_its_shares_reproducibly_per_request_and_sending() -> None:
    mix = FaultMix.parse("429=0.1,500=0.1,cut=0.1", seed=7)
    drawn = [mix.draw(f"request {i}", 0) for i in range(10_000)]
    shares = Counter("none" if f is None else next(iter(f.values())) for f in drawn)
    expected_shares = {"none": 0.7, 429: 0.1, 500: 0.1, 0.5: 0.1}  # 0.5: the cut fault's {"cut": 0.5}
    assert set(shares) == set(expected_shares)
    assert all(abs(shares[k] / 10_000 - share) < 0.015 for k, share in expected_shares.items())
    assert [mix.draw(f"request {i}", 0) for i in range(100)] == drawn[:100]  # whatever the order
    assert [mix.draw("request 1", n) for n in range(20)] != [drawn[1]] * 20  # a retry draws afresh
    other_seed = FaultMix.parse("429=0.1,500=0.1,cut=0.1", seed=8)
    assert [other_seed.draw(f"request {i}", 0) for i in range(100)] != drawn[:100]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("429=0.5,500=0.6", "sum to at most 1"),
        ("boom=0.1", "unknown fault kind 'boom'"),
        ("429", "not KIND=RATE"),
    ],
)
def test_a_fault_mix_refuses_what_it_cannot_draw(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        FaultMix.parse(text)


def test_a_server_with_a_fault_mix_fails_that_share_of_requests() -> None:
    with ScriptedServer(fault_mix=FaultMix.parse("500=0.5", seed=1)) as server:
        statuses = []
        for i in range(200):
            try:
                ask(server, f"question {i}")
                statuses.append(200)
            except openai.InternalServerError:
                statuses.append(500)
        assert 0.4 < statuses.count(500) / 200 < 0.6
        assert [r.fault for r in server.stats.requests].count({"status": 500}) == statuses.count(500)


def test_json_schema_unsupported_answers_500_but_json_object_works() -> None:
    schema = {"type": "object", "properties": {"triplets": {"type": "array"}}}
    with ScriptedServer(json_schema_supported=False) as server:
        rf_schema = {"type": "json_schema", "json_schema": {"name": "ExtractionAnswer", "schema": schema}}
        with pytest.raises(
            openai.InternalServerError, match='must be one of "text" or "json_object", but got: json_schema'
        ):
            ask(server, extraction_prompt(), response_format=rf_schema)
        rf_object = {"type": "json_object", "schema": schema}
        assert json.loads(ask(server, extraction_prompt(), response_format=rf_object)) == default_extraction(
            extraction_prompt()
        )
        assert server.stats.response_formats == ["json_schema", "json_object"]
        assert server.stats.requests[1].response_format_body == rf_object


def test_concurrent_requests_are_served_concurrently() -> None:
    with ScriptedServer(latency=0.3) as server:
        shared = client(server)
        threads = [
            threading.Thread(
                target=lambda: shared.chat.completions.create(
                    model="scripted", messages=[{"role": "user", "content": "hi"}]
                )
            )
            for _ in range(6)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert server.stats.total == 6
        assert server.stats.max_in_flight == 6


def test_models_endpoint(scripted_server: ScriptedServer) -> None:
    assert [m.id for m in client(scripted_server).models.list()] == ["scripted"]


def test_cli_prints_its_base_url_and_serves_until_killed() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "kgc.testing.scripted_server", "--port", "0", "--latency", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        with urllib.request.urlopen(f"{base_url}/models", timeout=5) as response:
            models = json.load(response)
        assert models["data"][0]["id"] == "scripted"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize(
    ("faults", "error"),
    [
        ("boom=0.1", "unknown fault kind 'boom'"),
        ("429", "not KIND=RATE"),
        ("500=0.7,429=0.6", "sum to at most 1"),
    ],
)
def test_cli_refuses_a_bad_fault_mix_with_a_usage_error(faults: str, error: str) -> None:
    process = subprocess.run(
        [sys.executable, "-m", "kgc.testing.scripted_server", "--port", "0", "--faults", faults],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert process.returncode == 2
    assert "Traceback" not in process.stderr
    assert "error: argument --faults:" in process.stderr and error in process.stderr


def test_the_resolve_band_default_judges_every_pair_different() -> None:
    from kgc.testing.replies import default_resolve

    prompt = "# Task: resolve\n\n## Pairs (3)\n1. a | b\n2. c | d\n3. e | f\n"
    assert default_resolve(prompt) == {
        "answers": [{"pair": 1, "same": False}, {"pair": 2, "same": False}, {"pair": 3, "same": False}]
    }
