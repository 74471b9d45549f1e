"""``voicebot run`` keeps the bridge in a child process, so a crash in native code is seen.

Theory of operation
-------------------
The bridge runs the models (llama.cpp, CTranslate2, onnxruntime) in-process. A
fault inside one of them (SIGILL from an instruction the CPU does not grant,
SIGSEGV) kills the process, and no Python handler can run. If Asterisk lived in
that same process's care, it would die with it (parent-death signal) and new
callers would get nothing at all. So ``voicebot run`` is a small supervisor:
it owns Asterisk, and starts ``voicebot bridge --supervised`` as a child.

- The child's stdout is read line by line and copied to ours; the line
  ``voicebot: bridge ready`` tells us it is up. Its stderr (logs, and the
  traceback ``-X faulthandler`` prints on a fatal signal) goes straight to ours.
- The AMI secret Asterisk was started with reaches the child in its
  environment (not its command line, which every local user can read).
- The child gets the parent-death signal: if ``voicebot run`` is killed, the
  bridge goes too (as Asterisk does).
- When the child ends while we did not ask it to, ``exit_description`` says how
  (signal name or exit status); the supervisor reports it on the console and in
  the log, and Asterisk stays up: its dialplan answers new calls with the spoken
  fallback, since nothing listens on the AudioSocket port any more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable

from ai.smoke import describe_signal
from bridge.pbx.instance import set_pdeathsig

log = logging.getLogger(__name__)

READY_LINE = "voicebot: bridge ready"
AMI_SECRET_ENV = "VOICEBOT_AMI_SECRET"
STOP_TIMEOUT_S = 20.0


def describe_exit(returncode: int) -> str:
    """``-4`` -> ``"signal SIGILL (Illegal instruction)"``; ``1`` -> ``"exit status 1"``."""
    if returncode >= 0:
        return f"exit status {returncode}"
    name = describe_signal(returncode)
    return name if name.startswith("signal ") else f"signal {name}"


class BridgeProcess:
    """``voicebot bridge --supervised`` as our child; see the module docstring."""

    def __init__(
        self,
        config: str | None,
        ami_secret: str,
        *,
        verbose: bool = False,
        echo: Callable[[str], None] = print,
    ) -> None:
        self.config = config
        self.ami_secret = ami_secret
        self.verbose = verbose
        self.echo = echo
        self._proc: asyncio.subprocess.Process | None = None
        self._pump: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._stopping = False

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode if self._proc else None

    async def start(self) -> None:
        argv = [sys.executable, "-X", "faulthandler", "-m", "bridge.cli", "bridge", "--supervised"]
        if self.config:
            argv += ["--config", self.config]
        if self.verbose:
            argv.append("--verbose")
        env = {**os.environ, AMI_SECRET_ENV: self.ami_secret, "PYTHONUNBUFFERED": "1"}
        self._proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=None,  # inherited: logs and fault tracebacks reach our console as they are
            env=env,
            preexec_fn=set_pdeathsig,
        )
        self._pump = asyncio.create_task(self._copy_output(), name="bridge-output")

    async def _copy_output(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        async for raw in self._proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            if line.strip() == READY_LINE:
                self._ready.set()
                continue
            self.echo(line)

    async def wait_ready(self, timeout: float) -> None:  # noqa: ASYNC109 - a start-up bound
        """Until the child says it is ready; raises ``RuntimeError`` if it ends first."""
        assert self._proc is not None
        ready = asyncio.create_task(self._ready.wait())
        ended = asyncio.create_task(self._proc.wait())
        try:
            done, _ = await asyncio.wait(
                {ready, ended}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for task in (ready, ended):
                task.cancel()
        if ready not in done or not self._ready.is_set():
            code = self._proc.returncode
            how = describe_exit(code) if code is not None else f"no answer in {timeout:.0f} s"
            raise RuntimeError(f"the bridge did not start ({how}); see its output above")

    def exited_unexpectedly(self) -> bool:
        return not self._stopping and self.returncode is not None

    async def stop(self) -> None:
        """SIGTERM, wait, then SIGKILL; the output pump ends with the pipe."""
        self._stopping = True
        proc = self._proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(STOP_TIMEOUT_S):
                    await proc.wait()
            except TimeoutError:
                log.warning("bridge: no exit %.0f s after SIGTERM; killing it", STOP_TIMEOUT_S)
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        if self._pump is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                async with asyncio.timeout(5):
                    await self._pump
