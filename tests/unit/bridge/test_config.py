"""Settings: embedded defaults, TOML overrides under [voicebot], and clear errors."""

import dataclasses
import re
from pathlib import Path

import pytest

from bridge.config import ConfigError, Settings, load_settings, split_hostport

ADDRESS_KEYS = ("sip_bind", "ami_bind", "bridge_listen", "http_listen")


@pytest.fixture(autouse=True)
def no_config_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOICEBOT_CONFIG", raising=False)


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "voicebot.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load_text(tmp_path: Path, text: str) -> Settings:
    return load_settings(config_file(tmp_path, text))


# -- defaults --------------------------------------------------------------------------


def test_defaults_are_valid() -> None:
    settings = load_settings()
    assert settings == Settings()
    for key in ADDRESS_KEYS:
        host, _ = split_hostport(getattr(settings, key))
        assert host == "127.0.0.1"  # loopback only until an admin says otherwise
    assert settings.rtp_start < settings.rtp_end
    assert settings.hangup_digit == "#"


def test_environment_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = config_file(tmp_path, "[voicebot]\nrtp_start = 12000\n")
    monkeypatch.setenv("VOICEBOT_CONFIG", str(path))
    assert load_settings().rtp_start == 12000


def test_an_explicit_path_wins_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICEBOT_CONFIG", str(tmp_path / "missing.toml"))
    path = config_file(tmp_path, "[voicebot]\nrtp_end = 12000\n")
    assert load_settings(path).rtp_end == 12000


@pytest.mark.parametrize("text", ["", "# nothing yet\n", "[voicebot]\n"])
def test_empty_file_gives_the_defaults(tmp_path: Path, text: str) -> None:
    assert load_text(tmp_path, text) == Settings()


# -- overrides -------------------------------------------------------------------------


def test_voicebot_table_overrides_only_what_it_names(tmp_path: Path) -> None:
    settings = load_text(
        tmp_path,
        """
        [voicebot]
        bridge_listen = "0.0.0.0:9093"
        rtp_start = 12000
        rtp_end = 12100
        greeting = "Hi there."
        hangup_digit = "*"
        """,
    )
    changed = {
        "bridge_listen": "0.0.0.0:9093",
        "rtp_start": 12000,
        "rtp_end": 12100,
        "greeting": "Hi there.",
        "hangup_digit": "*",
    }
    assert settings == dataclasses.replace(Settings(), **changed)


def test_with_overrides_checks_like_the_file() -> None:
    assert Settings().with_overrides(rtp_start=11000).rtp_start == 11000
    with pytest.raises(ConfigError, match=r"^override: unknown setting 'rtp_begin'"):
        Settings().with_overrides(rtp_begin=11000)


# -- errors ----------------------------------------------------------------------------


def test_config_error_is_a_value_error() -> None:
    assert issubclass(ConfigError, ValueError)


def test_unknown_key_is_named(tmp_path: Path) -> None:
    path = config_file(tmp_path, '[voicebot]\nrtp_begin = 10000\nsip_bind = "127.0.0.1:5060"\n')
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: unknown setting 'rtp_begin'")
    assert "rtp_start" in message  # the known settings are listed


@pytest.mark.parametrize(
    ("line", "key", "expected"),
    [
        ('rtp_start = "10000"', "rtp_start", "int"),
        ("rtp_end = true", "rtp_end", "int"),  # a bool is an int to Python, not here
        ("rtp_start = 10000.0", "rtp_start", "int"),
        ("greeting = 5", "greeting", "str"),
        ('sip_bind = ["127.0.0.1", 5060]', "sip_bind", "str"),
        ("hangup_digit = 1", "hangup_digit", "str"),
    ],
)
def test_wrong_type_is_an_error(tmp_path: Path, line: str, key: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=f"setting '{key}' must be {expected}, got"):
        load_text(tmp_path, f"[voicebot]\n{line}\n")


@pytest.mark.parametrize("key", ADDRESS_KEYS)
@pytest.mark.parametrize(
    "value",
    ["localhost", "127.0.0.1:", ":5060", "127.0.0.1:sip", "127.0.0.1:0", "127.0.0.1:65536"],
)
def test_bad_host_port_is_an_error(tmp_path: Path, key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"{key}: expected host:port, got '{value}'"):
        load_text(tmp_path, f'[voicebot]\n{key} = "{value}"\n')


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1:5060", ("127.0.0.1", 5060)),
        ("0.0.0.0:1", ("0.0.0.0", 1)),
        ("pbx.example.org:65535", ("pbx.example.org", 65535)),
        ("[::1]:9092", ("::1", 9092)),
    ],
)
def test_split_hostport(value: str, expected: tuple[str, int]) -> None:
    assert split_hostport(value) == expected


@pytest.mark.parametrize(
    "text",
    [
        "rtp_start = 12000\n",  # a flat key, outside any table
        "[sip]\nbind = '127.0.0.1:5060'\n",
        "[voicebot]\nrtp_start = 12000\n[voicebott]\nrtp_end = 12100\n",
        "voicebot = 5\n",
    ],
)
def test_settings_outside_the_voicebot_table_are_an_error(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError, match=r"\[voicebot\]"):
        load_text(tmp_path, text)


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "missing.toml"
    with pytest.raises(
        ConfigError, match=f"cannot read config {re.escape(str(path))}: No such file"
    ):
        load_settings(path)


def test_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config"):
        load_settings(tmp_path)


@pytest.mark.parametrize(
    "text",
    ["[voicebot\n", "[voicebot]\nrtp_start = \n", "[voicebot]\ngreeting = 'unterminated\n"],
)
def test_invalid_toml_is_an_error(tmp_path: Path, text: str) -> None:
    path = config_file(tmp_path, text)
    with pytest.raises(ConfigError, match=f"^{re.escape(str(path))}: not valid TOML: "):
        load_settings(path)


@pytest.mark.parametrize("digit", ["", "0", "9", "*", "#", "A", "D"])
def test_hangup_digit_accepts_one_dtmf_digit_or_nothing(tmp_path: Path, digit: str) -> None:
    assert load_text(tmp_path, f'[voicebot]\nhangup_digit = "{digit}"\n').hangup_digit == digit


@pytest.mark.parametrize("digit", ["##", "12", "x", "a", "E", " "])
def test_hangup_digit_rejects_anything_else(tmp_path: Path, digit: str) -> None:
    with pytest.raises(ConfigError, match="hangup_digit must be one DTMF digit or empty"):
        load_text(tmp_path, f'[voicebot]\nhangup_digit = "{digit}"\n')


# -- the browser door ----------------------------------------------------------------


def test_browser_defaults_keep_everything_on_loopback_and_open() -> None:
    settings = Settings()
    assert settings.browser_max_sessions == 8
    assert settings.webrtc_host == "127.0.0.1"
    assert settings.ice_servers == ()  # no external STUN: there may be no internet
    assert not settings.https_cert and not settings.https_key and not settings.https_self_signed
    assert settings.access_token == ""


def test_browser_settings_from_the_file(tmp_path: Path) -> None:
    settings = load_text(
        tmp_path,
        "[voicebot]\n"
        "browser_max_sessions = 2\n"
        'webrtc_host = ""\n'
        'ice_servers = ["stun:stun.lan:3478", "turn:turn.lan:3478?transport=udp"]\n'
        'ice_username = "bot"\n'
        'ice_credential = "pw"\n'
        "https_self_signed = true\n"
        'access_token = "t0k"\n',
    )
    assert settings.browser_max_sessions == 2
    assert settings.webrtc_host == ""
    assert settings.ice_servers == ("stun:stun.lan:3478", "turn:turn.lan:3478?transport=udp")
    assert isinstance(settings.ice_servers, tuple)  # frozen settings stay immutable
    assert settings.https_self_signed is True
    assert settings.access_token == "t0k"
    assert hash(settings)


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ('ice_servers = "stun:x:3478"', "ice_servers' must be a list of strings"),
        ("ice_servers = [1, 2]", "ice_servers' must be a list of strings"),
        ('ice_servers = ["http://x"]', "is not a stun:, stuns:, turn: or turns: URL"),
        ("browser_max_sessions = 0", "browser_max_sessions must be at least 1"),
        ('browser_max_sessions = "8"', "browser_max_sessions' must be int"),
        ('webrtc_host = "my-host.lan"', "webrtc_host must be an IP address"),
        ('https_self_signed = "yes"', "https_self_signed' must be bool"),
        ('https_cert = "/x.pem"', "https_cert and https_key go together"),
        (
            'https_cert = "/x.pem"\nhttps_key = "/x.key"\nhttps_self_signed = true',
            "not both",
        ),
    ],
)
def test_bad_browser_settings_are_errors(tmp_path: Path, line: str, says: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(says)):
        load_text(tmp_path, f"[voicebot]\n{line}\n")
