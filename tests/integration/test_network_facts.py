# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""network_facts for real: a namespace with a bridge, veth ports, a vxlan and routes; a PID;
and Docker containers in the four network modes (bridge, host, container:<peer>, none).

Docker tests build a tiny image from busybox-static (no registry) and skip only when no
Docker engine answers ``docker info``. Everything is named xh-... / xhtest-... and removed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import json
import os
import shutil
import subprocess
import tarfile
import uuid

import pytest

from conftest import ip_json, run_module, sh

FACTS_KEY = 'crosshost_network_facts'
PREFIX = 'xhtest-facts-'


def facts_of(result):
    """The facts of a successful run; also checks that nothing changed and the two copies agree."""
    assert not result.get('failed'), result.get('msg', result)
    assert result['changed'] is False
    assert result['commands'] == []
    facts = result['ansible_facts'][FACTS_KEY]
    for key, value in facts.items():
        assert result[key] == value
    return facts


def kernel_view(netns):
    """What the module must never change, as the test reads it (links, addresses, routes)."""
    links = [(l['ifname'], l.get('master'), l['mtu'], l.get('address'), 'UP' in l['flags']) for l in ip_json(netns, 'link', 'show')]
    addrs = sorted((a['ifname'], x['local'], x['prefixlen']) for a in ip_json(netns, 'address', 'show') for x in a.get('addr_info', []))
    routes = [json.dumps(r, sort_keys=True) for fam in ('-4', '-6') for r in ip_json(netns, fam, 'route', 'show', 'table', 'all')]
    return links, addrs, sorted(routes)


def new_netns():
    name = 'xh-' + uuid.uuid4().hex[:8]
    sh('ip', 'netns', 'add', name)
    return name


def build_lab(ns, peer_ns):
    """bridge + veth ports + vxlan + macvlan + addresses + routes + neighbour + fdb inside ns."""
    def ip(*argv):
        sh('ip', '-n', ns, *argv)

    # No DAD: link-local addresses would otherwise change flags between two reads.
    sh('ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0')
    ip('link', 'add', 'xh-br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '400')
    ip('link', 'add', 'xh-br1', 'type', 'bridge', 'stp_state', '1')
    ip('link', 'add', 'xh-v0a', 'type', 'veth', 'peer', 'name', 'xh-v0b')
    ip('link', 'set', 'xh-v0a', 'master', 'xh-br0')
    ip('link', 'add', 'xh-vx0', 'mtu', '1450', 'type', 'vxlan', 'id', '42', 'local', '198.18.0.1', 'dstport', '4789', 'nolearning')
    ip('link', 'set', 'xh-vx0', 'master', 'xh-br0')
    ip('link', 'add', 'xh-mv0', 'link', 'xh-v0b', 'type', 'macvlan', 'mode', 'bridge')
    # A veth whose peer lives in another namespace.
    ip('link', 'add', 'xh-p0', 'type', 'veth', 'peer', 'name', 'xh-p1', 'netns', peer_ns)
    for dev in ('xh-br0', 'xh-br1', 'xh-v0a', 'xh-v0b', 'xh-vx0', 'xh-mv0', 'xh-p0'):
        ip('link', 'set', dev, 'up')
    ip('address', 'add', '100.64.1.1/24', 'dev', 'xh-br0')
    ip('address', 'add', '2001:db8:1::1/64', 'dev', 'xh-br0', 'nodad')
    ip('address', 'add', '198.18.0.1/24', 'dev', 'xh-v0b')
    ip('address', 'add', '100.64.5.1/24', 'dev', 'xh-mv0')
    ip('route', 'add', '100.64.2.0/24', 'via', '100.64.1.2', 'proto', '147', 'metric', '10')
    ip('route', 'add', 'default', 'via', '198.18.0.254')
    ip('route', 'add', '100.64.3.7', 'dev', 'xh-v0b')
    ip('-6', 'route', 'add', '2001:db8:2::/64', 'via', '2001:db8:1::2')
    ip('neigh', 'add', '100.64.1.9', 'lladdr', '02:00:00:00:00:09', 'dev', 'xh-br0', 'nud', 'permanent')
    sh('ip', 'netns', 'exec', ns, 'bridge', 'fdb', 'append', '00:00:00:00:00:00', 'dev', 'xh-vx0', 'dst', '198.18.0.2')


@pytest.fixture
def lab(netns):
    peer = new_netns()
    try:
        build_lab(netns, peer)
        yield netns, peer
    finally:
        sh('ip', 'netns', 'del', peer, check=False)


def _stable(facts):
    """The parts of the facts that traffic cannot change between two reads (no learned FDB/neighbours)."""
    interfaces = dict((name, dict((k, v) for k, v in i.items() if k not in ('port', 'operstate', 'flags', 'carrier')))
                      for name, i in facts['interfaces'].items())
    return dict(namespace=facts['namespace'], interfaces=interfaces, routes=facts['routes'],
                bridges=dict((n, dict(b, port_states=None)) for n, b in facts['bridges'].items()))


def test_netns_facts_match_the_kernel(lab):
    ns, peer_ns = lab
    before = kernel_view(ns)
    check = facts_of(run_module('network_facts', dict(netns=ns), check=True, diff=True))
    assert kernel_view(ns) == before
    first = facts_of(run_module('network_facts', dict(netns=ns)))
    second = facts_of(run_module('network_facts', dict(netns=ns), diff=True))
    assert kernel_view(ns) == before
    assert _stable(check) == _stable(first) == _stable(second)
    facts = first

    # namespace
    namespace = facts['namespace']
    assert namespace['target'] == 'netns %s' % ns and namespace['netns'] == ns
    assert namespace['inode'] == os.stat('/run/netns/%s' % ns).st_ino
    assert namespace['shares_host_namespace'] is False and namespace['network_mode'] is None and namespace['container'] is None

    # interfaces: the same set, indexes, MTUs, MACs and masters as ip -json shows
    links = dict((l['ifname'], l) for l in ip_json(ns, '-details', 'link', 'show'))
    interfaces = facts['interfaces']
    assert sorted(interfaces) == sorted(links)
    for name, link in links.items():
        fact = interfaces[name]
        assert (fact['index'], fact['mtu'], fact['mac'], fact['master']) == \
            (link['ifindex'], link['mtu'], link.get('address'), link.get('master')), name
        assert fact['state'] == 'up'
    kinds = dict((name, i['kind']) for name, i in interfaces.items())
    assert kinds == {'lo': 'loopback', 'xh-br0': 'bridge', 'xh-br1': 'bridge', 'xh-v0a': 'veth', 'xh-v0b': 'veth',
                     'xh-vx0': 'vxlan', 'xh-mv0': 'macvlan', 'xh-p0': 'veth'}
    assert interfaces['xh-v0a']['link'] == 'xh-v0b' and interfaces['xh-v0b']['link'] == 'xh-v0a'
    assert interfaces['xh-mv0']['link'] == 'xh-v0b' and interfaces['xh-mv0']['details']['mode'] == 'bridge'
    vx = interfaces['xh-vx0']
    assert (vx['details']['id'], vx['details']['local'], vx['details']['port'], vx['mtu']) == (42, '198.18.0.1', 4789, 1450)
    assert vx['master'] == 'xh-br0' and vx['master_kind'] == 'bridge' and vx['port']['state'] == 'forwarding'
    # The peer of xh-p0 is in another namespace: index and netns id instead of a name.
    peer_index = ip_json(peer_ns, 'link', 'show', 'xh-p1')[0]['ifindex']
    assert interfaces['xh-p0']['link'] is None and interfaces['xh-p0']['link_index'] == peer_index
    assert isinstance(interfaces['xh-p0']['link_netnsid'], int)

    # addresses
    cidrs = dict((name, sorted(a['cidr'] for a in i['addresses'] if a['scope'] != 'link')) for name, i in interfaces.items())
    assert cidrs['xh-br0'] == ['100.64.1.1/24', '2001:db8:1::1/64']
    assert cidrs['xh-v0b'] == ['198.18.0.1/24'] and cidrs['xh-mv0'] == ['100.64.5.1/24'] and cidrs['lo'] == ['127.0.0.1/8', '::1/128']
    br_v4 = [a for a in interfaces['xh-br0']['addresses'] if a['family'] == 'inet'][0]
    assert (br_v4['address'], br_v4['prefixlen'], br_v4['network']) == ('100.64.1.1', 24, '100.64.1.0/24')
    assert all(a['family'] == 'inet6' for a in interfaces['xh-br0']['addresses'] if ':' in a['address'])

    # bridges (what brctl show tells)
    assert facts['bridges']['xh-br0']['ports'] == ['xh-v0a', 'xh-vx0']
    assert facts['bridges']['xh-br0']['stp'] is False and facts['bridges']['xh-br0']['forward_delay'] == 4
    assert facts['bridges']['xh-br1'] == dict(facts['bridges']['xh-br1'], ports=[], port_states={}, stp=True)
    brctl = sh('ip', 'netns', 'exec', ns, 'brctl', 'show')
    assert 'xh-br1' in brctl and 'yes' in brctl

    # routes: the same destinations as ip -json, IPv4 and IPv6, main table
    routes = facts['routes']
    want = [(r['dst'] if r['dst'] == 'default' or '/' in r['dst'] else r['dst'] + ('/128' if ':' in r['dst'] else '/32'), r.get('dev'))
            for fam in ('-4', '-6') for r in ip_json(ns, fam, 'route', 'show', 'table', 'main')]
    assert [(r['dst'], r['dev']) for r in routes] == want
    by_dst = dict((r['dst'], r) for r in routes)
    assert by_dst['default']['gateway'] == '198.18.0.254' and by_dst['default']['dev'] == 'xh-v0b'
    ours = by_dst['100.64.2.0/24']
    assert (ours['gateway'], ours['metric'], ours['protocol'], ours['ours'], ours['family']) == ('100.64.1.2', 10, 'crosshost', True, 'inet')
    assert by_dst['100.64.1.0/24']['protocol'] == 'kernel' and by_dst['100.64.1.0/24']['scope'] == 'link'
    assert by_dst['100.64.3.7/32']['dev'] == 'xh-v0b'
    v6 = by_dst['2001:db8:2::/64']
    assert (v6['family'], v6['gateway'], v6['metric']) == ('inet6', '2001:db8:1::2', 1024)
    assert all(r['table'] == 'main' for r in routes)

    # neighbours and fdb
    neighbour = [n for n in facts['neighbours'] if n['dst'] == '100.64.1.9']
    assert neighbour and neighbour[0]['lladdr'] == '02:00:00:00:00:09' and neighbour[0]['state'] == ['PERMANENT']
    assert dict(mac='00:00:00:00:00:00', dev='xh-vx0', master=None, vlan=None, dst='198.18.0.2', state='permanent', flags=['self']) in facts['fdb']
    assert any(e['dev'] == 'xh-v0a' and e['master'] == 'xh-br0' for e in facts['fdb'])


def test_netns_gather_subset_and_table(lab):
    ns = lab[0]
    facts = facts_of(run_module('network_facts', dict(netns=ns, gather_subset=['bridges'])))
    assert sorted(facts) == ['bridges', 'namespace']
    facts = facts_of(run_module('network_facts', dict(netns=ns, gather_subset=['!interfaces', '!addresses', '!bridges'], table='all')))
    assert sorted(facts) == ['fdb', 'namespace', 'neighbours', 'routes']
    tables = set(r['table'] for r in facts['routes'])
    assert tables == set(['main', 'local'])
    local = [r for r in facts['routes'] if r['dst'] == '100.64.1.1/32' and r['table'] == 'local']
    assert local and local[0]['type'] == 'local'


def test_ipv6_addresses_and_routes_the_plan_needs(netns):
    """The addresses part with the IPv6 flags, read once, feeds the plan: the underlay address is the
    first stable global one, and an IPv6 route that overlaps the cluster's IPv6 network is refused."""
    def ip(*argv):
        sh('ip', '-n', netns, *argv)

    sh('ip', 'netns', 'exec', netns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0')
    ip('link', 'add', 'xh-u0', 'type', 'veth', 'peer', 'name', 'xh-u1')
    ip('link', 'set', 'xh-u0', 'up')
    ip('link', 'set', 'xh-u1', 'up')
    ip('address', 'add', '198.18.63.11/24', 'dev', 'xh-u0')
    ip('address', 'add', '2001:db8:63::99/64', 'dev', 'xh-u0', 'nodad', 'preferred_lft', '0')  # deprecated
    ip('address', 'add', '2001:db8:63::11/64', 'dev', 'xh-u0', 'nodad')
    ip('-6', 'route', 'add', '2001:db8:163:5::/64', 'via', '2001:db8:63::1', 'dev', 'xh-u0')
    before = kernel_view(netns)
    result = run_module('network_facts', dict(netns=netns, gather_subset=['addresses', 'routes'], table='all'))
    facts = facts_of(result)
    assert kernel_view(netns) == before
    assert sorted(facts) == ['addresses', 'namespace', 'routes']
    mine = [a for a in facts['addresses'] if a['interface'] == 'xh-u0']
    # The kernel's order (newest IPv6 address first), each with its interface, scope and flags.
    assert [(a['cidr'], a['family'], a['scope']) for a in mine] == [
        ('198.18.63.11/24', 'inet', 'global'), ('2001:db8:63::11/64', 'inet6', 'global'),
        ('2001:db8:63::99/64', 'inet6', 'global'), (mine[3]['cidr'], 'inet6', 'link')]
    assert 'deprecated' in mine[2]['flags'] and 'deprecated' not in mine[1]['flags']
    addresses = [(a['interface'], a['cidr']) for a in facts['addresses']]
    assert sorted(addresses) == sorted((name, x['local'] + '/' + str(x['prefixlen']))
                                       for link in ip_json(netns, 'address', 'show') for x in link.get('addr_info', []) for name in [link['ifname']])

    # What the preflight role hands the plan: the setup facts (IPv4 here) plus this probe.
    from ansible_collections.crosshost.network.plugins.filter.plan import cluster_plan, host_interfaces
    ansible_facts = {'interfaces': ['xh-u0'], 'xh_u0': {'device': 'xh-u0', 'mtu': 1500, 'ipv4': {'address': '198.18.63.11', 'prefix': '24'}},
                     FACTS_KEY: facts}
    data = dict(network='', network_v6='2001:db8:163::/48', interfaces=host_interfaces(ansible_facts), routes=facts['routes'],
                default_ipv4={'address': '198.18.63.11', 'interface': 'xh-u0'}, default_ipv6={})
    with pytest.raises(Exception) as err:
        cluster_plan({'h1': data})
    assert 'host h1: route 2001:db8:163:5::/64 dev xh-u0 (proto boot, table main) overlaps crosshost_network_v6 2001:db8:163::/48' in str(err.value)
    entry = cluster_plan({'h1': dict(data, network_v6='2001:db8:164::/48')})['plan']['h1']
    assert (entry['underlay_ip'], entry['underlay_interface'], entry['underlay_ip6'], entry['subnet_v6']) == \
        ('198.18.63.11', 'xh-u0', '2001:db8:63::11', '2001:db8:164:1::/64')


def test_pid_reads_the_process_namespace(lab):
    ns = lab[0]
    proc = subprocess.Popen(['ip', 'netns', 'exec', ns, 'sleep', '300'])
    try:
        facts = facts_of(run_module('network_facts', dict(pid=proc.pid, gather_subset=['interfaces', 'routes'])))
        by_name = facts_of(run_module('network_facts', dict(netns=ns, gather_subset=['interfaces', 'routes'])))
    finally:
        proc.kill()
        proc.wait()
    namespace = facts['namespace']
    assert namespace['target'] == 'pid %d' % proc.pid and namespace['pid'] == proc.pid and namespace['netns'] is None
    assert namespace['inode'] == os.stat('/run/netns/%s' % ns).st_ino == by_name['namespace']['inode']
    assert namespace['shares_host_namespace'] is False
    assert sorted(facts['interfaces']) == sorted(by_name['interfaces'])
    assert facts['routes'] == by_name['routes']


def test_host_target_is_the_host_namespace():
    facts = facts_of(run_module('network_facts', dict(gather_subset=['bridges'])))
    assert facts['namespace'] == dict(target='host', netns=None, pid=None, inode=os.stat('/proc/self/ns/net').st_ino,
                                      shares_host_namespace=True, network_mode=None, container=None)


def test_nothing_gathered_sets_no_facts_and_returns_the_note():
    """The preflight role with facts already there (preflight_gather_facts false): only its note, and the facts stay."""
    note = dict(crosshost_backend='pipework', pipework_docker_bridge=False, pipework_attachments=[dict(address='dhcp')])
    result = run_module('network_facts', dict(gather_subset=['!all'], note=note))
    assert not result.get('failed') and result['changed'] is False and result['commands'] == []
    assert result['ansible_facts'] == {}
    assert result['note'] == note
    assert result['namespace']['target'] == 'host'
    assert not set(result) & set(['interfaces', 'addresses', 'bridges', 'routes', 'neighbours', 'fdb'])


@pytest.mark.parametrize('args, message', [
    (dict(netns='xh-nonexistent0'), "'xh-nonexistent0' does not exist"),
    (dict(pid=999999999), 'process 999999999 does not exist'),
    (dict(netns='xh-a', pid=1), 'mutually exclusive'),
    (dict(gather_subset=['interfaces', 'links']), "gather_subset 'links' is not valid"),
    (dict(table='main; ip link del x'), "table 'main; ip link del x' is not valid"),
])
def test_bad_arguments_fail_clearly(args, message):
    result = run_module('network_facts', args)
    assert result.get('failed') and message in result['msg'], result


# ---- Docker: the four network modes -----------------------------------------------------

def docker(*argv, check=True):
    return subprocess.run(['docker'] + [str(a) for a in argv], capture_output=True, text=True, check=check, timeout=120)


def _busybox_tar():
    """A rootfs holding only a static busybox, as a tar stream for docker import."""
    busybox = None
    for path in ('/bin/busybox', '/usr/bin/busybox', shutil.which('busybox') or ''):
        if path and os.path.isfile(path):
            busybox = path
            break
    if not busybox:
        return None
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode='w') as tar:
        for name in ('bin', 'tmp'):
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        tar.add(busybox, arcname='bin/busybox')
        for applet in ('sh', 'sleep'):
            info = tarfile.TarInfo('bin/' + applet)
            info.type, info.linkname = tarfile.SYMTYPE, 'busybox'
            tar.addfile(info)
    return data.getvalue()


@pytest.fixture(scope='session')
def docker_image():
    """xhtest-busybox:facts-<random>, imported from a local rootfs; removed at the end."""
    if os.geteuid() != 0:
        pytest.skip('integration tests need root')
    if not shutil.which('docker') or docker('info', check=False).returncode != 0:
        pytest.skip('no Docker engine answers `docker info`')
    tag = 'xhtest-busybox:facts-' + uuid.uuid4().hex[:8]
    rootfs = _busybox_tar()
    if rootfs is None:
        pytest.fail('busybox-static is needed to build the test image (apt-get install busybox-static)')
    subprocess.run(['docker', 'import', '-', tag], input=rootfs, capture_output=True, check=True, timeout=120)
    try:
        yield tag
    finally:
        docker('rmi', '-f', tag, check=False)


MODES = dict(bridge=[], host=['--net=host'], container=['--net=container:%sbridge' % PREFIX], none=['--net=none'])


@pytest.fixture(scope='module')
def containers(docker_image):
    """xhtest-facts-<mode> for the four modes (+ a created, never started one); always removed."""
    names = [PREFIX + mode for mode in MODES] + [PREFIX + 'stopped']
    docker('rm', '-f', *names, check=False)  # left over from an interrupted run
    try:
        ids = {}
        for mode, options in MODES.items():  # bridge first: container mode joins it
            out = docker('run', '-d', '--name', PREFIX + mode, *(options + [docker_image, '/bin/busybox', 'sleep', '3600'])).stdout
            ids[mode] = out.strip()
        ids['stopped'] = docker('create', '--name', PREFIX + 'stopped', docker_image, '/bin/busybox', 'sleep', '1').stdout.strip()
        yield ids
    finally:
        docker('rm', '-f', *names, check=False)


def inspect(name):
    return json.loads(docker('inspect', '--type', 'container', name).stdout)[0]


def test_docker_bridge_mode(containers):
    name = PREFIX + 'bridge'
    check = facts_of(run_module('network_facts', dict(container=name), check=True))
    facts = facts_of(run_module('network_facts', dict(container=name)))
    data = inspect(name)
    namespace = facts['namespace']
    assert namespace['network_mode'] == 'bridge' and namespace['shares_host_namespace'] is False
    assert namespace['target'] == 'container ' + name and namespace['pid'] == data['State']['Pid']
    assert namespace['inode'] == os.stat('/proc/%d/ns/net' % data['State']['Pid']).st_ino
    assert namespace['container'] == dict(id=containers['bridge'], name=name, pid=data['State']['Pid'], network_mode='bridge',
                                          networks=['bridge'], peer=None)
    assert check['namespace'] == namespace and check['interfaces'].keys() == facts['interfaces'].keys()

    assert sorted(facts['interfaces']) == ['eth0', 'lo']
    eth0 = facts['interfaces']['eth0']
    address = data['NetworkSettings']['Networks']['bridge']['IPAddress']
    prefixlen = data['NetworkSettings']['Networks']['bridge']['IPPrefixLen']
    assert eth0['kind'] == 'veth' and eth0['state'] == 'up' and eth0['link_netnsid'] is not None and eth0['link_index']
    assert eth0['mac'] == data['NetworkSettings']['Networks']['bridge']['MacAddress']
    assert '%s/%s' % (address, prefixlen) in [a['cidr'] for a in eth0['addresses'] if a['family'] == 'inet']
    default = [r for r in facts['routes'] if r['dst'] == 'default' and r['family'] == 'inet']
    assert default and default[0]['dev'] == 'eth0'
    assert default[0]['gateway'] == data['NetworkSettings']['Networks']['bridge']['Gateway']
    assert facts['bridges'] == {}


def test_docker_host_mode(containers):
    name = PREFIX + 'host'
    before = set(l['ifname'] for l in json.loads(sh('ip', '-json', 'link', 'show')))
    facts = facts_of(run_module('network_facts', dict(container=name, gather_subset=['interfaces'])))
    after = set(l['ifname'] for l in json.loads(sh('ip', '-json', 'link', 'show')))
    namespace = facts['namespace']
    assert namespace['network_mode'] == 'host' and namespace['shares_host_namespace'] is True
    assert namespace['container']['networks'] == ['host'] and namespace['container']['peer'] is None
    assert namespace['inode'] == os.stat('/proc/self/ns/net').st_ino
    # The host's interfaces (other tests may add or remove some meanwhile).
    assert before & after <= set(facts['interfaces'])


def test_docker_container_mode_shares_the_peer_namespace(containers):
    peer = facts_of(run_module('network_facts', dict(container=PREFIX + 'bridge', gather_subset=['interfaces'])))
    facts = facts_of(run_module('network_facts', dict(container=PREFIX + 'container', gather_subset=['interfaces'])))
    namespace = facts['namespace']
    assert namespace['network_mode'] == 'container' and namespace['shares_host_namespace'] is False
    assert namespace['container']['peer'] == dict(id=containers['bridge'], name=PREFIX + 'bridge')
    assert namespace['container']['id'] == containers['container']
    assert namespace['inode'] == peer['namespace']['inode']
    assert namespace['pid'] != peer['namespace']['pid']
    assert facts['interfaces'] == peer['interfaces']


def test_docker_none_mode_has_only_lo(containers):
    facts = facts_of(run_module('network_facts', dict(container=containers['none'])))  # by ID
    namespace = facts['namespace']
    assert namespace['network_mode'] == 'none' and namespace['shares_host_namespace'] is False
    assert namespace['target'] == 'container ' + PREFIX + 'none'
    assert list(facts['interfaces']) == ['lo']
    assert all(r['dev'] in ('lo', None) for r in facts['routes'])
    assert not [r for r in facts['routes'] if r['dst'] == 'default']
    assert facts['bridges'] == {} and facts['fdb'] == [] and facts['neighbours'] == []


@pytest.mark.parametrize('ref, message', [
    (PREFIX + 'nosuch', "Docker container '%snosuch' not found" % PREFIX),
    (PREFIX + 'stopped', "Docker container '%sstopped' is not running (status created)" % PREFIX),
])
def test_docker_unknown_or_stopped_container_fails_clearly(containers, ref, message):
    result = run_module('network_facts', dict(container=ref))
    assert result.get('failed') and message in result['msg'], result
