"""The dialplan places a transfer may go to, read from extensions.conf text."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import PROJECT_ROOT
from bridge.pbx import dialplan

TEXT = """
[general]
static=yes
[globals]
FOO=bar ; not a context
[tpl](!)
exten => t,1,NoOp()
[people]
include => more
exten => reception,1,NoOp(front desk) ; a comment
 same => n(ring),Dial(PJSIP/reception,20)
exten => 100/5551234,1,NoOp(caller id match)
exten => _1XX,1,Dial(PJSIP/${EXTEN})
exten => _[a-c]!,1,NoOp()
[more]
exten => sales,1,Dial(PJSIP/sales)
"""


@pytest.mark.parametrize(
    "target",
    [
        "people,reception,1",
        "people, reception, ring",
        "people,100,1",
        "people,150,2",
        "people,b,1",
        "people,sales,1",
        "more,sales,1",
    ],
)
def test_places_the_dialplan_has(target: str) -> None:
    assert dialplan.parse(TEXT).check_target(target) == ""


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("people", "context,extension,priority"),
        ("people,,1", "context,extension,priority"),
        ("tpl,t,1", "no context [tpl]"),
        ("globals,FOO,1", "no context [globals]"),
        ("people,200,1", "no extension '200'"),
        ("people,1000,1", "no extension '1000'"),
        ("people,d,1", "no extension 'd'"),
        ("people,reception,hold", "no priority 'hold'"),
        ("people,reception,0", "start at 1"),
    ],
)
def test_places_it_has_not_say_why(target: str, why: str) -> None:
    assert why in dialplan.parse(TEXT).check_target(target)


def test_includes_beside_the_file_are_read_and_missing_ones_skipped(tmp_path: Path) -> None:
    (tmp_path / "extensions.conf").write_text(
        '#include "desks.conf"\n#tryinclude "voicebot-generated.conf"\n[a]\nexten => s,1,NoOp()\n'
    )
    (tmp_path / "desks.conf").write_text("[desks]\nexten => 7,1,Dial(PJSIP/seven)\n")
    plan = dialplan.load(tmp_path / "extensions.conf")
    assert plan.check_target("desks,7,1") == "" and plan.check_target("a,s,1") == ""


def test_the_shipped_dialplan_has_the_people_context() -> None:
    plan = dialplan.load(PROJECT_ROOT / "asterisk" / "extensions.conf")
    assert plan.check_target("people,reception,1") == ""
    assert plan.check_target("voicebot,s,1") == ""
