# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""bridge_fdb: building want, parsing ``bridge -json fdb show dev X`` and planning.

FDB and VXLAN are real output (iproute2 6.1) of a vxlan device created with
``remote 198.18.0.5`` (its default remote entry), with a unicast remote entry, two
flood entries and a dynamic (learned) one; BRIDGE_PORT is a veth enslaved to a bridge.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.crosshost.network.plugins.module_utils._iproute import InvalidValue, is_unicast_mac
from ansible_collections.crosshost.network.plugins.module_utils import _fdb as m

FDB = json.loads('''[
 {"mac":"aa:bb:cc:00:00:0a","dst":"198.18.0.20","flags":["self"],"state":""},
 {"mac":"aa:bb:cc:00:00:01","dst":"198.18.0.11","flags":["self"],"state":"permanent"},
 {"mac":"00:00:00:00:00:00","dst":"198.18.0.5","viaIf":"xh0","flags":["self"],"state":"permanent"},
 {"mac":"00:00:00:00:00:00","dst":"198.18.0.11","flags":["self"],"state":"permanent"},
 {"mac":"00:00:00:00:00:00","dst":"198.18.0.12","flags":["self"],"state":"permanent"}
]''')

VXLAN = json.loads('''{"ifindex":4,"ifname":"xh-vx","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1450,
 "link_type":"ether","address":"82:8c:7f:30:e7:60",
 "linkinfo":{"info_kind":"vxlan","info_data":{"id":1,"remote":"198.18.0.5","local":"198.18.0.1","link":"xh0",
  "port_range":{"low":0,"high":0},"port":8472,"learning":false,"ttl":0,"df":"unset","ageing":300,"udp_csum":true,
  "udp_zero_csum6_tx":false,"udp_zero_csum6_rx":false}}}''')

VXLAN6 = json.loads('''{"ifindex":7,"ifname":"xh-vx6","flags":["BROADCAST","MULTICAST"],"mtu":1430,
 "linkinfo":{"info_kind":"vxlan","info_data":{"id":6,"local6":"2001:db8:1::1","port_range":{"low":0,"high":0},"port":4789,
  "learning":true,"ttl":0,"df":"unset","ageing":300,"udp_csum":true,"udp_zero_csum6_tx":false,"udp_zero_csum6_rx":false}}}''')

BRIDGE_PORT = json.loads('''[
 {"mac":"9e:45:75:86:00:fc","flags":[],"master":"xh-br","state":"permanent"},
 {"mac":"33:33:00:00:00:01","flags":["self"],"state":"permanent"},
 {"mac":"01:00:5e:00:00:01","flags":["self"],"state":"permanent"}
]''')

FAMILY, DEFAULTS = m.vxlan_info(VXLAN, 'xh-vx')


def build(entries, state='present', purge=False, dev='xh-vx'):
    return m.build_want(dict(dev=dev, entries=entries, state=state, purge=purge))


def plan(entries, state='present', have=None, **kwargs):
    return m.compute_plan(build(entries, state=state), m.parse_fdb(FDB if have is None else have), 'xh-vx',
                          family=FAMILY, defaults=DEFAULTS, state=state, **kwargs)


def test_vxlan_info():
    assert (FAMILY, DEFAULTS) == (4, set(['198.18.0.5']))
    assert m.vxlan_info(VXLAN6, 'xh-vx6') == (6, set())
    with pytest.raises(InvalidValue, match="dev 'xh0' is a veth, not a vxlan device"):
        m.vxlan_info(dict(ifname='xh0', linkinfo=dict(info_kind='veth')), 'xh0')
    with pytest.raises(InvalidValue, match="dev 'eth0' is a plain device"):
        m.vxlan_info(dict(ifname='eth0'), 'eth0')


def test_parse_fdb_and_ownership():
    have = m.parse_fdb(FDB)
    assert have[0] == dict(mac='aa:bb:cc:00:00:0a', dst='198.18.0.20', state='', master=None, self=True)
    remote = [(e['mac'], e['dst']) for e in have if m.is_remote(e, DEFAULTS)]
    # Not the dynamic entry, not the device's default remote.
    assert remote == [('aa:bb:cc:00:00:01', '198.18.0.11'), ('00:00:00:00:00:00', '198.18.0.11'), ('00:00:00:00:00:00', '198.18.0.12')]
    assert not [e for e in m.parse_fdb(BRIDGE_PORT) if m.is_remote(e, set())]


def test_is_unicast():
    assert is_unicast_mac('aa:bb:cc:00:00:01')
    assert not is_unicast_mac('00:00:00:00:00:00')
    assert not is_unicast_mac('01:00:5e:00:00:01')
    assert not is_unicast_mac('33:33:00:00:00:01')


@pytest.mark.parametrize('entries, message', [
    ([dict(mac='aa:bb:cc:00:00', dst='198.18.0.11')], "'aa:bb:cc:00:00'"),
    ([dict(mac='aa:bb:cc:00:00:01', dst='198.18.0')], "'198.18.0'"),
    ([dict(mac='aa:bb:cc:00:00:01', dst='198.18.0.11'), dict(mac='AA:BB:CC:00:00:01', dst='198.18.0.11')], 'declared more than once'),
    ([dict(mac='aa:bb:cc:00:00:01', dst='198.18.0.11'), dict(mac='aa:bb:cc:00:00:01', dst='198.18.0.12')], 'a unicast MAC has one remote'),
])
def test_want_rejects(entries, message):
    with pytest.raises(InvalidValue, match=message.replace('.', r'\.')):
        build(entries)


def test_want_allows_several_flood_remotes():
    want = build([dict(mac='00-00-00-00-00-00', dst='198.18.0.11'), dict(mac='00:00:00:00:00:00', dst='198.18.0.12')])
    assert want == [dict(mac='00:00:00:00:00:00', dst='198.18.0.11'), dict(mac='00:00:00:00:00:00', dst='198.18.0.12')]


def test_in_sync_plans_nothing():
    result = plan([dict(mac='aa:bb:cc:00:00:01', dst='198.18.0.11'), dict(mac='00:00:00:00:00:00', dst='198.18.0.11'),
                   dict(mac='00:00:00:00:00:00', dst='198.18.0.12'), dict(mac='00:00:00:00:00:00', dst='198.18.0.5')])
    assert not result['plan'] and result['before'] == result['after']


def test_new_entries_replace_unicast_and_append_flood():
    result = plan([dict(mac='aa:bb:cc:00:00:01', dst='198.18.0.21'),      # moved peer: replaced in place
                   dict(mac='aa:bb:cc:00:00:0a', dst='198.18.0.20'),      # learned: made permanent
                   dict(mac='00:00:00:00:00:00', dst='198.18.0.13')])
    assert result['plan'].commands() == [
        'bridge fdb replace aa:bb:cc:00:00:01 dev xh-vx dst 198.18.0.21 self permanent',
        'bridge fdb replace aa:bb:cc:00:00:0a dev xh-vx dst 198.18.0.20 self permanent',
        'bridge fdb append 00:00:00:00:00:00 dev xh-vx dst 198.18.0.13 self permanent',
    ]
    assert 'aa:bb:cc:00:00:01 dst 198.18.0.11 self permanent' not in result['after']
    assert 'aa:bb:cc:00:00:0a dst 198.18.0.20 self dynamic' in result['before']
    assert 'aa:bb:cc:00:00:0a dst 198.18.0.20 self permanent' in result['after']


def test_purge_keeps_default_remote_and_dynamic_entries():
    result = plan([dict(mac='00:00:00:00:00:00', dst='198.18.0.12')], purge=True)
    assert result['plan'].commands() == [
        'bridge fdb del aa:bb:cc:00:00:01 dev xh-vx dst 198.18.0.11 self',
        'bridge fdb del 00:00:00:00:00:00 dev xh-vx dst 198.18.0.11 self',
    ]
    assert plan([], purge=True, have=BRIDGE_PORT)['plan'].commands() == []


def test_family_must_match_the_device():
    with pytest.raises(InvalidValue, match='dst 2001:db8:1::3 is IPv6 but dev xh-vx uses IPv4'):
        plan([dict(mac='00:00:00:00:00:00', dst='2001:db8:1::3')])


def test_absent():
    result = plan([dict(mac='aa:bb:cc:00:00:01', dst='198.18.0.11'), dict(mac='00:00:00:00:00:00', dst='198.18.0.5'),
                   dict(mac='aa:bb:cc:00:00:0a', dst='198.18.0.20'), dict(mac='aa:bb:cc:00:00:99', dst='198.18.0.99')], state='absent')
    assert result['plan'].commands() == ['bridge fdb del aa:bb:cc:00:00:01 dev xh-vx dst 198.18.0.11 self']
    assert len(result['warnings']) == 2
