"""Asterisk Manager Interface (AMI) through pyst2: health checks, call lookup, call control.

pyst2 is blocking (a socket and a reader thread per connection), so every call
here runs on a worker thread via ``asyncio.to_thread``; a short-lived
connection per request keeps it simple and robust to Asterisk restarts. Each
connection logs in with ``Events: off``: none of these requests wants the
stream of channel events (and pyst2 0.5 cannot parse ``ChanVariable`` headers,
which an admin's ``channelvars`` would add to every one).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import TypeVar

from asterisk.manager import Manager, ManagerException

from bridge.pbx.instance import AmiCredentials

log = logging.getLogger(__name__)

T = TypeVar("T")


class AmiError(RuntimeError):
    """AMI could not be reached or refused the action."""


def _session(creds: AmiCredentials, work: Callable[[Manager], T]) -> T:
    """Connect, log in, run ``work``, close: one blocking AMI session (on a worker thread)."""
    manager = Manager()
    try:
        manager.connect(creds.host, creds.port)
        response = manager.send_action(
            {
                "Action": "Login",
                "Username": creds.username,
                "Secret": creds.secret,
                "Events": "off",
            }
        )
        if response.get_header("Response") != "Success":
            raise AmiError(
                f"AMI {creds.host}:{creds.port}: login refused: {response.get_header('Message')}"
            )
        return work(manager)
    except (ManagerException, OSError) as exc:
        raise AmiError(f"AMI {creds.host}:{creds.port}: {exc}") from exc
    finally:
        try:
            manager.close()
        except Exception:
            pass


def _command_output(manager: Manager, command: str) -> str:
    response = manager.command(command)
    lines = getattr(response, "response", None) or []
    return "".join(
        line[len("Output: ") :] if line.startswith("Output: ") else "" for line in lines
    ).replace("\r\n", "\n")


async def command(creds: AmiCredentials, cli_command: str, timeout_s: float = 5.0) -> str:
    """Run an Asterisk CLI command over AMI (Action: Command) and return its output."""
    async with asyncio.timeout(timeout_s):
        return await asyncio.to_thread(
            _session, creds, lambda manager: _command_output(manager, cli_command)
        )


def _status_lines(manager: Manager, variables: Iterable[str]) -> list[str]:
    # pyst2 special-cases this action: its reader keeps the whole answer ("Channel status
    # will follow", one Status event per channel, then StatusComplete) in one response.
    response = manager.send_action({"Action": "Status", "Variables": ",".join(variables)})
    return list(getattr(response, "response", None) or [])


async def status(
    creds: AmiCredentials, variables: Iterable[str] = (), timeout_s: float = 5.0
) -> list[str]:
    """The raw lines of Action: Status: every channel, each with ``variables``' values
    (``Variable: NAME=value`` lines). ``bridge/phone/call_info.py`` reads them."""
    names = tuple(variables)
    async with asyncio.timeout(timeout_s):
        return await asyncio.to_thread(
            _session, creds, lambda manager: _status_lines(manager, names)
        )


def _redirect(manager: Manager, channel: str, context: str, exten: str, priority: str) -> None:
    response = manager.send_action(
        {
            "Action": "Redirect",
            "Channel": channel,
            "Context": context,
            "Exten": exten,
            "Priority": priority,
        }
    )
    if response.get_header("Response") != "Success":
        raise AmiError(f"Redirect of {channel} refused: {response.get_header('Message')}")


async def redirect(
    creds: AmiCredentials, channel: str, target: str, timeout_s: float = 5.0
) -> None:
    """Send ``channel`` on to ``target`` ("context,exten,priority") of the dialplan (Action:
    Redirect): whatever application the channel runs (AudioSocket) ends, and the call
    continues there. Raises ``AmiError`` when Asterisk refuses."""
    context, exten, priority = (part.strip() for part in target.split(","))
    async with asyncio.timeout(timeout_s):
        await asyncio.to_thread(
            _session, creds, lambda manager: _redirect(manager, channel, context, exten, priority)
        )


async def endpoint_loaded(creds: AmiCredentials, endpoint: str) -> bool:
    """True when Asterisk answers on AMI and knows the PJSIP ``endpoint``."""
    try:
        out = await command(creds, f"pjsip show endpoint {endpoint}")
    except (AmiError, TimeoutError) as exc:
        log.debug("health: %s", exc)
        return False
    return f"Endpoint:  {endpoint}" in out
