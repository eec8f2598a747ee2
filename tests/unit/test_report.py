"""Unit tests for the crosshost.network.cluster_report / cluster_report_html filters (plugins/filter/report.py)."""

import copy
import re
from html.parser import HTMLParser

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.crosshost.network.plugins.filter.report import (
    FilterModule,
    cluster_report,
    cluster_report_html,
    parse_probe_lines,
)

HOSTS = ('node1', 'node2', 'node3')


def _plan(n):
    return {
        'subnet': '100.64.%d.0/24' % n, 'gateway': '100.64.%d.1' % n, 'bip': '100.64.%d.1/24' % n,
        'prefixlen': 24, 'underlay_ip': '198.18.1.1%d' % n, 'underlay_interface': 'eth0',
        'underlay_mtu': 1500, 'vtep_mac': '0e:00:00:00:00:0%d' % n, 'network': '100.64.0.0/16',
    }


def _address(cidr):
    address, prefixlen = cidr.split('/')
    return {'address': address, 'prefixlen': int(prefixlen), 'family': 'inet', 'cidr': cidr}


def _route(dst, dev, gateway=None, protocol='crosshost'):
    return {'dst': dst, 'family': 'inet', 'gateway': gateway, 'dev': dev, 'protocol': protocol, 'table': 'main'}


def _static_host(n):
    """Host n of a 3-host static_routes cluster, as network_facts reads it."""
    facts = {
        'interfaces': {
            'eth0': {'kind': 'veth', 'mtu': 1500, 'addresses': [_address('198.18.1.1%d/24' % n)]},
            'docker0': {'kind': 'bridge', 'mtu': 1500, 'addresses': [_address('100.64.%d.1/24' % n)]},
        },
        'bridges': {'docker0': {'ports': ['veth1']}},
        'routes': [
            _route('default', 'eth0', '198.18.1.1', protocol='boot'),
            _route('198.18.1.0/24', 'eth0', protocol='kernel'),
            _route('100.64.%d.0/24' % n, 'docker0', protocol='kernel'),
        ] + [_route('100.64.%d.0/24' % m, 'eth0', '198.18.1.1%d' % m) for m in (1, 2, 3) if m != n],
        'fdb': [],
    }
    lines = ['100.64.%d.2 ok 0.0%d 1500' % (m, m) for m in (1, 2, 3) if m != n]
    return {'plan': _plan(n), 'backend': 'static_routes', 'facts': facts,
            'probe': {'address': '100.64.%d.2' % n}, 'probe_lines': ['noise'] + lines}


def _static():
    return {name: _static_host(n) for n, name in enumerate(HOSTS, 1)}


def _vxlan():
    hosts = {}
    for n, name in enumerate(HOSTS, 1):
        host = _static_host(n)
        facts = host['facts']
        facts['interfaces']['flannel.1'] = {'kind': 'vxlan', 'mtu': 1450, 'details': {'id': 1},
                                            'addresses': [_address('100.64.%d.0/32' % n)]}
        facts['routes'] = facts['routes'][:3] + [
            _route('100.64.%d.0/24' % m, 'flannel.1', '100.64.%d.0' % m) for m in (1, 2, 3) if m != n]
        facts['fdb'] = [{'mac': '0e:00:00:00:00:0%d' % m, 'dev': 'flannel.1', 'dst': '198.18.1.1%d' % m}
                        for m in (1, 2, 3) if m != n]
        host['backend'] = 'vxlan'
        host['probe_lines'] = [line.replace(' 1500', ' 1450') for line in host['probe_lines']]
        hosts[name] = host
    return hosts


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {'cluster_report', 'cluster_report_html'}


def test_parse_probe_lines():
    assert parse_probe_lines(['100.64.2.2 ok 0.123 1472', '100.64.3.2 miss', 'PING noise', '', '100.64.4.2 ok ? 1500']) == {
        '100.64.2.2': {'reached': True, 'rtt_ms': 0.123, 'df_max': 1472},
        '100.64.3.2': {'reached': False, 'rtt_ms': None, 'df_max': None},
        '100.64.4.2': {'reached': True, 'rtt_ms': None, 'df_max': 1500},
    }


def test_static_routes_cluster_is_all_good():
    report = cluster_report(_static())
    assert report['ok'] and report['drift'] == {}
    assert [h['name'] for h in report['hosts']] == list(HOSTS)
    assert len(report['pairs']) == 6
    pair = next(p for p in report['pairs'] if (p['src'], p['dst']) == ('node1', 'node2'))
    assert pair['reached'] and pair['rtt_ms'] == 0.02 and pair['df_max'] == 1500
    assert pair['connection'] == {'kind': 'route', 'label': 'route 100.64.2.0/24 via 198.18.1.12 dev eth0',
                                  'dev': 'eth0', 'gateway': '198.18.1.12'}
    assert report['summary'][0] == '3 hosts, backend static_routes: 6 of 6 pairs reach each other, no host differs from the plan'
    assert 'node1 -> node2  ok    rtt 0.02 ms  DF max 1500 B  route 100.64.2.0/24 via 198.18.1.12 dev eth0' in report['summary']


def _dual_stack(ipv4=True):
    """The static_routes cluster with IPv6 too (or IPv6 only): subnets 2001:db8:100:n::/64, underlay 2001:db8:1::1n."""
    hosts = _static()
    for n, name in enumerate(HOSTS, 1):
        host = hosts[name]
        host['plan'].update(subnet_v6='2001:db8:100:%d::/64' % n, gateway_v6='2001:db8:100:%d::1' % n,
                            bip_v6='2001:db8:100:%d::1/64' % n, underlay_ip6='2001:db8:1::1%d' % n)
        interfaces = host['facts']['interfaces']
        interfaces['eth0']['addresses'].append(dict(_address('2001:db8:1::1%d/64' % n), family='inet6'))
        interfaces['docker0']['addresses'].append(dict(_address('2001:db8:100:%d::1/64' % n), family='inet6'))
        host['facts']['routes'] += [dict(_route('2001:db8:100:%d::/64' % m, 'eth0', '2001:db8:1::1%d' % m), family='inet6')
                                    for m in (1, 2, 3) if m != n]
        host['probe']['address6'] = '2001:db8:100:%d::2' % n
        host['probe_lines'] += ['2001:db8:100:%d::2 ok 0.0%d 1500' % (m, m) for m in (1, 2, 3) if m != n]
        if not ipv4:
            host['plan'].update(subnet='', gateway='', bip='')
            # Docker's own IPv4 subnet, the same on every host: not a family of the plan.
            host['probe'] = {'address': '172.17.0.2', 'address6': host['probe']['address6']}
            interfaces['docker0']['addresses'] = interfaces['docker0']['addresses'][1:]
            host['facts']['routes'] = [r for r in host['facts']['routes'] if r['family'] == 'inet6' or r['protocol'] != 'crosshost']
    return hosts


def test_dual_stack_cluster_has_pairs_of_both_families():
    report = cluster_report(_dual_stack())
    assert report['ok'] and report['drift'] == {} and report['families'] == [4, 6]
    assert [(p['family'], p['address']) for p in report['pairs'] if (p['src'], p['dst']) == ('node1', 'node2')] == [
        (4, '100.64.2.2'), (6, '2001:db8:100:2::2')]
    pair = next(p for p in report['pairs'] if (p['src'], p['dst'], p['family']) == ('node1', 'node2', 6))
    assert pair['connection']['label'] == 'route 2001:db8:100:2::/64 via 2001:db8:1::12 dev eth0'
    assert report['summary'][0] == '3 hosts, backend static_routes, IPv4 and IPv6: 12 of 12 pairs reach each other, no host differs from the plan'
    assert 'node1 -> node2  IPv6 ok    rtt 0.02 ms  DF max 1500 B  route 2001:db8:100:2::/64 via 2001:db8:1::12 dev eth0' in report['summary']
    html = cluster_report_html(report)
    tables = [a['data-family'] for t, a in _parse(html) if t == 'table' and 'data-family' in a]
    assert tables == ['4', '6'] and 'Reachability over IPv6' in html and '2001:db8:100:2::/64' in html


def test_ipv6_only_cluster_and_its_drift():
    hosts = _dual_stack(ipv4=False)
    report = cluster_report(hosts)
    assert report['families'] == [6] and len(report['pairs']) == 6 and report['ok'], report['drift']
    # A missing IPv6 route, an IPv6 miss, no IPv6 probe address: each named.
    hosts['node1']['facts']['routes'] = [r for r in hosts['node1']['facts']['routes'] if r['dst'] != '2001:db8:100:2::/64']
    hosts['node1']['probe_lines'] = ['2001:db8:100:2::2 miss']
    hosts['node3']['probe']['address6'] = ''
    report = cluster_report(hosts)
    assert report['drift'] == {'node1': ['route to 2001:db8:100:2::/64 via 2001:db8:1::12 is missing'],
                               'node3': ['the probe container has no IPv6 address']}
    assert [(p['src'], p['dst']) for p in report['pairs'] if not p['reached']] == [
        ('node1', 'node2'), ('node1', 'node3'), ('node2', 'node3')]


def _vxlan_dual_stack(ipv4=True):
    """The vxlan cluster dual-stack (or IPv6 only): flannel-v6.1 with a route and an FDB entry to the IPv6 underlay per peer."""
    hosts = _dual_stack(ipv4)
    for n, name in enumerate(HOSTS, 1):
        host, vxlan = hosts[name], _vxlan()[name]
        host['backend'] = 'vxlan'
        facts = host['facts']
        peers = [m for m in (1, 2, 3) if m != n]
        facts['routes'] = [r for r in facts['routes'] if r['protocol'] != 'crosshost']
        facts['fdb'] = [{'mac': '0e:00:00:00:06:0%d' % m, 'dev': 'flannel-v6.1', 'dst': '2001:db8:1::1%d' % m} for m in peers]
        facts['interfaces']['flannel-v6.1'] = {'kind': 'vxlan', 'mtu': 1430, 'details': {'id': 1}, 'addresses': []}
        facts['routes'] += [dict(_route('2001:db8:100:%d::/64' % m, 'flannel-v6.1', '2001:db8:100:%d::' % m), family='inet6')
                            for m in peers]
        if ipv4:
            facts['interfaces']['flannel.1'] = vxlan['facts']['interfaces']['flannel.1']
            facts['routes'] += [r for r in vxlan['facts']['routes'] if r['dev'] == 'flannel.1']
            facts['fdb'] += vxlan['facts']['fdb']
    return hosts


@pytest.mark.parametrize('ipv4', [True, False], ids=['dual-stack', 'ipv6-only'])
def test_vxlan_drift_per_family_of_the_plan(ipv4):
    """Each family of the plan on its own device and underlay: a missing IPv6 route or entry is drift; IPv6 only lacks nothing."""
    hosts = _vxlan_dual_stack(ipv4)
    report = cluster_report(hosts)
    assert report['drift'] == {}
    labels = {(p['src'], p['dst'], p['family']): p['connection']['label'] for p in report['pairs']}
    assert labels[('node3', 'node1', 6)] == 'VXLAN flannel-v6.1 (VNI 1) to 2001:db8:1::11'
    assert labels.get(('node3', 'node1', 4)) == ('VXLAN flannel.1 (VNI 1) to 198.18.1.11' if ipv4 else None)
    facts = hosts['node1']['facts']
    facts['routes'] = [r for r in facts['routes'] if r['dst'] != '2001:db8:100:2::/64']
    facts['fdb'] = [e for e in facts['fdb'] if e['dst'] != '2001:db8:1::13']
    assert cluster_report(hosts)['drift'] == {'node1': ['no route to 2001:db8:100:2::/64 (node2) on a VXLAN device',
                                                        'no VXLAN forwarding entry for 2001:db8:1::13 (node3)']}


def test_vxlan_cluster_is_all_good():
    report = cluster_report(_vxlan())
    assert report['drift'] == {}
    labels = {(p['src'], p['dst']): p['connection']['label'] for p in report['pairs']}
    assert labels[('node3', 'node1')] == 'VXLAN flannel.1 (VNI 1) to 198.18.1.11'
    assert {p['df_max'] for p in report['pairs']} == {1450}


def test_drift_is_named_per_host():
    hosts = _static()
    facts = hosts['node2']['facts']
    facts['routes'] = [r for r in facts['routes'] if r['dst'] != '100.64.3.0/24']  # lost route
    facts['routes'].append(_route('100.64.9.0/24', 'eth0', '198.18.1.19'))        # stale route of ours
    facts['interfaces']['docker0']['addresses'] = [_address('172.17.0.1/16')]     # Docker's default bip
    hosts['node2']['probe']['address'] = '172.17.0.2'
    hosts['node3']['probe_lines'] = ['100.64.1.2 ok 0.05 1500', '172.17.0.2 miss']
    report = cluster_report(hosts)
    assert not report['ok']
    assert sorted(report['drift']) == ['node2']
    assert report['drift']['node2'] == [
        'no interface has the planned bridge address 100.64.2.1/24',
        'probe address 172.17.0.2 is outside the planned subnet 100.64.2.0/24',
        'route to 100.64.3.0/24 via 198.18.1.13 is missing',
        'route 100.64.9.0/24 via 198.18.1.19 is ours but not in the plan',
    ]
    pair = {(p['src'], p['dst']): p for p in report['pairs']}
    assert not pair[('node3', 'node2')]['reached']
    assert pair[('node2', 'node3')]['connection']['kind'] == 'default'
    assert 'differs from the plan: node2: route to 100.64.3.0/24 via 198.18.1.13 is missing' in report['summary']


def test_vxlan_drift_without_forwarding_entry():
    hosts = _vxlan()
    hosts['node1']['facts']['fdb'] = hosts['node1']['facts']['fdb'][:1]
    report = cluster_report(hosts)
    assert report['drift'] == {'node1': ['no VXLAN forwarding entry for 198.18.1.13 (node3)']}


def test_pipework_bridge_connection():
    hosts = _static()
    for n, name in enumerate(HOSTS, 1):
        facts = hosts[name]['facts']
        facts['interfaces']['bri0'] = {'kind': 'bridge', 'mtu': 1500, 'addresses': [_address('198.18.1.1%d/24' % n)]}
        facts['bridges']['bri0'] = {'ports': ['eth0', 'veth9']}
        facts['routes'] = [_route('100.64.0.0/16', 'bri0', protocol='kernel'), _route('default', 'bri0', '198.18.1.1')]
        hosts[name]['backend'] = 'pipework'
    report = cluster_report(hosts)
    assert {p['connection']['label'] for p in report['pairs']} == {'bridge bri0 (uplink eth0)'}


@pytest.mark.parametrize('bad', [None, {}, {'node1': 'x'}, {'node1': {'plan': {}}}, ['node1']])
def test_bad_input_names_the_problem(bad):
    with pytest.raises(AnsibleFilterError, match='cluster_report'):
        cluster_report(bad)


class _Page(HTMLParser):
    """Collects the tags and attributes of a page."""

    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _parse(html):
    page = _Page()
    page.feed(html)
    return page.tags


def test_html_has_one_node_per_host_and_one_cell_per_pair():
    html = cluster_report_html(cluster_report(_static()))
    tags = _parse(html)
    nodes = [a['data-host'] for t, a in tags if t == 'g' and 'host' in a.get('class', '').split()]
    cells = [a['data-pair'] for t, a in tags if t == 'td' and 'cell' in a.get('class', '').split() and 'data-pair' in a]
    links = [a['data-pair'] for t, a in tags if t == 'g' and 'link' in a.get('class', '').split()]
    assert nodes == list(HOSTS)
    assert sorted(cells) == sorted('%s|%s' % (a, b) for a in HOSTS for b in HOSTS if a != b)
    assert sorted(links) == ['node1|node2', 'node1|node3', 'node2|node3']
    assert 'all good' in html and 'Every host matches the plan.' in html


def test_html_is_self_contained():
    html = cluster_report_html(cluster_report(_static()))
    tags = _parse(html)
    assert not [a for t, a in tags if 'src' in a or 'href' in a]
    assert not re.search(r'@import|url\(|<link|<script', html)
    # The only URL is the SVG namespace, which is a name, not a fetch.
    assert re.findall(r'https?://[^"\s]+', html) == ['http://www.w3.org/2000/svg']


def test_html_escapes_and_shows_drift_and_misses():
    hosts = _static()
    hosts['node2']['facts']['interfaces']['docker0']['addresses'] = []
    hosts['node1']['probe_lines'] = ['100.64.3.2 ok 0.1 1500']
    hosts['<b>node4</b>'] = _static_host(4)
    report = cluster_report(hosts)
    html = cluster_report_html(report, title='lab & co')
    assert '<b>node4</b>' not in html and 'data-host="&lt;b&gt;node4&lt;/b&gt;"' in html
    assert '<title>lab &amp; co</title>' in html
    assert 'needs attention' in html
    assert 'data-drift="node2"' in html and 'planned bridge address 100.64.2.1/24' in html
    assert 'class="cell miss" data-pair="node1|node2"' in html


@pytest.mark.parametrize('count', [1, 2, 5, 12])
def test_html_layout_any_size(count):
    hosts = {}
    names = ['h%02d' % i for i in range(count)]
    for n, name in enumerate(names, 1):
        host = _static_host(1)
        host['plan'] = dict(host['plan'], subnet='100.64.%d.0/24' % n, bip='100.64.%d.1/24' % n, underlay_ip='198.18.1.%d' % n)
        host['facts'] = copy.deepcopy(host['facts'])
        host['backend'] = 'none'
        hosts[name] = host
    html = cluster_report_html(cluster_report(hosts))
    tags = _parse(html)
    assert len([a for t, a in tags if t == 'g' and a.get('class') == 'host']) == count
    assert len([a for t, a in tags if t == 'td' and 'data-pair' in a]) == count * (count - 1)


def test_html_rejects_other_input():
    with pytest.raises(AnsibleFilterError, match='cluster_report_html'):
        cluster_report_html({'hosts': []})


def test_limit_the_routes_to_hosts_outside_the_run_are_the_plan_s():
    # verify.yml --limit node1,node2: node3 is only in the plan, the routes to it stay.
    hosts = _static()
    del hosts['node3']
    for host in hosts.values():
        host['probe_lines'] = [line for line in host['probe_lines'] if not line.startswith('100.64.3.')]
    plan = {name: _plan(n) for n, name in enumerate(HOSTS, 1)}
    assert cluster_report(hosts, plan=plan)['drift'] == {}
    # Without the whole plan they would look stale; a lost one is missing either way.
    assert 'route 100.64.3.0/24 via 198.18.1.13 is ours but not in the plan' in cluster_report(hosts)['drift']['node1']
    hosts['node1']['facts']['routes'].pop()
    assert cluster_report(hosts, plan=plan)['drift'] == {'node1': ['route to 100.64.3.0/24 via 198.18.1.13 is missing']}
