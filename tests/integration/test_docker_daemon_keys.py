"""The docker role's daemon.json for IPv6: the keys the role's own variables (vars/main.yml)
set and remove, computed in one local playbook run and merged as the docker_daemon_config
module merges them (with its allow-direct-routing by engine version); nothing is read from or written to this machine's Docker.

Dual stack adds ``ipv6`` and ``fixed-cidr-v6``; turning IPv6 off removes exactly those
keys (not the user's own ones); an IPv6-only cluster drops ``bip``; ``ip6tables`` is
never written; Docker 28 gets ``allow-direct-routing`` (both families).
"""

import json
import os
import subprocess
import sys

import yaml

from ansible_collections.crosshost.network.plugins.modules.docker_daemon_config import direct_routing, engine_version, wanted_config
from conftest import ROOT, ansible_env

# The role's inputs at their defaults (defaults/main.yml) plus what the tasks would have read.
BASE = {'docker_bridge': 'docker0', 'docker_bip': '100.64.1.1/24', 'docker_mtu': 1500, 'docker_ip_masq': False,
        'docker_allow_direct_routing': True, 'docker_fixed_cidr': '', 'docker_default_gateway': '', 'docker_daemon_options': {},
        'docker_fixed_cidr_v6': ''}
USER = {'log-level': 'warn', 'dns': ['192.0.2.53']}
CASES = {
    'dual': dict(docker_fixed_cidr_v6='2001:db8:163:1::1/64', current=USER),
    'off': dict(current=dict(USER, **{'ipv6': True, 'fixed-cidr-v6': '2001:db8:163:1::/64', 'bip': '100.64.1.1/24'})),
    'off_user_ipv6': dict(docker_daemon_options={'ipv6': True},
                          current={'ipv6': True, 'fixed-cidr-v6': '2001:db8:163:1::/64'}),
    'v6_only': dict(docker_bip='', docker_fixed_cidr_v6='2001:db8:163:1::/64', current={'bip': '100.64.1.1/24'}),
    # The engine's version is the module's to read (dockerd --version); 20.10 elsewhere.
    'docker28': dict(docker_fixed_cidr_v6='2001:db8:163:1::/64', version='Docker version 28.1.1, build 4eba377'),
}


def wanted():
    """daemon.json (from each case's current one) and docker_errors of every case, from one ansible-playbook run."""
    tasks = [{'name': 'Load the role variables', 'ansible.builtin.include_vars': os.path.join(ROOT, 'roles', 'docker', 'vars', 'main.yml')}]
    for name, case in CASES.items():
        inputs = dict(BASE, **dict((k, v) for k, v in case.items() if k not in ('current', 'version')))
        tasks.append({'name': name, 'ansible.builtin.debug': {'msg': {'set': '{{ docker_set_keys }}', 'remove': '{{ docker_removed_keys }}',
                                                                      'errors': '{{ docker_errors }}'}},
                      'vars': inputs})
    tasks.append({'name': 'bad', 'ansible.builtin.debug': {'msg': {'errors': '{{ docker_errors }}'}},
                  'vars': dict(BASE, docker_bip='', docker_fixed_cidr_v6='100.64.1.0/24')})
    playbook = os.path.join(os.environ.get('TMPDIR', '/tmp'), 'xhtest-docker-keys-%d.yml' % os.getpid())
    with open(playbook, 'w') as handle:
        yaml.safe_dump([{'hosts': 'localhost', 'gather_facts': False, 'connection': 'local', 'tasks': tasks}], handle)
    try:
        proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', playbook],
                              env=ansible_env(), capture_output=True, text=True, timeout=300, check=False)
    finally:
        os.unlink(playbook)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = dict((task['task']['name'], task['hosts']['localhost']['msg']) for task in json.loads(proc.stdout)['plays'][0]['tasks'][1:])
    for name, msg in results.items():
        if 'set' in msg:
            version = engine_version(CASES[name].get('version', 'Docker version 20.10.24+dfsg1, build 297e128'))
            set_keys, remove = direct_routing(msg['set'], msg['remove'], version, BASE['docker_allow_direct_routing'])
            msg['wanted'] = wanted_config(CASES[name].get('current', {}), set_keys, [k for k in remove if k not in set_keys])
    return results


def test_docker_ipv6_keys():
    result = wanted()
    assert result.pop('bad')['errors'] == ['docker_fixed_cidr_v6 must be an IPv6 subnet or empty (got "100.64.1.0/24")']
    assert all(r['errors'] == [] for r in result.values()), result
    common = {'mtu': 1500, 'ip-masq': False}
    assert result['dual']['wanted'] == dict(USER, bip='100.64.1.1/24', ipv6=True, **dict(common, **{'fixed-cidr-v6': '2001:db8:163:1::/64'}))
    # Off again: exactly our two keys go, the user's stay.
    assert result['off']['wanted'] == dict(USER, bip='100.64.1.1/24', **common)
    assert result['off_user_ipv6']['wanted'] == dict(bip='100.64.1.1/24', ipv6=True, **common)
    # IPv6-only: no bip (Docker picks its own IPv4 subnet), the IPv6 keys.
    assert result['v6_only']['wanted'] == dict(ipv6=True, **dict(common, **{'fixed-cidr-v6': '2001:db8:163:1::/64'}))
    assert result['docker28']['wanted'] == dict(bip='100.64.1.1/24', ipv6=True, **dict(common, **{
        'fixed-cidr-v6': '2001:db8:163:1::/64', 'allow-direct-routing': True}))
    assert not any('ip6tables' in r['wanted'] for r in result.values())
