"""Who answers a call: an agent (one business's greeting, persona, voice and facts), and what
the channel knows of the call that picks it.

An ``AgentSpec`` is what an admin wrote in an ``[agents.NAME]`` table, already checked
and with paths resolved (the bridge's config loader does that); the brain turns each
into a loaded ``Agent`` once, at start. A ``CallInfo`` is what the door learned of one
call: the agent the dialplan (or the page's ``?agent=``) named, the caller's number and
the number dialled. Neither knows anything of SIP or WebRTC.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_AGENT_GREETING = "Hello, thanks for calling. How can I help you?"


@dataclass(frozen=True)
class AgentSpec:
    """One ``[agents.NAME]`` table. ``knowledge`` and ``voice`` are absolute paths or ""."""

    name: str
    greeting: str = DEFAULT_AGENT_GREETING
    knowledge: str = ""  # the business's facts (Markdown); "" = an agent without facts
    persona: str = ""  # "" = a plain receptionist persona built from the facts' title
    voice: str = ""  # a Piper .onnx; "" = the embedded voice


@dataclass(frozen=True)
class CallInfo:
    """What the door knows of a call; every field may be empty."""

    agent: str = ""  # the agent named for this call ("" = the default agent)
    caller: str = ""  # the caller's number (CALLERID(num)), as the trunk gave it
    dialled: str = ""  # the number the caller dialled (the DID), as the trunk gave it
