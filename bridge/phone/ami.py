"""Asterisk Manager Interface (AMI) through pyst2: health checks and call control.

pyst2 is blocking (a socket and a reader thread per connection), so every call
here runs on a worker thread via ``asyncio.to_thread``; a short-lived
connection per request keeps it simple and robust to Asterisk restarts.
"""

from __future__ import annotations

import asyncio
import logging

from asterisk.manager import Manager, ManagerException

from bridge.pbx.instance import AmiCredentials

log = logging.getLogger(__name__)


class AmiError(RuntimeError):
    """AMI could not be reached or refused the action."""


def _command_sync(creds: AmiCredentials, command: str) -> str:
    manager = Manager()
    try:
        manager.connect(creds.host, creds.port)
        manager.login(creds.username, creds.secret)
        response = manager.command(command)
        lines = getattr(response, "response", None) or []
        return "".join(
            line[len("Output: ") :] if line.startswith("Output: ") else "" for line in lines
        ).replace("\r\n", "\n")
    except (ManagerException, OSError) as exc:
        raise AmiError(f"AMI {creds.host}:{creds.port}: {exc}") from exc
    finally:
        try:
            manager.close()
        except Exception:
            pass


async def command(creds: AmiCredentials, cli_command: str, timeout_s: float = 5.0) -> str:
    """Run an Asterisk CLI command over AMI (Action: Command) and return its output."""
    async with asyncio.timeout(timeout_s):
        return await asyncio.to_thread(_command_sync, creds, cli_command)


async def endpoint_loaded(creds: AmiCredentials, endpoint: str) -> bool:
    """True when Asterisk answers on AMI and knows the PJSIP ``endpoint``."""
    try:
        out = await command(creds, f"pjsip show endpoint {endpoint}")
    except (AmiError, TimeoutError) as exc:
        log.debug("health: %s", exc)
        return False
    return f"Endpoint:  {endpoint}" in out
