"""Unit tests of the cluster plan's IPv6 family: dual-stack and IPv6-only clusters (plugins/filter/plan.py)."""

import ipaddress

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.crosshost.network.plugins.filter.plan import cluster_plan, host_interfaces
from ansible_collections.crosshost.network.plugins.module_utils._checks import RESERVED_RANGES

NET = '100.64.0.0/16'
NET6 = '2001:db8:100::/48'
NO_V6 = {'subnet_v6': '', 'gateway_v6': '', 'bip_v6': '', 'underlay_ip6': ''}


def host(underlay_ip=None, underlay_ip6=None, network=NET, network_v6=NET6, **kwargs):
    """One host's input, as the preflight role builds it."""
    data = dict(network=network, subnet_len=None, subnet_min=None, subnet_max=None, subnet=None,
                network_v6=network_v6, subnet_len_v6=None, subnet_v6=None,
                underlay_ip=underlay_ip, underlay_ip6=underlay_ip6, underlay_interface=None, underlay_mtu=None,
                default_ipv4={}, default_ipv6={}, interfaces=[])
    data.update(kwargs)
    return data


def _with(hosts, per_host):
    for name, extra in per_host.items():
        hosts[name].update(extra)
    return hosts


def dual(**per_host):
    return _with(dict(('h%d' % i, host('198.18.0.1%d' % i, '2001:db8:63::1%d' % i)) for i in (1, 2, 3)), per_host)


def v6_only(**per_host):
    return _with(dict(('h%d' % i, host(None, '2001:db8:63::1%d' % i, network='')) for i in (1, 2, 3)), per_host)


def error_of(*args, **kwargs):
    with pytest.raises(AnsibleFilterError) as err:
        cluster_plan(*args, **kwargs)
    return str(err.value)


def test_dual_stack_plan_and_allocations():
    result = cluster_plan(dual())
    h2 = result['plan']['h2']
    assert (h2['subnet'], h2['bip']) == ('100.64.2.0/24', '100.64.2.1/24')
    assert (h2['subnet_v6'], h2['gateway_v6'], h2['bip_v6'], h2['underlay_ip6']) == \
        ('2001:db8:100:2::/64', '2001:db8:100:2::1', '2001:db8:100:2::1/64', '2001:db8:63::12')
    assert (result['network_v6'], result['subnet_len_v6'], result['subnet_min_v6'], result['subnet_max_v6']) == \
        (NET6, 64, '2001:db8:100:1::', '2001:db8:100:ffff::')
    assert result['reserved_v6'] == {}
    assert result['allocations'] == {
        'network': NET, 'subnet_len': 24,
        'subnets': {'h1': '100.64.1.0/24', 'h2': '100.64.2.0/24', 'h3': '100.64.3.0/24'},
        'underlay': {'h1': '198.18.0.11', 'h2': '198.18.0.12', 'h3': '198.18.0.13'},
        'network_v6': NET6, 'subnet_len_v6': 64,
        'subnets_v6': {'h1': '2001:db8:100:1::/64', 'h2': '2001:db8:100:2::/64', 'h3': '2001:db8:100:3::/64'},
        'underlay_v6': {'h1': '2001:db8:63::11', 'h2': '2001:db8:63::12', 'h3': '2001:db8:63::13'},
    }


def test_ipv4_only_cluster_is_unchanged():
    result = cluster_plan(dict((n, dict(h, network_v6=None)) for n, h in dual().items()))
    assert dict((k, result['plan']['h1'][k]) for k in NO_V6) == NO_V6  # underlay_ip6 too: not looked at
    assert (result['network_v6'], result['subnet_len_v6'], result['reserved_v6']) == ('', '', {})
    assert sorted(result['allocations']) == ['network', 'subnet_len', 'subnets', 'underlay']


def test_ipv6_only_cluster():
    result = cluster_plan(v6_only(h3={'subnet_v6': '2001:db8:100:abcd::/64'}))
    h1, h3 = result['plan']['h1'], result['plan']['h3']
    assert (h1['subnet'], h1['gateway'], h1['bip'], h1['prefixlen'], h1['network'], h1['underlay_ip']) == ('',) * 6
    assert (h1['subnet_v6'], h3['subnet_v6'], h3['bip_v6']) == ('2001:db8:100:1::/64', '2001:db8:100:abcd::/64', '2001:db8:100:abcd::1/64')
    assert (result['network'], result['subnet_len']) == ('', '')
    assert sorted(result['allocations']) == ['network_v6', 'subnet_len_v6', 'subnets_v6', 'underlay', 'underlay_v6']
    assert result['allocations']['underlay'] == {}
    assert len(set(e['vtep_mac'] for e in result['plan'].values())) == 3


def test_kept_ipv6_subnet_never_moves_and_a_pin_wins():
    kept = {'subnets_v6': {'h1': '2001:db8:100:7::/64', 'gone': '2001:db8:100:1::/64'}}
    result = cluster_plan(dual(h3={'subnet_v6': '2001:db8:100:2::/64'}), kept, inventory_hosts=['h1', 'h2', 'h3'])
    assert result['allocations']['subnets_v6'] == {'h1': '2001:db8:100:7::/64', 'h2': '2001:db8:100:1::/64', 'h3': '2001:db8:100:2::/64'}
    # h2 joins the next run late: every kept IPv6 subnet stays.
    again = cluster_plan(dual(), result['allocations'], inventory_hosts=['h1', 'h2', 'h3'])
    assert again['allocations']['subnets_v6'] == result['allocations']['subnets_v6']


def test_switching_a_cluster_to_dual_stack_keeps_the_ipv4_subnets_and_back_drops_the_ipv6_ones():
    v4 = cluster_plan(dict((n, dict(h, network_v6=None)) for n, h in dual().items()))
    both = cluster_plan(dual(), v4['allocations'])
    assert both['allocations']['subnets'] == v4['allocations']['subnets']
    back = cluster_plan(dict((n, dict(h, network_v6='')) for n, h in dual().items()), both['allocations'])
    assert back['allocations'] == v4['allocations']


def test_host_outside_the_run_keeps_its_ipv6_subnet_and_address():
    full = cluster_plan(dual())
    hosts = dual()
    del hosts['h2']
    result = cluster_plan(hosts, full['allocations'], ['h1', 'h2', 'h3'],
                          outside={'h2': {'underlay_ip': None, 'underlay_ip6': None, 'reachable': False}})
    h2 = result['plan']['h2']
    assert (h2['subnet_v6'], h2['bip_v6'], h2['underlay_ip6'], h2['in_run']) == \
        (full['plan']['h2']['subnet_v6'], full['plan']['h2']['bip_v6'], '2001:db8:63::12', False)
    assert result['reserved_v6'] == {'h2': '2001:db8:100:2::/64'}
    assert result['allocations'] == full['allocations']


def test_ipv6_only_host_outside_needs_an_underlay_address():
    full = cluster_plan(v6_only())
    result = cluster_plan({'h1': v6_only()['h1']}, dict(full['allocations'], underlay_v6={}),
                          outside={'h2': {'underlay_ip6': None, 'reachable': True}})
    assert result['unplanned'] == {'h2': 'no underlay address known: set crosshost_underlay_ip6 (or crosshost_underlay_ip) for it'}


# --- the IPv6 underlay address from the facts ---------------------------------------------------

FACTS = {
    'interfaces': ['eth0', 'eth1'],
    'eth0': {'device': 'eth0', 'mtu': 1500, 'ipv4': {'address': '198.18.0.11', 'prefix': '24'},
             'ipv6': [{'address': 'fe80::1', 'prefix': '64', 'scope': 'link'},
                      {'address': '2001:db8:63::11', 'prefix': '64', 'scope': 'global'}]},
    'eth1': {'device': 'eth1', 'mtu': 9000, 'ipv6': [{'address': '2001:db8:64::11', 'prefix': '64', 'scope': 'global'}]},
    'crosshost_network_facts': {'addresses': [
        {'interface': 'eth0', 'family': 'inet', 'cidr': '198.18.0.11/24', 'scope': 'global', 'flags': []},
        {'interface': 'eth0', 'family': 'inet6', 'cidr': '2001:db8:63::99/64', 'scope': 'global', 'flags': ['temporary', 'dynamic']},
        {'interface': 'eth0', 'family': 'inet6', 'cidr': '2001:db8:63::98/64', 'scope': 'global', 'flags': ['dadfailed', 'tentative']},
        {'interface': 'eth0', 'family': 'inet6', 'cidr': '2001:db8:63::11/64', 'scope': 'global', 'flags': ['nodad']},
        {'interface': 'eth0', 'family': 'inet6', 'cidr': 'fe80::1/64', 'scope': 'link', 'flags': []},
        {'interface': 'eth1', 'family': 'inet6', 'cidr': '2001:db8:64::11/64', 'scope': 'global', 'flags': []},
    ]},
}


def test_host_interfaces_ipv6_from_network_facts_else_from_setup():
    probed = dict((i['interface'], i) for i in host_interfaces(FACTS))
    assert [a['cidr'] for a in probed['eth0']['addresses_v6']] == ['2001:db8:63::99/64', '2001:db8:63::98/64', '2001:db8:63::11/64', 'fe80::1/64']
    assert probed['eth0']['addresses_v6'][0]['flags'] == ['temporary', 'dynamic']
    setup_only = dict((i['interface'], i) for i in host_interfaces(dict(FACTS, crosshost_network_facts={})))
    assert setup_only['eth0']['addresses_v6'] == [{'cidr': 'fe80::1/64', 'scope': 'link', 'flags': []},
                                                  {'cidr': '2001:db8:63::11/64', 'scope': 'global', 'flags': []}]


def test_underlay_ip6_is_the_first_stable_global_address_of_the_underlay_interface():
    data = host(default_ipv4={'address': '198.18.0.11', 'interface': 'eth0'}, interfaces=host_interfaces(FACTS))
    entry = cluster_plan({'a': data})['plan']['a']
    assert (entry['underlay_ip'], entry['underlay_interface'], entry['underlay_ip6']) == ('198.18.0.11', 'eth0', '2001:db8:63::11')
    # An explicit one picks its interface (and its MTU).
    entry = cluster_plan({'a': dict(data, underlay_ip='198.18.200.1', underlay_ip6='2001:db8:64::11')})['plan']['a']
    assert (entry['underlay_interface'], entry['underlay_mtu'], entry['underlay_ip6']) == ('eth1', 9000, '2001:db8:64::11')


def test_ipv6_only_underlay_from_the_default_ipv6_route():
    data = host(network='', default_ipv6={'address': '2001:db8:64::11', 'interface': 'eth1', 'mtu': 9000},
                interfaces=host_interfaces(FACTS))
    entry = cluster_plan({'a': data})['plan']['a']
    assert (entry['underlay_ip'], entry['underlay_ip6'], entry['underlay_interface'], entry['underlay_mtu']) == \
        ('', '2001:db8:64::11', 'eth1', 9000)


def test_no_ipv6_underlay_address_is_fine_in_a_dual_stack_cluster_but_not_without_ipv4():
    assert cluster_plan(dual(h1={'underlay_ip6': None}))['plan']['h1']['underlay_ip6'] == ''
    msg = error_of(v6_only(h1={'underlay_ip6': None}))
    assert msg.startswith('host h1: no underlay address: set crosshost_underlay_ip6 (or crosshost_underlay_ip)')


# --- validation ------------------------------------------------------------------------------------

def test_ipv6_cluster_values_must_agree():
    assert error_of(dual(h2={'network_v6': '2001:db8:200::/48'})).startswith(
        "host h2: crosshost_network_v6 '2001:db8:200::/48' differs from '2001:db8:100::/48' on host h1")
    assert error_of(dual(h3={'subnet_len_v6': 80})).startswith("host h1: crosshost_subnet_len_v6 is not set, but host h3 has '80'")


def test_neither_network_set():
    msg = error_of(v6_only(h1={'network_v6': ''}, h2={'network_v6': ''}, h3={'network_v6': ''}))
    assert msg.startswith('host h1: crosshost_network is not set, nor crosshost_network_v6')


def test_subnet_len_v6_without_network_v6():
    hosts = dict((n, dict(h, network_v6=None, subnet_len_v6=64)) for n, h in dual().items())
    assert "host h1: crosshost_subnet_len_v6 is '64' but crosshost_network_v6 is not set" in error_of(hosts)


@pytest.mark.parametrize('network, words', [
    ('2001:db8:100::1/48', ['host bits', 'did you mean 2001:db8:100::/48']),
    ('2001:db8:100::', ['not a CIDR', 'fd00:64::/48']),
    ('2001:db8:100::/129', ['not a valid CIDR']),
    ('100.64.0.0/16', ['is IPv4: it must be an IPv6 network', 'crosshost_network']),
])
def test_bad_network_v6(network, words):
    msg = error_of(dual(**dict(('h%d' % i, {'network_v6': network}) for i in (1, 2, 3))))
    for word in words + ['host h1', 'crosshost_network_v6', network]:
        assert word in msg, msg


def test_ipv6_network_given_as_the_ipv4_one():
    msg = error_of(v6_only(**dict(('h%d' % i, {'network': NET6}) for i in (1, 2, 3))))
    assert "host h1: crosshost_network '2001:db8:100::/48' is IPv6: it must be an IPv4 network (the IPv6 one is crosshost_network_v6)" in msg


@pytest.mark.parametrize('subnet_len, words', [(48, ['longer than /48']), (127, ['at most /126']), ('x', ['not an integer'])])
def test_impossible_subnet_len_v6(subnet_len, words):
    msg = error_of(dual(**dict(('h%d' % i, {'subnet_len_v6': subnet_len}) for i in (1, 2, 3))))
    for word in words + ['host h1: crosshost_subnet_len_v6', str(subnet_len)]:
        assert word in msg, msg


def test_default_subnet_len_v6_for_a_small_network():
    result = cluster_plan(dual(**dict(('h%d' % i, {'network_v6': '2001:db8:100::/96'}) for i in (1, 2, 3))))
    assert result['subnet_len_v6'] == 98
    assert result['plan']['h1']['subnet_v6'] == '2001:db8:100::4000:0/98'


@pytest.mark.parametrize('pin, words', [
    ('2001:db8:100:8::1/64', ['not aligned', 'did you mean 2001:db8:100:8::/64']),
    ('2001:db8:100::/64', ['out of range']),
    ('2001:db8:999::/64', ['outside the cluster network']),
    ('2001:db8:100:8::/80', ['is a /80', 'crosshost_subnet_len_v6']),
    ('100.64.8.0/24', ['not an IPv6 CIDR']),
])
def test_bad_pin_v6(pin, words):
    msg = error_of(dual(h2={'subnet_v6': pin}))
    for word in words + ['host h2', 'crosshost_subnet_v6', pin.split('/')[0]]:
        assert word in msg, msg


def test_duplicate_pin_v6():
    msg = error_of(dual(h1={'subnet_v6': '2001:db8:100:8::/64'}, h3={'subnet_v6': '2001:db8:100:8::/64'}))
    assert msg == 'hosts h1 and h3 both pin crosshost_subnet_v6 2001:db8:100:8::/64'


def test_bad_and_duplicate_underlay_ip6():
    assert "host h2: crosshost_underlay_ip6 'nope' is not a valid IPv6 address" in error_of(dual(h2={'underlay_ip6': 'nope'}))
    assert "host h2: crosshost_underlay_ip6 '198.18.0.1' is IPv4: it must be an IPv6 address" in error_of(dual(h2={'underlay_ip6': '198.18.0.1'}))
    assert 'host h2: crosshost_underlay_ip6 fe80::1 is not a usable unicast address' in error_of(dual(h2={'underlay_ip6': 'fe80::1'}))
    assert error_of(dual(h3={'underlay_ip6': '2001:db8:63::11'})) == \
        'hosts h1 and h3 have the same underlay address 2001:db8:63::11: set crosshost_underlay_ip6 per host'


def test_an_ipv6_underlay_address_given_as_the_ipv4_one_is_named():
    msg = error_of(dual(h1={'underlay_ip': '2001:db8:63::11'}))
    assert ("host h1: crosshost_underlay_ip '2001:db8:63::11' is IPv6: it must be an IPv4 address "
            "(set an IPv6 underlay address as crosshost_underlay_ip6)") in msg


@pytest.mark.parametrize('cidr, name', RESERVED_RANGES[6])
def test_reserved_ipv6_ranges_are_refused(cidr, name):
    reserved = ipaddress.ip_network(cidr)
    # The /64 holding a small range, or a /48 inside a large one.
    network = reserved.supernet(new_prefix=64) if reserved.prefixlen > 64 else next(reserved.subnets(new_prefix=max(reserved.prefixlen, 48)))
    hosts = dual(**dict(('h%d' % i, {'network_v6': str(network), 'underlay_ip6': None}) for i in (1, 2, 3)))
    msg = error_of(hosts)
    assert 'host h1: crosshost_network_v6 %s overlaps the %s range %s, which must never carry containers: ' \
        'choose another range, e.g. fd00:64::/48' % (network, name, reserved) in msg, msg


@pytest.mark.parametrize('network', ['2001:db8::/32', 'fd00:64::/48', '2a01:4f8:100::/48'])
def test_documentation_ula_and_global_networks_are_accepted(network):
    hosts = dual(**dict(('h%d' % i, {'network_v6': network, 'underlay_ip6': None}) for i in (1, 2, 3)))
    assert cluster_plan(hosts)['network_v6'] == network


def test_ipv6_overlaps_with_the_hosts_addresses_and_routes_all_reported_together():
    hosts = dual()
    hosts['h1']['interfaces'] = [{'interface': 'eth1', 'mtu': 1500, 'addresses': [],
                                  'addresses_v6': [{'cidr': '2001:db8:100:77::5/64', 'scope': 'global', 'flags': []}]}]
    hosts['h2']['routes'] = [{'dst': '2001:db8:100:0:8000::/65', 'dev': 'eth0', 'protocol': 'static', 'family': 'inet6'},
                             {'dst': '2001:db8:100:2::/64', 'dev': 'docker0', 'protocol': 'kernel', 'family': 'inet6'},
                             {'dst': 'fe80::/64', 'dev': 'eth0', 'protocol': 'kernel', 'family': 'inet6'}]
    hosts['h2']['own_devices'] = ['docker0']
    hosts['h3']['underlay_ip6'] = '2001:db8:100:ff::3'
    msg = error_of(hosts)
    assert msg.startswith('3 problems, nothing was changed on any host')
    assert ('host h1: interface eth1 has 2001:db8:100:77::5/64 (network 2001:db8:100:77::/64), which overlaps the cluster network '
            '2001:db8:100::/48 (if it is this cluster\'s, left from an earlier run, pin crosshost_subnet_v6: 2001:db8:100:77::/64)') in msg
    assert ('host h2: route 2001:db8:100:0:8000::/65 dev eth0 (proto static, table main) overlaps crosshost_network_v6 2001:db8:100::/48: '
            'choose a crosshost_network_v6 that avoids it, or remove the route') in msg
    assert 'host h3: underlay address 2001:db8:100:ff::3 lies inside the cluster network 2001:db8:100::/48' in msg


def test_own_ipv6_gateway_on_the_bridge_is_fine():
    hosts = dual()
    hosts['h1']['interfaces'] = [{'interface': 'docker0', 'mtu': 1500, 'addresses': ['100.64.1.1/24'],
                                  'addresses_v6': [{'cidr': '2001:db8:100:1::1/64', 'scope': 'global', 'flags': []},
                                                   {'cidr': 'fe80::1/64', 'scope': 'link', 'flags': []}]}]
    assert cluster_plan(hosts)['plan']['h1']['subnet_v6'] == '2001:db8:100:1::/64'


def test_ipv6_needs_an_mtu_of_1280_for_the_containers():
    hosts = dual(**dict(('h%d' % i, {'backend': 'vxlan', 'underlay_interface': 'eth0'}) for i in (1, 2, 3)))
    # The IPv6 overlay device runs over the host's IPv6 underlay address: 70 bytes, not 50.
    hosts['h2']['underlay_mtu'] = 1340
    msg = error_of(hosts)
    assert msg == ("host h2: crosshost_underlay_mtu 1340 leaves the containers an MTU of 1270 (70 bytes of vxlan encapsulation over IPv6), "
                   "below IPv6's minimum of 1280: raise the MTU of the underlay (or crosshost_underlay_mtu), or leave crosshost_network_v6 unset")
    hosts['h2']['underlay_mtu'] = 1350
    assert cluster_plan(hosts)['plan']['h2']['underlay_mtu'] == 1350
    hosts['h2']['underlay_mtu'] = 1300
    hosts['h2']['backend'] = hosts['h1']['backend'] = hosts['h3']['backend'] = 'static_routes'
    assert cluster_plan(hosts)['plan']['h2']['underlay_mtu'] == 1300


def test_ipv6_only_overlay_vxlan_yes_flanneld_no():
    vxlan = v6_only(**dict(('h%d' % i, {'backend': 'vxlan', 'underlay_interface': 'eth0'}) for i in (1, 2, 3)))
    assert cluster_plan(vxlan)['plan']['h1']['subnet_v6'] == '2001:db8:100:1::/64'
    overlay = {'etcd': True, 'flanneld_binary': True}
    flanneld = v6_only(**dict(('h%d' % i, {'backend': 'flanneld', 'underlay_interface': 'eth0', 'overlay': overlay}) for i in (1, 2, 3)))
    assert error_of(flanneld).startswith(
        "host h1: crosshost_backend flanneld cannot run an IPv6-only cluster (crosshost_network empty): flanneld's etcd "
        "subnet manager gives every IPv6-only host the same lease.")


def test_ipv6_only_overlay_counts_vxlan_over_ipv6():
    hosts = v6_only(**dict(('h%d' % i, {'backend': 'vxlan', 'underlay_interface': 'eth0'}) for i in (1, 2, 3)))
    hosts['h3']['underlay_mtu'] = 1349
    assert error_of(hosts).startswith('host h3: crosshost_underlay_mtu 1349 leaves the containers an MTU of 1279 '
                                      '(70 bytes of vxlan encapsulation over IPv6)')
