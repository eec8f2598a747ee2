"""The docker role on a host without Docker, through ansible-playbook on localhost.

The role's module is pointed at a dockerd that does not exist (module_defaults: the role
does not set the module's ``dockerd``), so this machine's own Docker is never read or
touched, and daemon.json is a file in ``tmp_path``:

* without docker_install the host is skipped with the role's message, nothing written,
  in three task runs after the argument spec (module, include, message);
* with docker_install the packages would be installed, then the daemon
  configured; nothing installed, so it ends with the same message;
* bad input fails in the module task, naming the host, the variable and the value,
  before anything is installed.
"""

import json
import os
import subprocess
import sys

import yaml

from conftest import ansible_env

MESSAGE = 'docker: Docker is not installed on localhost, so its daemon.json was not configured (set docker_install: true'


def play(name, daemon_json, **variables):
    return {'name': name, 'hosts': 'localhost', 'gather_facts': False, 'connection': 'local',
            'module_defaults': {'crosshost.network.docker_daemon_config': {'dockerd': 'xh-no-dockerd'}},
            'roles': [{'role': 'crosshost.network.docker',
                       'vars': dict(docker_bip='100.64.9.1/24', docker_daemon_json=daemon_json, **variables)}]}


def test_host_without_docker(tmp_path):
    daemon_json = str(tmp_path / 'daemon.json')
    plays = [play('skipped', daemon_json), play('installed', daemon_json, docker_install=True),
             play('bad', daemon_json, docker_install=True, docker_mtu=100)]
    playbook = tmp_path / 'docker.yml'
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', '--check', str(playbook)],
                          env=dict(ansible_env(), ANSIBLE_PYTHON_INTERPRETER=sys.executable), capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr[-3000:]
    output = json.loads(proc.stdout)
    # The task runs of each play (flush_handlers has none).
    runs = dict((p['play']['name'], [(t['task']['name'].split(' : ', 1)[-1], t['hosts']['localhost']) for t in p['tasks'] if t['hosts']])
                for p in output['plays'])

    skipped = runs['skipped']
    names = [name for name, _result in skipped]
    assert names[1:] == ['Reconcile the daemon configuration', 'Install Docker, or skip a host without it', 'Skip a host without Docker'], skipped
    assert skipped[1][1]['installed'] is False and not skipped[1][1]['changed'], skipped[1]
    assert skipped[-1][1]['msg'].startswith(MESSAGE), skipped[-1]

    installed = runs['installed']
    names = [name for name, _result in installed]
    # Configured right after the install (the role's one module task, imported again).
    assert names[names.index('Install the Docker packages') + 1] == 'Reconcile the daemon configuration', names
    assert installed[-1][0] == 'Skip a host without Docker' and installed[-1][1]['msg'].startswith(MESSAGE), installed[-1]

    bad = runs['bad']
    assert bad[-1][0] == 'Reconcile the daemon configuration' and bad[-1][1]['failed'], bad[-1]
    assert 'docker on localhost: docker_mtu must be at least 576 (got 100)' in bad[-1][1]['msg'], bad[-1]
    assert not os.path.exists(daemon_json)
