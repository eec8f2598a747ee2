"""Unit tests for the LAN slice planning of the pipework backend (module_utils/_lan_slices, filter lan_slices)."""

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.crosshost.network.plugins.filter.lan_slices import FilterModule, lan_slices
from ansible_collections.crosshost.network.plugins.module_utils._lan_slices import parse_range


def host(address, uplink='eth0', on='eth0', **kwargs):
    data = dict(uplink=uplink, bridge='bri0', default_ipv4=dict(gateway='198.18.2.1'),
                interfaces=[dict(interface='eth0', mtu=1500, addresses=[address] if on == 'eth0' else []),
                            dict(interface='bri0', mtu=1500, addresses=[address] if on == 'bri0' else [])])
    data.update(kwargs)
    return data


def two(**extra):
    return {'node1': host('198.18.2.11/24', **extra), 'node2': host('198.18.2.12/24', **extra)}


def error_of(*args, **kwargs):
    with pytest.raises(AnsibleFilterError) as err:
        lan_slices(*args, **kwargs)
    return str(err.value)


def test_registered():
    assert FilterModule().filters()['lan_slices'] is lan_slices


def test_highest_free_slices_skip_the_broadcast_address():
    result = lan_slices(two())
    assert result['plan']['node1'] == dict(bridge='bri0', lan='198.18.2.0/24', address='198.18.2.11/24',
                                           fixed_cidr='198.18.2.224/28', default_gateway='198.18.2.1')
    assert result['plan']['node2']['fixed_cidr'] == '198.18.2.208/28'
    assert result['allocations'] == {'slices': {'node1': '198.18.2.224/28', 'node2': '198.18.2.208/28'}}


def test_joined_uplink_reads_the_bridge_address():
    hosts = {'node1': host('198.18.2.11/24', on='bri0'), 'node2': host('198.18.2.12/24')}
    assert lan_slices(hosts)['plan']['node1']['address'] == '198.18.2.11/24'


def test_stable_across_runs_and_host_add_remove():
    first = lan_slices(two())
    again = lan_slices(two(), allocations=first['allocations'])
    assert again == first
    # node0 joins: it sorts first but takes a new slice; the others keep theirs.
    hosts = two()
    hosts['node0'] = host('198.18.2.10/24')
    grown = lan_slices(hosts, allocations=first['allocations'])
    assert grown['plan']['node1']['fixed_cidr'] == '198.18.2.224/28'
    assert grown['plan']['node2']['fixed_cidr'] == '198.18.2.208/28'
    assert grown['plan']['node0']['fixed_cidr'] == '198.18.2.192/28'
    # node1 leaves: node2 keeps its slice, node1's is dropped from the file.
    shrunk = lan_slices({'node2': hosts['node2'], 'node0': hosts['node0']}, allocations=grown['allocations'])
    assert shrunk['allocations']['slices'] == {'node0': '198.18.2.192/28', 'node2': '198.18.2.208/28'}


def test_limit_keeps_slices_of_hosts_outside_the_run():
    first = lan_slices(two())
    hosts = {'node2': host('198.18.2.12/24'), 'node3': host('198.18.2.13/24')}
    result = lan_slices(hosts, allocations=first['allocations'], reserved_hosts=['node1', 'node2', 'node3'])
    assert result['allocations']['slices']['node1'] == '198.18.2.224/28'
    assert result['plan']['node3']['fixed_cidr'] == '198.18.2.192/28'


def test_never_holds_hosts_gateway_reserved_or_static_addresses():
    hosts = {
        'a': host('198.18.2.250/24', gateway='198.18.2.238', reserved=['198.18.2.200-198.18.2.215'],
                  static=['198.18.2.190/24@198.18.2.1', 'not an address']),
        'b': host('198.18.2.12/24', gateway='198.18.2.238'),
    }
    plan = lan_slices(hosts, allocations=None)['plan']
    # .240/28 holds a's address, .224/28 the gateway, .208/28 and .192/28 the reserved range,
    # .176/28 the static .190: the next ones down.
    assert plan['a']['fixed_cidr'] == '198.18.2.160/28'
    assert plan['b']['fixed_cidr'] == '198.18.2.144/28'
    assert plan['a']['default_gateway'] == '198.18.2.238'


def test_pins_and_per_host_slice_length():
    hosts = two()
    hosts['node1']['slice'] = '198.18.2.64/26'
    hosts['node2']['slice_len'] = 27
    plan = lan_slices(hosts)['plan']
    assert plan['node1']['fixed_cidr'] == '198.18.2.64/26'
    assert plan['node2']['fixed_cidr'] == '198.18.2.192/27'


def test_several_lans_are_planned_apart():
    hosts = two()
    hosts['far'] = host('198.18.3.12/24', default_ipv4=dict(gateway='198.18.3.1'))
    plan = lan_slices(hosts)['plan']
    assert plan['far']['fixed_cidr'] == '198.18.3.224/28'
    assert plan['far']['lan'] == '198.18.3.0/24'


@pytest.mark.parametrize('change, expected', [
    (dict(node1=dict(slice='198.18.2.0/28')), 'host node1: pipework_docker_slice 198.18.2.0/28 does not fit: it holds the network address'),
    (dict(node1=dict(slice='198.18.2.8/28')), "host node1: pipework_docker_slice '198.18.2.8/28' is not an aligned IPv4 network"),
    (dict(node1=dict(slice='198.18.3.16/28')), 'host node1: pipework_docker_slice 198.18.3.16/28 does not fit: it is not inside the LAN 198.18.2.0/24'),
    (dict(node1=dict(slice='198.18.2.8/29')), 'host node1: pipework_docker_slice 198.18.2.8/29 does not fit: it holds the address of host node1'),
    (dict(node1=dict(slice='198.18.2.32/27'), node2=dict(slice='198.18.2.48/28')),
     'host node2: pipework_docker_slice 198.18.2.48/28 does not fit: it overlaps the slice 198.18.2.32/27 of host node1'),
    (dict(node1=dict(reserved=['198.18.9.0/24'])), 'host node1: pipework_lan_reserved[0] 198.18.9.0/24 is outside the LAN 198.18.2.0/24'),
    (dict(node1=dict(reserved=['198.18.2.9-198.18.2.3'])), "host node1: pipework_lan_reserved[0] '198.18.2.9-198.18.2.3' is not a CIDR"),
    (dict(node2=dict(uplink='')), 'host node2: pipework_uplink is empty'),
    (dict(node2=dict(uplink='eth9')), 'host node2: pipework_uplink eth9 is not an interface of the host'),
    (dict(node1=dict(gateway='198.18.7.1')), 'host node1: pipework_lan_gateway 198.18.7.1 is not a host address of the LAN 198.18.2.0/24'),
    (dict(node1=dict(gateway='nope')), "host node1: pipework_lan_gateway 'nope' is not an IPv4 address"),
    (dict(node1=dict(default_ipv4={})), 'host node1: no LAN gateway: set pipework_lan_gateway'),
    (dict(node1=dict(slice_len=24)), 'host node1: pipework_docker_slice_len 24 must be longer than the LAN 198.18.2.0/24'),
    (dict(node1=dict(slice_len='x')), "host node1: pipework_docker_slice_len 'x' is not an integer"),
])
def test_bad_input_names_host_variable_value(change, expected):
    hosts = two()
    for name, extra in change.items():
        hosts[name].update(extra)
    assert expected in error_of(hosts)


def test_uplink_without_address():
    hosts = two()
    hosts['node2']['interfaces'][0]['addresses'] = []
    assert 'host node2: pipework_uplink eth0 has no IPv4 address (nor bridge bri0)' in error_of(hosts)


def test_lan_too_small():
    hosts = {'a': host('198.18.2.1/29', default_ipv4=dict(gateway='198.18.2.2')),
             'b': host('198.18.2.3/29', default_ipv4=dict(gateway='198.18.2.2'))}
    for data in hosts.values():
        data['slice_len'] = 30
    assert 'host b: the LAN 198.18.2.0/29 is too small' in error_of(hosts)


def test_kept_slice_that_no_longer_fits_is_an_error_not_a_move():
    first = lan_slices(two())
    hosts = two(reserved=['198.18.2.224/28'])
    message = error_of(hosts, allocations=first['allocations'], source='/inv/.crosshost_lan_slices.yml')
    assert 'host node1: its kept slice 198.18.2.224/28 (/inv/.crosshost_lan_slices.yml) no longer fits' in message
    assert 'delete its line' in message


def test_kept_slice_of_another_length_is_planned_again():
    first = lan_slices(two())
    hosts = two(slice_len=27)
    assert lan_slices(hosts, allocations=first['allocations'])['plan']['node1']['fixed_cidr'] == '198.18.2.192/27'


def test_bad_slices_file():
    assert 'expected a YAML mapping' in error_of(two(), allocations=['x'], source='f')


def test_parse_range():
    assert [str(a) for a in parse_range('198.18.2.8/29')] == ['198.18.2.8', '198.18.2.15']
    assert [str(a) for a in parse_range('198.18.2.100 - 198.18.2.120')] == ['198.18.2.100', '198.18.2.120']
    assert [str(a) for a in parse_range('198.18.2.7')] == ['198.18.2.7', '198.18.2.7']
