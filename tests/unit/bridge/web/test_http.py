"""The HTTP server on a loopback port: /healthz, /status, the page, /ws and its token."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import InvalidStatus

from bridge.web.http import HttpServer, render_page
from tests.unit.bridge.asyncio_run import run


class FakeStack:
    """What the real stack hands the HTTP server: an async health check and a status."""

    def __init__(self) -> None:
        self.checks = {"ami": True, "asterisk": True, "bridge": True}
        self.health_calls = 0

    async def health(self) -> dict[str, bool]:
        self.health_calls += 1
        return dict(self.checks)

    def status(self) -> dict[str, object]:
        return {"calls": [{"uuid": "c1", "seconds": 1.5}], "calls_total": 3}


async def echo(ws: ServerConnection) -> None:
    async for message in ws:
        await ws.send(message)


@contextlib.asynccontextmanager
async def serving(stack: FakeStack, **options: object) -> AsyncIterator[HttpServer]:
    server = HttpServer("127.0.0.1", 0, stack.health, stack.status, **options)  # type: ignore[arg-type]
    await server.start()
    try:
        yield server
    finally:
        await server.close()


async def get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    """One raw HTTP/1.1 GET; the server closes the connection after its answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    response = await reader.read()
    writer.close()
    await writer.wait_closed()
    head, _, body = response.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    version, status, _ = status_line.split(" ", 2)
    assert version == "HTTP/1.1"
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    assert int(headers["content-length"]) == len(body)
    return int(status), headers, body


def test_healthz_is_200_when_every_check_passes() -> None:
    stack = FakeStack()

    async def main() -> None:
        async with serving(stack) as server:
            status, headers, body = await get(server.bound_port, "/healthz")
        assert status == 200
        assert headers["content-type"] == "application/json; charset=utf-8"
        assert headers["cache-control"] == "no-store"
        assert json.loads(body) == {
            "ok": True,
            "checks": {"ami": True, "asterisk": True, "bridge": True},
        }

    run(main())


def test_healthz_is_503_when_one_check_fails() -> None:
    stack = FakeStack()
    stack.checks["ami"] = False

    async def main() -> None:
        async with serving(stack) as server:
            status, headers, body = await get(server.bound_port, "/healthz")
        assert status == 503
        assert headers["content-type"] == "application/json; charset=utf-8"
        answer = json.loads(body)
        assert answer["ok"] is False
        assert answer["checks"] == {"ami": False, "asterisk": True, "bridge": True}

    run(main())


def test_healthz_checks_again_on_every_request() -> None:
    stack = FakeStack()

    async def main() -> None:
        async with serving(stack) as server:
            port = server.bound_port
            assert (await get(port, "/healthz"))[0] == 200
            stack.checks["bridge"] = False
            assert (await get(port, "/healthz?probe=1"))[0] == 503  # the query is ignored
            stack.checks["bridge"] = True
            assert (await get(port, "/healthz"))[0] == 200
        assert stack.health_calls == 3

    run(main())


def test_status_is_the_status_json() -> None:
    stack = FakeStack()

    async def main() -> None:
        async with serving(stack) as server:
            status, headers, body = await get(server.bound_port, "/status")
        assert status == 200
        assert headers["content-type"] == "application/json; charset=utf-8"
        assert json.loads(body) == stack.status()
        assert stack.health_calls == 0

    run(main())


@pytest.mark.parametrize(
    "path",
    ["/health", "/healthz/x", "/statusz", "/index.html", "/static/", "/static/nope.js", "/ws"],
)
def test_unknown_path_is_404(path: str) -> None:
    async def main() -> None:
        async with serving(FakeStack()) as server:
            status, headers, body = await get(server.bound_port, path)
        assert status == 404
        assert headers["content-type"] == "text/plain; charset=utf-8"
        assert body == b"not found\n"

    run(main())


def test_websocket_without_a_handler_is_refused() -> None:
    async def main() -> None:
        async with serving(FakeStack()) as server:
            with pytest.raises(InvalidStatus) as raised:
                async with connect(f"ws://127.0.0.1:{server.bound_port}/ws"):
                    pass
        assert raised.value.response.status_code == 404

    run(main())


def test_websocket_on_ws_reaches_the_handler_and_nowhere_else() -> None:
    async def main() -> None:
        async with serving(FakeStack(), websocket=echo) as server:
            port = server.bound_port
            async with connect(f"ws://127.0.0.1:{port}/ws") as ws:
                await ws.send("ping")
                assert await ws.recv() == "ping"
            with pytest.raises(InvalidStatus):
                async with connect(f"ws://127.0.0.1:{port}/elsewhere"):
                    pass
            status, _, body = await get(port, "/ws")  # plain GET: not a WebSocket
            assert status == 400 and b"WebSocket" in body

    run(main())


def test_page_is_served_with_its_settings_and_assets() -> None:
    config = {"iceServers": [{"urls": "stun:x.example:3478"}], "wsPath": "/ws"}

    async def main() -> None:
        async with serving(FakeStack(), page_config=config) as server:
            port = server.bound_port
            status, headers, body = await get(port, "/")
            assert status == 200
            assert headers["content-type"] == "text/html; charset=utf-8"
            page = body.decode()
            assert "Start call" in page and "Hang up" in page
            assert json.dumps(config, sort_keys=True) in page
            assert "http://" not in page and "https://" not in page  # nothing external
            status, headers, body = await get(port, "/static/app.js")
            assert status == 200
            assert headers["content-type"] == "text/javascript; charset=utf-8"
            assert b"window.voicebot" in body and b"inboundAudioBytes" in body
            status, headers, _ = await get(port, "/static/style.css")
            assert status == 200 and headers["content-type"].startswith("text/css")
            assert (await get(port, "/favicon.ico"))[0] == 204

    run(main())


def test_page_settings_cannot_close_the_script() -> None:
    page = render_page(b"<script>x = /*VOICEBOT_CONFIG*/null;</script>", {"a": "</script>"})
    assert page.count(b"</script>") == 1


def test_access_token_guards_the_page_and_the_websocket() -> None:
    async def main() -> None:
        async with serving(FakeStack(), websocket=echo, access_token="s3cret") as server:
            port = server.bound_port
            for path in ("/", "/?token=wrong", "/?token="):
                status, _, body = await get(port, path)
                assert status == 401, path
                assert b"token" in body
            assert (await get(port, "/?token=s3cret"))[0] == 200
            with pytest.raises(InvalidStatus) as raised:
                async with connect(f"ws://127.0.0.1:{port}/ws"):
                    pass
            assert raised.value.response.status_code == 401
            async with connect(f"ws://127.0.0.1:{port}/ws?token=s3cret") as ws:
                await ws.send("hi")
                assert await ws.recv() == "hi"
            # Health and status stay open to operators and probes.
            assert (await get(port, "/healthz"))[0] == 200
            assert (await get(port, "/status"))[0] == 200

    run(main())


def test_bound_port_and_close() -> None:
    async def main() -> None:
        server = HttpServer("127.0.0.1", 0, FakeStack().health, FakeStack().status)
        with pytest.raises(RuntimeError):
            _ = server.bound_port
        await server.start()
        port = server.bound_port
        assert 0 < port < 65536
        await server.close()
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", port)

    run(main())
