"""Unit tests of the Docker filters (plugins/filter/docker.py)."""

import re

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.crosshost.network.plugins.filter.docker import FilterModule, daemon_ipv6


def test_filters_registered():
    assert set(FilterModule().filters()) == {'daemon_json', 'daemon_ipv6'}


@pytest.mark.parametrize('value', ['2001:db8:100:1::/64', '2001:db8:100:1::1/64', ' 2001:DB8:100:1::/64 '])
def test_ipv6_on(value):
    assert daemon_ipv6(value) == {'set': {'ipv6': True, 'fixed-cidr-v6': '2001:db8:100:1::/64'}, 'remove': []}


@pytest.mark.parametrize('value', ['', None])
def test_ipv6_off_removes_exactly_our_keys(value):
    assert daemon_ipv6(value) == {'set': {}, 'remove': ['ipv6', 'fixed-cidr-v6']}
    assert daemon_ipv6(value, {'ipv6': True, 'dns': []}) == {'set': {}, 'remove': ['fixed-cidr-v6']}


@pytest.mark.parametrize('value', ['100.64.1.0/24', '2001:db8:100:1::', 'fish', '2001:db8::/129'])
def test_bad_value_is_named(value):
    with pytest.raises(AnsibleFilterError, match='docker_fixed_cidr_v6 must be an IPv6 subnet.*' + re.escape(repr(value))):
        daemon_ipv6(value)
