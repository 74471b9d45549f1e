"""Find an Asterisk to run, or provision one from Debian's own package.

Why a chroot: Debian bookworm (this project's reference machine) has no
``asterisk`` package, while Debian sid does. ``debootstrap`` builds a minimal
sid tree in a git-ignored folder, ``apt-get`` installs ``asterisk`` there,
and Asterisk then runs with ``chroot``: it shares the host's network, so it
binds 127.0.0.1 like any local process. The tree is reused on later runs; a
marker file written last makes an interrupted provisioning start over.

An ``asterisk`` already on the PATH (Ubuntu universe, a distribution package,
a source build) is always preferred: that is what its admin expects us to use.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

Progress = Callable[[str], None]

_MARKER = ".voicebot-provisioned"
_APT_NO_EXPIRY = "-o", "Acquire::Check-Valid-Until=false"
_PACKAGES = ("asterisk", "asterisk-modules")


class ProvisionError(RuntimeError):
    """Asterisk could not be found or provisioned; the message says what to do."""


@dataclass(frozen=True)
class AsteriskInstall:
    """An Asterisk binary, and the root it runs in (``None``: the host itself)."""

    binary: str
    root: Path | None = None

    def command(self, *args: str) -> list[str]:
        """The argv that runs Asterisk with ``args``, inside the chroot when there is one."""
        if self.root is None:
            return [self.binary, *args]
        return ["chroot", str(self.root), self.binary, *args]

    def host_path(self, inner: str | Path) -> Path:
        """Where a path Asterisk sees (``inner``, absolute) lives on the host."""
        inner = Path(inner)
        if self.root is None:
            return inner
        return self.root / inner.relative_to("/")

    def version(self) -> str:
        out = subprocess.run(self.command("-V"), capture_output=True, text=True, check=False)
        return out.stdout.strip() or out.stderr.strip()


def find_asterisk(cache_dir: Path) -> AsteriskInstall | None:
    """An Asterisk on the PATH, else a complete provisioned tree under ``cache_dir``."""
    on_path = shutil.which("asterisk")
    if on_path:
        return AsteriskInstall(binary=on_path)
    root = cache_dir / "asterisk-root"
    if (root / _MARKER).exists():
        return AsteriskInstall(binary="/usr/sbin/asterisk", root=root)
    return None


def find_or_provision(cache_dir: Path, progress: Progress = print) -> AsteriskInstall:
    """Return an Asterisk to run; provision one into ``cache_dir`` when there is none."""
    found = find_asterisk(cache_dir)
    if found:
        return found
    cache_dir.mkdir(parents=True, exist_ok=True)
    with _lock(cache_dir / "asterisk-root.lock"):
        found = find_asterisk(cache_dir)  # another process may have finished meanwhile
        if found:
            return found
        root = cache_dir / "asterisk-root"
        _provision(root, progress)
        return AsteriskInstall(binary="/usr/sbin/asterisk", root=root)


@contextmanager
def _lock(path: Path) -> Iterator[None]:
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _provision(root: Path, progress: Progress) -> None:
    if os.geteuid() != 0:
        raise ProvisionError(
            "no `asterisk` on the PATH, and provisioning one (debootstrap + chroot) needs root. "
            "Install Asterisk from your distribution (e.g. `apt install asterisk` on Ubuntu) "
            "or run `make run` / `make test` as root."
        )
    if root.exists():
        progress(f"asterisk: removing incomplete tree {root}")
        shutil.rmtree(root)
    if not shutil.which("debootstrap"):
        progress("asterisk: installing debootstrap (apt-get)")
        _run(["apt-get", "install", "-y", "-q", "debootstrap"], "install debootstrap")
    mirror = debian_mirror()
    progress(f"asterisk: debootstrap of Debian sid into {root} (about 30 s)")
    _run(
        ["debootstrap", "--variant=minbase", "sid", str(root), mirror],
        "debootstrap Debian sid",
    )
    chroot = ["chroot", str(root)]
    progress("asterisk: apt-get update inside the tree")
    _run([*chroot, "apt-get", *_APT_NO_EXPIRY, "update"], "apt-get update in the tree")
    progress("asterisk: installing " + " ".join(_PACKAGES) + " (about 20 s)")
    _run(
        [
            *chroot,
            "env",
            "DEBIAN_FRONTEND=noninteractive",
            "apt-get",
            *_APT_NO_EXPIRY,
            "install",
            "-y",
            "--no-install-recommends",
            *_PACKAGES,
        ],
        "apt-get install asterisk in the tree",
    )
    # Keep the tree small: the package cache is not needed after install.
    subprocess.run([*chroot, "apt-get", "clean"], check=False, capture_output=True)
    (root / _MARKER).write_text("ok\n")
    progress("asterisk: provisioned " + AsteriskInstall("/usr/sbin/asterisk", root).version())


def _run(argv: list[str], what: str) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise ProvisionError(f"could not {what} (exit {proc.returncode}):\n{tail}")


def debian_mirror() -> str:
    """The Debian archive this host's apt already uses (``$VOICEBOT_DEBIAN_MIRROR`` wins).

    Reusing the host's own apt source means provisioning goes wherever the
    admin's apt goes (a local mirror, a proxy), with nothing hard-coded here.
    """
    override = os.environ.get("VOICEBOT_DEBIAN_MIRROR")
    if override:
        return override
    candidates: list[str] = []
    sources = Path("/etc/apt/sources.list.d")
    for path in sorted(sources.glob("*.sources")) if sources.is_dir() else []:
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("URIs:"):
                candidates.extend(line.split()[1:])
    legacy = Path("/etc/apt/sources.list")
    if legacy.exists():
        for line in legacy.read_text(errors="replace").splitlines():
            m = re.match(r"\s*deb\s+(?:\[[^]]*\]\s+)?(\S+)", line)
            if m:
                candidates.append(m.group(1))
    for uri in candidates:
        if uri.rstrip("/").endswith("/debian"):
            return uri
    raise ProvisionError(
        "no Debian archive found in /etc/apt sources to provision Asterisk from; "
        "set VOICEBOT_DEBIAN_MIRROR to a Debian mirror URL, or install asterisk yourself"
    )
