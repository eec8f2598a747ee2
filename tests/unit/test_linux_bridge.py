"""Unit tests for plugins/module_utils/_bridge_plan.py (linux_bridge): argument checks and planning, both backends.

LINKS is real ``ip -json -details link show`` output (iproute2 6.1), trimmed of keys the
module does not read, of a namespace set up like this:

    ip link add br0 type bridge forward_delay 400 stp_state 1
    ip link add v0 type veth peer name v1; ip link set v0 master br0 up; ip link set v1 up; ip link set br0 up
    ip link add vx1 type vxlan id 42 local 198.18.0.1 dev v1 dstport 8472 nolearning
    ip link add mv0 link v1 type macvlan mode bridge
    ip link add v2 type veth peer name eth1 netns <another>
"""

import copy
import json

import pytest

from ansible_collections.crosshost.network.plugins.module_utils._iproute import InvalidValue
from ansible_collections.crosshost.network.plugins.module_utils import _bridge_plan, _links

LINKS = json.loads('''
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


def table(links=None):
    return dict((link['ifname'], link) for link in copy.deepcopy(links or LINKS))


def with_second_bridge():
    """LINKS plus an empty bridge br1 (STP off, default delay) and v2 moved onto it."""
    links = table()
    links['br1'] = dict(copy.deepcopy(links['br0']), ifname='br1', ifindex=8, flags=['BROADCAST', 'MULTICAST'])
    links['br1']['linkinfo']['info_data'].update(stp_state=0, forward_delay=1500)
    links['v2']['master'] = 'br1'
    return links


def want(name='br0', **params):
    full = dict(name=name, state='present', ports=None, purge=False, stp=None, forward_delay=None)
    full.update(params)
    return _bridge_plan.build_want(full)


def plan(backend, name='br0', links=None, **params):
    return _bridge_plan.compute_plan(want(name, **params), links or table(), backend)


def commands(result):
    return result['plan'].commands()


@pytest.mark.parametrize('params, message', [
    (dict(name='a-name-of-16-chr'), "bridge name 'a-name-of-16-chr' is not valid"),
    (dict(ports=['v0', 'v0']), 'port v0 of bridge br0 is listed twice'),
    (dict(ports=['br0']), 'bridge br0 cannot be a port of itself'),
    (dict(ports=['bad/port']), "port of bridge br0 'bad/port' is not valid"),
    (dict(purge=True), 'purge=true needs ports'),
    (dict(forward_delay=-1.0), 'forward_delay -1.0 of bridge br0 is negative'),
    (dict(forward_delay=1.0, stp=True), 'forward_delay 1.0 of bridge br0 must be between 2 and 30 seconds while STP is on'),
    (dict(forward_delay=31.0, stp=True), 'forward_delay 31.0 of bridge br0 must be between 2 and 30'),
])
def test_bad_arguments(params, message):
    with pytest.raises(InvalidValue) as error:
        want(**params)
    assert message in str(error.value)


def test_reads_sample():
    assert _links.bridge_state(table(), 'br0') == dict(name='br0', state='present', ports=['v0'], stp=True, forward_delay=4.0)
    assert _links.bridge_state(table(), 'br9') == dict(name='br9', state='absent')


@pytest.mark.parametrize('backend', ['brctl', 'ip'])
@pytest.mark.parametrize('params', [
    dict(ports=['v0'], stp=True, forward_delay=4.0),
    dict(ports=['v0'], purge=True),
    dict(ports=[]),
    dict(forward_delay=4.01),   # within the kernel's rounding
    dict(name='br9', state='absent'),
])
def test_idempotent(backend, params):
    result = plan(backend, **params)
    assert not result['plan']
    assert result['before'] == result['after']


def test_create_brctl():
    result = plan('brctl', name='br1', ports=['v1', 'v0'], stp=True, forward_delay=2.5)
    assert commands(result) == [
        'brctl addbr br1',
        'brctl setfd br1 2.5',
        'brctl stp br1 on',
        # v0 is on br0: brctl needs it taken off first.
        'brctl delif br0 v0',
        'brctl addif br1 v0',
        'brctl addif br1 v1',
    ]
    assert result['after'] == dict(name='br1', state='present', ports=['v0', 'v1'], stp=True, forward_delay=2.5)


def test_create_ip():
    result = plan('ip', name='br1', ports=['v1', 'v0'], stp=True, forward_delay=2.5)
    assert commands(result) == [
        'ip link add name br1 type bridge forward_delay 250 stp_state 1',
        'ip link set dev v0 master br1',
        'ip link set dev v1 master br1',
    ]
    assert result['after'] == dict(name='br1', state='present', ports=['v0', 'v1'], stp=True, forward_delay=2.5)


def test_create_plain():
    assert commands(plan('brctl', name='br1')) == ['brctl addbr br1']
    assert commands(plan('ip', name='br1')) == ['ip link add name br1 type bridge']


def test_stp_off_goes_before_a_delay_stp_would_refuse():
    assert commands(plan('brctl', stp=False, forward_delay=0.0)) == ['brctl stp br0 off', 'brctl setfd br0 0']
    assert commands(plan('ip', stp=False, forward_delay=0.0)) == [
        'ip link set dev br0 type bridge stp_state 0',
        'ip link set dev br0 type bridge forward_delay 0',
    ]


def test_stp_on_goes_after_the_delay():
    links = with_second_bridge()
    assert commands(plan('brctl', name='br1', links=links, stp=True, forward_delay=3.0)) == ['brctl setfd br1 3', 'brctl stp br1 on']
    assert commands(plan('ip', name='br1', links=links, stp=True, forward_delay=3.0)) == [
        'ip link set dev br1 type bridge forward_delay 300',
        'ip link set dev br1 type bridge stp_state 1',
    ]


def test_delay_checked_against_current_stp():
    with pytest.raises(InvalidValue, match='forward_delay 0.5 of bridge br0 must be between 2 and 30 seconds while STP is on'):
        plan('ip', forward_delay=0.5)
    # STP is off on br1: any delay goes.
    assert commands(plan('ip', name='br1', links=with_second_bridge(), forward_delay=0.5)) == [
        'ip link set dev br1 type bridge forward_delay 50']


def test_ports_move_and_purge():
    links = with_second_bridge()
    result = plan('brctl', links=links, ports=['v2'], purge=True)
    assert commands(result) == ['brctl delif br0 v0', 'brctl delif br1 v2', 'brctl addif br0 v2']
    assert result['after']['ports'] == ['v2']
    assert commands(plan('ip', links=links, ports=['v2'], purge=True)) == [
        'ip link set dev v0 nomaster',
        'ip link set dev v2 master br0',
    ]
    # Not purge: v0 stays.
    assert commands(plan('ip', links=links, ports=['v2'])) == ['ip link set dev v2 master br0']


@pytest.mark.parametrize('backend', ['brctl', 'ip'])
@pytest.mark.parametrize('name, params, message', [
    ('br0', dict(ports=['eth9']), "port of bridge br0: 'eth9' does not exist"),
    ('br1', dict(ports=['br0']), 'port br0 of bridge br1 is a bridge itself'),
    ('v1', dict(), 'link v1 is a veth, not a bridge'),
    ('v1', dict(state='absent'), 'link v1 is a veth, not a bridge'),
])
def test_errors(backend, name, params, message):
    with pytest.raises(InvalidValue) as error:
        plan(backend, name=name, **params)
    assert message in str(error.value)


def test_absent():
    result = plan('brctl', state='absent')
    # brctl delbr refuses a bridge that is up.
    assert commands(result) == ['ip link set dev br0 down', 'brctl delbr br0']
    assert result['after'] == dict(name='br0', state='absent')
    assert commands(plan('brctl', name='br1', links=with_second_bridge(), state='absent')) == ['brctl delbr br1']
    assert commands(plan('ip', state='absent')) == ['ip link set dev v0 nomaster', 'ip link del dev br0']


def test_diff_view():
    wanted = want(ports=['v0', 'v1'], stp=False)
    result = _bridge_plan.compute_plan(wanted, table(), 'ip')
    assert _bridge_plan.view(result['before'], wanted) == dict(name='br0', state='present', ports=['v0'], stp=True)
    assert _bridge_plan.view(result['after'], wanted) == dict(name='br0', state='present', ports=['v0', 'v1'], stp=False)
