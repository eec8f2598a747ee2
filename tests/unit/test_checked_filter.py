"""Unit tests of the ``checked`` filter (plugins/filter/checked.py)."""

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.crosshost.network.plugins.filter.checked import FilterModule, checked


def test_filter_registered():
    assert set(FilterModule().filters()) == {'checked'}


@pytest.mark.parametrize('value', ['docker0', ['true'], {'a': 1}, None, 0])
def test_no_error_returns_the_value(value):
    assert checked(value, [], 'bridge', 'node1') is value


def test_errors_fail_naming_role_host_and_each_error():
    errors = ['bridge_mtu must be at least 576 (got 100)', 'bridge_name must be an interface name of 1..15 characters (got "")']
    with pytest.raises(AnsibleFilterError) as raised:
        checked('docker0', errors, 'bridge', 'node1')
    assert str(raised.value) == 'bridge on node1: ' + '; '.join(errors)


@pytest.mark.parametrize('errors', ['bridge_mtu must be at least 576', None, {'bridge_mtu': 'bad'}])
def test_errors_must_be_a_list(errors):
    with pytest.raises(AnsibleFilterError, match='the errors of bridge must be a list'):
        checked('docker0', errors, 'bridge', 'node1')
