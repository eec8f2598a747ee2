"""Unit tests: flannel's lease keys and JSON, and how _flannel.py chooses a host's subnet."""

import ipaddress
import itertools

import pytest

from ansible_collections.crosshost.network.plugins.module_utils._flannel import (
    NO_IPV4,
    FlannelError,
    NetworkConfig,
    backend_data,
    check_subnet,
    check_subnet_v6,
    choose,
    choose_v6,
    default_vtep_mac,
    dumps,
    free_subnets,
    lease_document,
    lease_info,
    lease_key,
    normalize_mac,
    parse_lease,
    parse_lease_key,
    parse_leases,
    public_view,
)

PREFIX = '/coreos.com/network'
CONFIG = NetworkConfig({'Network': '100.64.0.0/16', 'Backend': {'Type': 'vxlan', 'MTU': 1500}})


def net(text):
    return ipaddress.IPv4Network(text)


def stored(subnet, public_ip, mac='02:00:00:00:00:01', lease=0, rev=3):
    value = dumps(lease_document(public_ip, 'vxlan', backend_data('vxlan', 1, mac)))
    return dict(key=lease_key(PREFIX, net(subnet)), value=value, create_revision=rev, mod_revision=rev, version=1, lease=lease)


def leases(*pairs):
    return parse_leases([stored(s, ip) for s, ip in pairs], PREFIX)


def test_lease_key_format():
    assert lease_key(PREFIX, net('100.64.15.0/24')) == '/coreos.com/network/subnets/100.64.15.0-24'
    # Dual stack, as flanneld writes it (flannel's own example: 10.1.15.0-24&fc00::-64).
    assert lease_key(PREFIX, net('10.1.15.0/24'), ipaddress.IPv6Network('fc00::/64')) == '/coreos.com/network/subnets/10.1.15.0-24&fc00::-64'
    assert lease_key(PREFIX, net('100.64.1.0/24'), ipaddress.IPv6Network('2001:db8:165:1::/64')) == \
        '/coreos.com/network/subnets/100.64.1.0-24&2001:db8:165:1::-64'
    assert lease_key('/x', net('100.64.0.4/30')) == '/x/subnets/100.64.0.4-30'


def test_parse_lease_key():
    assert parse_lease_key('/coreos.com/network/subnets/100.64.15.0-24', PREFIX) == (net('100.64.15.0/24'), None)
    assert parse_lease_key('/coreos.com/network/subnets/100.64.15.0-24&2001:db8::-64', PREFIX) == \
        (net('100.64.15.0/24'), ipaddress.IPv6Network('2001:db8::/64'))
    # flanneld reads the IPv6 part only as Go prints it (lower case).
    for other in ('/coreos.com/network/config', '/coreos.com/network/subnets/x', '/other/subnets/100.64.15.0-24',
                  '/coreos.com/network/subnets/100.64.15.1-24', '/coreos.com/network/subnets/100.64.15.0-24/extra',
                  '/coreos.com/network/subnets/100.64.15.0-24&2001:DB8::-64', '/coreos.com/network/subnets/100.64.15.0-24&2001:db8::1-64'):
        assert parse_lease_key(other, PREFIX) is None


def test_lease_value_is_flannels_exact_json():
    doc = lease_document('198.18.0.11', 'vxlan', backend_data('vxlan', 1, '02:11:22:33:44:55'))
    assert dumps(doc) == '{"PublicIP":"198.18.0.11","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"02:11:22:33:44:55"}}'
    assert dumps(lease_document('198.18.0.11', 'host-gw', backend_data('host-gw'))) == \
        '{"PublicIP":"198.18.0.11","PublicIPv6":null,"BackendType":"host-gw"}'  # omitempty, as flanneld


def test_parse_lease_from_flanneld():
    kv = dict(key='/coreos.com/network/subnets/10.1.15.0-24', lease=0x694d7ad0c9ac0a0b,
              value='{"PublicIP":"192.168.64.3","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"c6:d2:32:6f:8f:44"}}')
    assert parse_lease(kv, PREFIX) == dict(
        key='/coreos.com/network/subnets/10.1.15.0-24', subnet='10.1.15.0/24', gateway='10.1.15.1', bip='10.1.15.1/24', prefixlen=24,
        public_ip='192.168.64.3', public_ipv6=None, backend_type='vxlan', backend_data={'VNI': 1, 'VtepMAC': 'c6:d2:32:6f:8f:44'},
        vtep_mac='c6:d2:32:6f:8f:44', lease_id='694d7ad0c9ac0a0b',
        subnet_v6='', gateway_v6='', bip_v6='', backend_v6_data=None, vtep_mac_v6=None)


def test_dual_stack_lease_value_and_parse():
    doc = lease_document('198.18.65.11', 'vxlan', backend_data('vxlan', 1, '02:11:22:33:44:55'),
                         '2001:db8:65::11', backend_data('vxlan', 1, '02:66:22:33:44:55'))
    value = dumps(doc)
    # flanneld's field order; BackendV6Data is left out when there is none (omitempty).
    assert value == ('{"PublicIP":"198.18.65.11","PublicIPv6":"2001:db8:65::11","BackendType":"vxlan",'
                     '"BackendData":{"VNI":1,"VtepMAC":"02:11:22:33:44:55"},"BackendV6Data":{"VNI":1,"VtepMAC":"02:66:22:33:44:55"}}')
    lease = parse_lease(dict(key='/coreos.com/network/subnets/100.64.1.0-24&2001:db8:165:1::-64', value=value, lease=0), PREFIX)
    assert (lease['subnet'], lease['subnet_v6'], lease['gateway_v6'], lease['bip_v6']) == \
        ('100.64.1.0/24', '2001:db8:165:1::/64', '2001:db8:165:1::1', '2001:db8:165:1::1/64')
    assert (lease['public_ipv6'], lease['vtep_mac'], lease['vtep_mac_v6']) == ('2001:db8:65::11', '02:11:22:33:44:55', '02:66:22:33:44:55')


DUAL = NetworkConfig({'Network': '100.64.0.0/16', 'EnableIPv6': True, 'IPv6Network': '2001:db8:165::/48', 'Backend': {'Type': 'vxlan'}})


def dual(subnet, subnet_v6, public_ip):
    value = dumps(lease_document(public_ip, 'vxlan', backend_data('vxlan', 1, '02:00:00:00:00:01'), '2001:db8:65::1',
                                 backend_data('vxlan', 1, '02:00:00:00:00:02')))
    v6 = ipaddress.IPv6Network(subnet_v6) if subnet_v6 else None
    return dict(key=lease_key(PREFIX, net(subnet), v6), value=value, create_revision=3, mod_revision=3, version=1, lease=0)


def test_choose_v6_keeps_pins_prefers_and_takes_the_lowest_free():
    current = parse_leases([dual('100.64.1.0/24', '2001:db8:165:1::/64', 'a'), dual('100.64.2.0/24', '2001:db8:165:3::/64', 'b'),
                            dual('100.64.3.0/24', None, 'c')], PREFIX)
    own_b = current[1]
    v6 = ipaddress.IPv6Network
    # Kept: the lease's own IPv6 subnet, whatever is preferred.
    assert choose_v6(DUAL, current, 'b', own_b, preferred_v6=v6('2001:db8:165:9::/64')) == v6('2001:db8:165:3::/64')
    # A lease without one (IPv6 just turned on) takes the preferred one when free, else the lowest free.
    assert choose_v6(DUAL, current, 'c', current[2], preferred_v6=v6('2001:db8:165:9::/64')) == v6('2001:db8:165:9::/64')
    assert choose_v6(DUAL, current, 'c', current[2], preferred_v6=v6('2001:db8:165:1::/64')) == v6('2001:db8:165:2::/64')
    with pytest.raises(FlannelError, match=r'^IPv6 subnet 2001:db8:165:1::/64 is already leased to a'):
        choose_v6(DUAL, current, 'c', current[2], subnet_v6=v6('2001:db8:165:1::/64'))
    # Without EnableIPv6 no lease carries one.
    assert choose_v6(CONFIG, current, 'b', own_b) is None
    # A lease whose IPv4 subnet fits is kept also when its IPv6 part does not (it moves to a new key).
    assert choose(CONFIG, current, 'b')['keep'] is own_b
    with pytest.raises(FlannelError, match='is not an IPv6 subnet'):
        check_subnet_v6('100.64.0.0/24', DUAL)
    with pytest.raises(FlannelError, match='does not enable IPv6'):
        check_subnet_v6('2001:db8:165:1::/64', CONFIG)
    assert check_subnet_v6('2001:db8:165:7::', DUAL) == v6('2001:db8:165:7::/64')


def test_parse_lease_with_garbage_value_still_holds_the_subnet():
    lease = parse_lease(dict(key='/coreos.com/network/subnets/100.64.3.0-24', value='not json', lease=0), PREFIX)
    assert lease['invalid'] is True and lease['public_ip'] is None and lease['subnet'] == '100.64.3.0/24'
    assert next(free_subnets(CONFIG, [lease, *leases(('100.64.1.0/24', 'a'), ('100.64.2.0/24', 'b'))])) == net('100.64.4.0/24')


def test_parse_leases_sorted_numerically_and_public_view():
    result = parse_leases([stored('100.64.10.0/24', '198.18.0.3'), stored('100.64.9.0/24', '198.18.0.2'),
                           dict(key='/coreos.com/network/config', value='{}', lease=0)], PREFIX)
    assert [lease['subnet'] for lease in result] == ['100.64.9.0/24', '100.64.10.0/24']
    assert '_kv' in result[0] and '_kv' not in public_view(result[0])


def test_free_subnets_lowest_first_and_lazy():
    taken = leases(('100.64.1.0/24', '198.18.0.1'), ('100.64.3.0/24', '198.18.0.3'))
    assert list(itertools.islice(free_subnets(CONFIG, taken), 3)) == [net('100.64.2.0/24'), net('100.64.4.0/24'), net('100.64.5.0/24')]
    assert next(free_subnets(CONFIG, taken, skip=[net('100.64.2.0/24')])) == net('100.64.4.0/24')
    huge = NetworkConfig({'Network': '100.64.0.0/10', 'SubnetLen': 30})
    assert next(free_subnets(huge, [])) == net('100.64.0.4/30')  # a generator: 4M candidates cost nothing
    small = NetworkConfig({'Network': '100.64.0.0/24', 'SubnetMin': '100.64.0.64', 'SubnetMax': '100.64.0.128'})
    assert list(free_subnets(small, [])) == [net('100.64.0.64/26'), net('100.64.0.128/26')]


def test_choose_reuses_own_lease():
    current = leases(('100.64.1.0/24', '198.18.0.1'), ('100.64.2.0/24', '198.18.0.2'))
    plan = choose(CONFIG, current, '198.18.0.2')
    assert plan['keep']['subnet'] == '100.64.2.0/24' and plan['want'] is None and plan['remove'] == []


def test_choose_new_host_takes_preferred_if_free():
    current = leases(('100.64.1.0/24', '198.18.0.1'))
    assert choose(CONFIG, current, '198.18.0.9', preferred=net('100.64.7.0/24')) == dict(keep=None, want=net('100.64.7.0/24'), remove=[])
    assert choose(CONFIG, current, '198.18.0.9', preferred=net('100.64.1.0/24')) == dict(keep=None, want=None, remove=[])
    assert choose(CONFIG, current, '198.18.0.9') == dict(keep=None, want=None, remove=[])


def test_choose_drops_duplicates_and_leases_that_no_longer_fit():
    current = leases(('100.64.0.0/24', '198.18.0.1'), ('100.64.3.0/24', '198.18.0.1'), ('100.64.5.0/24', '198.18.0.1'))
    plan = choose(CONFIG, current, '198.18.0.1')
    # 100.64.0.0/24 is the network's first subnet: flanneld never hands it out.
    assert plan['keep']['subnet'] == '100.64.3.0/24'
    assert [lease['subnet'] for lease in plan['remove']] == ['100.64.0.0/24', '100.64.5.0/24']
    other = NetworkConfig({'Network': '100.64.0.0/16', 'SubnetLen': 26})
    plan = choose(other, current, '198.18.0.1')
    assert plan['keep'] is None and len(plan['remove']) == 3


def test_choose_pinned():
    current = leases(('100.64.1.0/24', '198.18.0.1'), ('100.64.2.0/24', '198.18.0.2'))
    plan = choose(CONFIG, current, '198.18.0.1', subnet=net('100.64.9.0/24'))
    assert plan['keep'] is None and plan['want'] == net('100.64.9.0/24') and [x['subnet'] for x in plan['remove']] == ['100.64.1.0/24']
    plan = choose(CONFIG, current, '198.18.0.1', subnet=net('100.64.1.0/24'))
    assert plan['keep']['subnet'] == '100.64.1.0/24' and plan['remove'] == []
    with pytest.raises(FlannelError, match=r'^subnet 100.64.2.0/24 is already leased to 198.18.0.2 \(key /coreos.com/network/subnets/100.64.2.0-24\)'):
        choose(CONFIG, current, '198.18.0.1', subnet=net('100.64.2.0/24'))


@pytest.mark.parametrize('value, message', [
    ('100.65.1.0/24', r'^subnet 100.65.1.0/24 is outside the flannel Network 100.64.0.0/16'),
    ('10.0.0.0/8', r'^subnet 10.0.0.0/8 is outside the flannel Network'),
    ('100.64.1.0/25', r'^subnet 100.64.1.0/25 is a /25, but the flannel config hands out /24 subnets \(SubnetLen\)'),
    ('100.64.1.7/24', r'^subnet 100.64.1.7/24 is not on a /24 boundary: did you mean 100.64.1.0/24\?'),
    ('100.64.0.0/24', r'^subnet 100.64.0.0/24 is outside SubnetMin..SubnetMax \(100.64.1.0/24 .. 100.64.255.0/24\)'),
    ('nonsense', r"^subnet 'nonsense' is not a valid IPv4 subnet"),
    ('2001:db8::/64', r'is not an IPv4 subnet'),
])
def test_check_subnet_errors(value, message):
    with pytest.raises(FlannelError, match=message):
        check_subnet(value, CONFIG)


def test_check_subnet_accepts_address_alone():
    assert check_subnet('100.64.7.0', CONFIG) == net('100.64.7.0/24')


def test_macs():
    assert normalize_mac('02-AA-bb-CC-dd-EE') == '02:aa:bb:cc:dd:ee'
    with pytest.raises(FlannelError, match=r"^vtep_mac 'zz' is not a valid MAC"):
        normalize_mac('zz')
    with pytest.raises(FlannelError, match='multicast'):
        normalize_mac('01:00:5e:00:00:01')
    mac = default_vtep_mac(CONFIG.network, '198.18.0.11')
    assert mac == default_vtep_mac(CONFIG.network, '198.18.0.11') != default_vtep_mac(CONFIG.network, '198.18.0.12')
    assert normalize_mac(mac) == mac and mac.startswith('02:')


def test_lease_info_adds_mtu_and_gateway():
    lease = leases(('100.64.4.0/24', '198.18.0.4'))[0]
    info = lease_info(lease, CONFIG, ttl=86400)
    assert (info['gateway'], info['bip'], info['network'], info['mtu'], info['underlay_mtu'], info['ttl']) == \
        ('100.64.4.1', '100.64.4.1/24', '100.64.0.0/16', 1450, 1500, 86400)
    assert '_kv' not in info


# ---- IPv6 only (EnableIPv4 false) ------------------------------------------------------
V6_ONLY = NetworkConfig({'EnableIPv4': False, 'EnableIPv6': True, 'IPv6Network': '2001:db8:165::/48', 'Backend': {'Type': 'vxlan'}})


def v6_only(subnet_v6, public_ipv6, mac='02:00:00:00:00:06'):
    value = dumps(lease_document(None, 'vxlan', None, public_ipv6, backend_data('vxlan', 1, mac)))
    return dict(key=lease_key(PREFIX, NO_IPV4, ipaddress.IPv6Network(subnet_v6)), value=value, create_revision=3, mod_revision=3,
                version=1, lease=0)


def test_ipv6_only_lease_key_and_value_are_flannels():
    # flanneld's etcd registry keys a lease by MakeSubnetKey(IPv4 subnet, IPv6 subnet): without
    # IPv4 the IPv4 part is its empty subnet, printed 0.0.0.0-0.
    assert lease_key(PREFIX, NO_IPV4, ipaddress.IPv6Network('2001:db8:165:1::/64')) == \
        '/coreos.com/network/subnets/0.0.0.0-0&2001:db8:165:1::-64'
    # PublicIP is the empty IPv4 address, and BackendData (omitempty) is left out: no IPv4 device.
    assert dumps(lease_document(None, 'vxlan', None, '2001:db8:65::11', backend_data('vxlan', 1, '02:66:22:33:44:55'))) == \
        '{"PublicIP":"0.0.0.0","PublicIPv6":"2001:db8:65::11","BackendType":"vxlan","BackendV6Data":{"VNI":1,"VtepMAC":"02:66:22:33:44:55"}}'
    lease = parse_lease(v6_only('2001:db8:165:1::/64', '2001:db8:65::11'), PREFIX)
    assert (lease['subnet'], lease['gateway'], lease['bip'], lease['public_ip'], lease['vtep_mac']) == ('', '', '', None, None)
    assert (lease['subnet_v6'], lease['bip_v6'], lease['public_ipv6'], lease['vtep_mac_v6']) == \
        ('2001:db8:165:1::/64', '2001:db8:165:1::1/64', '2001:db8:65::11', '02:00:00:00:00:06')
    info = lease_info(lease, V6_ONLY)
    assert (info['network'], info['network_v6']) == ('', '2001:db8:165::/48')


def test_ipv6_only_config_ignores_the_ipv4_fields_and_needs_ipv6():
    # flanneld checks Network only with EnableIPv4: a stale one is ignored.
    config = NetworkConfig({'EnableIPv4': False, 'Network': 'nonsense', 'EnableIPv6': True, 'IPv6Network': '2001:db8:165::/48'})
    assert (config.enable_ipv4, config.network, config.ipv6_subnet_len) == (False, None, 64)
    summary = config.summary()
    assert (summary['enable_ipv4'], summary['network'], summary['subnet_min'], summary['ipv6_subnet_min']) == \
        (False, None, None, '2001:db8:165:1::')
    with pytest.raises(FlannelError, match='^EnableIPv4 is false and EnableIPv6 is not true'):
        NetworkConfig({'EnableIPv4': False, 'Network': '100.64.0.0/16'})
    with pytest.raises(FlannelError, match="^EnableIPv4 'no' is not true or false"):
        NetworkConfig({'EnableIPv4': 'no', 'Network': '100.64.0.0/16'})
    # Only the empty IPv4 subnet of an IPv6-only lease fits; an old IPv4 lease does not.
    assert V6_ONLY.fits(NO_IPV4) and not V6_ONLY.fits(net('100.64.1.0/24'))


def test_ipv6_only_host_is_found_by_its_public_ipv6():
    current = parse_leases([v6_only('2001:db8:165:2::/64', '2001:db8:65::12'), v6_only('2001:db8:165:1::/64', '2001:db8:65::11'),
                            stored('100.64.1.0/24', '198.18.0.11')], PREFIX)
    # Sorted by the IPv4 part, then the IPv6 one.
    assert [(x['subnet'], x['subnet_v6']) for x in current] == \
        [('', '2001:db8:165:1::/64'), ('', '2001:db8:165:2::/64'), ('100.64.1.0/24', '')]
    plan = choose(V6_ONLY, current, '2001:db8:65::12', who='public_ipv6')
    assert plan['keep'] is current[1] and plan['remove'] == []
    assert choose_v6(V6_ONLY, current, '2001:db8:65::12', plan['keep'], who='public_ipv6') == ipaddress.IPv6Network('2001:db8:165:2::/64')
    # A new host: no lease of its own, the lowest free IPv6 subnet.
    plan = choose(V6_ONLY, current, '2001:db8:65::13', who='public_ipv6')
    assert plan == dict(keep=None, want=None, remove=[])
    assert choose_v6(V6_ONLY, current, '2001:db8:65::13', None, who='public_ipv6') == ipaddress.IPv6Network('2001:db8:165:3::/64')
    with pytest.raises(FlannelError, match=r'^IPv6 subnet 2001:db8:165:1::/64 is already leased to 2001:db8:65::11'):
        choose_v6(V6_ONLY, current, '2001:db8:65::13', None, subnet_v6=ipaddress.IPv6Network('2001:db8:165:1::/64'), who='public_ipv6')
