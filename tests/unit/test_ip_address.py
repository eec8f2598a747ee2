"""Unit tests for plugins/module_utils/_addresses.py (ip_address): argument checks and planning.

ADDRESSES is real ``ip -json address show`` output (iproute2 6.1, lifetimes trimmed) of a
namespace where v1 (up, carrier) got:
    ip addr add 100.64.0.1/24 brd + dev v1      (primary)
    ip addr add 100.64.0.2/24 brd + dev v1      (secondary of the same subnet)
    ip addr add 2001:db8::1/64 dev v1
    ip addr add 198.18.0.1/15 dev v1
and the kernel added the fe80:: link-local addresses itself.
"""

import json

import pytest

from ansible_collections.crosshost.network.plugins.module_utils._iproute import InvalidValue
from ansible_collections.crosshost.network.plugins.module_utils import _addresses

ADDRESSES = json.loads('''
[
    {"ifindex": 1, "ifname": "lo", "flags": ["LOOPBACK", "UP", "LOWER_UP"], "mtu": 65536, "operstate": "UNKNOWN",
        "address": "00:00:00:00:00:00", "addr_info": [{"family": "inet", "local": "127.0.0.1", "prefixlen": 8, "scope": "host",
        "label": "lo"}, {"family": "inet6", "local": "::1", "prefixlen": 128, "scope": "host"}]},
    {"ifindex": 2, "ifname": "br0", "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"], "mtu": 1500, "operstate": "UP",
        "address": "66:6c:6e:2c:84:05", "addr_info": [{"family": "inet6", "local": "fe80::646c:6eff:fe2c:8405", "prefixlen": 64,
        "scope": "link", "tentative": true}]},
    {"ifindex": 3, "link": "v0", "ifname": "v1", "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"], "mtu": 1500, "operstate": "UP",
        "address": "0e:db:fc:a5:27:2d", "addr_info": [{"family": "inet", "local": "100.64.0.1", "prefixlen": 24,
        "broadcast": "100.64.0.255", "scope": "global", "label": "v1"}, {"family": "inet", "local": "198.18.0.1", "prefixlen": 15,
        "scope": "global", "label": "v1"}, {"family": "inet", "local": "100.64.0.2", "prefixlen": 24, "broadcast": "100.64.0.255",
        "scope": "global", "secondary": true, "label": "v1"}, {"family": "inet6", "local": "2001:db8::1", "prefixlen": 64,
        "scope": "global"}, {"family": "inet6", "local": "fe80::cdb:fcff:fea5:272d", "prefixlen": 64, "scope": "link"}]},
    {"ifindex": 4, "link": "v1", "ifname": "v0", "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"], "mtu": 1500, "master": "br0",
        "operstate": "UP", "address": "66:6c:6e:2c:84:05", "addr_info": [{"family": "inet6", "local": "fe80::646c:6eff:fe2c:8405",
        "prefixlen": 64, "scope": "link"}]},
    {"ifindex": 5, "ifname": "vx1", "flags": ["BROADCAST", "MULTICAST"], "mtu": 1450, "operstate": "DOWN",
        "address": "ae:54:bf:4e:36:2b", "addr_info": []},
    {"ifindex": 6, "link": "v1", "ifname": "mv0", "flags": ["BROADCAST", "MULTICAST"], "mtu": 1500, "operstate": "DOWN",
        "address": "76:6c:cf:1c:bc:e6", "addr_info": []},
    {"ifindex": 7, "link_index": 2, "ifname": "v2", "flags": ["BROADCAST", "MULTICAST"], "mtu": 1500, "operstate": "DOWN",
        "address": "8e:a5:2a:1a:36:ac", "link_netnsid": 0, "addr_info": []}
]
''')
HAVE = dict((link['ifname'], link) for link in ADDRESSES)
V1 = ['100.64.0.1/24', '198.18.0.1/15', '100.64.0.2/24', '2001:db8::1/64', 'fe80::cdb:fcff:fea5:272d/64']


def want(addresses, dev='v1', state='present', purge=False):
    return _addresses.build_want(dict(dev=dev, addresses=addresses, state=state, purge=purge))


def plan(addresses, **params):
    return _addresses.compute_plan(want(addresses, **params), HAVE)


def commands(result):
    return result['plan'].commands()


@pytest.mark.parametrize('params, message', [
    (dict(addresses=['100.64.0.1']), "address of v1 '100.64.0.1' has no prefix length"),
    (dict(addresses=['100.64.0.300/24']), "address of v1 '100.64.0.300/24' is not a valid address/len"),
    (dict(addresses=['2001:db8::1/129']), "address of v1 '2001:db8::1/129' is not a valid address/len"),
    (dict(addresses=['100.64.0.1/24', '100.64.0.1/25']), 'address 100.64.0.1/25 of v1 is listed twice (also as 100.64.0.1/24)'),
    (dict(addresses=[], dev='a-name-of-16-chr'), "device 'a-name-of-16-chr' is not valid"),
    (dict(addresses=[], state='absent', purge=True), 'purge=true only goes with state=present'),
])
def test_bad_arguments(params, message):
    with pytest.raises(InvalidValue) as error:
        want(**params)
    assert message in str(error.value)


def test_unknown_device():
    with pytest.raises(InvalidValue, match="device 'eth9' does not exist"):
        plan(['100.64.0.1/24'], dev='eth9')


def test_reads_sample():
    assert [str(entry.iface) for entry in _addresses.have_addresses(HAVE['v1'])] == V1
    assert [entry.secondary for entry in _addresses.have_addresses(HAVE['v1'])] == [False, False, True, False, False]


def test_present_idempotent():
    result = plan(['2001:DB8:0::1/64', '100.64.0.2/24'])
    assert not result['plan']
    assert result['before'] == result['after'] == V1


def test_present_adds_missing():
    result = plan(['100.64.0.1/24', '100.64.1.1/31', '100.64.2.1/30', '2001:db8:1::1/64'])
    assert commands(result) == [
        'ip address add 100.64.1.1/31 dev v1',
        'ip address add 100.64.2.1/30 brd + dev v1',
        'ip address add 2001:db8:1::1/64 dev v1',
    ]
    assert result['after'] == V1 + ['100.64.1.1/31', '100.64.2.1/30', '2001:db8:1::1/64']


def test_other_prefix_length_is_replaced():
    result = plan(['2001:db8::1/48', '198.18.0.1/16'])
    assert commands(result) == [
        'ip address del 198.18.0.1/15 dev v1',
        'ip address del 2001:db8::1/64 dev v1',
        'ip address add 2001:db8::1/48 dev v1',
        'ip address add 198.18.0.1/16 brd + dev v1',
    ]


def test_purge_keeps_link_local_and_declared():
    result = plan(['100.64.0.2/24'], purge=True)
    # The secondary goes first; deleting the primary drops 100.64.0.2 too, so it is added back.
    assert commands(result) == [
        'ip address del 100.64.0.1/24 dev v1',
        'ip address del 198.18.0.1/15 dev v1',
        'ip address del 2001:db8::1/64 dev v1',
        'ip address replace 100.64.0.2/24 brd + dev v1',
    ]
    assert result['after'] == ['100.64.0.2/24', 'fe80::cdb:fcff:fea5:272d/64']


def test_purge_empty_removes_all_but_link_local():
    result = plan([], purge=True)
    assert commands(result) == [
        'ip address del 100.64.0.2/24 dev v1',
        'ip address del 100.64.0.1/24 dev v1',
        'ip address del 198.18.0.1/15 dev v1',
        'ip address del 2001:db8::1/64 dev v1',
    ]
    assert result['after'] == ['fe80::cdb:fcff:fea5:272d/64']


def test_purge_link_local_declared_or_not():
    assert not plan(['fe80::646c:6eff:fe2c:8405/64'], dev='v0', purge=True)['plan']
    # v0 has only its link-local address: purge with nothing declared keeps it.
    assert not plan([], dev='v0', purge=True)['plan']


def test_absent():
    result = plan(['100.64.0.1/24', '2001:db8::1/64', '100.64.9.9/24', '198.18.0.1/16'], state='absent')
    # Exact matches only (198.18.0.1 has /15); the secondary 100.64.0.2 is kept by re-adding it.
    assert commands(result) == [
        'ip address del 100.64.0.1/24 dev v1',
        'ip address del 2001:db8::1/64 dev v1',
        'ip address replace 100.64.0.2/24 brd + dev v1',
    ]
    assert result['after'] == ['198.18.0.1/15', '100.64.0.2/24', 'fe80::cdb:fcff:fea5:272d/64']
    assert not plan(['100.64.9.9/24'], state='absent')['plan']


def test_absent_removes_declared_link_local():
    assert commands(plan(['fe80::cdb:fcff:fea5:272d/64'], state='absent')) == ['ip address del fe80::cdb:fcff:fea5:272d/64 dev v1']
