"""Each role used alone, on a real lab: bridge, docker, forwarding, static_routes, then
etcd with flannel (vxlan, leases from the plan), then pipework.

A plain playbook (no preflight, no site.yml) gives each role only its documented
variables. Two hosts on underlay 198.18.50.0/24 (Docker objects ``crosshost-i9roles-*``;
CROSSHOST_LABTEST_ROLES_NAME and CROSSHOST_LABTEST_ROLES_SUBNET, a /24, move it beside another run),
created for this module and always destroyed at its end. The tests run in file order,
each on the state the previous one left:

1. bad input fails naming the host, the variable and the value, and changes nothing
   (not even through static_routes' forwarding part);
2. check mode on the fresh hosts changes nothing;
3. the real run converges, the second run changes nothing;
4. a run interrupted after daemon.json was written (Docker not restarted) is repaired
   by the next run: Docker restarts and runs the new MTU;
5. etcd (one member, node1) and the flannel overlay over the direct routes: check mode
   changes nothing, the real run converges (the overlay replaces the direct routes),
   the second run changes nothing;
6. the same for pipework (eth0 joined to bri0, a network namespace on the LAN).
"""

import json
import os
import re
import shutil

import pytest
import yaml

from labdriver import create_lab, destroy_lab, recap

NAME = os.environ.get('CROSSHOST_LABTEST_ROLES_NAME', 'crosshost-i9roles')
SUBNET = os.environ.get('CROSSHOST_LABTEST_ROLES_SUBNET', '198.18.50.0/24')
UNDERLAY = SUBNET.rsplit('.', 1)[0]
HOSTS = 2
NETWORK = '100.80.0.0/16'
PLAN = {'node1': {'subnet': '100.80.1.0/24', 'underlay_ip': UNDERLAY + '.11'},
        'node2': {'subnet': '100.80.2.0/24', 'underlay_ip': UNDERLAY + '.12'}}
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
# flannel_plan's documented entry: subnet, bip, underlay_ip, underlay_interface, underlay_mtu, vtep_mac.
OVERLAY_PLAN = dict((host, dict(entry, bip=entry['subnet'].replace('.0/24', '.1/24'), underlay_interface='eth0', underlay_mtu=1500,
                                vtep_mac='0e:58:50:00:00:0%s' % host[-1]))
                    for host, entry in PLAN.items())
OVERLAY_PLAYBOOK = [
    {'name': 'etcd alone', 'hosts': 'etcd', 'gather_facts': False,
     'roles': [{'role': 'crosshost.network.etcd', 'vars': {'etcd_listen_address': PLAN['node1']['underlay_ip']}}]},
    {'name': 'Overlay alone', 'hosts': 'cluster', 'gather_facts': False,
     'roles': [{'role': 'crosshost.network.flannel',
                'vars': {'flannel_plan': OVERLAY_PLAN, 'flannel_host': '{{ flannel_plan[inventory_hostname] }}',
                         'flannel_network': NETWORK, 'flannel_subnet_len': 24,
                         'flannel_subnet_min': '100.80.1.0', 'flannel_subnet_max': '100.80.255.0'}}]},
]
LAN_NETNS = 'xh-alone'
LAN_ADDRESSES = {'node1': UNDERLAY + '.101', 'node2': UNDERLAY + '.102'}
PIPEWORK_PLAYBOOK = [
    {'name': 'Pipework alone', 'hosts': 'cluster', 'gather_facts': False,
     'roles': [{'role': 'crosshost.network.pipework',
                'vars': {'pipework_uplink': 'eth0',
                         'pipework_attachments': [{'netns': LAN_NETNS, 'address': '{{ alone_lan[inventory_hostname] }}/24'}]}}]},
]


@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    if not shutil.which('docker'):
        pytest.skip('docker is not installed')
    inventory_dir = str(tmp_path_factory.mktemp('roles-alone'))
    try:
        lab = create_lab(NAME, SUBNET, HOSTS, inventory_dir, cluster_vars='---\n%s' % yaml.safe_dump(dict(VARS, alone_lan=LAN_ADDRESSES)),
                         connection='docker')
        # node1 is the etcd member.
        with open(lab.inventory) as handle:
            inventory = yaml.safe_load(handle)
        inventory['etcd'] = {'hosts': {'node1': None}}
        with open(lab.inventory, 'w') as handle:
            yaml.safe_dump(inventory, handle, default_flow_style=False)
        lab.playbooks = {}
        for name, plays in (('roles', PLAYBOOK), ('static_routes', PLAYBOOK[-1:]), ('overlay', OVERLAY_PLAYBOOK),
                            ('pipework', PIPEWORK_PLAYBOOK)):
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
    ('alone_network=nonsense', 'static_routes on node1: static_routes_network must be an IPv4 CIDR, or empty with '
                               'static_routes_network_v6 set (got "nonsense")'),
])
def test_bad_input_changes_nothing(lab, override, message):
    rc, output = run(lab, '-e', override, check=False, playbook='static_routes')
    assert rc != 0, output[-3000:]
    assert message in output, output[-3000:]
    # Reported as static_routes' own input, never as the forwarding role's (the error's
    # origin lines may quote the template that passes static_routes_state on).
    assert not re.search(r'forwarding on |value of forwarding_state|forwarding_state must', output), output[-3000:]
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


def existing(lab, host, paths):
    return lab.sh(host, 'sh', '-c', 'for p in "$@"; do [ -e "$p" ] && echo "$p"; done; true', 'sh', *paths).split()


def etcd_answers(lab):
    # etcdctl prints the health on stderr.
    return 'is healthy' in lab.sh('node1', 'sh', '-c', 'etcdctl --endpoints http://%s:2379 endpoint health 2>&1'
                                  % PLAN['node1']['underlay_ip'], check=False)


def test_etcd_and_overlay_alone(lab):
    overlay_files = ['/etc/crosshost/flannel', '/run/flannel', '/sys/class/net/flannel.1', '/var/lib/etcd/crosshost']
    etcd_config = lab.sh('node1', 'cat', '/etc/default/etcd')
    output = run(lab, '--check', playbook='overlay')[1]
    assert all(count > 0 for count in changed(output).values()), output[-3000:]
    for host in lab.hosts:
        assert existing(lab, host, overlay_files) == [], host
        assert 'CROSSHOST-VXLAN' not in lab.sh(host, 'iptables-save'), host
    assert lab.sh('node1', 'cat', '/etc/default/etcd') == etcd_config
    assert not etcd_answers(lab)

    output = run(lab, playbook='overlay')[1]
    assert all(count > 0 for count in changed(output).values()), output[-3000:]
    assert etcd_answers(lab)
    for host in lab.hosts:
        peer = [name for name in lab.hosts if name != host][0]
        peer_subnet = PLAN[peer]['subnet']
        route = lab.ip_json(host, 'route', 'show', 'proto', '147')
        assert [(r['dst'], r['dev'], r['gateway']) for r in route] == [(peer_subnet, 'flannel.1', peer_subnet.split('/')[0])], host
        assert lab.ip_json(host, 'link', 'show', 'dev', 'flannel.1')[0]['mtu'] == 1450, host
        assert 'FLANNEL_SUBNET=%s' % OVERLAY_PLAN[host]['bip'] in lab.sh(host, 'cat', '/run/flannel/subnet.env'), host
        # Through the overlay: this host's VTEP address (its subnet's .0) to the peer's.
        lab.sh(host, 'ping', '-c', '1', '-W', '2', '-I', PLAN[host]['subnet'].split('/')[0], peer_subnet.split('/')[0])
    again = run(lab, playbook='overlay')[1]
    assert changed(again) == dict((host, 0) for host in lab.hosts), again[-4000:]


def test_pipework_alone(lab):
    for host in lab.hosts:
        lab.sh(host, 'ip', 'netns', 'add', LAN_NETNS)
    output = run(lab, '--check', playbook='pipework')[1]
    assert all(count > 0 for count in changed(output).values()), output[-3000:]
    for host in lab.hosts:
        assert existing(lab, host, ['/sys/class/net/bri0', '/etc/crosshost/pipework']) == [], host
        assert len(lab.sh(host, 'ip', '-n', LAN_NETNS, '-o', 'link').splitlines()) == 1, host  # lo only

    output = run(lab, playbook='pipework')[1]
    assert all(count > 0 for count in changed(output).values()), output[-3000:]
    for host in lab.hosts:
        peer = [name for name in lab.hosts if name != host][0]
        uplink = lab.ip_json(host, 'address', 'show', 'dev', 'eth0')[0]
        assert uplink.get('master') == 'bri0' and not [a for a in uplink['addr_info'] if a['family'] == 'inet'], host
        bridge = lab.ip_json(host, 'address', 'show', 'dev', 'bri0')[0]
        assert [a['local'] for a in bridge['addr_info'] if a['family'] == 'inet'] == [PLAN[host]['underlay_ip']], host
        # The namespace is on the LAN: it reaches the peer's namespace and the peer host.
        for address in (LAN_ADDRESSES[peer], PLAN[peer]['underlay_ip']):
            lab.sh(host, 'ip', 'netns', 'exec', LAN_NETNS, 'ping', '-c', '1', '-W', '2', address)
    again = run(lab, playbook='pipework')[1]
    assert changed(again) == dict((host, 0) for host in lab.hosts), again[-4000:]
