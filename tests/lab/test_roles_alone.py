"""The bridge, docker, forwarding and static_routes roles used alone, on a real lab.

A plain playbook (no preflight, no site.yml) gives each role only its documented
variables. Two hosts on underlay 198.18.50.0/24 (Docker objects ``crosshost-i9roles-*``),
created for this module and always destroyed at its end. The tests run in file order,
each on the state the previous one left:

1. bad input fails naming the host, the variable and the value, and changes nothing
   (not even through static_routes' forwarding part);
2. check mode on the fresh hosts changes nothing;
3. the real run converges, the second run changes nothing;
4. a run interrupted after daemon.json was written (Docker not restarted) is repaired
   by the next run: Docker restarts and runs the new MTU.
"""

import json
import os
import shutil

import pytest
import yaml

from labdriver import create_lab, destroy_lab, recap

NAME = 'crosshost-i9roles'
SUBNET = '198.18.50.0/24'
HOSTS = 2
NETWORK = '100.80.0.0/16'
PLAN = {'node1': {'subnet': '100.80.1.0/24', 'underlay_ip': '198.18.50.11'},
        'node2': {'subnet': '100.80.2.0/24', 'underlay_ip': '198.18.50.12'}}
# What the roles write or load on a host that was never configured (none of it exists before).
OURS = ['/etc/crosshost', '/etc/sysctl.d/60-crosshost.conf', '/usr/local/sbin/crosshost-restore']
PLAYBOOK = [
    {'name': 'Container bridge alone', 'hosts': 'cluster', 'gather_facts': False,
     'roles': [{'role': 'crosshost.network.bridge',
                'vars': {'bridge_address': '{{ alone_gateway }}', 'bridge_mtu': '{{ alone_mtu }}'}}]},
    {'name': 'Docker alone', 'hosts': 'cluster', 'gather_facts': False,
     'roles': [{'role': 'crosshost.network.docker',
                'vars': {'docker_bip': '{{ alone_gateway }}', 'docker_mtu': '{{ alone_mtu }}', 'docker_ip_masq': False}}]},
    {'name': 'Forwarding alone', 'hosts': 'cluster', 'gather_facts': False,
     'roles': [{'role': 'crosshost.network.forwarding', 'vars': {'forwarding_network': NETWORK}}]},
    {'name': 'Static routes alone', 'hosts': 'cluster', 'gather_facts': False,
     'roles': [{'role': 'crosshost.network.static_routes',
                'vars': {'static_routes_plan': '{{ alone_plan }}', 'static_routes_network': '{{ alone_network }}',
                         'static_routes_device': 'eth0'}}]},
]
VARS = {'alone_plan': PLAN, 'alone_network': NETWORK, 'alone_mtu': 1450,
        'alone_gateway': "{{ alone_plan[inventory_hostname].subnet | replace('.0/24', '.1/24') }}"}


@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    if not shutil.which('docker'):
        pytest.skip('docker is not installed')
    inventory_dir = str(tmp_path_factory.mktemp('roles-alone'))
    try:
        lab = create_lab(NAME, SUBNET, HOSTS, inventory_dir, cluster_vars='---\n%s' % yaml.safe_dump(VARS),
                         connection='docker')
        lab.playbooks = {}
        for name, plays in (('roles', PLAYBOOK), ('static_routes', PLAYBOOK[-1:])):
            lab.playbooks[name] = os.path.join(inventory_dir, '%s.yml' % name)
            with open(lab.playbooks[name], 'w') as handle:
                yaml.safe_dump(plays, handle, sort_keys=False)
        yield lab
    finally:
        if os.environ.get('CROSSHOST_LABTEST_KEEP') != '1':
            destroy_lab(NAME)


def run(lab, *args, check=True, playbook='roles'):
    return lab.playbook(lab.playbooks[playbook], *args, check=check)


def changed(output):
    return dict((host, counts['changed']) for host, counts in recap(output).items())


def nothing_of_ours(lab, host):
    present = lab.sh(host, 'sh', '-c', 'for p in "$@"; do [ -e "$p" ] && echo "$p"; done; true', 'sh', *OURS)
    chains = [line for line in lab.sh(host, 'iptables-save').splitlines() if 'CROSSHOST' in line]
    return present.split() + chains + [str(route) for route in lab.our_routes(host)]


def docker_network(lab, host):
    network = json.loads(lab.sh(host, 'docker', 'network', 'inspect', 'bridge'))[0]
    return network['IPAM']['Config'][0]['Gateway'], int(network['Options'].get('com.docker.network.driver.mtu', 1500))


@pytest.mark.parametrize('override, message', [
    ('static_routes_state=bogus', "value of static_routes_state must be one of: present, absent, got: bogus"),
    ('alone_network=nonsense', 'static_routes on node1: static_routes_network must be an IPv4 CIDR (got "nonsense")'),
])
def test_bad_input_changes_nothing(lab, override, message):
    rc, output = run(lab, '-e', override, check=False, playbook='static_routes')
    assert rc != 0, output[-3000:]
    assert message in output, output[-3000:]
    assert 'forwarding_state' not in output, output[-3000:]
    for host in lab.hosts:
        assert nothing_of_ours(lab, host) == [], host


def test_check_mode_changes_nothing(lab):
    output = run(lab, '--check')[1]
    assert all(count > 0 for count in changed(output).values()), output[-3000:]
    for host in lab.hosts:
        assert nothing_of_ours(lab, host) == [], host


def test_roles_alone_converge(lab):
    output = run(lab)[1]
    assert all(count > 0 for count in changed(output).values()), output[-3000:]
    for host in lab.hosts:
        peer = [name for name in lab.hosts if name != host][0]
        assert lab.our_routes(host) == {PLAN[peer]['subnet']: PLAN[peer]['underlay_ip']}, host
        assert docker_network(lab, host) == (PLAN[host]['subnet'].replace('.0/24', '.1'), 1450), host
        assert 'CROSSHOST-FWD' in lab.sh(host, 'iptables-save', '-t', 'filter'), host
    again = run(lab)[1]
    assert changed(again) == dict((host, 0) for host in lab.hosts), again[-4000:]


def test_rerun_restarts_docker_interrupted_after_daemon_json(lab):
    """daemon.json with the new MTU written, Docker not restarted: the rerun restarts it."""
    for host in lab.hosts:
        config = json.loads(lab.sh(host, 'cat', '/etc/docker/daemon.json'))
        config['mtu'] = 1400
        lab.sh(host, 'sh', '-c', 'printf "%s\\n" "$1" > /etc/docker/daemon.json', 'sh', json.dumps(config, indent=2))
        assert docker_network(lab, host)[1] == 1450, host
    output = run(lab, '-e', 'alone_mtu=1400')[1]
    assert all(count > 0 for count in changed(output).values()), output[-3000:]
    for host in lab.hosts:
        assert docker_network(lab, host)[1] == 1400, host
    again = run(lab, '-e', 'alone_mtu=1400')[1]
    assert changed(again) == dict((host, 0) for host in lab.hosts), again[-4000:]
