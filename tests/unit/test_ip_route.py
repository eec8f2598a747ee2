# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ip_route: building want, parsing ``ip -json -N route`` and planning, on real samples.

The samples are real outputs (iproute2 6.1, kernel 6.x) of a namespace with a veth pair
xh0/xh1 (198.18.0.1/24, 2001:db8:1::1/64 on xh0) and routes of ours (proto 147), a
foreign ``proto static`` one, a route in table 100 and an onlink/src/mtu/metric one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.crosshost.network.plugins.module_utils._iproute import InvalidValue
from ansible_collections.crosshost.network.plugins.module_utils._reconcile import link_index
from ansible_collections.crosshost.network.plugins.module_utils import _routes as m

ROUTES4 = json.loads('''[
 {"dst":"100.64.4.0/24","gateway":"198.18.0.2","dev":"xh0","table":"100","protocol":"147","flags":[]},
 {"dst":"100.64.1.0/24","gateway":"198.18.0.2","dev":"xh0","protocol":"147","flags":[]},
 {"dst":"100.64.2.0/24","gateway":"198.19.9.9","dev":"xh0","protocol":"147","prefsrc":"198.18.0.1","metric":50,
  "flags":["onlink"],"metrics":[{"mtu":1400}]},
 {"dst":"100.64.3.0/24","gateway":"198.18.0.3","dev":"xh0","protocol":"4","flags":[]},
 {"dst":"100.64.5.0/24","dev":"xh1","protocol":"147","scope":"253","flags":[]},
 {"dst":"198.18.0.0/24","dev":"xh0","protocol":"2","scope":"253","prefsrc":"198.18.0.1","flags":[]},
 {"type":"2","dst":"127.0.0.0/8","dev":"lo","table":"255","protocol":"2","scope":"254","prefsrc":"127.0.0.1","flags":[]},
 {"type":"2","dst":"127.0.0.1","dev":"lo","table":"255","protocol":"2","scope":"254","prefsrc":"127.0.0.1","flags":[]},
 {"type":"3","dst":"127.255.255.255","dev":"lo","table":"255","protocol":"2","scope":"253","prefsrc":"127.0.0.1","flags":[]},
 {"type":"2","dst":"198.18.0.1","dev":"xh0","table":"255","protocol":"2","scope":"254","prefsrc":"198.18.0.1","flags":[]},
 {"type":"3","dst":"198.18.0.255","dev":"xh0","table":"255","protocol":"2","scope":"253","prefsrc":"198.18.0.1","flags":[]}
]''')

ROUTES6 = json.loads('''[
 {"dst":"2001:db8:1::/64","dev":"xh0","protocol":"2","metric":256,"flags":[],"pref":"medium"},
 {"dst":"2001:db8:5::/64","gateway":"2001:db8:1::2","dev":"xh0","protocol":"147","metric":1024,"flags":[],"pref":"medium"},
 {"dst":"fe80::/64","dev":"xh1","protocol":"2","metric":256,"flags":[],"pref":"medium"},
 {"dst":"fe80::/64","dev":"xh0","protocol":"2","metric":256,"flags":[],"pref":"medium"},
 {"dst":"default","gateway":"2001:db8:1::fe","dev":"xh0","protocol":"147","metric":1024,"flags":[],"pref":"medium"},
 {"type":"2","dst":"::1","dev":"lo","table":"255","protocol":"2","metric":0,"flags":[],"pref":"medium"},
 {"type":"2","dst":"2001:db8:1::1","dev":"xh0","table":"255","protocol":"2","metric":0,"flags":[],"pref":"medium"},
 {"type":"5","dst":"ff00::/8","dev":"xh1","table":"255","protocol":"2","metric":256,"flags":[],"pref":"medium"},
 {"type":"5","dst":"ff00::/8","dev":"xh0","table":"255","protocol":"2","metric":256,"flags":[],"pref":"medium"}
]''')

# Without -N (names instead of numbers), as older scripts or a registered name show it.
ROUTES4_NAMED = json.loads('''[
 {"dst":"default","gateway":"198.18.0.254","dev":"xh0","protocol":"crosshost","flags":[]},
 {"dst":"100.64.7.0/24","gateway":"198.18.0.2","dev":"xh0","table":"default","protocol":"crosshost","flags":[]},
 {"dst":"198.18.0.0/24","dev":"xh0","protocol":"kernel","scope":"link","prefsrc":"198.18.0.1","flags":[]},
 {"type":"local","dst":"198.18.0.1","dev":"xh0","table":"local","protocol":"kernel","scope":"host","prefsrc":"198.18.0.1","flags":[]},
 {"dst":"100.64.8.0/24","protocol":"147","flags":[],
  "nexthops":[{"gateway":"198.18.0.2","dev":"xh0","weight":1,"flags":[]},{"gateway":"198.18.0.3","dev":"xh0","weight":1,"flags":[]}]}
]''')

LINKS = link_index(json.loads('''[
 {"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"operstate":"UNKNOWN","link_type":"loopback"},
 {"ifindex":2,"link":"xh0","ifname":"xh1","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"operstate":"UP",
  "link_type":"ether","address":"4e:93:70:2c:02:3b"},
 {"ifindex":3,"link":"xh1","ifname":"xh0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"operstate":"UP",
  "link_type":"ether","address":"76:6e:ad:b6:1c:f1"},
 {"ifindex":4,"ifname":"xh-down","flags":["BROADCAST","MULTICAST"],"mtu":1500,"operstate":"DOWN","link_type":"ether"}
]'''))

NAMES = dict(m.TABLE_NAMES, overlay=100)


def params(routes, **kwargs):
    base = dict(routes=routes, state='present', purge=False, purge_tables=None, purge_devices=None, force=False)
    base.update(kwargs)
    return base


def want_of(*routes, **kwargs):
    return m.build_want(params(list(routes), **kwargs), NAMES)


def have():
    return m.parse_routes(ROUTES4, 4, NAMES) + m.parse_routes(ROUTES6, 6, NAMES)


def plan(*routes, **kwargs):
    state = kwargs.pop('state', 'present')
    want = m.build_want(params(list(routes), state=state), NAMES)
    return m.compute_plan(want, have(), LINKS, state=state, **kwargs)


def by_dst(routes):
    return dict((r['dst'], r) for r in routes if r['type'] == 'unicast' and r['table'] != 255)


# ---- parsing --------------------------------------------------------------------------
def test_parse_routes_normalises_real_output():
    routes = by_dst(have())
    assert routes['100.64.1.0/24'] == dict(family=4, dst='100.64.1.0/24', via='198.18.0.2', dev='xh0', onlink=False, metric=0,
                                           table=254, src=None, mtu=None, protocol='147', type='unicast', scope='global', multipath=False)
    onlink = routes['100.64.2.0/24']
    assert (onlink['onlink'], onlink['metric'], onlink['mtu'], onlink['src']) == (True, 50, 1400, '198.18.0.1')
    assert routes['100.64.4.0/24']['table'] == 100
    assert routes['100.64.3.0/24']['protocol'] == '4'
    assert routes['198.18.0.0/24']['scope'] == 'link'
    assert routes['::/0']['via'] == '2001:db8:1::fe' and routes['::/0']['metric'] == 1024
    local = [r for r in have() if r['type'] == 'local']
    assert set(r['dst'] for r in local) == set(['127.0.0.0/8', '127.0.0.1/32', '198.18.0.1/32', '::1/128', '2001:db8:1::1/128'])


def test_parse_routes_names_and_multipath():
    routes = dict((r['dst'], r) for r in m.parse_routes(ROUTES4_NAMED, 4, NAMES))
    assert routes['0.0.0.0/0']['protocol'] == 'crosshost'
    assert routes['100.64.7.0/24']['table'] == 253
    assert routes['198.18.0.0/24']['scope'] == 'link'
    assert routes['198.18.0.1/32']['type'] == 'local' and routes['198.18.0.1/32']['table'] == 255
    assert routes['100.64.8.0/24']['multipath'] and routes['100.64.8.0/24']['via'] is None


def test_parse_rt_tables():
    text = '#\n# reserved values\n255\tlocal\n254 main # comment\n253\tdefault\n0\tunspec\n100 overlay\nbogus line\n'
    assert m.parse_rt_tables(text) == dict(local=255, main=254, default=253, unspec=0, overlay=100)


# ---- want -----------------------------------------------------------------------------
def test_want_defaults_and_normalisation():
    want = want_of(dict(dst='default', via='198.18.0.254'),
                   dict(dst='default', via='2001:db8:1::FE'),
                   dict(dst='2001:db8:6::/64', via='2001:db8:1::2', metric=0),
                   dict(dst='100.64.9.9', dev='xh0', table='overlay'),
                   dict(dst='100.64.10.0/24', via='198.18.0.2', table=7, mtu=1400))
    assert [(w['dst'], w['family'], w['metric'], w['table']) for w in want] == [
        ('0.0.0.0/0', 4, 0, 254), ('::/0', 6, 1024, 254), ('2001:db8:6::/64', 6, 1024, 254),
        ('100.64.9.9/32', 4, 0, 100), ('100.64.10.0/24', 4, 0, 7)]
    assert want[1]['via'] == '2001:db8:1::fe'


@pytest.mark.parametrize('route, message', [
    (dict(dst='100.64.1.0/33', via='198.18.0.2'), "'100.64.1.0/33'"),
    (dict(dst='100.64.1.1/24', via='198.18.0.2'), 'host bits'),
    (dict(dst='bogus', via='198.18.0.2'), "'bogus'"),
    (dict(dst='100.64.1.0/24', via='198.18.0.300'), "'198.18.0.300'"),
    (dict(dst='2001:db8:2::/64', via='198.18.0.2'), 'Linux takes no IPv4 next hop for an IPv6 route'),
    (dict(dst='100.64.1.0/24', via='198.18.0.2', src='2001:db8:1::1'), 'src 2001:db8:1::1 is IPv6'),
    (dict(dst='100.64.1.0/24'), 'needs via'),
    (dict(dst='100.64.1.0/24', dev='xh0', onlink=True), 'onlink needs via'),
    (dict(dst='100.64.1.0/24', via='198.18.0.2', onlink=True), 'onlink needs dev'),
    (dict(dst='2001:db8:2::/64', via='fe80::1'), 'link-local gateway fe80::1 needs dev'),
    (dict(dst='100.64.1.0/24', via='198.18.0.2', dev='bad name'), "'bad name'"),
    (dict(dst='100.64.1.0/24', via='198.18.0.2', metric=-1), 'metric -1'),
    (dict(dst='100.64.1.0/24', via='198.18.0.2', mtu=20), 'mtu 20'),
    (dict(dst='2001:db8:2::/64', via='2001:db8:1::2', mtu=1000), 'mtu 1000 is out of range for IPv6'),
    (dict(dst='100.64.1.0/24', via='198.18.0.2', table='nosuchtable'), "'nosuchtable'"),
    (dict(dst='100.64.1.0/24', via='198.18.0.2', table=0), 'out of range'),
    (dict(dst='100.64.1.0/24', via='198.18.0.2', table=True), 'True'),
])
def test_want_rejects_bad_routes(route, message):
    with pytest.raises(InvalidValue, match='.*' + message.replace('(', r'\(').replace(')', r'\)').replace('.', r'\.')):
        want_of(route)


def test_want_rejects_duplicates_and_purge_with_absent():
    with pytest.raises(InvalidValue, match='declared more than once'):
        want_of(dict(dst='100.64.1.0/24', via='198.18.0.2'), dict(dst='100.64.1.0/24', dev='xh0'))
    # Same dst in another table or with another metric is another route.
    assert len(want_of(dict(dst='100.64.1.0/24', via='198.18.0.2'), dict(dst='100.64.1.0/24', via='198.18.0.2', metric=5),
                       dict(dst='100.64.1.0/24', via='198.18.0.2', table=100))) == 3
    with pytest.raises(InvalidValue, match='purge=true only applies to state=present'):
        want_of(state='absent', purge=True)


def test_absent_needs_only_dst():
    assert want_of(dict(dst='100.64.1.0/24'), state='absent')[0]['metric'] == 0


# ---- planning -------------------------------------------------------------------------
def test_in_sync_plans_nothing():
    result = plan(dict(dst='100.64.1.0/24', via='198.18.0.2'),
                  dict(dst='100.64.2.0/24', via='198.19.9.9', dev='xh0', onlink=True, metric=50, mtu=1400, src='198.18.0.1'),
                  dict(dst='2001:db8:5::/64', via='2001:db8:1::2', dev='xh0'),
                  dict(dst='default', via='2001:db8:1::fe', metric=0),
                  dict(dst='100.64.5.0/24', dev='xh1'),
                  dict(dst='100.64.4.0/24', via='198.18.0.2', table=100))
    assert not result['plan'] and result['removed'] == []
    assert result['before'] == result['after']


def test_new_and_changed_routes_are_replaced():
    result = plan(dict(dst='100.64.1.0/24', via='198.18.0.3'),          # other gateway
                  dict(dst='100.64.2.0/24', via='198.19.9.9', dev='xh0', onlink=True, metric=50, src='198.18.0.1'),  # mtu dropped
                  dict(dst='100.64.20.0/24', via='198.18.0.2', dev='xh0', mtu=1300),
                  dict(dst='2001:db8:20::/64', via='2001:db8:1::2', metric=7))
    assert result['plan'].commands() == [
        'ip route replace 100.64.1.0/24 via 198.18.0.3 table 254 proto 147 metric 0',
        'ip route replace 100.64.2.0/24 via 198.19.9.9 dev xh0 onlink table 254 proto 147 metric 50 src 198.18.0.1',
        'ip route replace 100.64.20.0/24 via 198.18.0.2 dev xh0 table 254 proto 147 metric 0 mtu 1300',
        'ip route replace 2001:db8:20::/64 via 2001:db8:1::2 table 254 proto 147 metric 7',
    ]
    assert '100.64.1.0/24 via 198.18.0.2 dev xh0 table 254 metric 0 proto 147' in result['before']
    # The diff shows the device the kernel will pick for the gateway.
    assert '100.64.1.0/24 via 198.18.0.3 dev xh0 table 254 metric 0 proto 147' in result['after']


def test_purge_deletes_only_ours_in_managed_tables():
    result = plan(dict(dst='100.64.1.0/24', via='198.18.0.2'), purge=True)
    assert result['plan'].commands() == [
        'ip route del 100.64.2.0/24 table 254 proto 147 metric 50 via 198.19.9.9 dev xh0',
        'ip route del 100.64.5.0/24 table 254 proto 147 metric 0 dev xh1',
        'ip route del 2001:db8:5::/64 table 254 proto 147 metric 1024 via 2001:db8:1::2 dev xh0',
        'ip route del ::/0 table 254 proto 147 metric 1024 via 2001:db8:1::fe dev xh0',
    ]
    # proto static (100.64.3.0/24), kernel routes and table 100 stay.
    assert not any('100.64.3.0' in c or '100.64.4.0' in c or '198.18.0.0' in c for c in result['plan'].commands())


def test_purge_tables_and_devices():
    result = plan(purge=True, purge_tables=[100])
    assert result['plan'].commands() == ['ip route del 100.64.4.0/24 table 100 proto 147 metric 0 via 198.18.0.2 dev xh0']
    result = plan(purge=True, purge_devices=['xh1'])
    assert result['plan'].commands() == ['ip route del 100.64.5.0/24 table 254 proto 147 metric 0 dev xh1']
    assert not plan(purge=True, purge_devices=['xh-down'])['plan']


def test_foreign_route_is_an_error_unless_force():
    route = dict(dst='100.64.3.0/24', via='198.18.0.2')
    with pytest.raises(InvalidValue, match=r'route 100\.64\.3\.0/24 already exists and is not ours \(100\.64\.3\.0/24 via 198\.18\.0\.3 .*proto 4\)'):
        plan(route)
    assert plan(route, force=True)['plan'].commands() == ['ip route replace 100.64.3.0/24 via 198.18.0.2 table 254 proto 147 metric 0']
    # Another metric is another route: no conflict.
    assert plan(dict(route, metric=10))['plan'].commands() == ['ip route replace 100.64.3.0/24 via 198.18.0.2 table 254 proto 147 metric 10']
    # The kernel's connected route is somebody else's too.
    with pytest.raises(InvalidValue, match='198.18.0.0/24 already exists and is not ours'):
        plan(dict(dst='198.18.0.0/24', dev='xh1'))


@pytest.mark.parametrize('route, message', [
    (dict(dst='100.64.9.0/24', via='198.18.0.2', dev='nosuch0'), "dev 'nosuch0' does not exist"),
    (dict(dst='100.64.9.0/24', via='198.18.0.2', dev='xh-down'), "dev 'xh-down' is down"),
    (dict(dst='100.64.9.0/24', via='198.19.0.2'), 'gateway 198.19.0.2 is not reachable on link from any interface'),
    (dict(dst='100.64.9.0/24', via='198.18.0.2', dev='xh1'), 'gateway 198.18.0.2 is not reachable on link from dev xh1'),
    (dict(dst='100.64.9.0/24', via='198.18.0.2', table=100), None),  # connected route of main counts for table 100
    (dict(dst='2001:db8:9::/64', via='2001:db8:2::1'), 'gateway 2001:db8:2::1 is not reachable'),
    (dict(dst='2001:db8:9::/64', via='fe80::1', dev='xh1'), None),
    (dict(dst='100.64.9.0/24', via='198.18.0.2', src='198.18.0.9'), 'src 198.18.0.9 is not an address of this namespace'),
    (dict(dst='2001:db8:9::/64', via='2001:db8:1::2', src='2001:db8:1::1'), None),
    (dict(dst='100.64.9.0/24', via='198.19.0.2', dev='xh0', onlink=True), None),
])
def test_validation_against_the_namespace(route, message):
    if message is None:
        assert plan(route)['plan']
    else:
        with pytest.raises(InvalidValue, match=message.replace('.', r'\.')):
            plan(route)


def test_gateway_reachable_through_a_device_route_of_the_same_run():
    result = plan(dict(dst='100.64.9.0/24', via='198.19.0.2'), dict(dst='198.19.0.0/24', dev='xh1'))
    # Device routes go first so the gateway route finds its connected route in the batch.
    assert result['plan'].commands() == [
        'ip route replace 198.19.0.0/24 dev xh1 table 254 proto 147 metric 0',
        'ip route replace 100.64.9.0/24 via 198.19.0.2 table 254 proto 147 metric 0',
    ]


def test_gateway_behind_a_purged_route_is_unreachable():
    # 100.64.5.0/24 dev xh1 is ours and would be purged: it cannot carry a gateway any more.
    with pytest.raises(InvalidValue, match='gateway 100.64.5.9 is not reachable'):
        plan(dict(dst='100.64.9.0/24', via='100.64.5.9'), purge=True)
    assert plan(dict(dst='100.64.9.0/24', via='100.64.5.9'))['plan']


def test_absent_deletes_ours_and_warns_about_foreign():
    result = plan(dict(dst='100.64.1.0/24'), dict(dst='100.64.3.0/24'), dict(dst='100.64.77.0/24'), dict(dst='default', via='2001:db8:1::fe'),
                  state='absent')
    assert result['plan'].commands() == [
        'ip route del 100.64.1.0/24 table 254 proto 147 metric 0 via 198.18.0.2 dev xh0',
        'ip route del ::/0 table 254 proto 147 metric 1024 via 2001:db8:1::fe dev xh0',
    ]
    assert len(result['warnings']) == 1 and '100.64.3.0/24' in result['warnings'][0]
    assert result['removed'] == ['100.64.1.0/24 via 198.18.0.2 dev xh0 table 254 metric 0 proto 147',
                                 '::/0 via 2001:db8:1::fe dev xh0 table 254 metric 1024 proto 147']


def test_route_text():
    route = dict(family=4, dst='100.64.2.0/24', via='198.19.9.9', dev='xh0', onlink=True, metric=50, table=254, src='198.18.0.1', mtu=1400)
    assert m.route_text(route) == '100.64.2.0/24 via 198.19.9.9 dev xh0 onlink table 254 metric 50 proto 147 src 198.18.0.1 mtu 1400'
