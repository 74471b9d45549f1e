"""One running Asterisk: its config directory, rendered from the admin's files, and its process.

Theory of operation. An instance is a directory (``<dir>/etc``, ``log``,
``run``, ``lib``, ``spool``, ``sounds``) that Asterisk sees at ``ast_dir``
and we write at ``host_dir`` (they differ when Asterisk runs in a chroot).
``render()`` copies ``asterisk/*.conf`` and ``sip-trunk-config/*.conf``
verbatim -- those files belong to the admin and are never edited by code --
and writes next to them the few small files that carry this deployment's
settings (``asterisk.conf`` with the directories, ``voicebot-*.conf`` with
addresses, ports and the AMI secret), which the admin's files ``#include``.
``start()`` runs ``asterisk -f`` as our child (it dies with us: parent-death
signal), ``wait_ready()`` waits for ``core waitfullybooted``, ``stop()``
asks for ``core stop now`` and escalates to SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bridge.config import Settings, split_hostport
from bridge.pbx.provision import AsteriskInstall

AMI_USER = "voicebot"
UNAVAILABLE_PROMPT = "voicebot-unavailable"
MANAGER_CONF = "voicebot-manager.conf"  # the AMI address and login, #included by manager.conf


class AsteriskError(RuntimeError):
    """Asterisk did not start, stopped unexpectedly or refused a command."""


@dataclass(frozen=True)
class AmiCredentials:
    host: str
    port: int
    username: str
    secret: str


def set_pdeathsig() -> None:  # pragma: no cover - runs in the child
    """Make the kernel SIGTERM this child (Asterisk, the bridge) when voicebot dies, even by
    SIGKILL: no orphans. A ``preexec_fn``."""
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def instance_dirs(install: AsteriskInstall, settings: Settings) -> tuple[Path, Path]:
    """Where the instance of ``settings`` lives: (as we see it, as Asterisk sees it)."""
    if install.root is None:
        host_dir = Path(settings.run_dir).resolve() / "asterisk" / settings.instance
        return host_dir, host_dir
    ast_dir = Path("/opt/voicebot") / settings.instance
    return install.host_path(ast_dir), ast_dir


def instance_ami_credentials(install: AsteriskInstall, settings: Settings) -> AmiCredentials | None:
    """The AMI login of the Asterisk another ``voicebot asterisk`` runs with ``settings``,
    read from the ``voicebot-manager.conf`` it wrote (readable by its user only); ``None``
    if there is none. Read again at each use: every start of that Asterisk has a new secret.
    """
    conf = instance_dirs(install, settings)[0] / "etc" / MANAGER_CONF
    try:
        text = conf.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("secret="):
            host, port = split_hostport(settings.ami_bind)
            return AmiCredentials(host, port, AMI_USER, line.removeprefix("secret=").strip())
    return None


class AsteriskInstance:
    def __init__(self, install: AsteriskInstall, settings: Settings) -> None:
        self.install = install
        self.settings = settings
        self.host_dir, self.ast_dir = instance_dirs(install, settings)
        self.ami = AmiCredentials(*split_hostport(settings.ami_bind), AMI_USER, "")
        self._proc: subprocess.Popen[bytes] | None = None
        self._console_log: Path = self.host_dir / "log" / "console.log"

    # -- configuration -------------------------------------------------------

    @property
    def conf_path(self) -> str:
        """asterisk.conf as Asterisk sees it (its ``-C`` argument)."""
        return str(self.ast_dir / "etc" / "asterisk.conf")

    @property
    def messages_log(self) -> Path:
        return self.host_dir / "log" / "messages.log"

    @property
    def unavailable_sound(self) -> Path:
        """Where the fallback prompt WAV must be written (host path)."""
        return self.host_dir / "sounds" / f"{UNAVAILABLE_PROMPT}.wav"

    def render(self) -> None:
        """Write this instance's configuration directory from the admin's files and settings."""
        s = self.settings
        etc = self.host_dir / "etc"
        if etc.exists():
            shutil.rmtree(etc)
        (etc / "trunks").mkdir(parents=True)
        for sub in ("log", "run", "lib", "lib/keys", "spool", "cache", "sounds"):
            (self.host_dir / sub).mkdir(parents=True, exist_ok=True)
        config_dir, trunk_dir = Path(s.asterisk_config_dir), Path(s.trunk_config_dir)
        confs = sorted(config_dir.glob("*.conf"))
        if not confs:
            raise AsteriskError(f"no Asterisk config files (*.conf) in {config_dir}")
        for src in confs:
            shutil.copyfile(src, etc / src.name)
        for src in sorted(trunk_dir.glob("*.conf")):
            shutil.copyfile(src, etc / "trunks" / src.name)

        a = self.ast_dir
        (etc / "asterisk.conf").write_text(
            "; Written by voicebot at each start: where this Asterisk keeps its files.\n"
            "[directories]\n"
            f"astetcdir => {a}/etc\n"
            f"astvarlibdir => {a}/lib\n"
            f"astdbdir => {a}/lib\n"
            f"astkeydir => {a}/lib\n"
            f"astspooldir => {a}/spool\n"
            f"astrundir => {a}/run\n"
            f"astlogdir => {a}/log\n"
            f"astcachedir => {a}/cache\n"
            "\n[options]\n"
            "verbose = 3\n"
            "nocolor = yes\n"
            "transmit_silence = yes\n"
            "hideconnect = yes\n"
        )
        sip_host, sip_port = split_hostport(s.sip_bind)
        (etc / "voicebot-transport.conf").write_text(
            "; Written by voicebot at each start from sip_bind.\n"
            "[transport-udp]\ntype=transport\nprotocol=udp\n"
            f"bind={_join(sip_host, sip_port)}\n"
        )
        bridge_host, bridge_port = split_hostport(s.bridge_listen)
        (etc / "voicebot-globals.conf").write_text(
            "; Written by voicebot at each start from bridge_listen.\n"
            f"VOICEBOT_BRIDGE={_join(bridge_host, bridge_port)}\n"
            f"VOICEBOT_UNAVAILABLE={a}/sounds/{UNAVAILABLE_PROMPT}\n"
        )
        secret = secrets.token_hex(16)
        self.ami = AmiCredentials(self.ami.host, self.ami.port, AMI_USER, secret)
        manager = etc / MANAGER_CONF
        manager.write_text(
            "; Written by voicebot at each start from ami_bind, with a fresh secret.\n"
            f"bindaddr={self.ami.host}\nport={self.ami.port}\n\n"
            f"[{AMI_USER}]\nsecret={secret}\n"
            f"deny=0.0.0.0/0.0.0.0\npermit={self.ami.host}/255.255.255.255\n"
            "read=system,call,command,reporting,dtmf,originate,agent\n"
            "write=system,call,command,originate,agent\n"
        )
        manager.chmod(0o600)
        rtp = etc / "rtp.conf"
        rtp.write_text(
            rtp.read_text()
            + f"\n; Range from voicebot settings rtp_start/rtp_end.\nrtpstart={s.rtp_start}\n"
            f"rtpend={s.rtp_end}\n"
        )

    # -- process -------------------------------------------------------------

    def start(self) -> None:
        """Start ``asterisk -f`` (foreground) as our child; output goes to log/console.log."""
        if self._proc and self._proc.poll() is None:
            raise AsteriskError("this Asterisk instance is already running")
        self._stop_stale()
        log = open(self._console_log, "ab")
        try:
            self._proc = subprocess.Popen(
                self.install.command("-C", self.conf_path, "-f", "-n"),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=set_pdeathsig,
                start_new_session=True,
            )
        finally:
            log.close()

    def _stop_stale(self) -> None:
        """A previous run killed hard may have left an Asterisk on this instance: stop it."""
        pidfile = self.host_dir / "run" / "asterisk.pid"
        if not pidfile.exists():
            return
        try:
            pid = int(pidfile.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (ValueError, OSError):
            return
        if self.conf_path.encode() in cmdline:
            os.kill(pid, signal.SIGTERM)
            for _ in range(50):
                if not Path(f"/proc/{pid}").exists():
                    break
                time.sleep(0.1)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def rx(self, command: str, timeout: float = 10.0) -> str:
        """Run one CLI command on the running Asterisk (``asterisk -rx``) and return its output."""
        proc = subprocess.run(
            self.install.command("-C", self.conf_path, "-rx", command),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            raise AsteriskError(f"`{command}` failed: {(proc.stdout + proc.stderr).strip()}")
        return proc.stdout

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Block until Asterisk is fully booted and the loopback endpoint is loaded."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if not self.running():
                raise AsteriskError(
                    f"Asterisk exited during start; see {self._console_log}:\n"
                    + self.console_tail()
                )
            try:
                self.rx("core waitfullybooted", timeout=max(1.0, deadline - time.monotonic()))
                return
            except (AsteriskError, subprocess.TimeoutExpired) as exc:
                last = str(exc)
            time.sleep(0.2)
        raise AsteriskError(f"Asterisk not ready after {timeout:.0f} s: {last}")

    def console_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self._console_log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        """Stop Asterisk: ``core stop now``, then SIGTERM, then SIGKILL. Idempotent."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        try:
            self.rx("core stop now", timeout=3.0)
        except (AsteriskError, subprocess.TimeoutExpired):
            pass
        try:
            proc.wait(timeout=timeout / 2)
            return
        except subprocess.TimeoutExpired:
            proc.terminate()
        try:
            proc.wait(timeout=timeout / 2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _join(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
