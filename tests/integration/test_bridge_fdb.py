# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""bridge_fdb for real, through Ansible, on VXLAN devices in a throwaway namespace.

Every converging case runs in check mode first (nothing may change), then for real, then
again (changed=false), with --diff. Purge removes only permanent remote entries; the
device's default remote (from ``remote``) and dynamic (learned) entries stay.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from conftest import run_module, sh

DEV = 'xh-vx'
ZERO = '00:00:00:00:00:00'


@pytest.fixture
def ns(netns):
    """xh0 (198.18.0.1/24) - xh1 veth pair; vxlan xh-vx (no default remote) and xh-vx2 (remote 198.18.0.5)."""
    def ip(*argv):
        sh('ip', '-n', netns, *argv)
    ip('link', 'add', 'xh0', 'type', 'veth', 'peer', 'name', 'xh1')
    ip('addr', 'add', '198.18.0.1/24', 'dev', 'xh0')
    ip('link', 'add', DEV, 'type', 'vxlan', 'id', '1', 'local', '198.18.0.1', 'dev', 'xh0', 'dstport', '8472', 'nolearning')
    ip('link', 'add', 'xh-vx2', 'type', 'vxlan', 'id', '2', 'local', '198.18.0.1', 'remote', '198.18.0.5', 'dev', 'xh0', 'dstport', '4789')
    for dev in ('xh0', 'xh1', DEV, 'xh-vx2'):
        ip('link', 'set', dev, 'up')
    return netns


def fdb(netns, dev=DEV):
    """Entries of dev as sorted (mac, dst, state) tuples."""
    out = sh('bridge', '-n', netns, '-json', 'fdb', 'show', 'dev', dev)
    return sorted((e['mac'], e.get('dst'), e.get('state', '')) for e in (json.loads(out) if out.strip() else []))


def ok(result):
    assert not result.get('failed'), result.get('msg', result)
    return result


def converge(netns, args):
    """Check mode (changes planned, none made), real run (changed), rerun (unchanged); all with --diff."""
    args = dict(args, netns=netns)
    args.setdefault('dev', DEV)
    before = fdb(netns, args['dev'])
    check = ok(run_module('bridge_fdb', args, check=True, diff=True))
    assert check['changed'] is True
    assert fdb(netns, args['dev']) == before, 'check mode changed the kernel'
    real = ok(run_module('bridge_fdb', args, diff=True))
    assert real['changed'] is True
    assert real['commands'] == check['commands'] and real['diff'] == check['diff']
    again = ok(run_module('bridge_fdb', args, diff=True))
    assert again['changed'] is False, again['commands']
    assert again['commands'] == [] and again['removed'] == []
    assert again['diff']['before'] == again['diff']['after'] == real['diff']['after']
    return real


def fails(netns, args, message, dev=DEV):
    args = dict(args, netns=netns)
    args.setdefault('dev', dev)
    before = fdb(netns, dev)
    result = run_module('bridge_fdb', args)
    assert result.get('failed') is True, result
    assert message in result['msg'], result['msg']
    assert fdb(netns, dev) == before, 'a failed run changed the kernel'
    return result


PEERS = [dict(mac='AA:BB:CC:00:00:02', dst='198.18.0.2'), dict(mac='aa:bb:cc:00:00:03', dst='198.18.0.3'),
         dict(mac=ZERO, dst='198.18.0.2'), dict(mac=ZERO, dst='198.18.0.3')]


def test_unicast_and_flood_entries(ns):
    result = converge(ns, dict(entries=PEERS))
    assert result['commands'] == [
        'bridge fdb replace aa:bb:cc:00:00:02 dev xh-vx dst 198.18.0.2 self permanent',
        'bridge fdb replace aa:bb:cc:00:00:03 dev xh-vx dst 198.18.0.3 self permanent',
        'bridge fdb append 00:00:00:00:00:00 dev xh-vx dst 198.18.0.2 self permanent',
        'bridge fdb append 00:00:00:00:00:00 dev xh-vx dst 198.18.0.3 self permanent',
    ]
    assert fdb(ns) == sorted([('aa:bb:cc:00:00:02', '198.18.0.2', 'permanent'), ('aa:bb:cc:00:00:03', '198.18.0.3', 'permanent'),
                              (ZERO, '198.18.0.2', 'permanent'), (ZERO, '198.18.0.3', 'permanent')])


def test_moved_peer_is_updated_in_place(ns):
    converge(ns, dict(entries=PEERS[:1]))
    # A learned entry at a declared MAC becomes permanent.
    sh('bridge', '-n', ns, 'fdb', 'add', 'aa:bb:cc:00:00:0a', 'dev', DEV, 'dst', '198.18.0.10', 'self', 'dynamic')
    result = converge(ns, dict(entries=[dict(mac='aa:bb:cc:00:00:02', dst='198.18.0.22'), dict(mac='aa:bb:cc:00:00:0a', dst='198.18.0.10')]))
    assert result['commands'] == ['bridge fdb replace aa:bb:cc:00:00:02 dev xh-vx dst 198.18.0.22 self permanent',
                                  'bridge fdb replace aa:bb:cc:00:00:0a dev xh-vx dst 198.18.0.10 self permanent']
    assert fdb(ns) == [('aa:bb:cc:00:00:02', '198.18.0.22', 'permanent'), ('aa:bb:cc:00:00:0a', '198.18.0.10', 'permanent')]


def test_purge_keeps_default_remote_and_dynamic_entries(ns):
    dev = 'xh-vx2'
    sh('bridge', '-n', ns, 'fdb', 'add', 'aa:bb:cc:00:00:0d', 'dev', dev, 'dst', '198.18.0.13', 'self', 'dynamic')
    ok(run_module('bridge_fdb', dict(netns=ns, dev=dev, entries=PEERS)))
    result = converge(ns, dict(dev=dev, entries=[PEERS[0], PEERS[2]], purge=True))
    assert result['commands'] == ['bridge fdb del aa:bb:cc:00:00:03 dev xh-vx2 dst 198.18.0.3 self',
                                  'bridge fdb del 00:00:00:00:00:00 dev xh-vx2 dst 198.18.0.3 self']
    assert fdb(ns, dev) == sorted([('aa:bb:cc:00:00:02', '198.18.0.2', 'permanent'), (ZERO, '198.18.0.2', 'permanent'),
                                   (ZERO, '198.18.0.5', 'permanent'), ('aa:bb:cc:00:00:0d', '198.18.0.13', '')])
    # Nothing declared + purge: the default remote and the learned entry still stay.
    converge(ns, dict(dev=dev, entries=[], purge=True))
    assert fdb(ns, dev) == sorted([(ZERO, '198.18.0.5', 'permanent'), ('aa:bb:cc:00:00:0d', '198.18.0.13', '')])


def test_absent(ns):
    dev = 'xh-vx2'
    ok(run_module('bridge_fdb', dict(netns=ns, dev=dev, entries=PEERS)))
    result = converge(ns, dict(dev=dev, state='absent', entries=[PEERS[1], PEERS[3], dict(mac=ZERO, dst='198.18.0.5'),
                                                                 dict(mac='aa:bb:cc:00:00:99', dst='198.18.0.99')]))
    assert result['commands'] == ['bridge fdb del aa:bb:cc:00:00:03 dev xh-vx2 dst 198.18.0.3 self',
                                  'bridge fdb del 00:00:00:00:00:00 dev xh-vx2 dst 198.18.0.3 self']
    assert any('198.18.0.5' in w for w in result.get('warnings', []))
    assert (ZERO, '198.18.0.5', 'permanent') in fdb(ns, dev)


GOOD = dict(mac='aa:bb:cc:00:00:90', dst='198.18.0.90')


@pytest.mark.parametrize('args, message', [
    (dict(entries=[GOOD, dict(mac='aa:bb:cc:00:00:9', dst='198.18.0.91')]), "'aa:bb:cc:00:00:9'"),
    (dict(entries=[GOOD, dict(mac='aa:bb:cc:00:00:91', dst='198.18.0.910')]), "'198.18.0.910'"),
    (dict(entries=[GOOD, dict(GOOD, dst='198.18.0.91')]), 'a unicast MAC has one remote'),
    (dict(entries=[GOOD, dict(mac=ZERO, dst='2001:db8:1::91')]), 'dst 2001:db8:1::91 is IPv6 but dev xh-vx uses IPv4'),
    (dict(entries=[GOOD], dev='xh-nosuch'), "dev 'xh-nosuch' does not exist"),
    (dict(entries=[GOOD], dev='xh0'), "dev 'xh0' is a veth, not a vxlan device"),
    (dict(entries=[GOOD], state='absent', purge=True), 'purge=true only applies to state=present'),
    (dict(entries=[dict(mac='aa:bb:cc:00:00:91')]), 'dst'),
])
def test_bad_arguments_change_nothing(ns, args, message):
    fails(ns, args, message)
    assert fdb(ns) == []
