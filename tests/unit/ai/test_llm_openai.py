"""The OpenAI-compatible backend, against a real server and against a fake that misbehaves.

The real server is llama-cpp-python's own (``python -m llama_cpp.server``)
serving the embedded SmolLM2; it needs the ``llama-cpp-python[server]`` extras
(fastapi, uvicorn, sse-starlette, starlette-context, pydantic-settings).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ai.llm import LlmBackend, LlmError, LlmOptions
from ai.llm_openai import OpenAICompatBackend, chat_completions_url
from ai.models import ModelMissing, llm_model

QUESTION = [
    {"role": "user", "content": "What is the capital of France? Answer in one short sentence."}
]
LONG = [{"role": "user", "content": "Write a long story about a dragon who lives in a castle."}]
SHORT_OPTS = LlmOptions(temperature=0.0, max_tokens=8)
SERVER_EXTRAS = ("fastapi", "uvicorn", "sse_starlette", "starlette_context", "pydantic_settings")

TIMEOUT_S = 60.0


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    async def guarded() -> Any:
        async with asyncio.timeout(TIMEOUT_S):
            return await coro

    return asyncio.run(guarded())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def backend(url: str, **kwargs: Any) -> OpenAICompatBackend:
    llm = OpenAICompatBackend(url, "smollm2", **kwargs)
    llm.load()
    return llm


# -- a real server ----------------------------------------------------------------------


def wait_until_serving(proc: subprocess.Popen[bytes], url: str, deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/v1/models", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"llama_cpp.server not serving on {url} after {deadline_s} s")


@dataclass
class Server:
    url: str
    pid: int

    def cpu_s(self) -> float:
        """CPU time the server process (all its threads) has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def settles(self, within_s: float, window_s: float = 0.3, idle_cpu_s: float = 0.05) -> bool:
        """True once a ``window_s`` passes in which the server used (almost) no CPU."""
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            used = self.cpu_s()
            time.sleep(window_s)
            if self.cpu_s() - used < idle_cpu_s:
                return True
        return False


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    missing = [name for name in SERVER_EXTRAS if importlib.util.find_spec(name) is None]
    if missing:
        pytest.fail(
            "llama-cpp-python[server] extras not installed (make setup installs them): "
            + ", ".join(missing)
        )
    try:
        model = llm_model()
    except ModelMissing as exc:
        pytest.fail(f"embedded SmolLM2 not installed (make setup installs it): {exc}")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model)]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_serving(proc, url, deadline_s=60)
        yield Server(url, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def server_url(server: Server) -> str:
    return server.url


def test_url_forms() -> None:
    expected = "http://h:8080/v1/chat/completions"
    for base in ("http://h:8080", "http://h:8080/", "http://h:8080/v1", "http://h:8080/v1/"):
        assert chat_completions_url(base) == expected


def test_satisfies_the_backend_protocol() -> None:
    llm = OpenAICompatBackend("http://127.0.0.1:1", "m")
    assert isinstance(llm, LlmBackend)
    assert not llm.loaded
    llm.load()
    assert llm.loaded
    llm.close()
    assert not llm.loaded


def test_stream_before_load_is_an_error() -> None:
    llm = OpenAICompatBackend("http://127.0.0.1:1", "m")
    with pytest.raises(LlmError, match="not loaded"):
        run(llm.stream(QUESTION).text())


def test_streams_an_answer_from_a_real_server(server_url: str) -> None:
    llm = backend(server_url)

    async def main() -> list[str]:
        async with llm.stream(QUESTION) as stream:
            pieces = [piece async for piece in stream]
        assert stream.stats.finish_reason in ("stop", "length")
        assert stream.stats.pieces == len(pieces)
        assert stream.stats.first_token_s is not None
        return pieces

    pieces = run(main())
    assert len(pieces) >= 3
    assert "".join(pieces).strip()


def test_options_reach_the_real_server(server_url: str) -> None:
    llm = backend(server_url)
    stream = llm.stream(LONG, LlmOptions(temperature=0.0, max_tokens=5))
    run(stream.text())
    assert stream.stats.pieces <= 5
    assert stream.stats.finish_reason == "length"


def test_closing_early_stops_the_real_server_generating(server: Server) -> None:
    llm = backend(server.url)

    async def start_story() -> None:
        long = llm.stream(LONG, LlmOptions(temperature=0.0, max_tokens=1000))
        for _ in range(5):
            await anext(long)
        await long.aclose()

    run(start_story())
    # The whole story takes about 8 s of both cores here: had the server gone on writing
    # it after we hung up, it would not go idle this soon, however loaded the machine.
    assert server.settles(within_s=2.0)
    assert run(llm.stream(QUESTION, SHORT_OPTS).text())


def test_http_error_status_and_body(server_url: str) -> None:
    llm = backend(server_url)
    bad = [{"role": "robot", "content": "beep"}]
    with pytest.raises(LlmError, match=r"HTTP (4|5)\d\d: .*robot") as caught:
        run(llm.stream(bad).text())
    assert len(str(caught.value)) < 600  # a short body, not a whole traceback page


def test_wrong_path_is_an_http_error(server_url: str) -> None:
    llm = backend(server_url + "/nowhere")
    with pytest.raises(LlmError, match="HTTP 404"):
        run(llm.stream(QUESTION).text())


def test_connection_refused_is_a_clear_error() -> None:
    port = free_port()  # bound then closed: nothing listens there now
    llm = backend(f"http://127.0.0.1:{port}")
    with pytest.raises(LlmError, match=f"cannot connect to http://127.0.0.1:{port}/v1"):
        run(llm.stream(QUESTION).text())


# -- a fake server that misbehaves on purpose ---------------------------------------------

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, dict[str, Any]], Awaitable[None]]


class FakeServer:
    """A tiny HTTP/1.1 server on 127.0.0.1: reads one request, lets a handler answer."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[dict[str, Any]] = []
        self.disconnected = asyncio.Event()
        self.url = ""

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])
        }
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        request = {"line": lines[0], "headers": headers, "json": json.loads(body or b"null")}
        self.requests.append(request)
        try:
            await self.handler(reader, writer, request)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[FakeServer]:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        async with server:
            yield self


def sse_head(content_type: str = "text/event-stream", status: str = "200 OK") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nConnection: close\r\n\r\n".encode()
    )


def chunk(content: str | None = None, finish: str | None = None) -> bytes:
    delta = {} if content is None else {"content": content}
    event = {
        "object": "chat.completion.chunk",
        "choices": [{"delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(event)}\n\n".encode()


def replying(payload: bytes) -> Handler:
    async def handler(_r: asyncio.StreamReader, writer: asyncio.StreamWriter, _q: Any) -> None:
        writer.write(payload)
        await writer.drain()

    return handler


async def collect(handler: Handler, **kwargs: Any) -> tuple[str, FakeServer]:
    fake = FakeServer(handler)
    async with fake.running():
        text = await backend(fake.url, **kwargs).stream(QUESTION).text()
    return text, fake


def test_well_formed_stream_from_the_fake() -> None:
    payload = sse_head() + b": a comment line\n\n" + chunk() + chunk("Hel") + chunk("lo.")
    payload += chunk(finish="stop") + b"data: [DONE]\n\n"
    text, _ = run(collect(replying(payload)))
    assert text == "Hello."


def test_request_carries_model_options_and_key() -> None:
    payload = sse_head() + chunk("ok", finish="stop") + b"data: [DONE]\n\n"
    fake = FakeServer(replying(payload))
    opts = LlmOptions(max_tokens=33, temperature=0.1, top_p=0.5, repeat_penalty=1.3, stop=("\n",))

    async def main() -> None:
        async with fake.running():
            llm = backend(fake.url, api_key="sekrit")
            await llm.stream(QUESTION, opts).text()

    run(main())
    request = fake.requests[0]
    assert request["line"] == "POST /v1/chat/completions HTTP/1.1"
    assert request["headers"]["authorization"] == "Bearer sekrit"
    body = request["json"]
    assert body["model"] == "smollm2"
    assert body["messages"] == QUESTION
    assert body["stream"] is True
    assert (body["max_tokens"], body["temperature"], body["top_p"]) == (33, 0.1, 0.5)
    assert body["repeat_penalty"] == 1.3
    assert body["stop"] == ["\n"]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (sse_head() + b"data: {not json at all\n\n", "malformed event"),
        (sse_head() + b'data: {"foo": 1}\n\n', "no choices"),
        (sse_head() + b'data: {"choices": [{"nodelta": 1}]}\n\n', "no delta"),
        (sse_head() + b"data: [1, 2]\n\n", "malformed event"),
        (
            sse_head() + chunk("Hal") + b'data: {"error": {"message": "boom"}}\n\n',
            "server error: boom",
        ),
        (sse_head() + chunk("Half a repl"), "ended the stream mid-reply"),
        (sse_head("application/json") + b'{"choices": []}', "expected an event stream"),
        (b"GARBAGE GARBAGE GARBAGE\r\n\r\n", "RemoteProtocolError"),
        (
            sse_head("application/json", "401 Unauthorized") + b'{"error": {"message": "bad key"}}',
            "HTTP 401: bad key",
        ),
        (
            sse_head("text/html", "502 Bad Gateway") + b"<h1>upstream   down</h1>",
            "HTTP 502: <h1>upstream down",
        ),
    ],
)
def test_malformed_or_failing_server_is_a_clear_error(payload: bytes, message: str) -> None:
    with pytest.raises(LlmError, match=message):
        run(collect(replying(payload)))


def test_oversized_event_is_refused() -> None:
    payload = sse_head() + b"data: " + b"x" * 200_000 + b"\n\n"
    with pytest.raises(LlmError, match="SSEError"):
        run(collect(replying(payload)))


def test_stalled_server_times_out() -> None:
    async def stall(_r: asyncio.StreamReader, writer: asyncio.StreamWriter, _q: Any) -> None:
        writer.write(sse_head() + chunk("Hel"))
        await writer.drain()
        await asyncio.sleep(5)

    with pytest.raises(LlmError, match="no answer within"):
        run(collect(stall, timeout_s=0.3))


def test_closing_the_stream_closes_the_connection() -> None:
    fake: FakeServer

    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _q: Any) -> None:
        writer.write(sse_head())
        try:
            while True:
                writer.write(chunk("la "))
                await writer.drain()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.01):
                        if await reader.read(1) == b"":
                            break  # the client hung up
        except ConnectionError:
            pass
        fake.disconnected.set()

    fake = FakeServer(endless)

    async def main() -> float:
        async with fake.running():
            stream = backend(fake.url).stream(QUESTION)
            assert await anext(stream) == "la "
            closed_at = time.monotonic()
            await stream.aclose()
            async with asyncio.timeout(2):
                await fake.disconnected.wait()
            return time.monotonic() - closed_at

    assert run(main()) < 0.5


def test_cancelling_the_consumer_closes_the_connection() -> None:
    fake: FakeServer

    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _q: Any) -> None:
        writer.write(sse_head() + chunk("la "))
        await writer.drain()
        await reader.read(1)  # returns b"" when the client hangs up
        fake.disconnected.set()

    fake = FakeServer(endless)

    async def main() -> None:
        async with fake.running():
            got_one = asyncio.Event()

            async def consume() -> None:
                async for _ in backend(fake.url).stream(QUESTION):
                    got_one.set()

            task = asyncio.create_task(consume())
            await got_one.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            async with asyncio.timeout(2):
                await fake.disconnected.wait()

    run(main())
