"""The browser door: one WebRTC peer per ``/ws`` WebSocket, each running the app (the brain).

Theory of operation. ``BrowserDoor.handle`` is the WebSocket handler of the
bridge's HTTP server (path ``/ws``). It reserves a slot (at most
``max_sessions`` at once: a full door answers with a clear error and closes
with 1013 "try again later"), then a ``BrowserSession`` runs:

1. wait for the browser's offer (non-trickle: its ICE candidates are in it);
2. create an ``RTCPeerConnection`` with the configured STUN/TURN servers,
   add the channel's outbound track, answer (aiortc gathers our candidates
   before ``setLocalDescription`` returns), send the answer;
3. run three tasks it owns: the app (``Session(brain, channel, listener, info)``,
   the agent the page named: ``/?agent=NAME`` opens ``/ws?agent=NAME``),
   the WebSocket reader (``hangup``, or the socket closing, ends the session)
   and the writer (session events to the page, from a bounded queue), plus the
   reader of the browser's audio track once it arrives;
4. when the channel ends, for whatever reason, cancel those tasks, close the
   peer connection and the WebSocket. Nothing outlives the handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from ai.agent import CallInfo
from bridge.agents_config import AGENT_NAME
from bridge.web.browser_channel import BrowserChannel
from bridge.web.ice import keep_loopback_candidates, rtc_configuration
from bridge.web.signalling import Hangup, Offer, SignalError, encode, error, parse_message

log = logging.getLogger(__name__)

Listener = Callable[[dict[str, Any]], None]
BrowserApp = Callable[[BrowserChannel, Listener, CallInfo], Awaitable[None]]

# WebSocket close codes (RFC 6455).
CLOSE_NORMAL = 1000
CLOSE_INVALID = 1007
CLOSE_POLICY = 1008
CLOSE_TRY_AGAIN = 1013


@dataclass(frozen=True)
class DoorOptions:
    max_sessions: int = 8
    ice_urls: tuple[str, ...] = ()
    ice_username: str = ""
    ice_credential: str = ""
    offer_timeout_s: float = 30.0
    events_max: int = 64  # session events waiting for a slow page; oldest dropped
    close_timeout_s: float = 5.0
    # Our ICE host address; when it is loopback, the browser's other candidates are ignored.
    candidate_host: str = ""


def page_call_info(path: str, session: str) -> CallInfo:
    """What the page's WebSocket URL says of the call: the agent of ``?agent=NAME`` (the
    page passes on its own query). A name that cannot be an agent's is logged and the
    default agent answers, as for an unknown name (the brain logs those)."""
    agent = parse_qs(urlsplit(path).query).get("agent", [""])[0]
    if agent and not AGENT_NAME.fullmatch(agent):
        log.warning(
            "browser %s: %r is not an agent name: the default agent answers", session, agent
        )
        agent = ""
    return CallInfo(agent=agent)


class BrowserSession:
    """One browser, from its WebSocket opening to the end of its call."""

    def __init__(self, ws: ServerConnection, name: str, app: BrowserApp, options: DoorOptions):
        self.ws = ws
        self.name = name
        self.app = app
        self.options = options
        self.info = page_call_info(ws.request.path if ws.request else "", name)
        self.channel: BrowserChannel | None = None
        self.pc: RTCPeerConnection | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._outbox: deque[str] = deque(maxlen=options.events_max)
        self._outbox_ready = asyncio.Event()
        self.events_dropped = 0

    async def run(self) -> None:
        try:
            offer = await self._await_offer()
            if offer is None:
                return
            channel = await self._answer(offer)
            self._spawn(self._app(channel), "app")
            self._spawn(self._read_ws(channel), "ws-reader")
            self._spawn(self._write_ws(), "ws-writer")
            await channel.wait_ended()
            log.info("browser %s: %s", self.name, channel.summary())
        finally:
            await self._shutdown()

    def stop(self, reason: str) -> None:
        """End the session from outside (the bridge shutting down)."""
        if self.channel is not None:
            self.channel.end(reason)
        else:
            self._spawn(self.ws.close(CLOSE_NORMAL, reason), "ws-close")

    # -- signalling ------------------------------------------------------------------

    async def _await_offer(self) -> Offer | None:
        try:
            async with asyncio.timeout(self.options.offer_timeout_s):
                text = await self.ws.recv()
        except TimeoutError:
            await self._refuse(CLOSE_POLICY, f"no offer within {self.options.offer_timeout_s:g} s")
            return None
        except ConnectionClosed:
            return None
        try:
            message = parse_message(text)
        except SignalError as exc:
            await self._refuse(CLOSE_INVALID, str(exc))
            return None
        if not isinstance(message, Offer):
            await self._refuse(CLOSE_POLICY, "the first message must be the offer")
            return None
        return message

    async def _refuse(self, code: int, reason: str) -> None:
        log.warning("browser %s: refused: %s", self.name, reason)
        with contextlib.suppress(ConnectionClosed):
            await self.ws.send(error(reason))
            await self.ws.close(code, reason[:120])

    async def _answer(self, offer: Offer) -> BrowserChannel:
        o = self.options
        pc = RTCPeerConnection(rtc_configuration(o.ice_urls, o.ice_username, o.ice_credential))
        self.pc = pc
        channel = BrowserChannel(self.name, peer=pc)
        self.channel = channel
        pc.addTrack(channel.track)

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "audio":
                self._spawn(channel.receive_from(track), "inbound")

        @pc.on("connectionstatechange")
        def on_state() -> None:
            state = pc.connectionState
            log.info("browser %s: peer connection %s", self.name, state)
            self.push({"type": "state", "state": state})
            if state in ("failed", "closed"):
                channel.end(f"peer connection {state}")

        sdp = keep_loopback_candidates(offer.sdp, o.candidate_host)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        await self.ws.send(encode({"type": "answer", "sdp": pc.localDescription.sdp}))
        log.info("browser %s: answered the offer from %s", self.name, self.ws.remote_address)
        return channel

    async def _read_ws(self, channel: BrowserChannel) -> None:
        try:
            async for text in self.ws:
                try:
                    message = parse_message(text)
                except SignalError as exc:
                    await self._refuse(CLOSE_INVALID, str(exc))
                    channel.end(f"signalling error: {exc}")
                    return
                if isinstance(message, Hangup):
                    await channel.hangup("browser hung up")
                    return
                self.push({"type": "error", "error": "already in a call: one offer per WebSocket"})
        except ConnectionClosed:
            pass
        channel.end("browser closed the WebSocket")

    def push(self, event: dict[str, Any]) -> None:
        """Queue one event for the page; a page that does not read loses the oldest."""
        if len(self._outbox) == self._outbox.maxlen:
            self.events_dropped += 1
        self._outbox.append(encode(event))
        self._outbox_ready.set()

    async def _write_ws(self) -> None:
        while True:
            await self._outbox_ready.wait()
            self._outbox_ready.clear()
            while self._outbox:
                try:
                    await self.ws.send(self._outbox.popleft())
                except ConnectionClosed:
                    return

    # -- the app and the end ---------------------------------------------------------

    async def _app(self, channel: BrowserChannel) -> None:
        try:
            await self.app(channel, self.push, self.info)
        except Exception:
            log.exception("browser %s: the session's app failed", self.name)
        finally:
            channel.end(channel.end_reason or "the app finished")

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=f"browser-{self.name}-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _shutdown(self) -> None:
        timeout = self.options.close_timeout_s
        app = [t for t in self._tasks if t.get_name().endswith("-app")]
        if app:  # the session cancels its own tasks once the channel ends: give it the time
            await asyncio.wait(app, timeout=timeout)
        if self.pc is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(timeout):
                    await self.pc.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
        reason = self.channel.end_reason if self.channel else "closed"
        with contextlib.suppress(ConnectionClosed):
            await self.ws.send(encode({"type": "state", "state": "ended", "reason": reason}))
        with contextlib.suppress(Exception):
            async with asyncio.timeout(timeout):
                await self.ws.close(CLOSE_NORMAL, "session ended")


class BrowserDoor:
    """All browser sessions of the process: a bounded number, each owned until it ends."""

    def __init__(self, app: BrowserApp, options: DoorOptions = DoorOptions()) -> None:
        self.app = app
        self.options = options
        self.sessions: set[BrowserSession] = set()
        self.sessions_total = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._numbers = itertools.count(1)
        self._closing = False

    async def handle(self, ws: ServerConnection) -> None:
        """The ``/ws`` handler: one browser session, or a clear refusal."""
        if self._closing or len(self.sessions) >= self.options.max_sessions:
            reason = (
                "the bridge is shutting down"
                if self._closing
                else f"busy: {len(self.sessions)} browser sessions already in progress "
                f"(browser_max_sessions = {self.options.max_sessions}); try again later"
            )
            log.warning("browser: refused a session: %s", reason)
            with contextlib.suppress(ConnectionClosed):
                await ws.send(error(reason))
                await ws.close(CLOSE_TRY_AGAIN, reason[:120])
            return
        session = BrowserSession(ws, f"web{next(self._numbers)}", self.app, self.options)
        self.sessions.add(session)
        self.sessions_total += 1
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await session.run()
        except Exception:
            log.exception("browser %s: failed", session.name)
        finally:
            self.sessions.discard(session)
            if task is not None:
                self._tasks.discard(task)

    async def close(self, grace_s: float = 10.0) -> None:
        """Refuse new sessions, end every session in progress and wait for their handlers."""
        self._closing = True
        for session in list(self.sessions):
            session.stop("bridge shutting down")
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=grace_s)
            for task in pending:
                task.cancel()
