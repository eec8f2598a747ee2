"""Unit tests for plugins/module_utils/_subnets.py (pure subnet arithmetic and validation)."""

import ipaddress
import itertools
import re

import pytest

from ansible_collections.crosshost.network.plugins.module_utils import _subnets
from ansible_collections.crosshost.network.plugins.module_utils._subnets import (
    SubnetError,
    allocate,
    check_subnet,
    default_subnet_len,
    iter_subnets,
    overlap_errors,
    parse_address,
    parse_network,
    stable_mac,
    subnet_bounds,
    subnet_entry,
    validate_subnet_len,
)

NET = '100.64.0.0/16'


def strs(mapping):
    return dict((k, str(v)) for k, v in mapping.items())


def test_module_imports_only_stdlib():
    # Shared with modules running on targets: nothing but the standard library.
    with open(_subnets.__file__) as handle:
        source = handle.read()
    imports = set(re.findall(r'^\s*(?:from|import)\s+([\w.]+)', source, re.M))
    assert imports <= {'__future__', 'hashlib', 'ipaddress'}


# --- network ---------------------------------------------------------------------------

def test_parse_network_ok():
    assert parse_network(NET) == ipaddress.IPv4Network(NET)
    assert parse_network(' 100.64.0.0/10 ') == ipaddress.IPv4Network('100.64.0.0/10')


@pytest.mark.parametrize('value, words', [
    ('banana', ['not a CIDR', "'banana'"]),
    ('100.64.0.0/33', ['not a valid CIDR', '100.64.0.0/33']),
    ('100.64.0.0', ['not a CIDR', '100.64.0.0']),
    ('100.64.0.1/16', ['host bits set', '100.64.0.1/16', 'did you mean 100.64.0.0/16']),
    ('2001:db8::/32', ['IPv6', '2001:db8::/32']),
    ('', ['is not set']),
    (None, ['is not set']),
])
def test_parse_network_bad(value, words):
    with pytest.raises(SubnetError) as err:
        parse_network(value, host='h1')
    for word in words + ['host h1', 'crosshost_network']:
        assert word in str(err.value)
    assert err.value.host == 'h1'
    assert err.value.value == value


# --- subnet length -----------------------------------------------------------------------

def test_default_subnet_len_is_flannels():
    assert default_subnet_len('100.64.0.0/16') == 24
    assert default_subnet_len('100.64.0.0/22') == 24
    assert default_subnet_len('100.64.0.0/23') == 25
    assert default_subnet_len('100.64.0.0/28') == 30


@pytest.mark.parametrize('value, expected', [(24, 24), ('24', 24), ('/26', 26), (None, 24), ('', 24), (30, 30), (17, 17)])
def test_validate_subnet_len_ok(value, expected):
    assert validate_subnet_len(NET, value) == expected


@pytest.mark.parametrize('value, words', [
    (16, ['impossible', '16', 'longer than /16']),
    (8, ['impossible', '8']),
    (31, ['impossible', '31', 'at most /30']),
    ('x', ['not an integer', "'x'"]),
    (True, ['not an integer']),
])
def test_validate_subnet_len_bad(value, words):
    with pytest.raises(SubnetError) as err:
        validate_subnet_len(NET, value, host='h1')
    for word in words + ['host h1', 'crosshost_subnet_len']:
        assert word in str(err.value)


def test_default_subnet_len_impossible_network():
    with pytest.raises(SubnetError, match='impossible'):
        validate_subnet_len('100.64.0.0/30', None)


# --- candidate subnets -----------------------------------------------------------------

def test_bounds_default_second_to_last():
    assert subnet_bounds(NET, 24) == (1, 255)
    subnets = list(iter_subnets(NET, 24))
    assert str(subnets[0]) == '100.64.1.0/24'   # the first subnet is never handed out
    assert str(subnets[-1]) == '100.64.255.0/24'
    assert len(subnets) == 255


def test_bounds_custom_min_max():
    assert subnet_bounds(NET, 24, '100.64.10.0', '100.64.20.0/24') == (10, 20)
    assert [str(s) for s in iter_subnets('100.64.0.0/28', 30)] == ['100.64.0.4/30', '100.64.0.8/30', '100.64.0.12/30']


@pytest.mark.parametrize('smin, smax, words', [
    ('100.64.10.5', None, ['crosshost_subnet_min', '100.64.10.5']),
    ('100.65.0.0', None, ['crosshost_subnet_min', '100.65.0.0']),
    (None, 'nope', ['crosshost_subnet_max', 'nope']),
    ('100.64.20.0', '100.64.10.0', ['above', '100.64.20.0/24', '100.64.10.0/24']),
])
def test_bounds_bad(smin, smax, words):
    with pytest.raises(SubnetError) as err:
        subnet_bounds(NET, 24, smin, smax, host='h1')
    for word in words:
        assert word in str(err.value)


def test_iter_subnets_is_lazy_on_big_networks():
    first = next(iter_subnets('100.64.0.0/10', 30))
    assert str(first) == '100.64.0.4/30'


# --- one subnet --------------------------------------------------------------------------

@pytest.mark.parametrize('value, words', [
    ('zzz', ['not a valid CIDR', "'zzz'"]),
    ('100.64.3.0', ['not an IPv4 CIDR', '100.64.3.0']),
    ('100.64.3.0/25', ['/25', '/24', '100.64.3.0/25']),
    ('100.64.3.7/24', ['not aligned', '100.64.3.7/24', 'did you mean 100.64.3.0/24']),
    ('100.65.3.0/24', ['outside the cluster network', '100.65.3.0/24']),
    ('100.64.0.0/24', ['out of range', '100.64.0.0/24', '100.64.1.0/24 .. 100.64.255.0/24']),
    ('2001:db8::/64', ['not an IPv4 CIDR']),
])
def test_check_subnet_bad(value, words):
    with pytest.raises(SubnetError) as err:
        check_subnet(value, NET, 24, host='h7')
    for word in words + ['host h7', 'crosshost_subnet']:
        assert word in str(err.value)
    assert err.value.host == 'h7'


def test_check_subnet_custom_range():
    with pytest.raises(SubnetError, match='out of range'):
        check_subnet('100.64.30.0/24', NET, 24, bounds=(10, 20))
    assert str(check_subnet('100.64.15.0/24', NET, 24, bounds=(10, 20))) == '100.64.15.0/24'


# --- allocation --------------------------------------------------------------------------

def test_allocate_lowest_free_sorted():
    assert strs(allocate(['c', 'a', 'b'], NET, 24)) == {'a': '100.64.1.0/24', 'b': '100.64.2.0/24', 'c': '100.64.3.0/24'}


def test_allocate_order_independent():
    hosts = ['web1', 'web2', 'db1', 'db2', 'lb']
    kept = {'db2': '100.64.9.0/24'}
    pins = {'lb': '100.64.2.0/24'}
    results = set()
    for perm in itertools.permutations(hosts):
        kept_perm = dict(reversed(list(kept.items())))
        results.add(tuple(sorted(strs(allocate(perm, NET, 24, kept=kept_perm, pins=pins)).items())))
    assert len(results) == 1


def test_allocate_keeps_subnets_when_hosts_join_and_leave():
    first = strs(allocate(['h1', 'h2', 'h3', 'h4'], NET, 24))
    # h2 leaves: the others keep their subnets.
    kept = dict(first)
    del kept['h2']
    second = strs(allocate(['h1', 'h3', 'h4'], NET, 24, kept=first))
    assert second == kept
    # A new host that sorts first gets the lowest free subnet (h2's old one), nobody moves.
    third = strs(allocate(['a0', 'h1', 'h3', 'h4'], NET, 24, kept=second))
    assert third == dict(kept, a0='100.64.2.0/24')
    # And one more: next free.
    fourth = strs(allocate(['a0', 'h1', 'h3', 'h4', 'zz'], NET, 24, kept=third))
    assert fourth == dict(third, zz='100.64.5.0/24')


def test_allocate_never_hands_out_a_present_hosts_kept_subnet():
    kept = {'old': '100.64.1.0/24'}
    result = strs(allocate(['new', 'old'], NET, 24, kept=kept))
    assert result == {'old': '100.64.1.0/24', 'new': '100.64.2.0/24'}


def test_allocate_reserved_are_skipped():
    result = strs(allocate(['a', 'b'], NET, 24, reserved={'gone': '100.64.1.0/24', 'bad': 'junk'}))
    assert result == {'a': '100.64.2.0/24', 'b': '100.64.3.0/24'}


def test_allocate_drops_kept_that_no_longer_fit():
    kept = {'a': '100.64.0.0/24', 'b': '100.64.3.0/25', 'c': 'junk', 'd': '10.9.0.0/24', 'e': '100.64.7.0/24'}
    result = strs(allocate(['a', 'b', 'c', 'd', 'e'], NET, 24, kept=kept))
    assert result == {'a': '100.64.1.0/24', 'b': '100.64.2.0/24', 'c': '100.64.3.0/24', 'd': '100.64.4.0/24', 'e': '100.64.7.0/24'}


def test_allocate_network_grows_keeps_subnets():
    kept = {'a': '100.64.1.0/24', 'b': '100.64.2.0/24'}
    assert strs(allocate(['a', 'b'], '100.64.0.0/15', 24, kept=kept)) == kept


def test_allocate_duplicate_kept_first_sorted_wins():
    kept = {'b': '100.64.5.0/24', 'a': '100.64.5.0/24'}
    assert strs(allocate(['a', 'b'], NET, 24, kept=kept)) == {'a': '100.64.5.0/24', 'b': '100.64.1.0/24'}


def test_allocate_pins():
    pins = {'b': '100.64.1.0/24', 'c': None, 'd': ''}
    result = strs(allocate(['a', 'b', 'c', 'd'], NET, 24, kept={'b': '100.64.9.0/24'}, pins=pins))
    # b's pin wins over its kept subnet; the others fill from the lowest free.
    assert result == {'a': '100.64.2.0/24', 'b': '100.64.1.0/24', 'c': '100.64.3.0/24', 'd': '100.64.4.0/24'}


def test_allocate_duplicate_pin():
    with pytest.raises(SubnetError) as err:
        allocate(['a', 'b', 'c'], NET, 24, pins={'a': '100.64.5.0/24', 'c': '100.64.5.0/24'})
    assert str(err.value) == 'hosts a and c both pin crosshost_subnet 100.64.5.0/24'
    assert err.value.host == 'c'


@pytest.mark.parametrize('pin, words', [
    ('100.64.5.3/24', ['host a', 'not aligned', '100.64.5.3/24']),
    ('100.64.0.0/24', ['host a', 'out of range', '100.64.0.0/24']),
    ('100.66.0.0/24', ['host a', 'outside the cluster network', '100.66.0.0/24']),
    ('oops', ['host a', "'oops'"]),
])
def test_allocate_bad_pin(pin, words):
    with pytest.raises(SubnetError) as err:
        allocate(['a', 'b'], NET, 24, pins={'a': pin})
    for word in words:
        assert word in str(err.value)


def test_allocate_pin_on_other_hosts_kept_subnet():
    with pytest.raises(SubnetError) as err:
        allocate(['a', 'b'], NET, 24, kept={'b': '100.64.4.0/24'}, pins={'a': '100.64.4.0/24'})
    assert 'host a' in str(err.value) and '100.64.4.0/24' in str(err.value) and 'host b keeps' in str(err.value)


def test_allocate_pin_swap_is_allowed():
    # b moves away by its own pin, so a may pin b's old subnet.
    kept = {'a': '100.64.1.0/24', 'b': '100.64.4.0/24'}
    result = strs(allocate(['a', 'b'], NET, 24, kept=kept, pins={'a': '100.64.4.0/24', 'b': '100.64.1.0/24'}))
    assert result == {'a': '100.64.4.0/24', 'b': '100.64.1.0/24'}


def test_allocate_pin_on_reserved_subnet():
    with pytest.raises(SubnetError) as err:
        allocate(['a'], NET, 24, pins={'a': '100.64.4.0/24'}, reserved={'offline': '100.64.4.0/24'})
    assert 'host a' in str(err.value) and '100.64.4.0/24' in str(err.value) and 'offline' in str(err.value)


def test_allocate_pin_takes_subnet_the_next_new_host_would_get():
    assert strs(allocate(['a', 'b'], NET, 24, pins={'b': '100.64.1.0/24'})) == {'a': '100.64.2.0/24', 'b': '100.64.1.0/24'}


def test_allocate_more_hosts_than_subnets():
    with pytest.raises(SubnetError) as err:
        allocate(['h1', 'h2', 'h3', 'h4'], '100.64.0.0/28', 30)
    msg = str(err.value)
    assert 'host h4' in msg and 'no free subnet' in msg and '100.64.0.0/28' in msg and '4 hosts' in msg and 'only 3' in msg
    assert err.value.host == 'h4'
    assert 'reserved' not in msg
    # Exactly as many hosts as subnets fits.
    assert len(allocate(['h1', 'h2', 'h3'], '100.64.0.0/28', 30)) == 3


def test_allocate_full_because_of_reserved():
    with pytest.raises(SubnetError, match=r'hold only 3 \(1 reserved\)$'):
        allocate(['h1', 'h2', 'h3'], '100.64.0.0/28', 30, reserved={'x': '100.64.0.8/30'})


def test_allocate_big_network_is_fast_enough():
    # /10 cut into /30s: 4M candidates; the search must not walk them all.
    hosts = ['h%03d' % i for i in range(300)]
    result = allocate(hosts, '100.64.0.0/10', 30)
    assert str(result['h299']) == '100.64.4.176/30'


def test_allocate_custom_bounds():
    result = strs(allocate(['a', 'b'], NET, 24, subnet_min='100.64.100.0', subnet_max='100.64.101.0'))
    assert result == {'a': '100.64.100.0/24', 'b': '100.64.101.0/24'}
    with pytest.raises(SubnetError, match='no free subnet'):
        allocate(['a', 'b', 'c'], NET, 24, subnet_min='100.64.100.0', subnet_max='100.64.101.0')


def test_allocate_no_overlaps_random():
    import random
    rng = random.Random(7)
    kept = {}
    for _round in range(30):
        hosts = sorted(rng.sample(['n%02d' % i for i in range(40)], rng.randint(1, 30)))
        result = allocate(hosts, '100.64.0.0/18', 24, kept=kept)
        values = list(result.values())
        assert len(set(values)) == len(values)
        for host in hosts:
            if host in kept:
                assert str(result[host]) == kept[host]
        kept = strs(result)


# --- overlaps ----------------------------------------------------------------------------

def test_overlap_underlay_inside_network():
    errors = overlap_errors('198.18.0.0/16', 'h1', '198.18.0.11')
    assert errors == ['host h1: underlay address 198.18.0.11 lies inside the cluster network 198.18.0.0/16']


def test_overlap_interface_network_contains_cluster_network():
    interfaces = [{'interface': 'eth0', 'addresses': ['198.18.0.11/15']}]
    errors = overlap_errors('198.19.0.0/16', 'h1', '198.18.0.11', interfaces)
    assert len(errors) == 1
    assert 'host h1' in errors[0] and 'eth0' in errors[0] and '198.18.0.11/15' in errors[0] and '198.19.0.0/16' in errors[0]


def test_overlap_ignores_own_subnet_and_unrelated():
    interfaces = [
        {'interface': 'lo', 'addresses': ['127.0.0.1/8']},
        {'interface': 'eth0', 'addresses': ['198.18.0.11/24']},
        {'interface': 'docker0', 'addresses': ['100.64.1.1/24']},
        {'interface': 'flannel.1', 'addresses': ['100.64.1.0/32']},
        {'interface': 'weird', 'addresses': ['not-an-ip', 'fe80::1/64']},
        {'interface': 'none'},
    ]
    assert overlap_errors(NET, 'h1', '198.18.0.11', interfaces, own_subnet='100.64.1.0/24') == []


def test_overlap_leftover_from_other_subnet_has_hint():
    interfaces = [{'interface': 'docker0', 'addresses': ['100.64.3.1/24']}]
    errors = overlap_errors(NET, 'h1', '198.18.0.11', interfaces, own_subnet='100.64.1.0/24')
    assert len(errors) == 1
    assert 'docker0' in errors[0] and '100.64.3.1/24' in errors[0] and 'pin crosshost_subnet: 100.64.3.0/24' in errors[0]


def test_overlap_bad_underlay():
    with pytest.raises(SubnetError) as err:
        overlap_errors(NET, 'h1', 'x.y')
    assert "host h1" in str(err.value) and "'x.y'" in str(err.value)


# --- addresses, MACs, entries ----------------------------------------------------------------

@pytest.mark.parametrize('value, words', [
    (None, ['no underlay address']),
    ('', ['no underlay address']),
    ('198.18.0.300', ['not a valid IPv4 address', '198.18.0.300']),
    ('198.18.0.1/24', ['not a valid IPv4 address', '198.18.0.1/24']),
    ('2001:db8::1', ['IPv6', '2001:db8::1']),
    ('127.0.0.1', ['not a usable unicast address', '127.0.0.1']),
    ('0.0.0.0', ['not a usable unicast address']),
    ('224.0.0.1', ['not a usable unicast address']),
])
def test_parse_address_bad(value, words):
    with pytest.raises(SubnetError) as err:
        parse_address(value, host='h2')
    for word in words + ['host h2']:
        assert word in str(err.value)


def test_parse_address_ok():
    assert str(parse_address(' 198.18.0.11 ')) == '198.18.0.11'


def test_stable_mac():
    mac = stable_mac(NET, 'h1')
    assert re.match(r'^02(:[0-9a-f]{2}){5}$', mac)
    first = int(mac[:2], 16)
    assert first & 0x02 and not first & 0x01  # locally administered, unicast
    assert stable_mac(NET, 'h1') == mac
    assert stable_mac(NET, 'h2') != mac
    assert stable_mac('100.65.0.0/16', 'h1') != mac
    # Pinned value: changing the derivation would change every VTEP MAC of running clusters.
    assert mac == '02:80:1c:7c:42:3c'
    assert stable_mac(ipaddress.IPv4Network(NET), 'h1') == mac


def test_subnet_entry():
    assert subnet_entry('100.64.1.0/24') == {'subnet': '100.64.1.0/24', 'gateway': '100.64.1.1', 'bip': '100.64.1.1/24', 'prefixlen': 24}
    assert subnet_entry('100.64.0.4/30')['bip'] == '100.64.0.5/30'
