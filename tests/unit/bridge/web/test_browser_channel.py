"""The browser channel: the media clock (outbound track), play/pause/flush/onset, inbound."""

import asyncio

import av
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError

from bridge.media.channel_media import ChannelEnded
from bridge.media.resample import StreamResampler
from bridge.web.browser_channel import (
    BRAIN_RATE,
    TRACK_FRAME_SAMPLES,
    TRACK_RATE,
    BrowserChannel,
    BrowserChannelOptions,
)
from tests.unit.bridge.asyncio_run import run
from tests.unit.bridge.tones import peak_hz

TRACK_FRAME_BYTES = TRACK_FRAME_SAMPLES * 2
BRAIN_FRAME_BYTES = BRAIN_RATE // 50 * 2


def tone(rate: int, seconds: float, freq: float = 440.0, amp: float = 8000.0) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype("<i2").tobytes()


def browser_frame(pcm48: bytes, stereo: bool = True) -> av.AudioFrame:
    mono = np.frombuffer(pcm48, dtype="<i2")
    if stereo:
        data = np.stack([mono, mono], axis=1).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(data, format="s16", layout="stereo")
    else:
        frame = av.AudioFrame.from_ndarray(mono.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = TRACK_RATE
    return frame


class FakePeer:
    def __init__(self) -> None:
        self.closed = 0

    async def close(self) -> None:
        self.closed += 1


def ticks(channel: BrowserChannel, n: int, t0: float = 0.0) -> list[bytes]:
    if not channel.clock_started:
        channel.schedule.start(t0)
        channel.clock_started = True
    return [channel.media_tick(t0 + i * 0.02) for i in range(n)]


def test_silence_when_nothing_to_say() -> None:
    async def main() -> None:
        ch = BrowserChannel("t")
        frames = ticks(ch, 5)
        assert all(f == bytes(TRACK_FRAME_BYTES) for f in frames)
        assert ch.recent_output_dbfs() is None
        assert ch.schedule.frames_sent == 5

    run(main())


def test_play_is_resampled_once_from_its_rate_to_48k_and_sent_frame_by_frame() -> None:
    piper = 22050
    spoken = tone(piper, 0.2)
    reference = StreamResampler(piper, TRACK_RATE)
    expected = reference.process(spoken) + reference.flush()  # one pass, not via 16 kHz

    async def main() -> None:
        ch = BrowserChannel("t")
        await ch.play(spoken, piper)
        # 200 ms at 22.05 kHz is 200 ms at 48 kHz: ten 20 ms frames.
        assert ch.output_queued_s() == pytest.approx(0.2, abs=0.002)
        assert list(ch.media.to_wire.resamplers) == [piper]
        onset = ch.next_speech_onset()
        frames = ticks(ch, 12, t0=100.0)
        assert onset.done() and onset.result() == 100.0
        assert b"".join(frames[:10]) == expected[: 10 * TRACK_FRAME_BYTES]
        assert peak_hz(b"".join(frames[:10]), TRACK_RATE) == pytest.approx(440, abs=10)
        speech = np.frombuffer(b"".join(frames[:10]), dtype="<i2").astype(float)
        assert abs(20 * np.log10(np.sqrt(np.mean(speech**2)) / 32768) - -15.2) < 1.0
        assert frames[-1] == bytes(TRACK_FRAME_BYTES)
        assert ch.output_queued_s() == 0
        level = ch.recent_output_dbfs()
        assert level is not None and -17 < level < -13
        await asyncio.wait_for(ch.wait_output_idle(), 0.1)

    run(main())


def test_pause_holds_speech_and_resume_releases_it() -> None:
    async def main() -> None:
        ch = BrowserChannel("t")
        await ch.play(tone(BRAIN_RATE, 0.1), BRAIN_RATE)
        ch.pause_output()
        assert all(f == bytes(TRACK_FRAME_BYTES) for f in ticks(ch, 3))
        assert ch.output_queued_s() > 0.09
        ch.resume_output()
        assert any(f != bytes(TRACK_FRAME_BYTES) for f in [ch.media_tick(1.0)])

    run(main())


def test_flush_drops_queued_speech_and_wakes_idle_waiters() -> None:
    async def main() -> None:
        ch = BrowserChannel("t")
        await ch.play(tone(BRAIN_RATE, 0.5), BRAIN_RATE)
        waiter = asyncio.create_task(ch.wait_output_idle())
        await asyncio.sleep(0)
        assert not waiter.done()
        assert ch.flush_output() > 0
        await asyncio.wait_for(waiter, 0.1)
        assert ch.output_queued_s() == 0

    run(main())


def test_play_waits_for_room_in_the_bounded_buffer() -> None:
    async def main() -> None:
        ch = BrowserChannel("t", BrowserChannelOptions(outbound_max_s=0.1))
        player = asyncio.create_task(ch.play(tone(BRAIN_RATE, 0.3), BRAIN_RATE))
        await asyncio.sleep(0.01)
        assert not player.done()
        assert ch.output_queued_s() == pytest.approx(0.1)
        ticks(ch, 1)
        for i in range(1, 20):
            ch.media_tick(i * 0.02)
            await asyncio.sleep(0)
            if player.done():
                break
        await asyncio.wait_for(player, 0.1)

    run(main())


def test_inbound_stereo_48k_becomes_steady_16k_frames() -> None:
    async def main() -> None:
        ch = BrowserChannel("t", BrowserChannelOptions(inbound_prefill_frames=1))
        pcm = tone(TRACK_RATE, 0.2, freq=300)
        for i in range(10):
            ch.push_inbound(browser_frame(pcm[i * TRACK_FRAME_BYTES : (i + 1) * TRACK_FRAME_BYTES]))
        ticks(ch, 10)
        frames = [ch.audio_in.get_nowait() for _ in range(ch.audio_in.qsize())]
        assert 8 <= len(frames) <= 10  # the resampler's delay holds back a few ms
        assert all(len(f) == BRAIN_FRAME_BYTES for f in frames)
        assert peak_hz(b"".join(frames[2:]), BRAIN_RATE) == pytest.approx(300, abs=15)
        middle = np.frombuffer(frames[5], dtype="<i2").astype(float)
        level = 20 * np.log10(np.sqrt(np.mean(middle**2)) / 32768)
        assert abs(level - -15.2) < 1.0

    run(main())


def test_audio_in_drops_the_oldest_when_nobody_reads() -> None:
    async def main() -> None:
        ch = BrowserChannel("t", BrowserChannelOptions(audio_in_max_frames=3))
        pcm = tone(TRACK_RATE, 0.02)
        ticks(ch, 1)
        for i in range(1, 9):
            ch.push_inbound(browser_frame(pcm, stereo=False))
            ch.media_tick(i * 0.02)
        assert ch.audio_in.qsize() == 3
        assert ch.audio_in_dropped > 0

    run(main())


def test_hangup_ends_closes_the_peer_and_stops_the_track() -> None:
    async def main() -> None:
        peer = FakePeer()
        ch = BrowserChannel("t", peer=peer)
        onset = ch.next_speech_onset()
        await ch.hangup("test")
        await ch.hangup("again")
        assert ch.ended and ch.end_reason == "test"
        assert peer.closed == 2  # closing twice is harmless for aiortc
        assert onset.cancelled()
        assert ch.track.readyState == "ended"
        with pytest.raises(ChannelEnded):
            await ch.play(b"\0\0", BRAIN_RATE)
        with pytest.raises(MediaStreamError):
            await ch.track.recv()
        await asyncio.wait_for(ch.wait_ended(), 0.1)
        await asyncio.wait_for(ch.wait_output_idle(), 0.1)

    run(main())


def test_track_paces_frames_on_the_monotonic_grid() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        ch = BrowserChannel("t")
        await ch.play(tone(BRAIN_RATE, 0.1), BRAIN_RATE)
        times, pts = [], []
        for _ in range(15):
            frame = await ch.track.recv()
            times.append(loop.time())
            pts.append(frame.pts)
            assert frame.samples == TRACK_FRAME_SAMPLES
            assert frame.sample_rate == TRACK_RATE
        assert pts == [i * TRACK_FRAME_SAMPLES for i in range(15)]
        elapsed = times[-1] - times[0]
        assert 0.27 <= elapsed < 0.31  # 14 periods of 20 ms, no burst, no drift
        assert ch.first_speech_out == pytest.approx(times[0], abs=0.005)
        ch.end("done")

    run(main())
