"""The static_routes role's routes for both families, for real in throwaway namespaces.

The role's own vars and its task (persistent_routes) are evaluated by one ansible-playbook
run, one local host per case (each its own entry of the plan): its routes are applied in
a namespace, its boot batch file is replayed with ``ip -force -batch`` in a second,
identical one, and both must then hold the same routes of ours: the file holds exactly
what was applied. The lab runs the whole role (tests/lab/test_static_routes.py).
"""

import json
import os
import subprocess
import sys

import pytest
import yaml

from conftest import collections_path, ip_json, sh

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLE = os.path.join(ROOT, 'roles', 'static_routes')
DEVICE = 'xh-underlay'
# This host (localhost) has both underlay families; node3 an IPv6 underlay only.
DUAL_STACK = {
    'localhost': {'subnet': '100.64.1.0/24', 'underlay_ip': '198.18.64.11',
                  'subnet_v6': '2001:db8:164:1::/64', 'underlay_ip6': '2001:db8:64::11'},
    'node2': {'subnet': '100.64.2.0/24', 'underlay_ip': '198.18.64.12',
              'subnet_v6': '2001:db8:164:2::/64', 'underlay_ip6': '2001:db8:64::12'},
    'node3': {'subnet': '100.64.3.0/24', 'underlay_ip': '',
              'subnet_v6': '2001:db8:164:3::/64', 'underlay_ip6': '2001:db8:64::13'},
}


def underlay(netns):
    """The underlay device with this host's two addresses, as on a lab host."""
    sh('ip', '-n', netns, 'link', 'add', DEVICE, 'type', 'veth', 'peer', 'name', 'xh-underlay-p')
    sh('ip', '-n', netns, 'address', 'add', '198.18.64.11/24', 'dev', DEVICE)
    sh('ip', '-n', netns, 'address', 'add', '2001:db8:64::11/64', 'dev', DEVICE, 'nodad')
    for dev in (DEVICE, 'xh-underlay-p'):
        sh('ip', '-n', netns, 'link', 'set', dev, 'up')


def our_routes(netns):
    found = []
    for family in ('-4', '-6'):
        for route in ip_json(netns, '-N', family, 'route', 'show', 'proto', '147'):
            found.append((route['dst'], route.get('gateway') or route.get('via', {}).get('host'), route['dev'], route.get('metric')))
    return sorted(found)


NETWORKS = dict(static_routes_network='100.64.0.0/16', static_routes_network_v6='2001:db8:164::/48', static_routes_device=DEVICE)


def plan_of(host, plan):
    """``plan`` with this host's entry (``localhost``) under the name ``host``."""
    return dict((host if name == 'localhost' else name, entry) for name, entry in plan.items())


def run_role(tmp_path, cases):
    """Evaluate the role's vars on one local host per case (its variables over the role's defaults).

    A host with ``xh_netns`` and good input applies its routes there and writes its batch
    file, with the role's own task. Returns host -> (errors, routes, batch file text or None).
    """
    with open(os.path.join(ROLE, 'defaults', 'main.yml')) as handle:
        defaults = yaml.safe_load(handle)
    hosts = dict((name, dict(defaults, ansible_connection='local', ansible_python_interpreter=sys.executable, **variables))
                 for name, variables in cases.items())
    tasks = [
        {'name': 'role vars', 'ansible.builtin.include_vars': os.path.join(ROLE, 'vars', 'main.yml')},
        {'name': 'what the role checks and plans', 'ansible.builtin.copy': {
            'content': '{{ {"errors": static_routes_errors, "routes": static_routes_routes} | to_json }}',
            'dest': str(tmp_path / '{{ inventory_hostname }}.json')}},
        # The role's own task (tasks/main.yml), in the case's namespace: the routes and their boot file.
        {'name': 'the routes and the boot file', 'crosshost.network.persistent_routes': {
            'netns': '{{ xh_netns }}', 'routes': '{{ static_routes_routes }}', 'purge': True, 'purge_devices': [DEVICE],
            'boot_file': str(tmp_path / '{{ inventory_hostname }}.batch')},
         'when': 'xh_netns is defined and static_routes_errors | length == 0'},
    ]
    playbook = tmp_path / 'role.yml'
    playbook.write_text(yaml.safe_dump([{'name': 'static_routes', 'hosts': 'all', 'gather_facts': False, 'tasks': tasks}], sort_keys=False))
    inventory = tmp_path / 'hosts.yml'
    inventory.write_text(yaml.safe_dump({'all': {'hosts': hosts}}))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_NOCOLOR='1', ANSIBLE_FORKS='10')
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', str(inventory), str(playbook)],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    results = {}
    for name in cases:
        output = json.loads((tmp_path / (name + '.json')).read_text())
        batch = tmp_path / (name + '.batch')
        results[name] = (output['errors'], output['routes'], batch.read_text() if batch.exists() else None)
        if batch.exists():
            batch.unlink()
    return results


def netns_with_underlay(name):
    sh('ip', 'netns', 'add', name)
    underlay(name)
    return name


BAD_PLANS = {
    # An IPv6 subnet needs IPv6 underlay addresses on both ends (no IPv4 next hop for IPv6).
    'peer_without_ipv6_underlay': (dict(node2=dict(DUAL_STACK['node2'], underlay_ip6='')),
                                   'static_routes_plan["node2"]: no next hop for its subnet 2001:db8:164:2::/64 from'
                                   ' peer_without_ipv6_underlay: an IPv6 subnet needs an IPv6 underlay'),
    'self_without_ipv6_underlay': (dict(localhost=dict(DUAL_STACK['localhost'], underlay_ip6='')),
                                   'static_routes_plan["node3"]: no next hop for its subnet 100.64.3.0/24 from'
                                   ' self_without_ipv6_underlay: both hosts need an underlay address of one family'),
    'subnet_v6_without_length': (dict(node2=dict(DUAL_STACK['node2'], subnet_v6='2001:db8:164:2::')),
                                 'static_routes_plan["node2"] needs subnet (IPv4 CIDR) and/or subnet_v6'),
    'no_subnet': (dict(node2={'subnet': '', 'subnet_v6': '', 'underlay_ip': '198.18.64.12'}), 'static_routes_plan["node2"] needs subnet'),
}
BAD_NETWORKS = {
    'no_network': (dict(static_routes_network='', static_routes_network_v6=''),
                   'static_routes_network must be an IPv4 CIDR, or empty with static_routes_network_v6 set (got "")'),
    'network_v6_without_length': (dict(static_routes_network_v6='2001:db8:164::'),
                                  'static_routes_network_v6 must be an IPv6 CIDR or empty (got "2001:db8:164::")'),
}


@pytest.fixture(scope='module')
def first_run(tmp_path_factory):
    """One run for every case: dual stack and IPv6 only applied in their namespaces, bad inputs only evaluated."""
    tmp_path = tmp_path_factory.mktemp('static_routes_role')
    names = ['xh-sr-%s-%d' % (kind, os.getpid()) for kind in ('dual', 'replay', 'v6only')]
    try:
        for name in names:
            netns_with_underlay(name)
        ipv6_only = dict((name, dict(entry, subnet='')) for name, entry in DUAL_STACK.items())
        cases = dict(
            dual=dict(NETWORKS, static_routes_plan=plan_of('dual', DUAL_STACK), xh_netns=names[0]),
            v6only=dict(NETWORKS, static_routes_plan=plan_of('v6only', ipv6_only), static_routes_network='', static_routes_metric=50,
                        xh_netns=names[2]))
        for case, (change, _message) in BAD_PLANS.items():
            cases[case] = dict(NETWORKS, static_routes_plan=plan_of(case, dict(DUAL_STACK, **change)))
        for case, (change, _message) in BAD_NETWORKS.items():
            cases[case] = dict(NETWORKS, static_routes_plan=plan_of(case, DUAL_STACK), **change)
        yield dict(tmp_path=tmp_path, netns=dict(zip(('dual', 'replay', 'v6only'), names)), results=run_role(tmp_path, cases))
    finally:
        for name in names:
            sh('ip', 'netns', 'del', name, check=False)


def test_dual_stack_routes_and_their_boot_file(first_run):
    netns = first_run['netns']
    errors, routes, batch = first_run['results']['dual']
    assert errors == []
    assert [(r['dst'], r['via']) for r in routes] == [
        ('100.64.2.0/24', '198.18.64.12'), ('2001:db8:164:2::/64', '2001:db8:64::12'),
        # node3 has no IPv4 underlay: its IPv4 subnet goes via its IPv6 address (RFC 5549).
        ('100.64.3.0/24', '2001:db8:64::13'), ('2001:db8:164:3::/64', '2001:db8:64::13')]
    assert 'route replace 100.64.3.0/24 via inet6 2001:db8:64::13 dev %s proto 147' % DEVICE in batch
    applied = our_routes(netns['dual'])
    assert applied == [
        ('100.64.2.0/24', '198.18.64.12', DEVICE, None), ('100.64.3.0/24', '2001:db8:64::13', DEVICE, None),
        ('2001:db8:164:2::/64', '2001:db8:64::12', DEVICE, 1024), ('2001:db8:164:3::/64', '2001:db8:64::13', DEVICE, 1024)]

    # The boot replay of the file in an identical namespace: exactly what was applied.
    replay = subprocess.run(['ip', '-n', netns['replay'], '-force', '-batch', '-'], input=batch, capture_output=True, text=True, check=False)
    assert replay.returncode == 0, replay.stderr
    assert our_routes(netns['replay']) == applied

    # Back to IPv4 only: the IPv6 routes of ours go, and the file has none either.
    ipv4_only = dict((name, dict(entry, subnet_v6='')) for name, entry in DUAL_STACK.items())
    errors, routes, batch = run_role(first_run['tmp_path'], dict(dual=dict(
        NETWORKS, static_routes_plan=plan_of('dual', ipv4_only), static_routes_network_v6='', xh_netns=netns['dual'])))['dual']
    assert errors == [] and [r['dst'] for r in routes] == ['100.64.2.0/24', '100.64.3.0/24'] and '2001:db8:164' not in batch
    assert [route[0] for route in our_routes(netns['dual'])] == ['100.64.2.0/24', '100.64.3.0/24']


def test_ipv6_only_cluster(first_run):
    errors, _routes, batch = first_run['results']['v6only']
    assert errors == []
    assert our_routes(first_run['netns']['v6only']) == [
        ('2001:db8:164:2::/64', '2001:db8:64::12', DEVICE, 50), ('2001:db8:164:3::/64', '2001:db8:64::13', DEVICE, 50)]
    assert batch.count('route replace 2001:db8:164:') == 2 and batch.count(' metric 50') == 2


@pytest.mark.parametrize('case', sorted(BAD_PLANS) + sorted(BAD_NETWORKS))
def test_bad_input_is_named_and_writes_nothing(first_run, case):
    errors, _routes, batch = first_run['results'][case]
    message = dict(BAD_PLANS, **BAD_NETWORKS)[case][1]
    assert any(message in error for error in errors), errors
    assert batch is None
