"""Which local addresses aiortc offers as ICE host candidates, and its ICE servers.

Why a patch: aioice (aiortc's ICE agent) gathers a host candidate on every
non-loopback interface and has no public option to choose them. On an
on-prem box that is often wrong: tests must stay on loopback (aioice even
*excludes* 127.0.0.1), and an admin may want WebRTC on one LAN address only.
This module is the ONE place that changes it: it wraps
``aioice.ice.get_host_addresses`` (the module global that
``Connection.gather_candidates`` calls) so that, when a host is configured,
only that address is offered. An empty host restores aioice's own discovery.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Sequence

import aioice.ice
from aiortc import RTCConfiguration, RTCIceServer

log = logging.getLogger(__name__)

_ORIGINAL: Callable[[bool, bool], list[str]] = aioice.ice.get_host_addresses


def restrict_host_candidates(host: str) -> None:
    """Offer only ``host`` (an IPv4 or IPv6 literal) as ICE host candidate; "" = all.

    Process-wide, like aioice's own discovery; call it once at start-up.
    """
    if not host:
        aioice.ice.get_host_addresses = _ORIGINAL
        return
    address = ipaddress.ip_address(host)  # ValueError for a name: candidates need literals

    def only_configured(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        wanted = use_ipv4 if address.version == 4 else use_ipv6
        return [str(address)] if wanted else []

    aioice.ice.get_host_addresses = only_configured
    log.info("webrtc: ICE host candidates restricted to %s", address)


def keep_loopback_candidates(sdp: str, host: str) -> str:
    """When we listen on loopback only, drop the browser's non-loopback ICE candidates.

    Why: connectivity checks from our 127.0.0.1 candidate to the browser's LAN
    address would still leave loopback. A browser on this machine also offers a
    loopback candidate (Chromium: ``--allow-loopback-in-peer-connection``), and
    that is the one to use. For any other ``host`` the SDP is returned unchanged.
    """
    if not host or not ipaddress.ip_address(host).is_loopback:
        return sdp
    kept = []
    for line in sdp.splitlines(keepends=True):
        if line.startswith("a=candidate:"):
            fields = line.split()
            try:
                if not ipaddress.ip_address(fields[4]).is_loopback:
                    continue
            except (IndexError, ValueError):  # mDNS ".local" names, malformed lines
                continue
        kept.append(line)
    return "".join(kept)


def rtc_configuration(
    urls: Sequence[str], username: str = "", credential: str = ""
) -> RTCConfiguration:
    """aiortc's configuration for the STUN/TURN ``urls`` (credentials apply to TURN only)."""
    servers = []
    for url in urls:
        if url.startswith(("turn:", "turns:")):
            servers.append(
                RTCIceServer(urls=url, username=username or None, credential=credential or None)
            )
        else:
            servers.append(RTCIceServer(urls=url))
    return RTCConfiguration(iceServers=servers)


def browser_ice_servers(
    urls: Sequence[str], username: str = "", credential: str = ""
) -> list[dict[str, object]]:
    """The same servers as the page's ``RTCPeerConnection({iceServers})`` wants them."""
    servers: list[dict[str, object]] = []
    for url in urls:
        server: dict[str, object] = {"urls": url}
        if url.startswith(("turn:", "turns:")) and username:
            server["username"] = username
            server["credential"] = credential
        servers.append(server)
    return servers
