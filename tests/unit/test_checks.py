"""Unit tests for the plan's host checks (plugins/module_utils/_checks.py) and the kernel probe."""

import gzip
import ipaddress
import os

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.crosshost.network.plugins.filter.plan import cluster_plan
from ansible_collections.crosshost.network.plugins.module_utils import _checks
from ansible_collections.crosshost.network.plugins.modules import kernel_support

NET = '100.64.0.0/16'
ETH = [{'interface': 'eth0', 'mtu': 1500, 'addresses': [], 'active': True},
       {'interface': 'eth1', 'mtu': 1500, 'addresses': [], 'active': False}]


def host(ip, **kwargs):
    data = dict(network=NET, underlay_ip=ip, underlay_interface='eth0', interfaces=ETH, backend='static_routes')
    data.update(kwargs)
    return data


def error_of(hosts, **kwargs):
    with pytest.raises(AnsibleFilterError) as err:
        cluster_plan(hosts, **kwargs)
    return str(err.value)


@pytest.mark.parametrize('network, name', [
    ('0.0.0.0/8', '"this network"'), ('127.0.0.0/16', 'loopback'), ('169.254.0.0/16', 'link-local'),
    ('224.0.0.0/8', 'multicast'), ('240.0.0.0/8', 'reserved'), ('255.255.255.0/24', 'limited broadcast'),
    ('fe80::/64', 'link-local'), ('ff02::/16', 'multicast'), ('::1/128', 'loopback'),
])
def test_reserved_ranges(network, name):
    errors = _checks.reserved_range_errors(ipaddress.ip_network(network), 'h1')
    assert errors and all(e.startswith('host h1: crosshost_network %s overlaps' % network) for e in errors)
    assert any(name in e for e in errors)


def test_reserved_range_refused_by_the_plan():
    msg = error_of({'a': host('198.18.0.11', network='169.254.0.0/16')})
    assert msg.startswith('host a: crosshost_network 169.254.0.0/16 overlaps the link-local range')


def test_usable_networks_pass():
    for network in ('100.64.0.0/10', '10.0.0.0/8', '2001:db8::/32'):
        assert _checks.reserved_range_errors(ipaddress.ip_network(network), 'h1') == []


def test_all_problems_of_all_hosts_in_one_failure():
    msg = error_of({
        'a': host('198.18.0.11', underlay_interface='eth9', backend='vxlan'),
        'b': host('198.18.0.12', underlay_interface='eth1', backend='vxlan'),
        'c': host('198.18.0.13', backend='vxlan', underlay_mtu=620, kernel={'vxlan': False}),
    })
    assert msg.startswith('4 problems, nothing was changed on any host:\n- ')
    assert "host a: crosshost_underlay_interface 'eth9' does not exist on this host (it has eth0, eth1)" in msg
    assert "host b: crosshost_underlay_interface 'eth1' is down" in msg
    assert "host c: crosshost_backend vxlan needs the kernel's vxlan support" in msg
    assert 'host c: crosshost_underlay_mtu 620 leaves the vxlan overlay an MTU of 570' in msg


def test_backend_name_and_agreement():
    assert error_of({'a': host('198.18.0.11', backend='vxlna')}).startswith("host a: crosshost_backend 'vxlna' is not a backend")
    msg = error_of({'a': host('198.18.0.11'), 'b': host('198.18.0.12', backend='vxlan')})
    assert msg == "host b: crosshost_backend 'vxlan' differs from 'static_routes' on host a: it must be the same on every host"


def test_overlay_preconditions_have_one_message_each():
    overlay = {'etcd': False, 'flanneld_binary': False, 'flanneld_backend_type': 'vxlan'}
    msg = error_of({'a': host('198.18.0.11', backend='flanneld', overlay=overlay, underlay_interface=None, interfaces=[])})
    assert 'host a: crosshost_backend flanneld needs the underlay interface' in msg
    assert 'host a: crosshost_backend flanneld needs etcd' in msg
    assert 'host a: crosshost_backend flanneld needs the flanneld binary' in msg
    assert 'MTU' not in msg


def test_pipework_uplink_and_macvlan():
    msg = error_of({'a': host('198.18.0.11', backend='pipework', pipework_uplink='eth7', pipework_macvlan=True,
                              kernel={'vxlan': True, 'macvlan': False})})
    assert "host a: pipework_uplink 'eth7' does not exist on this host" in msg
    assert "host a: crosshost_backend pipework needs the kernel's macvlan support" in msg


def route(dst, dev='eth0', protocol='static', ours=False, table='main', type='unicast'):
    return dict(dst=dst, dev=dev, protocol=protocol, ours=ours, table=table, type=type)


def test_routes_overlapping_the_network_are_refused():
    msg = error_of({'a': host('198.18.0.11', routes=[route('100.64.0.0/12', dev='eth1', protocol='boot')])})
    assert msg == ('host a: route 100.64.0.0/12 dev eth1 (proto boot, table main) overlaps crosshost_network 100.64.0.0/16: '
                   'choose a crosshost_network that avoids it, or remove the route')


def test_what_we_installed_is_not_a_conflict():
    """A rerun passes: our protocol-147 routes, routes on our devices, our own subnet."""
    first = cluster_plan({'a': host('198.18.0.11'), 'b': host('198.18.0.12')})
    own = first['plan']['a']['subnet']
    routes = [route(first['plan']['b']['subnet'], protocol='crosshost', ours=True),
              route('100.64.7.0/24', dev='flannel.1', protocol='boot'),
              route(own, dev='docker0', protocol='kernel'),
              route('100.64.1.1/32', dev='docker0', table='local', type='local'),
              route('default', protocol='dhcp')]
    addresses = [{'interface': 'docker0', 'mtu': 1500, 'addresses': [own.replace('.0/', '.1/')], 'active': True}]
    again = cluster_plan({'a': host('198.18.0.11', routes=routes, interfaces=ETH + addresses, own_devices=['docker0', 'flannel.1']),
                          'b': host('198.18.0.12')}, allocations=first['allocations'])
    assert again['plan'] == first['plan']


def test_no_free_subnet_names_the_overlap_with_the_underlay_first():
    # The underlay sits inside the network: that, not the count, is the real cause.
    hosts = {'a': host('198.18.0.1', network='198.18.0.0/29', subnet_len=30,
                       interfaces=[{'interface': 'eth0', 'mtu': 1500, 'addresses': ['198.18.0.1/29'], 'active': True}]),
             'b': host('198.18.0.2', network='198.18.0.0/29', subnet_len=30),
             'c': host('198.18.0.3', network='198.18.0.0/29', subnet_len=30)}
    msg = error_of(hosts)
    lines = msg.split('\n- ')[1:]
    assert lines[0] == 'host a: underlay address 198.18.0.1 lies inside the cluster network 198.18.0.0/29'
    assert lines[1].startswith('host a: interface eth0 has 198.18.0.1/29')
    assert lines[-1].startswith('host b: no free subnet left')


def test_kernel_probe(tmp_path):
    release = os.uname()[2]
    (tmp_path / 'proc').mkdir()
    (tmp_path / 'proc' / 'modules').write_text('bridge 311296 0 - Live 0x0\n')
    (tmp_path / 'sys' / 'module' / 'veth').mkdir(parents=True)
    modules = tmp_path / 'lib' / 'modules' / release
    modules.mkdir(parents=True)
    (modules / 'modules.builtin').write_text('kernel/drivers/net/dummy.ko\n')
    (modules / 'modules.dep').write_text('kernel/drivers/net/vxlan/vxlan.ko: kernel/net/ipv4/udp_tunnel.ko\n')
    with gzip.open(str(tmp_path / 'proc' / 'config.gz'), 'wt') as handle:
        handle.write('CONFIG_MACVLAN=y\nCONFIG_IPVLAN=m\n# CONFIG_GENEVE is not set\n')
    assert kernel_support.probe(['bridge', 'veth', 'dummy', 'vxlan', 'macvlan', 'ipvlan', 'geneve'], root=str(tmp_path)) == dict(
        bridge='loaded', veth='loaded', dummy='builtin', vxlan='module', macvlan='builtin', ipvlan='module', geneve='missing')


def test_kernel_probe_refuses_only_what_it_knows_is_missing(tmp_path):
    (tmp_path / 'sys' / 'module' / 'vxlan').mkdir(parents=True)
    assert kernel_support.probe(['vxlan', 'macvlan'], root=str(tmp_path)) == dict(vxlan='loaded', macvlan='unknown')


def test_kernel_probe_of_this_machine():
    # The brief's machine: vxlan and macvlan are there, geneve is not.
    how = kernel_support.probe(['vxlan', 'macvlan', 'geneve'])
    assert how['vxlan'] != 'missing' and how['macvlan'] != 'missing'
    assert how['geneve'] == 'missing'


def test_broken_daemon_json_names_the_file_and_the_line():
    broken = {'path': '/etc/docker/daemon.json', 'content': '{\n  "bip": "100.64.1.1/24",\n  "mtu": 1450\n'}
    msg = error_of({'a': host('198.18.0.11', docker_daemon_json=broken)})
    assert msg.startswith("host a: docker_daemon_json /etc/docker/daemon.json line 4 column 1: Expecting ',' delimiter")
    assert msg.endswith('fix or remove the file (it was left as it is)')
    assert _checks.daemon_json_errors('a', {'path': '/x.json', 'content': '[1]'}) == [
        'host a: docker_daemon_json /x.json must hold a JSON object, not list: fix or remove the file (it was left as it is)']
    for fine in (None, '', '  \n', '{"bip": "100.64.1.1/24"}'):
        assert _checks.daemon_json_errors('a', {'path': '/x.json', 'content': fine}) == []


def test_daemon_json_filter():
    from ansible_collections.crosshost.network.plugins.filter.docker import daemon_json
    assert daemon_json('{"mtu": 1450}') == {'mtu': 1450}
    assert daemon_json('') == {}
    with pytest.raises(AnsibleFilterError, match=r'^docker: /etc/docker/daemon.json line 1 column 10: '):
        daemon_json('{"mtu": 1')


# ---- the overlay's etcd, as the preflight's read-only query found it -----------------
ETCD = {'endpoints': ['http://198.18.0.11:2379'], 'prefix': '/coreos.com/network', 'deployed': False}
DOWN = {'failed': True, 'msg': 'etcd unreachable at http://198.18.0.11:2379: connection refused'}
CONFIG = {'network': NET, 'subnet_len': 24, 'backend_type': 'vxlan'}


def overlay(ip, answer, **kwargs):
    return host(ip, backend='vxlan', etcd=answer, **kwargs)


def test_etcd_up_with_a_compatible_config_or_none():
    for config in (CONFIG, None):
        hosts = {'h1': overlay('198.18.0.11', {'config': config, 'leases': []}), 'h2': overlay('198.18.0.12', {'config': config, 'leases': []})}
        assert cluster_plan(hosts, etcd=ETCD)['etcd'] == {'state': 'up', 'endpoints': ETCD['endpoints']}
    # Not asked (another backend, or no etcd for the overlay).
    assert cluster_plan({'h1': host('198.18.0.11')}, etcd=ETCD)['etcd']['state'] == 'unused'


def test_etcd_down_is_refused_with_every_other_problem():
    hosts = {'h1': overlay('198.18.0.11', DOWN), 'h2': overlay('198.18.0.12', DOWN, subnet='100.64.1.7/24')}
    msg = error_of(hosts, etcd=ETCD)
    assert 'problems, nothing was changed on any host' in msg
    assert 'host h1: etcd does not answer at http://198.18.0.11:2379 (etcd unreachable at' in msg
    assert 'host h2: etcd does not answer' in msg
    assert 'crosshost_etcd_unavailable=use_allocations' in msg
    assert '100.64.1.7/24' in msg


def test_etcd_down_the_run_can_go_on_from_the_kept_allocations():
    hosts = {'h1': overlay('198.18.0.11', DOWN, etcd_unavailable='use_allocations'),
             'h2': overlay('198.18.0.12', {'config': CONFIG, 'leases': []}, etcd_unavailable='use_allocations')}
    assert cluster_plan(hosts, etcd=ETCD)['etcd']['state'] == 'down'
    # flanneld cannot run without etcd.
    for data in hosts.values():
        data['backend'] = 'flanneld'
        data['overlay'] = {'etcd': True, 'flanneld_binary': True}
    assert 'crosshost_backend flanneld cannot run without it' in error_of(hosts, etcd=ETCD)
    hosts['h1']['etcd_unavailable'] = 'carry_on'
    assert "host h1: crosshost_etcd_unavailable 'carry_on' is not valid" in error_of(hosts, etcd=ETCD)


def test_etcd_this_run_deploys_need_not_answer_yet():
    hosts = {'h1': overlay('198.18.0.11', DOWN)}
    assert cluster_plan(hosts, etcd=dict(ETCD, deployed=True))['etcd']['state'] == 'deployed'
    # ... but once it answers, its config is checked.
    hosts['h1']['etcd'] = {'config': dict(CONFIG, subnet_len=26), 'leases': []}
    assert 'SubnetLen 26' in error_of(hosts, etcd=dict(ETCD, deployed=True))


def test_etcd_config_each_field_that_differs_is_named():
    config = {'network': '100.65.0.0/16', 'subnet_len': 26, 'backend_type': 'udp'}
    hosts = {'h1': overlay('198.18.0.11', {'config': config, 'leases': []}), 'h2': overlay('198.18.0.12', {'config': config, 'leases': []})}
    msg = error_of(hosts, etcd=ETCD)
    assert msg.startswith('3 problems')
    key = 'host h1: etcd at http://198.18.0.11:2379 holds /coreos.com/network/config with '
    assert key + 'Network 100.65.0.0/16, but crosshost_network is 100.64.0.0/16 here: set crosshost_network to 100.65.0.0/16' in msg
    assert key + 'SubnetLen 26, but crosshost_subnet_len is 24 here' in msg
    assert key + 'Backend.Type udp, but crosshost_backend is vxlan here: delete the key' in msg
    assert 'etcdctl del /coreos.com/network/config' in msg
    # flanneld: the backend type is flannel_flanneld_backend_type's.
    for data in hosts.values():
        data.update(backend='flanneld', overlay={'etcd': True, 'flanneld_binary': True, 'flanneld_backend_type': 'udp'},
                    etcd={'config': dict(CONFIG, backend_type='host-gw'), 'leases': []})
    msg = error_of(hosts, etcd=ETCD)
    assert 'Backend.Type host-gw, but flannel_flanneld_backend_type is udp here' in msg


def test_etcd_other_failures_and_no_endpoint():
    hosts = {'h1': overlay('198.18.0.11', {'failed': True, 'msg': 'the flannel config at /coreos.com/network/config is not valid JSON'})}
    msg = error_of(hosts, etcd=ETCD)
    assert 'host h1: etcd at http://198.18.0.11:2379 answered, but reading /coreos.com/network failed: the flannel config' in msg
    msg = error_of(hosts, etcd=dict(ETCD, endpoints=[]))
    assert 'host h1: crosshost_backend vxlan takes its leases from etcd (flannel_etcd), but no etcd is known' in msg


def test_etcd_ipv6_only_config_has_no_network_nor_subnet_len():
    # flannel_lease's summary of an EnableIPv4=false config: None where the plan has ''.
    config = {'network': None, 'subnet_len': None, 'backend_type': 'vxlan'}
    answer = {'config': config, 'leases': []}
    hosts = dict(('h%d' % i, overlay(None, answer, network='', network_v6='2001:db8:100::/48', underlay_ip6='2001:db8:63::1%d' % i))
                 for i in (1, 2))
    assert cluster_plan(hosts, etcd=ETCD)['etcd']['state'] == 'up'
