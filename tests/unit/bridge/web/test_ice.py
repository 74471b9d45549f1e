"""The loopback guard on the browser's ICE candidates."""

from __future__ import annotations

from bridge.web.ice import keep_loopback_candidates

OFFER = (
    "v=0\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
    "a=candidate:1 1 udp 2122260223 192.0.2.2 50000 typ host generation 0\r\n"
    "a=candidate:2 1 udp 2122260222 127.0.0.1 50001 typ host generation 0\r\n"
    "a=candidate:3 1 udp 2122260221 4f6e7a1c-1c2d-4b1e-9f0a-2b9f3f7f7a11.local 50002 typ host\r\n"
    "a=candidate:4 1 udp 2122260220 ::1 50003 typ host generation 0\r\n"
    "a=sendrecv\r\n"
)


def test_loopback_host_keeps_only_loopback_candidates() -> None:
    out = keep_loopback_candidates(OFFER, "127.0.0.1")
    assert "127.0.0.1 50001" in out and "::1 50003" in out
    assert "192.0.2.2" not in out and ".local" not in out
    assert out.startswith("v=0\r\n") and out.endswith("a=sendrecv\r\n")


def test_other_hosts_leave_the_offer_alone() -> None:
    assert keep_loopback_candidates(OFFER, "") == OFFER
    assert keep_loopback_candidates(OFFER, "192.0.2.2") == OFFER
