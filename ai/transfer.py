"""Putting a caller through to a person: the lines the bot says, and the hand-over.

Theory of operation
-------------------
A caller asks for a person (ai/person_request.py) or presses a transfer key
(``0`` by default). If the agent has a ``transfer_to`` and the channel can
transfer (a phone call can; a browser session cannot), the bot says ``GOING``,
waits until every sample of it has been sent, and asks the channel to
``transfer(target)``: the phone door redirects the caller's Asterisk channel to
that dialplan place (AMI Redirect), which ends the bot's AudioSocket leg, so the
bridge never relays audio between two calls. A transfer the PBX refuses gets
``FAILED`` and the call goes on with the bot. When nobody answers there, the
dialplan brings the caller back to the same agent with the Dial's status, and the
bot opens with ``NOBODY`` instead of its greeting. Without a transfer, the bot
says ``CANNOT`` and the call goes on. An agent that takes messages ends those three
lines with the offer of a message instead of "anything else?" (``line()``).

The lines are generic receptionist English, the same for every business; each
agent renders them once at load (ai/agent.py) so none waits for TTS.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

from ai.channel import Channel

log = logging.getLogger(__name__)

GOING = "Of course. I'll put you through now, please hold."
CANNOT = (
    "I'm sorry, I can't put you through to a person on this line. "
    "Is there anything I can help you with?"
)
FAILED = (
    "I'm sorry, I couldn't put you through just now. Is there anything else I can help you with?"
)
NOBODY = (
    "I'm sorry, nobody is available to take your call right now. "
    "Is there anything else I can help you with?"
)
LINES = (GOING, CANNOT, FAILED, NOBODY)
_ASKS_WHAT_ELSE = re.compile(r" Is there anything (?:else )?I can help you with\?$")


def line(key: str, offer: str = "") -> str:
    """What the bot says for ``key`` (one of ``LINES``): with ``offer`` (an agent that
    takes messages: ai/message_taking.py's question), a line that would ask what else it
    can do offers to take a message instead."""
    return _ASKS_WHAT_ELSE.sub(f" {offer}", key) if offer else key


async def hand_over(
    channel: Channel, target: str, say_failed: Callable[[], Awaitable[None]]
) -> bool:
    """Once the bot's line has been heard, transfer the call to ``target``; on refusal,
    ``say_failed()``. True when the call left the bot."""
    await channel.wait_output_idle()
    if channel.ended:
        return False
    if await channel.transfer(target):
        log.info("session %s: put through to %s", channel.name, target)
        return True
    log.warning("session %s: the transfer to %s was refused", channel.name, target)
    await say_failed()
    return False
