# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/lab/demo.sh prepare: what it decides on a machine in a given state.

The machine is played by stand-ins on a PATH of their own (docker, dockerd,
apt-get, systemctl, id), so the decisions are checked without touching the real
engine or packages: a CLI without an engine, an engine that never answers, no
root, no permission on the socket, systemd or not, and --dry-run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import subprocess

import pytest

DEMO = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'playbooks', 'lab', 'demo.sh')
REAL_TOOLS = ('bash', 'env', 'dirname', 'cat', 'seq', 'sleep', 'setsid', 'tail', 'grep', 'chmod')

# The engine answers once the file "engine" exists in $STATE.
DOCKER = '''#!/bin/bash
case "$1" in
  info) [ -e "$STATE/engine" ] && exit 0
        if [ -e "$STATE/no-permission" ]; then
          echo "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock" >&2
        else
          echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2
        fi
        exit 1 ;;
  version) echo 20.10.24 ;;
esac
'''
LOGGER = '''#!/bin/bash
echo "%s $*" >> "$STATE/calls"
'''
DOCKERD = LOGGER % 'dockerd' + '[ -e "$STATE/engine-broken" ] || : > "$STATE/engine"\n'
SYSTEMCTL = LOGGER % 'systemctl' + '[ -e "$STATE/engine-broken" ] || : > "$STATE/engine"\n'
# Installing docker.io brings dockerd (and docker, when it was missing).
APT_GET = LOGGER % 'apt-get' + '''case " $* " in *" docker.io "*)
  printf '%s' "$DOCKERD_SCRIPT" > "$FAKEBIN/dockerd"; chmod +x "$FAKEBIN/dockerd"
  [ -e "$FAKEBIN/docker" ] || { printf '%s' "$DOCKER_SCRIPT" > "$FAKEBIN/docker"; chmod +x "$FAKEBIN/docker"; } ;;
esac
'''
ID = '''#!/bin/bash
cat "$STATE/uid" 2>/dev/null || echo 0
'''


@pytest.fixture
def machine(tmp_path):
    """A fresh machine: only the tools given exist; returns a runner of demo.sh prepare."""
    fakebin = tmp_path / 'bin'
    fakebin.mkdir()
    state = tmp_path / 'state'
    state.mkdir()
    for tool in REAL_TOOLS:
        os.symlink(shutil.which(tool), str(fakebin / tool))

    def install(name, script):
        path = fakebin / name
        path.write_text(script)
        path.chmod(0o755)

    install('apt-get', APT_GET)
    install('systemctl', SYSTEMCTL)
    install('id', ID)
    for tool in ('mmdebstrap', 'ssh', 'ssh-keygen'):
        install(tool, '#!/bin/bash\n')

    class Machine:
        def __init__(self):
            self.fakebin, self.state = fakebin, state
            self.systemd_dir = str(tmp_path / 'no-systemd')

        def has(self, name):
            install(name, {'docker': DOCKER, 'dockerd': DOCKERD}[name])

        def lacks(self, name):
            os.unlink(str(fakebin / name))

        def flag(self, name, text=''):
            (state / name).write_text(text)

        def with_systemd(self):
            self.systemd_dir = str(tmp_path)

        def calls(self):
            path = state / 'calls'
            return path.read_text().splitlines() if path.exists() else []

        def prepare(self, *args):
            env = {'PATH': str(fakebin), 'STATE': str(state), 'FAKEBIN': str(fakebin),
                   'DOCKER_SCRIPT': DOCKER, 'DOCKERD_SCRIPT': DOCKERD,
                   'CROSSHOST_DEMO_SYSTEMD_DIR': self.systemd_dir,
                   'CROSSHOST_DEMO_DOCKERD_LOG': str(tmp_path / 'dockerd.log'),
                   'CROSSHOST_DEMO_WAIT': '2'}
            return subprocess.run([shutil.which('bash'), DEMO, 'prepare'] + list(args), env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=60, check=False)

    return Machine()


def test_a_running_engine_is_left_alone(machine):
    machine.has('docker')
    machine.flag('engine')
    result = machine.prepare()
    assert result.returncode == 0, result.stderr
    assert 'Docker engine: running (20.10.24)' in result.stdout
    assert machine.calls() == []


def test_a_cli_without_engine_gets_docker_io_and_dockerd_without_systemd(machine):
    machine.has('docker')
    result = machine.prepare()
    assert result.returncode == 0, result.stderr
    assert 'the docker command is there' in result.stdout
    calls = machine.calls()
    assert calls[:2] == ['apt-get update -q', 'apt-get install -y -q docker.io']
    assert calls[2] == 'dockerd '
    assert 'Docker engine: running' in result.stdout


def test_with_systemd_the_engine_is_started_by_systemctl(machine):
    machine.has('docker')
    machine.has('dockerd')
    machine.with_systemd()
    result = machine.prepare()
    assert result.returncode == 0, result.stderr
    assert machine.calls() == ['systemctl start docker.service']


def test_nothing_at_all_installs_docker_io_and_the_missing_tools_once_updated(machine):
    machine.lacks('mmdebstrap')
    result = machine.prepare()
    assert result.returncode == 0, result.stderr
    assert machine.calls() == ['apt-get update -q', 'apt-get install -y -q docker.io', 'dockerd ',
                               'apt-get install -y -q mmdebstrap']


def test_dry_run_says_what_it_would_do_and_does_nothing(machine):
    machine.has('docker')
    machine.lacks('ssh')
    result = machine.prepare('--dry-run')
    assert result.returncode == 0, result.stderr
    assert machine.calls() == []
    assert 'would run: apt-get install -y -q docker.io' in result.stdout
    assert 'would run: setsid dockerd' in result.stdout
    assert 'would run: apt-get install -y -q openssh-client' in result.stdout


def test_an_engine_that_never_answers_is_reported_with_its_log(machine):
    machine.has('docker')
    machine.has('dockerd')
    machine.flag('engine-broken')
    result = machine.prepare()
    assert result.returncode == 1
    assert 'the Docker engine did not answer within 2 s: Cannot connect to the Docker daemon' in result.stderr
    assert 'fix: read: %s' % os.path.join(os.path.dirname(machine.systemd_dir), 'dockerd.log') in result.stderr


def test_without_root_the_missing_packages_and_the_command_are_named(machine):
    machine.has('docker')
    machine.flag('uid', '1000')
    result = machine.prepare()
    assert result.returncode == 1
    assert 'missing Debian packages: docker.io' in result.stderr
    assert 'fix: as root: apt-get install docker.io' in result.stderr
    assert machine.calls() == []


def test_no_permission_on_the_socket_is_not_a_missing_engine(machine):
    machine.has('docker')
    machine.has('dockerd')
    machine.flag('no-permission')
    result = machine.prepare()
    assert result.returncode == 1
    assert 'add yourself to group docker' in result.stderr
    assert machine.calls() == []
