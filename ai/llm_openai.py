"""A language model behind any OpenAI-compatible HTTP server (llama.cpp, vLLM, Ollama).

The reply streams as server-sent events from ``POST /v1/chat/completions``
with ``"stream": true``: ``data: {json chunk}`` events, then ``data: [DONE]``.
HTTP is httpx2 (the maintained continuation of httpx, already installed with
faster-whisper's huggingface-hub): its ``EventSource`` parses the event framing
and bounds the size of one event; this module only reads the chunks.

Each reply gets its own client and connection. After a barge-in the connection
cannot be reused anyway (the response was not read to its end), closing it is
how the server learns to stop generating, and nothing is bound to an event
loop between calls. The TLS context, the only costly part of a client, is
built once.
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import AsyncGenerator
from typing import Any

import httpx2

from ai.llm import LlmError, LlmOptions, LlmStats, LlmStream, Messages

MAX_EVENT_BYTES = 64 * 1024  # one chunk is a few hundred bytes; a bigger event is not a chunk
ERROR_BODY_CHARS = 300


def chat_completions_url(base_url: str) -> str:
    """``http://host:8080``, ``http://host:8080/`` and ``http://host:8080/v1`` all work."""
    base = base_url.rstrip("/")
    if not base.endswith("/v1"):
        base += "/v1"
    return base + "/chat/completions"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= ERROR_BODY_CHARS else text[:ERROR_BODY_CHARS] + "…"


def _error_detail(body: bytes) -> str:
    """The server's own error message when it sent the usual ``{"error": {...}}``, else the body."""
    text = body.decode("utf-8", errors="replace")
    try:
        error = json.loads(text)["error"]
        message = error["message"] if isinstance(error, dict) else error
        return _short(str(message))
    except (ValueError, KeyError, TypeError):
        return _short(text)


class OpenAICompatBackend:
    """Streams chat completions from an OpenAI-compatible server.

    ``timeout_s`` bounds connecting, and every wait for more of the reply: a
    server that stalls mid-reply fails the turn rather than holding the call.
    ``repeat_penalty`` is sent under llama.cpp's name; servers that do not know
    it ignore it.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 30,
        options: LlmOptions | None = None,
    ) -> None:
        self.base_url = base_url
        self.url = chat_completions_url(base_url)
        self.model = model
        self.options = options or LlmOptions()
        self.name = f"openai:{model}@{base_url}"
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = httpx2.Timeout(timeout_s)
        self._ssl: ssl.SSLContext | None = None

    @property
    def loaded(self) -> bool:
        return self._ssl is not None

    def load(self) -> None:
        """Build the TLS context (about 20 ms). The server is not contacted: it may start later."""
        if self._ssl is None:
            self._ssl = httpx2.create_ssl_context()

    def close(self) -> None:
        """Nothing is held between replies; a stream still running ends when it is closed."""
        self._ssl = None

    def stream(self, messages: Messages, options: LlmOptions | None = None) -> LlmStream:
        """Stream a reply; ``options`` overrides the backend's sampling for this request."""
        stats = LlmStats(started=time.monotonic())
        return LlmStream(self._pieces(list(messages), options or self.options, stats), stats)

    def _body(self, messages: Messages, opts: LlmOptions) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "stream": True,
            "max_tokens": opts.max_tokens,
            "temperature": opts.temperature,
            "top_p": opts.top_p,
            "repeat_penalty": opts.repeat_penalty,
        }
        if opts.stop:
            body["stop"] = list(opts.stop)
        return body

    async def _pieces(
        self, messages: Messages, opts: LlmOptions, stats: LlmStats
    ) -> AsyncGenerator[str, None]:
        if self._ssl is None:
            raise LlmError(f"{self.name}: not loaded (call load() first)")
        stats.wait_s = 0.0
        try:
            async with (
                httpx2.AsyncClient(verify=self._ssl, timeout=self._timeout) as client,
                client.stream(
                    "POST",
                    self.url,
                    json=self._body(messages, opts),
                    headers={"Accept": "text/event-stream", **self._headers},
                ) as response,
            ):
                if response.status_code >= 400:
                    detail = _error_detail(await response.aread())
                    raise LlmError(f"{self.name}: HTTP {response.status_code}: {detail}")
                content_type = response.headers.get("content-type", "")
                if not content_type.startswith("text/event-stream"):
                    detail = _short((await response.aread()).decode("utf-8", errors="replace"))
                    raise LlmError(
                        f"{self.name}: expected an event stream, got {content_type!r}: {detail}"
                    )
                events = httpx2.EventSource(response, max_event_size=MAX_EVENT_BYTES)
                async for event in events:
                    if event.data == "[DONE]":
                        break
                    piece, finish = self._read_chunk(event.data)
                    if finish:
                        stats.finish_reason = finish
                    if piece:
                        now = time.monotonic() - stats.started
                        if stats.first_token_s is None:
                            stats.first_token_s = now
                        stats.pieces += 1
                        stats.chars += len(piece)
                        stats.total_s = now
                        yield piece
                else:
                    if stats.finish_reason is None:
                        raise LlmError(f"{self.name}: the server ended the stream mid-reply")
        except httpx2.ConnectError as exc:
            raise LlmError(f"{self.name}: cannot connect to {self.url}: {exc}") from exc
        except httpx2.TimeoutException as exc:
            raise LlmError(f"{self.name}: no answer within {self._timeout.read} s") from exc
        except httpx2.HTTPError as exc:
            raise LlmError(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        stats.total_s = time.monotonic() - stats.started

    def _read_chunk(self, data: str) -> tuple[str, str | None]:
        """The text and finish reason in one ``chat.completion.chunk``."""
        try:
            chunk = json.loads(data)
        except ValueError as exc:
            raise LlmError(f"{self.name}: malformed event (not JSON): {_short(data)}") from exc
        if not isinstance(chunk, dict):
            raise LlmError(f"{self.name}: malformed event: {_short(data)}")
        if "error" in chunk:
            raise LlmError(f"{self.name}: server error: {_error_detail(data.encode())}")
        choices = chunk.get("choices")
        if not isinstance(choices, list):
            raise LlmError(f"{self.name}: malformed event (no choices): {_short(data)}")
        if not choices:
            return "", None  # e.g. a final usage-only chunk
        choice = choices[0]
        delta = choice.get("delta") if isinstance(choice, dict) else None
        if not isinstance(delta, dict):
            raise LlmError(f"{self.name}: malformed event (no delta): {_short(data)}")
        piece = delta.get("content") or ""
        if not isinstance(piece, str):
            raise LlmError(f"{self.name}: malformed event (content): {_short(data)}")
        return piece, choice.get("finish_reason")
