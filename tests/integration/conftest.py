"""Fixtures for tests with the real parts: Asterisk, the bridge, sipp, tcpdump and the models."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.processes import StackPorts, VoicebotProcess, wait_healthy, write_config

TOOLS = {"sipp": "sip-tester", "tcpdump": "tcpdump", "espeak-ng": "espeak-ng", "sox": "sox"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def tools() -> None:
    missing = [
        f"{cmd} (Debian package {pkg})" for cmd, pkg in TOOLS.items() if not shutil.which(cmd)
    ]
    if missing:
        pytest.fail(
            "integration tests need: "
            + ", ".join(missing)
            + " -- `make test` installs them (tests/install-test-tools.sh)"
        )
    if os.geteuid() != 0:
        pytest.fail("integration tests capture loopback traffic with tcpdump: run as root")


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("integration")


@pytest.fixture(scope="session")
def ports() -> StackPorts:
    return StackPorts.pick()


@pytest.fixture(scope="session")
def config(session_dir: Path, ports: StackPorts) -> Path:
    path = write_config(
        session_dir / "voicebot.toml", ports, f"test-{os.getpid()}", rtp=(21000, 21999)
    )
    # One agent without facts (extension 100 names it): these tests are about the pipeline
    # (turns, barge-in, faults, simultaneous calls), so the LLM answers every question, as
    # it does for any agent without facts. tests/integration/test_agents.py has agents
    # with facts, and the example agents are the default of a config without agents.
    with path.open("a") as f:
        f.write("[agents.reception]\n")
    return path


@pytest.fixture(scope="session")
def asterisk(tools: None, config: Path, session_dir: Path) -> Iterator[VoicebotProcess]:
    """The project's own Asterisk on test ports, up for the whole session."""
    proc = VoicebotProcess("asterisk", config, session_dir / "asterisk.log")
    try:
        proc.wait_ready(timeout=300)
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def bridge(
    asterisk: VoicebotProcess, config: Path, ports: StackPorts, session_dir: Path
) -> Iterator[VoicebotProcess]:
    """The bridge (AudioSocket server + HTTP), up for one test module."""
    proc = VoicebotProcess("bridge", config, session_dir / "bridge.log")
    try:
        proc.wait_ready(timeout=120)
        wait_healthy(ports.http, timeout=30)
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def whisper():  # type: ignore[no-untyped-def]
    """The embedded Whisper tiny.en, to transcribe what the caller heard."""
    from faster_whisper import WhisperModel

    from ai.models import whisper_model

    return WhisperModel(str(whisper_model()), device="cpu", compute_type="int8")
