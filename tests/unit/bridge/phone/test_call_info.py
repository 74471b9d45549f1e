"""Finding a call's channel and agent in Asterisk's Status answer, and the lookup's failures.

The answers are recorded from Asterisk 22 (``Action: Status`` with ``Variables:``, as
pyst2 returns it: one response holding the whole list). A small fake AMI server plays
Asterisk for the lookup through pyst2.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid

import pytest

from ai.agent import CallInfo
from bridge.pbx.instance import AmiCredentials
from bridge.phone.call_info import CALL_VARIABLES, AsteriskCall, find_call, lookup, messages
from tests.unit.bridge.asyncio_run import run

CALL = "91211db4-d75c-4a4c-ad0d-ac6c968ffc5d"
OTHER = "0f6bc0f6-1d8d-40f3-8554-7baf24bbf25a"
SECRET = "s3cret"

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:asterisk.manager")


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_event(call: str, agent: str, channel: str, *, caller: str = "tester") -> list[str]:
    """One ``Status`` event as Asterisk 22 writes it (the headers a lookup reads, and more)."""
    return [
        "Event: Status\r\n",
        "Privilege: Call\r\n",
        f"Channel: {channel}\r\n",
        "ChannelState: 6\r\n",
        "ChannelStateDesc: Up\r\n",
        "CallerIDNum: tester\r\n",
        "CallerIDName: tester\r\n",
        "ConnectedLineNum: <unknown>\r\n",
        "Context: voicebot\r\n",
        "Exten: s\r\n",
        "Priority: 7\r\n",
        "Uniqueid: 1796168922.0\r\n",
        "Type: PJSIP\r\n",
        "DNID: 200\r\n",
        "Application: AudioSocket\r\n",
        f"Data: {call},127.0.0.1:9092\r\n",
        "Writetrans: (slin@8000)->(ulaw@8000)\r\n",
        "Seconds: 1\r\n",
        f"Variable: VOICEBOT_CALL={call}\r\n",
        f"Variable: VOICEBOT_AGENT={agent}\r\n",
        f"Variable: VOICEBOT_CALLER={caller}\r\n",
        "Variable: VOICEBOT_DIALLED=200\r\n",
        "ActionID: vm-00000001\r\n",
        "\r\n",
    ]


def status_answer(*events: list[str]) -> list[str]:
    return [
        "Response: Success\r\n",
        "ActionID: vm-00000001\r\n",
        "EventList: start\r\n",
        "Message: Channel status will follow\r\n",
        "\r\n",
        *[line for event in events for line in event],
        "Event: StatusComplete\r\n",
        "ActionID: vm-00000001\r\n",
        "EventList: Complete\r\n",
        f"ListItems: {len(events)}\r\n",
        f"Items: {len(events)}\r\n",
    ]


ANSWER = status_answer(
    status_event(OTHER, "reception", "PJSIP/loopback-00000000"),
    status_event(CALL, "plumber", "PJSIP/loopback-00000001"),
)


# -- reading the answer ---------------------------------------------------------------


def test_messages_split_the_answer_and_keep_variables_apart() -> None:
    found = list(messages(ANSWER))
    assert [m.headers.get("Event", m.headers.get("Response")) for m in found] == [
        "Success",
        "Status",
        "Status",
        "StatusComplete",
    ]
    assert found[2].variables == {
        "VOICEBOT_CALL": CALL,
        "VOICEBOT_AGENT": "plumber",
        "VOICEBOT_CALLER": "tester",
        "VOICEBOT_DIALLED": "200",
    }
    assert found[2].headers["Data"] == f"{CALL},127.0.0.1:9092"  # a colon in the value


def test_the_channel_with_the_calls_id_is_found() -> None:
    assert find_call(ANSWER, CALL) == AsteriskCall(
        channel="PJSIP/loopback-00000001",
        uniqueid="1796168922.0",
        info=CallInfo(agent="plumber", caller="tester", dialled="200"),
    )


def test_the_id_is_compared_without_regard_to_case() -> None:
    found = find_call(ANSWER, CALL.upper())
    assert found is not None and found.channel == "PJSIP/loopback-00000001"
    assert find_call(ANSWER, str(uuid.UUID(CALL))) == find_call(ANSWER, CALL)


def test_no_channel_with_the_id_is_none() -> None:
    assert find_call(ANSWER, str(uuid.uuid4())) is None
    assert find_call(status_answer(), CALL) is None


def test_unset_variables_fall_back_to_the_channels_own_numbers() -> None:
    event = [
        line
        for line in status_event(CALL, "", "PJSIP/trunk-0000002a")
        if not line.startswith(("Variable: VOICEBOT_CALLER", "Variable: VOICEBOT_DIALLED"))
    ]
    found = find_call(status_answer(event), CALL)
    assert found is not None
    assert found.info == CallInfo(agent="", caller="tester", dialled="200")


def test_unknown_numbers_are_empty() -> None:
    event = status_event(CALL, "", "PJSIP/trunk-0000002a", caller="")
    event = [
        "CallerIDNum: <unknown>\r\n" if line.startswith("CallerIDNum") else line
        for line in event
        if not line.startswith(("Variable: VOICEBOT_DIALLED", "DNID"))
    ]
    found = find_call(status_answer(event), CALL)
    assert found is not None and found.info == CallInfo()


def test_chanvariable_lines_count_too() -> None:
    """An admin's ``channelvars`` in manager.conf puts them in as ``ChanVariable:``."""
    event = [
        line.replace("Variable: ", "ChanVariable: ") for line in status_event(CALL, "a", "X/1")
    ]
    found = find_call(status_answer(event), CALL)
    assert found is not None and found.info.agent == "a"


# -- the lookup through pyst2, against a fake AMI --------------------------------------


class FakeAmi:
    """Speaks just enough AMI: the greeting, Login, Status (a canned answer), Logoff."""

    def __init__(self, answer: list[str], delay_s: float = 0.0) -> None:
        self.answer = answer
        self.delay_s = delay_s
        self.actions: list[dict[str, str]] = []
        self.sessions: list[asyncio.Task[None]] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.sessions.append(task)
        writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        try:
            while True:
                action: dict[str, str] = {}
                while (line := (await reader.readline()).decode()) not in ("\r\n", ""):
                    key, _, value = line.partition(":")
                    action[key.strip()] = value.strip()
                if not action:
                    return
                self.actions.append(action)
                writer.write(await self._answer(action))
                await writer.drain()
                if action["Action"] == "Logoff":
                    return
        finally:
            writer.close()

    async def _answer(self, action: dict[str, str]) -> bytes:
        aid = f"ActionID: {action.get('ActionID', '')}\r\n"
        if action["Action"] == "Login":
            ok = action.get("Secret") == SECRET
            return (
                f"Response: {'Success' if ok else 'Error'}\r\n{aid}"
                f"Message: Authentication {'accepted' if ok else 'failed'}\r\n\r\n"
            ).encode()
        if action["Action"] == "Status":
            await asyncio.sleep(self.delay_s)
            return ("".join(self.answer) + "\r\n").encode()
        return f"Response: Goodbye\r\n{aid}Message: Thanks for all the fish.\r\n\r\n".encode()


async def with_fake_ami(fake: FakeAmi, secret: str, timeout_s: float = 2.0):  # type: ignore[no-untyped-def]
    server = await asyncio.start_server(fake.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        creds = AmiCredentials("127.0.0.1", port, "voicebot", secret)
        return await lookup(creds, CALL, timeout_s=timeout_s)
    finally:
        # A lookup that timed out left pyst2's thread waiting: let it finish its session.
        if fake.sessions:
            await asyncio.wait(fake.sessions, timeout=2.0)
        server.close()
        await server.wait_closed()


def test_lookup_asks_status_for_the_call_variables_without_events() -> None:
    fake = FakeAmi(ANSWER)
    found = run(with_fake_ami(fake, SECRET))
    assert found is not None
    assert found.channel == "PJSIP/loopback-00000001"
    assert found.info == CallInfo(agent="plumber", caller="tester", dialled="200")
    login, status, logoff = fake.actions
    assert login["Action"] == "Login" and login["Events"] == "off"
    assert status["Action"] == "Status"
    assert status["Variables"] == ",".join(CALL_VARIABLES)
    assert logoff["Action"] == "Logoff"


def test_a_refused_login_is_one_warning_and_no_call(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "bridge.phone.call_info")
    assert run(with_fake_ami(FakeAmi(ANSWER), "wrong")) is None
    assert len(caplog.records) == 1
    assert "login refused" in caplog.text and "default agent" in caplog.text


def test_no_channel_with_the_id_is_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "bridge.phone.call_info")
    assert run(with_fake_ami(FakeAmi(status_answer()), SECRET)) is None
    assert len(caplog.records) == 1 and "VOICEBOT_CALL" in caplog.text


def test_a_slow_asterisk_times_out(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "bridge.phone.call_info")
    assert run(with_fake_ami(FakeAmi(ANSWER, delay_s=0.5), SECRET, timeout_s=0.1)) is None
    assert len(caplog.records) == 1 and "no answer within 0.1 s" in caplog.text


def test_no_asterisk_at_all(caplog: pytest.LogCaptureFixture, unused_port: int) -> None:
    caplog.set_level(logging.WARNING, "bridge.phone.call_info")
    creds = AmiCredentials("127.0.0.1", unused_port, "voicebot", SECRET)
    assert run(lookup(creds, CALL)) is None
    assert len(caplog.records) == 1 and "cannot ask Asterisk" in caplog.text


def test_no_credentials(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "bridge.phone.call_info")
    assert run(lookup(None, CALL)) is None
    assert len(caplog.records) == 1 and "no AMI credentials" in caplog.text


def test_a_caller_back_from_a_transfer_carries_the_dial_status() -> None:
    event = status_event(CALL, "reception", "PJSIP/loopback-00000002")
    event.insert(-3, "Variable: VOICEBOT_TRANSFER_STATUS=NOANSWER\r\n")
    found = find_call(status_answer(event), CALL)
    assert found is not None and found.info.transfer_status == "NOANSWER"
    assert "VOICEBOT_TRANSFER_STATUS" in CALL_VARIABLES


def test_a_variable_the_dialplan_never_set_is_empty() -> None:
    """Asterisk 22 answers "(null)" for a variable the channel does not have."""
    event = status_event(CALL, "(null)", "PJSIP/loopback-00000003")
    event.insert(-3, "Variable: VOICEBOT_TRANSFER_STATUS=(null)\r\n")
    found = find_call(status_answer(event), CALL)
    assert found is not None and found.info.agent == "" and found.info.transfer_status == ""
