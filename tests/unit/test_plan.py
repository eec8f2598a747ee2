"""Unit tests for the crosshost.network.cluster_plan / host_interfaces filters (plugins/filter/plan.py)."""

import copy

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.crosshost.network.plugins.filter.plan import FilterModule, cluster_plan, host_interfaces, not_reached

NET = '100.64.0.0/16'
ENTRY_KEYS = {'subnet', 'gateway', 'bip', 'prefixlen', 'underlay_ip', 'underlay_interface', 'underlay_mtu', 'vtep_mac', 'network',
              'in_run', 'reachable', 'subnet_v6', 'gateway_v6', 'bip_v6', 'underlay_ip6'}


def host(underlay_ip=None, network=NET, **kwargs):
    """One host's input, as the preflight role builds it."""
    data = dict(network=network, subnet_len=None, subnet_min=None, subnet_max=None, subnet=None,
                underlay_ip=underlay_ip, underlay_interface=None, underlay_mtu=None, default_ipv4={}, interfaces=[])
    data.update(kwargs)
    return data


def three(**per_host):
    hosts = {
        'h1': host('198.18.0.11'),
        'h2': host('198.18.0.12'),
        'h3': host('198.18.0.13'),
    }
    for name, extra in per_host.items():
        hosts[name].update(extra)
    return hosts


def error_of(*args, **kwargs):
    with pytest.raises(AnsibleFilterError) as err:
        cluster_plan(*args, **kwargs)
    return str(err.value)


def test_filters_registered():
    assert set(FilterModule().filters()) == {'cluster_plan', 'host_interfaces', 'not_reached'}


def test_plan_three_hosts():
    result = cluster_plan(three())
    plan = result['plan']
    assert sorted(plan) == ['h1', 'h2', 'h3']
    assert plan['h2'] == {
        'subnet': '100.64.2.0/24',
        'gateway': '100.64.2.1',
        'bip': '100.64.2.1/24',
        'prefixlen': 24,
        'underlay_ip': '198.18.0.12',
        'underlay_interface': None,
        'underlay_mtu': 1500,
        'vtep_mac': plan['h2']['vtep_mac'],
        'network': NET,
        'in_run': True,
        'reachable': True,
        'subnet_v6': '', 'gateway_v6': '', 'bip_v6': '', 'underlay_ip6': '',  # an IPv4-only cluster
    }
    for entry in plan.values():
        assert set(entry) == ENTRY_KEYS
    assert len(set(e['vtep_mac'] for e in plan.values())) == 3
    assert result['network'] == NET
    assert result['subnet_len'] == 24
    assert result['subnet_min'] == '100.64.1.0'
    assert result['subnet_max'] == '100.64.255.0'
    assert result['hosts'] == ['h1', 'h2', 'h3']
    assert result['reserved'] == {}
    assert result['allocations'] == {
        'network': NET, 'subnet_len': 24,
        'subnets': {'h1': '100.64.1.0/24', 'h2': '100.64.2.0/24', 'h3': '100.64.3.0/24'},
        'underlay': {'h1': '198.18.0.11', 'h2': '198.18.0.12', 'h3': '198.18.0.13'},
    }


def test_plan_deterministic_whatever_the_order():
    hosts = three(h2={'subnet': '100.64.9.0/24'})
    reordered = dict(reversed(list(copy.deepcopy(hosts).items())))
    kept = {'subnets': {'h3': '100.64.5.0/24'}}
    assert cluster_plan(hosts, kept) == cluster_plan(reordered, kept)


def test_plan_subnet_len_as_string_and_custom_bounds():
    hosts = dict((n, dict(h, subnet_len='26', subnet_min='100.64.0.128', subnet_max='100.64.1.0')) for n, h in three().items())
    result = cluster_plan(hosts)
    assert [result['plan'][n]['subnet'] for n in ('h1', 'h2', 'h3')] == ['100.64.0.128/26', '100.64.0.192/26', '100.64.1.0/26']
    assert result['plan']['h1']['bip'] == '100.64.0.129/26'
    assert (result['subnet_min'], result['subnet_max']) == ('100.64.0.128', '100.64.1.0')


# --- underlay from facts -------------------------------------------------------------------

FACTS = {
    'interfaces': ['lo', 'eth0', 'eth1', 'br-lan', 'eth0:1'],
    'lo': {'device': 'lo', 'mtu': 65536, 'ipv4': {'address': '127.0.0.1', 'netmask': '255.0.0.0', 'prefix': '8'}},
    'eth0': {'device': 'eth0', 'mtu': 1500, 'ipv4': {'address': '198.18.0.11', 'netmask': '255.255.255.0', 'prefix': '24'},
             'ipv4_secondaries': [{'address': '198.18.5.1', 'netmask': '255.255.255.0', 'prefix': '24'}]},
    'eth1': {'device': 'eth1', 'mtu': 9000, 'ipv4': {'address': '198.19.0.11', 'netmask': '255.255.0.0', 'prefix': '16'}},
    'br_lan': {'device': 'br-lan', 'mtu': 1400},
    'eth0_1': {'device': 'eth0:1', 'mtu': 1500, 'ipv4': {'address': '198.18.9.1', 'netmask': '255.255.255.0'}},
    'default_ipv4': {'address': '198.18.0.11', 'interface': 'eth0', 'mtu': 1500},
}


def test_host_interfaces():
    assert host_interfaces(FACTS) == [
        {'interface': 'br-lan', 'mtu': 1400, 'addresses': [], 'addresses_v6': [], 'active': None},
        {'interface': 'eth0', 'mtu': 1500, 'addresses': ['198.18.0.11/24', '198.18.5.1/24'], 'addresses_v6': [], 'active': None},
        {'interface': 'eth0:1', 'mtu': 1500, 'addresses': ['198.18.9.1/255.255.255.0'], 'addresses_v6': [], 'active': None},
        {'interface': 'eth1', 'mtu': 9000, 'addresses': ['198.19.0.11/16'], 'addresses_v6': [], 'active': None},
        {'interface': 'lo', 'mtu': 65536, 'addresses': ['127.0.0.1/8'], 'addresses_v6': [], 'active': None},
    ]
    assert host_interfaces({}) == []
    assert host_interfaces(None) == []


def facts_host(**kwargs):
    return host(default_ipv4=FACTS['default_ipv4'], interfaces=host_interfaces(FACTS), **kwargs)


def test_underlay_defaults_to_default_route():
    entry = cluster_plan({'a': facts_host()})['plan']['a']
    assert (entry['underlay_ip'], entry['underlay_interface'], entry['underlay_mtu']) == ('198.18.0.11', 'eth0', 1500)


def test_underlay_interface_follows_explicit_address():
    entry = cluster_plan({'a': facts_host(underlay_ip='198.19.0.11')})['plan']['a']
    assert (entry['underlay_ip'], entry['underlay_interface'], entry['underlay_mtu']) == ('198.19.0.11', 'eth1', 9000)


def test_underlay_address_not_on_host_falls_back_to_default_interface():
    # e.g. a public address NATed to the host
    entry = cluster_plan({'a': facts_host(underlay_ip='198.18.200.1')})['plan']['a']
    assert (entry['underlay_interface'], entry['underlay_mtu']) == ('eth0', 1500)


def test_underlay_explicit_interface_and_mtu():
    entry = cluster_plan({'a': facts_host(underlay_interface='br-lan', underlay_mtu='1450')})['plan']['a']
    assert (entry['underlay_interface'], entry['underlay_mtu']) == ('br-lan', 1450)


@pytest.mark.parametrize('mtu, words', [('big', ["'big'", 'not an integer']), (100, ['100', 'out of range'])])
def test_underlay_bad_mtu(mtu, words):
    msg = error_of({'a': facts_host(underlay_mtu=mtu)})
    for word in words + ['host a', 'crosshost_underlay_mtu']:
        assert word in msg


def test_no_underlay_address():
    msg = error_of(three(h2={'underlay_ip': None}))
    assert msg.startswith('host h2: no underlay address')
    assert 'crosshost_underlay_ip' in msg


def test_bad_underlay_address():
    assert "host h3: crosshost_underlay_ip '198.18.0.999' is not a valid IPv4 address" in error_of(three(h3={'underlay_ip': '198.18.0.999'}))


def test_duplicate_underlay_address():
    msg = error_of(three(h3={'underlay_ip': '198.18.0.11'}))
    assert msg == 'hosts h1 and h3 have the same underlay address 198.18.0.11: set crosshost_underlay_ip per host'


def test_errors_of_several_hosts_are_reported_together():
    msg = error_of(three(h1={'underlay_ip': None}, h3={'underlay_ip': 'x'}))
    assert 'host h1: no underlay address' in msg and "host h3: crosshost_underlay_ip 'x'" in msg


# --- cluster-wide values -------------------------------------------------------------------

def test_network_must_agree():
    msg = error_of(three(h2={'network': '100.65.0.0/16'}))
    assert msg == ("host h2: crosshost_network '100.65.0.0/16' differs from '100.64.0.0/16' on host h1: "
                   "it must be the same for every host of the cluster")


def test_network_missing_on_one_host():
    msg = error_of(three(h1={'network': None}))
    assert msg.startswith("host h1: crosshost_network is not set, but host h2 has '100.64.0.0/16'")


def test_network_missing_everywhere():
    assert 'host h1: crosshost_network is not set' in error_of(dict((n, dict(h, network=None)) for n, h in three().items()))


def test_subnet_len_must_agree():
    msg = error_of(three(h1={'subnet_len': 24}, h2={'subnet_len': '24'}, h3={'subnet_len': 25}))
    assert msg.startswith("host h3: crosshost_subnet_len '25' differs from '24' on host h1")
    # Set on some hosts only: the others are named.
    assert error_of(three(h3={'subnet_len': 25})).startswith("host h1: crosshost_subnet_len is not set, but host h3 has '25'")


@pytest.mark.parametrize('network, words', [
    ('100.64.0.0/33', ["'100.64.0.0/33'", 'not a valid CIDR']),
    ('fish', ["'fish'", 'not a CIDR']),
    ('100.64.1.0/16', ["'100.64.1.0/16'", 'host bits']),
])
def test_bad_network(network, words):
    msg = error_of(dict((n, dict(h, network=network)) for n, h in three().items()))
    for word in words + ['host h1', 'crosshost_network']:
        assert word in msg


@pytest.mark.parametrize('subnet_len', [16, 12, 31, 'abc'])
def test_impossible_subnet_len(subnet_len):
    msg = error_of(dict((n, dict(h, subnet_len=subnet_len)) for n, h in three().items()))
    assert 'host h1: crosshost_subnet_len' in msg and str(subnet_len) in msg


def test_more_hosts_than_subnets():
    hosts = dict((n, dict(h, network='100.64.0.0/29', subnet_len=30)) for n, h in three().items())
    msg = error_of(hosts)
    assert msg.startswith('host h2: no free subnet left in 100.64.0.0/29: 3 hosts need one')


# --- pins ------------------------------------------------------------------------------------

def test_pin():
    plan = cluster_plan(three(h3={'subnet': '100.64.1.0/24'}))['plan']
    assert [plan[n]['subnet'] for n in ('h1', 'h2', 'h3')] == ['100.64.2.0/24', '100.64.3.0/24', '100.64.1.0/24']


def test_duplicate_pin():
    msg = error_of(three(h1={'subnet': '100.64.8.0/24'}, h3={'subnet': '100.64.8.0/24'}))
    assert msg == 'hosts h1 and h3 both pin crosshost_subnet 100.64.8.0/24'


@pytest.mark.parametrize('pin, words', [
    ('100.64.8.1/24', ['not aligned', 'did you mean 100.64.8.0/24']),
    ('100.64.0.0/24', ['out of range']),
    ('100.99.0.0/24', ['outside the cluster network']),
    ('100.64.8.0/25', ['/25']),
])
def test_bad_pin(pin, words):
    msg = error_of(three(h2={'subnet': pin}))
    for word in words + ['host h2', 'crosshost_subnet', pin.split('/')[0]]:
        assert word in msg


# --- overlaps ----------------------------------------------------------------------------------

def test_network_overlaps_underlay():
    hosts = three()
    hosts['h1']['interfaces'] = [{'interface': 'eth0', 'mtu': 1500, 'addresses': ['198.18.0.11/15']}]
    hosts = dict((n, dict(h, network='198.18.0.0/15')) for n, h in hosts.items())
    msg = error_of(hosts)
    assert 'host h1: underlay address 198.18.0.11 lies inside the cluster network 198.18.0.0/15' in msg
    assert 'host h1: interface eth0 has 198.18.0.11/15 (network 198.18.0.0/15), which overlaps the cluster network 198.18.0.0/15' in msg
    assert 'host h3: underlay address 198.18.0.13' in msg


def test_network_overlaps_a_hosts_other_network():
    hosts = three()
    hosts['h2']['interfaces'] = [{'interface': 'eth1', 'mtu': 1500, 'addresses': ['100.64.0.0/10']}]
    msg = error_of(hosts)
    assert msg.startswith('host h2: interface eth1 has 100.64.0.0/10')


def test_own_subnet_on_host_is_fine():
    # Second run: docker0 already has this host's gateway.
    hosts = three()
    hosts['h1']['interfaces'] = [{'interface': 'docker0', 'mtu': 1500, 'addresses': ['100.64.1.1/24']}]
    assert cluster_plan(hosts)['plan']['h1']['subnet'] == '100.64.1.0/24'


# --- kept allocations --------------------------------------------------------------------------

def test_kept_allocations_are_kept_and_gone_hosts_dropped():
    kept = {'network': NET, 'subnet_len': 24, 'subnets': {'h1': '100.64.7.0/24', 'gone': '100.64.1.0/24'}}
    result = cluster_plan(three(), kept, inventory_hosts=['h1', 'h2', 'h3'])
    assert result['allocations']['subnets'] == {'h1': '100.64.7.0/24', 'h2': '100.64.1.0/24', 'h3': '100.64.2.0/24'}
    assert result['reserved'] == {}


def test_inventory_hosts_outside_the_run_stay_reserved():
    kept = {'subnets': {'h1': '100.64.1.0/24', 'h2': '100.64.2.0/24', 'h3': '100.64.3.0/24', 'gone': '100.64.4.0/24'}}
    hosts = three()
    del hosts['h2']  # e.g. --limit '!h2'
    hosts['h4'] = host('198.18.0.14')
    result = cluster_plan(hosts, kept, inventory_hosts=['h1', 'h2', 'h3', 'h4', 'localhost'])
    assert result['reserved'] == {'h2': '100.64.2.0/24'}
    assert result['plan']['h4']['subnet'] == '100.64.4.0/24'  # 'gone' was freed, h2's was not
    assert result['allocations']['subnets'] == {'h1': '100.64.1.0/24', 'h2': '100.64.2.0/24', 'h3': '100.64.3.0/24', 'h4': '100.64.4.0/24'}
    assert sorted(result['plan']) == ['h1', 'h3', 'h4']


def test_reserved_that_no_longer_fits_is_dropped():
    kept = {'subnets': {'h1': '100.64.1.0/24', 'off': '10.0.0.0/24'}}
    result = cluster_plan({'h1': host('198.18.0.11')}, kept, inventory_hosts=['h1', 'off'])
    assert result['reserved'] == {}
    assert result['allocations']['subnets'] == {'h1': '100.64.1.0/24'}


def test_adding_and_removing_hosts_keeps_the_others():
    first = cluster_plan(three(), None, ['h1', 'h2', 'h3'])
    hosts = three()
    del hosts['h1']
    hosts['a0'] = host('198.18.0.10')
    second = cluster_plan(hosts, first['allocations'], ['a0', 'h2', 'h3'])
    assert second['allocations']['subnets'] == {'a0': '100.64.1.0/24', 'h2': '100.64.2.0/24', 'h3': '100.64.3.0/24'}
    for name in ('h2', 'h3'):
        assert second['plan'][name] == first['plan'][name]


@pytest.mark.parametrize('allocations', [None, '', {}, {'subnets': None}])
def test_no_allocations(allocations):
    assert cluster_plan(three(), allocations)['plan']['h1']['subnet'] == '100.64.1.0/24'


@pytest.mark.parametrize('allocations, words', [
    (['h1'], ['expected a YAML mapping']),
    ('junk', ['expected a YAML mapping']),
    ({'subnets': ['h1', '100.64.1.0/24']}, ['"subnets" must map host -> subnet']),
    ({'subnets': {}, 'underlay': ['198.18.0.11']}, ['"underlay" must map host -> underlay address']),
])
def test_bad_allocations(allocations, words):
    msg = error_of(three(), allocations, source='/inv/crosshost_allocations.yml')
    for word in words + ['/inv/crosshost_allocations.yml']:
        assert word in msg


def test_bad_hosts_argument():
    assert 'at least one host' in error_of({})
    assert 'at least one host' in error_of(['h1'])


# --- hosts of the cluster outside the run (--limit, unreachable) -------------------------------

PEER_KEYS = ('subnet', 'gateway', 'bip', 'prefixlen', 'underlay_ip', 'vtep_mac', 'network')


def test_host_outside_the_run_keeps_its_allocation_and_stays_in_the_plan():
    full = cluster_plan(three(), None, ['h1', 'h2', 'h3'])
    hosts = three()
    del hosts['h2']
    result = cluster_plan(hosts, full['allocations'], ['h1', 'h2', 'h3'], outside={'h2': {'underlay_ip': None, 'reachable': False}})
    assert sorted(result['plan']) == ['h1', 'h2', 'h3']
    h2 = result['plan']['h2']
    assert dict((k, h2[k]) for k in PEER_KEYS) == dict((k, full['plan']['h2'][k]) for k in PEER_KEYS)
    assert (h2['in_run'], h2['reachable'], h2['underlay_interface'], h2['underlay_mtu']) == (False, False, None, None)
    assert result['plan']['h1'] == full['plan']['h1']
    assert result['hosts'] == ['h1', 'h3']
    assert result['outside'] == ['h2']
    assert result['unplanned'] == {}
    assert result['reserved'] == {'h2': '100.64.2.0/24'}
    assert result['allocations'] == full['allocations']


def test_outside_host_underlay_from_the_inventory_first():
    kept = {'subnets': {'h1': '100.64.1.0/24', 'h2': '100.64.2.0/24'}, 'underlay': {'h2': '198.18.0.12'}}
    hosts = {'h1': host('198.18.0.11')}
    result = cluster_plan(hosts, kept, outside={'h2': {'underlay_ip': '198.18.0.22', 'reachable': True}})
    assert result['plan']['h2']['underlay_ip'] == '198.18.0.22'
    assert result['plan']['h2']['reachable'] is True
    assert result['allocations']['underlay'] == {'h1': '198.18.0.11', 'h2': '198.18.0.22'}


def test_allocations_file_without_underlay_still_loads():
    kept = {'network': NET, 'subnet_len': 24, 'subnets': {'h1': '100.64.1.0/24', 'h2': '100.64.2.0/24'}}
    result = cluster_plan({'h1': host('198.18.0.11')}, kept, outside={'h2': {'underlay_ip': None, 'reachable': False}})
    # Its subnet stays reserved, but without an address nobody can route to it: reported, not guessed.
    assert sorted(result['plan']) == ['h1']
    assert result['unplanned'] == {'h2': 'no underlay address known: set crosshost_underlay_ip for it'}
    assert result['allocations']['subnets'] == kept['subnets']
    assert result['allocations']['underlay'] == {'h1': '198.18.0.11'}


def test_outside_host_never_planned_is_reported_not_invented():
    result = cluster_plan({'h1': host('198.18.0.11')}, None, outside={'h2': {'underlay_ip': '198.18.0.12', 'reachable': False}})
    assert sorted(result['plan']) == ['h1']
    assert result['unplanned'] == {'h2': 'no subnet kept for it in the allocations file (never planned)'}
    assert result['allocations']['subnets'] == {'h1': '100.64.1.0/24'}


def test_outside_host_bad_values_are_refused():
    kept = {'subnets': {'h2': '100.64.2.0/24'}, 'underlay': {'h2': '198.18.0.11'}}
    msg = error_of({'h1': host('198.18.0.11')}, kept, outside={'h2': {'underlay_ip': None, 'reachable': False}})
    assert 'hosts h1 and h2 have the same underlay address 198.18.0.11' in msg
    msg = error_of({'h1': host('198.18.0.11')}, kept, outside={'h2': {'underlay_ip': 'nope', 'reachable': True}})
    assert "host h2: crosshost_underlay_ip 'nope' is not a valid IPv4 address" in msg
    assert 'outside must map host' in error_of({'h1': host('198.18.0.11')}, None, outside=['h2'])


def test_outside_host_kept_subnet_is_not_given_to_another():
    kept = {'subnets': {'h2': '100.64.1.0/24'}, 'underlay': {'h2': '198.18.0.12'}}
    result = cluster_plan({'h1': host('198.18.0.11')}, kept, outside={'h2': {'underlay_ip': None, 'reachable': True}})
    assert result['plan']['h1']['subnet'] == '100.64.2.0/24'
    assert result['plan']['h2']['subnet'] == '100.64.1.0/24'
    msg = error_of({'h1': host('198.18.0.11', subnet='100.64.1.0/24')}, kept, outside={'h2': {'underlay_ip': None, 'reachable': True}})
    assert 'host h1: crosshost_subnet 100.64.1.0/24 is already taken by host h2' in msg


# --- not_reached -------------------------------------------------------------------------------

def test_not_reached_tells_unreachable_from_failed():
    paused = {'failed': True, 'module_stdout': '', 'rc': 1, 'msg': 'Module result deserialization failed: No start of json char found',
              'module_stderr': 'Error response from daemon: Container lab-node2 is paused, unpause the container before exec\n'}
    hosts = {
        'ssh': {'probe_facts': {'unreachable': True, 'msg': 'Failed to connect to the host via ssh'}},
        'later': {'probe_facts': {'skipped': True}, 'probe_routes': {'unreachable': True, 'msg': ''}},
        'paused': {'probe_facts': paused},
        'failed': {'probe_facts': {'failed': True, 'msg': 'bad value'}},
        'no_python': {'probe_facts': dict(paused, module_stderr='/bin/sh: 1: /usr/bin/python3: not found', rc=127)},
        'bad_variable': {'probe_facts': {'changed': False}},
    }
    assert not_reached(hosts, ['probe_facts', 'probe_routes']) == {
        'ssh': 'Failed to connect to the host via ssh',
        'later': 'unreachable',
        'paused': 'the connection could not run anything there: Error response from daemon: '
                  'Container lab-node2 is paused, unpause the container before exec',
    }
    assert not_reached({}, ['probe_facts']) == {}
