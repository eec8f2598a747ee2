# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ip_neighbor: building want, parsing ``ip -json neigh show dev X`` and planning.

NEIGH is real output (iproute2 6.1) of a vxlan device with an entry of ours (shown by
name once ``crosshost`` is registered), a foreign permanent one, a learned (STALE) one
and an IPv6 one of ours.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.crosshost.network.plugins.module_utils._iproute import InvalidValue
from ansible_collections.crosshost.network.plugins.module_utils import _neighbours as m

NEIGH = json.loads('''[
 {"dst":"100.64.1.0","lladdr":"aa:bb:cc:00:00:01","state":["PERMANENT"],"protocol":"crosshost"},
 {"dst":"100.64.2.0","lladdr":"aa:bb:cc:00:00:02","state":["PERMANENT"]},
 {"dst":"100.64.3.0","lladdr":"aa:bb:cc:00:00:03","state":["STALE"]},
 {"dst":"2001:db8:9::1","lladdr":"aa:bb:cc:00:00:04","state":["PERMANENT"],"protocol":"147"},
 {"dst":"100.64.6.0","state":["FAILED"]}
]''')


def build(neighbors, state='present', purge=False, dev='xh-vx'):
    return m.build_want(dict(dev=dev, neighbors=neighbors, state=state, purge=purge, force=False))


def plan(neighbors, state='present', **kwargs):
    return m.compute_plan(build(neighbors, state=state), m.parse_neighbours(NEIGH), 'xh-vx', state=state, **kwargs)


def test_parse_neighbours():
    have = m.parse_neighbours(NEIGH)
    assert have['100.64.1.0'] == dict(address='100.64.1.0', lladdr='aa:bb:cc:00:00:01', state=['PERMANENT'], protocol='147')
    assert have['100.64.2.0']['protocol'] == ''
    assert have['100.64.3.0']['state'] == ['STALE']
    assert have['100.64.6.0']['lladdr'] is None
    assert set(have) == set(['100.64.1.0', '100.64.2.0', '100.64.3.0', '2001:db8:9::1', '100.64.6.0'])


def test_want_normalises():
    want = build([dict(address='100.64.1.0', lladdr='AA-BB-CC-00-00-01'), dict(address='2001:DB8:9::1', lladdr='aa:bb:cc:00:00:04')])
    assert want == [dict(address='100.64.1.0', lladdr='aa:bb:cc:00:00:01'), dict(address='2001:db8:9::1', lladdr='aa:bb:cc:00:00:04')]


@pytest.mark.parametrize('kwargs, message', [
    (dict(neighbors=[dict(address='100.64.1.300', lladdr='aa:bb:cc:00:00:01')]), "'100.64.1.300'"),
    (dict(neighbors=[dict(address='100.64.1.0', lladdr='aa:bb:cc:00:00')]), "'aa:bb:cc:00:00'"),
    (dict(neighbors=[dict(address='100.64.1.0')]), 'needs lladdr'),
    (dict(neighbors=[dict(address='100.64.1.0', lladdr='aa:bb:cc:00:00:01'), dict(address='100.64.1.0', lladdr='aa:bb:cc:00:00:02')]),
     'declared more than once'),
    (dict(neighbors=[], dev='bad/name'), "'bad/name'"),
    (dict(neighbors=[], state='absent', purge=True), 'purge=true only applies'),
])
def test_want_rejects(kwargs, message):
    with pytest.raises(InvalidValue, match=message.replace('.', r'\.')):
        build(**kwargs)


def test_absent_needs_only_the_address():
    assert build([dict(address='100.64.1.0')], state='absent') == [dict(address='100.64.1.0', lladdr=None)]


def test_in_sync_plans_nothing():
    result = plan([dict(address='100.64.1.0', lladdr='aa:bb:cc:00:00:01'), dict(address='2001:db8:9::1', lladdr='aa:bb:cc:00:00:04')])
    assert not result['plan'] and result['before'] == result['after']


def test_new_changed_and_learned_entries_are_replaced():
    result = plan([dict(address='100.64.1.0', lladdr='aa:bb:cc:00:00:11'),     # other MAC
                   dict(address='100.64.3.0', lladdr='aa:bb:cc:00:00:33'),     # learned entry: a cache, replaced
                   dict(address='100.64.6.0', lladdr='aa:bb:cc:00:00:66'),     # failed resolution
                   dict(address='2001:db8:7::1', lladdr='aa:bb:cc:00:00:77')])
    assert result['plan'].commands() == [
        'ip neigh replace 100.64.1.0 lladdr aa:bb:cc:00:00:11 dev xh-vx nud permanent protocol 147',
        'ip neigh replace 100.64.3.0 lladdr aa:bb:cc:00:00:33 dev xh-vx nud permanent protocol 147',
        'ip neigh replace 100.64.6.0 lladdr aa:bb:cc:00:00:66 dev xh-vx nud permanent protocol 147',
        'ip neigh replace 2001:db8:7::1 lladdr aa:bb:cc:00:00:77 dev xh-vx nud permanent protocol 147',
    ]
    assert '100.64.3.0 lladdr aa:bb:cc:00:00:03 STALE' in result['before']
    assert '100.64.3.0 lladdr aa:bb:cc:00:00:33 PERMANENT proto 147' in result['after']


def test_foreign_permanent_entry_is_an_error_unless_force():
    entry = dict(address='100.64.2.0', lladdr='aa:bb:cc:00:00:22')
    with pytest.raises(InvalidValue, match=r'neighbor 100\.64\.2\.0 on xh-vx already exists and is not ours'):
        plan([entry])
    assert plan([entry], force=True)['plan'].commands() == [
        'ip neigh replace 100.64.2.0 lladdr aa:bb:cc:00:00:22 dev xh-vx nud permanent protocol 147']


def test_purge_deletes_only_ours():
    result = plan([dict(address='100.64.1.0', lladdr='aa:bb:cc:00:00:01')], purge=True)
    assert result['plan'].commands() == ['ip neigh del 2001:db8:9::1 dev xh-vx']
    assert result['removed'] == ['2001:db8:9::1 lladdr aa:bb:cc:00:00:04 PERMANENT proto 147']
    # purge with nothing declared: all of ours, nothing else.
    assert plan([], purge=True)['plan'].commands() == ['ip neigh del 100.64.1.0 dev xh-vx', 'ip neigh del 2001:db8:9::1 dev xh-vx']


def test_absent():
    result = plan([dict(address='100.64.1.0'), dict(address='100.64.2.0'), dict(address='100.64.99.0')], state='absent')
    assert result['plan'].commands() == ['ip neigh del 100.64.1.0 dev xh-vx']
    assert len(result['warnings']) == 1 and '100.64.2.0' in result['warnings'][0]
