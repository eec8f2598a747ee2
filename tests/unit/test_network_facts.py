# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""network_facts: parsing of ``ip -json`` / ``bridge -json`` samples and target description.

The samples are trimmed real outputs (iproute2 6.1, Debian 12) of a namespace with a
bridge, a veth pair, a vxlan port, a blackhole / multipath / RFC 5549 route, and of
a Docker bridge-mode container.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.crosshost.network.plugins.module_utils import _container
from ansible_collections.crosshost.network.plugins.module_utils._iproute import InvalidValue
from ansible_collections.crosshost.network.plugins.modules import network_facts as nf

LINKS = json.loads('''[
 {"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"operstate":"UNKNOWN",
  "link_type":"loopback","address":"00:00:00:00:00:00",
  "addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo"},
               {"family":"inet6","local":"::1","prefixlen":128,"scope":"host"}]},
 {"ifindex":2,"ifname":"xh-br0","flags":["NO-CARRIER","BROADCAST","MULTICAST","UP"],"mtu":1500,"operstate":"DOWN",
  "link_type":"ether","address":"36:a9:84:77:ea:ff",
  "linkinfo":{"info_kind":"bridge","info_data":{"forward_delay":400,"hello_time":200,"max_age":2000,"ageing_time":30000,
   "stp_state":1,"priority":32768,"vlan_filtering":0,"bridge_id":"8000.36:a9:84:77:ea:ff","hello_timer":1.97,"gc_timer":0.07}},
  "addr_info":[{"family":"inet","local":"100.64.1.1","prefixlen":24,"broadcast":"100.64.1.255","scope":"global","label":"xh-br0"},
               {"family":"inet6","local":"2001:db8:1::1","prefixlen":64,"scope":"global","nodad":true}]},
 {"ifindex":3,"link":"xh-v0a","ifname":"xh-v0b","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,
  "operstate":"UP","link_type":"ether","address":"96:03:00:ae:8a:d7","linkinfo":{"info_kind":"veth"},
  "addr_info":[{"family":"inet","local":"198.18.0.1","prefixlen":24,"scope":"global","label":"xh-v0b"}]},
 {"ifindex":4,"link":"xh-v0b","ifname":"xh-v0a","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,
  "master":"xh-br0","operstate":"UP","link_type":"ether","address":"d2:15:01:c9:80:4a",
  "linkinfo":{"info_kind":"veth","info_slave_kind":"bridge",
   "info_slave_data":{"state":"forwarding","priority":32,"cost":2,"learning":true,"forward_delay_timer":3.97}},
  "addr_info":[{"family":"inet6","local":"fe80::d015:1ff:fec9:804a","prefixlen":64,"scope":"link","tentative":true}]},
 {"ifindex":5,"ifname":"xh-vx0","flags":["BROADCAST","MULTICAST"],"mtu":1450,"master":"xh-br0","operstate":"DOWN",
  "link_type":"ether","address":"36:a9:84:77:ea:ff",
  "linkinfo":{"info_kind":"vxlan","info_data":{"id":42,"local":"198.18.0.1","link":"xh-v0b","port":4789,"learning":false},
   "info_slave_kind":"bridge","info_slave_data":{"state":"disabled","cost":100}},
  "addr_info":[]},
 {"ifindex":6,"link_index":7,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"operstate":"UP",
  "link_type":"ether","address":"02:42:ac:11:00:02","link_netnsid":0,"linkinfo":{"info_kind":"veth"},
  "addr_info":[{"family":"inet","local":"172.17.0.2","prefixlen":16,"broadcast":"172.17.255.255","scope":"global","label":"eth0"}]},
 {"ifindex":8,"ifname":"tun0","flags":["POINTOPOINT","NOARP"],"mtu":1500,"operstate":"DOWN","link_type":"none",
  "linkinfo":{"info_kind":"tun"},
  "addr_info":[{"family":"inet","local":"100.64.9.1","address":"100.64.9.2","prefixlen":32,"scope":"global","label":"tun0"}]}
]''')

ROUTES4 = json.loads('''[
 {"dst":"default","gateway":"198.18.0.254","dev":"xh-v0b","flags":[]},
 {"dst":"100.64.1.0/24","dev":"xh-br0","protocol":"kernel","scope":"link","prefsrc":"100.64.1.1","flags":["linkdown"]},
 {"dst":"100.64.2.0/24","gateway":"100.64.1.2","dev":"xh-br0","protocol":"147","metric":10,"flags":["linkdown"]},
 {"dst":"100.64.3.0/24","gateway":"100.64.1.3","dev":"xh-br0","protocol":"crosshost","flags":["onlink"]},
 {"type":"blackhole","dst":"100.64.7.0/24","flags":[]},
 {"dst":"100.64.8.0/24","via":{"family":"inet6","host":"fe80::1"},"dev":"xh-v0b","flags":[]},
 {"dst":"100.64.9.0/24","flags":[],"nexthops":[{"gateway":"100.64.1.2","dev":"xh-br0","weight":1,"flags":[]},
                                               {"gateway":"198.18.0.9","dev":"xh-v0b","weight":2,"flags":[]}]},
 {"dst":"100.64.10.5","dev":"xh-v0b","scope":"link","flags":[]}
]''')

ROUTES6 = json.loads('''[
 {"dst":"2001:db8:1::/64","dev":"xh-br0","protocol":"kernel","metric":256,"flags":["linkdown"],"pref":"medium"},
 {"dst":"2001:db8:2::/64","gateway":"2001:db8:1::2","dev":"xh-br0","metric":1024,"flags":["linkdown"],"pref":"medium"},
 {"type":"local","dst":"::1","dev":"lo","table":"local","protocol":"kernel","metric":0,"flags":[],"pref":"medium"}
]''')

NEIGHBOURS = json.loads('''[
 {"dst":"100.64.1.10","dev":"xh-br0","lladdr":"02:00:00:00:00:10","router":null,"state":["PERMANENT"],"protocol":"147"},
 {"dst":"100.64.1.9","dev":"xh-br0","lladdr":"02:00:00:00:00:09","state":["PERMANENT"]},
 {"dst":"198.18.0.2","dev":"xh-v0b","state":["INCOMPLETE"]},
 {"dst":"2001:db8:1::9","dev":"xh-br0","lladdr":"02:00:00:00:00:09","state":["STALE"]}
]''')

FDB = json.loads('''[
 {"mac":"33:33:00:00:00:01","ifname":"xh-br0","flags":["self"],"state":"permanent"},
 {"mac":"96:03:00:ae:8a:d7","ifname":"xh-v0a","flags":[],"master":"xh-br0","state":""},
 {"mac":"d2:15:01:c9:80:4a","ifname":"xh-v0a","vlan":1,"flags":[],"master":"xh-br0","state":"permanent"},
 {"mac":"00:00:00:00:00:00","ifname":"xh-vx0","dst":"198.18.0.2","flags":["self"],"state":"permanent"},
 {"mac":"02:00:00:00:00:0a","ifname":"xh-vx0","dst":"198.18.0.3","port":8472,"vni":7,"flags":["self"],"state":"permanent"}
]''')

NAMESPACE = dict(target='netns xh-test', netns='xh-test', pid=None, inode=4026532392,
                 shares_host_namespace=False, network_mode=None, container=None)


# ---- gather_subset / table -----------------------------------------------------------

@pytest.mark.parametrize('values, expected', [
    (['all'], set(nf.SUBSETS)),
    (None, set(nf.SUBSETS)),
    (['!fdb'], set(nf.SUBSETS) - set(['fdb'])),
    (['all', '!neighbours', '!fdb'], set(['interfaces', 'addresses', 'bridges', 'routes'])),
    (['addresses', 'routes'], set(['addresses', 'routes'])),
    (['routes', 'neighbors'], set(['routes', 'neighbours'])),
    (['!all'], set()),
])
def test_gather_subset(values, expected):
    assert nf.parse_gather_subset(values) == expected


def test_gather_subset_bad_value_is_named():
    with pytest.raises(InvalidValue, match="'links'"):
        nf.parse_gather_subset(['interfaces', 'links'])


@pytest.mark.parametrize('table', ['main', 'all', 'local', '100', 'crosshost_1'])
def test_table_ok(table):
    assert nf.validate_table(table) == table


@pytest.mark.parametrize('table', ['main all', '', 'a/b', '1;reboot'])
def test_table_bad(table):
    with pytest.raises(InvalidValue, match='table'):
        nf.validate_table(table)


# ---- interfaces -------------------------------------------------------------------------

def test_interfaces_basic_fields():
    interfaces = nf.interface_facts(LINKS)
    assert sorted(interfaces) == ['eth0', 'lo', 'tun0', 'xh-br0', 'xh-v0a', 'xh-v0b', 'xh-vx0']
    lo = interfaces['lo']
    assert (lo['index'], lo['kind'], lo['mtu'], lo['state'], lo['operstate'], lo['carrier']) == (1, 'loopback', 65536, 'up', 'UNKNOWN', True)
    br = interfaces['xh-br0']
    assert br['kind'] == 'bridge' and br['state'] == 'up' and br['carrier'] is False and br['mac'] == '36:a9:84:77:ea:ff'
    assert br['master'] is None and br['master_kind'] is None and br['port'] == {}
    # Running timers are left out so that two reads compare equal.
    assert 'hello_timer' not in br['details'] and br['details']['stp_state'] == 1


def test_interfaces_addresses():
    interfaces = nf.interface_facts(LINKS)
    assert interfaces['xh-br0']['addresses'] == [
        dict(address='100.64.1.1', prefixlen=24, family='inet', cidr='100.64.1.1/24', network='100.64.1.0/24', scope='global',
             broadcast='100.64.1.255', peer=None, label='xh-br0', flags=[]),
        dict(address='2001:db8:1::1', prefixlen=64, family='inet6', cidr='2001:db8:1::1/64', network='2001:db8:1::/64', scope='global',
             broadcast=None, peer=None, label=None, flags=['nodad']),
    ]
    assert interfaces['xh-vx0']['addresses'] == []
    tun = interfaces['tun0']
    assert tun['kind'] == 'tun' and tun['mac'] is None and tun['state'] == 'down'
    assert tun['addresses'][0]['peer'] == '100.64.9.2' and tun['addresses'][0]['cidr'] == '100.64.9.1/32'


def test_interfaces_links_and_ports():
    interfaces = nf.interface_facts(LINKS)
    # veth pair inside the namespace: each names the other.
    assert interfaces['xh-v0a']['link'] == 'xh-v0b' and interfaces['xh-v0b']['link'] == 'xh-v0a'
    assert interfaces['xh-v0a']['master'] == 'xh-br0' and interfaces['xh-v0a']['master_kind'] == 'bridge'
    assert interfaces['xh-v0a']['port'] == dict(state='forwarding', priority=32, cost=2, learning=True)
    # vxlan: underlay device from info_data, VNI in details.
    vx = interfaces['xh-vx0']
    assert vx['kind'] == 'vxlan' and vx['link'] == 'xh-v0b' and vx['details']['id'] == 42 and vx['details']['port'] == 4789
    assert vx['state'] == 'down'
    # A container's eth0: the peer is in another namespace.
    eth0 = interfaces['eth0']
    assert (eth0['link'], eth0['link_index'], eth0['link_netnsid']) == (None, 7, 0)
    assert eth0['addresses'][0]['cidr'] == '172.17.0.2/16'


# ---- bridges ------------------------------------------------------------------------------

def test_bridges():
    bridges = nf.bridge_facts(LINKS)
    assert bridges == {'xh-br0': dict(
        ports=['xh-v0a', 'xh-vx0'],
        port_states={'xh-v0a': 'forwarding', 'xh-vx0': 'disabled'},
        stp=True, id='8000.36:a9:84:77:ea:ff', priority=32768, vlan_filtering=False,
        forward_delay=4, hello_time=2, max_age=20, ageing_time=300,
    )}


def test_bridge_without_ports_and_fractional_seconds():
    links = [dict(ifname='b', linkinfo=dict(info_kind='bridge', info_data=dict(forward_delay=1550, stp_state=0, bridge_id='8000.2:42:ae:9:8a:d7')))]
    bridge = nf.bridge_facts(links)['b']
    assert bridge['ports'] == [] and bridge['stp'] is False and bridge['forward_delay'] == 15.5 and bridge['hello_time'] is None
    # ip drops leading zeros of the MAC in the bridge ID; brctl does not.
    assert bridge['id'] == '8000.02:42:ae:09:8a:d7'


# ---- routes -------------------------------------------------------------------------------

def test_routes_ipv4():
    routes = nf.route_facts(ROUTES4, 'inet')
    by_dst = dict((r['dst'], r) for r in routes)
    assert [r['dst'] for r in routes] == ['default', '100.64.1.0/24', '100.64.2.0/24', '100.64.3.0/24', '100.64.7.0/24',
                                          '100.64.8.0/24', '100.64.9.0/24', '100.64.10.5/32']
    assert by_dst['default'] == dict(dst='default', family='inet', type='unicast', gateway='198.18.0.254', dev='xh-v0b',
                                     protocol='boot', ours=False, scope='global', metric=0, flags=[], prefsrc=None,
                                     table='main', pref=None, nexthops=[])
    connected = by_dst['100.64.1.0/24']
    assert (connected['gateway'], connected['protocol'], connected['scope'], connected['prefsrc'], connected['flags']) == \
        (None, 'kernel', 'link', '100.64.1.1', ['linkdown'])
    # Ours, by number (not registered) or by name.
    assert by_dst['100.64.2.0/24']['protocol'] == 'crosshost' and by_dst['100.64.2.0/24']['ours'] and by_dst['100.64.2.0/24']['metric'] == 10
    assert by_dst['100.64.3.0/24']['ours'] and by_dst['100.64.3.0/24']['flags'] == ['onlink']
    assert by_dst['100.64.7.0/24']['type'] == 'blackhole' and by_dst['100.64.7.0/24']['dev'] is None
    assert by_dst['100.64.8.0/24']['gateway'] == 'fe80::1'
    assert by_dst['100.64.9.0/24']['nexthops'] == [dict(gateway='100.64.1.2', dev='xh-br0', weight=1, flags=[]),
                                                   dict(gateway='198.18.0.9', dev='xh-v0b', weight=2, flags=[])]


def test_routes_ipv6_and_tables():
    routes = nf.route_facts(ROUTES6, 'inet6', 'all')
    assert [(r['dst'], r['metric'], r['protocol'], r['table'], r['family']) for r in routes] == [
        ('2001:db8:1::/64', 256, 'kernel', 'main', 'inet6'),
        ('2001:db8:2::/64', 1024, 'boot', 'main', 'inet6'),
        ('::1/128', 0, 'kernel', 'local', 'inet6'),
    ]
    assert routes[1]['gateway'] == '2001:db8:1::2' and routes[1]['pref'] == 'medium'
    # A specific table is not repeated by ip: the requested one is reported.
    assert nf.route_facts([dict(dst='default', dev='x')], 'inet', '100')[0]['table'] == '100'


# ---- neighbours and fdb -------------------------------------------------------------------

def test_neighbours():
    neighbours = nf.neighbour_facts(NEIGHBOURS)
    assert neighbours[0] == dict(dst='100.64.1.10', family='inet', dev='xh-br0', lladdr='02:00:00:00:00:10', state=['PERMANENT'],
                                 router=True, flags=['router'], protocol='crosshost', ours=True)
    assert neighbours[1]['protocol'] is None and neighbours[1]['ours'] is False and neighbours[1]['router'] is False
    assert neighbours[2]['lladdr'] is None and neighbours[2]['state'] == ['INCOMPLETE']
    assert neighbours[3]['family'] == 'inet6' and neighbours[3]['state'] == ['STALE']


def test_fdb():
    fdb = nf.fdb_facts(FDB)
    assert fdb[0] == dict(mac='33:33:00:00:00:01', dev='xh-br0', master=None, vlan=None, dst=None, state='permanent', flags=['self'])
    assert fdb[1]['master'] == 'xh-br0' and fdb[1]['state'] is None  # learned
    assert fdb[2]['vlan'] == 1
    assert fdb[3]['mac'] == '00:00:00:00:00:00' and fdb[3]['dst'] == '198.18.0.2' and fdb[3]['dev'] == 'xh-vx0'
    assert fdb[4]['port'] == 8472 and fdb[4]['vni'] == 7


# ---- assembly and reads -------------------------------------------------------------------

def _raw():
    return dict(links=LINKS, routes4=ROUTES4, routes6=ROUTES6, neighbours=NEIGHBOURS, fdb=FDB)


def test_build_facts_all():
    facts = nf.build_facts(_raw(), NAMESPACE, set(nf.SUBSETS))
    assert sorted(facts) == ['addresses', 'bridges', 'fdb', 'interfaces', 'namespace', 'neighbours', 'routes']
    assert facts['namespace'] is NAMESPACE
    assert len(facts['routes']) == len(ROUTES4) + len(ROUTES6)
    assert [r['family'] for r in facts['routes']] == ['inet'] * len(ROUTES4) + ['inet6'] * len(ROUTES6)
    assert facts['bridges']['xh-br0']['ports'] == ['xh-v0a', 'xh-vx0']
    # Facts are plain JSON (Ansible returns them as such).
    assert json.loads(json.dumps(facts)) == facts


def test_addresses_every_interface_in_one_list_with_its_flags():
    facts = nf.build_facts(_raw(), NAMESPACE, set(['addresses']))
    assert sorted(facts) == ['addresses', 'namespace']
    interfaces = nf.interface_facts(LINKS)
    # The same items as the interfaces' addresses, in the kernel's order, with the interface.
    assert facts['addresses'] == [dict(a, interface=link['ifname']) for link in LINKS for a in interfaces[link['ifname']]['addresses']]
    v6 = dict((a['cidr'], a) for a in facts['addresses'] if a['family'] == 'inet6')
    assert v6['2001:db8:1::1/64']['scope'] == 'global' and v6['2001:db8:1::1/64']['flags'] == ['nodad']
    assert v6['fe80::d015:1ff:fec9:804a/64']['flags'] == ['tentative']


def test_read_state_addresses_share_the_interfaces_read():
    ipr = FakeIPRoute()
    nf.read_state(ipr, set(['addresses', 'interfaces', 'routes']), 'all')
    assert ipr.calls[0] == ('ip', '-details', 'address', 'show')
    assert len(ipr.calls) == 3


def test_build_facts_subset_and_empty_namespace():
    facts = nf.build_facts(dict(links=[]), NAMESPACE, set(['interfaces', 'bridges']))
    assert facts == dict(namespace=NAMESPACE, interfaces={}, bridges={})


class FakeIPRoute:
    """Records reads; answers with the samples."""

    def __init__(self):
        self.calls = []

    def read(self, tool, *args):
        self.calls.append((tool,) + args)
        if tool == 'bridge':
            return FDB
        if 'neigh' in args:
            return NEIGHBOURS
        return LINKS

    def routes(self, family=4, table='all'):
        self.calls.append(('ip', '-%d' % family, 'route', 'show', 'table', table))
        return ROUTES4 if family == 4 else ROUTES6


def test_read_state_uses_a_fixed_number_of_reads():
    ipr = FakeIPRoute()
    raw = nf.read_state(ipr, set(nf.SUBSETS), 'main')
    assert ipr.calls == [
        ('ip', '-details', 'address', 'show'),
        ('ip', '-4', 'route', 'show', 'table', 'main'),
        ('ip', '-6', 'route', 'show', 'table', 'main'),
        ('ip', 'neigh', 'show'),
        ('bridge', 'fdb', 'show'),
    ]
    assert raw == _raw()


def test_read_state_subset():
    ipr = FakeIPRoute()
    nf.read_state(ipr, set(['bridges']), 'main')
    assert ipr.calls == [('ip', '-details', 'address', 'show')]
    ipr = FakeIPRoute()
    nf.read_state(ipr, set(), 'main')
    assert ipr.calls == []


# ---- _container: Docker inspect and namespaces --------------------------------------------

class Failed(Exception):
    pass


class FakeModule:
    """run_command answers docker inspect from a dict of ref -> inspect JSON (missing: No such container)."""

    def __init__(self, containers, rc=None, err=None):
        self.containers = containers
        self.rc = rc
        self.err = err
        self.commands = []

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return '/usr/bin/' + name

    def run_command(self, cmd, environ_update=None, data=None):
        self.commands.append(cmd)
        if self.rc is not None:
            return self.rc, '', self.err
        ref = cmd[-1]
        for data in self.containers.values():
            if ref in (data['Id'], data['Name'].lstrip('/')):
                return 0, json.dumps([data]), ''
        return 1, '[]', 'Error: No such container: %s\n' % ref

    def fail_json(self, **kwargs):
        raise Failed(kwargs)


def _inspect(cid, name, mode, running=True, pid=4242, networks=None):
    return dict(Id=cid, Name='/' + name, HostConfig=dict(NetworkMode=mode),
                State=dict(Running=running, Pid=pid if running else 0, Status='running' if running else 'exited'),
                NetworkSettings=dict(Networks=dict((n, {}) for n in (networks or []))))


PEER_ID = 'bd88739a7517d0da99b8964d63fe686901e3773837724e42726d3dc4cfcae1fd'
CONTAINERS = dict(
    web=_inspect(PEER_ID, 'web', 'default', networks=['bridge']),
    side=_inspect('9' * 64, 'side', 'container:' + PEER_ID, pid=4343),
    hosty=_inspect('8' * 64, 'hosty', 'host', networks=['host']),
    stopped=_inspect('7' * 64, 'stopped', 'none', running=False),
    orphan=_inspect('6' * 64, 'orphan', 'container:' + '5' * 64),
)


@pytest.mark.parametrize('mode, expected', [
    ('default', ('bridge', None)),
    ('', ('bridge', None)),
    (None, ('bridge', None)),
    ('bridge', ('bridge', None)),
    ('host', ('host', None)),
    ('none', ('none', None)),
    ('container:web', ('container', 'web')),
    ('mynet', ('mynet', None)),
])
def test_split_network_mode(mode, expected):
    assert _container.split_network_mode(mode) == expected


def test_container_info_bridge_mode():
    module = FakeModule(CONTAINERS)
    info = _container.container_info(module, 'web')
    assert info == dict(id=PEER_ID, name='web', pid=4242, network_mode='bridge', networks=['bridge'], peer=None)
    assert module.commands == [['/usr/bin/docker', 'inspect', '--type', 'container', 'web']]


def test_container_info_container_mode_names_the_peer():
    module = FakeModule(CONTAINERS)
    info = _container.container_info(module, 'side')
    assert info['network_mode'] == 'container' and info['pid'] == 4343
    assert info['peer'] == dict(id=PEER_ID, name='web')
    assert len(module.commands) == 2


def test_container_info_peer_gone():
    info = _container.container_info(FakeModule(CONTAINERS), 'orphan')
    assert info['peer'] == dict(id='5' * 64, name=None)


def test_container_unknown_and_stopped_fail_clearly():
    with pytest.raises(Failed) as exc:
        _container.container_info(FakeModule(CONTAINERS), 'nosuch')
    assert "'nosuch' not found" in exc.value.args[0]['msg']
    with pytest.raises(Failed) as exc:
        _container.container_info(FakeModule(CONTAINERS), 'stopped')
    assert "'stopped' is not running (status exited)" in exc.value.args[0]['msg']
    with pytest.raises(Failed) as exc:
        _container.container_pid(FakeModule(CONTAINERS), 'stopped')
    assert 'not running' in exc.value.args[0]['msg']


def test_container_pid_still_works():
    assert _container.container_pid(FakeModule(CONTAINERS), 'hosty') == 4242


def test_docker_daemon_down_is_not_reported_as_missing():
    module = FakeModule(CONTAINERS, rc=1, err='Cannot connect to the Docker daemon at unix:///var/run/docker.sock.')
    with pytest.raises(Failed) as exc:
        _container.container_pid(module, 'web')
    assert 'docker inspect of container' in exc.value.args[0]['msg'] and 'Cannot connect' in exc.value.args[0]['msg']


@pytest.fixture
def inodes(monkeypatch):
    """Fake namespace inodes: the host's is 1000; PID 1's namespace may be hidden."""
    table = {'/proc/1/ns/net': 1000, '/proc/self/ns/net': 1000, '/run/netns/xh-a': 2000,
             '/proc/4242/ns/net': 3000, '/proc/4343/ns/net': 3000, '/proc/77/ns/net': 1000}
    monkeypatch.setattr(_container, 'namespace_inode', table.get)
    return table


def test_describe_namespace_targets(inodes):
    host = _container.describe_namespace()
    assert host == dict(target='host', netns=None, pid=None, inode=1000, shares_host_namespace=True, network_mode=None, container=None)
    netns = _container.describe_namespace(netns='xh-a')
    assert (netns['target'], netns['netns'], netns['inode'], netns['shares_host_namespace']) == ('netns xh-a', 'xh-a', 2000, False)
    pid = _container.describe_namespace(pid=77)
    assert (pid['target'], pid['pid'], pid['inode'], pid['shares_host_namespace']) == ('pid 77', 77, 1000, True)


def test_describe_namespace_containers(inodes):
    web = _container.describe_namespace(container=_container.container_info(FakeModule(CONTAINERS), 'web'))
    side = _container.describe_namespace(container=_container.container_info(FakeModule(CONTAINERS), 'side'))
    assert web['target'] == 'container web' and web['network_mode'] == 'bridge' and web['shares_host_namespace'] is False
    assert side['network_mode'] == 'container' and side['container']['peer']['name'] == 'web'
    assert side['inode'] == web['inode'] == 3000


def test_describe_namespace_host_mode_and_hidden_pid1(inodes):
    del inodes['/proc/1/ns/net']  # sandboxes deny PID 1's links: our own namespace is the host's
    inodes['/proc/4242/ns/net'] = 1000
    hosty = _container.describe_namespace(container=_container.container_info(FakeModule(CONTAINERS), 'hosty'))
    assert hosty['network_mode'] == 'host' and hosty['shares_host_namespace'] is True and hosty['inode'] == 1000
    # Host mode is reported as shared even when no inode can be read.
    inodes.clear()
    hosty = _container.describe_namespace(container=_container.container_info(FakeModule(CONTAINERS), 'hosty'))
    assert hosty['inode'] is None and hosty['shares_host_namespace'] is True
    assert _container.describe_namespace(netns='xh-a')['shares_host_namespace'] is None


def test_namespace_inode_of_missing_path():
    assert _container.namespace_inode('/nonexistent/ns/net') is None


def test_read_files_gives_text_or_none(tmp_path):
    present = tmp_path / 'daemon.json'
    present.write_text('{"bip": "100.64.1.1/24"}\n')
    missing = tmp_path / 'nothing.json'
    assert nf.read_files([str(present), str(missing)]) == {
        str(present): '{"bip": "100.64.1.1/24"}\n', str(missing): None}


def test_read_files_names_a_path_it_cannot_read(tmp_path):
    with pytest.raises(InvalidValue, match='files: cannot read %s' % tmp_path):
        nf.read_files([str(tmp_path)])


def test_path_kinds(tmp_path):
    (tmp_path / 'conf').mkdir()
    (tmp_path / 'file').write_text('x')
    (tmp_path / 'link').symlink_to(tmp_path / 'conf')
    paths = [str(tmp_path / name) for name in ('conf', 'file', 'link', 'missing')] + ['/dev/null']
    assert nf.path_kinds(paths) == dict(zip(paths, ['directory', 'file', 'directory', None, 'other']))
