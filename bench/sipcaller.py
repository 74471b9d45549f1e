"""A real SIP caller for tests: sipp places the call and streams a WAV as RTP; tcpdump records
what the caller receives, with kernel timestamps, so that latency and pacing are measured at the
caller, not inside the bridge.

``place_call()`` writes a sipp scenario for the call's script (stream a WAV, hang up after N ms,
or send DTMF and wait for the other side to hang up), captures the SIP and RTP packets of the
call on the loopback interface, and returns a ``CallRecord``: the SIP messages with their times,
the RTP packets the caller received, and helpers to decode and analyse them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import dpkt
import numpy as np

from bridge.media.codecs import ulaw_decode

PHONE_RATE = 8000


def free_udp_port() -> int:
    """An even UDP port nothing listens on now, with the next three free too: sipp's media
    port is the RTP port, +1 its RTCP, +2 and +3 its video RTP and RTCP (it binds all)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port % 2 or port + 3 > 65535:
            continue
        held: list[socket.socket] = []
        try:
            for p in range(port + 1, port + 4):
                other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                held.append(other)
                other.bind(("127.0.0.1", p))
            return port
        except OSError:
            continue
        finally:
            for other in held:
                other.close()
    raise RuntimeError("no four free UDP ports in a row")


def make_speech_wav(
    text: str, path: Path, lead_silence_s: float = 0.0, tail_silence_s: float = 0.0
) -> Path:
    """``text`` spoken by espeak-ng (a voice unlike the bot's), as 8 kHz mu-law WAV for sipp."""
    raw = path.with_suffix(".espeak.wav")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), text], check=True)
    _sox(raw, path, lead_silence_s, tail_silence_s)
    raw.unlink()
    return path


def make_dialogue_wav(parts: list[tuple[str, float]], path: Path) -> Path:
    """One WAV for a whole scripted caller: ``(text, silence_after_s)`` pieces in order
    (``text`` "" for silence only), 8 kHz mu-law for sipp."""
    pieces = []
    for i, (text, pause) in enumerate(parts):
        if text:
            pieces.append(make_speech_wav(text, path.with_name(f"{path.stem}-{i}.wav")))
        if pause > 0:
            pieces.append(make_silence_wav(pause, path.with_name(f"{path.stem}-{i}-pause.wav")))
    subprocess.run(["sox", *map(str, pieces), str(path)], check=True)
    for piece in pieces:
        piece.unlink()
    return path


def make_silence_wav(seconds: float, path: Path) -> Path:
    subprocess.run(
        ["sox", "-n", "-r", "8000", "-c", "1", "-e", "u-law", str(path), "trim", "0", f"{seconds}"],
        check=True,
    )
    return path


def _sox(src: Path, dst: Path, lead: float, tail: float) -> None:
    effects: list[str] = []
    if lead or tail:
        effects = ["pad", f"{lead}", f"{tail}"]
    subprocess.run(
        ["sox", str(src), "-r", "8000", "-c", "1", "-e", "u-law", str(dst), *effects],
        check=True,
    )


_INVITE = """\
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: tester <sip:tester@[local_ip]:[local_port]>;tag=[pid]T[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: sip:tester@[local_ip]:[local_port]
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=tester 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv
"""

_IN_DIALOG = """\
{method} sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: tester <sip:tester@[local_ip]:[local_port]>;tag=[pid]T[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: {cseq} {method}
Contact: sip:tester@[local_ip]:[local_port]
Max-Forwards: 70
{extra}Content-Length: [len]

{body}"""

OK_TO_BYE = """\
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

"""


def cdata(text: str) -> str:
    """``text`` as a sipp scenario message body."""
    return f"<![CDATA[\n{text}\n]]>"


DTMF_SPACING_MS = 250  # between two keys of a typed number, as a person types them


@dataclass(frozen=True)
class CallScript:
    """What the caller does once the call is answered.

    ``audio`` is streamed (looped when ``loop_audio``) from the answer on. The caller sends
    the DTMF keys ``dtmf`` (SIP INFO, one every ``DTMF_SPACING_MS``) from ``dtmf_after_ms``
    on (if set); then it either hangs up
    ``hangup_after_ms`` later, or (``hangup_after_ms`` None) waits up to
    ``expect_bye_within_ms`` for the other side's BYE.
    """

    audio: Path
    loop_audio: bool = False
    hangup_after_ms: int | None = None
    dtmf: str | None = None
    dtmf_after_ms: int = 0
    expect_bye_within_ms: int = 10000

    def scenario(self) -> str:
        loops = -1 if self.loop_audio else 1
        steps = [
            f'<send retrans="500">{cdata(_INVITE)}</send>',
            '<recv response="100" optional="true"/>',
            '<recv response="180" optional="true"/>',
            '<recv response="183" optional="true"/>',
            '<recv response="200" rtd="true"/>',
            "<send>"
            + cdata(_IN_DIALOG.format(method="ACK", cseq=1, extra="", body=""))
            + "</send>",
            f'<nop><action><exec rtp_stream="{self.audio},{loops},0"/></action></nop>',
        ]
        digits = self.dtmf or ""
        for i, digit in enumerate(digits):
            body = f"Signal={digit}\nDuration=160\n"
            pause = self.dtmf_after_ms if i == 0 else DTMF_SPACING_MS
            steps += [
                f'<pause milliseconds="{pause}"/>',
                "<send>"
                + cdata(
                    _IN_DIALOG.format(
                        method="INFO",
                        cseq=2 + i,
                        extra="Content-Type: application/dtmf-relay\n",
                        body=body,
                    )
                )
                + "</send>",
                '<recv response="200"/>',
            ]
        if self.hangup_after_ms is not None:
            steps += [
                f'<pause milliseconds="{self.hangup_after_ms}"/>',
                '<send retrans="500">'
                + cdata(_IN_DIALOG.format(method="BYE", cseq=2 + len(digits), extra="", body=""))
                + "</send>",
                '<recv response="200" crlf="true"/>',
            ]
        else:
            steps += [
                f'<recv request="BYE" timeout="{self.expect_bye_within_ms}"/>',
                f"<send>{cdata(OK_TO_BYE)}</send>",
            ]
        return (
            '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="voicebot-test">\n'
            + "\n".join(steps)
            + "\n</scenario>\n"
        )


@dataclass
class SipMessage:
    t: float
    outgoing: bool  # sent by the caller
    first_line: str
    cseq: str


@dataclass
class CallRecord:
    ok: bool
    sipp_output: str
    sip: list[SipMessage] = field(default_factory=list)
    rtp_times: list[float] = field(default_factory=list)
    rtp_payloads: list[bytes] = field(default_factory=list)
    # What the caller sent (its own RTP), to find where its speech ends.
    sent_times: list[float] = field(default_factory=list)
    sent_payloads: list[bytes] = field(default_factory=list)

    def time_of(self, first_line_prefix: str, cseq_method: str, outgoing: bool) -> float | None:
        for m in self.sip:
            if (
                m.outgoing == outgoing
                and m.first_line.startswith(first_line_prefix)
                and m.cseq.endswith(cseq_method)
            ):
                return m.t
        return None

    @property
    def answered_at(self) -> float | None:
        """When the caller received 200 OK to its INVITE."""
        return self.time_of("SIP/2.0 200", "INVITE", outgoing=False)

    @property
    def bye_from_remote(self) -> bool:
        return self.time_of("BYE ", "BYE", outgoing=False) is not None

    @property
    def bye_from_caller(self) -> bool:
        return self.time_of("BYE ", "BYE", outgoing=True) is not None

    def received_pcm(self) -> np.ndarray:
        """What the caller heard, decoded from the PCMU payloads, as int16 at 8 kHz."""
        return np.frombuffer(ulaw_decode(b"".join(self.rtp_payloads)), dtype=np.int16)

    def received_pcm_between(self, t0: float, t1: float) -> np.ndarray:
        """What the caller heard between capture times ``t0`` and ``t1``, as int16 at 8 kHz."""
        chunks = [p for t, p in zip(self.rtp_times, self.rtp_payloads, strict=True) if t0 <= t < t1]
        return np.frombuffer(ulaw_decode(b"".join(chunks)), dtype=np.int16)

    def first_audio_after_answer(self, threshold_dbfs: float = -40.0) -> float | None:
        """Seconds from the answer to the first received packet whose level exceeds threshold."""
        if self.answered_at is None:
            return None
        for t, payload in zip(self.rtp_times, self.rtp_payloads, strict=True):
            pcm = np.frombuffer(ulaw_decode(payload), dtype=np.int16).astype(np.float64)
            if pcm.size and rms_dbfs(pcm) > threshold_dbfs:
                return t - self.answered_at
        return None

    def speech_spans(
        self,
        sent: bool,
        threshold_dbfs: float = -40.0,
        min_gap_s: float = 0.5,
        min_len_s: float = 0.1,
    ) -> list[tuple[float, float]]:
        """(start, end) capture times of speech in what the caller sent (or received):
        packets above ``threshold_dbfs``, merged across gaps shorter than ``min_gap_s``;
        spans shorter than ``min_len_s`` (a click, sipp streaming a WAV header) are left out."""
        times = self.sent_times if sent else self.rtp_times
        payloads = self.sent_payloads if sent else self.rtp_payloads
        spans: list[tuple[float, float]] = []
        for t, payload in zip(times, payloads, strict=True):
            pcm = np.frombuffer(ulaw_decode(payload), dtype=np.int16)
            if pcm.size and rms_dbfs(pcm) > threshold_dbfs:
                end = t + len(payload) / PHONE_RATE
                if spans and t - spans[-1][1] < min_gap_s:
                    spans[-1] = (spans[-1][0], end)
                else:
                    spans.append((t, end))
        return [(a, b) for a, b in spans if b - a >= min_len_s]

    def turn_latencies(self, threshold_dbfs: float = -40.0) -> list[float]:
        """For each stretch of caller speech, seconds from its end to the first reply audio
        the caller received after it (measured at the caller, on the captured packets)."""
        heard = self.speech_spans(sent=False, threshold_dbfs=threshold_dbfs, min_gap_s=0.1)
        latencies = []
        for _, end in self.speech_spans(sent=True, threshold_dbfs=threshold_dbfs):
            onset = next((start for start, _ in heard if start >= end), None)
            if onset is not None:
                latencies.append(onset - end)
        return latencies

    def pacing(self) -> dict[str, float]:
        """Inter-arrival deviation from 20 ms (p50, p99, max) and gaps over 60 ms, in ms."""
        t = np.asarray(self.rtp_times)
        if t.size < 3:
            return {"packets": float(t.size)}
        d = np.diff(t) * 1000.0
        dev = np.abs(d - 20.0)
        return {
            "packets": float(t.size),
            "dev_p50_ms": float(np.percentile(dev, 50)),
            "dev_p99_ms": float(np.percentile(dev, 99)),
            "dev_max_ms": float(dev.max()),
            "gaps_over_60ms": float(np.sum(d > 60.0)),
            "duration_s": float(t[-1] - t[0]),
        }


def rms_dbfs(pcm: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(np.square(pcm.astype(np.float64))))) if pcm.size else 0.0
    return 20 * np.log10(max(rms, 1e-9) / 32768.0)


def place_call(
    script: CallScript,
    *,
    workdir: Path,
    sip_port: int = 5060,
    extension: str = "100",
    timeout_s: float = 120.0,
) -> CallRecord:
    """Place one call with sipp per ``script`` and return what the caller sent and received."""
    workdir.mkdir(parents=True, exist_ok=True)
    scenario = workdir / "scenario.xml"
    scenario.write_text(script.scenario())
    local_sip = free_udp_port()
    media = free_udp_port()
    pcap = workdir / "call.pcap"
    capture = start_capture(pcap, local_sip, media)
    try:
        proc = subprocess.run(
            [
                "sipp",
                f"127.0.0.1:{sip_port}",
                "-sf",
                str(scenario),
                "-s",
                extension,
                "-m",
                "1",
                "-l",
                "1",
                "-i",
                "127.0.0.1",
                "-p",
                str(local_sip),
                "-mp",
                str(media),
                "-nostdin",
                "-timeout",
                f"{int(timeout_s)}s",
                "-timeout_error",
                "-trace_err",
                "-error_file",
                str(workdir / "sipp-errors.log"),
            ],
            capture_output=True,
            text=True,
            timeout=timeout_s + 10,
            cwd=workdir,
            check=False,
        )
        time.sleep(0.5)  # let the last packets reach the capture
    finally:
        stop_capture(capture)
    errors = workdir / "sipp-errors.log"
    output = proc.stdout[-3000:] + proc.stderr[-2000:]
    if errors.exists():
        output += "\n" + errors.read_text(errors="replace")[-3000:]
    record = CallRecord(ok=proc.returncode == 0, sipp_output=output)
    parse_pcap(pcap, local_sip, media, record)
    return record


def start_capture(pcap: Path, sip_port: int, media_port: int) -> subprocess.Popen[bytes]:
    """tcpdump on the loopback of one SIP party's packets (its SIP and RTP ports), armed."""
    capture = subprocess.Popen(
        [
            "tcpdump",
            "-i",
            "lo",
            "-U",
            "--immediate-mode",
            "-n",
            "-s",
            "0",
            "-w",
            str(pcap),
            f"udp and (port {sip_port} or port {media_port})",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_capture_ready(capture)
    except BaseException:
        stop_capture(capture)
        raise
    return capture


def stop_capture(capture: subprocess.Popen[bytes]) -> None:
    capture.send_signal(signal.SIGINT)
    try:
        capture.wait(timeout=5)
    except subprocess.TimeoutExpired:
        capture.kill()
        capture.wait()


def _wait_capture_ready(capture: subprocess.Popen[bytes]) -> None:
    # tcpdump prints "listening on lo" to stderr once the capture is armed.
    assert capture.stderr is not None
    os.set_blocking(capture.stderr.fileno(), False)
    deadline = time.monotonic() + 5
    seen = b""
    while time.monotonic() < deadline:
        chunk = capture.stderr.read() or b""
        seen += chunk
        if b"listening on" in seen:
            return
        if capture.poll() is not None:
            raise RuntimeError(f"tcpdump failed: {seen.decode(errors='replace')}")
        time.sleep(0.05)
    raise RuntimeError("tcpdump did not start capturing within 5 s")


def parse_pcap(pcap: Path, local_sip: int, media: int, record: CallRecord) -> None:
    """Fill ``record`` with the SIP messages and PCMU packets of the party at ``local_sip``
    and ``media`` in ``pcap``."""
    with open(pcap, "rb") as f:
        for ts, buf in dpkt.pcap.Reader(f):
            ip = _ip_of(buf)
            if ip is None or not isinstance(ip.data, dpkt.udp.UDP):
                continue
            udp = ip.data
            payload = bytes(udp.data)
            if local_sip in (udp.sport, udp.dport) and payload[:3] != b"\x80\x00":
                text = payload.decode(errors="replace")
                first = text.split("\r\n", 1)[0]
                cseq = next(
                    (
                        ln.split(":", 1)[1].strip()
                        for ln in text.split("\r\n")
                        if ln.lower().startswith("cseq:")
                    ),
                    "",
                )
                record.sip.append(SipMessage(ts, udp.sport == local_sip, first, cseq))
            elif udp.sport == media and len(payload) > 12:
                rtp = dpkt.rtp.RTP(payload)
                if rtp.pt == 0:
                    record.sent_times.append(ts)
                    record.sent_payloads.append(bytes(rtp.data))
            elif udp.dport == media and len(payload) > 12:
                rtp = dpkt.rtp.RTP(payload)
                if rtp.pt == 0:  # PCMU audio (telephone-event packets are not audio)
                    record.rtp_times.append(ts)
                    record.rtp_payloads.append(bytes(rtp.data))


def _ip_of(buf: bytes) -> dpkt.ip.IP | None:
    # Linux 'lo' captures are Ethernet-framed (DLT_EN10MB) with zero MAC addresses.
    eth = dpkt.ethernet.Ethernet(buf)
    return eth.data if isinstance(eth.data, dpkt.ip.IP) else None
