# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the pipework planning (plugins/module_utils/_pipework.py): argument
forms of the original script, names, and plans from ``ip -json`` samples.

The link samples are trimmed ``ip -json -details link|address show`` output (iproute2
6.1) of a host namespace with a bridge br-lan, a NIC stand-in nic0 and the host end of a
pair, and of a target namespace holding the other end (eth1).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import ipaddress

import pytest

from ansible_collections.crosshost.network.plugins.module_utils import _pipework as pw
from ansible_collections.crosshost.network.plugins.module_utils._iproute import InvalidValue

HOST = 'vxh248007843791'


def host_links(paired=True, master='br-lan', mtu=1500, alias=True):
    links = {
        'lo': {'ifindex': 1, 'ifname': 'lo', 'flags': ['LOOPBACK', 'UP'], 'mtu': 65536, 'link_type': 'loopback'},
        'br-lan': {'ifindex': 2, 'ifname': 'br-lan', 'flags': ['BROADCAST', 'UP'], 'mtu': 1500, 'link_type': 'ether',
                   'linkinfo': {'info_kind': 'bridge', 'info_data': {'stp_state': 0}}},
        'nic0': {'ifindex': 5, 'ifname': 'nic0', 'flags': ['BROADCAST', 'UP'], 'mtu': 1500, 'link_type': 'ether'},
        'eth0': {'ifindex': 6, 'ifname': 'eth0', 'flags': ['BROADCAST', 'UP'], 'mtu': 1500, 'link_type': 'ether', 'master': 'br-lan'},
    }
    if paired is not None:
        host = {'ifindex': 3, 'link_index': 2 if paired else 9, 'ifname': HOST, 'flags': ['BROADCAST', 'UP', 'LOWER_UP'], 'mtu': mtu,
                'link_type': 'ether', 'link_netnsid': 0, 'linkinfo': {'info_kind': 'veth', 'info_slave_kind': 'bridge'}}
        if master:
            host['master'] = master
        if alias:
            host['ifalias'] = pw.MARK
        links[HOST] = host
    return links


def target_links(kind='veth', addresses=('198.18.5.10/24',), alias=True, up=True, mac='02:b1:94:6a:c9:24', mtu=1500, link_index=3):
    eth1 = {'ifindex': 2, 'link_index': link_index, 'ifname': 'eth1', 'flags': ['BROADCAST', 'MULTICAST'] + (['UP'] if up else []),
            'mtu': mtu, 'link_type': 'ether', 'address': mac, 'link_netnsid': 0, 'linkinfo': {'info_kind': kind},
            'addr_info': [dict(family='inet', local=a.partition('/')[0], prefixlen=int(a.partition('/')[2]), scope='global') for a in addresses]
            + [{'family': 'inet6', 'local': 'fe80::b1:94ff:fe6a:c924', 'prefixlen': 64, 'scope': 'link'}]}
    if kind == 'macvlan':
        eth1['linkinfo']['info_data'] = {'mode': 'bridge'}
    if alias:
        eth1['ifalias'] = pw.MARK
    return {'lo': {'ifindex': 1, 'ifname': 'lo', 'flags': ['LOOPBACK', 'UP'], 'mtu': 65536, 'link_type': 'loopback', 'addr_info': []},
            'eth1': eth1}


ROUTES_JSON = [
    {'dst': 'default', 'gateway': '198.18.5.1', 'dev': 'eth1', 'protocol': '147', 'flags': []},
    {'dst': '100.64.9.0/24', 'gateway': '198.18.5.254', 'dev': 'eth1', 'protocol': '147', 'flags': []},
    {'dst': '198.18.5.0/24', 'dev': 'eth1', 'protocol': '2', 'scope': '253', 'prefsrc': '198.18.5.10', 'flags': []},
]


def routes(entries=None):
    return pw.parse_route_entries(ROUTES_JSON if entries is None else entries, 4)


def want(**params):
    base = dict(state='present', ifname='eth1', host_interface='br-lan', address='198.18.5.10/24@198.18.5.1', mac='U:hello',
                routes=[{'dst': '100.64.9.0/24', 'via': '198.18.5.254'}])
    base.update(params)
    return pw.build_want(base)


def plan(w, hosts=None, targets=None, have=None, ref='xh-c'):
    return pw.compute_plan(w, host_links() if hosts is None else hosts, target_links() if targets is None else targets,
                           routes() if have is None else have, ref, HOST)


def cmds(p):
    return p.commands()


# ---- argument forms ----------------------------------------------------------------------
def test_stable_mac_is_echo_md5sum():
    # echo hello | md5sum -> b1946ac92492d2347c6235b4d2611184
    assert pw.stable_mac('hello') == '02:b1:94:6a:c9:24'
    assert pw.parse_mac('U:hello') == '02:b1:94:6a:c9:24'
    digest = hashlib.md5(b'web1\n').hexdigest()
    assert pw.parse_mac('U:web1') == '02:%s:%s:%s:%s:%s' % tuple(digest[i:i + 2] for i in range(0, 10, 2))


@pytest.mark.parametrize('text, mac', [
    ('26:2E:71:98:60:8F', '26:2e:71:98:60:8f'),
    ('26-2e-71-98-60-8f', '26:2e:71:98:60:8f'),
    (None, None),
    ('', None),
])
def test_parse_mac(text, mac):
    assert pw.parse_mac(text) == mac


@pytest.mark.parametrize('text, message', [
    ('01:00:5e:00:00:01', 'not a unicast'),
    ('26:2e:71:98:60:8f@10', 'VLAN'),
    ('U:', 'needs a string'),
    ('zz:zz', 'not a valid MAC'),
])
def test_parse_mac_errors(text, message):
    with pytest.raises(InvalidValue, match=message):
        pw.parse_mac(text)


def test_address_forms():
    spec = pw.parse_address_spec('198.18.2.10/24')
    assert spec['mode'] == 'static' and str(spec['iface']) == '198.18.2.10/24' and spec['gateway'] is None
    spec = pw.parse_address_spec('198.18.2.10/24@198.18.2.1')
    assert spec['gateway'] == '198.18.2.1'
    spec = pw.parse_address_spec('2001:db8:1::10/64@2001:db8:1::1')
    assert spec['iface'].version == 6 and spec['gateway'] == '2001:db8:1::1'
    assert pw.parse_address_spec('2001:db8:1::10/64@fe80::1')['gateway'] == 'fe80::1'
    assert pw.parse_address_spec('0/0')['mode'] == 'none'
    assert pw.parse_address_spec('dhcp') == dict(mode='dhcp', iface=None, gateway=None, client='auto', text='dhcp')
    assert pw.parse_address_spec('udhcpc')['client'] == 'udhcpc'
    assert pw.parse_address_spec('dhclient')['client'] == 'dhclient'


@pytest.mark.parametrize('text, message', [
    ('198.18.2.10', 'the IP address should include a prefix length'),
    ('198.18.2.10@198.18.2.1', 'the IP address should include a prefix length'),
    ('198.18.2.10/24@198.18.3.1', 'not in 198.18.2.0/24'),
    ('198.18.2.10/24@2001:db8::1', 'IPv6 but the address is IPv4'),
    ('198.18.2.10/24@198.18.2.10', 'cannot be the address itself'),
    ('198.18.2.10/24@bogus', 'not a valid IP address'),
    ('198.18.2.300/24', 'not a valid address/len'),
    ('10.0.0.1/0', 'prefix length 0'),
    ('dhcpcd', 'dhcpcd is not supported'),
    ('udhcpc-f', 'foreground'),
    ('dhcp:-f', 'foreground'),
    ('dhcp:-v', 'options for the DHCP client'),
    ('', 'address is required'),
])
def test_address_errors(text, message):
    with pytest.raises(InvalidValue, match=message):
        pw.parse_address_spec(text)


def test_routes():
    spec = pw.parse_address_spec('198.18.2.10/24')
    got = pw.parse_routes([{'dst': '100.64.9.0/24', 'via': '198.18.2.254'}, {'dst': '100.64.10.5', 'metric': 7},
                           {'dst': '2001:db8:9::/64'}], spec)
    assert got == [dict(dst='100.64.9.0/24', via='198.18.2.254', metric=0, family=4),
                   dict(dst='100.64.10.5/32', via=None, metric=7, family=4),
                   dict(dst='2001:db8:9::/64', via=None, metric=1024, family=6)]


@pytest.mark.parametrize('address, route, message', [
    ('198.18.2.10/24', {'dst': 'default', 'via': '198.18.2.1'}, 'ip/len@gateway'),
    ('198.18.2.10/24', {'dst': '0.0.0.0/0', 'via': '198.18.2.1'}, 'ip/len@gateway'),
    ('198.18.2.10/24', {'dst': '100.64.9.0/24', 'via': '198.18.3.1'}, 'not in 198.18.2.0/24'),
    ('0/0', {'dst': '100.64.9.0/24', 'via': '198.18.3.1'}, 'needs an address'),
    ('198.18.2.10/24', {'dst': '100.64.9.1/24'}, 'host bits'),
    ('198.18.2.10/24', {'dst': '100.64.9.0/24', 'via': '2001:db8::1'}, 'IPv6 but dst is IPv4'),
    ('198.18.2.10/24', {'via': '198.18.2.1'}, 'needs dst'),
])
def test_route_errors(address, route, message):
    with pytest.raises(InvalidValue, match=message):
        pw.parse_routes([route], pw.parse_address_spec(address))


def test_route_declared_twice():
    with pytest.raises(InvalidValue, match='declared twice'):
        pw.parse_routes([{'dst': '100.64.9.0/24'}, {'dst': '100.64.9.0/24', 'metric': 0}], pw.parse_address_spec('0/0'))


def test_dhcp_routes_checked_after_the_lease():
    routes_ = pw.parse_routes([{'dst': '100.64.9.0/24', 'via': '198.18.9.1'}], pw.parse_address_spec('dhcp'))
    with pytest.raises(InvalidValue, match='network DHCP gave'):
        pw.check_lease_routes(routes_, ipaddress.ip_interface('198.18.5.100/24'))
    pw.check_lease_routes(routes_, ipaddress.ip_interface('198.18.9.100/24'))


def test_build_want_errors():
    with pytest.raises(InvalidValue, match='host_interface'):
        pw.build_want(dict(state='present', address='0/0'))
    with pytest.raises(InvalidValue, match='loopback'):
        pw.build_want(dict(state='present', host_interface='br0', address='0/0', ifname='lo'))
    with pytest.raises(InvalidValue, match='ifname'):
        pw.build_want(dict(state='present', host_interface='br0', address='0/0', ifname='a-name-far-too-long'))
    with pytest.raises(InvalidValue, match='mtu'):
        pw.build_want(dict(state='present', host_interface='br0', address='0/0', mtu=20))
    # absent needs neither host_interface nor address
    assert pw.build_want(dict(state='absent'))['ifname'] == 'eth1'


@pytest.mark.parametrize('address, family, message', [
    ('2001:db8:5::10/64', 4, 'is IPv6 but family is 4'),
    ('198.18.5.10/24@198.18.5.1', 6, 'is IPv4 but family is 6'),
    ('dhcp', 6, 'IPv4 only'),
    ('198.18.5.10/24', 5, 'must be 4 or 6'),
])
def test_family_must_agree_with_the_address(address, family, message):
    with pytest.raises(InvalidValue, match=message):
        want(address=address, family=family, routes=[])


def test_family_as_the_original_a_option():
    # pipework br-lan -i eth1 -a 6 <guest> 2001:db8:5::10/64@2001:db8:5::1; -a 4 with an IPv4 address;
    # a family with 0/0 or -a 4 with DHCP changes nothing.
    assert want(address='2001:db8:5::10/64@2001:db8:5::1', family=6, routes=[])['spec']['gateway'] == '2001:db8:5::1'
    assert want(address='198.18.5.10/24', family=4, routes=[])['spec']['iface'].version == 4
    assert want(address='0/0', family=6, routes=[])['spec']['mode'] == 'none'
    assert want(address='dhcp', family=4, routes=[])['spec']['mode'] == 'dhcp'


V6_ROUTES = [
    # The IPv4 default route through another interface (pipework's first call, -a 4).
    {'dst': 'default', 'gateway': '198.18.5.1', 'dev': 'eth0', 'protocol': '147', 'flags': []},
]


def test_ipv6_gateway_replaces_only_the_ipv6_default_route():
    """-a 6 of the original: the IPv6 default route is replaced, the IPv4 one stays."""
    have = routes(V6_ROUTES) + pw.parse_route_entries([
        {'dst': 'default', 'gateway': 'fe80::1', 'dev': 'eth0', 'protocol': 'ra', 'metric': 1024, 'flags': []}], 6)
    w = want(address='2001:db8:5::10/64@2001:db8:5::1', family=6, routes=[{'dst': '2001:db8:9::/64', 'via': 'fe80::9'}])
    result = plan(w, hosts=host_links(paired=None), targets={'lo': target_links()['lo']}, have=have)
    assert cmds(result['l3']) == [
        'ip route del ::/0 table 254 metric 1024 via fe80::1 dev eth0',
        'ip address add 2001:db8:5::10/64 dev eth1 nodad',
        'ip route replace ::/0 via 2001:db8:5::1 dev eth1 table 254 proto 147 metric 1024',
        'ip route replace 2001:db8:9::/64 via fe80::9 dev eth1 table 254 proto 147 metric 1024',
    ]
    assert result['after']['addresses'] == ['2001:db8:5::10/64'] and result['after']['gateway'] == '2001:db8:5::1'
    assert result['address_changed']


def test_ipv6_link_local_gateway():
    w = want(address='2001:db8:5::10/64@fe80::1', routes=[])
    result = plan(w, hosts=host_links(paired=None), targets={'lo': target_links()['lo']}, have=[])
    assert cmds(result['l3']) == ['ip address add 2001:db8:5::10/64 dev eth1 nodad',
                                  'ip route replace ::/0 via fe80::1 dev eth1 table 254 proto 147 metric 1024']


def test_ipv6_address_replaces_the_ipv4_one_in_place():
    """One address per interface, as the original: the IPv4 address goes (and its routes with it)."""
    w = want(address='2001:db8:5::10/64', routes=[])
    result = plan(w)
    assert cmds(result['l3']) == [
        'ip route del 0.0.0.0/0 table 254 metric 0 via 198.18.5.1 dev eth1',
        'ip route del 100.64.9.0/24 table 254 metric 0 via 198.18.5.254 dev eth1',
        'ip address del 198.18.5.10/24 dev eth1',
        'ip address add 2001:db8:5::10/64 dev eth1 nodad',
    ]
    assert result['after']['addresses'] == ['2001:db8:5::10/64'] and result['after']['gateway'] is None


def test_host_veth_name():
    name = pw.host_veth_name('0123456789abcdef' * 4, 'eth1')
    assert len(name) == 15 and name.startswith('vxh')
    assert name == pw.host_veth_name('0123456789abcdef' * 4, 'eth1')
    assert name != pw.host_veth_name('0123456789abcdef' * 4, 'eth2')
    assert name != pw.host_veth_name('netns:xh-a', 'eth1')
    assert name[3:] == hashlib.sha256(('0123456789abcdef' * 4 + '/eth1').encode()).hexdigest()[:12]


# ---- host interface ------------------------------------------------------------------------
@pytest.mark.parametrize('name, create, mode', [
    ('br-lan', None, ('bridge', False)),
    ('br-new', None, ('bridge', True)),
    ('lan0', True, ('bridge', True)),
    ('nic0', None, ('macvlan', False)),
])
def test_choose_mode(name, create, mode):
    assert pw.choose_mode(dict(host_interface=name, create_bridge=create), host_links()) == mode


@pytest.mark.parametrize('name, create, message', [
    ('lan0', None, 'only created as a bridge when it begins with br'),
    ('br-new', False, 'does not exist'),
    ('nic0', True, 'not a bridge'),
    ('lo', None, 'neither a bridge nor an Ethernet device'),
    ('eth0', None, 'is a port of br-lan'),
])
def test_choose_mode_errors(name, create, message):
    with pytest.raises(InvalidValue, match=message):
        pw.choose_mode(dict(host_interface=name, create_bridge=create), host_links())


# ---- plans -------------------------------------------------------------------------------
def test_create_on_a_new_bridge():
    result = plan(want(host_interface='br-new'), hosts=host_links(paired=None), targets={'lo': target_links()['lo']}, have=[])
    assert cmds(result['host']) == [
        'ip link add name br-new type bridge',
        'ip link set dev br-new up',
        'ip link add name %s mtu 1500 type veth peer name eth1 mtu 1500 address 02:b1:94:6a:c9:24 netns xh-c' % HOST,
        'ip link set dev %s alias crosshost:pipework master br-new up' % HOST,
    ]
    assert cmds(result['target']) == ['ip link set dev eth1 alias crosshost:pipework up']
    assert cmds(result['l3']) == [
        'ip address add 198.18.5.10/24 brd + dev eth1',
        'ip route replace 0.0.0.0/0 via 198.18.5.1 dev eth1 table 254 proto 147 metric 0',
        'ip route replace 100.64.9.0/24 via 198.18.5.254 dev eth1 table 254 proto 147 metric 0',
    ]
    assert not result['target_pre']
    assert result['created'] and result['address_changed'] and result['mode'] == 'bridge'
    assert result['before'] == dict(state='absent')
    assert result['after']['addresses'] == ['198.18.5.10/24'] and result['after']['gateway'] == '198.18.5.1'


def test_rerun_plans_nothing():
    result = plan(want())
    assert not result['host'] and not result['target'] and not result['l3'] and not result['target_pre']
    assert not result['address_changed']
    before, after = result['before'], result['after']
    assert before == after


def test_a_restarted_container_gets_its_interface_back():
    # New namespace: no eth1 there; the host end died with the old namespace.
    result = plan(want(), hosts=host_links(paired=None), targets={'lo': target_links()['lo']}, have=[], ref='4242')
    assert cmds(result['host'])[0].endswith('netns 4242')
    assert result['created']


def test_the_default_route_is_replaced():
    have = routes([{'dst': 'default', 'gateway': '172.17.0.1', 'dev': 'eth0', 'protocol': 'boot', 'flags': []},
                   {'dst': '198.18.5.0/24', 'dev': 'eth1', 'protocol': 'kernel', 'scope': 'link', 'flags': []}])
    result = plan(want(routes=[]), have=have)
    assert cmds(result['l3']) == [
        'ip route del 0.0.0.0/0 table 254 metric 0 via 172.17.0.1 dev eth0',
        'ip route replace 0.0.0.0/0 via 198.18.5.1 dev eth1 table 254 proto 147 metric 0',
    ]


def test_new_address_routes_are_re_added_after_the_flush():
    result = plan(want(address='198.18.5.11/24@198.18.5.1'))
    assert cmds(result['l3']) == [
        'ip address del 198.18.5.10/24 dev eth1',
        'ip address add 198.18.5.11/24 brd + dev eth1',
        'ip route replace 0.0.0.0/0 via 198.18.5.1 dev eth1 table 254 proto 147 metric 0',
        'ip route replace 100.64.9.0/24 via 198.18.5.254 dev eth1 table 254 proto 147 metric 0',
    ]
    assert result['address_changed']


def test_dropping_the_gateway_and_routes_removes_ours_first():
    result = plan(want(address='198.18.5.12/24', routes=[]))
    assert cmds(result['l3']) == [
        'ip route del 0.0.0.0/0 table 254 metric 0 via 198.18.5.1 dev eth1',
        'ip route del 100.64.9.0/24 table 254 metric 0 via 198.18.5.254 dev eth1',
        'ip address del 198.18.5.10/24 dev eth1',
        'ip address add 198.18.5.12/24 brd + dev eth1',
    ]
    assert result['after']['gateway'] is None and result['after']['routes'] == []


def test_zero_address_leaves_addresses_alone():
    result = plan(want(address='0/0', routes=[{'dst': '100.64.9.0/24'}]))
    # The declared device route takes the place of the gateway route (same dst and metric).
    assert cmds(result['l3']) == [
        'ip route del 0.0.0.0/0 table 254 metric 0 via 198.18.5.1 dev eth1',
        'ip route replace 100.64.9.0/24 dev eth1 table 254 proto 147 metric 0',
    ]
    assert result['after']['addresses'] == ['198.18.5.10/24']


def test_in_place_link_changes():
    hosts = host_links(master='br-old', mtu=1400, alias=False)
    hosts['br-old'] = dict(hosts['br-lan'], ifname='br-old', ifindex=7)
    result = plan(want(mtu=1450, mac='02:00:00:00:00:02'), hosts=hosts, targets=target_links(up=False, alias=False))
    assert cmds(result['host']) == ['ip link set dev %s alias crosshost:pipework mtu 1450 master br-lan' % HOST]
    assert cmds(result['target']) == ['ip link set dev eth1 alias crosshost:pipework mtu 1450 address 02:00:00:00:00:02 up']


def test_foreign_interfaces_are_never_taken():
    with pytest.raises(InvalidValue, match='did not make'):
        plan(want(), hosts=host_links(paired=False), targets=target_links(alias=False))
    with pytest.raises(InvalidValue, match='was not made by pipework'):
        plan(want(), hosts=host_links(paired=False, alias=False), targets={'lo': target_links()['lo']})


def test_absent_leaves_foreign_alone():
    result = plan(want(state='absent'), hosts=host_links(paired=None), targets=target_links(alias=False))
    assert not result['host'] and not result['target_pre'] and result['warnings']


def test_absent_deletes_the_pair_from_the_host():
    result = plan(want(state='absent'))
    assert cmds(result['host']) == ['ip link del dev %s' % HOST]
    assert not result['target_pre'] and result['after'] == dict(state='absent')


def test_absent_macvlan_is_deleted_in_the_target():
    result = plan(want(state='absent'), hosts=host_links(paired=None), targets=target_links(kind='macvlan', link_index=5))
    assert not result['host'] and cmds(result['target_pre']) == ['ip link del dev eth1']


def test_bridge_to_nic_and_back():
    result = plan(want(host_interface='nic0', mac=None, routes=[]))
    assert cmds(result['host']) == [
        'ip link del dev %s' % HOST,
        'ip link add link nic0 name eth1 mtu 1500 netns xh-c type macvlan mode bridge',
    ]
    assert result['created'] and result['mode'] == 'macvlan'
    back = plan(want(mac=None, routes=[]), hosts=host_links(paired=None), targets=target_links(kind='macvlan', link_index=5))
    assert cmds(back['target_pre']) == ['ip link del dev eth1']
    assert cmds(back['host'])[0].startswith('ip link add name %s' % HOST)


def test_macvlan_in_place_and_mtu_limit():
    result = plan(want(host_interface='nic0', mac=None, routes=[]), hosts=host_links(paired=None),
                  targets=target_links(kind='macvlan', link_index=5))
    assert not result['host'] and not result['target_pre'] and not result['target']
    with pytest.raises(InvalidValue, match='a macvlan cannot exceed'):
        plan(want(host_interface='nic0', mtu=9000), hosts=host_links(paired=None), targets={'lo': target_links()['lo']})


def test_dhcp_plans_the_link_first():
    result = plan(want(address='dhcp', routes=[]), hosts=host_links(paired=None), targets={'lo': target_links()['lo']}, have=[])
    assert result['dhcp'] and result['l3'] is None and result['address_changed']
    assert cmds(result['target']) == ['ip link set dev eth1 alias crosshost:pipework up']
    l3, after = pw.l3_plan('eth1', [ipaddress.ip_interface('198.18.5.137/24')], '198.18.5.1', True, [], None, [])
    assert cmds(l3) == ['ip address add 198.18.5.137/24 brd + dev eth1',
                        'ip route replace 0.0.0.0/0 via 198.18.5.1 dev eth1 table 254 proto 147 metric 0']
    # A lease applied before is kept.
    again = plan(want(address='dhcp', routes=[{'dst': '100.64.9.0/24', 'via': '198.18.5.254'}]))
    assert not again['dhcp'] and not again['l3'] and not again['address_changed']
    assert again['after']['addresses'] == ['198.18.5.10/24'] and again['after']['gateway'] == '198.18.5.1'


def test_parse_lease():
    udhcpc = 'ip=198.18.5.137\nsubnet=255.255.255.0\nmask=24\nrouter=198.18.5.1 198.18.5.2\n'
    assert pw.parse_lease(udhcpc) == dict(iface=ipaddress.ip_interface('198.18.5.137/24'), router='198.18.5.1')
    dhclient = 'ip=198.18.5.138\nsubnet=255.255.0.0\nmask=\nrouter=\n'
    assert pw.parse_lease(dhclient) == dict(iface=ipaddress.ip_interface('198.18.5.138/16'), router=None)
    assert pw.parse_lease('ip=\n') is None
    # A router outside the leased network is not used.
    assert pw.parse_lease('ip=198.18.5.5\nmask=24\nrouter=10.0.0.1\n')['router'] is None


def test_dhcp_argv():
    assert pw.dhcp_argv('udhcpc', ['/bin/busybox', 'udhcpc'], 'eth1', '/tmp/x/lease-script', 20, 'web1') == [
        '/bin/busybox', 'udhcpc', '-i', 'eth1', '-f', '-q', '-n', '-s', '/tmp/x/lease-script', '-T', '2', '-t', '10', '-x', 'hostname:web1']
    assert pw.dhcp_argv('dhclient', ['/sbin/dhclient'], 'eth1', '/tmp/x/lease-script', 20) == [
        '/sbin/dhclient', '-d', '-1', '-sf', '/tmp/x/lease-script', '-lf', '/tmp/x/dhclient.leases', '-pf', '/tmp/x/dhclient.pid', 'eth1']


def test_arping_argv():
    assert pw.arping_argv('busybox', ['/bin/busybox', 'arping'], 'eth1', '198.18.5.10') == [
        '/bin/busybox', 'arping', '-U', '-c', '1', '-I', 'eth1', '198.18.5.10']
    assert pw.arping_argv('iputils', ['/usr/bin/arping'], 'eth1', '198.18.5.10')[1:] == ['-U', '-c', '1', '-I', 'eth1', '198.18.5.10']
    assert pw.arping_argv('habets', ['/usr/sbin/arping'], 'eth1', '198.18.5.10')[1:] == [
        '-U', '-c', '1', '-i', 'eth1', '-S', '198.18.5.10', '198.18.5.10']


def test_parse_route_entries():
    got = pw.parse_route_entries([
        {'dst': 'default', 'gateway': 'fe80::1', 'dev': 'eth1', 'protocol': 'ra', 'metric': 1024, 'flags': []},
        {'dst': '2001:db8::5', 'dev': 'eth1', 'protocol': '147', 'metric': 1024, 'flags': []},
        {'type': 'unreachable', 'dst': '2001:db8:9::/64', 'metric': 1024, 'flags': []},
    ], 6)
    # ip_route's parser (one per object kind), unicast routes only.
    common = dict(onlink=False, table=254, src=None, mtu=None, type='unicast', scope='global')
    assert got == [
        dict(common, dst='::/0', via='fe80::1', dev='eth1', metric=1024, protocol='ra', family=6, multipath=False),
        dict(common, dst='2001:db8::5/128', via=None, dev='eth1', metric=1024, protocol='147', family=6, multipath=False),
    ]
