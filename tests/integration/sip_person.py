"""The person a caller is put through to: sipp as a SIP user agent server at a fixed
loopback address (the static contact of the ``reception`` endpoint in the test's copy of
``asterisk/pjsip-people.conf``), with tcpdump recording what it receives.

``Person(answer=True)`` answers the INVITE, speaks its WAV as RTP and waits for the BYE;
``Person(answer=False)`` is busy (486). ``received`` after ``stop()`` is a ``CallRecord``
of the person's side: the SIP messages and the caller's audio that reached the person.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from bench.sipcaller import (
    OK_TO_BYE,
    CallRecord,
    cdata,
    free_udp_port,
    parse_pcap,
    start_capture,
    stop_capture,
)

_HEADERS = """[last_Via:]
[last_From:]
[last_To:];tag=[pid]P[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:reception@[local_ip]:[local_port]>"""

_RINGING = f"SIP/2.0 180 Ringing\n{_HEADERS}\nContent-Length: 0\n\n"
_BUSY = f"SIP/2.0 486 Busy Here\n{_HEADERS}\nContent-Length: 0\n\n"
_ANSWER = f"""SIP/2.0 200 OK
{_HEADERS}
Content-Type: application/sdp
Content-Length: [len]

v=0
o=person 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
a=ptime:20
a=sendrecv
"""


def scenario(answer: bool, audio: Path | None, wait_ms: int) -> str:
    steps = [f'<recv request="INVITE" timeout="{wait_ms}"/>', f"<send>{cdata(_RINGING)}</send>"]
    if answer:
        steps += [
            '<pause milliseconds="300"/>',
            f'<send retrans="500">{cdata(_ANSWER)}</send>',
            '<recv request="ACK"/>',
        ]
        if audio is not None:
            steps.append(f'<nop><action><exec rtp_stream="{audio},1,0"/></action></nop>')
        steps += [f'<recv request="BYE" timeout="{wait_ms}"/>', f"<send>{cdata(OK_TO_BYE)}</send>"]
    else:
        steps += [f"<send>{cdata(_BUSY)}</send>", '<recv request="ACK"/>']
    return (
        '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="person">\n'
        + "\n".join(steps)
        + "\n</scenario>\n"
    )


class Person:
    def __init__(
        self, workdir: Path, answer: bool, audio: Path | None = None, wait_ms: int = 60000
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.port = free_udp_port()
        self.media = free_udp_port()
        self.answer = answer
        self.audio = audio
        self.wait_ms = wait_ms
        self.received = CallRecord(ok=False, sipp_output="")
        self._sipp: subprocess.Popen[str] | None = None
        self._capture: subprocess.Popen[bytes] | None = None

    @property
    def contact(self) -> str:
        return f"sip:reception@127.0.0.1:{self.port}"

    def start(self) -> None:
        path = self.workdir / "person.xml"
        path.write_text(scenario(self.answer, self.audio, self.wait_ms))
        self._capture = start_capture(self.workdir / "person.pcap", self.port, self.media)
        self._sipp = subprocess.Popen(
            [
                "sipp",
                "-sf",
                str(path),
                "-i",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-mp",
                str(self.media),
                "-m",
                "1",
                "-nostdin",
                "-timeout",
                f"{self.wait_ms // 1000 + 30}s",
                "-trace_err",
                "-error_file",
                str(self.workdir / "sipp-errors.log"),
            ],
            cwd=self.workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def stop(self, timeout_s: float = 15.0) -> CallRecord:
        """Wait for sipp to finish its scenario (killed after ``timeout_s``), then read what
        the person received."""
        output = ""
        if self._sipp is not None:
            try:
                output, _ = self._sipp.communicate(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self._sipp.kill()
                output, _ = self._sipp.communicate()
            self.received.ok = self._sipp.returncode == 0
        if self._capture is not None:
            stop_capture(self._capture)
            parse_pcap(self.workdir / "person.pcap", self.port, self.media, self.received)
        errors = self.workdir / "sipp-errors.log"
        self.received.sipp_output = (output or "")[-3000:] + (
            errors.read_text(errors="replace")[-3000:] if errors.exists() else ""
        )
        return self.received
