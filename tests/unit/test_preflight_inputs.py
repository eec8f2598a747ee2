"""Unit tests for the preflight_inputs / host_groups / etcd_endpoints filters (plugins/filter/preflight.py).

They take ``hostvars`` as the preflight role passes it: host -> its variables, with the
registered network_facts probe (``preflight_probe``) and, on an overlay, the etcd query.
"""

import os
from collections.abc import Mapping

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.crosshost.network.plugins.filter.plan import cluster_plan
from ansible_collections.crosshost.network.plugins.filter.preflight import (
    FilterModule,
    etcd_endpoints,
    host_groups,
    host_input,
    host_variables,
    preflight_inputs,
    probe_default,
    probe_interfaces,
)

NET = '100.64.0.0/16'
ROLE_VARS = os.path.join(os.path.dirname(__file__), '..', '..', 'roles', 'preflight', 'vars', 'main.yml')


def address(cidr, family='inet', scope='global', flags=()):
    return dict(address=cidr.split('/')[0], prefixlen=int(cidr.split('/')[1]), family=family, cidr=cidr, scope=scope,
                flags=list(flags))


def probe(ip='198.18.0.11', dev='eth0', mtu=1500, routes=None, **extra):
    """A network_facts result as the role registers it (gather_subset interfaces, routes; table all)."""
    result = dict(
        changed=False,
        interfaces={
            'lo': dict(mtu=65536, operstate='UNKNOWN', addresses=[address('127.0.0.1/8', scope='host')]),
            dev: dict(mtu=mtu, operstate='UP', addresses=[address(ip + '/24'), address('198.18.9.9/24', flags=['secondary']),
                                                          address('2001:db8:63::11/64', 'inet6', flags=['tentative']),
                                                          address('2001:db8:63::21/64', 'inet6')]),
        },
        routes=routes if routes is not None else [
            dict(dst='default', family='inet', gateway='198.18.0.1', dev=dev, metric=0, table='main', type='unicast', nexthops=[]),
            dict(dst='198.18.0.0/24', family='inet', gateway=None, dev=dev, metric=0, table='main', type='unicast', nexthops=[],
                 ours=False),
        ],
        kernel_support=dict(vxlan=True, macvlan=True),
        files={'/etc/docker/daemon.json': None},
    )
    result.update(extra)
    return result


def hostvars(**hosts):
    """host -> variables, each with a probe unless given ``preflight_probe``."""
    result = {}
    for i, (name, variables) in enumerate(sorted(hosts.items())):
        data = dict(crosshost_network=NET, preflight_probe=probe('198.18.0.1%d' % (i + 1)), ansible_facts={})
        data.update(variables)
        result[name] = data
    return result


GROUPS = {'all': ['h1', 'h2', 'h3'], 'ungrouped': ['h1', 'h2', 'h3']}


def test_filters_are_registered():
    assert sorted(FilterModule().filters()) == ['etcd_endpoints', 'host_groups', 'preflight_inputs']


def test_probe_interfaces_has_the_shape_of_host_interfaces():
    interfaces = dict((i['interface'], i) for i in probe_interfaces(probe()))
    assert sorted(interfaces) == ['eth0', 'lo']
    eth0 = interfaces['eth0']
    assert eth0['mtu'] == 1500 and eth0['active'] is True
    assert eth0['addresses'] == ['198.18.0.11/24', '198.18.9.9/24']
    assert eth0['addresses_v6'] == [dict(cidr='2001:db8:63::11/64', scope='global', flags=['tentative']),
                                    dict(cidr='2001:db8:63::21/64', scope='global', flags=[])]
    down = probe()
    down['interfaces']['eth0']['operstate'] = 'DOWN'
    assert [i['active'] for i in probe_interfaces(down) if i['interface'] == 'eth0'] == [False]
    assert probe_interfaces({}) == []


def test_probe_default_is_the_main_tables_default_route_of_lowest_metric():
    facts = probe()
    assert probe_default(facts, 4) == dict(interface='eth0', address='198.18.0.11', gateway='198.18.0.1', mtu=1500)
    # None for IPv6 here; with one, the first global address that is not tentative.
    assert probe_default(facts, 6) == {}
    facts['routes'] += [
        dict(dst='default', family='inet6', gateway='2001:db8:63::1', dev='eth0', metric=1024, type='unicast', table='main'),
        dict(dst='default', family='inet', gateway='198.18.5.1', dev='eth1', metric=10, table='main', type='unicast'),
        dict(dst='default', family='inet', gateway='198.18.6.1', dev='eth2', metric=0, table='100', type='unicast'),
    ]
    assert probe_default(facts, 4)['gateway'] == '198.18.0.1'
    assert probe_default(facts, 6) == dict(interface='eth0', address='2001:db8:63::21', gateway='2001:db8:63::1', mtu=1500)
    # The route's preferred source wins; a multipath route gives its first hop.
    facts['routes'] = [dict(dst='default', family='inet', dev=None, prefsrc='198.18.0.99', metric=0, type='unicast',
                            nexthops=[dict(gateway='198.18.0.2', dev='eth0')])]
    assert probe_default(facts, 4) == dict(interface='eth0', address='198.18.0.99', gateway='198.18.0.2', mtu=1500)


def test_host_input_from_the_probe_and_the_inventory():
    variables = hostvars(h1=dict(crosshost_subnet='100.64.9.0/24', bridge_name='cbr0', flannel_vni=4,
                                 pipework_attachments=[dict(host_interface='eth0'), dict(address='198.18.0.50/24')]))['h1']
    data, lan = host_input(variables, GROUPS)
    assert lan is None
    assert (data['network'], data['subnet'], data['subnet_len'], data['backend']) == (NET, '100.64.9.0/24', None, 'static_routes')
    assert data['default_ipv4'] == dict(interface='eth0', address='198.18.0.11', gateway='198.18.0.1', mtu=1500)
    assert [i['interface'] for i in data['interfaces']] == ['eth0', 'lo']
    assert data['routes'] == variables['preflight_probe']['routes']
    assert data['kernel'] == dict(vxlan=True, macvlan=True)
    assert data['own_devices'] == ['cbr0', 'flannel.4', 'bri0']
    assert data['overlay'] == dict(etcd=False, flanneld_binary=False, flanneld_backend_type='vxlan')
    assert data['etcd'] is None and data['etcd_unavailable'] == 'fail'
    assert data['docker_daemon_json'] == dict(path='/etc/docker/daemon.json', content=None)
    assert data['pipework_macvlan'] is True


def test_host_input_without_a_probe_reads_the_facts_there():
    facts = {'default_ipv4': {'address': '198.18.0.11', 'interface': 'eth0', 'mtu': 1500}, 'interfaces': ['eth0'],
             'eth0': {'device': 'eth0', 'mtu': 1500, 'active': True, 'ipv4': {'address': '198.18.0.11', 'prefix': '24'}},
             'crosshost_network_facts': {'routes': []}, 'crosshost_kernel_support': {'vxlan': False}}
    data, lan = host_input(dict(crosshost_network=NET, ansible_facts=facts, preflight_probe=dict(skipped=True)), GROUPS)
    assert data['default_ipv4'] == facts['default_ipv4']
    assert data['interfaces'] == [dict(interface='eth0', mtu=1500, addresses=['198.18.0.11/24'], addresses_v6=[], active=True)]
    assert (data['routes'], data['kernel']) == ([], {'vxlan': False})
    # A cached network_facts read (with interfaces) is used as the probe would be.
    data, lan = host_input(dict(ansible_facts=dict(crosshost_network_facts=probe())), GROUPS)
    assert data['default_ipv4']['address'] == '198.18.0.11'


def test_host_input_overlay_etcd_and_lan():
    groups = dict(GROUPS, etcd=['h1'])
    answer = dict(changed=False, config=None, leases=[])
    variables = dict(hostvars(h1={})['h1'], crosshost_backend='flanneld', flannel_binary_url='http://x/flanneld',
                     flannel_binary_checksum='sha256:00', docker_daemon_json='/srv/daemon.json',
                     preflight_probe_etcd=answer, crosshost_etcd_unavailable='use_allocations')
    variables['preflight_probe']['files'] = {'/srv/daemon.json': '{}'}
    data, lan = host_input(variables, groups)
    assert data['overlay'] == dict(etcd=True, flanneld_binary=True, flanneld_backend_type='vxlan')
    assert (data['etcd'], data['etcd_unavailable']) == (answer, 'use_allocations')
    assert data['docker_daemon_json'] == dict(path='/srv/daemon.json', content='{}')
    assert lan is None
    # Docker on the LAN (pipework_docker_bridge): the host's input for lan_slices too.
    variables.update(crosshost_backend='pipework', pipework_docker_bridge='yes', pipework_uplink='eth0',
                     pipework_attachments=[dict(address='198.18.0.50/24'), dict(container='c')])
    data, lan = host_input(variables, groups)
    assert lan == dict(uplink='eth0', bridge='bri0', interfaces=data['interfaces'], default_ipv4=data['default_ipv4'], gateway='',
                       reserved=[], slice_len=None, slice=None, static=['198.18.0.50/24', ''])


class Recorder(Mapping):
    """Variables that remember every name asked for."""

    def __init__(self, data):
        self.data, self.asked = data, set()

    def __contains__(self, name):
        self.asked.add(name)
        return name in self.data

    def __getitem__(self, name):
        self.asked.add(name)
        return self.data[name]

    def __iter__(self):
        return iter(self.data)

    def __len__(self):
        return len(self.data)


def test_the_role_notes_every_variable_host_input_and_host_groups_read():
    """A variable the plan reads but the role does not note would be read from hostvars: play vars missed again."""
    with open(ROLE_VARS) as handle:
        noted = set(yaml.safe_load(handle)['preflight_variable_names'])
    asked = set()
    for backend in ('static_routes', 'flanneld', 'pipework'):
        variables = Recorder(dict(hostvars(h1={})['h1'], crosshost_backend=backend, pipework_docker_bridge=True,
                                  flannel_binary_url='http://x/flanneld'))
        host_input(variables, GROUPS)
        host_groups({'h1': variables}, ['h1'])
        # What the host's tasks registered, gathered or set (the note, the plan) is in hostvars as it is.
        set_by_tasks = {'preflight_probe', 'preflight_probe_etcd', 'ansible_facts', 'preflight_lan'}
        assert variables.asked - set_by_tasks <= noted, backend
        asked |= variables.asked
    assert noted - asked == set()  # nothing noted that the plan does not read


def test_the_noted_variables_win_over_hostvars():
    """pipework_docker_bridge false in a play's vars, true in the inventory: the plan puts Docker on docker0 as the roles do."""
    inventory = hostvars(h1=dict(crosshost_backend='pipework', pipework_docker_bridge=True, pipework_uplink='eth0',
                                 crosshost_underlay_ip='198.18.0.11'))
    assert preflight_inputs(inventory, ['h1'], ['h1'], {'all': ['h1']})['lan'] != {}
    inventory['h1']['preflight_probe'] = dict(inventory['h1']['preflight_probe'],
                                              note=dict(pipework_docker_bridge=False, crosshost_network='100.80.0.0/16'))
    inputs = preflight_inputs(inventory, ['h1'], ['h1'], {'all': ['h1']})
    assert inputs['lan'] == {}
    host = inputs['hosts']['h1']
    # Noted values first; what the host did not note (its probe, here) from hostvars.
    assert (host['network'], host['backend'], host['pipework_uplink']) == ('100.80.0.0/16', 'pipework', 'eth0')
    assert host['default_ipv4']['address'] == '198.18.0.11'
    # Without a note (the filter used outside the role): hostvars alone.
    assert host_variables({'a': 1}) == {'a': 1}
    assert host_variables({'a': 1, 'read': {'note': {'a': 2}}}, 'read')['a'] == 2
    # A read that failed or was skipped noted nothing.
    assert host_variables({'a': 1, 'read': {'skipped': True, 'note': {'a': 2}}}, 'read')['a'] == 1


def test_inputs_of_a_whole_run_go_through_the_plan():
    hv = hostvars(h1={}, h2={}, h3={'crosshost_subnet': '100.64.9.0/24'})
    inputs = preflight_inputs(hv, ['h1', 'h2', 'h3'], ['h1', 'h2', 'h3'], GROUPS)
    assert sorted(inputs['hosts']) == ['h1', 'h2', 'h3']
    assert (inputs['outside'], inputs['not_reached'], inputs['lan'], inputs['lan_reserved']) == ({}, {}, {}, [])
    plan = cluster_plan(inputs['hosts'], inventory_hosts=GROUPS['all'], outside=inputs['outside'])['plan']
    assert [(plan[h]['subnet'], plan[h]['underlay_ip'], plan[h]['underlay_interface']) for h in sorted(plan)] == [
        ('100.64.1.0/24', '198.18.0.11', 'eth0'), ('100.64.2.0/24', '198.18.0.12', 'eth0'), ('100.64.9.0/24', '198.18.0.13', 'eth0')]


UNREACHABLE = dict(unreachable=True, msg='Failed to connect to the host via ssh: port 9')


def test_unreachable_hosts_are_named_and_kept_outside_the_run_and_limit_hosts_too():
    hv = hostvars(h1={}, h2={'preflight_probe': UNREACHABLE, 'crosshost_underlay_ip': '198.18.0.12'}, h3={})
    groups = dict(GROUPS, cluster=['h1', 'h2', 'h3'])
    inputs = preflight_inputs(hv, ['h1'], ['h1', 'h2'], groups)  # h3 left out with --limit
    assert sorted(inputs['hosts']) == ['h1']
    assert inputs['not_reached'] == {'h2': UNREACHABLE['msg']}
    assert inputs['outside'] == {'h2': dict(underlay_ip='198.18.0.12', underlay_ip6=None, reachable=False),
                                 'h3': dict(underlay_ip=None, underlay_ip6=None, reachable=True)}
    assert inputs['lan_reserved'] == ['h2', 'h3']


def test_a_host_that_failed_before_the_plan_stops_everything():
    hv = hostvars(h1={}, h2={'preflight_probe': dict(failed=True, msg='files: cannot read /etc/docker/daemon.json')})
    with pytest.raises(AnsibleFilterError, match=r'preflight: host\(s\) h2 failed before the plan .* no host was changed'):
        preflight_inputs(hv, ['h1'], ['h1', 'h2'], GROUPS)


def _probed(*directories):
    """A probe that found these directories (and the other path asked about missing)."""
    asked = ('/etc/crosshost/flannel', '/etc/crosshost/pipework') + directories
    return dict(probe(), paths=dict((path, 'directory' if path in directories else None) for path in asked))


def test_host_groups_name_the_plays_each_host_has_work_in():
    hv = hostvars(
        h1={},
        # Left by the overlay: the flannel role removes it; Docker on the LAN, none on h2.
        h2=dict(crosshost_backend='pipework', preflight_probe=_probed('/etc/crosshost/flannel', '/etc/crosshost/pipework'),
                preflight_lan={'bridge': 'bri0'}, crosshost_docker=False),
        # Its own files stay; the pipework role's go (from the directory it names).
        h3=dict(crosshost_backend='vxlan', pipework_config_dir='/srv/pw',
                preflight_probe=_probed('/etc/crosshost/flannel', '/srv/pw'), preflight_lan={}),
        h4=dict(preflight_probe=dict(skipped=True), crosshost_docker='no'))
    assert host_groups(hv, ['h1', 'h2', 'h3', 'h4']) == {
        'h1': ['crosshost_backend_static_routes', 'crosshost_container_bridge', 'crosshost_docker'],
        'h2': ['crosshost_backend_pipework', 'crosshost_remove_flannel', 'crosshost_lan_bridge'],
        'h3': ['crosshost_backend_vxlan', 'crosshost_overlay', 'crosshost_remove_pipework', 'crosshost_container_bridge',
               'crosshost_docker'],
        'h4': ['crosshost_backend_static_routes', 'crosshost_container_bridge'],
    }
    # Only the hosts of the run.
    assert list(host_groups(hv, ['h2'])) == ['h2']


def test_host_groups_read_the_noted_variables_first():
    """crosshost_backend and crosshost_docker from a play's vars: the groups follow them, as the plan does."""
    hv = hostvars(h1=dict(crosshost_backend='pipework',
                          preflight_probe=dict(_probed('/etc/crosshost/flannel'),
                                               note=dict(crosshost_backend='flanneld', crosshost_docker=False))))
    assert host_groups(hv, ['h1']) == {'h1': ['crosshost_backend_flanneld', 'crosshost_overlay', 'crosshost_container_bridge']}


def test_etcd_endpoints_where_the_flannel_role_reaches_them():
    hv = hostvars(e1={'etcd_listen_address': '198.18.0.31'}, e2={'crosshost_underlay_ip': '198.18.0.32', 'etcd_client_port': 12379},
                  e3={'etcd_tls': True}, e4={'preflight_probe': dict(skipped=True), 'ansible_host': 'e4.example'},
                  e5={'preflight_probe': dict(skipped=True)})
    assert etcd_endpoints(hv, ['e1', 'e2', 'e3', 'e4', 'e5']) == [
        'http://198.18.0.31:2379', 'http://198.18.0.32:12379', 'https://198.18.0.13:2379', 'http://e4.example:2379', 'http://e5:2379']
    assert etcd_endpoints(hv, ['e1'], tls=True) == ['https://198.18.0.31:2379']


def test_a_read_of_no_part_leaves_the_state_to_the_facts():
    """preflight_gather_facts false: the read only notes; interfaces and routes come from the facts already there."""
    hv = {'h1': dict(crosshost_network=NET, ansible_facts={'crosshost_network_facts': probe('198.18.0.11')},
                     preflight_probe=dict(changed=False, namespace={'target': 'host'}, note=dict(crosshost_subnet_len=26)))}
    host = preflight_inputs(hv, ['h1'], ['h1'], {'all': ['h1']})['hosts']['h1']
    assert host['default_ipv4']['address'] == '198.18.0.11'
    assert host['routes'] and host['subnet_len'] == 26
