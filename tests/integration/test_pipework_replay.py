# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pipework role's replay service (roles/pipework/files/crosshost-pipework-replay) for real,
in throwaway namespaces: what the module applied (its ``persist`` result), replayed after the
interface is gone, is exactly what the module wants (a rerun changes nothing); a DHCP
attachment's udhcpc (with the role's lease hook) keeps renewing short leases, the address's
lifetime follows the lease, and ``release`` gives the lease back. The Docker event loop
runs on the lab (molecule/pipework).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.machinery
import importlib.util
import json
import os
import re
import subprocess
import fcntl
import tempfile
import threading
import time

import pytest

from conftest import ROOT, ip_json, sh
import test_pipework
from test_pipework import pipework, playbook, udhcpd

lab = test_pipework.lab  # the fixture: a host and a container namespace

FILES = os.path.join(ROOT, 'roles', 'pipework', 'files')
REPLAY = os.path.join(FILES, 'crosshost-pipework-replay')
# busybox udhcpc renews after max(lease, 16 s) / 2, so 8 s in: a 16 s lease leaves 8 s for a
# renewal that a loaded machine delays (with 10 s, 2 s were too little under load).
LEASE = 16


def replay_module(run_dir):
    os.environ['CROSSHOST_PIPEWORK_RUN_DIR'] = run_dir
    loader = importlib.machinery.SourceFileLoader('crosshost_pipework_replay', REPLAY)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def run_replay(hostns, run_dir, *argv):
    """The script, run in the host namespace as the service would run it."""
    env = dict(os.environ, CROSSHOST_PIPEWORK_RUN_DIR=run_dir)
    return subprocess.run(['ip', 'netns', 'exec', hostns, 'python3', REPLAY] + list(argv), env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def attach_in(hostns, run_dir, spec):
    """replay.attach() in the host namespace; True when it created the attachment."""
    code = ('import importlib.machinery, importlib.util, json, sys\n'
            'loader = importlib.machinery.SourceFileLoader("r", %r)\n'
            'spec = importlib.util.spec_from_loader("r", loader)\n'
            'm = importlib.util.module_from_spec(spec); loader.exec_module(m)\n'
            'print(json.dumps(m.attach("k", json.loads(sys.argv[1]), m.find_target(json.loads(sys.argv[1])))))\n' % REPLAY)
    env = dict(os.environ, CROSSHOST_PIPEWORK_RUN_DIR=run_dir)
    proc = subprocess.run(['ip', 'netns', 'exec', hostns, 'python3', '-c', code, json.dumps(spec)], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture
def run_dir():
    path = tempfile.mkdtemp(prefix='xh-replay-')
    yield path
    sh('rm', '-rf', path)


@pytest.mark.parametrize('args', [
    dict(address='198.18.5.21/24@198.18.5.1', mac='U:xh-replay', routes=[dict(dst='198.19.0.0/16', via='198.18.5.254')]),
    dict(address='198.18.5.22/24', mtu=1400),
    # pipework br-xh -a 6 <guest> 2001:db8:5::21/64@2001:db8:5::1, with an IPv6 route via a link-local router
    dict(address='2001:db8:5::21/64@2001:db8:5::1', family=6, routes=[dict(dst='2001:db8:9::/64', via='fe80::9')]),
])
def test_replay_recreates_what_the_module_applied(lab, run_dir, args):
    args = dict(args, netns=lab['guest'], host_interface='br-xh')
    if ':' in args['address']:
        test_pipework.docker_ipv6_off(lab['guest'])
    first = playbook(lab['host'], [pipework(args)])[0]
    assert first['changed'] and not first.get('failed'), first
    spec = first['persist']
    assert spec['netns'] == lab['guest'] and spec['mode'] == 'bridge' and spec['dhcp'] is False
    assert spec['addresses'] == [args['address'].split('@')[0]]
    before = ip_json(lab['guest'], '-details', 'address', 'show', 'dev', 'eth1')[0]

    # The container restarted: its interface (and so the pair) is gone.
    sh('ip', '-n', lab['guest'], 'link', 'del', 'eth1')
    assert attach_in(lab['host'], run_dir, spec) is True
    assert attach_in(lab['host'], run_dir, spec) is False  # there already: left alone
    after = ip_json(lab['guest'], '-details', 'address', 'show', 'dev', 'eth1')[0]
    assert after['address'] == before['address'] and after['mtu'] == before['mtu'] and after['ifalias'] == 'crosshost:pipework'
    if ':' in args['address']:
        # IPv6 as the module adds it: usable at once (no DAD), and advertised (ndisc_notify).
        v6 = [a for a in after['addr_info'] if a.get('scope') == 'global']
        assert len(v6) == 1 and v6[0].get('nodad') and not v6[0].get('tentative'), v6
        notify = sh('ip', 'netns', 'exec', lab['guest'], 'sysctl', '-n', 'net.ipv6.conf.eth1.ndisc_notify')
        assert notify.strip() == '1'
    host_end = ip_json(lab['host'], '-details', 'link', 'show', 'dev', spec['host_ifname'])[0]
    assert host_end['master'] == 'br-xh' and host_end['ifalias'] == 'crosshost:pipework'

    again = playbook(lab['host'], [pipework(args)])[0]
    assert again['changed'] is False, again['commands']
    assert again['persist'] == spec


def test_replay_and_module_take_turns(lab, run_dir):
    """Just after a container starts, the replay service and a run of the module both find its
    interface missing: whoever takes the lock first creates it, the other finds it there."""
    args = dict(netns=lab['guest'], host_interface='br-xh', address='198.18.5.23/24', mac='U:xh-turns')
    spec = playbook(lab['host'], [pipework(args)])[0]['persist']
    sh('ip', '-n', lab['guest'], 'link', 'del', 'eth1')
    results = {}
    replay = replay_module(run_dir)
    with open(replay.ATTACH_LOCK, 'a') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # both start while it is held, then race for it
        workers = [threading.Thread(target=lambda: results.update(replay=attach_in(lab['host'], run_dir, spec))),
                   threading.Thread(target=lambda: results.update(module=playbook(lab['host'], [pipework(args)])[0]))]
        for worker in workers:
            worker.start()
        time.sleep(4)  # long enough for ansible-playbook to reach the module
        assert not ip_exists(lab['guest'], 'eth1')  # neither went ahead
    for worker in workers:
        worker.join(120)
    module = results['module']
    assert not module.get('failed'), module
    assert results['replay'] is not module['changed'], results  # exactly one of them created it
    shown = sh('ip', '-n', lab['guest'], '-4', '-o', 'address', 'show', 'dev', 'eth1')
    assert ' 198.18.5.23/24 ' in shown, shown
    assert playbook(lab['host'], [pipework(args)])[0]['changed'] is False


def ip_exists(netns, ifname):
    return subprocess.run(['ip', '-n', netns, 'link', 'show', 'dev', ifname], capture_output=True, check=False).returncode == 0


@pytest.fixture
def short_leases(lab):
    """busybox udhcpd with LEASE-second leases on br-xh (198.18.5.1/24) in the host namespace."""
    with udhcpd(lab['host'], lease=LEASE, extra='auto_time 1\nmin_lease 1\n') as server:
        yield server


def dumpleases(server, *flags):
    """The server's leases. udhcpd rewrites its file every second (auto_time 1), and a read
    that meets the file missing or half-written fails: such a read is made again."""
    argv = [server['busybox'], 'dumpleases', '-f', server['leases']] + list(flags)
    deadline = time.monotonic() + 2
    while True:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        if proc.returncode == 0:
            return proc.stdout
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    raise AssertionError('%s: rc=%d %s' % (' '.join(argv), proc.returncode, proc.stderr))


def test_dhcp_client_renews_short_leases_and_releases(lab, run_dir, short_leases):
    args = dict(netns=lab['guest'], host_interface='br-xh', address='dhcp', mac='U:xh-dhcp')
    first = playbook(lab['host'], [pipework(args)])[0]
    assert first['changed'] and not first.get('failed'), first
    spec = first['persist']
    assert spec['dhcp'] is True and spec['addresses'] == []
    leased = first['dhcp']['address']

    replay = replay_module(run_dir)
    clients = replay.Clients()
    clients.start('xh-dhcp', spec, replay.find_target(spec))
    try:
        renewals = set()
        deadline = time.time() + 3 * LEASE + 1
        # Two renewals seen (three states of the server's expiry), the address never lost.
        while len(renewals) < 3 and time.time() < deadline:
            time.sleep(0.5)
            shown = sh('ip', '-n', lab['guest'], '-4', '-o', 'address', 'show', 'dev', 'eth1')
            assert leased + ' ' in shown, shown  # never lost
            lifetime = re.search(r'valid_lft (\d+)sec', shown)
            assert lifetime and int(lifetime.group(1)) <= LEASE, shown
            renewals.add(dumpleases(short_leases, '-a'))
        # The server's expiry moved on with every renewal.
        assert len(renewals) >= 3, renewals
        with open(os.path.join(run_dir, 'dhcp-xh-dhcp.lease')) as handle:
            record = handle.read()
        assert leased in record and 'lease=%d' % LEASE in record
        routes = ip_json(lab['guest'], '-4', 'route', 'show', 'default')
        assert [(r['gateway'], r['dev']) for r in routes] == [('198.18.5.1', 'eth1')]

        # A rerun while the lease is alive changes nothing.
        again = playbook(lab['host'], [pipework(args)])[0]
        assert again['changed'] is False, again['commands']

        released = run_replay(lab['host'], run_dir, 'release', 'xh-dhcp')
        assert released.stdout.strip() == 'released', released
        time.sleep(1.5)
        assert 'expired' in dumpleases(short_leases, '-r')
    finally:
        clients.stop('xh-dhcp')
    assert not os.path.exists(os.path.join(run_dir, 'dhcp-xh-dhcp.pid'))


def test_boot_records_the_join_and_bridge_restores_what_docker_deleted(lab, run_dir):
    """`boot` joins a dual-stack uplink to the bridge and records what it moved; Docker 20.10's
    start on that bridge deletes the host's IPv6 address (its bridge driver); `bridge` puts back
    what is missing, `--check` only prints it, a second `bridge` has nothing to do."""
    host = lab['host']
    lan = test_pipework.new_netns()
    try:
        sh('ip', '-n', host, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'lan0', 'netns', lan)
        for ns, dev in ((host, 'up0'), (lan, 'lan0')):
            sh('ip', '-n', ns, 'link', 'set', dev, 'up')
        sh('ip', '-n', lan, 'address', 'add', '2001:db8:8::1/64', 'dev', 'lan0', 'nodad')
        sh('ip', '-n', host, 'address', 'add', '198.18.8.2/24', 'dev', 'up0')
        sh('ip', '-n', host, 'address', 'add', '2001:db8:8::2/64', 'dev', 'up0', 'nodad')
        sh('ip', '-n', host, 'route', 'add', 'default', 'via', '198.18.8.1')
        sh('ip', '-n', host, 'route', 'add', 'default', 'via', '2001:db8:8::1', 'dev', 'up0')
        bridge_file = os.path.join(run_dir, 'bridge.json')
        with open(bridge_file, 'w') as handle:
            json.dump(dict(bridge='br-boot', uplink='up0', forward_accept=False), handle)
        env = dict(CROSSHOST_PIPEWORK_BRIDGE=bridge_file, CROSSHOST_PIPEWORK_BOOT_WAIT='5')

        def replay(*argv):
            return run_env(host, run_dir, env, *argv)

        def state6():
            addrs = [(i['local'], i['prefixlen']) for a in ip_json(host, 'address', 'show', 'dev', 'br-boot')
                     for i in a.get('addr_info', []) if i['family'] == 'inet6' and i.get('scope') == 'global']
            routes = [(r['dst'], r.get('gateway')) for r in ip_json(host, '-6', 'route', 'show', 'dev', 'br-boot')
                      if r.get('protocol') != 'kernel']
            return addrs, routes

        booted = replay('boot')
        assert booted.returncode == 0, booted.stdout + booted.stderr
        assert ip_json(host, 'link', 'show', 'dev', 'up0')[0]['master'] == 'br-boot'
        joined = state6()
        assert joined == ([('2001:db8:8::2', 64)], [('default', '2001:db8:8::1')]), joined
        with open(os.path.join(run_dir, 'uplink.json')) as handle:
            record = json.load(handle)
        assert sorted(a['cidr'] for a in record['addresses']) == ['198.18.8.2/24', '2001:db8:8::2/64']
        assert sorted((r['dst'], r['gateway']) for r in record['routes']) == [('0.0.0.0/0', '198.18.8.1'), ('::/0', '2001:db8:8::1')]
        assert replay('bridge').stdout == ''  # nothing missing

        # What Docker's start does to the bridge (the IPv6 default route went too, to restore it as well).
        sh('ip', '-n', host, 'address', 'del', '2001:db8:8::2/64', 'dev', 'br-boot')
        sh('ip', '-n', host, '-6', 'route', 'del', 'default', 'dev', 'br-boot')
        lines = ['address add 2001:db8:8::2/64 dev br-boot nodad',
                 'route replace ::/0 via 2001:db8:8::1 dev br-boot table main proto boot metric 1024']
        checked = replay('bridge', '--check')
        assert checked.returncode == 0 and checked.stdout.splitlines() == lines, checked
        assert state6() == ([], [])
        restored = replay('bridge')
        assert restored.returncode == 0 and restored.stdout.splitlines() == lines, restored
        assert state6() == joined
        sh('ip', 'netns', 'exec', host, 'busybox', 'ping', '-c', '1', '-W', '2', '2001:db8:8::1')
        assert replay('bridge').stdout == ''

        # The uplink no longer a port of the bridge (a rollback gave it its addresses): nothing to restore.
        sh('ip', '-n', host, 'link', 'set', 'dev', 'up0', 'nomaster')
        sh('ip', '-n', host, 'address', 'del', '2001:db8:8::2/64', 'dev', 'br-boot')
        assert replay('bridge', '--check').stdout == ''
    finally:
        sh('ip', 'netns', 'del', lan, check=False)


def run_env(hostns, run_dir, extra, *argv):
    env = dict(os.environ, CROSSHOST_PIPEWORK_RUN_DIR=run_dir, **extra)
    return subprocess.run(['ip', 'netns', 'exec', hostns, 'python3', REPLAY] + list(argv), env=env,
                          capture_output=True, text=True, timeout=90, check=False)
