"""Unit tests of docker_daemon_config's engine version and allow-direct-routing decision."""

import pytest

from ansible_collections.crosshost.network.plugins.modules.docker_daemon_config import direct_routing, engine_version


@pytest.mark.parametrize('text, version', [
    ('Docker version 20.10.24+dfsg1, build 297e128', '20.10.24'),
    ('Docker version 28.1.1, build 4eba377', '28.1.1'),
    ('Docker version 28.0, build x', '28.0'),
    ('', ''), (None, ''), ('dockerd: unknown flag', ''),
])
def test_engine_version(text, version):
    assert engine_version(text) == version


SET = {'mtu': 1450}


@pytest.mark.parametrize('version, allow, wanted', [
    ('28.0.0', True, ({'mtu': 1450, 'allow-direct-routing': True}, ['bip'])),
    ('29.1', True, ({'mtu': 1450, 'allow-direct-routing': True}, ['bip'])),
    ('27.5.1', True, (SET, ['bip', 'allow-direct-routing'])),
    ('', True, (SET, ['bip', 'allow-direct-routing'])),
    ('28.1.1', False, (SET, ['bip', 'allow-direct-routing'])),
    ('28.1.1', None, (SET, ['bip'])),
])
def test_direct_routing(version, allow, wanted):
    assert direct_routing(SET, ['bip'], version, allow) == wanted


def test_the_managed_key_wins_over_the_users():
    assert direct_routing({'allow-direct-routing': False}, [], '28.1.1', True) == ({'allow-direct-routing': True}, [])
