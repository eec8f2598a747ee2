# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""crosshost.network.linux_bridge for real, with both backends (brctl, ip), in throwaway
namespaces (xh-...).

Every change runs in check mode first (the kernel must not change), then for real and
again (changed=false); --diff is on throughout.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import subprocess
import time
import uuid

import pytest

from conftest import ip_json, run_module, sh

MODULE = 'linux_bridge'
BACKENDS = ['brctl', 'ip']
# Keys of ip -json -details that differ between two equal bridges (identities, timers).
VOLATILE = ('ifindex', 'address', 'bridge_id', 'root_id', 'designated_root', 'designated_bridge', 'link_index',
            'hello_timer', 'tcn_timer', 'topology_change_timer', 'gc_timer', 'hold_timer', 'message_age_timer',
            'forward_delay_timer')

needs_brctl = pytest.mark.skipif(shutil.which('brctl') is None, reason='bridge-utils (brctl) is not installed')


@pytest.fixture
def netns_b():
    """A second namespace like ``netns``; always deleted."""
    name = 'xh-' + uuid.uuid4().hex[:8]
    sh('ip', 'netns', 'add', name)
    try:
        sh('ip', '-n', name, 'link', 'set', 'lo', 'up')
        yield name
    finally:
        sh('ip', 'netns', 'del', name, check=False)


def add_veths(ns, *names):
    for name in names:
        sh('ip', '-n', ns, 'link', 'add', name, 'type', 'veth', 'peer', 'name', name + 'b')


def links(ns):
    return dict((link['ifname'], link) for link in ip_json(ns, '-details', 'link', 'show'))


def strip(value):
    """ip -json -details without what differs between two equal setups."""
    if isinstance(value, dict):
        return dict((k, strip(v)) for k, v in value.items() if k not in VOLATILE)
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def kernel_state(ns):
    return strip(ip_json(ns, '-details', 'link', 'show'))


def ok(result):
    assert not result.get('failed'), result
    return result


def converge(args, ns):
    """Check mode (nothing changes), the real run, a rerun (changed=false); returns the real run."""
    before = kernel_state(ns)
    check = ok(run_module(MODULE, args, check=True, diff=True))
    assert check['changed'] is True
    assert check['diff']['before'] != check['diff']['after']
    assert kernel_state(ns) == before, 'check mode changed the kernel'
    real = ok(run_module(MODULE, args, diff=True))
    assert real['changed'] is True
    assert (real['commands'], real['diff'], real['bridge']) == (check['commands'], check['diff'], check['bridge'])
    again = ok(run_module(MODULE, args, diff=True))
    assert again['changed'] is False, again['commands']
    assert again['commands'] == []
    return real


def bridge_settings(ns, name):
    data = links(ns)[name]['linkinfo']['info_data']
    return data['stp_state'], data['forward_delay']


def masters(ns, *ports):
    now = links(ns)
    return [now[port].get('master') for port in ports]


@pytest.mark.parametrize('backend', [pytest.param('brctl', marks=needs_brctl), 'ip'])
def test_lifecycle(netns, backend):
    add_veths(netns, 'p0', 'p1')
    args = dict(netns=netns, name='br-xh', backend=backend, ports=['p0'], stp=True, forward_delay=4)
    result = converge(args, netns)
    assert result['backend'] == backend
    if backend == 'brctl':
        assert result['commands'] == ['brctl addbr br-xh', 'brctl setfd br-xh 4', 'brctl stp br-xh on', 'brctl addif br-xh p0']
    else:
        assert result['commands'] == ['ip link add name br-xh type bridge forward_delay 400 stp_state 1', 'ip link set dev p0 master br-xh']
    assert result['bridge'] == dict(name='br-xh', state='present', ports=['p0'], stp=True, forward_delay=4.0)
    assert bridge_settings(netns, 'br-xh') == (1, 400)
    assert masters(netns, 'p0', 'p1') == ['br-xh', None]

    # Not purge: p0 stays when p1 is added.
    converge(dict(args, ports=['p1']), netns)
    assert masters(netns, 'p0', 'p1') == ['br-xh', 'br-xh']

    args.update(ports=['p1'], purge=True, stp=False, forward_delay=2.5)
    result = converge(args, netns)
    assert result['diff']['before'] == dict(name='br-xh', state='present', ports=['p0', 'p1'], stp=True, forward_delay=4.0)
    assert result['diff']['after'] == dict(name='br-xh', state='present', ports=['p1'], stp=False, forward_delay=2.5)
    stp, delay = bridge_settings(netns, 'br-xh')
    assert stp == 0 and abs(delay - 250) <= 1
    assert masters(netns, 'p0', 'p1') == [None, 'br-xh']

    # Up, so brctl must take it down before delbr; the ports stay, without master.
    sh('ip', '-n', netns, 'link', 'set', 'br-xh', 'up')
    result = converge(dict(netns=netns, name='br-xh', backend=backend, state='absent'), netns)
    if backend == 'brctl':
        assert result['commands'] == ['ip link set dev br-xh down', 'brctl delbr br-xh']
    else:
        assert result['commands'] == ['ip link set dev p1 nomaster', 'ip link del dev br-xh']
    now = links(netns)
    assert 'br-xh' not in now
    assert 'p0' in now and 'p1' in now and now['p1'].get('master') is None


@needs_brctl
def test_backends_give_the_same_result(netns, netns_b):
    """The same tasks with brctl in one namespace and ip in another: equal ip -json -details."""
    steps = [
        dict(name='br-xh', ports=['p0', 'p1'], stp=True, forward_delay=3),
        dict(name='br-xh2', ports=['p2']),
        dict(name='br-xh', ports=['p1', 'p2'], purge=True, forward_delay=7.5),
        # exclusive: purge's former name, a deprecated alias that still works.
        dict(name='br-xh2', ports=[], exclusive=True, stp=True, forward_delay=2),
    ]
    for ns in (netns, netns_b):
        add_veths(ns, 'p0', 'p1', 'p2')
    for step in steps:
        ok(run_module(MODULE, dict(step, netns=netns, backend='brctl')))
        ok(run_module(MODULE, dict(step, netns=netns_b, backend='ip')))
        brctl_made, ip_made = kernel_state(netns), kernel_state(netns_b)
        for one, other in zip(brctl_made, ip_made):
            assert one == other, step
        assert len(brctl_made) == len(ip_made)
    assert masters(netns, 'p0', 'p1', 'p2') == [None, 'br-xh', 'br-xh']
    assert bridge_settings(netns, 'br-xh') == (1, 750)


@needs_brctl
def test_brctl_acts_in_the_namespace_only(netns, netns_b):
    """brctl writes STP and delay through sysfs: a same-named bridge elsewhere must not change."""
    sh('ip', '-n', netns_b, 'link', 'add', 'br-xh', 'type', 'bridge')
    elsewhere = bridge_settings(netns_b, 'br-xh')
    converge(dict(netns=netns, name='br-xh', backend='brctl', stp=True, forward_delay=5), netns)
    assert bridge_settings(netns, 'br-xh') == (1, 500)
    assert bridge_settings(netns_b, 'br-xh') == elsewhere == (0, 1500)


def test_pid_target_uses_ip(netns):
    """A process's namespace (a container's) has no sysfs of its own: brctl is refused there."""
    proc = subprocess.Popen(['ip', 'netns', 'exec', netns, 'sleep', '300'])
    try:
        for dummy in range(100):
            if os.stat('/proc/%d/ns/net' % proc.pid).st_ino == os.stat('/run/netns/%s' % netns).st_ino:
                break
            time.sleep(0.05)
        add_veths(netns, 'p0')
        before = kernel_state(netns)
        result = run_module(MODULE, dict(pid=proc.pid, name='br-xh', backend='brctl', ports=['p0']))
        assert result.get('failed') and 'backend brctl cannot act in pid %d' % proc.pid in result['msg'], result
        assert kernel_state(netns) == before
        result = converge(dict(pid=proc.pid, name='br-xh', ports=['p0'], stp=True, forward_delay=2), netns)
        assert result['backend'] == 'ip'
        assert masters(netns, 'p0') == ['br-xh'] and bridge_settings(netns, 'br-xh') == (1, 200)
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize('backend', [pytest.param('brctl', marks=needs_brctl), 'ip'])
@pytest.mark.parametrize('args, message', [
    (dict(name='br-xh', ports=['p0', 'nope0']), "port of bridge br-xh: 'nope0' does not exist"),
    (dict(name='br-xh-too-long-1', ports=['p0']), "bridge name 'br-xh-too-long-1' is not valid: at most 15 characters"),
    (dict(name='br-xh', stp=True, forward_delay=1), 'forward_delay 1.0 of bridge br-xh must be between 2 and 30 seconds while STP is on'),
    (dict(name='br-xh', purge=True), 'purge=true needs ports'),
    (dict(name='p0', ports=['p1']), 'link p0 is a veth, not a bridge'),
])
def test_bad_arguments_change_nothing(netns, backend, args, message):
    add_veths(netns, 'p0', 'p1')
    before = kernel_state(netns)
    result = run_module(MODULE, dict(args, netns=netns, backend=backend))
    assert result.get('failed'), result
    assert message in result['msg']
    assert kernel_state(netns) == before
