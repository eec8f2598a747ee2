# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ip_neighbor for real, through Ansible, on a VXLAN device in a throwaway namespace.

Every converging case runs in check mode first (nothing may change), then for real, then
again (changed=false), with --diff. Purge removes only entries carrying protocol 147;
a foreign permanent entry (no protocol) and a learned one stay.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from conftest import ip_json, run_module, sh

OURS = ('147', 'crosshost')
DEV = 'xh-vx'


@pytest.fixture
def ns(netns):
    """xh0 (198.18.0.1/24) - xh1 veth pair, vxlan xh-vx over xh0, and a tun device (NOARP)."""
    def ip(*argv):
        sh('ip', '-n', netns, *argv)
    ip('link', 'add', 'xh0', 'type', 'veth', 'peer', 'name', 'xh1')
    ip('addr', 'add', '198.18.0.1/24', 'dev', 'xh0')
    ip('link', 'add', DEV, 'type', 'vxlan', 'id', '1', 'local', '198.18.0.1', 'dev', 'xh0', 'dstport', '8472', 'nolearning')
    ip('tuntap', 'add', 'dev', 'xh-tun', 'mode', 'tun')
    for dev in ('xh0', 'xh1', DEV, 'xh-tun'):
        ip('link', 'set', dev, 'up')
    return netns


def neighbours(netns, dev=DEV):
    """Entries of dev as (address, lladdr, permanent, protocol); learned states may age, permanence may not."""
    return sorted((n['dst'], n.get('lladdr'), 'PERMANENT' in n.get('state', []), n.get('protocol'))
                  for n in ip_json(netns, '-N', 'neigh', 'show', 'dev', dev))


def entry(netns, address, dev=DEV):
    found = [n for n in ip_json(netns, '-N', 'neigh', 'show', 'dev', dev) if n['dst'] == address]
    return found[0] if found else None


def ok(result):
    assert not result.get('failed'), result.get('msg', result)
    return result


def converge(netns, args):
    """Check mode (changes planned, none made), real run (changed), rerun (unchanged); all with --diff."""
    args = dict(args, netns=netns)
    args.setdefault('dev', DEV)
    before = neighbours(netns, args['dev'])
    check = ok(run_module('ip_neighbor', args, check=True, diff=True))
    assert check['changed'] is True
    assert neighbours(netns, args['dev']) == before, 'check mode changed the kernel'
    real = ok(run_module('ip_neighbor', args, diff=True))
    assert real['changed'] is True
    assert real['commands'] == check['commands'] and real['diff'] == check['diff']
    again = ok(run_module('ip_neighbor', args, diff=True))
    assert again['changed'] is False, again['commands']
    assert again['commands'] == [] and again['removed'] == []
    assert again['diff']['before'] == again['diff']['after'] == real['diff']['after']
    return real


def fails(netns, args, message):
    args = dict(args, netns=netns)
    args.setdefault('dev', DEV)
    before = neighbours(netns)
    result = run_module('ip_neighbor', args)
    assert result.get('failed') is True, result
    assert message in result['msg'], result['msg']
    assert neighbours(netns) == before, 'a failed run changed the kernel'
    return result


def test_entries_ipv4_and_ipv6(ns):
    converge(ns, dict(neighbors=[dict(address='100.64.2.0', lladdr='AA:BB:CC:00:00:02'),
                                 dict(address='100.64.3.0', lladdr='aa-bb-cc-00-00-03'),
                                 dict(address='2001:db8:9::1', lladdr='aa:bb:cc:00:00:09')]))
    for address, mac in (('100.64.2.0', 'aa:bb:cc:00:00:02'), ('100.64.3.0', 'aa:bb:cc:00:00:03'), ('2001:db8:9::1', 'aa:bb:cc:00:00:09')):
        found = entry(ns, address)
        assert found['lladdr'] == mac and found['state'] == ['PERMANENT'] and found['protocol'] in OURS
    assert 'proto crosshost' in sh('ip', '-n', ns, 'neigh', 'show', 'dev', DEV, '100.64.2.0')


def test_changed_and_learned_entries_are_replaced(ns):
    converge(ns, dict(neighbors=[dict(address='100.64.2.0', lladdr='aa:bb:cc:00:00:02')]))
    # A learned (dynamic) entry at a declared address is a cache: replaced without force.
    sh('ip', '-n', ns, 'neigh', 'add', '100.64.4.0', 'lladdr', 'aa:bb:cc:00:00:44', 'dev', DEV, 'nud', 'stale')
    result = converge(ns, dict(neighbors=[dict(address='100.64.2.0', lladdr='aa:bb:cc:00:00:22'),
                                          dict(address='100.64.4.0', lladdr='aa:bb:cc:00:00:04')]))
    assert result['commands'] == ['ip neigh replace 100.64.2.0 lladdr aa:bb:cc:00:00:22 dev xh-vx nud permanent protocol 147',
                                  'ip neigh replace 100.64.4.0 lladdr aa:bb:cc:00:00:04 dev xh-vx nud permanent protocol 147']
    assert entry(ns, '100.64.2.0')['lladdr'] == 'aa:bb:cc:00:00:22'
    assert entry(ns, '100.64.4.0')['state'] == ['PERMANENT']


def test_purge_removes_only_ours(ns):
    sh('ip', '-n', ns, 'neigh', 'add', '100.64.50.0', 'lladdr', 'aa:bb:cc:00:00:50', 'dev', DEV, 'nud', 'permanent')
    sh('ip', '-n', ns, 'neigh', 'add', '100.64.51.0', 'lladdr', 'aa:bb:cc:00:00:51', 'dev', DEV, 'nud', 'stale')
    ok(run_module('ip_neighbor', dict(netns=ns, dev=DEV, neighbors=[
        dict(address='100.64.60.0', lladdr='aa:bb:cc:00:00:60'),
        dict(address='2001:db8:60::1', lladdr='aa:bb:cc:00:00:61'),
        dict(address='100.64.62.0', lladdr='aa:bb:cc:00:00:62')])))
    result = converge(ns, dict(neighbors=[dict(address='100.64.62.0', lladdr='aa:bb:cc:00:00:62')], purge=True))
    assert result['commands'] == ['ip neigh del 100.64.60.0 dev xh-vx', 'ip neigh del 2001:db8:60::1 dev xh-vx']
    assert entry(ns, '100.64.60.0') is None and entry(ns, '2001:db8:60::1') is None
    assert entry(ns, '100.64.50.0')['state'] == ['PERMANENT'] and 'protocol' not in entry(ns, '100.64.50.0')
    assert entry(ns, '100.64.51.0') is not None
    assert entry(ns, '100.64.62.0')['protocol'] in OURS
    # Nothing declared + purge: all of ours go, still nothing else.
    converge(ns, dict(neighbors=[], purge=True))
    assert [n[0] for n in neighbours(ns)] == ['100.64.50.0', '100.64.51.0']


def test_foreign_permanent_entry_is_an_error_unless_force(ns):
    sh('ip', '-n', ns, 'neigh', 'add', '100.64.70.0', 'lladdr', 'aa:bb:cc:00:00:70', 'dev', DEV, 'nud', 'permanent')
    args = dict(neighbors=[dict(address='100.64.71.0', lladdr='aa:bb:cc:00:00:71'), dict(address='100.64.70.0', lladdr='aa:bb:cc:00:00:07')])
    fails(ns, args, 'neighbor 100.64.70.0 on xh-vx already exists and is not ours (100.64.70.0 lladdr aa:bb:cc:00:00:70 PERMANENT)')
    converge(ns, dict(args, force=True))
    found = entry(ns, '100.64.70.0')
    assert found['lladdr'] == 'aa:bb:cc:00:00:07' and found['protocol'] in OURS


def test_absent_removes_ours_and_leaves_foreign(ns):
    sh('ip', '-n', ns, 'neigh', 'add', '100.64.80.0', 'lladdr', 'aa:bb:cc:00:00:80', 'dev', DEV, 'nud', 'permanent')
    ok(run_module('ip_neighbor', dict(netns=ns, dev=DEV, neighbors=[dict(address='100.64.81.0', lladdr='aa:bb:cc:00:00:81')])))
    result = converge(ns, dict(state='absent', neighbors=[dict(address='100.64.81.0'), dict(address='100.64.80.0'), dict(address='100.64.82.0')]))
    assert result['commands'] == ['ip neigh del 100.64.81.0 dev xh-vx']
    assert any('100.64.80.0' in w for w in result.get('warnings', []))
    assert entry(ns, '100.64.80.0') is not None


GOOD = dict(address='100.64.90.0', lladdr='aa:bb:cc:00:00:90')


@pytest.mark.parametrize('args, message', [
    (dict(neighbors=[GOOD, dict(address='100.64.91.300', lladdr='aa:bb:cc:00:00:91')]), "'100.64.91.300'"),
    (dict(neighbors=[GOOD, dict(address='100.64.91.0', lladdr='aa:bb:cc:00:00:9')]), "'aa:bb:cc:00:00:9'"),
    (dict(neighbors=[GOOD, dict(address='100.64.91.0')]), 'needs lladdr'),
    (dict(neighbors=[GOOD, dict(GOOD, lladdr='aa:bb:cc:00:00:91')]), 'declared more than once'),
    (dict(neighbors=[GOOD], dev='xh-nosuch'), "dev 'xh-nosuch' does not exist"),
    (dict(neighbors=[GOOD], dev='xh-tun'), "dev 'xh-tun' has the NOARP flag"),
    (dict(neighbors=[GOOD], state='absent', purge=True), 'purge=true only applies to state=present'),
])
def test_bad_arguments_change_nothing(ns, args, message):
    fails(ns, args, message)
    assert entry(ns, '100.64.90.0') is None
