"""The browser door over real loopback: an aiortc peer plays the browser.

Signalling goes through the real HTTP server's /ws; media through a real
peer connection restricted to 127.0.0.1 (bridge/web/ice.py).
"""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterator

import aioice.ice
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, MediaStreamTrack
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from ai.agent import CallInfo
from bridge.web import ice
from bridge.web.browser_channel import BrowserChannel
from bridge.web.http import HttpServer
from bridge.web.webrtc import BrowserDoor, DoorOptions, Listener, page_call_info
from tests.unit.bridge.asyncio_run import run

TIMEOUT = 20.0


@pytest.fixture(autouse=True)
def loopback_candidates() -> Iterator[None]:
    ice.restrict_host_candidates("127.0.0.1")
    yield
    ice.restrict_host_candidates("")


class FakeApp:
    """Stands for the brain: says something, counts caller frames, reports to the page."""

    def __init__(self) -> None:
        self.frames = 0
        self.got_audio = asyncio.Event()
        self.channels: list[BrowserChannel] = []
        self.infos: list[CallInfo] = []

    async def __call__(self, channel: BrowserChannel, listener: Listener, info: CallInfo) -> None:
        self.channels.append(channel)
        self.infos.append(info)
        listener({"type": "turn", "role": "bot", "text": "hello", "latency_ms": None})
        await channel.play(b"\x10\x20" * 16000, 16000)  # one second of a (quiet) buzz
        while not channel.ended:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.1):
                    await channel.audio_in.get()
                    self.frames += 1
                    if self.frames >= 10:
                        self.got_audio.set()


@contextlib.asynccontextmanager
async def door_serving(
    app: FakeApp, options: DoorOptions | None = None
) -> AsyncIterator[tuple[BrowserDoor, int]]:
    door = BrowserDoor(app, options or DoorOptions())

    async def health() -> dict[str, bool]:
        return {}

    server = HttpServer("127.0.0.1", 0, health, dict, websocket=door.handle)
    await server.start()
    try:
        yield door, server.bound_port
    finally:
        await door.close()
        await server.close()


async def next_json(ws: ClientConnection, kind: str) -> dict:
    while True:
        message = json.loads(await ws.recv())
        if message["type"] == kind:
            return message


async def count_bytes(track: MediaStreamTrack, into: list[int]) -> None:
    with contextlib.suppress(MediaStreamError):
        while True:
            frame = await track.recv()
            into[0] += frame.samples


async def browser_call(
    port: int, query: str = ""
) -> tuple[RTCPeerConnection, ClientConnection, list[int]]:
    """Connect like the page does: offer with candidates, answer, media both ways."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(AudioStreamTrack())
    received = [0]
    readers: list[asyncio.Task[None]] = []
    pc.on("track", lambda track: readers.append(asyncio.create_task(count_bytes(track, received))))
    await pc.setLocalDescription(await pc.createOffer())
    ws = await connect(f"ws://127.0.0.1:{port}/ws{query}")
    await ws.send(json.dumps({"type": "offer", "sdp": pc.localDescription.sdp}))
    answer = await next_json(ws, "answer")
    assert "127.0.0.1" in answer["sdp"]
    await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
    pc._test_readers = readers  # type: ignore[attr-defined]
    return pc, ws, received


async def close_browser(pc: RTCPeerConnection, ws: ClientConnection) -> None:
    await pc.close()
    await ws.close()
    readers = pc._test_readers  # type: ignore[attr-defined]
    if readers:
        _, pending = await asyncio.wait(readers, timeout=2)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


async def wait_for(predicate: Callable[[], bool], within: float = 5.0) -> None:
    """Poll a condition of the server's state (it has no event to await for these)."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


def test_a_session_carries_audio_both_ways_and_hangup_frees_it() -> None:
    async def main() -> None:
        app = FakeApp()
        async with door_serving(app) as (door, port):
            pc, ws, received = await browser_call(port)
            assert door.sessions_total == 1 and len(door.sessions) == 1
            turn = await asyncio.wait_for(next_json(ws, "turn"), 5)
            assert turn == {"type": "turn", "role": "bot", "text": "hello", "latency_ms": None}
            await asyncio.wait_for(app.got_audio.wait(), 10)
            await wait_for(lambda: received[0] > 48000 // 10)  # > 100 ms of bot audio
            await ws.send(json.dumps({"type": "hangup"}))
            ended = await asyncio.wait_for(next_json(ws, "state"), 5)
            while ended["state"] != "ended":
                ended = await asyncio.wait_for(next_json(ws, "state"), 5)
            assert ended["reason"] == "browser hung up"
            await wait_for(lambda: not door.sessions)
            channel = app.channels[0]
            assert channel.ended and channel.track.readyState == "ended"
            await close_browser(pc, ws)

    run(main(), timeout=TIMEOUT)


def test_closing_the_websocket_ends_the_session() -> None:
    async def main() -> None:
        app = FakeApp()
        async with door_serving(app) as (door, port):
            pc, ws, _ = await browser_call(port)
            await asyncio.wait_for(app.got_audio.wait(), 10)
            await ws.close()
            await wait_for(lambda: not door.sessions)
            assert app.channels[0].end_reason == "browser closed the WebSocket"
            await close_browser(pc, ws)

    run(main(), timeout=TIMEOUT)


def test_a_full_door_refuses_with_a_clear_error() -> None:
    async def main() -> None:
        app = FakeApp()
        async with door_serving(app, DoorOptions(max_sessions=1)) as (door, port):
            pc, ws, _ = await browser_call(port)
            await asyncio.wait_for(app.got_audio.wait(), 10)
            async with connect(f"ws://127.0.0.1:{port}/ws") as second:
                refusal = json.loads(await second.recv())
                assert refusal["type"] == "error"
                assert "busy" in refusal["error"] and "browser_max_sessions = 1" in refusal["error"]
                with pytest.raises(ConnectionClosed) as closed:
                    await second.recv()
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
            assert door.sessions_total == 1
            await close_browser(pc, ws)

    run(main(), timeout=TIMEOUT)


@pytest.mark.parametrize(
    ("message", "says"),
    [
        ("this is not json", "not valid JSON"),
        ('{"type": "hangup"}', "the first message must be the offer"),
    ],
)
def test_ws_rejects_bad_first_messages(message: str, says: str) -> None:
    async def main() -> None:
        async with door_serving(FakeApp()) as (door, port):
            async with connect(f"ws://127.0.0.1:{port}/ws") as ws:
                await ws.send(message)
                answer = json.loads(await ws.recv())
                assert answer["type"] == "error" and says in answer["error"]
                with pytest.raises(ConnectionClosed) as closed:
                    await ws.recv()
                assert closed.value.rcvd is not None
                assert closed.value.rcvd.code in (1007, 1008)
            await wait_for(lambda: not door.sessions)

    run(main(), timeout=TIMEOUT)


def test_closing_the_door_ends_every_session() -> None:
    async def main() -> None:
        app = FakeApp()
        async with door_serving(app) as (door, port):
            pc, ws, _ = await browser_call(port)
            await asyncio.wait_for(app.got_audio.wait(), 10)
            idle = await connect(f"ws://127.0.0.1:{port}/ws")  # never sends its offer
            await wait_for(lambda: len(door.sessions) == 2)
            await door.close()
            assert not door.sessions
            assert app.channels[0].end_reason == "bridge shutting down"
            await close_browser(pc, ws)
            await idle.close()

    run(main(), timeout=TIMEOUT)


def test_restricting_host_candidates() -> None:
    ice.restrict_host_candidates("10.1.2.3")
    assert aioice.ice.get_host_addresses(True, True) == ["10.1.2.3"]
    assert aioice.ice.get_host_addresses(False, True) == []
    ice.restrict_host_candidates("::1")
    assert aioice.ice.get_host_addresses(True, True) == ["::1"]
    ice.restrict_host_candidates("")
    assert "127.0.0.1" not in aioice.ice.get_host_addresses(True, False)  # aioice's own
    with pytest.raises(ValueError):
        ice.restrict_host_candidates("example.org")


def test_ice_server_configuration() -> None:
    urls = ("stun:stun.example:3478", "turn:turn.example:3478")
    config = ice.rtc_configuration(urls, "user", "secret")
    assert config.iceServers is not None
    assert [(s.urls, s.username, s.credential) for s in config.iceServers] == [
        ("stun:stun.example:3478", None, None),
        ("turn:turn.example:3478", "user", "secret"),
    ]
    assert ice.rtc_configuration(()).iceServers == []  # not None: no Google STUN default
    assert ice.browser_ice_servers(urls, "user", "secret") == [
        {"urls": "stun:stun.example:3478"},
        {"urls": "turn:turn.example:3478", "username": "user", "credential": "secret"},
    ]


@pytest.mark.parametrize(
    ("path", "agent"),
    [
        ("/ws", ""),
        ("/ws?agent=plumber", "plumber"),
        ("/ws?token=s3cret&agent=front-desk_2", "front-desk_2"),
        ("/ws?agent=", ""),
        ("/ws?agent=../etc/passwd", ""),  # not an agent's name: the default agent
        ("/ws?agent=r%C3%A9ception", ""),
    ],
)
def test_the_page_names_the_agent_in_the_websocket_url(path: str, agent: str) -> None:
    assert page_call_info(path, "web1") == CallInfo(agent=agent)


def test_the_session_gets_the_agent_of_the_websocket_url() -> None:
    async def main() -> None:
        app = FakeApp()
        async with door_serving(app) as (door, port):
            pc, ws, _ = await browser_call(port, "?agent=plumber")
            await asyncio.wait_for(next_json(ws, "turn"), 5)
            assert app.infos == [CallInfo(agent="plumber")]
            await close_browser(pc, ws)
            await wait_for(lambda: not door.sessions)

    run(main(), TIMEOUT)
