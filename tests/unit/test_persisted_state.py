"""Unit tests for the planners that persist what they apply: _container_bridge and _persistent_routes.

Pure planning on parsed ``ip -json`` data; the integration tests run both modules for real.
"""

import pytest

from ansible_collections.crosshost.network.plugins.module_utils import _container_bridge, _persistent_routes
from ansible_collections.crosshost.network.plugins.module_utils._iproute import InvalidValue
from ansible_collections.crosshost.network.plugins.module_utils._persist import FILE_MODE
from ansible_collections.crosshost.network.plugins.module_utils._routes import parse_routes

RECORD = '/etc/crosshost/bridge-docker0.address6'
BOOT = '/etc/crosshost/10-bridge.batch'


def docker0(*addresses):
    """``ip -json -details address show`` of an up docker0 with these addresses."""
    info = [dict(family='inet6' if ':' in a else 'inet', local=a.split('/')[0], prefixlen=int(a.split('/')[1])) for a in addresses]
    return {'docker0': dict(ifname='docker0', flags=['BROADCAST', 'MULTICAST', 'UP'], mtu=1500, min_mtu=68, max_mtu=65535,
                            linkinfo=dict(info_kind='bridge', info_data=dict(stp_state=0, forward_delay=1500)), addr_info=info)}


def bridge_want(**changes):
    params = dict(name='docker0', state='present', stp=False, addresses=['100.64.1.1/24'], purge=False, mtu=1500,
                  keep_link=False, boot_file=None, record_file=RECORD)
    params.update(changes)
    return _container_bridge.build_want(params)


def test_bridge_in_sync_plans_nothing():
    want = bridge_want(addresses=['100.64.1.1/24', '2001:db8:1::1/64'])
    files = {RECORD: ('2001:db8:1::1/64\n', FILE_MODE)}
    result = _container_bridge.compute_plan(want, docker0('100.64.1.1/24', '2001:db8:1::1/64', 'fe80::1/64'), files)
    assert not result['plan'] and result['plan'].commands() == []


def test_bridge_recorded_ipv6_address_goes_without_purge_and_foreign_ones_stay():
    files = {RECORD: ('2001:db8:1::1/64\n', FILE_MODE)}
    result = _container_bridge.compute_plan(bridge_want(), docker0('100.64.1.1/24', '2001:db8:1::1/64', '172.17.0.1/16'), files)
    assert result['plan'].commands() == ['ip address del 2001:db8:1::1/64 dev docker0', 'rm -f %s' % RECORD]
    assert result['bridge']['addresses'] == ['100.64.1.1/24', '172.17.0.1/16']


def test_bridge_new_with_boot_file_in_the_order_the_kernel_takes():
    want = bridge_want(name='br-xh', stp=True, mtu=1450, boot_file=BOOT, record_file=None, purge=True)
    result = _container_bridge.compute_plan(want, {}, {BOOT: None})
    assert result['plan'].commands() == [
        'ip link add name br-xh type bridge stp_state 1', 'ip link set dev br-xh mtu 1450',
        'ip address add 100.64.1.1/24 brd + dev br-xh', 'ip link set dev br-xh up', 'write %s (mode 0644)' % BOOT]
    assert _container_bridge.boot_file(want).splitlines()[2:] == [
        'link add name br-xh type bridge stp_state 1', 'link set dev br-xh mtu 1450',
        'address replace 100.64.1.1/24 dev br-xh', 'link set dev br-xh up']


def test_bridge_absent_keep_link_removes_only_our_files():
    want = bridge_want(state='absent', keep_link=True, boot_file=BOOT)
    result = _container_bridge.compute_plan(want, docker0('100.64.1.1/24'), {BOOT: None, RECORD: ('x\n', FILE_MODE)})
    assert result['plan'].commands() == ['rm -f %s' % RECORD]


@pytest.mark.parametrize('changes, message', [
    (dict(addresses=['100.64.1.1']), 'has no prefix length'),
    (dict(mtu=10), 'out of range'),
    (dict(record_file='bridge.address6'), 'record_file must be an absolute file path'),
])
def test_bridge_bad_input_is_named(changes, message):
    with pytest.raises(InvalidValue, match=message):
        bridge_want(**changes)


ROUTES_JSON = [
    dict(dst='100.64.2.0/24', gateway='198.18.0.12', dev='eth1', protocol='147', scope='global', flags=[]),
    dict(dst='100.64.3.0/24', gateway='198.18.0.13', dev='eth1', protocol='147', scope='global', flags=[]),
    dict(dst='100.64.9.0/24', gateway='198.18.0.19', dev='eth2', protocol='147', scope='global', flags=[]),
    dict(dst='198.18.0.0/24', dev='eth1', protocol='2', scope='link', flags=[]),
]
LINKS = dict(eth1=dict(ifname='eth1', flags=['UP']), eth2=dict(ifname='eth2', flags=['UP']))


def route(dst, via, **extra):
    return dict(dict(family=6 if ':' in dst else 4, dst=dst, via=via, dev='eth1', onlink=False, metric=0, table=254, src=None, mtu=None),
                **extra)


def routes_plan(want, purge, boot=None):
    params = dict(state='present', purge=purge, purge_tables=[], purge_devices=['eth1'], force=False, boot_file='/etc/crosshost/50-routes.batch')
    return _persistent_routes.compute_plan(want, parse_routes(ROUTES_JSON, 4), LINKS, params, boot)


def test_routes_kept_without_purge_are_persisted_too():
    result = routes_plan([route('100.64.2.0/24', '198.18.0.12')], purge=False)
    # eth2's route is outside the scope: neither purged nor in the file.
    assert result['plan'].ip.commands() == []
    assert result['persisted'] == ['100.64.2.0/24 via 198.18.0.12 dev eth1 table 254 metric 0 proto 147',
                                   '100.64.3.0/24 via 198.18.0.13 dev eth1 table 254 metric 0 proto 147']
    with_purge = routes_plan([route('100.64.2.0/24', '198.18.0.12')], purge=True)
    assert with_purge['removed'] == ['100.64.3.0/24 via 198.18.0.13 dev eth1 table 254 metric 0 proto 147']
    assert len(with_purge['persisted']) == 1


def test_routes_boot_file_in_sync_is_not_rewritten():
    want = [route('100.64.3.0/24', '198.18.0.13'), route('100.64.2.0/24', '198.18.0.12')]
    content = _persistent_routes.boot_file(sorted(want, key=lambda r: r['dst']))
    assert not routes_plan(want, purge=True, boot=(content, FILE_MODE))['plan']


def test_routes_boot_line_leaves_out_the_kernel_defaults():
    assert _persistent_routes.boot_line(route('100.64.3.0/24', '2001:db8::13')) == 'route replace 100.64.3.0/24 via inet6 2001:db8::13 dev eth1 proto 147'
    assert _persistent_routes.boot_line(route('2001:db8:2::/64', '2001:db8::12', family=6, metric=1024)) == (
        'route replace 2001:db8:2::/64 via 2001:db8::12 dev eth1 proto 147')
    assert _persistent_routes.boot_line(route('100.64.4.0/24', '198.19.0.1', table=100, metric=50, onlink=True, mtu=1400)) == (
        'route replace 100.64.4.0/24 via 198.19.0.1 dev eth1 proto 147 table 100 metric 50 onlink mtu 1400')
