# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ip_route for real, through Ansible, in throwaway namespaces.

Every converging case runs in check mode first (nothing may change in the kernel), then
for real, then again (changed=false), all with --diff. Purge removes only routes of ours
(proto 147) in the managed tables/devices; routes of other protocols always stay.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import subprocess

import pytest

from conftest import ip_json, run_module, sh

OURS = ('147', 'crosshost')


@pytest.fixture
def ns(netns):
    """Two veth pairs: xh0 (198.18.0.1/24, 2001:db8:1::1/64) - xh1 (no address), xh2 (198.18.1.1/24) - xh3."""
    def ip(*argv):
        sh('ip', '-n', netns, *argv)
    ip('link', 'add', 'xh0', 'type', 'veth', 'peer', 'name', 'xh1')
    ip('link', 'add', 'xh2', 'type', 'veth', 'peer', 'name', 'xh3')
    ip('addr', 'add', '198.18.0.1/24', 'dev', 'xh0')
    ip('addr', 'add', '2001:db8:1::1/64', 'dev', 'xh0', 'nodad')
    ip('addr', 'add', '198.18.1.1/24', 'dev', 'xh2')
    for dev in ('xh0', 'xh1', 'xh2', 'xh3'):
        ip('link', 'set', dev, 'up')
    return netns


def routes(netns):
    """All routes as sorted JSON lines, but the local table and the kernel's IPv6 link-local routes.

    Those come and go with DAD and addrconf (on a loaded machine, between two reads of an
    unchanged system); the module never makes them.
    """
    found = []
    for family in ('-4', '-6'):
        for route in ip_json(netns, '-N', family, 'route', 'show', 'table', 'all'):
            kernel_link_local = route.get('protocol') == '2' and route.get('dst', '').startswith('fe80:')
            if route.get('table') != '255' and not kernel_link_local:
                found.append(json.dumps(route, sort_keys=True))
    return sorted(found)


def route_of(netns, dst, family='-4', table='main'):
    found = ip_json(netns, '-N', family, 'route', 'show', 'table', table, 'exact', dst)
    return found[0] if len(found) == 1 else found


def ok(result):
    assert not result.get('failed'), result.get('msg', result)
    return result


def converge(netns, args):
    """Check mode (changes planned, none made), real run (changed), rerun (unchanged); all with --diff."""
    before = routes(netns)
    check = ok(run_module('ip_route', dict(args, netns=netns), check=True, diff=True))
    assert check['changed'] is True
    assert routes(netns) == before, 'check mode changed the kernel'
    assert check['diff']['before'] != check['diff']['after']
    real = ok(run_module('ip_route', dict(args, netns=netns), diff=True))
    assert real['changed'] is True
    assert real['commands'] == check['commands']
    assert real['diff'] == check['diff']
    again = ok(run_module('ip_route', dict(args, netns=netns), diff=True))
    assert again['changed'] is False, again['commands']
    assert again['commands'] == [] and again['removed'] == []
    assert again['diff']['before'] == again['diff']['after'] == real['diff']['after']
    return real


def fails(netns, args, message):
    before = routes(netns)
    result = run_module('ip_route', dict(args, netns=netns))
    assert result.get('failed') is True, result
    assert message in result['msg'], result['msg']
    assert routes(netns) == before, 'a failed run changed the kernel'
    return result


def test_routes_ipv4_ipv6_and_options(ns):
    args = dict(routes=[
        dict(dst='100.64.1.0/24', via='198.18.0.2'),
        dict(dst='2001:db8:5::/64', via='2001:db8:1::2', mtu=1400),
        dict(dst='default', via='198.18.0.254'),
        dict(dst='default', via='2001:db8:1::fe'),
        dict(dst='100.64.2.0/24', via='198.19.9.9', dev='xh0', onlink=True, metric=50, mtu=1400, src='198.18.0.1'),
        dict(dst='100.64.4.0/24', via='198.18.0.2', table=100),
        # A gateway reachable only through a device route declared in the same run.
        dict(dst='100.64.9.0/24', via='198.19.0.2'),
        dict(dst='198.19.0.0/24', dev='xh1'),
        dict(dst='2001:db8:6::/64', via='fe80::1', dev='xh1', metric=0),
    ])
    result = converge(ns, args)
    assert any(c.startswith("echo '147 crosshost'") for c in result['commands']) or all(c.startswith('ip ') for c in result['commands'])
    assert len([c for c in result['commands'] if c.startswith('ip route replace')]) == 9

    route = route_of(ns, '100.64.1.0/24')
    assert (route['gateway'], route['dev'], route['protocol']) == ('198.18.0.2', 'xh0', '147')
    route = route_of(ns, '100.64.2.0/24')
    assert route['metric'] == 50 and route['flags'] == ['onlink'] and route['metrics'] == [{'mtu': 1400}] and route['prefsrc'] == '198.18.0.1'
    assert route_of(ns, '100.64.4.0/24', table='100')['gateway'] == '198.18.0.2'
    assert route_of(ns, '198.19.0.0/24')['dev'] == 'xh1'
    assert route_of(ns, '100.64.9.0/24')['gateway'] == '198.19.0.2'
    assert route_of(ns, '0.0.0.0/0')['gateway'] == '198.18.0.254'
    route = route_of(ns, '2001:db8:5::/64', '-6')
    assert route['metrics'] == [{'mtu': 1400}] and route['metric'] == 1024
    assert route_of(ns, '::/0', '-6')['gateway'] == '2001:db8:1::fe'
    assert route_of(ns, '2001:db8:6::/64', '-6')['metric'] == 1024
    # The name is registered for humans: plain `ip route` shows proto crosshost.
    assert 'proto crosshost' in sh('ip', '-n', ns, 'route', 'show', '100.64.1.0/24')


def test_changed_routes_are_replaced(ns):
    converge(ns, dict(routes=[dict(dst='100.64.1.0/24', via='198.18.0.2', mtu=1400),
                              dict(dst='2001:db8:5::/64', via='2001:db8:1::2')]))
    result = converge(ns, dict(routes=[dict(dst='100.64.1.0/24', via='198.18.0.3'),
                                       dict(dst='2001:db8:5::/64', via='2001:db8:1::3', dev='xh0')]))
    assert result['commands'] == ['ip route replace 100.64.1.0/24 via 198.18.0.3 table 254 proto 147 metric 0',
                                  'ip route replace 2001:db8:5::/64 via 2001:db8:1::3 dev xh0 table 254 proto 147 metric 1024']
    route = route_of(ns, '100.64.1.0/24')
    assert route['gateway'] == '198.18.0.3' and 'metrics' not in route
    assert route_of(ns, '2001:db8:5::/64', '-6')['gateway'] == '2001:db8:1::3'


def test_ipv6_route_moves_to_another_device(ns):
    """A switch of backend moves our IPv6 route from the underlay to an overlay device, onlink.

    The kernel refuses to replace it in place (it resolves the new gateway through the old
    route: "Nexthop has invalid gateway or device mismatch"): the old one is deleted first,
    in the same batch. IPv4 is replaced in place.
    """
    converge(ns, dict(routes=[dict(dst='100.64.7.0/24', via='198.18.0.2'), dict(dst='2001:db8:7::/64', via='2001:db8:1::2')]))
    moved = [dict(dst='100.64.7.0/24', via='100.64.7.0', dev='xh2', onlink=True),
             dict(dst='2001:db8:7::/64', via='2001:db8:7::', dev='xh2', onlink=True)]
    result = converge(ns, dict(routes=moved))
    assert result['commands'] == ['ip route del 2001:db8:7::/64 table 254 proto 147 metric 1024 via 2001:db8:1::2 dev xh0',
                                  'ip route replace 100.64.7.0/24 via 100.64.7.0 dev xh2 onlink table 254 proto 147 metric 0',
                                  'ip route replace 2001:db8:7::/64 via 2001:db8:7:: dev xh2 onlink table 254 proto 147 metric 1024'], result['commands']
    assert result['removed'] == []
    assert (route_of(ns, '2001:db8:7::/64', '-6')['dev'], route_of(ns, '100.64.7.0/24')['dev']) == ('xh2', 'xh2')
    # And back: a plain gateway route on the underlay again.
    converge(ns, dict(routes=[dict(dst='100.64.7.0/24', via='198.18.0.2'), dict(dst='2001:db8:7::/64', via='2001:db8:1::2')]))
    assert route_of(ns, '2001:db8:7::/64', '-6')['dev'] == 'xh0'


def test_ipv6_gateway_for_an_ipv4_route(ns):
    """RFC 5549: the kernel takes an IPv6 next hop for an IPv4 route (``via inet6``)."""
    args = dict(routes=[dict(dst='100.64.30.0/24', via='2001:db8:1::2'), dict(dst='100.64.31.0/24', via='2001:db8:1::3', dev='xh0')])
    result = converge(ns, args)
    assert result['commands'][-2:] == ['ip route replace 100.64.30.0/24 via inet6 2001:db8:1::2 table 254 proto 147 metric 0',
                                       'ip route replace 100.64.31.0/24 via inet6 2001:db8:1::3 dev xh0 table 254 proto 147 metric 0']
    route = route_of(ns, '100.64.30.0/24')
    assert (route['via'], route['dev'], route['protocol']) == ({'family': 'inet6', 'host': '2001:db8:1::2'}, 'xh0', '147')
    result = converge(ns, dict(routes=[dict(dst='100.64.31.0/24', via='2001:db8:1::3', dev='xh0')], purge=True))
    assert result['commands'] == ['ip route del 100.64.30.0/24 table 254 proto 147 metric 0 via inet6 2001:db8:1::2 dev xh0']
    assert route_of(ns, '100.64.30.0/24') == []


def test_kernel_refuses_an_ipv4_gateway_for_an_ipv6_route(ns):
    """Why ip_route (and static_routes) never route IPv6 via an IPv4 underlay address.

    If a kernel ever takes one of these, this test fails: support it then.
    """
    def ip(*argv):
        return subprocess.run(['ip', '-n', ns] + list(argv), capture_output=True, text=True, check=False)
    refused = ip('-6', 'route', 'add', '2001:db8:32::/64', 'via', 'inet', '198.18.0.2', 'dev', 'xh0')
    assert refused.returncode != 0 and 'RTA_VIA' in refused.stderr, refused
    assert ip('nexthop', 'add', 'id', '147', 'via', '198.18.0.2', 'dev', 'xh0').returncode == 0
    refused = ip('-6', 'route', 'add', '2001:db8:32::/64', 'nhid', '147')
    assert refused.returncode != 0 and 'IPv4 nexthop' in refused.stderr, refused
    assert route_of(ns, '2001:db8:32::/64', '-6') == []
    fails(ns, dict(routes=[dict(dst='2001:db8:32::/64', via='198.18.0.2', dev='xh0')]), 'Linux takes no IPv4 next hop for an IPv6 route')


def test_purge_removes_only_ours(ns):
    sh('ip', '-n', ns, 'route', 'add', '100.64.50.0/24', 'via', '198.18.0.9', 'proto', 'static')
    sh('ip', '-n', ns, 'route', 'add', '100.64.51.0/24', 'via', '198.18.0.9')
    sh('ip', '-n', ns, '-6', 'route', 'add', '2001:db8:50::/64', 'via', '2001:db8:1::9', 'proto', 'static')
    ok(run_module('ip_route', dict(netns=ns, routes=[
        dict(dst='100.64.60.0/24', via='198.18.0.2'),
        dict(dst='2001:db8:60::/64', via='2001:db8:1::2'),
        dict(dst='100.64.61.0/24', via='198.18.0.2', table=100),
        dict(dst='100.64.62.0/24', via='198.18.0.2')])))

    result = converge(ns, dict(routes=[dict(dst='100.64.62.0/24', via='198.18.0.2')], purge=True))
    assert result['commands'] == ['ip route del 100.64.60.0/24 table 254 proto 147 metric 0 via 198.18.0.2 dev xh0',
                                  'ip route del 2001:db8:60::/64 table 254 proto 147 metric 1024 via 2001:db8:1::2 dev xh0']
    assert len(result['removed']) == 2
    assert route_of(ns, '100.64.60.0/24') == [] and route_of(ns, '2001:db8:60::/64', '-6') == []
    # Foreign routes and ours in an unmanaged table stay.
    assert route_of(ns, '100.64.50.0/24')['protocol'] == '4'
    assert 'protocol' not in route_of(ns, '100.64.51.0/24')  # proto boot
    assert route_of(ns, '2001:db8:50::/64', '-6')['protocol'] == '4'
    assert route_of(ns, '100.64.61.0/24', table='100')['protocol'] in OURS
    assert route_of(ns, '100.64.62.0/24')['protocol'] in OURS

    # purge_tables reaches table 100; an empty list of routes purges all of ours there.
    result = converge(ns, dict(routes=[], purge=True, purge_tables=[100]))
    assert result['commands'] == ['ip route del 100.64.61.0/24 table 100 proto 147 metric 0 via 198.18.0.2 dev xh0']
    assert route_of(ns, '100.64.62.0/24')['protocol'] in OURS


def test_purge_devices_lets_two_roles_share_a_namespace(ns):
    role_a = dict(routes=[dict(dst='100.64.10.0/24', via='198.18.0.2')], purge=True, purge_devices=['xh0'])
    role_b = dict(routes=[dict(dst='100.64.20.0/24', via='198.18.1.2')], purge=True, purge_devices=['xh2'])
    converge(ns, role_a)
    converge(ns, role_b)
    # Each role's rerun keeps the other role's route.
    ok_a = ok(run_module('ip_route', dict(role_a, netns=ns)))
    assert ok_a['changed'] is False
    assert route_of(ns, '100.64.10.0/24')['dev'] == 'xh0'
    assert route_of(ns, '100.64.20.0/24')['dev'] == 'xh2'
    # Role A drops its route: only that one goes.
    result = converge(ns, dict(role_a, routes=[dict(dst='100.64.11.0/24', via='198.18.0.2')]))
    assert [c for c in result['commands'] if ' del ' in c] == ['ip route del 100.64.10.0/24 table 254 proto 147 metric 0 via 198.18.0.2 dev xh0']
    assert route_of(ns, '100.64.20.0/24')['dev'] == 'xh2'


def test_foreign_route_is_an_error_unless_force(ns):
    sh('ip', '-n', ns, 'route', 'add', '100.64.70.0/24', 'via', '198.18.0.9', 'proto', 'static')
    args = dict(routes=[dict(dst='100.64.71.0/24', via='198.18.0.2'), dict(dst='100.64.70.0/24', via='198.18.0.2')])
    fails(ns, args, 'route 100.64.70.0/24 already exists and is not ours (100.64.70.0/24 via 198.18.0.9 dev xh0 table 254 metric 0 proto 4)')
    # Another metric is another route: no conflict, the foreign one stays.
    converge(ns, dict(routes=[dict(dst='100.64.70.0/24', via='198.18.0.2', metric=10)]))
    assert len(ip_json(ns, 'route', 'show', 'exact', '100.64.70.0/24')) == 2
    converge(ns, dict(args, force=True))
    route = [r for r in ip_json(ns, '-N', 'route', 'show', 'exact', '100.64.70.0/24') if 'metric' not in r][0]
    assert route['gateway'] == '198.18.0.2' and route['protocol'] in OURS


def test_absent_removes_ours_and_leaves_foreign(ns):
    sh('ip', '-n', ns, 'route', 'add', '100.64.80.0/24', 'via', '198.18.0.9', 'proto', 'static')
    ok(run_module('ip_route', dict(netns=ns, routes=[dict(dst='100.64.81.0/24', via='198.18.0.2'),
                                                     dict(dst='2001:db8:81::/64', via='2001:db8:1::2', metric=5)])))
    args = dict(state='absent', routes=[dict(dst='100.64.81.0/24'), dict(dst='2001:db8:81::/64', metric=5), dict(dst='100.64.80.0/24'),
                                        dict(dst='100.64.82.0/24')])
    result = converge(ns, args)
    assert result['commands'] == ['ip route del 100.64.81.0/24 table 254 proto 147 metric 0 via 198.18.0.2 dev xh0',
                                  'ip route del 2001:db8:81::/64 table 254 proto 147 metric 5 via 2001:db8:1::2 dev xh0']
    assert any('100.64.80.0/24' in w for w in result.get('warnings', []))
    assert route_of(ns, '100.64.80.0/24')['protocol'] == '4'


GOOD = dict(dst='100.64.90.0/24', via='198.18.0.2')


@pytest.mark.parametrize('args, message', [
    (dict(routes=[GOOD, dict(dst='100.64.91.0/33', via='198.18.0.2')]), "'100.64.91.0/33'"),
    (dict(routes=[GOOD, dict(dst='100.64.91.1/24', via='198.18.0.2')]), 'host bits'),
    (dict(routes=[GOOD, dict(dst='100.64.91.0/24', via='198.18.0.2', dev='xh-nosuch')]), "dev 'xh-nosuch' does not exist"),
    (dict(routes=[GOOD, dict(dst='100.64.91.0/24', via='198.18.5.5')]), 'gateway 198.18.5.5 is not reachable on link'),
    (dict(routes=[GOOD, dict(dst='100.64.91.0/24', via='198.18.0.2', dev='xh2')]), 'gateway 198.18.0.2 is not reachable on link from dev xh2'),
    (dict(routes=[GOOD, dict(dst='2001:db8:91::/64', via='2001:db8:2::1')]), 'gateway 2001:db8:2::1 is not reachable on link'),
    (dict(routes=[GOOD, dict(dst='100.64.91.0/24', via='198.18.0.2', onlink=True)]), 'onlink needs dev'),
    (dict(routes=[GOOD, dict(dst='2001:db8:91::/64', via='198.18.0.2', dev='xh0')]), 'Linux takes no IPv4 next hop for an IPv6 route'),
    (dict(routes=[GOOD, dict(dst='100.64.91.0/24', via='2001:db8:7::2')]), 'gateway 2001:db8:7::2 is not reachable on link'),
    (dict(routes=[GOOD, dict(dst='100.64.91.0/24', via='198.18.0.2', src='198.18.0.77')]), 'src 198.18.0.77 is not an address'),
    (dict(routes=[GOOD, dict(GOOD, dev='xh0')]), 'declared more than once'),
    (dict(routes=[GOOD, dict(dst='100.64.91.0/24', via='198.18.0.2', table='xh-nosuch')]), "'xh-nosuch' is not a table number"),
    (dict(routes=[GOOD], state='absent', purge=True), 'purge=true only applies to state=present'),
    (dict(routes=[GOOD], purge=True, purge_devices=['bad name']), "'bad name'"),
])
def test_bad_arguments_change_nothing(ns, args, message):
    fails(ns, args, message)
    assert route_of(ns, '100.64.90.0/24') == []


def test_unknown_namespace(ns):
    result = run_module('ip_route', dict(netns='xh-nosuch-ns', routes=[GOOD]))
    assert result.get('failed') and "'xh-nosuch-ns' does not exist" in result['msg']
