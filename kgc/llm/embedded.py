"""The offline backend: a GGUF model run in-process by llama.cpp, its output constrained by a grammar.

The JSON Schema of the expected answer is compiled into a GBNF grammar, so the model can only emit
schema-shaped JSON (enums included). llama.cpp contexts are not thread-safe, so every call holds one
lock; the client's thread pool therefore gains nothing here but loses nothing either.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from kgc.assets import GGUF_MODEL, ensure_assembled, verify_gguf
from kgc.config import LLMConfig
from kgc.errors import LLMError, ModelAssetError
from kgc.llm.base import Message, RawReply, RequestTooLargeError, Usage

if TYPE_CHECKING:
    from llama_cpp import Llama, LlamaGrammar

log = logging.getLogger(__name__)

# Chat-template tokens around each message (ChatML: "<|im_start|>role\n ... <|im_end|>\n" is 5) and
# a default system prompt some templates add: the estimate errs high by a few dozen tokens, never low.
_TOKENS_PER_MESSAGE = 8
_TEMPLATE_TOKENS = 48
# llama-cpp-python's server default. Greedy decoding of a 1.5B model under a grammar sometimes loops,
# repeating triplets until max_tokens cuts the JSON; the mild penalty makes that rarer.
_REPEAT_PENALTY = 1.1


def available_threads() -> int:
    """Cores this process may run on (the affinity mask in containers), not the host's count."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class EmbeddedBackend:
    """`ChatBackend` over llama-cpp-python. The model is loaded on the first call (or `load()`)."""

    def __init__(self, cfg: LLMConfig, *, n_threads: int | None = None) -> None:
        """`n_threads` defaults to every available core: fastest on an otherwise idle machine, but
        llama.cpp's spinning threads slow down several-fold when other processes compete for them."""
        self.model = cfg.model
        self._cfg = cfg
        self.n_threads = n_threads or available_threads()
        self._lock = threading.Lock()
        self._llama: Llama | None = None
        self._grammars: dict[str, LlamaGrammar] = {}

    def load(self) -> None:
        """Assemble/verify the model file and load it; idempotent. `chat` calls it when needed."""
        with self._lock:
            self._loaded()

    def close(self) -> None:
        """Free the model's memory; a later call loads it again."""
        with self._lock:
            if self._llama is not None:
                self._llama.close()
                self._llama = None

    def chat(
        self,
        messages: list[Message],
        *,
        json_schema: dict[str, Any] | None,
        temperature: float,
        max_tokens: int,
    ) -> RawReply:
        with self._lock:
            llama = self._loaded()
            max_tokens = self._answer_budget(llama, messages, max_tokens)
            grammar = self._grammar(json_schema) if json_schema is not None else None
            try:
                response = llama.create_chat_completion(
                    messages=cast(Any, messages),
                    grammar=grammar,
                    temperature=temperature,
                    max_tokens=max_tokens,
                    repeat_penalty=_REPEAT_PENALTY,
                    seed=0,
                )
            except (ValueError, RuntimeError) as e:  # llama.cpp's own refusals (context, decode failure)
                raise LLMError(f"the embedded model failed on this request: {e}") from e
        reply = cast(dict[str, Any], response)
        usage = reply.get("usage") or {}
        choice = reply["choices"][0]
        return RawReply(
            text=choice["message"].get("content") or "",
            usage=Usage(
                prompt_tokens=int(usage.get("prompt_tokens", 0)),
                completion_tokens=int(usage.get("completion_tokens", 0)),
            ),
            finish_reason=choice.get("finish_reason"),  # "length" when max_tokens cut the answer
        )

    def cache_identity(self) -> str:
        """Which weights answered and how they were decoded; cheap (no hashing, no model load)."""
        path = self._cfg.embedded.model_path
        if path is None:
            weights = f"{GGUF_MODEL.name}:sha256={GGUF_MODEL.sha256[:16]}"
        else:
            try:
                weights = f"{path.name}:size={path.stat().st_size}"
            except OSError:
                weights = f"{path.name}:missing"
        return f"embedded:{weights}:grammar:repeat_penalty={_REPEAT_PENALTY}"

    def _loaded(self) -> Llama:
        """The model, loading it first if needed; the caller holds the lock."""
        if self._llama is None:
            self._llama = _load_llama(
                self._model_file(), n_ctx=self._cfg.embedded.n_ctx, threads=self.n_threads
            )
        return self._llama

    def _model_file(self) -> Path:
        if self._cfg.embedded.model_path is None:
            return ensure_assembled(GGUF_MODEL)
        verify_gguf(self._cfg.embedded.model_path)
        return self._cfg.embedded.model_path

    def _answer_budget(self, llama: Llama, messages: list[Message], max_tokens: int) -> int:
        """The answer tokens this request may use: `max_tokens`, or what the context leaves when a
        larger budget than configured was asked for (the re-ask of an answer cut off at max_tokens).

        Refuses, like OpenAI's API does, a request whose prompt plus configured answer budget cannot
        fit the context: llama.cpp would otherwise cut the answer short, and a cut answer is invalid."""
        prompt_tokens = _TEMPLATE_TOKENS + sum(
            _TOKENS_PER_MESSAGE + len(llama.tokenize(m["content"].encode("utf-8"), add_bos=False))
            for m in messages
        )
        n_ctx = llama.n_ctx()
        needed = min(max_tokens, self._cfg.max_output_tokens)
        if prompt_tokens + needed > n_ctx:  # this item fails (recorded), not the run
            raise RequestTooLargeError(
                f"prompt of about {prompt_tokens} tokens plus {needed} answer tokens exceeds the "
                f"embedded model's context of {n_ctx}; raise llm.embedded.n_ctx or lower extraction.max_chars"
            )
        return min(max_tokens, n_ctx - prompt_tokens)

    def _grammar(self, json_schema: dict[str, Any]) -> LlamaGrammar:
        """The schema's grammar, compiled once per distinct schema."""
        key = json.dumps(json_schema, sort_keys=True)
        grammar = self._grammars.get(key)
        if grammar is None:
            from llama_cpp import LlamaGrammar

            try:  # unsorted: the grammar emits properties in the schema's order (head before tail)
                grammar = LlamaGrammar.from_json_schema(json.dumps(json_schema), verbose=False)
            except Exception as e:  # the converter raises bare Exceptions for unsupported keywords
                raise LLMError(f"cannot compile the answer's JSON schema into a grammar: {e}") from e
            self._grammars[key] = grammar
        return grammar


def _load_llama(path: Path, n_ctx: int, threads: int) -> Llama:
    try:
        from llama_cpp import Llama
    except ImportError as e:
        raise ModelAssetError(
            f"the embedded backend needs llama-cpp-python ({e}); install it with: {GGUF_MODEL.install_hint}"
        ) from e
    log.info("loading %s (n_ctx=%d, %d threads)", path, n_ctx, threads)
    try:
        return Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_threads=threads,
            n_threads_batch=threads,
            verbose=False,
        )
    except ValueError as e:  # llama.cpp could not parse the file
        raise ModelAssetError(f"llama.cpp cannot load {path}: {e}") from e
