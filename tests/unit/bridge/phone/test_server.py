"""The AudioSocket server on a loopback port: one call per connection, each ending alone."""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from bridge.phone.call import PHONE_RATE, AppHandler, Call, CallOptions
from bridge.phone.greeter import Greeter
from bridge.phone.server import AudioSocketServer
from tests.unit.bridge.asyncio_run import run
from tests.unit.bridge.phone.fake_asterisk import (
    CALL_ID,
    FRAME_S,
    OTHER_CALL_ID,
    FakeAsterisk,
    assert_hung_up,
    audio,
    tone,
)

GREETER = Greeter(tone(0.5), PHONE_RATE)


@contextlib.asynccontextmanager
async def serving(
    app: AppHandler = GREETER, options: CallOptions | None = None
) -> AsyncIterator[AudioSocketServer]:
    """An AudioSocketServer on 127.0.0.1 and a port the kernel picks; closed on exit."""
    server = AudioSocketServer("127.0.0.1", 0, app, options)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


async def start_call(server: AudioSocketServer, call_id: uuid.UUID = CALL_ID) -> FakeAsterisk:
    """Connect, send the call id, and wait for the first frames of the answer."""
    asterisk = await FakeAsterisk.connect(host="127.0.0.1", port=server.bound_port)
    asterisk.send_uuid(call_id)
    await asterisk.receive_frames(2)
    return asterisk


async def wait_until(predicate: Callable[[], bool], within_s: float = 1.0) -> None:
    """Poll: the server has nothing to await for "this connection's task is done"."""
    async with asyncio.timeout(within_s):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(FRAME_S / 4)


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_bound_port_is_the_kernels_choice() -> None:
    async def main() -> None:
        server = AudioSocketServer("127.0.0.1", 0, GREETER)
        with pytest.raises(RuntimeError):
            _ = server.bound_port
        async with serving() as server:
            assert server.serving
            assert 0 < server.bound_port < 65536
        assert not server.serving

    run(main())


def test_one_call_per_connection() -> None:
    async def main() -> None:
        async with serving() as server:
            first = await start_call(server, CALL_ID)
            second = await start_call(server, OTHER_CALL_ID)
            assert {call.uuid for call in server.calls} == {CALL_ID, OTHER_CALL_ID}
            assert server.calls_total == 2
            for asterisk in (first, second):
                events = await asterisk.receive(0.1)
                assert len(audio(events)) == len(events) >= 3
                await asterisk.close()
            await wait_until(lambda: not server.calls)

    run(main())


BAD_INPUT = [
    pytest.param(True, b"\x42\x00\x00", "unknown message kind 0x42", id="unknown-kind"),
    pytest.param(True, b"\x10\xff\xff", "payload length 65535 exceeds the limit", id="oversized"),
    pytest.param(False, b"\x01\x00\x0f" + bytes(15), "must be 16, got 15", id="short-uuid"),
    pytest.param(False, b"", "no call id (UUID) frame within 0.2 s", id="no-uuid"),
]


@pytest.mark.parametrize(("uuid_first", "data", "problem"), BAD_INPUT)
def test_misbehaving_connection_ends_alone(
    uuid_first: bool, data: bytes, problem: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        async with serving(options=CallOptions(uuid_timeout_s=0.2)) as server:
            good = await start_call(server, OTHER_CALL_ID)
            bad = await FakeAsterisk.connect(host="127.0.0.1", port=server.bound_port)
            if uuid_first:
                bad.send_uuid(CALL_ID)
            bad.send_raw(data)
            # The bridge closes it: EOF on our side, and never a frame after a hangup.
            events = await bad.receive_until_closed()
            if data:
                assert_hung_up(events)
            else:
                assert events == []  # it never started: no hangup to ask for
            await bad.close()
            await wait_until(lambda: len(server.calls) == 1)
            [call] = server.calls
            assert call.uuid == OTHER_CALL_ID
            # The good call did not notice: its frames keep coming, 20 ms apart.
            events = await good.receive(0.2)
            assert len(audio(events)) == len(events) >= 7
            await good.close()

    caplog.set_level(logging.INFO)
    run(main())
    [message] = warnings_of(caplog)
    assert problem in message


def test_caller_closing_ends_the_call() -> None:
    async def main() -> None:
        async with serving() as server:
            asterisk = await start_call(server)
            [call] = server.calls
            await asterisk.close()
            await wait_until(lambda: not server.calls)
            assert call.ended
            assert server.calls_total == 1

    run(main())


def test_close_hangs_up_every_call_and_leaves_no_task() -> None:
    async def main() -> None:
        server = AudioSocketServer("127.0.0.1", 0, GREETER)
        await server.start()
        port = server.bound_port
        callers = [await start_call(server, CALL_ID), await start_call(server, OTHER_CALL_ID)]
        calls = set(server.calls)
        assert len(calls) == 2

        await server.close()

        assert asyncio.all_tasks() == {asyncio.current_task()}
        assert not server.calls
        assert all(call.end_reason == "bridge shutting down" for call in calls)
        for asterisk in callers:
            assert_hung_up(await asterisk.receive_until_closed())
            await asterisk.close()
        with pytest.raises(ConnectionRefusedError):
            await FakeAsterisk.connect(host="127.0.0.1", port=port)

    run(main())


def test_close_does_not_wait_for_a_call_id(caplog: pytest.LogCaptureFixture) -> None:
    """Regression: a connection still waiting for its UUID held close() for the whole
    uuid_timeout_s (5 s by default), then logged a bogus warning."""

    async def main() -> None:
        server = AudioSocketServer("127.0.0.1", 0, GREETER)
        await server.start()
        silent = await FakeAsterisk.connect(host="127.0.0.1", port=server.bound_port)
        await wait_until(lambda: len(server.calls) == 1)
        async with asyncio.timeout(1.0):
            await server.close()
        assert asyncio.all_tasks() == {asyncio.current_task()}
        assert_hung_up(await silent.receive_until_closed())
        await silent.close()

    caplog.set_level(logging.INFO)
    run(main())
    assert warnings_of(caplog) == []


def test_app_error_hangs_up_that_call_only(caplog: pytest.LogCaptureFixture) -> None:
    async def app(call: Call) -> None:
        if call.uuid == CALL_ID:
            await asyncio.sleep(0.05)
            raise RuntimeError("boom")
        await GREETER(call)

    async def main() -> None:
        async with serving(app) as server:
            good = await start_call(server, OTHER_CALL_ID)
            bad = await start_call(server, CALL_ID)
            assert_hung_up(await bad.receive_until_closed())
            await bad.close()
            await wait_until(lambda: len(server.calls) == 1)
            events = await good.receive(0.2)
            assert len(audio(events)) == len(events) >= 7
            await good.close()

    caplog.set_level(logging.INFO)
    run(main())
    [record] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "app failed" in record.getMessage()
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "boom"
