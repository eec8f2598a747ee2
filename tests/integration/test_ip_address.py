# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""crosshost.network.ip_address for real, in throwaway namespaces (xh-...).

Every change runs in check mode first (the kernel must not change), then for real and
again (changed=false); --diff is on throughout.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

import pytest

from conftest import ip_json, run_module, sh

MODULE = 'ip_address'


def addresses(ns, dev):
    """``address/len`` of dev, kernel order."""
    return ['%s/%s' % (a['local'], a['prefixlen']) for a in ip_json(ns, 'address', 'show', 'dev', dev)[0].get('addr_info', [])]


def all_addresses(ns):
    """Every address but the kernel's IPv6 link-local ones (addrconf adds them when it likes)."""
    return sorted((link['ifname'], a['local'], a['prefixlen']) for link in ip_json(ns, 'address', 'show') for a in link.get('addr_info', [])
                  if not (a.get('family') == 'inet6' and a.get('scope') == 'link'))


def ok(result):
    assert not result.get('failed'), result
    return result


def converge(args, ns):
    """Check mode (nothing changes), the real run, a rerun (changed=false); returns the real run."""
    before = all_addresses(ns)
    check = ok(run_module(MODULE, args, check=True, diff=True))
    assert check['changed'] is True
    assert check['diff']['before'] != check['diff']['after']
    assert all_addresses(ns) == before, 'check mode changed the kernel'
    real = ok(run_module(MODULE, args, diff=True))
    assert real['changed'] is True
    assert (real['commands'], real['diff'], real['addresses']) == (check['commands'], check['diff'], check['addresses'])
    again = ok(run_module(MODULE, args, diff=True))
    assert again['changed'] is False, again['commands']
    assert again['commands'] == []
    return real


@pytest.fixture
def veth(netns):
    """A veth pair xv0/xv1, both up, so the kernel gives xv0 an IPv6 link-local address."""
    sh('ip', '-n', netns, 'link', 'add', 'xv0', 'type', 'veth', 'peer', 'name', 'xv1')
    sh('ip', '-n', netns, 'link', 'set', 'xv0', 'up')
    sh('ip', '-n', netns, 'link', 'set', 'xv1', 'up')
    for dummy in range(100):
        if any(a.startswith('fe80:') for a in addresses(netns, 'xv0')):
            break
        time.sleep(0.05)
    return 'xv0'


def link_local(ns, dev):
    return [a for a in addresses(ns, dev) if a.startswith('fe80:')]


def test_present_purge_absent(netns, veth):
    lla = link_local(netns, veth)
    assert len(lla) == 1
    args = dict(netns=netns, dev=veth, addresses=['100.64.1.1/24', '2001:db8:1::1/64', '198.18.0.1/15'])
    result = converge(args, netns)
    assert result['commands'] == ['ip address add 100.64.1.1/24 brd + dev xv0', 'ip address add 2001:db8:1::1/64 dev xv0',
                                  'ip address add 198.18.0.1/15 brd + dev xv0']
    assert set(addresses(netns, veth)) == set(args['addresses'] + lla)
    assert ip_json(netns, 'address', 'show', 'dev', veth)[0]['addr_info'][0]['broadcast'] == '100.64.1.255'

    # Another prefix length for the same IP replaces the address.
    result = converge(dict(args, addresses=['2001:db8:1::1/48']), netns)
    assert result['commands'] == ['ip address del 2001:db8:1::1/64 dev xv0', 'ip address add 2001:db8:1::1/48 dev xv0']

    # purge: the undeclared ones go, the kernel's link-local address stays.
    args = dict(netns=netns, dev=veth, addresses=['100.64.1.1/24', '100.64.2.1/24'], purge=True)
    result = converge(args, netns)
    assert 'ip address del 2001:db8:1::1/48 dev xv0' in result['commands']
    assert 'ip address del 198.18.0.1/15 dev xv0' in result['commands']
    assert sorted(addresses(netns, veth)) == sorted(['100.64.1.1/24', '100.64.2.1/24'] + lla)

    result = converge(dict(netns=netns, dev=veth, addresses=['100.64.2.1/24', '100.64.9.9/24'], state='absent'), netns)
    assert result['commands'] == ['ip address del 100.64.2.1/24 dev xv0']
    assert sorted(addresses(netns, veth)) == sorted(['100.64.1.1/24'] + lla)

    # purge with nothing declared: everything but the link-local address goes. Said with
    # its former name, exclusive: a deprecated alias that still works.
    result = converge(dict(netns=netns, dev=veth, addresses=[], exclusive=True), netns)
    assert addresses(netns, veth) == lla
    assert any("'exclusive'" in item['msg'] for item in result.get('deprecations', [])), result

    # A declared link-local address can be removed.
    converge(dict(netns=netns, dev=veth, addresses=lla, state='absent'), netns)
    assert addresses(netns, veth) == []


def test_secondary_survives_removal_of_primary(netns, veth):
    sh('ip', '-n', netns, 'address', 'add', '100.64.3.1/24', 'dev', veth)
    sh('ip', '-n', netns, 'address', 'add', '100.64.3.2/24', 'dev', veth)
    result = converge(dict(netns=netns, dev=veth, addresses=['100.64.3.1/24'], state='absent'), netns)
    assert result['commands'] == ['ip address del 100.64.3.1/24 dev xv0', 'ip address replace 100.64.3.2/24 brd + dev xv0']
    assert [a for a in addresses(netns, veth) if not a.startswith('fe80:')] == ['100.64.3.2/24']


@pytest.mark.parametrize('args, message', [
    (dict(dev='xv0', addresses=['100.64.1.1']), "address of xv0 '100.64.1.1' has no prefix length"),
    (dict(dev='xv0', addresses=['100.64.1.1/24', '100.64.1.300/24']), "address of xv0 '100.64.1.300/24' is not a valid address/len"),
    (dict(dev='xv0', addresses=['2001:db8::1/64', '2001:db8::1/64']), 'address 2001:db8::1/64 of xv0 is listed twice'),
    (dict(dev='nodev0', addresses=['100.64.1.1/24']), "device 'nodev0' does not exist"),
    (dict(dev='xv0-name-too-long', addresses=['100.64.1.1/24']), "device 'xv0-name-too-long' is not valid"),
    (dict(dev='xv0', addresses=[], purge=True, state='absent'), 'purge=true only goes with state=present'),
])
def test_bad_arguments_change_nothing(netns, veth, args, message):
    sh('ip', '-n', netns, 'address', 'add', '100.64.4.1/24', 'dev', veth)
    before = all_addresses(netns)
    result = run_module(MODULE, dict(args, netns=netns))
    assert result.get('failed'), result
    assert message in result['msg']
    assert all_addresses(netns) == before
