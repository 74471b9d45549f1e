"""The bridge's HTTP server (127.0.0.1:8080 by default): health, status, the browser page.

It is a ``websockets`` server whose ``process_request`` hook answers plain
HTTP requests, so that the WebRTC signalling WebSocket (``/ws``, the browser
door) shares the same port, server and TLS context without a second HTTP
stack.

Routes: ``/healthz`` and ``/status`` (JSON, always open: operators and
tests poll them); ``/`` (the page, its settings inlined) and ``/static/NAME``
(its script and style, from the package's ``static`` folder); ``/ws`` (the
signalling WebSocket). With an access token set, ``/`` and ``/ws`` need
``?token=...`` and answer 401 otherwise.
"""

from __future__ import annotations

import hmac
import json
import logging
import ssl
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

log = logging.getLogger(__name__)

HealthCheck = Callable[[], Awaitable[dict[str, bool]]]
Status = Callable[[], dict[str, object]]
WebSocketHandler = Callable[[ServerConnection], Awaitable[None]]

WS_PATH = "/ws"
STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}
CONFIG_MARKER = "/*VOICEBOT_CONFIG*/null"  # replaced in index.html by the page's settings
MAX_WS_MESSAGE = 64 * 1024  # signalling messages only: an SDP offer is a few kB


def load_static() -> dict[str, bytes]:
    """The page's files, by name, read once from the package (``bridge/web/static``)."""
    folder = resources.files("bridge.web") / "static"
    files: dict[str, bytes] = {}
    for entry in folder.iterdir():
        suffix = "." + entry.name.rpartition(".")[2]
        if entry.is_file() and suffix in STATIC_TYPES:
            files[entry.name] = entry.read_bytes()
    return files


def render_page(template: bytes, config: dict[str, Any]) -> bytes:
    """``index.html`` with ``config`` inlined as a JSON literal (safe inside <script>)."""
    literal = json.dumps(config, sort_keys=True).replace("<", "\\u003c")
    return template.replace(CONFIG_MARKER.encode(), literal.encode())


class HttpServer:
    def __init__(
        self,
        host: str,
        port: int,
        health: HealthCheck,
        status: Status,
        *,
        websocket: WebSocketHandler | None = None,
        page_config: dict[str, Any] | None = None,
        access_token: str = "",
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.health = health
        self.status = status
        self.websocket = websocket
        self.access_token = access_token
        self.ssl_context = ssl_context
        self._static = load_static()
        self._page = render_page(self._static.get("index.html", b""), page_config or {})
        self._server: Server | None = None

    @property
    def scheme(self) -> str:
        return "https" if self.ssl_context is not None else "http"

    async def start(self) -> None:
        self._server = await serve(
            self._ws_handler,
            self.host,
            self.port,
            process_request=self._process_request,
            ssl=self.ssl_context,
            max_size=MAX_WS_MESSAGE,
        )
        log.info(
            "http: listening on %s://%s:%d (/, /ws, /healthz, /status)",
            self.scheme,
            self.host,
            self.bound_port,
        )

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
        if self.websocket is None:
            await connection.close(1008, "no WebSocket endpoint here")
            return
        await self.websocket(connection)

    def _authorized(self, query: str) -> bool:
        if not self.access_token:
            return True
        given = parse_qs(query).get("token", [""])[0]
        return hmac.compare_digest(given.encode(), self.access_token.encode())

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        url = urlsplit(request.path)
        path = url.path
        if path == "/healthz":
            checks = await self.health()
            ok = all(checks.values())
            body = json.dumps({"ok": ok, "checks": checks}, sort_keys=True) + "\n"
            status = HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE
            return _response(status, body.encode(), "application/json")
        if path == "/status":
            body = json.dumps(self.status(), sort_keys=True) + "\n"
            return _response(HTTPStatus.OK, body.encode(), "application/json")
        if path in ("/", WS_PATH) and not self._authorized(url.query):
            return _text(HTTPStatus.UNAUTHORIZED, "access token missing or wrong: add ?token=...\n")
        if path == "/favicon.ico":
            return _response(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
        if path == "/" and self._static.get("index.html"):
            return _response(HTTPStatus.OK, self._page, "text/html")
        if path.startswith("/static/"):
            name = path.removeprefix("/static/")
            data = self._static.get(name)
            if data is not None and "/" not in name:
                suffix = "." + name.rpartition(".")[2]
                return _response(HTTPStatus.OK, data, STATIC_TYPES[suffix])
        if path == WS_PATH and self.websocket is not None:
            if request.headers.get("Upgrade", "").lower() == "websocket":
                return None
            return _text(HTTPStatus.BAD_REQUEST, "/ws is the signalling WebSocket\n")
        return _text(HTTPStatus.NOT_FOUND, "not found\n")


def _text(status: HTTPStatus, body: str) -> Response:
    return _response(status, body.encode(), "text/plain")


def _response(status: HTTPStatus, data: bytes, content_type: str) -> Response:
    headers = Headers(
        [
            ("Content-Type", f"{content_type}; charset=utf-8"),
            ("Content-Length", str(len(data))),
            ("Cache-Control", "no-store"),
            ("Connection", "close"),
        ]
    )
    return Response(status.value, status.phrase, headers, data)
