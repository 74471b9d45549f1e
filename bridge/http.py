"""The bridge's HTTP server (127.0.0.1:8080 by default): ``/healthz``, ``/status``; later the page.

It is a ``websockets`` server whose ``process_request`` hook answers plain
HTTP requests, so that the WebRTC signalling WebSocket (browser door) shares
the same port and server without a second HTTP stack.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

log = logging.getLogger(__name__)

HealthCheck = Callable[[], Awaitable[dict[str, bool]]]
Status = Callable[[], dict[str, object]]


class HttpServer:
    def __init__(self, host: str, port: int, health: HealthCheck, status: Status) -> None:
        self.host, self.port = host, port
        self.health = health
        self.status = status
        self._server: Server | None = None

    async def start(self) -> None:
        self._server = await serve(
            self._ws_handler, self.host, self.port, process_request=self._process_request
        )
        log.info("http: listening on http://%s:%d (/healthz)", self.host, self.port)

    @property
    def bound_port(self) -> int:
        """The port actually listened on: the kernel's choice when started with port 0."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the HTTP server is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _ws_handler(self, connection: ServerConnection) -> None:
        await connection.close(1008, "no WebSocket endpoint here yet")

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path == "/healthz":
            checks = await self.health()
            ok = all(checks.values())
            body = json.dumps({"ok": ok, "checks": checks}, sort_keys=True) + "\n"
            status = HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE
            return _response(status, body, "application/json")
        if path == "/status":
            body = json.dumps(self.status(), sort_keys=True) + "\n"
            return _response(HTTPStatus.OK, body, "application/json")
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return None
        return _response(HTTPStatus.NOT_FOUND, "not found\n", "text/plain")


def _response(status: HTTPStatus, body: str, content_type: str) -> Response:
    data = body.encode()
    headers = Headers(
        [
            ("Content-Type", f"{content_type}; charset=utf-8"),
            ("Content-Length", str(len(data))),
            ("Cache-Control", "no-store"),
            ("Connection", "close"),
        ]
    )
    return Response(status.value, status.phrase, headers, data)
