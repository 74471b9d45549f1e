"""A `voicebot bridge` beside `voicebot asterisk` finds that Asterisk's AMI login."""

from __future__ import annotations

from pathlib import Path

from bridge.config import Settings
from bridge.pbx.instance import AsteriskInstance, instance_ami_credentials
from bridge.pbx.provision import AsteriskInstall


def test_the_rendered_instance_holds_the_login_of_its_last_start(tmp_path: Path) -> None:
    settings = Settings(run_dir=str(tmp_path), instance="t", ami_bind="127.0.0.1:5999")
    install = AsteriskInstall(binary="/usr/sbin/asterisk")
    assert instance_ami_credentials(install, settings) is None  # not started yet
    instance = AsteriskInstance(install, settings)
    instance.render()
    first = instance_ami_credentials(install, settings)
    assert first == instance.ami and first.port == 5999 and first.secret
    instance.render()  # the next start: a new secret, read anew
    assert instance_ami_credentials(install, settings) == instance.ami != first


def test_a_provisioned_tree_keeps_the_instance_inside_it(tmp_path: Path) -> None:
    settings = Settings(run_dir=str(tmp_path / "run"), instance="t")
    install = AsteriskInstall(binary="/usr/sbin/asterisk", root=tmp_path / "root")
    instance = AsteriskInstance(install, settings)
    assert instance.host_dir == tmp_path / "root" / "opt" / "voicebot" / "t"
    instance.render()
    assert instance_ami_credentials(install, settings) == instance.ami
