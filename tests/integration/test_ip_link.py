# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""crosshost.network.ip_link for real, in throwaway namespaces (xh-...).

Every change runs in check mode first (the kernel must not change), then for real and
again (changed=false); --diff is on throughout.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import time
import uuid

import pytest

from conftest import ip_json, run_module, sh

MODULE = 'ip_link'


@pytest.fixture
def netns_b():
    """A second namespace like ``netns`` (for veth peers); always deleted."""
    name = 'xh-' + uuid.uuid4().hex[:8]
    sh('ip', 'netns', 'add', name)
    try:
        sh('ip', '-n', name, 'link', 'set', 'lo', 'up')
        yield name
    finally:
        sh('ip', 'netns', 'del', name, check=False)


def kernel_state(*namespaces):
    """What a link task may change, as the test reads it (no timers, no counters)."""
    keep = ('id', 'local', 'local6', 'link', 'port', 'learning', 'mode', 'stp_state', 'forward_delay')
    state = []
    for ns in namespaces:
        for link in ip_json(ns, '-details', 'link', 'show'):
            info = link.get('linkinfo', {})
            data = dict((k, v) for k, v in info.get('info_data', {}).items() if k in keep)
            state.append((ns, link['ifindex'], link['ifname'], info.get('info_kind'), link['mtu'], link['address'], link.get('master'),
                          'UP' in link['flags'], link.get('link'), link.get('link_index'), sorted(data.items())))
    return state


def links(ns):
    return dict((link['ifname'], link) for link in ip_json(ns, '-details', 'link', 'show'))


def ok(result):
    assert not result.get('failed'), result
    return result


def converge(args, *namespaces):
    """Check mode (nothing changes), the real run, a rerun (changed=false); returns the real run."""
    before = kernel_state(*namespaces)
    check = ok(run_module(MODULE, args, check=True, diff=True))
    assert check['changed'] is True
    assert check['diff']['before'] != check['diff']['after']
    assert kernel_state(*namespaces) == before, 'check mode changed the kernel'
    real = ok(run_module(MODULE, args, diff=True))
    assert real['changed'] is True
    assert real['commands'] == check['commands']
    assert real['diff'] == check['diff']
    again = ok(run_module(MODULE, args, diff=True))
    assert again['changed'] is False, again['commands']
    assert again['commands'] == []
    assert again['diff']['before'] == again['diff']['after']
    return real


def fails(args, message, *namespaces):
    """The task fails naming the value, and nothing changed."""
    before = kernel_state(*namespaces)
    result = run_module(MODULE, args)
    assert result.get('failed'), result
    assert message in result['msg'], result['msg']
    assert kernel_state(*namespaces) == before
    return result


def test_bridge_create_modify_remove(netns):
    args = dict(netns=netns, name='br-xh', kind='bridge', mtu=1400, address='02:64:40:00:00:01', admin_state='up')
    result = converge(args, netns)
    assert result['commands'] == ['ip link add name br-xh type bridge', 'ip link set dev br-xh mtu 1400 address 02:64:40:00:00:01 up']
    assert result['link'] == dict(name='br-xh', state='present', kind='bridge', mtu=1400, address='02:64:40:00:00:01', master='',
                                  admin_state='up')
    br = links(netns)['br-xh']
    assert (br['mtu'], br['address'], 'UP' in br['flags']) == (1400, '02:64:40:00:00:01', True)

    args.update(mtu=1450, address='02:64:40:00:00:02', admin_state='down')
    result = converge(args, netns)
    assert result['commands'] == ['ip link set dev br-xh mtu 1450 address 02:64:40:00:00:02 down']
    assert result['diff']['before']['mtu'] == 1400 and result['diff']['after']['mtu'] == 1450
    br2 = links(netns)['br-xh']
    assert (br2['ifindex'], br2['mtu'], 'UP' in br2['flags']) == (br['ifindex'], 1450, False)

    result = converge(dict(netns=netns, name='br-xh', state='absent'), netns)
    assert result['commands'] == ['ip link del dev br-xh']
    assert 'br-xh' not in links(netns)


def test_veth_peer_in_second_namespace(netns, netns_b):
    converge(dict(netns=netns, name='br-xh', kind='bridge', admin_state='up'), netns)
    args = dict(netns=netns, name='vxh0', kind='veth', peer=dict(name='eth1', netns=netns_b), master='br-xh', mtu=1450, admin_state='up')
    result = converge(args, netns, netns_b)
    assert result['commands'] == ['ip link add name vxh0 type veth peer name eth1 netns %s' % netns_b,
                                  'ip link set dev vxh0 mtu 1450 master br-xh up']
    assert result['link']['peer'] == dict(name='eth1', netns=netns_b)
    here, there = links(netns)['vxh0'], links(netns_b)['eth1']
    assert here['master'] == 'br-xh' and here['mtu'] == 1450
    assert (here['link_index'], there['link_index']) == (there['ifindex'], here['ifindex'])

    # The peer end, configured in its own namespace (no kind: it exists).
    converge(dict(netns=netns_b, name='eth1', mtu=1450, address='02:64:40:00:00:0b', admin_state='up'), netns_b)
    assert links(netns_b)['eth1']['mtu'] == 1450

    # A peer name that is taken in the peer namespace: clear error, nothing created.
    sh('ip', '-n', netns_b, 'link', 'add', 'taken0', 'type', 'bridge')
    fails(dict(netns=netns, name='vxh1', kind='veth', peer=dict(name='taken0', netns=netns_b)),
          'peer name taken0 of link vxh1 is already taken by another link in the peer namespace', netns, netns_b)

    # Moving the peer to another namespace needs recreate.
    fails(dict(args, peer=dict(name='eth1')), 'peer is', netns, netns_b)

    result = converge(dict(netns=netns, name='vxh0', state='absent'), netns, netns_b)
    assert result['commands'] == ['ip link del dev vxh0']
    assert 'vxh0' not in links(netns)
    assert 'eth1' not in links(netns_b), 'the peer goes with its veth'


def test_veth_peer_in_process_namespace(netns, netns_b):
    # A process living in netns_b stands for a container: its PID names the namespace.
    proc = subprocess.Popen(['ip', 'netns', 'exec', netns_b, 'sleep', '300'])
    try:
        for dummy in range(100):
            if os.stat('/proc/%d/ns/net' % proc.pid).st_ino == os.stat('/run/netns/%s' % netns_b).st_ino:
                break
            time.sleep(0.05)
        result = converge(dict(netns=netns, name='vxh2', kind='veth', peer=dict(name='eth2', pid=proc.pid)), netns, netns_b)
        assert result['commands'] == ['ip link add name vxh2 type veth peer name eth2 netns %d' % proc.pid]
        assert 'eth2' in links(netns_b)
    finally:
        proc.kill()
        proc.wait()


def test_vxlan_local_dev_port_learning(netns):
    sh('ip', '-n', netns, 'link', 'add', 'under0', 'type', 'veth', 'peer', 'name', 'under1')
    sh('ip', '-n', netns, 'address', 'add', '198.18.0.1/15', 'dev', 'under0')
    args = dict(netns=netns, name='flannel.1', kind='vxlan', admin_state='up', mtu=1450,
                vxlan=dict(id=1, local='198.18.0.1', dev='under0', dstport=8472, learning=False))
    result = converge(args, netns)
    assert result['commands'] == ['ip link add name flannel.1 type vxlan id 1 local 198.18.0.1 dev under0 dstport 8472 nolearning',
                                  'ip link set dev flannel.1 mtu 1450 up']
    vx = links(netns)['flannel.1']
    data = vx['linkinfo']['info_data']
    assert (data['id'], data['local'], data['link'], data['port'], data['learning']) == (1, '198.18.0.1', 'under0', 8472, False)
    assert result['link']['vxlan'] == dict(id=1, local='198.18.0.1', dev='under0', dstport=8472, learning=False)

    # learning changes in place: same ifindex.
    args['vxlan'] = dict(args['vxlan'], learning=True)
    result = converge(args, netns)
    assert result['commands'] == ['ip link set dev flannel.1 type vxlan learning']
    assert links(netns)['flannel.1']['ifindex'] == vx['ifindex']
    assert links(netns)['flannel.1']['linkinfo']['info_data']['learning'] is True

    # The VNI and the port are fixed: error naming old and new value, unless recreate.
    fails(dict(args, vxlan=dict(args['vxlan'], id=2)), 'vxlan id is 1, want 2', netns)
    fails(dict(args, vxlan=dict(args['vxlan'], dstport=4789)), 'vxlan dstport is 8472, want 4789', netns)
    args.update(vxlan=dict(args['vxlan'], id=2), recreate=True)
    result = converge(args, netns)
    assert result['recreated'] is True
    assert result['commands'][0] == 'ip link del dev flannel.1'
    vx2 = links(netns)['flannel.1']
    assert vx2['ifindex'] != vx['ifindex'] and vx2['linkinfo']['info_data']['id'] == 2
    assert (vx2['mtu'], 'UP' in vx2['flags']) == (1450, True)


def test_macvlan_on_veth_parent(netns):
    sh('ip', '-n', netns, 'link', 'add', 'parent0', 'type', 'veth', 'peer', 'name', 'parent1')
    args = dict(netns=netns, name='mv-xh', kind='macvlan', macvlan=dict(parent='parent0'), admin_state='up')
    result = converge(args, netns)
    assert result['commands'] == ['ip link add link parent0 name mv-xh type macvlan mode bridge', 'ip link set dev mv-xh up']
    mv = links(netns)['mv-xh']
    assert (mv['link'], mv['linkinfo']['info_data']['mode']) == ('parent0', 'bridge')

    result = converge(dict(args, macvlan=dict(parent='parent0', mode='private')), netns)
    assert result['commands'] == ['ip link set dev mv-xh type macvlan mode private']
    assert links(netns)['mv-xh']['ifindex'] == mv['ifindex']

    fails(dict(args, macvlan=dict(parent='parent1')), 'macvlan parent is parent0, want parent1', netns)
    result = converge(dict(args, macvlan=dict(parent='parent1'), recreate=True), netns)
    assert links(netns)['mv-xh']['link'] == 'parent1'


def test_master_and_nomaster(netns):
    converge(dict(netns=netns, name='br-xh', kind='bridge'), netns)
    converge(dict(netns=netns, name='br-xh2', kind='bridge'), netns)
    args = dict(netns=netns, name='vxh0', kind='veth', peer=dict(name='vxh0p'), master='br-xh')
    converge(args, netns)
    assert links(netns)['vxh0']['master'] == 'br-xh'
    result = converge(dict(args, master='br-xh2'), netns)
    assert result['commands'] == ['ip link set dev vxh0 master br-xh2']
    result = converge(dict(args, master=''), netns)
    assert result['commands'] == ['ip link set dev vxh0 nomaster']
    assert 'master' not in links(netns)['vxh0']


def test_other_kind_needs_recreate(netns):
    converge(dict(netns=netns, name='xh0', kind='veth', peer=dict(name='xh1')), netns)
    fails(dict(netns=netns, name='xh0', kind='bridge'), 'kind is veth, want bridge', netns)
    fails(dict(netns=netns, name='xh0', kind='bridge', state='absent'), 'link xh0 is a veth, not a bridge: not removing it', netns)
    result = converge(dict(netns=netns, name='xh0', kind='bridge', recreate=True), netns)
    assert result['commands'] == ['ip link del dev xh0', 'ip link add name xh0 type bridge']
    now = links(netns)
    assert now['xh0']['linkinfo']['info_kind'] == 'bridge' and 'xh1' not in now


@pytest.mark.parametrize('args, message', [
    (dict(name='xh-a-very-long-name', kind='bridge'), "link name 'xh-a-very-long-name' is not valid: at most 15 characters"),
    (dict(name='xh0', kind='bridge', address='02:00:00:00:00:zz'), "'02:00:00:00:00:zz' is not a valid MAC address"),
    (dict(name='xh0', kind='bridge', vxlan=dict(id=1)), 'option vxlan is only for kind vxlan, but link xh0 has kind bridge'),
    (dict(name='xh0', kind='bridge', peer=dict(name='xh1')), 'option peer is only for kind veth'),
    (dict(name='xh0', kind='veth', peer=dict(name='xh1'), master='br-nope'), "master of link xh0: 'br-nope' does not exist"),
    (dict(name='xh0', kind='vxlan', vxlan=dict(id=1, local='198.18.0.256')), "'198.18.0.256' is not a valid IP address"),
    (dict(name='xh0', kind='vxlan', vxlan=dict(id=1, dev='nodev0')), "vxlan dev of link xh0: 'nodev0' does not exist"),
    (dict(name='xh0', mtu=1400), 'link xh0 does not exist: set kind to create it'),
    (dict(name='lo', kind='bridge', recreate=True), 'link lo is not a virtual link'),
    (dict(name='xh0', kind='veth', peer=dict(name='xh1', netns='xh-does-not-exist')), "peer network namespace 'xh-does-not-exist' does not exist"),
])
def test_bad_arguments_change_nothing(netns, args, message):
    result = fails(dict(args, netns=netns), message, netns)
    assert 'commands' not in result
