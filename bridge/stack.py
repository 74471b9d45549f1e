"""The whole stack in one supervised process: Asterisk (our child), the bridge, the HTTP server.

``voicebot run`` starts all three; ``voicebot asterisk`` and ``voicebot
bridge`` start one side each (tests use them to stop the bridge while
Asterisk stays up). Whatever a ``Stack`` started, ``stop()`` stops, in
reverse order; Asterisk also dies with us if we are killed (parent-death
signal), so there is no orphan either way.

Theory of operation. A ``Stack`` holds one slot per part (``asterisk``,
``bridge``, ``http``, ``door``), each ``None`` until ``start()`` has started
that part, so ``stop()`` stops exactly what exists, door to Asterisk. While
running, ``supervise()`` polls every 0.5 s: an Asterisk that exited is
restarted, each restart noted in a one-minute window (``_restarts``); a
fourth within the minute, or a bridge child that died, sets ``failed`` (the
reason ``voicebot run`` exits with or reports) instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import os
import ssl
import time
from collections.abc import Callable
from pathlib import Path

from ai import models
from ai.agent import AgentSpec, CallInfo
from ai.brain import Brain
from ai.config import BrainSettings
from ai.session import Session
from ai.tts import PiperTts
from ai.workers import model_executor
from bridge.agents_config import load_agents
from bridge.bridge_process import BridgeProcess, describe_exit
from bridge.config import Settings, split_hostport
from bridge.pbx.instance import AmiCredentials, AsteriskInstance, instance_ami_credentials
from bridge.pbx.provision import find_asterisk, find_or_provision
from bridge.phone import ami, call_info
from bridge.phone.call import Call
from bridge.phone.prompts import ensure_prompt_wav
from bridge.phone.server import AudioSocketServer
from bridge.web import ice, tls
from bridge.web.browser_channel import BrowserChannel
from bridge.web.http import WS_PATH, HttpServer
from bridge.web.webrtc import BrowserDoor, DoorOptions, Listener
from records.messages import MessageStore

log = logging.getLogger(__name__)

LOOPBACK_ENDPOINT = "loopback"


class StackError(RuntimeError):
    """The stack could not start, or a part of it died and could not be restarted."""


class Stack:
    def __init__(
        self,
        settings: Settings,
        brain_settings: BrainSettings | None = None,
        *,
        with_asterisk: bool = True,
        with_bridge: bool = True,
        ami_credentials: AmiCredentials | None = None,
        agents: tuple[list[AgentSpec], str] | None = None,
        progress: Callable[[str], None] = print,
    ) -> None:
        self.settings = settings
        self.with_asterisk = with_asterisk
        self.with_bridge = with_bridge
        # A bridge whose Asterisk another process runs (`voicebot run`'s child) still
        # reports that Asterisk's health, over AMI with these credentials, and asks it
        # for each call's agent.
        self.ami_credentials = ami_credentials
        self.progress = progress
        # Without a bridge (`voicebot asterisk`, and `voicebot run`, whose bridge is a
        # child process) only the voice is needed, for the fallback prompt.
        self.brain: Brain | None = None
        self.messages: MessageStore | None = None
        if with_bridge:
            specs, default_agent = agents or load_agents(None, settings)
            self.messages = MessageStore(Path(settings.data_dir))
            self.brain = Brain(
                brain_settings or BrainSettings(),
                agents=specs,
                default_agent=default_agent,
                tts_voice=settings.tts_voice,
                hangup_digit=settings.hangup_digit,
                messages=self.messages,
            )
        self.tts = (
            self.brain.tts if self.brain else PiperTts(models.piper_voice(settings.tts_voice))
        )
        self.asterisk: AsteriskInstance | None = None
        self.bridge: AudioSocketServer | None = None
        self.http: HttpServer | None = None
        self.door: BrowserDoor | None = None
        self.failed: str = ""
        self._restarts: list[float] = []

    async def start(self) -> None:
        s = self.settings
        if self.with_bridge:
            self.progress("voicebot: loading the models (Whisper, the LLM, Piper, Silero VAD)")
            # A thread of its own: Brain.load() lowers its priority for the models' sake.
            loader = model_executor("load")
            try:
                assert self.brain is not None
                await asyncio.get_running_loop().run_in_executor(loader, self.brain.load)
            finally:
                loader.shutdown(wait=False)
            # The models, indexes and tokenizers are hundreds of thousands of long-lived
            # objects. Moved out of the collector's sight, a full collection no longer walks
            # them all on the loop thread, between two 20 ms frames of every call.
            gc.collect()
            gc.freeze()
        else:
            self.progress("voicebot: loading the voice (Piper)")
            await asyncio.to_thread(self.tts.load)
        if self.with_asterisk:
            await self._start_asterisk()
        if self.with_bridge:
            host, port = split_hostport(s.bridge_listen)
            self.bridge = AudioSocketServer(host, port, self._converse)
            await self.bridge.start()
            await self._start_http()

    async def _converse(self, call: Call) -> None:
        """The app of every phone call: a conversation with the agent its dialplan named."""
        assert self.brain is not None
        found = await call_info.lookup(await self._call_ami(), str(call.uuid))
        info = found.info if found is not None else CallInfo()
        if found is not None and found.channel:
            call.redirect = functools.partial(self._redirect, found.channel)
        await Session(self.brain, call, info=info).run()

    async def _redirect(self, channel: str, target: str) -> bool:
        """Send the Asterisk ``channel`` on to ``target`` (an agent's ``transfer_to``)."""
        creds = await self._call_ami()
        if creds is None:
            log.warning("transfer of %s: no AMI login to ask Asterisk with", channel)
            return False
        try:
            await ami.redirect(creds, channel, target)
        except (ami.AmiError, TimeoutError) as exc:
            log.warning("transfer of %s to %s failed: %s", channel, target, exc or "timeout")
            return False
        return True

    async def _call_ami(self) -> AmiCredentials | None:
        """The AMI login to ask about calls: our Asterisk's, the one `voicebot run` gave
        its bridge child, or (`voicebot bridge` beside `voicebot asterisk`) the one that
        Asterisk's instance holds, read at each call since each of its starts changes it."""
        if self.asterisk is not None:
            return self.asterisk.ami
        if self.ami_credentials is not None:
            return self.ami_credentials
        return await asyncio.to_thread(self._instance_ami)

    def _instance_ami(self) -> AmiCredentials | None:
        install = find_asterisk(Path(self.settings.cache_dir))
        return instance_ami_credentials(install, self.settings) if install else None

    async def _converse_browser(
        self, channel: BrowserChannel, listener: Listener, info: CallInfo
    ) -> None:
        """The app of every browser session: the same brain, events pushed to the page."""
        assert self.brain is not None
        await Session(self.brain, channel, listener=listener, info=info).run()

    async def _start_http(self) -> None:
        """The HTTP server with the browser door (page, /ws signalling, WebRTC)."""
        s = self.settings
        ice.restrict_host_candidates(s.webrtc_host)
        self.door = BrowserDoor(
            self._converse_browser,
            DoorOptions(
                max_sessions=s.browser_max_sessions,
                ice_urls=s.ice_servers,
                ice_username=s.ice_username,
                ice_credential=s.ice_credential,
                candidate_host=s.webrtc_host,
            ),
        )
        http_host, http_port = split_hostport(s.http_listen)
        self.http = HttpServer(
            http_host,
            http_port,
            self.health,
            self.status,
            websocket=self.door.handle,
            page_config={
                "iceServers": ice.browser_ice_servers(
                    s.ice_servers, s.ice_username, s.ice_credential
                ),
                "wsPath": WS_PATH,
            },
            access_token=s.access_token,
            ssl_context=await asyncio.to_thread(self._ssl_context),
        )
        await self.http.start()

    def _ssl_context(self) -> ssl.SSLContext | None:
        s = self.settings
        if s.https_cert:
            return tls.server_context(Path(s.https_cert), Path(s.https_key))
        if s.https_self_signed:
            host, _ = split_hostport(s.http_listen)
            cert, key = tls.self_signed(Path(s.run_dir) / "tls", host)
            return tls.server_context(cert, key)
        return None

    async def _start_asterisk(self) -> None:
        s = self.settings
        install = await asyncio.to_thread(find_or_provision, Path(s.cache_dir), self.progress)
        self.asterisk = AsteriskInstance(install, s)
        self.asterisk.render()
        assert self.tts is not None
        await asyncio.to_thread(
            ensure_prompt_wav,
            self.tts,
            s.unavailable_text,
            self.asterisk.unavailable_sound,
            Path(s.cache_dir),
        )
        self.progress(f"voicebot: starting Asterisk ({install.version()})")
        self.asterisk.start()
        await asyncio.to_thread(self.asterisk.wait_ready)
        self.progress(f"voicebot: Asterisk ready, SIP on udp {s.sip_bind}")

    async def health(self) -> dict[str, bool]:
        checks = {"models": self.brain.loaded if self.brain else self.tts.loaded}
        if self.with_bridge:
            checks["bridge"] = self.bridge is not None and self.bridge.serving
        if self.with_asterisk:
            inst = self.asterisk
            checks["asterisk"] = bool(
                inst is not None
                and inst.running()
                and await ami.endpoint_loaded(inst.ami, LOOPBACK_ENDPOINT)
            )
        elif self.ami_credentials is not None:
            checks["asterisk"] = await ami.endpoint_loaded(self.ami_credentials, LOOPBACK_ENDPOINT)
        return checks

    def status(self) -> dict[str, object]:
        """Counters for operators and tests: calls in progress and served."""
        bridge, door = self.bridge, self.door
        return {
            "pid": os.getpid(),
            "active_calls": len(bridge.calls) if bridge else 0,
            "calls_total": bridge.calls_total if bridge else 0,
            "browser_sessions": len(door.sessions) if door else 0,
            "browser_sessions_total": door.sessions_total if door else 0,
        }

    async def supervise(self, stop: asyncio.Event, bridge: BridgeProcess | None = None) -> None:
        """Run until ``stop`` is set; restart an Asterisk that died (at most 3 times a minute).

        A ``bridge`` child that dies is reported once, loudly, and not restarted:
        Asterisk stays up and its dialplan answers new calls with the spoken fallback.
        """
        bridge_reported = False
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.5):
                    await stop.wait()
            if bridge is not None and not bridge_reported and bridge.exited_unexpectedly():
                bridge_reported = True
                self._report_bridge_death(bridge)
            inst = self.asterisk
            if inst is None or inst.running() or stop.is_set():
                continue
            log.error("asterisk: exited unexpectedly; last output:\n%s", inst.console_tail())
            now = time.monotonic()
            self._restarts = [t for t in self._restarts if now - t < 60] + [now]
            if len(self._restarts) > 3:
                self.failed = "Asterisk keeps exiting (more than 3 restarts in a minute)"
                log.error("voicebot: %s; stopping", self.failed)
                stop.set()
                return
            try:
                inst.start()
                await asyncio.to_thread(inst.wait_ready)
                log.warning("asterisk: restarted")
            except Exception as exc:
                log.error("asterisk: restart failed: %s", exc)

    def _report_bridge_death(self, bridge: BridgeProcess) -> None:
        how = describe_exit(bridge.returncode if bridge.returncode is not None else 0)
        self.failed = f"the bridge process died ({how})"
        message = (
            f"voicebot: the bridge process (pid {bridge.pid}) died with {how}. Calls in "
            "progress were cut; Asterisk is still up and answers new calls with the spoken "
            "fallback. The bridge is not restarted automatically: see its output above for "
            "the cause (a native-code crash prints a Python traceback), fix it, then restart."
        )
        log.error("%s", message)
        self.progress(message)

    async def stop(self) -> None:
        """Stop everything this stack started, in reverse order."""
        if self.door is not None:
            await self.door.close()
        if self.http is not None:
            await self.http.close()
        if self.bridge is not None:
            await self.bridge.close()
        if self.asterisk is not None:
            await asyncio.to_thread(self.asterisk.stop)
        if self.brain is not None:
            self.brain.close()
        else:
            self.tts.close()
        if self.messages is not None:
            await asyncio.to_thread(self.messages.close)  # what callers said is written

    def banner(self, bridge_shown: bool | None = None) -> str:
        """What ``voicebot run`` prints when ready; ``bridge_shown`` for a bridge in a child."""
        s = self.settings
        show_bridge = self.with_bridge if bridge_shown is None else bridge_shown
        sip_host, sip_port = split_hostport(s.sip_bind)
        lines = ["", "voicebot is up."]
        if self.with_asterisk:
            lines += [
                f"  Call the bot:   sip:100@{sip_host}:{sip_port}   (UDP, codec PCMU or PCMA)",
                "                  from a softphone on this machine, e.g. `baresip` then",
                f"                  `/dial sip:100@{sip_host}:{sip_port}`",
                f"  Asterisk CLI:   {' '.join(self.asterisk.install.command('-C', self.asterisk.conf_path, '-r'))}"  # noqa: E501
                if self.asterisk
                else "",
                f"  Asterisk log:   {self.asterisk.messages_log}" if self.asterisk else "",
            ]
        if show_bridge:
            http_host, http_port = split_hostport(s.http_listen)
            tls_on = bool(s.https_cert or s.https_self_signed)
            scheme = self.http.scheme if self.http else ("https" if tls_on else "http")
            token = f"/?token={s.access_token}" if s.access_token else "/"
            lines += [
                f"  Bridge:         AudioSocket on {s.bridge_listen}",
                f"  Browser:        {scheme}://{http_host}:{http_port}{token}   (Start call)",
                f"  Health:         {scheme}://{http_host}:{http_port}/healthz",
            ]
        lines += ["  Stop:           Ctrl-C", ""]
        return "\n".join(line for line in lines if line != "")
