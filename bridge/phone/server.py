"""The AudioSocket server: one ``Call`` per TCP connection from Asterisk.

A connection that misbehaves (malformed frame, oversized length, no call id)
ends alone, with one log line; every other call goes on. ``close()`` hangs
up every call in progress and waits for their tasks, so nothing outlives the
server.

Theory of operation. The server's state is the listening ``asyncio.Server``
and two sets that move together: ``calls`` (the ``Call`` of each connection
in progress) and the connection tasks that serve them. A connection adds its
call and its task on arrival and removes both in a ``finally`` when
``Call.run()`` returns, however it ends; ``calls_total`` only grows.
``close()`` stops accepting first, then hangs up what is left in ``calls``,
waits up to ``grace_s`` for the tasks and cancels the stragglers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket

from bridge.phone.call import AppHandler, Call, CallOptions

log = logging.getLogger(__name__)


class AudioSocketServer:
    def __init__(
        self, host: str, port: int, app: AppHandler, options: CallOptions | None = None
    ) -> None:
        self.host, self.port = host, port
        self.app = app
        self.options = options or CallOptions()
        self.calls: set[Call] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.calls_total = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._on_connection, self.host, self.port, reuse_address=True
        )
        log.info("bridge: AudioSocket server listening on %s:%d", self.host, self.port)

    @property
    def bound_port(self) -> int:
        """The port actually listened on: the kernel's choice when started with port 0."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the AudioSocket server is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def serving(self) -> bool:
        return self._server is not None and self._server.is_serving()

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            # 20 ms frames must leave now, not when Nagle decides.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        call = Call(reader, writer, self.options)
        self.calls.add(call)
        self.calls_total += 1
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await call.run(self.app)
        except Exception:
            log.exception("call %s: failed", call.name)
        finally:
            self.calls.discard(call)
            if task is not None:
                self._tasks.discard(task)

    async def close(self, grace_s: float = 5.0) -> None:
        """Stop accepting, hang up every call in progress, and wait for them to finish."""
        if self._server is not None:
            self._server.close()
        for call in list(self.calls):
            with contextlib.suppress(Exception):
                await call.hangup("bridge shutting down")
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=grace_s)
            for task in pending:
                task.cancel()
        if self._server is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(grace_s):
                    await self._server.wait_closed()
        log.info("bridge: AudioSocket server closed")
