"""Settings of one voicebot deployment, with embedded defaults.

Every value has a default that works on a fresh machine (loopback only, the
models that ship as PyPI packages). An admin overrides any of them in a TOML
file (``voicebot --config FILE``, or ``$VOICEBOT_CONFIG``), flat keys under
``[voicebot]``; an unknown key or a wrong type is a clear error at start,
never a silent default. The ``[agents.NAME]`` tables of the same file are read by
``bridge/agents_config.py``, the ``[brain]`` table by ``load_brain_settings``.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ai.config import BrainSettings, SettingsError, apply_table

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_GREETING = "Hello! You have reached the on-prem voice assistant. How can I help you?"
DEFAULT_UNAVAILABLE = "Sorry, the assistant is unavailable right now. Please call again later."


class ConfigError(ValueError):
    """A configuration file or value that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    """What an admin can set. Addresses are ``host:port`` strings."""

    # SIP: where Asterisk's UDP transport listens (pjsip.conf transport-udp).
    sip_bind: str = "127.0.0.1:5060"
    # AMI: health checks and call control.
    ami_bind: str = "127.0.0.1:5038"
    # AudioSocket server of the bridge; the dialplan connects here.
    bridge_listen: str = "127.0.0.1:9092"
    # HTTP: /healthz, /status, the browser page (/) and its signalling WebSocket (/ws).
    http_listen: str = "127.0.0.1:8080"
    # RTP port range of Asterisk.
    rtp_start: int = 10000
    rtp_end: int = 20000
    # What an agent says when it answers a call, if its [agents.NAME] table sets no greeting.
    greeting: str = DEFAULT_GREETING
    # The agent of calls that name none ("" = the first [agents.NAME] table of the file,
    # or "reception" of the embedded agents). See bridge/agents_config.py.
    default_agent: str = ""
    # What Asterisk plays when the bridge cannot be reached.
    unavailable_text: str = DEFAULT_UNAVAILABLE
    # DTMF digit with which a caller ends the call from the bot's side ("" disables).
    hangup_digit: str = "#"
    # Piper voice (.onnx, with its .onnx.json beside it); "" means the embedded voice.
    tts_voice: str = ""
    # Where provisioned Asterisk, generated prompts and run state live.
    cache_dir: str = str(PROJECT_ROOT / ".cache")
    run_dir: str = str(PROJECT_ROOT / ".run")
    # What the deployment keeps: the messages callers leave (SQLite, and their WAVs).
    data_dir: str = str(PROJECT_ROOT / "data")
    # Asterisk instance name: several instances (make run, tests) can coexist.
    instance: str = "main"
    # Admin-owned Asterisk config and trunk files.
    asterisk_config_dir: str = str(PROJECT_ROOT / "asterisk")
    trunk_config_dir: str = str(PROJECT_ROOT / "sip-trunk-config")
    # Browser door (WebRTC). Sessions at once; one more gets a clear "busy" error.
    browser_max_sessions: int = 8
    # The one address offered as ICE host candidate ("" = every interface, for a LAN).
    webrtc_host: str = "127.0.0.1"
    # STUN/TURN server URLs ("stun:host:3478", "turn:host:3478?transport=udp"), for the
    # page and the bridge alike; none by default (no internet needed on loopback or a LAN).
    ice_servers: tuple[str, ...] = ()
    ice_username: str = ""  # TURN credentials, if any
    ice_credential: str = ""
    # HTTPS for the page (browsers need a secure context away from localhost): a PEM
    # certificate and key, or a self-signed certificate generated into run_dir.
    https_cert: str = ""
    https_key: str = ""
    https_self_signed: bool = False
    # When set, the page (/) and /ws need ?token=THIS (401 otherwise).
    access_token: str = ""

    def with_overrides(self, **values: object) -> Settings:
        return _apply(self, values, source="override")


def split_hostport(value: str) -> tuple[str, int]:
    """``"127.0.0.1:5060"`` -> ``("127.0.0.1", 5060)``, with a clear error otherwise."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"expected host:port, got {value!r}")
    return host.strip("[]"), int(port)


def _apply(base: Settings, values: dict[str, object], source: str) -> Settings:
    try:
        settings = apply_table(base, values, source)
    except SettingsError as exc:
        raise ConfigError(str(exc)) from None
    for key in ("sip_bind", "ami_bind", "bridge_listen", "http_listen"):
        try:
            split_hostport(getattr(settings, key))
        except ConfigError as exc:
            raise ConfigError(f"{source}: {key}: {exc}") from None
    if len(settings.hangup_digit) > 1 or (
        settings.hangup_digit and settings.hangup_digit not in "0123456789*#ABCD"
    ):
        raise ConfigError(f"{source}: hangup_digit must be one DTMF digit or empty")
    _check_browser(settings, source)
    return settings


def _check_browser(settings: Settings, source: str) -> None:
    if settings.browser_max_sessions < 1:
        raise ConfigError(f"{source}: browser_max_sessions must be at least 1")
    if settings.webrtc_host:
        try:
            ipaddress.ip_address(settings.webrtc_host)
        except ValueError:
            raise ConfigError(
                f"{source}: webrtc_host must be an IP address (or empty for every interface), "
                f"got {settings.webrtc_host!r}"
            ) from None
    for url in settings.ice_servers:
        if not url.startswith(("stun:", "stuns:", "turn:", "turns:")):
            raise ConfigError(
                f"{source}: ice_servers: {url!r} is not a stun:, stuns:, turn: or turns: URL"
            )
    if bool(settings.https_cert) != bool(settings.https_key):
        raise ConfigError(f"{source}: https_cert and https_key go together: set both or neither")
    if settings.https_cert and settings.https_self_signed:
        raise ConfigError(f"{source}: set https_cert/https_key or https_self_signed, not both")


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Defaults, then the TOML file at ``path`` or ``$VOICEBOT_CONFIG`` if set."""
    path = path or os.environ.get("VOICEBOT_CONFIG") or None
    settings = Settings()
    if path is None:
        return _apply(settings, {}, source="defaults")
    data = read_toml(path)
    section = data.get("voicebot", {})
    if not isinstance(section, dict) or set(data) - {"voicebot", "brain", "agents"}:
        raise ConfigError(
            f"{path}: put settings under a [voicebot], [brain] or [agents.NAME] table"
        )
    return _apply(settings, section, source=str(path))


def load_brain_settings(path: str | os.PathLike[str] | None = None) -> BrainSettings:
    """The ``[brain]`` table of the same file (persona, models, turn-taking), checked."""
    path = path or os.environ.get("VOICEBOT_CONFIG") or None
    if path is None:
        return BrainSettings()
    table = read_toml(path).get("brain", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [brain] must be a table")
    try:
        return apply_table(BrainSettings(), table, source=f"{path} [brain]")
    except SettingsError as exc:
        raise ConfigError(str(exc)) from None


def read_toml(path: str | os.PathLike[str]) -> dict[str, object]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
