"""Unit tests: flannel's network config as _flannel.py builds and validates it (flanneld's rules and defaults)."""

import ipaddress
import json

import pytest

from ansible_collections.crosshost.network.plugins.module_utils._flannel import (
    FlannelError,
    NetworkConfig,
    build_config,
    config_key,
    dumps,
    json_equal,
    normalize_prefix,
    parse_config_text,
)


def params(**kwargs):
    base = dict(network=None, subnet_len=None, subnet_min=None, subnet_max=None, enable_ipv6=None,
                ipv6_network=None, ipv6_subnet_len=None, ipv6_subnet_min=None, ipv6_subnet_max=None, backend={})
    base.update(kwargs)
    return base


def effective(doc):
    return NetworkConfig(doc).summary()


@pytest.mark.parametrize('network, subnet_len, first, last, count', [
    ('100.64.0.0/10', 24, '100.64.1.0', '100.127.255.0', 16383),
    ('100.64.0.0/16', 24, '100.64.1.0', '100.64.255.0', 255),
    ('100.64.0.0/22', 24, '100.64.1.0', '100.64.3.0', 3),     # /22 or larger: /24
    ('100.64.0.0/23', 25, '100.64.0.128', '100.64.1.128', 3),  # smaller: network + 2
    ('100.64.0.0/24', 26, '100.64.0.64', '100.64.0.192', 3),
    ('100.64.0.0/28', 30, '100.64.0.4', '100.64.0.12', 3),
])
def test_flannel_defaults(network, subnet_len, first, last, count):
    result = effective({'Network': network, 'Backend': {'Type': 'vxlan'}})
    assert (result['subnet_len'], result['subnet_min'], result['subnet_max'], result['subnet_count']) == (subnet_len, first, last, count)
    assert result['vni'] == 1 and result['backend_type'] == 'vxlan' and result['mtu'] is None


def test_missing_backend_means_udp_as_in_flanneld():
    assert effective({'Network': '100.64.0.0/16'})['backend_type'] == 'udp'


def test_field_names_are_case_insensitive_like_go():
    result = effective({'network': '100.64.0.0/16', 'subnetlen': 26, 'backend': {'type': 'host-gw'}})
    assert result['subnet_len'] == 26 and result['backend_type'] == 'host-gw' and result['vni'] is None


def test_explicit_range():
    result = effective({'Network': '100.64.0.0/16', 'SubnetLen': 24, 'SubnetMin': '100.64.10.0', 'SubnetMax': '100.64.20.0'})
    assert (result['subnet_min'], result['subnet_max'], result['subnet_count']) == ('100.64.10.0', '100.64.20.0', 11)


@pytest.mark.parametrize('doc, message', [
    ({}, r'^Network is missing'),
    ({'Network': 'nonsense'}, r"^Network 'nonsense' is not a CIDR"),
    ({'Network': '100.64.0.0'}, r"^Network '100.64.0.0' is not a CIDR"),
    ({'Network': '100.64.1.0/16'}, r"^Network '100.64.1.0/16' has host bits set: did you mean 100.64.0.0/16\?"),
    ({'Network': '2001:db8::/64'}, r'is IPv6'),
    ({'Network': '100.64.0.0/29'}, r'^Network 100.64.0.0/29 is too small: flannel would cut it into /31 subnets'),
    ({'Network': '100.64.0.0/16', 'SubnetLen': 31}, r'^SubnetLen 31 is impossible for network 100.64.0.0/16: it must be longer than /16 and at most /30'),
    ({'Network': '100.64.0.0/16', 'SubnetLen': 16}, r'^SubnetLen 16 is impossible'),
    ({'Network': '100.64.0.0/16', 'SubnetLen': 12}, r'^SubnetLen 12 is impossible'),
    ({'Network': '100.64.0.0/16', 'SubnetLen': '24'}, r"^SubnetLen '24' is not a number"),
    ({'Network': '100.64.0.0/16', 'SubnetMin': '100.64.1.5'}, r'^SubnetMin 100.64.1.5 is not on a /24 boundary \(SubnetLen\): did you mean 100.64.1.0\?'),
    ({'Network': '100.64.0.0/16', 'SubnetMax': '100.65.0.0'}, r'^SubnetMax 100.65.0.0 is outside Network 100.64.0.0/16'),
    ({'Network': '100.64.0.0/16', 'SubnetMin': 'x'}, r"^SubnetMin 'x' is not an IPv4 address of a /24 subnet"),
    ({'Network': '100.64.0.0/16', 'SubnetMin': '100.64.9.0', 'SubnetMax': '100.64.8.0'}, r'^SubnetMin 100.64.9.0 is above SubnetMax 100.64.8.0'),
    ({'Network': '100.64.0.0/16', 'Backend': {'Type': 'vxlam'}}, r"^Backend.Type 'vxlam' is not a flannel backend"),
    ({'Network': '100.64.0.0/16', 'Backend': 'vxlan'}, r"^Backend 'vxlan' is not a JSON object"),
    ({'Network': '100.64.0.0/16', 'Backend': {'Type': 'vxlan', 'VNI': 16777216}}, r'^Backend.VNI 16777216 is not valid: an integer from 0 to 16777215'),
    ({'Network': '100.64.0.0/16', 'Backend': {'Type': 'vxlan', 'Port': 70000}}, r'^Backend.Port 70000 is not valid'),
    ({'Network': '100.64.0.0/16', 'Backend': {'Type': 'vxlan', 'MTU': 100}}, r'^Backend.MTU 100 is not valid: an integer from 118 to 65535'),
    ({'Network': '100.64.0.0/16', 'Backend': {'Type': 'vxlan', 'DirectRouting': 'yes'}}, r"^Backend.DirectRouting 'yes' is not true or false"),
    ({'Network': '100.64.0.0/16', 'EnableIPv6': True}, r'^EnableIPv6 is true but IPv6Network is missing'),
    ({'Network': '100.64.0.0/16', 'EnableIPv6': True, 'IPv6Network': '100.64.0.0/16'}, r'is not an IPv6 network'),
    # flanneld: four IPv6 subnets at least, at most /126, and a network of /124 at most.
    ({'Network': '100.64.0.0/16', 'EnableIPv6': True, 'IPv6Network': '2001:db8::/64', 'IPv6SubnetLen': 65},
     r'^IPv6SubnetLen 65 is not valid for IPv6Network 2001:db8::/64: from /66'),
    ({'Network': '100.64.0.0/16', 'EnableIPv6': True, 'IPv6Network': '2001:db8::/48', 'IPv6SubnetLen': 127}, r'^IPv6SubnetLen 127'),
    ({'Network': '100.64.0.0/16', 'EnableIPv6': True, 'IPv6Network': '2001:db8::/125'}, r'^IPv6Network 2001:db8::/125 is too small'),
    ({'Network': '100.64.0.0/16', 'EnableIPv6': True, 'IPv6Network': '2001:db8::/48', 'IPv6SubnetMin': '2001:db9::'},
     r'^IPv6SubnetMin 2001:db9:: is outside IPv6Network'),
    ({'Network': '100.64.0.0/16', 'EnableIPv6': True, 'IPv6Network': '2001:db8::/48', 'IPv6SubnetMax': '2001:db8:0:5::1'},
     r'^IPv6SubnetMax 2001:db8:0:5::1 is not on a /64 boundary .*did you mean 2001:db8:0:5::\?'),
    ({'Network': '100.64.0.0/16', 'EnableIPv6': True, 'IPv6Network': '2001:db8::/48', 'IPv6SubnetMin': '2001:db8:0:9::',
      'IPv6SubnetMax': '2001:db8:0:5::'}, r'^IPv6SubnetMin 2001:db8:0:9:: is above IPv6SubnetMax'),
    ({'Network': '100.64.0.0/16', 'EnableIPv4': False}, r'^EnableIPv4 is false and EnableIPv6 is not true'),
])
def test_rejected_like_flanneld(doc, message):
    with pytest.raises(FlannelError, match=message):
        NetworkConfig(doc)


def test_ipv6_defaults():
    result = effective({'Network': '100.64.0.0/16', 'EnableIPv6': True, 'IPv6Network': '2001:db8:100::/48'})
    assert result['enable_ipv6'] is True and result['ipv6_network'] == '2001:db8:100::/48' and result['ipv6_subnet_len'] == 64
    # As flanneld: the second subnet to the last one.
    assert (result['ipv6_subnet_min'], result['ipv6_subnet_max']) == ('2001:db8:100:1::', '2001:db8:100:ffff::')
    # A network smaller than a /62 is cut into four.
    small = effective({'Network': '100.64.0.0/16', 'EnableIPv6': True, 'IPv6Network': '2001:db8::/64'})
    assert small['ipv6_subnet_len'] == 66 and small['ipv6_subnet_max'] == '2001:db8:0:0:c000::'


def test_ipv6_bounds_given_as_cidr_are_stored_as_addresses():
    doc, config = build_config(params(network='100.64.0.0/16', enable_ipv6=True, ipv6_network='2001:db8:100::/48',
                                      ipv6_subnet_min='2001:db8:100:10::/64', ipv6_subnet_max='2001:db8:100:20::'))
    assert (doc['IPv6SubnetMin'], doc['IPv6SubnetMax']) == ('2001:db8:100:10::', '2001:db8:100:20::')
    assert config.fits_v6(ipaddress.IPv6Network('2001:db8:100:10::/64'))
    assert not config.fits_v6(ipaddress.IPv6Network('2001:db8:100:21::/64'))
    assert not config.fits_v6(None)
    # Without EnableIPv6 only a lease without an IPv6 subnet fits (flanneld's rule).
    assert NetworkConfig({'Network': '100.64.0.0/16'}).fits_v6(None)


def test_build_config_writes_only_what_was_given_plus_backend_type():
    doc, config = build_config(params(network='100.64.0.0/16'))
    assert dumps(doc) == '{"Network":"100.64.0.0/16","Backend":{"Type":"vxlan"}}'
    assert config.subnet_len == 24
    # Empty strings and 0 (what templated role variables give when unset) mean "not given".
    doc, config = build_config(params(network='100.64.0.0/16', subnet_len=0, subnet_min='', subnet_max='', ipv6_subnet_len=0))
    assert dumps(doc) == '{"Network":"100.64.0.0/16","Backend":{"Type":"vxlan"}}'


def test_build_config_full_document_in_flannel_field_order():
    doc, config = build_config(params(
        network='100.64.0.0/16', subnet_len=24, subnet_min='100.64.10.0/24', subnet_max='100.64.20.0',
        enable_ipv6=True, ipv6_network='2001:db8:100::/48', ipv6_subnet_len=64,
        backend=dict(type='vxlan', vni=4096, port=4789, gbp=False, direct_routing=True, learning=False, mtu=9000)))
    assert dumps(doc) == (
        '{"Network":"100.64.0.0/16","SubnetLen":24,"SubnetMin":"100.64.10.0","SubnetMax":"100.64.20.0",'
        '"EnableIPv6":true,"IPv6Network":"2001:db8:100::/48","IPv6SubnetLen":64,'
        '"Backend":{"Type":"vxlan","VNI":4096,"Port":4789,"GBP":false,"DirectRouting":true,"Learning":false,"MTU":9000}}')
    assert config.overlay_mtu() == 8950


def test_build_config_host_gw_and_mtu():
    doc, config = build_config(params(network='100.64.0.0/16', backend=dict(type='host-gw', mtu=1500)))
    assert doc['Backend'] == {'Type': 'host-gw', 'MTU': 1500}
    assert config.overlay_mtu() == 1500


@pytest.mark.parametrize('backend, message', [
    (dict(type='host-gw', vni=1), r'^Backend.VNI \(backend.vni=1\) is not an option of the host-gw backend \(only of vxlan\)'),
    (dict(type='udp', direct_routing=True), r'^Backend.DirectRouting .* is not an option of the udp backend'),
])
def test_build_config_rejects_options_of_other_backends(backend, message):
    with pytest.raises(FlannelError, match=message):
        build_config(params(network='100.64.0.0/16', backend=backend))


def test_build_config_rejects_a_misaligned_cidr_bound():
    with pytest.raises(FlannelError, match=r"^SubnetMin '100.64.10.0/23' is not an IPv4 address of a /24 subnet"):
        build_config(params(network='100.64.0.0/16', subnet_min='100.64.10.0/23'))


def test_json_equal_is_semantic():
    assert json_equal(json.loads('{"Network": "x", "Backend": {"VNI": 1, "Type": "vxlan"}}'),
                      {'Backend': {'Type': 'vxlan', 'VNI': 1.0}, 'Network': 'x'})
    assert not json_equal({'a': True}, {'a': 1})
    assert not json_equal({'a': [1, 2]}, {'a': [2, 1]})
    assert not json_equal({'a': 1}, {'a': 1, 'b': None})


def test_stored_config_errors_name_the_key():
    with pytest.raises(FlannelError, match=r'^the flannel config at /p/config is not valid JSON'):
        parse_config_text('{"Network": ', '/p/config')
    with pytest.raises(FlannelError, match=r'^the flannel config at /p/config is not valid: SubnetLen 31 is impossible'):
        parse_config_text('{"Network": "100.64.0.0/16", "SubnetLen": 31}', '/p/config')


def test_prefix():
    assert normalize_prefix('/coreos.com/network/') == '/coreos.com/network'
    assert config_key(normalize_prefix('/coreos.com/network')) == '/coreos.com/network/config'
    for bad in ('coreos.com/network', '/', '', '/a//b', '/a b'):
        with pytest.raises(FlannelError, match='prefix'):
            normalize_prefix(bad)


def test_ipv6_only_config_is_flannels():
    """No IPv4 network: flanneld's IPv4 default (EnableIPv4 true) is turned off, and no Network is written."""
    doc, config = build_config(params(network='', enable_ipv6=True, ipv6_network='2001:db8:165::/48', backend={'type': 'vxlan', 'vni': 1}))
    assert dumps(doc) == '{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"2001:db8:165::/48","Backend":{"Type":"vxlan","VNI":1}}'
    assert (config.enable_ipv4, config.enable_ipv6, config.ipv6_subnet_len) == (False, True, 64)
    with pytest.raises(FlannelError, match='^Network is missing'):
        build_config(params(network=''))
