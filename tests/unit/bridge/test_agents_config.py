"""Agents: the embedded examples, [agents.NAME] tables, and errors naming the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from ai.agent import AgentSpec
from bridge.agents_config import EMBEDDED_AGENTS, load_agents
from bridge.config import DEFAULT_GREETING, PROJECT_ROOT, ConfigError, load_settings


@pytest.fixture(autouse=True)
def no_config_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOICEBOT_CONFIG", raising=False)


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "voicebot.toml"
    path.write_text(text, encoding="utf-8")
    return path


def facts(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# {name}\n\n## Hours\nWe are open on Mondays.\n", encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_agents(path)
    return str(caught.value)


# -- the embedded agents ---------------------------------------------------------------


def test_without_a_file_the_embedded_agents_answer() -> None:
    specs, default = load_agents()
    assert default == "reception"
    assert [s.name for s in specs] == ["reception", "plumber"]
    reception, plumber = specs
    assert reception.greeting.startswith("Thank you for calling Riverside Dental")
    assert plumber.greeting.startswith("Northside Plumbing")
    assert reception.knowledge == str(PROJECT_ROOT / "agents" / "riverside-dental.md")
    assert plumber.knowledge == str(PROJECT_ROOT / "agents" / "northside-plumbing.md")
    assert (reception.voice, plumber.voice) == ("", "")


@pytest.mark.parametrize("text", ["", "[voicebot]\nrtp_start = 12000\n", "[agents]\n"])
def test_a_file_without_agent_tables_keeps_the_embedded_agents(tmp_path: Path, text: str) -> None:
    specs, default = load_agents(config_file(tmp_path, text))
    assert [s.name for s in specs] == list(EMBEDDED_AGENTS)
    assert default == "reception"


def test_default_agent_may_pick_an_embedded_agent(tmp_path: Path) -> None:
    path = config_file(tmp_path, '[voicebot]\ndefault_agent = "plumber"\n')
    assert load_agents(path)[1] == "plumber"


def test_the_environment_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    facts(tmp_path, "a.md")
    path = config_file(tmp_path, '[agents.a]\nknowledge = "a.md"\n')
    monkeypatch.setenv("VOICEBOT_CONFIG", str(path))
    assert [s.name for s in load_agents()[0]] == ["a"]


# -- agents of a file ---------------------------------------------------------------


def test_a_files_agents_replace_the_embedded_ones(tmp_path: Path) -> None:
    facts(tmp_path, "facts/dental.md")
    voice = tmp_path / "voices" / "amy.onnx"
    voice.parent.mkdir()
    voice.write_bytes(b"onnx")
    Path(str(voice) + ".json").write_text("{}")
    path = config_file(
        tmp_path,
        "[agents.front-desk]\n"
        'greeting = "Riverside Dental, how can I help?"\n'
        'knowledge = "facts/dental.md"\n'
        'persona = "  You are the receptionist.  "\n'
        'voice = "voices/amy.onnx"\n'
        "[agents.night_2]\n",
    )
    specs, default = load_agents(path)
    assert default == "front-desk"  # the first agent of the file
    assert specs == [
        AgentSpec(
            name="front-desk",
            greeting="Riverside Dental, how can I help?",
            knowledge=str(tmp_path / "facts" / "dental.md"),
            persona="You are the receptionist.",
            voice=str(voice),
        ),
        # Every key but knowledge has a default; [voicebot] greeting is the greeting's.
        AgentSpec(name="night_2", greeting=DEFAULT_GREETING),
    ]


def test_the_voicebot_greeting_is_the_greeting_of_agents_that_set_none(tmp_path: Path) -> None:
    path = config_file(
        tmp_path,
        '[voicebot]\ngreeting = "Hello there."\ndefault_agent = "b"\n'
        '[agents.a]\ngreeting = "A speaking."\n[agents.b]\n',
    )
    specs, default = load_agents(path)
    assert [s.greeting for s in specs] == ["A speaking.", "Hello there."]
    assert default == "b"


def test_paths_are_relative_to_the_files_folder_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_dir = tmp_path / "etc"
    facts(config_dir, "a.md")
    path = config_file(config_dir, '[agents.a]\nknowledge = "a.md"\n')
    monkeypatch.chdir(tmp_path)
    assert load_agents(path)[0][0].knowledge == str(config_dir / "a.md")


def test_an_absolute_knowledge_path_is_kept(tmp_path: Path) -> None:
    where = facts(tmp_path / "elsewhere", "a.md")
    path = config_file(tmp_path, f'[agents.a]\nknowledge = "{where}"\n')
    assert load_agents(path)[0][0].knowledge == str(where)


def test_load_settings_accepts_the_agent_tables(tmp_path: Path) -> None:
    path = config_file(tmp_path, '[voicebot]\ndefault_agent = "a"\n[agents.a]\n')
    assert load_settings(path).default_agent == "a"


# -- errors name the file and the key ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "why"),
    [
        ('[agents.a]\ngreting = "Hi"\n', "[agents.a] greting", "unknown setting"),
        ("[agents.a]\ngreeting = 3\n", "[agents.a] greeting", "must be str"),
        ("[agents.a]\npersona = true\n", "[agents.a] persona", "must be str"),
        ('[agents.a]\nknowledge = ["a.md"]\n', "[agents.a] knowledge", "must be str"),
        ('[agents.a]\nknowledge = "missing.md"\n', "[agents.a] knowledge", "missing.md"),
        ('[agents.a]\nvoice = "missing.onnx"\n', "[agents.a] voice", "missing.onnx"),
        ('[agents."front desk"]\n', "[agents.front desk]", "letters, digits"),
        ('[agents."réception"]\n', "[agents.réception]", "letters, digits"),
        ('[agents]\nreception = "hello"\n', "[agents.reception]", "must be a table"),
        ('agents = "reception"\n', "agents", "must be tables"),
        ('[voicebot]\ndefault_agent = "b"\n[agents.a]\n', "default_agent", "no agent 'b'"),
        ('[voicebot]\ndefault_agent = "dentist"\n', "default_agent", "reception, plumber"),
        ('[agents.a.digits]\n"#" = "say:Hi"\n', "[agents.a] digits", "'#' hangs up"),
        ('[agents.a.digits]\n"12" = "say:Hi"\n', "[agents.a] digits", "a key is one of"),
        ('[agents.a.digits]\n"1" = 5\n', "[agents.a] digits", "must be a string"),
        ('[agents.a.digits]\n"1" = "say:  "\n', "[agents.a] digits", "say:TEXT"),
        ('[agents.a.digits]\n"1" = "dial"\n', "[agents.a] digits", '"transfer"'),
        ('[agents.a.digits]\n"0" = "transfer"\n', "[agents.a] digits", "needs transfer_to"),
        ("[agents.a]\ntransfer_to = 5\n", "[agents.a] transfer_to", "must be str"),
        ('[agents.a]\ntransfer_to = "people"\n', "[agents.a] transfer_to", "context,extension"),
        ('[agents.a]\ntransfer_to = "sales,1,1"\n', "[agents.a] transfer_to", "no context [sales]"),
        (
            '[agents.a]\ntransfer_to = "people,billing,1"\n',
            "[agents.a] transfer_to",
            "no extension 'billing'",
        ),
        ('[agents.a]\ndigits = "1"\n', "[agents.a] digits", "must be dict"),
        ('[agents.a]\ntake_messages = "yes"\n', "[agents.a] take_messages", "must be bool"),
    ],
)
def test_errors_name_the_file_and_the_key(tmp_path: Path, text: str, key: str, why: str) -> None:
    message = load_error(config_file(tmp_path, text))
    assert str(tmp_path / "voicebot.toml") in message
    assert key in message
    assert why in message


def test_a_voice_needs_its_json_beside_it(tmp_path: Path) -> None:
    (tmp_path / "amy.onnx").write_bytes(b"onnx")
    message = load_error(config_file(tmp_path, '[agents.a]\nvoice = "amy.onnx"\n'))
    assert "[agents.a] voice" in message and "amy.onnx.json" in message


def test_an_unreadable_knowledge_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "facts.md").mkdir()  # a folder: cannot be read as a file, even by root
    message = load_error(config_file(tmp_path, '[agents.a]\nknowledge = "facts.md"\n'))
    assert "[agents.a] knowledge" in message and "cannot read" in message


def test_a_missing_embedded_facts_file_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bridge.agents_config.PROJECT_ROOT", tmp_path)
    with pytest.raises(ConfigError, match=r"embedded agents: \[agents.reception\] knowledge"):
        load_agents()


def test_digits_say_their_lines(tmp_path: Path) -> None:
    path = config_file(
        tmp_path,
        '[agents.a]\n[agents.a.digits]\n"1" = "say: We open at 9. "\n"*" = "say:Bye for now."\n',
    )
    (spec,), _ = load_agents(path)
    assert spec.digits == (("1", "We open at 9."), ("*", "Bye for now."))


def test_a_transfer_goes_to_a_place_of_the_dialplan_and_0_transfers_by_default(
    tmp_path: Path,
) -> None:
    path = config_file(
        tmp_path,
        '[agents.a]\ntransfer_to = "people, reception, 1"\n'
        '[agents.b]\ntransfer_to = "people,reception,1"\n'
        '[agents.b.digits]\n"0" = "say:Press 9 for a person."\n"9" = "transfer"\n',
    )
    a, b = load_agents(path)[0]
    assert a.transfer_to == "people, reception, 1" and a.transfer_keys == ("0",)
    assert b.transfer_keys == ("9",) and b.digits == (("0", "Press 9 for a person."),)


def test_transfer_to_is_checked_in_the_configured_dialplan(tmp_path: Path) -> None:
    dialplan = tmp_path / "asterisk"
    dialplan.mkdir()
    (dialplan / "extensions.conf").write_text("[desks]\nexten => _1XX,1,Dial(PJSIP/${EXTEN})\n")
    base = f'[voicebot]\nasterisk_config_dir = "{dialplan}"\n'
    ok = config_file(tmp_path, base + '[agents.a]\ntransfer_to = "desks,101,1"\n')
    assert load_agents(ok)[0][0].transfer_to == "desks,101,1"
    bad = config_file(tmp_path, base + '[agents.a]\ntransfer_to = "people,reception,1"\n')
    message = load_error(bad)
    assert "no context [people]" in message and str(dialplan / "extensions.conf") in message


def test_the_embedded_agents_put_callers_through_to_reception() -> None:
    for spec in load_agents()[0]:
        assert spec.transfer_to == "people,reception,1" and spec.transfer_keys == ("0",)
        assert spec.take_messages


def test_take_messages_is_off_unless_set(tmp_path: Path) -> None:
    text = "[agents.a]\n[agents.b]\ntake_messages = true\n"
    specs = {s.name: s for s in load_agents(config_file(tmp_path, text))[0]}
    assert not specs["a"].take_messages and specs["b"].take_messages
