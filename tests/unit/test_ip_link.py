"""Unit tests for plugins/module_utils/_link_plan.py and _links.py (ip_link): argument checks and planning.

The link tables are real ``ip -json -details link show`` output (iproute2 6.1), trimmed of
keys the module does not read, captured in two namespaces set up like this:

    A: ip link add br0 type bridge forward_delay 400 stp_state 1
       ip link add v0 type veth peer name v1; ip link set v0 master br0 up; ip link set v1 up
       ip link add vx1 type vxlan id 42 local 198.18.0.1 dev v1 dstport 8472 nolearning
       ip link add mv0 link v1 type macvlan mode bridge
       ip link add v2 type veth peer name eth1 netns B
"""

import json

import pytest

from ansible_collections.crosshost.network.plugins.module_utils._iproute import InvalidValue
from ansible_collections.crosshost.network.plugins.module_utils import _link_plan, _links

LINKS_A = json.loads('''
[
    {"ifindex": 1, "ifname": "lo", "flags": ["LOOPBACK", "UP", "LOWER_UP"], "mtu": 65536, "operstate": "UNKNOWN",
        "address": "00:00:00:00:00:00", "min_mtu": 0, "max_mtu": 0},
    {"ifindex": 2, "ifname": "br0", "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"], "mtu": 1500, "operstate": "UP",
        "address": "66:6c:6e:2c:84:05", "min_mtu": 68, "max_mtu": 65535, "linkinfo": {"info_kind": "bridge",
        "info_data": {"forward_delay": 400, "hello_time": 200, "max_age": 2000, "ageing_time": 800, "stp_state": 1, "priority": 32768,
        "vlan_filtering": 0, "bridge_id": "8000.66:6c:6e:2c:84:5", "root_id": "8000.66:6c:6e:2c:84:5"}}},
    {"ifindex": 3, "link": "v0", "ifname": "v1", "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"], "mtu": 1500, "operstate": "UP",
        "address": "0e:db:fc:a5:27:2d", "min_mtu": 68, "max_mtu": 65535, "linkinfo": {"info_kind": "veth"}},
    {"ifindex": 4, "link": "v1", "ifname": "v0", "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"], "mtu": 1500, "master": "br0",
        "operstate": "UP", "address": "66:6c:6e:2c:84:05", "min_mtu": 68, "max_mtu": 65535, "linkinfo": {"info_kind": "veth",
        "info_slave_kind": "bridge", "info_slave_data": {"state": "forwarding", "priority": 32, "cost": 2}}},
    {"ifindex": 5, "ifname": "vx1", "flags": ["BROADCAST", "MULTICAST"], "mtu": 1450, "operstate": "DOWN",
        "address": "ae:54:bf:4e:36:2b", "min_mtu": 68, "max_mtu": 65535, "linkinfo": {"info_kind": "vxlan", "info_data": {"id": 42,
        "local": "198.18.0.1", "link": "v1", "port": 8472, "learning": false, "ttl": 0, "ageing": 300}}},
    {"ifindex": 6, "link": "v1", "ifname": "mv0", "flags": ["BROADCAST", "MULTICAST"], "mtu": 1500, "operstate": "DOWN",
        "address": "76:6c:cf:1c:bc:e6", "min_mtu": 68, "max_mtu": 65535, "linkinfo": {"info_kind": "macvlan",
        "info_data": {"mode": "bridge", "bcqueuelen": 1000, "usedbcqueuelen": 1000}}},
    {"ifindex": 7, "link_index": 2, "ifname": "v2", "flags": ["BROADCAST", "MULTICAST"], "mtu": 1500, "operstate": "DOWN",
        "address": "8e:a5:2a:1a:36:ac", "link_netnsid": 0, "min_mtu": 68, "max_mtu": 65535, "linkinfo": {"info_kind": "veth"}}
]
''')

LINKS_B = json.loads('''
[
    {"ifindex": 1, "ifname": "lo", "flags": ["LOOPBACK"], "mtu": 65536, "operstate": "DOWN", "address": "00:00:00:00:00:00",
        "min_mtu": 0, "max_mtu": 0},
    {"ifindex": 2, "link_index": 7, "ifname": "eth1", "flags": ["BROADCAST", "MULTICAST"], "mtu": 1500, "operstate": "DOWN",
        "address": "9a:57:f0:17:2c:71", "link_netnsid": 0, "min_mtu": 68, "max_mtu": 65535, "linkinfo": {"info_kind": "veth"}}
]
''')


def table(links):
    return dict((link['ifname'], link) for link in links)


def want(name, **params):
    """build_want() with the module's defaults filled in."""
    full = dict(name=name, state='present', kind=None, mtu=None, address=None, master=None, admin_state=None,
                recreate=False, peer=None, vxlan=None, macvlan=None)
    full.update(params)
    return _link_plan.build_want(full)


def plan(name, links=None, peer_links=None, peer_ref=None, **params):
    return _link_plan.compute_plan(want(name, **params), table(LINKS_A) if links is None else links, peer_links, peer_ref)


def commands(result):
    return result['plan'].commands()


VX1 = dict(id=42, local='198.18.0.1', dev='v1', dstport=8472, learning=False)


# ---- arguments -----------------------------------------------------------------------
@pytest.mark.parametrize('params, message', [
    (dict(name='a-name-of-16-chr'), "link name 'a-name-of-16-chr' is not valid"),
    (dict(name='bad name'), "link name 'bad name' is not valid"),
    (dict(name='v9', address='02:00:00:00:00'), "address of link v9 '02:00:00:00:00' is not a valid MAC"),
    (dict(name='v9', address='01:00:5e:00:00:01'), 'address 01:00:5e:00:00:01 of link v9 is not a unicast MAC'),
    (dict(name='v9', mtu=67), 'mtu of link v9 67 is out of range'),
    (dict(name='v9', master='v9'), 'link v9 cannot be its own master'),
    (dict(name='v9', master='way-too-long-name'), "master of link v9 'way-too-long-name' is not valid"),
    (dict(name='v9', kind='bridge', peer=dict(name='v10')), 'option peer is only for kind veth, but link v9 has kind bridge'),
    (dict(name='v9', peer=dict(name='v10')), 'option peer is only for kind veth, but link v9 has kind (not set)'),
    (dict(name='v9', kind='bridge', vxlan=dict(id=1)), 'option vxlan is only for kind vxlan'),
    (dict(name='v9', kind='veth', macvlan=dict(parent='v1')), 'option macvlan is only for kind macvlan'),
    (dict(name='v9', kind='bridge', state='absent', vxlan=dict(id=1)), 'option vxlan is only for kind vxlan'),
    (dict(name='v9', kind='veth', peer=dict(name='v9')), 'peer of link v9 needs another name'),
    (dict(name='v9', kind='veth', peer=dict(name='v10', netns='a', pid=1)), 'netns, pid and container are mutually exclusive'),
    (dict(name='v9', kind='veth', peer=dict(name='v10', netns='../x')), "peer netns '../x'"),
    (dict(name='v9', kind='veth', peer=dict(name='0123456789abcdef')), "peer name of link v9 '0123456789abcdef' is not valid"),
    (dict(name='vx', kind='vxlan', vxlan=dict(id=2 ** 24)), 'vxlan id 16777216 of link vx is out of range'),
    (dict(name='vx', kind='vxlan', vxlan=dict(id=1, local='198.18.0.300')), "vxlan local address of link vx '198.18.0.300' is not a valid IP"),
    (dict(name='vx', kind='vxlan', vxlan=dict(id=1, dstport=0)), 'vxlan dstport 0 of link vx is out of range'),
    (dict(name='vx', kind='vxlan', vxlan=dict(id=1, dev='vx')), 'vxlan dev of link vx cannot be the link itself'),
    (dict(name='mv', kind='macvlan', macvlan=dict(parent='mv')), 'macvlan parent of link mv cannot be the link itself'),
    (dict(name='mv', kind='macvlan', macvlan=dict(parent='v1', mode='wrong')), "macvlan mode 'wrong' of link mv"),
])
def test_bad_arguments(params, message):
    with pytest.raises(InvalidValue) as error:
        want(**params)
    assert message in str(error.value)


def test_want_normalises():
    result = want('v9', kind='veth', address='02-AA-bb-00-00-01', master='', peer=dict(name='v10', netns='xh-b'),
                  vxlan=None, mtu=1400)
    assert result['address'] == '02:aa:bb:00:00:01'
    assert result['master'] == ''
    assert result['peer'] == dict(name='v10', netns='xh-b')
    vxlan = want('vx', kind='vxlan', vxlan=dict(id=7, local='2001:DB8:0::1'))['vxlan']
    assert vxlan == dict(id=7, local='2001:db8::1', dev=None, dstport=None, learning=None)
    assert want('mv', kind='macvlan', macvlan=dict(parent='v1'))['macvlan'] == dict(parent='v1', mode='bridge')


def test_absent_ignores_attributes():
    result = want('v9', state='absent', mtu=1, address='nonsense')
    assert result['mtu'] is None and result['address'] is None


# ---- reading -------------------------------------------------------------------------
def test_describe_sample():
    links = table(LINKS_A)
    assert _links.describe(links['br0']) == dict(name='br0', state='present', kind='bridge', mtu=1500,
                                                 address='66:6c:6e:2c:84:05', master='', admin_state='up')
    assert _links.describe(links['v0'])['peer'] == dict(name='v1')
    assert _links.describe(links['v0'])['master'] == 'br0'
    assert _links.describe(links['vx1'])['vxlan'] == VX1
    assert _links.describe(links['vx1'])['admin_state'] == 'down'
    assert _links.describe(links['mv0'])['macvlan'] == dict(parent='v1', mode='bridge')
    assert _links.describe(links['v2'])['peer'] == dict(name='if2', netnsid=0)
    assert _links.describe(links['lo'])['kind'] is None


def test_peer_matching_across_namespaces():
    links, other = table(LINKS_A), table(LINKS_B)
    assert _links.peer_matches(links['v2'], dict(name='eth1', netns='B'), other, 'B')
    assert not _links.peer_matches(links['v2'], dict(name='lo', netns='B'), other, 'B')
    assert not _links.peer_matches(links['v2'], dict(name='eth1'), None, None)
    assert _links.peer_matches(links['v0'], dict(name='v1'), None, None)
    assert not _links.peer_matches(links['v0'], dict(name='eth1', netns='B'), other, 'B')


# ---- planning: nothing to do ---------------------------------------------------------
@pytest.mark.parametrize('name, params', [
    ('br0', dict(kind='bridge', mtu=1500, address='66:6C:6E:2C:84:05', admin_state='up', master='')),
    ('v0', dict(kind='veth', peer=dict(name='v1'), master='br0', admin_state='up')),
    ('v1', dict(kind='veth', peer=dict(name='v0'))),
    ('v1', dict(mtu=1500)),
    ('vx1', dict(kind='vxlan', vxlan=VX1, admin_state='down', mtu=1450)),
    ('vx1', dict(kind='vxlan', vxlan=dict(id=42))),
    ('mv0', dict(kind='macvlan', macvlan=dict(parent='v1', mode='bridge'))),
    ('gone', dict(state='absent')),
])
def test_idempotent(name, params):
    result = plan(name, **params)
    assert not result['plan']
    assert result['recreated'] is False
    assert result['before'] == result['after']


def test_peer_in_other_namespace_is_idempotent():
    result = plan('v2', peer_links=table(LINKS_B), peer_ref='xh-b', kind='veth', peer=dict(name='eth1', netns='xh-b'))
    assert not result['plan']
    assert result['before']['peer'] == dict(name='eth1', netns='xh-b')


# ---- planning: create ----------------------------------------------------------------
def test_create_veth_all_in_one_batch():
    result = plan('v9', kind='veth', peer=dict(name='v10'), mtu=1400, address='02:00:00:00:00:09', master='br0', admin_state='up')
    assert commands(result) == [
        'ip link add name v9 type veth peer name v10',
        'ip link set dev v9 mtu 1400 address 02:00:00:00:00:09 master br0 up',
    ]
    assert result['before'] == dict(name='v9', state='absent')
    assert result['after'] == dict(name='v9', state='present', kind='veth', mtu=1400, address='02:00:00:00:00:09', master='br0',
                                   admin_state='up', peer=dict(name='v10'))


def test_create_veth_with_peer_in_other_namespace():
    result = plan('v9', peer_links=table(LINKS_B), peer_ref='xh-b', kind='veth', peer=dict(name='eth2', netns='xh-b'))
    assert commands(result) == ['ip link add name v9 type veth peer name eth2 netns xh-b']


def test_create_veth_peer_name_taken():
    with pytest.raises(InvalidValue, match='peer name eth1 of link v9 is already taken by another link in the peer namespace'):
        plan('v9', peer_links=table(LINKS_B), peer_ref='xh-b', kind='veth', peer=dict(name='eth1', netns='xh-b'))
    with pytest.raises(InvalidValue, match='peer name v1 of link v9 is already taken'):
        plan('v9', kind='veth', peer=dict(name='v1'))


def test_create_bridge_down_is_one_command():
    assert commands(plan('br1', kind='bridge', admin_state='down')) == ['ip link add name br1 type bridge']


def test_create_vxlan():
    result = plan('vx2', kind='vxlan', vxlan=dict(id=2, local='198.18.0.1', dev='v1', learning=False), admin_state='up')
    assert commands(result) == [
        'ip link add name vx2 type vxlan id 2 local 198.18.0.1 dev v1 dstport 8472 nolearning',
        'ip link set dev vx2 up',
    ]
    assert result['after']['vxlan'] == dict(id=2, local='198.18.0.1', dev='v1', dstport=8472, learning=False)


def test_create_macvlan():
    assert commands(plan('mv1', kind='macvlan', macvlan=dict(parent='v1', mode='private'))) == [
        'ip link add link v1 name mv1 type macvlan mode private']


@pytest.mark.parametrize('name, params, message', [
    ('v9', dict(), 'link v9 does not exist: set kind to create it'),
    ('v9', dict(kind='veth'), 'creating link v9 of kind veth needs option peer'),
    ('vx9', dict(kind='vxlan'), 'creating link vx9 of kind vxlan needs option vxlan'),
    ('mv9', dict(kind='macvlan'), 'creating link mv9 of kind macvlan needs option macvlan'),
    ('vx9', dict(kind='vxlan', vxlan=dict(id=1, dev='eth9')), "vxlan dev of link vx9: 'eth9' does not exist"),
    ('mv9', dict(kind='macvlan', macvlan=dict(parent='eth9')), "macvlan parent of link mv9: 'eth9' does not exist"),
    ('v9', dict(kind='veth', peer=dict(name='v10'), master='br9'), "master of link v9: 'br9' does not exist"),
    ('v9', dict(kind='veth', peer=dict(name='v10'), master='vx1'), 'master vx1 of link v9 is a vxlan, not a bridge'),
])
def test_create_errors(name, params, message):
    with pytest.raises(InvalidValue) as error:
        plan(name, **params)
    assert message in str(error.value)


# ---- planning: change in place -------------------------------------------------------
def test_change_in_place():
    assert commands(plan('v0', master='')) == ['ip link set dev v0 nomaster']
    assert commands(plan('v1', master='br0', mtu=9000, admin_state='down')) == ['ip link set dev v1 mtu 9000 master br0 down']
    assert commands(plan('vx1', kind='vxlan', vxlan=dict(id=42, learning=True))) == ['ip link set dev vx1 type vxlan learning']
    assert commands(plan('mv0', kind='macvlan', macvlan=dict(parent='v1', mode='vepa'))) == ['ip link set dev mv0 type macvlan mode vepa']


def test_mtu_checked_against_device_limits():
    with pytest.raises(InvalidValue, match='mtu of link v1 65536 is out of range'):
        plan('v1', mtu=65536)


def test_diff_views_show_managed_keys_only():
    result = plan('vx1', kind='vxlan', vxlan=dict(id=42, learning=True), admin_state='up')
    wanted = want('vx1', kind='vxlan', vxlan=dict(id=42, learning=True), admin_state='up')
    assert _link_plan.view(result['before'], wanted) == dict(name='vx1', state='present', kind='vxlan', admin_state='down',
                                                             vxlan=dict(id=42, learning=False))
    assert _link_plan.view(result['after'], wanted) == dict(name='vx1', state='present', kind='vxlan', admin_state='up',
                                                            vxlan=dict(id=42, learning=True))


# ---- planning: fixed attributes and recreate -----------------------------------------
@pytest.mark.parametrize('name, params, message', [
    ('vx1', dict(kind='vxlan', vxlan=dict(id=43)), 'link vx1: vxlan id is 42, want 43; this is only set when the link is created: set recreate=true'),
    ('vx1', dict(kind='vxlan', vxlan=dict(id=42, local='198.18.0.2')), 'vxlan local is 198.18.0.1, want 198.18.0.2'),
    ('vx1', dict(kind='vxlan', vxlan=dict(id=42, dstport=4789)), 'vxlan dstport is 8472, want 4789'),
    ('vx1', dict(kind='vxlan', vxlan=dict(id=42, dev='v0')), 'vxlan dev is v1, want v0'),
    ('mv0', dict(kind='macvlan', macvlan=dict(parent='v0')), 'macvlan parent is v1, want v0'),
    ('v0', dict(kind='veth', peer=dict(name='v7')), 'peer is v1, want v7'),
    ('br0', dict(kind='veth', peer=dict(name='v7')), 'kind is bridge, want veth'),
    ('lo', dict(kind='bridge'), 'kind is none (not a virtual link), want bridge'),
])
def test_fixed_attribute_needs_recreate(name, params, message):
    with pytest.raises(InvalidValue) as error:
        plan(name, **params)
    assert message in str(error.value)


def test_peer_namespace_change_names_both():
    with pytest.raises(InvalidValue, match=r'peer is if2 \(netnsid 0\), want eth1 \(netns xh-c\)'):
        plan('v2', peer_links={}, peer_ref='xh-c', kind='veth', peer=dict(name='eth1', netns='xh-c'))


def test_recreate_vxlan():
    result = plan('vx1', kind='vxlan', vxlan=dict(id=43, local='198.18.0.1', dev='v1', learning=False), admin_state='up', recreate=True)
    assert commands(result) == [
        'ip link del dev vx1',
        'ip link add name vx1 type vxlan id 43 local 198.18.0.1 dev v1 dstport 8472 nolearning',
        'ip link set dev vx1 up',
    ]
    assert result['recreated'] is True


def test_recreate_other_kind_and_own_peer_name():
    # v0's peer v1 goes with it, so v1 is free for the new pair.
    result = plan('v0', kind='veth', peer=dict(name='v1', netns='xh-b'), peer_links=table(LINKS_B), peer_ref='xh-b', recreate=True)
    assert commands(result) == ['ip link del dev v0', 'ip link add name v0 type veth peer name v1 netns xh-b']
    result = plan('br0', kind='veth', peer=dict(name='v7'), recreate=True)
    assert commands(result) == ['ip link del dev br0', 'ip link add name br0 type veth peer name v7']


def test_recreate_refused_for_device_without_kind():
    with pytest.raises(InvalidValue, match='link lo is not a virtual link'):
        plan('lo', kind='bridge', recreate=True)


# ---- planning: absent ----------------------------------------------------------------
def test_absent():
    result = plan('v0', state='absent')
    assert commands(result) == ['ip link del dev v0']
    assert result['after'] == dict(name='v0', state='absent')
    assert commands(plan('v0', state='absent', kind='veth')) == ['ip link del dev v0']
    with pytest.raises(InvalidValue, match='link v0 is a veth, not a bridge: not removing it'):
        plan('v0', state='absent', kind='bridge')


def test_same_namespace():
    assert _link_plan.same_namespace(dict(netns='a'), dict(name='x'))
    assert _link_plan.same_namespace(dict(netns='a'), dict(name='x', netns='a'))
    assert not _link_plan.same_namespace(dict(netns='a'), dict(name='x', netns='b'))
    assert not _link_plan.same_namespace(dict(), dict(name='x', pid=1))
