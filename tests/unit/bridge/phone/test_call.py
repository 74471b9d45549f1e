"""One call over a socketpair, with a fake Asterisk at the other end.

Pacing, caller audio, DTMF, the ways a call ends, back-pressure on ``play()``
and ``flush_output()``. Real time is short here: each test lasts well under a
second.
"""

import asyncio
import contextlib
import itertools
import logging
import socket
import statistics
import time
from collections.abc import AsyncIterator

import pytest

from bridge.media.resample import FrameResampler, StreamResampler
from bridge.phone.audiosocket import Hangup
from bridge.phone.call import PHONE_RATE, AppHandler, Call, CallEnded, CallOptions
from bridge.phone.greeter import Greeter
from tests.unit.bridge.asyncio_run import run
from tests.unit.bridge.phone.fake_asterisk import (
    CALL_ID,
    FRAME_BYTES,
    FRAME_S,
    SILENCE,
    FakeAsterisk,
    assert_hung_up,
    audio,
    frames_of,
    tone,
)
from tests.unit.bridge.tones import peak_hz, rms_dbfs, sine

BRAIN_RATE = 16000
BRAIN_FRAME_BYTES = 640  # 20 ms of 16-bit mono at 16 kHz, what audio_in delivers


def to_brain(frames: list[bytes]) -> list[bytes]:
    """What the call must hand the brain for these wire frames: one stream, 8 -> 16 kHz."""
    reference = FrameResampler(PHONE_RATE, BRAIN_RATE, BRAIN_FRAME_BYTES)
    return [out for f in frames for out in reference.frames(f)]


def speech_part(frames: list[bytes]) -> bytes:
    """The frames after the filter's own start (its first milliseconds ramp up)."""
    return b"".join(frames[1:])


@contextlib.asynccontextmanager
async def connected_call(
    app: AppHandler, options: CallOptions | None = None
) -> AsyncIterator[tuple[Call, FakeAsterisk]]:
    """A Call serving ``app`` on one end of a socketpair, a fake Asterisk on the other.

    On exit the fake Asterisk closes its end, which ends the call if nothing else
    did, and the call's ``run()`` is awaited: no task outlives the block.
    """
    bridge_sock, asterisk_sock = socket.socketpair()
    reader, writer = await asyncio.open_connection(sock=bridge_sock)
    call = Call(reader, writer, options or CallOptions())
    task = asyncio.create_task(call.run(app), name="test-call")
    asterisk = await FakeAsterisk.connect(sock=asterisk_sock)
    try:
        yield call, asterisk
    finally:
        await asterisk.close()
        await task


async def wait_forever(call: Call) -> None:
    """An app that says nothing and leaves the caller's audio alone."""
    await call.wait_ended()


def app_started() -> tuple[AppHandler, "asyncio.Future[Call]"]:
    """An app that hands its call to the test, then waits for the end."""
    started: asyncio.Future[Call] = asyncio.get_running_loop().create_future()

    async def app(call: Call) -> None:
        started.set_result(call)
        await call.wait_ended()

    return app, started


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


# -- outbound pacing -------------------------------------------------------------------


def test_one_frame_every_20_ms_greeting_then_silence() -> None:
    greeting = tone(0.2)  # ten frames

    async def main() -> None:
        async with connected_call(Greeter(greeting, PHONE_RATE)) as (call, asterisk):
            asterisk.send_uuid()
            first = await asterisk.receive_frames(1)
            received = await asterisk.receive_timed(0.5)
            assert call.uuid == CALL_ID
            assert not call.ended

        times = [t for t, _ in received]
        frames = first + audio([e for _, e in received])
        assert 20 <= len(received) <= 30, len(received)
        assert len(frames) == len(received) + len(first)  # audio only, no hangup
        assert 0.015 <= statistics.median(b - a for a, b in itertools.pairwise(times)) <= 0.025
        assert all(len(f) == FRAME_BYTES for f in frames)
        # The clock's first tick may come before the greeter's play(): a frame of silence.
        lead = 0
        while frames[lead] == SILENCE:
            lead += 1
        assert lead <= 2
        n = len(greeting) // FRAME_BYTES
        assert b"".join(frames[lead : lead + n]) == greeting
        tail = frames[lead + n :]
        assert len(tail) >= 5
        assert all(f == SILENCE for f in tail)

    run(main())


# -- caller audio ----------------------------------------------------------------------


def test_bunched_caller_audio_reaches_the_app_paced_by_the_ticks() -> None:
    sent = frames_of(tone(0.4))  # twenty 20 ms frames of a 440 Hz tone at 8 kHz
    expected = to_brain(sent)  # soxr keeps its last block until more audio comes
    arrivals: list[tuple[float, bytes]] = []
    all_in = asyncio.Event()

    async def app(call: Call) -> None:
        loop = asyncio.get_running_loop()
        while True:
            frame = await call.audio_in.get()
            arrivals.append((loop.time(), frame))
            if len(arrivals) == len(expected):
                all_in.set()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        async with connected_call(app) as (call, asterisk):
            asterisk.send_uuid()
            await asterisk.receive_frames(2)
            sent_at = loop.time()
            asterisk.send_audio(*sent)  # twenty 20 ms frames in one write: a burst
            async with asyncio.timeout(1.0):
                await all_in.wait()
            assert call.audio_in_dropped == 0
            assert call.inbound.dropped_frames == 0

        # The 16 kHz stream of the call's one resampler fed in order, in whole frames.
        received = [frame for _, frame in arrivals]
        assert all(len(f) == BRAIN_FRAME_BYTES for f in received)
        assert received == expected
        assert len(expected) >= len(sent) - 6  # soxr holds back at most one block
        speech = speech_part(received)
        assert peak_hz(speech, BRAIN_RATE) == pytest.approx(440, abs=15)
        assert rms_dbfs(speech) == pytest.approx(rms_dbfs(b"".join(sent)), abs=1.0)
        times = [t for t, _ in arrivals]
        assert times[0] - sent_at < 0.2  # after a short prefill and soxr's first block
        # Paced by the ticks (one wire frame each), handed on in soxr's blocks as they
        # come: several separate arrivals over the burst, not all at once.
        assert times[-1] - times[0] >= 0.15
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert sum(1 for g in gaps if g >= 0.015) >= 2

    run(main())


def test_caller_audio_the_app_does_not_read_is_bounded_newest_kept() -> None:
    options = CallOptions(audio_in_max_frames=3)
    sent = frames_of(tone(0.2, freq_hz=300))  # ten frames

    async def main() -> None:
        async with connected_call(wait_forever, options) as (call, asterisk):
            asterisk.send_uuid()
            await asterisk.receive_frames(2)
            asterisk.send_audio(*sent)
            await asyncio.sleep(15 * FRAME_S)
            expected = to_brain(sent)
            assert len(expected) > 3
            assert call.audio_in.qsize() == 3
            assert call.audio_in_dropped == len(expected) - 3
            kept = [call.audio_in.get_nowait() for _ in range(3)]
            assert kept == expected[-3:]  # the newest, resampled to 16 kHz
            assert all(f != bytes(BRAIN_FRAME_BYTES) for f in kept)

    run(main())


# -- DTMF ------------------------------------------------------------------------------


def test_dtmf_reaches_the_app_in_order() -> None:
    async def main() -> None:
        app, started = app_started()
        async with connected_call(app) as (_, asterisk):
            asterisk.send_uuid()
            call = await started
            for digit in "12*":
                asterisk.send_dtmf(digit)
            async with asyncio.timeout(1.0):
                digits = [(await call.events.get()).digit for _ in range(3)]
            assert digits == ["1", "2", "*"]

    run(main())


def test_hangup_digit_makes_the_bridge_hang_up() -> None:
    async def main() -> None:
        async with connected_call(Greeter(tone(0.1), PHONE_RATE, hangup_digit="#")) as (
            call,
            asterisk,
        ):
            asterisk.send_uuid()
            await asterisk.receive_frames(2)
            asterisk.send_dtmf("5")  # not the hangup digit: the call goes on
            events = await asterisk.receive(0.1)
            assert len(audio(events)) == len(events) >= 3
            asterisk.send_dtmf("#")
            assert_hung_up(await asterisk.receive_until_closed())
            await call.wait_ended()
            assert call.end_reason == "caller pressed #"

    run(main())


# -- how a call ends -------------------------------------------------------------------


def test_asterisk_closing_its_side_ends_the_call() -> None:
    async def main() -> None:
        async with connected_call(wait_forever) as (call, asterisk):
            asterisk.send_uuid()
            await asterisk.receive_frames(2)
            asterisk.writer.write_eof()
            events = await asterisk.receive_until_closed()
            assert len(audio(events)) == len(events)  # no hangup: Asterisk left first
            assert call.ended
            assert call.end_reason == "Asterisk closed the connection"

    run(main())


def test_asterisk_hangup_ends_the_call() -> None:
    async def main() -> None:
        async with connected_call(wait_forever) as (call, asterisk):
            asterisk.send_uuid()
            await asterisk.receive_frames(2)
            asterisk.send_hangup()
            events = await asterisk.receive_until_closed()
            assert not any(isinstance(e, Hangup) for e in events)
            assert call.end_reason == "caller hung up"

    run(main())


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(b"\x42\x00\x00", "unknown message kind 0x42", id="unknown-kind"),
        pytest.param(b"\x10\xff\xff", "payload length 65535 exceeds the limit", id="oversized"),
        pytest.param(b"\x12\x01\x40" + bytes(320), "audio at 16000 Hz", id="wrong-rate"),
        pytest.param(b"\x03\x00\x01x", "invalid DTMF byte 0x78", id="bad-dtmf"),
        pytest.param(b"\x01\x00\x10" + CALL_ID.bytes, "second call id", id="second-uuid"),
    ],
)
def test_protocol_error_mid_call_hangs_up_and_closes(
    data: bytes, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        async with connected_call(wait_forever) as (call, asterisk):
            asterisk.send_uuid()
            await asterisk.receive_frames(2)
            asterisk.send_raw(data)
            assert_hung_up(await asterisk.receive_until_closed())
            await call.wait_ended()
            assert call.end_reason.startswith("protocol error:")
            assert reason in call.end_reason

    caplog.set_level(logging.INFO)
    run(main())
    [message] = warnings_of(caplog)
    assert "protocol error" in message
    assert reason in message


def test_malformed_call_id_hangs_up_before_any_audio(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        async with connected_call(wait_forever) as (call, asterisk):
            asterisk.send_raw(b"\x01\x00\x0f" + bytes(15))
            assert await asterisk.receive_until_closed() == [Hangup()]
            assert call.uuid is None
            assert "payload length must be 16, got 15" in call.end_reason

    caplog.set_level(logging.INFO)
    run(main())
    [message] = warnings_of(caplog)
    assert "payload length must be 16, got 15" in message


def test_no_call_id_within_the_timeout_closes(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        options = CallOptions(uuid_timeout_s=0.2)
        async with connected_call(wait_forever, options) as (call, asterisk):
            start = loop.time()
            assert await asterisk.receive_until_closed() == []
            assert 0.15 <= loop.time() - start < 0.5
            assert call.end_reason == "no call id (UUID) frame within 0.2 s"

    caplog.set_level(logging.INFO)
    run(main())
    [message] = warnings_of(caplog)
    assert message.endswith("no call id (UUID) frame within 0.2 s")


def test_app_error_hangs_up(caplog: pytest.LogCaptureFixture) -> None:
    async def app(call: Call) -> None:
        await asyncio.sleep(0.05)
        raise RuntimeError("boom")

    async def main() -> None:
        async with connected_call(app) as (call, asterisk):
            asterisk.send_uuid()
            events = await asterisk.receive_until_closed()
            assert_hung_up(events)
            assert len(events) >= 2  # frames flowed until the app failed
            assert call.end_reason == "app error"

    caplog.set_level(logging.INFO)
    run(main())
    [record] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "app failed" in record.getMessage()
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "boom"


def test_no_frame_follows_a_hangup_when_a_tick_is_due() -> None:
    """Regression: a hangup landing between a due tick and its frame stopped the clock
    with RuntimeError("cannot send: hangup already sent"), hidden by the cancel."""
    clock: list[asyncio.Task[None]] = []

    async def app(call: Call) -> None:
        loop = asyncio.get_running_loop()
        clock.extend(t for t in asyncio.all_tasks() if t.get_name().endswith("-clock"))
        await asyncio.sleep(0.05)
        woken = loop.create_future()
        loop.call_at(loop.time() - 1, woken.set_result, None)  # due before the clock's tick
        # Stall the loop past the clock's next deadline, as a busy loop would: the clock and
        # this app then resume in the same pass of the loop, this app first.
        time.sleep(0.03)  # noqa: ASYNC251
        await woken
        await call.hangup("done")

    async def main() -> None:
        async with connected_call(app) as (call, asterisk):
            asterisk.send_uuid()
            assert_hung_up(await asterisk.receive_until_closed())
            assert call.end_reason == "done"

    run(main())
    [task] = clock
    assert task.cancelled() or task.exception() is None, task


# -- play() and flush_output() ---------------------------------------------------------


def test_play_waits_for_room_instead_of_buffering() -> None:
    options = CallOptions(outbound_max_s=0.1)  # 800 samples: five frames
    speech = tone(0.6)  # thirty frames

    async def main() -> None:
        loop = asyncio.get_running_loop()
        app, started = app_started()
        async with connected_call(app, options) as (_, asterisk):
            asterisk.send_uuid()
            call = await started
            assert call.outbound.max_bytes == 5 * FRAME_BYTES
            start = loop.time()
            play = asyncio.create_task(call.play(speech, PHONE_RATE))
            peak = 0
            while not play.done():
                peak = max(peak, call.outbound.queued_bytes)
                await asyncio.sleep(0.005)
            await play
            elapsed = loop.time() - start
            # It returns once the last five frames fit: after about 25 ticks, 0.5 s.
            assert 0.4 <= elapsed <= 0.8, elapsed
            assert peak <= call.outbound.max_bytes
            frames = audio(await asterisk.receive(0.3))

        assert speech in b"".join(frames)
        assert frames[-1] == SILENCE

    run(main())


def test_blocked_play_raises_call_ended_when_the_call_ends() -> None:
    async def main() -> None:
        app, started = app_started()
        async with connected_call(app, CallOptions(outbound_max_s=0.1)) as (_, asterisk):
            asterisk.send_uuid()
            call = await started
            play = asyncio.create_task(call.play(tone(1.0), PHONE_RATE))
            await asyncio.sleep(0.1)
            assert not play.done()
            await call.hangup("bye")
            with pytest.raises(CallEnded, match="bye"):
                await play
            with pytest.raises(CallEnded):
                await call.play(tone(0.02), PHONE_RATE)
            assert_hung_up(await asterisk.receive_until_closed())

    run(main())


def test_flush_output_drops_queued_audio_and_silence_follows() -> None:
    speech = tone(1.0)

    async def main() -> None:
        app, started = app_started()
        async with connected_call(app) as (_, asterisk):
            asterisk.send_uuid()
            call = await started
            before = call.schedule.frames_sent
            await call.play(speech, PHONE_RATE)  # a second fits the buffer: returns at once
            await asyncio.sleep(0.1)
            dropped = call.flush_output()
            flushed_at = call.schedule.frames_sent
            assert call.outbound.queued_bytes == 0
            await asyncio.sleep(0.1)
            frames = audio(await asterisk.receive(0.05))

        spoken = flushed_at - before
        assert 3 <= spoken <= 10
        assert dropped == len(speech) - spoken * FRAME_BYTES
        assert frames[:before] == [SILENCE] * before
        assert frames[before:flushed_at] == frames_of(speech)[:spoken]
        after = frames[flushed_at:]
        assert len(after) >= 3
        assert all(f == SILENCE for f in after)

    run(main())


def test_play_resamples_each_utterance_once_from_its_rate_to_the_wire() -> None:
    """Piper's 22050 Hz straight to the 8 kHz wire: one resampler per source rate, reused,
    flushed per utterance; in-band tones pass at their frequency, out-of-band ones go."""
    piper = 22050
    in_band = sine(piper, 0.3, 1000.0)
    out_of_band = sine(piper, 0.3, 5000.0)  # above the wire's 4 kHz Nyquist frequency

    def once(pcm: bytes) -> bytes:
        reference = StreamResampler(piper, PHONE_RATE)
        return reference.process(pcm) + reference.flush()

    async def main() -> None:
        app, started = app_started()
        async with connected_call(app) as (_, asterisk):
            asterisk.send_uuid()
            call = await started
            await asterisk.receive_frames(1)
            await call.play(in_band, piper)
            resampler = call.media.to_wire.resamplers[piper]
            await call.wait_output_idle()
            first = audio(await asterisk.receive(0.1))
            await call.play(out_of_band, piper)
            assert call.media.to_wire.resamplers == {piper: resampler}  # reused
            await call.wait_output_idle()
            second = audio(await asterisk.receive(0.1))

        assert all(len(f) == FRAME_BYTES for f in first + second)  # 8 kHz frames
        wire = b"".join(first)
        expected = once(in_band)
        assert len(expected) == 2 * round(len(in_band) / 2 * PHONE_RATE / piper)
        start = wire.index(expected[:FRAME_BYTES])
        assert wire[start : start + len(expected)] == expected  # one pass, 22050 -> 8000
        spoken = wire[start : start + len(expected)]
        assert peak_hz(spoken, PHONE_RATE) == pytest.approx(1000, abs=15)
        assert rms_dbfs(spoken) == pytest.approx(rms_dbfs(in_band), abs=0.5)
        # The second utterance starts from a fresh filter (the first was flushed) ...
        removed = once(out_of_band)
        at = (b"".join(second) + bytes(FRAME_BYTES)).index(removed)
        assert at % FRAME_BYTES == 0  # it starts on a frame boundary, as a new utterance does
        # ... and its 5 kHz tone is filtered out, not folded back to 3 kHz: away from the
        # clicks of its abrupt start and end (50 ms), nothing is left.
        settle = PHONE_RATE // 20 * 2
        assert rms_dbfs(removed[settle:-settle]) < -90

    run(main())


# -- a transfer ------------------------------------------------------------------------


def test_a_transfer_ends_the_call_without_a_hangup_and_a_refused_one_does_not() -> None:
    async def main() -> None:
        app, started = app_started()
        async with connected_call(app) as (call, asterisk):
            asterisk.send_uuid()
            await asterisk.receive_frames(2)
            assert not call.can_transfer and not await call.transfer("people,reception,1")
            targets: list[str] = []

            async def redirect(target: str) -> bool:
                targets.append(target)
                return target.startswith("people")

            call.redirect = redirect
            assert call.can_transfer
            assert not await call.transfer("nowhere,x,1") and not call.ended
            assert await call.transfer("people,reception,1")
            events = await asterisk.receive_until_closed()
            assert not any(isinstance(e, Hangup) for e in events)  # Asterisk ends AudioSocket
            assert call.end_reason == "transferred to people,reception,1"
            assert targets == ["nowhere,x,1", "people,reception,1"] and not call.can_transfer
            await started

    run(main())
