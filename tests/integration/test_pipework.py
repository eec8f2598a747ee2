# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""crosshost.network.pipework for real, with namespaces standing in for the host and the container.

Ansible itself runs inside a throwaway "host" namespace (``ip netns exec xh-...``), so the
host side of the module (bridge, veth host end, NIC, DHCP server) never touches the
machine's own namespace; a second namespace (``netns:``) or a process's (``pid:``)
stands in for the container. Each case is one playbook: a snapshot of the kernel state,
the task in check mode (the state must not change), for real, again (changed=false),
and in check mode again. Results are read back with crosshost.network.network_facts.

The role's uplink move (join the host's uplink to the bridge and back, with the
rollback timer) is tested here too, on the helper script and through the role.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import pytest

from conftest import ROOT, ansible_env, ip_json, sh

HELPER = os.path.join(ROOT, 'roles', 'pipework', 'files', 'crosshost-pipework-uplink')


def new_netns():
    name = 'xh-' + uuid.uuid4().hex[:8]
    sh('ip', 'netns', 'add', name)
    sh('ip', '-n', name, 'link', 'set', 'lo', 'up')
    return name


@pytest.fixture
def lab():
    """A host namespace and a container namespace; always deleted."""
    host, guest = new_netns(), new_netns()
    try:
        yield dict(host=host, guest=guest)
    finally:
        for name in (guest, host):
            sh('ip', 'netns', 'del', name, check=False)


def playbook(hostns, tasks, extra=None):
    """Run one play on localhost inside ``hostns``; return the result of each task."""
    play_vars = dict(ansible_python_interpreter='{{ ansible_playbook_python }}')
    play_vars.update(extra or {})
    play = [dict(name='pipework test', hosts='localhost', connection='local', gather_facts=False, tasks=tasks, vars=play_vars)]
    with tempfile.NamedTemporaryFile('w', suffix='.yml', prefix='xh-pipework-', delete=False) as handle:
        json.dump(play, handle)
        path = handle.name
    try:
        cmd = ['ip', 'netns', 'exec', hostns, os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', path]
        proc = subprocess.run(cmd, env=ansible_env(), capture_output=True, text=True, timeout=900, check=False)
    finally:
        os.unlink(path)
    try:
        output = json.loads(proc.stdout)
        return [task['hosts']['localhost'] for task in output['plays'][0]['tasks']]
    except (ValueError, KeyError, IndexError):
        raise AssertionError('ansible-playbook failed (rc=%d):\n%s\n%s' % (proc.returncode, proc.stdout[-5000:], proc.stderr[-5000:]))


def snapshot_task(namespaces):
    """A task printing what a pipework task may change, in the host and the given namespaces."""
    script = []
    for ns in [''] + list(namespaces):
        opt = '-n %s ' % ns if ns else ''
        script.append('ip %s-json -details address show; echo; ip %s-json route show table all; echo' % (opt, opt))
    return {'name': 'snapshot', 'ansible.builtin.command': {'argv': ['sh', '-c', '; '.join(script)]}, 'changed_when': False}


def _kernel_made(entry):
    """IPv6 link-local addresses and the routes the kernel makes for them, whenever it likes.

    They appear some time after a link comes up (addrconf, DAD), so two snapshots of an
    unchanged system can differ by them on a loaded machine; the module never makes them.
    """
    dst = entry.get('dst') or ''
    return entry.get('protocol') == 'kernel' and dst.startswith(('fe80:', 'ff00::/8'))


def normalise(stdout):
    """What a pipework task can change: links, their IPv4/global addresses, routes (not timers, kernel-made IPv6 link-local)."""
    state = []
    for chunk in stdout.split('\n'):
        if not chunk.strip():
            continue
        for entry in json.loads(chunk):
            if 'ifname' in entry:
                addresses = [a for a in entry.get('addr_info', []) if not (a.get('family') == 'inet6' and a.get('scope') == 'link')]
                state.append(('link', entry['ifname'], (entry.get('linkinfo') or {}).get('info_kind'), entry.get('mtu'), entry.get('address'),
                              entry.get('master'), 'UP' in entry.get('flags', []), entry.get('ifalias'),
                              sorted('%s/%s' % (a.get('local'), a.get('prefixlen')) for a in addresses)))
            elif not _kernel_made(entry):
                state.append(('route', entry.get('dst'), entry.get('gateway'), entry.get('dev'), entry.get('protocol'), entry.get('table')))
    return sorted(state, key=repr)


def pipework(args, check=False, diff=True, name='pipework'):
    task = {'name': name, 'crosshost.network.pipework': args, 'ignore_errors': True}
    if check:
        task['check_mode'] = True
    if diff:
        task['diff'] = True
    return task


def facts(netns):
    return {'name': 'facts', 'crosshost.network.network_facts': {'netns': netns, 'gather_subset': ['interfaces', 'routes']}}


def converge(lab, args, extra_ns=()):
    """Snapshot, check mode, snapshot, real, again, check again, facts of the container."""
    namespaces = [lab['guest']] + list(extra_ns)
    results = playbook(lab['host'], [
        snapshot_task(namespaces),
        pipework(args, check=True),
        snapshot_task(namespaces),
        pipework(args),
        pipework(args),
        pipework(args, check=True),
        facts(lab['guest']),
    ])
    before, check, after_check, real, again, check_again, guest = results
    for result in (check, real, again, check_again):
        assert not result.get('failed'), result
    assert check['changed'] is True
    assert normalise(before['stdout']) == normalise(after_check['stdout']), 'check mode changed the kernel'
    assert real['changed'] is True
    assert [c for c in real['commands'] if not c.startswith(('dhcp:', 'ip address add', 'ip route replace 0.0.0.0/0'))] \
        == [c for c in check['commands'] if not c.startswith('dhcp:')] or 'dhcp' in str(args.get('address'))
    assert again['changed'] is False, again['commands']
    assert again['commands'] == []
    assert again['diff']['before'] == again['diff']['after']
    assert check_again['changed'] is False
    return real, guest


def remove(lab, args):
    """state=absent in check mode (nothing changes), for real, again."""
    args = dict(args, state='absent')
    results = playbook(lab['host'], [
        snapshot_task([lab['guest']]),
        pipework(args, check=True),
        snapshot_task([lab['guest']]),
        pipework(args),
        pipework(args),
    ])
    before, check, after_check, real, again = results
    assert check['changed'] is True and not check.get('failed'), check
    assert normalise(before['stdout']) == normalise(after_check['stdout'])
    assert real['changed'] is True and not real.get('failed'), real
    assert again['changed'] is False, again
    return real


def host_links(ns):
    return dict((link['ifname'], link) for link in ip_json(ns, '-details', 'link', 'show'))


def default_routes(guest_facts):
    return [(r['gateway'], r['dev'], r['protocol']) for r in guest_facts['routes'] if r['dst'] == 'default']


# ---- the argument forms of the original ------------------------------------------------------
def test_ip_len_at_gateway_on_a_new_bridge(lab):
    args = dict(netns=lab['guest'], host_interface='br-xh', address='198.18.5.10/24@198.18.5.1')
    real, guest = converge(lab, args)
    host = host_links(lab['host'])
    # pipework br-xh <guest> 198.18.5.10/24@198.18.5.1: bridge made, eth1 with the address,
    # default route via the gateway, the host end on the bridge.
    assert host['br-xh']['linkinfo']['info_kind'] == 'bridge' and 'UP' in host['br-xh']['flags']
    name = real['host_ifname']
    assert len(name) == 15 and name.startswith('vxh')
    assert host[name]['master'] == 'br-xh' and host[name]['ifalias'] == 'crosshost:pipework'
    eth1 = guest['interfaces']['eth1']
    assert eth1['kind'] == 'veth' and eth1['state'] == 'up' and eth1['mtu'] == 1500
    assert [a['cidr'] for a in eth1['addresses'] if a['family'] == 'inet'] == ['198.18.5.10/24']
    assert default_routes(guest) == [('198.18.5.1', 'eth1', 'crosshost')]
    assert real['interface']['addresses'] == ['198.18.5.10/24'] and real['interface']['gateway'] == '198.18.5.1'
    assert real['arping'].startswith('sent'), real['arping']
    remove(lab, args)
    assert 'eth1' not in host_links(lab['guest']) and name not in host_links(lab['host'])
    # The bridge stays.
    assert 'br-xh' in host_links(lab['host'])


def test_gratuitous_arp_reaches_the_lan(lab):
    """The ARP is really sent: a peer on the bridge learns the container's MAC from it alone."""
    host = lab['host']
    sh('ip', '-n', host, 'link', 'add', 'br-xh', 'type', 'bridge')
    sh('ip', '-n', host, 'address', 'add', '198.18.5.1/24', 'dev', 'br-xh')
    sh('ip', '-n', host, 'link', 'set', 'br-xh', 'up')
    # The peer (the host's side of the bridge) takes unsolicited ARP into its cache; it
    # sends nothing to the container itself, so only the gratuitous ARP can put it there.
    sh('ip', 'netns', 'exec', host, 'sysctl', '-q', '-w', 'net.ipv4.conf.br-xh.arp_accept=1')
    results = playbook(host, [pipework(dict(netns=lab['guest'], host_interface='br-xh', address='198.18.5.10/24')),
                              facts(lab['guest'])])
    real, guest = results
    assert real['arping'].startswith('sent'), real
    mac = guest['interfaces']['eth1']['mac']
    neighbours = ip_json(host, 'neigh', 'show', '198.18.5.10', 'dev', 'br-xh')
    assert [n.get('lladdr') for n in neighbours] == [mac], neighbours


def test_forms_ifname_mac_stable_mac_and_no_address(lab):
    sh('ip', '-n', lab['host'], 'link', 'add', 'br-xh', 'mtu', '1400', 'type', 'bridge')
    sh('ip', '-n', lab['host'], 'link', 'set', 'br-xh', 'up')
    guest = lab['guest']
    forms = [
        # pipework br-xh -i eth2 <guest> 198.18.5.11/24 26:2e:71:98:60:8f
        dict(ifname='eth2', address='198.18.5.11/24', mac='26:2e:71:98:60:8f'),
        # pipework br-xh -i eth3 <guest> 198.18.5.12/24 U:web1
        dict(ifname='eth3', address='198.18.5.12/24', mac='U:web1'),
        # pipework br-xh -i eth4 <guest> 0/0
        dict(ifname='eth4', address='0/0'),
    ]
    tasks = [pipework(dict(form, netns=guest, host_interface='br-xh')) for form in forms]
    again = [pipework(dict(form, netns=guest, host_interface='br-xh')) for form in forms]
    results = playbook(lab['host'], tasks + again + [facts(guest)])
    for result in results[:3]:
        assert result['changed'] is True and not result.get('failed'), result
    for result in results[3:6]:
        assert result['changed'] is False, result
    interfaces = results[6]['interfaces']
    assert interfaces['eth2']['mac'] == '26:2e:71:98:60:8f'
    assert interfaces['eth3']['mac'] == '02:66:ee:60:6d:50'  # echo web1 | md5sum: 66ee606d50...
    for name, cidr in (('eth2', '198.18.5.11/24'), ('eth3', '198.18.5.12/24')):
        assert [a['cidr'] for a in interfaces[name]['addresses'] if a['family'] == 'inet'] == [cidr]
    assert [a for a in interfaces['eth4']['addresses'] if a['family'] == 'inet'] == []
    # MTU copied from the bridge; no default route without @gateway.
    assert set(interfaces[n]['mtu'] for n in ('eth2', 'eth3', 'eth4')) == set([1400])
    assert default_routes(results[6]) == []
    # The three host ends have distinct derived names, all on the bridge.
    ends = [link for link in host_links(lab['host']).values() if link.get('ifalias') == 'crosshost:pipework']
    assert sorted(link['master'] for link in ends) == ['br-xh'] * 3


def test_gateway_replaces_the_default_route_and_routes_are_reconciled(lab):
    guest = lab['guest']
    # The container already has a default route (as Docker's bridge mode gives it).
    sh('ip', '-n', guest, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p')
    sh('ip', '-n', guest, 'link', 'set', 'eth0', 'up')
    sh('ip', '-n', guest, 'address', 'add', '100.64.1.2/24', 'dev', 'eth0')
    sh('ip', '-n', guest, 'route', 'add', 'default', 'via', '100.64.1.1')
    args = dict(netns=guest, host_interface='br-xh', address='198.18.5.10/24@198.18.5.1', mtu=1450,
                routes=[dict(dst='198.19.0.0/16', via='198.18.5.254'), dict(dst='198.19.7.7')])
    real, facts_ = converge(lab, args)
    assert default_routes(facts_) == [('198.18.5.1', 'eth1', 'crosshost')]
    ours = sorted((r['dst'], r['gateway'], r['dev']) for r in facts_['routes'] if r['protocol'] == 'crosshost' and r['dst'] != 'default')
    assert ours == [('198.19.0.0/16', '198.18.5.254', 'eth1'), ('198.19.7.7/32', None, 'eth1')]
    assert facts_['interfaces']['eth1']['mtu'] == 1450
    # A new address in the same subnet, one route less: the other routes survive the change.
    args = dict(args, address='198.18.5.20/24@198.18.5.1', routes=[dict(dst='198.19.0.0/16', via='198.18.5.254')])
    real, facts_ = converge(lab, args)
    assert [a['cidr'] for a in facts_['interfaces']['eth1']['addresses'] if a['family'] == 'inet'] == ['198.18.5.20/24']
    assert default_routes(facts_) == [('198.18.5.1', 'eth1', 'crosshost')]
    ours = sorted((r['dst'], r['gateway']) for r in facts_['routes'] if r['protocol'] == 'crosshost' and r['dst'] != 'default')
    assert ours == [('198.19.0.0/16', '198.18.5.254')]
    remove(lab, args)
    # The foreign interface and its address stay; the default route through eth1 is gone with it.
    links = host_links(guest)
    assert 'eth0' in links and 'eth1' not in links


# ---- IPv6: <ipv6>/<len>, @<gateway>, a link-local gateway, -a 6 ------------------------------------
def v6_bridge(host):
    """br-xh in the host namespace with 2001:db8:5::1/64 (usable at once: nodad). Its own MAC address:
    a bridge that takes its first port's changes it, and the kernel flushes its neighbours then."""
    sh('ip', '-n', host, 'link', 'add', 'br-xh', 'address', '02:00:00:00:05:01', 'type', 'bridge')
    sh('ip', '-n', host, 'link', 'set', 'br-xh', 'up')
    sh('ip', '-n', host, 'address', 'add', '2001:db8:5::1/64', 'dev', 'br-xh', 'nodad')


def docker_ipv6_off(ns):
    """As Docker leaves a container without an IPv6 network: IPv6 off, for new interfaces too."""
    sh('ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1')


def v6_addresses(interface):
    return [a['cidr'] for a in interface['addresses'] if a['family'] == 'inet6' and a['scope'] == 'global']


def test_ipv6_forms_on_two_interfaces_keep_each_familys_default_route(lab):
    """pipework br-xh -i eth1 <guest> 198.18.5.10/24@198.18.5.1, then
    pipework br-xh -i eth2 -a 6 <guest> 2001:db8:5::10/64@2001:db8:5::1 (with an IPv6 route via a
    link-local router): the IPv6 default route is replaced, the IPv4 one stays."""
    host, guest = lab['host'], lab['guest']
    v6_bridge(host)
    docker_ipv6_off(guest)
    v4 = dict(netns=guest, host_interface='br-xh', address='198.18.5.10/24@198.18.5.1')
    playbook(host, [pipework(v4)])
    # A default route the container had for IPv6 (as a router advertisement gives it).
    sh('ip', 'netns', 'exec', guest, 'sysctl', '-q', '-w', 'net.ipv6.conf.eth1.disable_ipv6=0')
    sh('ip', '-n', guest, 'route', 'add', 'default', 'via', 'fe80::99', 'dev', 'eth1', 'proto', 'ra')
    v6 = dict(netns=guest, host_interface='br-xh', ifname='eth2', family=6, address='2001:db8:5::10/64@2001:db8:5::1',
              routes=[dict(dst='2001:db8:9::/64', via='fe80::1')])
    real, facts_ = converge(lab, v6)
    eth2 = facts_['interfaces']['eth2']
    assert v6_addresses(eth2) == ['2001:db8:5::10/64']
    assert [a['cidr'] for a in eth2['addresses'] if a['family'] == 'inet'] == []
    defaults = sorted((r['family'], r['gateway'], r['dev'], r['protocol']) for r in facts_['routes'] if r['dst'] == 'default')
    assert defaults == [('inet', '198.18.5.1', 'eth1', 'crosshost'), ('inet6', '2001:db8:5::1', 'eth2', 'crosshost')]
    ours = [(r['dst'], r['gateway'], r['dev']) for r in facts_['routes'] if r['protocol'] == 'crosshost' and r['dst'] != 'default']
    assert ours == [('2001:db8:9::/64', 'fe80::1', 'eth2')]
    assert real['interface']['addresses'] == ['2001:db8:5::10/64'] and real['interface']['gateway'] == '2001:db8:5::1'
    assert real['persist']['addresses'] == ['2001:db8:5::10/64'] and real['persist']['gateway'] == '2001:db8:5::1'
    # Usable at once (no DAD): not tentative, and the gateway answers right after the task.
    info = [a for a in ip_json(guest, 'address', 'show', 'dev', 'eth2')[0]['addr_info'] if a.get('scope') == 'global']
    assert not info[0].get('tentative') and info[0].get('nodad'), info
    sh('ip', 'netns', 'exec', guest, 'busybox', 'ping', '-c', '1', '-W', '2', '2001:db8:5::1')
    remove(lab, v6)
    assert 'eth2' not in host_links(guest)


def test_ipv6_link_local_gateway_and_a_new_address(lab):
    host, guest = lab['host'], lab['guest']
    v6_bridge(host)
    sh('ip', '-n', host, 'address', 'add', 'fe80::1/64', 'dev', 'br-xh', 'nodad')
    args = dict(netns=guest, host_interface='br-xh', address='2001:db8:5::20/64@fe80::1')
    real, facts_ = converge(lab, args)
    assert default_routes(facts_) == [('fe80::1', 'eth1', 'crosshost')]
    assert real['arping'].startswith('sent (unsolicited neighbour advertisement'), real['arping']
    sh('ip', 'netns', 'exec', guest, 'busybox', 'ping', '-c', '1', '-W', '2', '2001:db8:5::1')
    # Another address: the old one goes, the default route is there again.
    args = dict(args, address='2001:db8:5::21/64@fe80::1')
    real, facts_ = converge(lab, args)
    assert v6_addresses(facts_['interfaces']['eth1']) == ['2001:db8:5::21/64']
    assert default_routes(facts_) == [('fe80::1', 'eth1', 'crosshost')]


def test_unsolicited_neighbour_advertisement_updates_the_lan(lab):
    """IPv6's gratuitous ARP: a peer that still has the address with an old MAC address (a container
    re-created) learns the new one from the kernel's unsolicited NA alone (ndisc_notify)."""
    host, guest = lab['host'], lab['guest']
    v6_bridge(host)
    sh('ip', '-n', host, 'neigh', 'add', '2001:db8:5::10', 'lladdr', '02:00:00:00:00:01', 'dev', 'br-xh', 'nud', 'stale')
    real, facts_ = playbook(host, [pipework(dict(netns=guest, host_interface='br-xh', address='2001:db8:5::10/64')), facts(guest)])
    assert real['changed'] and real['arping'].startswith('sent'), real
    mac = facts_['interfaces']['eth1']['mac']
    deadline = time.time() + 5
    while True:
        neighbours = ip_json(host, 'neigh', 'show', '2001:db8:5::10', 'dev', 'br-xh')
        if [n.get('lladdr') for n in neighbours] == [mac] or time.time() > deadline:
            break
        time.sleep(0.1)
    assert [n.get('lladdr') for n in neighbours] == [mac], neighbours


def test_macvlan_on_a_nic_and_back_to_a_bridge(lab):
    host, guest = lab['host'], lab['guest']
    sh('ip', '-n', host, 'link', 'add', 'nic0', 'mtu', '1500', 'type', 'veth', 'peer', 'name', 'nic0p')
    sh('ip', '-n', host, 'link', 'set', 'nic0p', 'up')
    args = dict(netns=guest, host_interface='nic0', address='198.18.6.10/24', mac='U:mv')
    real, facts_ = converge(lab, args)
    assert real['mode'] == 'macvlan' and real['host_ifname'] is None
    eth1 = facts_['interfaces']['eth1']
    assert eth1['kind'] == 'macvlan' and eth1['details']['mode'] == 'bridge' and eth1['mac'] == pw_mac('mv')
    assert 'UP' in host_links(host)['nic0']['flags']
    # Same interface name on a bridge now: re-created as a veth.
    args = dict(args, host_interface='br-xh')
    real, facts_ = converge(lab, args)
    assert real['mode'] == 'bridge' and facts_['interfaces']['eth1']['kind'] == 'veth'
    remove(lab, args)


def pw_mac(text):
    import hashlib
    digest = hashlib.md5((text + '\n').encode()).hexdigest()
    return '02:' + ':'.join(digest[i:i + 2] for i in range(0, 10, 2))


def test_a_restarted_target_gets_the_same_host_name_back(lab):
    """The container's namespace dies and a new one comes (a restart): a re-run restores the interface."""
    host = lab['host']
    args = dict(netns=lab['guest'], host_interface='br-xh', address='198.18.5.10/24')
    first = playbook(host, [pipework(args)])[0]
    assert first['changed'] and not first.get('failed'), first
    name = first['host_ifname']
    # "Restart": a fresh namespace under the same name (the old one took the pair with it).
    sh('ip', 'netns', 'del', lab['guest'])
    sh('ip', 'netns', 'add', lab['guest'])
    for dummy in range(20):
        if name not in host_links(host):
            break
        time.sleep(0.1)
    assert name not in host_links(host)
    second, third = playbook(host, [pipework(args), pipework(args)])
    assert second['changed'] and second['host_ifname'] == name, second
    assert third['changed'] is False


def test_pid_target(lab):
    holder = subprocess.Popen(['ip', 'netns', 'exec', lab['guest'], 'sleep', '600'])
    try:
        time.sleep(0.5)
        args = dict(pid=holder.pid, host_interface='br-xh', address='198.18.5.10/24@198.18.5.1')
        results = playbook(lab['host'], [pipework(args), pipework(args), pipework(dict(args, state='absent'))])
        assert results[0]['changed'] and not results[0].get('failed'), results[0]
        assert results[0]['target'] == 'pid %d' % holder.pid
        assert any(c.startswith('nsenter -t %d -n ip ' % holder.pid) for c in results[0]['commands'])
        assert results[1]['changed'] is False
        assert results[2]['changed'] is True
        assert 'eth1' not in host_links(lab['guest'])
    finally:
        holder.terminate()
        holder.wait()


# ---- DHCP ----------------------------------------------------------------------------------
@contextlib.contextmanager
def udhcpd(host, lease=600, extra=''):
    """busybox udhcpd on br-xh (198.18.5.1/24) in namespace ``host``; yields dict(leases, busybox)."""
    sh('ip', '-n', host, 'link', 'add', 'br-xh', 'type', 'bridge')
    sh('ip', '-n', host, 'link', 'set', 'br-xh', 'up')
    sh('ip', '-n', host, 'address', 'add', '198.18.5.1/24', 'dev', 'br-xh')
    busybox = sh('sh', '-c', 'command -v busybox || true').strip()
    assert busybox, 'busybox (udhcpd) is required'
    workdir = tempfile.mkdtemp(prefix='xh-udhcpd-')
    conf = os.path.join(workdir, 'udhcpd.conf')
    with open(conf, 'w') as handle:
        handle.write('start 198.18.5.100\nend 198.18.5.150\ninterface br-xh\nlease_file %s/leases\npidfile %s/pid\n%s'
                     'option subnet 255.255.255.0\noption router 198.18.5.1\noption lease %d\n' % (workdir, workdir, extra, lease))
    open(os.path.join(workdir, 'leases'), 'w').close()
    server = subprocess.Popen(['ip', 'netns', 'exec', host, busybox, 'udhcpd', '-f', conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        yield dict(leases=os.path.join(workdir, 'leases'), busybox=busybox)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait()
        sh('rm', '-rf', workdir)


@pytest.fixture
def dhcp_server(lab):
    """busybox udhcpd on br-xh (198.18.5.1/24) in the host namespace."""
    with udhcpd(lab['host']) as server:
        yield server


def test_dhcp(lab, dhcp_server):
    args = dict(netns=lab['guest'], host_interface='br-xh', address='dhcp', routes=[dict(dst='198.19.0.0/16', via='198.18.5.254')])
    real, facts_ = converge(lab, args)
    assert real['dhcp']['router'] == '198.18.5.1'
    leased = real['dhcp']['address']
    assert leased.startswith('198.18.5.') and leased.endswith('/24')
    assert real['interface']['addresses'] == [leased]
    assert [a['cidr'] for a in facts_['interfaces']['eth1']['addresses'] if a['family'] == 'inet'] == [leased]
    assert default_routes(facts_) == [('198.18.5.1', 'eth1', 'crosshost')]
    remove(lab, args)


# ---- bad input: clear error, nothing changed -----------------------------------------------------
@pytest.mark.parametrize('args, message', [
    (dict(host_interface='br-xh', address='198.18.5.10'), 'the IP address should include a prefix length'),
    (dict(host_interface='lan9', address='198.18.5.10/24'), 'only created as a bridge when it begins with br'),
    (dict(host_interface='br-xh', create_bridge=False, address='198.18.5.10/24'), 'does not exist'),
    (dict(host_interface='br-xh', address='198.18.5.10/24@198.18.6.1'), 'is not in 198.18.5.0/24'),
    (dict(host_interface='br-xh', address='198.18.5.10/24', mac='26:2e:71:98:60:8f@7'), 'VLAN'),
    (dict(host_interface='br-xh', address='198.18.5.10/24', ifname='eth0'), 'that pipework did not make'),
    (dict(host_interface='br-xh', address='2001:db8:5::10/64@2001:db8:6::1'), 'is not in 2001:db8:5::/64'),
    (dict(host_interface='br-xh', address='2001:db8:5::10/64', family=4), 'is IPv6 but family is 4'),
])
def test_bad_input_changes_nothing(lab, args, message):
    sh('ip', '-n', lab['guest'], 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p')
    results = playbook(lab['host'], [snapshot_task([lab['guest']]), pipework(dict(args, netns=lab['guest'])), snapshot_task([lab['guest']])])
    assert results[1].get('failed') and message in results[1]['msg'], results[1]
    assert normalise(results[0]['stdout']) == normalise(results[2]['stdout'])


def test_missing_target(lab):
    results = playbook(lab['host'], [
        pipework(dict(netns='xh-missing-0', host_interface='br-xh', address='198.18.5.10/24')),
        pipework(dict(netns='xh-missing-0', state='absent')),
    ])
    assert results[0].get('failed') and 'does not exist' in results[0]['msg']
    assert results[1]['changed'] is False and not results[1].get('failed')


# ---- the role's uplink move ------------------------------------------------------------------------
@pytest.fixture
def uplink(lab):
    """The host namespace gets an uplink up0 (198.18.7.2/24, default via .1) to a LAN namespace."""
    host, lan = lab['host'], new_netns()
    sh('ip', '-n', host, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'lan0', 'netns', lan)
    sh('ip', '-n', host, 'link', 'set', 'up0', 'up')
    sh('ip', '-n', lan, 'link', 'set', 'lan0', 'up')
    sh('ip', '-n', lan, 'address', 'add', '198.18.7.1/24', 'dev', 'lan0')
    sh('ip', '-n', host, 'address', 'add', '198.18.7.2/24', 'dev', 'up0')
    sh('ip', '-n', host, 'route', 'add', 'default', 'via', '198.18.7.1')
    sh('ip', '-n', host, 'route', 'add', '198.19.9.0/24', 'via', '198.18.7.1', 'metric', '50')
    try:
        yield lan
    finally:
        sh('ip', 'netns', 'del', lan, check=False)


def l3_state(ns):
    addrs = sorted((a['ifname'], i['local'], i['prefixlen']) for a in ip_json(ns, 'address', 'show') for i in a.get('addr_info', [])
                   if i['family'] == 'inet')
    routes = sorted((r.get('dst'), r.get('gateway'), r.get('dev'), r.get('metric', 0)) for r in ip_json(ns, 'route', 'show'))
    return addrs, routes


def l3_state6(ns):
    """The global IPv6 addresses and the IPv6 routes of the namespace (not the kernel's link-local ones)."""
    addrs = sorted((a['ifname'], i['local'], i['prefixlen']) for a in ip_json(ns, 'address', 'show') for i in a.get('addr_info', [])
                   if i['family'] == 'inet6' and i.get('scope') == 'global')
    routes = sorted((r.get('dst'), r.get('gateway'), r.get('dev'), r.get('metric', 0)) for r in ip_json(ns, '-6', 'route', 'show')
                    if not _kernel_made(r))
    return addrs, routes


def run_helper(ns, *args, env=None):
    full = dict(os.environ, **(env or {}))
    return subprocess.run(['ip', 'netns', 'exec', ns, 'sh', HELPER] + list(args), capture_output=True, text=True, env=full, check=False)


def test_helper_rolls_back_when_not_disarmed(lab, uplink):
    host = lab['host']
    rundir = tempfile.mkdtemp(prefix='xh-pwrun-')
    env = dict(CROSSHOST_PIPEWORK_RUN_DIR=rundir)
    join = os.path.join(rundir, 'join.batch')
    rollback = os.path.join(rundir, 'rollback.batch')
    with open(join, 'w') as handle:
        handle.write('link add name br-up address %s type bridge\nlink set dev br-up up\nlink set dev up0 master br-up\n'
                     'address del 198.18.7.2/24 dev up0\naddress add 198.18.7.2/24 brd + dev br-up\n'
                     'route replace 0.0.0.0/0 via 198.18.7.1 dev br-up\n' % host_links(host)['up0']['address'])
    with open(rollback, 'w') as handle:
        handle.write('link set dev up0 nomaster\naddress del 198.18.7.2/24 dev br-up\naddress add 198.18.7.2/24 brd + dev up0\n'
                     'route replace 0.0.0.0/0 via 198.18.7.1 dev up0\nlink del dev br-up\n')
    try:
        original = l3_state(host)
        # Disarmed in time: the change stays.
        assert run_helper(host, 'arm', '30', rollback, env=env).returncode == 0
        assert run_helper(host, 'status', env=env).stdout.strip() == 'armed'
        applied = run_helper(host, 'apply', join, rollback, env=env)
        assert applied.returncode == 0, applied.stderr
        assert run_helper(host, 'disarm', env=env).stdout.strip() == 'disarmed'
        assert run_helper(host, 'status', env=env).stdout.strip() == 'not armed'
        joined = l3_state(host)
        assert ('br-up', '198.18.7.2', 24) in joined[0]
        # Not disarmed (the controller lost the host): the timer rolls back by itself.
        sh('ip', 'netns', 'exec', host, 'ip', '-batch', rollback)
        assert l3_state(host)[0] == original[0]
        assert run_helper(host, 'arm', '2', rollback, env=env).returncode == 0
        assert run_helper(host, 'apply', join, rollback, env=env).returncode == 0
        assert ('br-up', '198.18.7.2', 24) in l3_state(host)[0]
        for dummy in range(40):
            time.sleep(0.25)
            if run_helper(host, 'status', env=env).stdout.strip() == 'not armed':
                break
        time.sleep(0.5)
        assert l3_state(host)[0] == original[0]
        assert 'br-up' not in host_links(host)
        # A batch that fails half-way is rolled back at once.
        with open(join, 'a') as handle:
            handle.write('route add 198.19.99.0/24 via 203.0.113.1\n')
        assert run_helper(host, 'arm', '30', rollback, env=env).returncode == 0
        failed = run_helper(host, 'apply', join, rollback, env=env)
        assert failed.returncode != 0 and 'rolled back' in failed.stderr
        assert l3_state(host)[0] == original[0]
        assert run_helper(host, 'status', env=env).stdout.strip() == 'not armed'
    finally:
        run_helper(host, 'disarm', env=env)
        sh('rm', '-rf', rundir)


def role_play(lab, state, attachments, uplink_name='up0', check=False):
    tasks = [{'name': 'role', 'ansible.builtin.include_role': {'name': 'crosshost.network.pipework'}}]
    if check:
        tasks[0]['check_mode'] = True
    extra = dict(pipework_state=state, pipework_bridge='br-pw', pipework_uplink=uplink_name, pipework_attachments=attachments,
                 pipework_rollback_seconds=30, pipework_config_dir='/tmp/%s-cfg' % lab['host'], pipework_run_dir='/tmp/%s-run' % lab['host'],
                 pipework_helper='/tmp/%s-helper' % lab['host'])
    tasks.append(facts(lab['guest']))
    tasks.append({'name': 'host facts', 'crosshost.network.network_facts': {'gather_subset': ['interfaces', 'routes']}})
    results = playbook(lab['host'], tasks, extra)
    failed = [r for r in results if r.get('failed')]
    assert not failed and 'interfaces' in results[-1], [(r.get('msg'), r.get('stderr')) for r in failed] or results[-1]
    return results


def test_role_joins_the_uplink_and_gives_it_back(lab, uplink):
    """A dual-stack uplink: its IPv4 and IPv6 addresses and routes move to the bridge and back; the
    container is on the LAN by both families, one interface each (pipework -i eth2 -a 6 ...)."""
    host, guest, lan = lab['host'], lab['guest'], uplink
    sh('ip', '-n', lan, 'address', 'add', '2001:db8:7::1/64', 'dev', 'lan0', 'nodad')
    sh('ip', '-n', host, 'address', 'add', '2001:db8:7::2/64', 'dev', 'up0', 'nodad')
    sh('ip', '-n', host, 'route', 'add', 'default', 'via', '2001:db8:7::1', 'dev', 'up0')
    attachments = [dict(netns=guest, address='198.18.7.20/24@198.18.7.1', mac='U:guest'),
                   dict(netns=guest, ifname='eth2', family=6, address='2001:db8:7::20/64@2001:db8:7::1')]
    original, original6 = l3_state(host), l3_state6(host)
    try:
        results = role_play(lab, 'present', attachments)
        host_facts = results[-1]
        assert host_facts['interfaces']['up0']['master'] == 'br-pw'
        assert host_facts['interfaces']['br-pw']['mac'] == host_facts['interfaces']['up0']['mac']
        addrs, routes = l3_state(host)
        assert ('br-pw', '198.18.7.2', 24) in addrs and not [a for a in addrs if a[0] == 'up0']
        assert (None, '198.18.7.1', 'br-pw', 0) in [(r[0] if r[0] != 'default' else None,) + r[1:] for r in routes]
        assert ('198.19.9.0/24', '198.18.7.1', 'br-pw', 50) in routes
        addrs, routes = l3_state6(host)
        assert ('br-pw', '2001:db8:7::2', 64) in addrs and not [a for a in addrs if a[0] == 'up0']
        assert ('default', '2001:db8:7::1', 'br-pw', 1024) in routes
        guest_facts = results[-2]
        assert [a['cidr'] for a in guest_facts['interfaces']['eth1']['addresses'] if a['family'] == 'inet'] == ['198.18.7.20/24']
        # Each gateway replaced its own family's default route.
        defaults = sorted((r['family'], r['gateway'], r['dev']) for r in guest_facts['routes'] if r['dst'] == 'default')
        assert defaults == [('inet', '198.18.7.1', 'eth1'), ('inet6', '2001:db8:7::1', 'eth2')]
        # The container reaches the LAN by both families through the bridge and the uplink.
        sh('ip', 'netns', 'exec', guest, 'busybox', 'ping', '-c', '1', '-W', '2', '198.18.7.1')
        sh('ip', 'netns', 'exec', guest, 'busybox', 'ping', '-c', '1', '-W', '2', '2001:db8:7::1')
        # Idempotent.
        again = role_play(lab, 'present', attachments)
        assert not [r for r in again if r.get('changed')], [r.get('task', r) for r in again if r.get('changed')]
        # What the join moved is recorded beside the batches.
        with open('/tmp/%s-cfg/uplink.json' % host) as handle:
            record = json.load(handle)
        assert sorted(a['cidr'] for a in record['addresses']) == ['198.18.7.2/24', '2001:db8:7::2/64']
        assert sorted((r['dst'], r['gateway'], r['metric']) for r in record['routes']) == [
            ('0.0.0.0/0', '198.18.7.1', 0), ('198.19.9.0/24', '198.18.7.1', 50), ('::/0', '2001:db8:7::1', 1024)]
        # As Docker 20.10's start on the bridge does: the host's IPv6 address is deleted from it (its
        # prefix route goes with it). The next run gives it back, the one after changes nothing.
        sh('ip', '-n', host, 'address', 'del', '2001:db8:7::2/64', 'dev', 'br-pw')
        sh('ip', '-n', host, '-6', 'route', 'del', 'default', 'dev', 'br-pw')
        restored = role_play(lab, 'present', attachments)
        assert [r.get('stdout_lines') for r in restored if r.get('changed')] == [
            ['address add 2001:db8:7::2/64 dev br-pw nodad',
             'route replace ::/0 via 2001:db8:7::1 dev br-pw table main proto boot metric 1024']]
        addrs, routes = l3_state6(host)
        assert ('br-pw', '2001:db8:7::2', 64) in addrs and ('default', '2001:db8:7::1', 'br-pw', 1024) in routes
        sh('ip', 'netns', 'exec', host, 'busybox', 'ping', '-c', '1', '-W', '2', '2001:db8:7::1')
        again = role_play(lab, 'present', attachments)
        assert not [r for r in again if r.get('changed')], [r.get('task', r) for r in again if r.get('changed')]
        # Teardown, the IPv6 address deleted again just before: the uplink gets all its addresses and
        # routes back, the bridge goes.
        sh('ip', '-n', host, 'address', 'del', '2001:db8:7::2/64', 'dev', 'br-pw')
        role_play(lab, 'absent', attachments)
        assert l3_state(host) == original and l3_state6(host) == original6
        assert 'br-pw' not in host_links(host) and 'eth1' not in host_links(guest) and 'eth2' not in host_links(guest)
    finally:
        sh('rm', '-rf', '/tmp/%s-cfg' % host, '/tmp/%s-run' % host, '/tmp/%s-helper' % host)


# ---- the role's inventory check (controller side, before any host changes) -------------------------
@pytest.mark.parametrize('node2, messages', [
    (dict(pipework_attachments=[dict(container='b', address='198.18.2.101/24')]),
     ['LAN address 198.18.2.101 is declared more than once', 'host node1 attachment a (198.18.2.101/24@198.18.2.1)',
      'host node2 attachment b (198.18.2.101/24)']),
    (dict(pipework_attachments=[dict(container='b', address='198.18.2.102')]),
     ['host node2 attachment b: address 198.18.2.102 - the IP address should include a prefix length']),
    # Another host's inventory (not in this play) counts too.
    (dict(pipework_attachments=[dict(container='c', address='198.18.2.101/16'), dict(container='d', dhcp=True)]),
     ['LAN address 198.18.2.101 is declared more than once']),
    # IPv6: one address however it is written; each bad form named with its host, attachment and value.
    (dict(pipework_attachments=[dict(container='e', address='2001:db8:2::101/64@2001:db8:2::1', family=6),
                                dict(container='f', ifname='eth2', address='2001:DB8:2:0::0101/64'),
                                dict(container='g', address='2001:db8:2::102/64@198.18.2.1'),
                                dict(container='h', address='2001:db8:2::1::2/64'),
                                dict(container='i', address='198.18.2.103/24', family=6),
                                dict(container='j', dhcp=True, family=6),
                                dict(container='k', address='2001:db8:2::104/129'),
                                dict(container='l', address='2001:db8:2::105')]),
     ['LAN address 2001:db8:2::101 is declared more than once: host node2 attachment e (2001:db8:2::101/64@2001:db8:2::1), '
      'host node2 attachment f (2001:DB8:2:0::0101/64)',
      'host node2 attachment g: address 2001:db8:2::102/64@198.18.2.1 - the gateway 198.18.2.1 is IPv4 but the address is IPv6',
      'host node2 attachment h: address 2001:db8:2::1::2/64 - 2001:db8:2::1::2 is not an IPv6 address',
      'host node2 attachment i: address 198.18.2.103/24 is IPv4 but family is 6',
      'host node2 attachment j: family 6 with DHCP - the DHCP clients are IPv4 only',
      'host node2 attachment k: address 2001:db8:2::104/129 - prefix length 129 is out of range (1..128)',
      'host node2 attachment l: address 2001:db8:2::105 - the IP address should include a prefix length (e.g. 2001:db8:2::105/64)']),
])
def test_role_checks_the_whole_inventory(node2, messages):
    inventory = dict(all=dict(hosts=dict(
        node1=dict(ansible_connection='local', pipework_attachments=[dict(container='a', address='198.18.2.101/24@198.18.2.1')]),
        node2=dict(node2, ansible_connection='local'))))
    play = [dict(name='check', hosts='node1' if 'c' in str(node2) else 'all', gather_facts=False,
                 vars=dict(ansible_python_interpreter='{{ ansible_playbook_python }}'),
                 tasks=[{'name': 'role', 'ansible.builtin.include_role': {'name': 'crosshost.network.pipework'}},
                        {'name': 'never reached', 'ansible.builtin.command': {'argv': ['false']}}])]
    workdir = tempfile.mkdtemp(prefix='xh-pwinv-')
    try:
        with open(os.path.join(workdir, 'hosts.yml'), 'w') as handle:
            json.dump(inventory, handle)
        with open(os.path.join(workdir, 'play.yml'), 'w') as handle:
            json.dump(play, handle)
        cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', os.path.join(workdir, 'hosts.yml'),
               os.path.join(workdir, 'play.yml')]
        proc = subprocess.run(cmd, env=ansible_env(), capture_output=True, text=True, timeout=300, check=False)
    finally:
        sh('rm', '-rf', workdir)
    assert proc.returncode != 0
    output = json.loads(proc.stdout)
    tasks = output['plays'][0]['tasks']
    assert 'never reached' not in [task['task']['name'] for task in tasks]
    failed = [result for task in tasks for result in task['hosts'].values() if result.get('failed')]
    assert failed, tasks
    for message in messages:
        assert message in failed[0]['msg'], failed[0]['msg']
