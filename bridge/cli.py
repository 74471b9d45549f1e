"""``voicebot``: the command line. ``make run`` calls ``voicebot run``.

- ``voicebot run``       Asterisk + bridge + HTTP, supervised, until Ctrl-C / SIGTERM
- ``voicebot asterisk``  only Asterisk (with the fallback prompt), until stopped
- ``voicebot bridge``    only the bridge and its HTTP server, until stopped
- ``voicebot provision`` find or provision Asterisk, then exit
- ``voicebot messages``  the messages callers left, newest first (``--json`` for tools)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from bridge.config import ConfigError, load_brain_settings, load_settings, split_hostport


def _progress(message: str) -> None:
    print(message, flush=True)


async def _serve(args: argparse.Namespace) -> int:
    from bridge.agents_config import load_agents
    from bridge.bridge_process import AMI_SECRET_ENV, READY_LINE, BridgeProcess
    from bridge.pbx.instance import AMI_USER, AmiCredentials
    from bridge.stack import Stack

    settings = load_settings(args.config)
    brain_settings = load_brain_settings(args.config)
    # Checked by every command, so `voicebot run` refuses a bad agent before it starts.
    agents = load_agents(args.config, settings)
    supervised = args.command == "bridge" and args.supervised
    ami_credentials = None
    if supervised:
        host, port = split_hostport(settings.ami_bind)
        ami_credentials = AmiCredentials(host, port, AMI_USER, os.environ.get(AMI_SECRET_ENV, ""))
    # `run` keeps the bridge in a child process (bridge/bridge_process.py): a crash in a
    # model library then cannot take Asterisk, and its spoken fallback, down with it.
    stack = Stack(
        settings,
        brain_settings,
        with_asterisk=args.command in ("run", "asterisk"),
        with_bridge=args.command == "bridge",
        ami_credentials=ami_credentials,
        agents=agents,
        progress=_progress,
    )
    child: BridgeProcess | None = None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stack.start()
        if args.command == "run":
            assert stack.asterisk is not None
            child = BridgeProcess(
                args.config, stack.asterisk.ami.secret, verbose=args.verbose, echo=_progress
            )
            await child.start()
            await child.wait_ready(timeout=900)
        if supervised:
            _progress(READY_LINE)
        else:
            _progress(stack.banner(bridge_shown=True if child else None))
            _progress("voicebot: ready")
        await stack.supervise(stop, bridge=child)
    finally:
        _progress("voicebot: stopping")
        if child is not None:
            await child.stop()
        await stack.stop()
        _progress("voicebot: stopped")
    return 1 if stack.failed else 0


def _messages(args: argparse.Namespace) -> int:
    import json

    from records.messages import read_messages

    rows = read_messages(Path(load_settings(args.config).data_dir), limit=args.limit)
    if args.json:
        print(json.dumps([r.as_json() for r in rows], indent=2))
        return 0
    if not rows:
        print("no messages")
    for r in rows:
        state = "" if r.complete else "  (incomplete)"
        print(f"{r.time}  {r.agent}  from {r.caller or 'unknown'}{state}")
        print(f"  name: {r.name or '-'}   call back: {r.number or '-'}")
        print(f"  message: {r.text or '-'}")
        if r.audio:
            print(f"  audio: {r.audio}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="voicebot", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["run", "asterisk", "bridge", "provision", "messages"])
    parser.add_argument("--config", help="TOML settings file (default: $VOICEBOT_CONFIG)")
    parser.add_argument(
        "--supervised", action="store_true", help=argparse.SUPPRESS
    )  # `voicebot run`'s child: prints one ready line, reports Asterisk's health over AMI
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--json", action="store_true", help="messages: a JSON list")
    parser.add_argument("--limit", type=int, default=0, help="messages: at most this many")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        if args.command == "provision":
            from bridge.pbx.provision import find_or_provision

            install = find_or_provision(Path(load_settings(args.config).cache_dir), _progress)
            _progress(f"asterisk: {install.version()} ({install.root or 'on the PATH'})")
            return 0
        if args.command == "messages":
            return _messages(args)
        return asyncio.run(_serve(args))
    except ConfigError as exc:
        print(f"voicebot: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        logging.getLogger("voicebot").debug("fatal", exc_info=True)
        print(f"voicebot: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
