"""Which agent answers a phone call, and who called which number: asked of Asterisk over AMI.

Theory of operation
-------------------
AudioSocket carries audio and one call id, nothing else. So the dialplan
(``asterisk/extensions.conf``, context ``[voicebot]``) puts what the bridge needs
in channel variables before it starts ``AudioSocket()``:

- ``VOICEBOT_CALL``: a fresh ``${UUID()}``, also the AudioSocket call id;
- ``VOICEBOT_AGENT``: the agent, set by the admin's line for the number
  (``exten => +15551234567,1,Set(VOICEBOT_AGENT=reception)``);
- ``VOICEBOT_CALLER``: ``${CALLERID(num)}``;
- ``VOICEBOT_DIALLED``: the number dialled (the admin's context may set it,
  else the DNID chan_pjsip took from the Request-URI);
- ``VOICEBOT_TRANSFER_STATUS``: set by ``[people]`` when a transfer found nobody
  and the caller is back with the bot (the Dial's ``DIALSTATUS``).

When a call's id frame arrives, ``lookup`` opens one AMI session and sends
``Action: Status`` with ``Variables: VOICEBOT_CALL,...``: Asterisk answers with
one ``Status`` event per channel, each with ``Variable: NAME=value`` lines and
the channel's name. ``find_call`` (pure, tested on recorded answers) picks the
channel whose ``VOICEBOT_CALL`` is this call's id; its name is kept (a transfer
will redirect that channel over AMI). On a local Asterisk this takes a few
milliseconds, while the bridge already sends the caller silence.

Failure policy: a call is always answered. No AMI credentials, AMI down, a
timeout, or no channel with the id (a dialplan that does not set
``VOICEBOT_CALL``): one warning, and the call gets ``CallInfo()``, the default
agent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ai.agent import CallInfo
from bridge.pbx.instance import AmiCredentials
from bridge.phone import ami

log = logging.getLogger(__name__)

CALL_VARIABLES = (
    "VOICEBOT_CALL",
    "VOICEBOT_AGENT",
    "VOICEBOT_CALLER",
    "VOICEBOT_DIALLED",
    "VOICEBOT_TRANSFER_STATUS",
)
_NO_NUMBER = ("", "<unknown>")  # what Asterisk prints for an absent caller id or DNID


@dataclass(frozen=True)
class AsteriskCall:
    """The Asterisk side of one AudioSocket call: its channel, and what the dialplan set."""

    channel: str  # e.g. "PJSIP/trunk-0000002a": what AMI Redirect or Hangup take
    uniqueid: str  # Asterisk's id of the channel (CDR, CEL, the Asterisk log)
    info: CallInfo


@dataclass(frozen=True)
class AmiMessage:
    """One AMI message: its headers, and its ``Variable:``/``ChanVariable:`` lines apart."""

    headers: dict[str, str]
    variables: dict[str, str]


def messages(lines: Iterable[str]) -> Iterator[AmiMessage]:
    """The messages in an AMI answer's raw lines (``Key: value``, blank line between)."""
    headers: dict[str, str] = {}
    variables: dict[str, str] = {}
    for raw in [*lines, ""]:
        line = raw.rstrip("\r\n")
        if not line:
            if headers or variables:
                yield AmiMessage(headers, variables)
            headers, variables = {}, {}
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue  # not a header (command output); Status answers have none
        key, value = key.strip(), value.strip()
        if key in ("Variable", "ChanVariable"):
            name, _, var_value = value.partition("=")
            variables[name.strip()] = var_value.strip()
        else:
            headers[key] = value


def _value(text: str) -> str:
    """A channel variable's value; "" for one the channel never set (AMI says "(null)")."""
    return "" if text == "(null)" else text


def find_call(lines: Iterable[str], call_uuid: str) -> AsteriskCall | None:
    """The channel of the Status answer ``lines`` whose ``VOICEBOT_CALL`` is ``call_uuid``."""
    wanted = call_uuid.strip().lower()
    for message in messages(lines):
        if message.headers.get("Event") != "Status":
            continue
        v = {name: _value(value) for name, value in message.variables.items()}
        if v.get("VOICEBOT_CALL", "").strip().lower() != wanted:
            continue
        h = message.headers
        caller = v.get("VOICEBOT_CALLER", "") or h.get("CallerIDNum", "")
        dialled = v.get("VOICEBOT_DIALLED", "") or h.get("DNID", "")
        return AsteriskCall(
            channel=h.get("Channel", ""),
            uniqueid=h.get("Uniqueid", ""),
            info=CallInfo(
                agent=v.get("VOICEBOT_AGENT", ""),
                caller="" if caller in _NO_NUMBER else caller,
                dialled="" if dialled in _NO_NUMBER else dialled,
                transfer_status=v.get("VOICEBOT_TRANSFER_STATUS", ""),
            ),
        )
    return None


async def lookup(
    creds: AmiCredentials | None, call_uuid: str, timeout_s: float = 1.0
) -> AsteriskCall | None:
    """The channel and call info of the AudioSocket call ``call_uuid``; ``None`` (after one
    warning) when Asterisk cannot say: the caller then gets the default agent."""
    if creds is None:
        log.warning("call %s: no AMI credentials to ask Asterisk for its agent", call_uuid)
        return None
    started = time.monotonic()
    try:
        lines = await ami.status(creds, CALL_VARIABLES, timeout_s=timeout_s)
    except (ami.AmiError, TimeoutError) as exc:
        log.warning(
            "call %s: cannot ask Asterisk for its agent (%s): the default agent answers",
            call_uuid,
            str(exc) or f"no answer within {timeout_s:g} s",
        )
        return None
    found = find_call(lines, call_uuid)
    elapsed_ms = (time.monotonic() - started) * 1000.0
    if found is None:
        log.warning(
            "call %s: no Asterisk channel has VOICEBOT_CALL=%s (does the dialplan set it "
            "before AudioSocket()?): the default agent answers",
            call_uuid,
            call_uuid,
        )
        return None
    i = found.info
    log.info(
        "call %s: channel %s, agent %r, caller %r, dialled %r (AMI lookup %.1f ms)",
        call_uuid,
        found.channel,
        i.agent,
        i.caller,
        i.dialled,
        elapsed_ms,
    )
    return found
