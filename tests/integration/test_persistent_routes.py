"""crosshost.network.persistent_routes for real, in throwaway namespaces (xh-...).

The boot file is replayed with ``ip -force -batch`` in a second namespace with the same
underlay: it must give exactly the routes of ours the first one has, also when routes
are kept without purge (a host outside the run).
"""

import subprocess
import uuid

import pytest

from conftest import ip_json, run_module, sh

MODULE = 'persistent_routes'
DEV = 'xh-ul'
ROUTES = [dict(dst='100.64.2.0/24', via='198.18.64.12', dev=DEV),
          dict(dst='100.64.3.0/24', via='2001:db8:64::13', dev=DEV),
          dict(dst='2001:db8:164:2::/64', via='2001:db8:64::12', dev=DEV, metric=50)]


def underlay(ns):
    sh('ip', '-n', ns, 'link', 'set', 'lo', 'up')
    sh('ip', '-n', ns, 'link', 'add', DEV, 'type', 'veth', 'peer', 'name', DEV + 'p')
    sh('ip', '-n', ns, 'address', 'add', '198.18.64.11/24', 'dev', DEV)
    sh('ip', '-n', ns, 'address', 'add', '2001:db8:64::11/64', 'dev', DEV, 'nodad')
    for dev in (DEV, DEV + 'p'):
        sh('ip', '-n', ns, 'link', 'set', dev, 'up')


@pytest.fixture
def two_hosts():
    """Two namespaces with the same underlay: the host, and where its boot file is replayed."""
    names = ['xh-' + uuid.uuid4().hex[:8] for _name in range(2)]
    try:
        for name in names:
            sh('ip', 'netns', 'add', name)
            underlay(name)
        yield names
    finally:
        for name in names:
            sh('ip', 'netns', 'del', name, check=False)


def routes(ns, proto='147'):
    found = []
    for family in ('-4', '-6'):
        for route in ip_json(ns, '-N', family, 'route', 'show', 'proto', proto):
            found.append((route['dst'], route.get('gateway') or route.get('via', {}).get('host'), route['dev'], route.get('metric')))
    return sorted(found)


def replayed(ns, boot):
    """The routes of ours the boot file gives a namespace that lost them (replayed twice: safe to repeat)."""
    sh('ip', '-n', ns, 'route', 'flush', 'proto', '147')
    sh('ip', '-n', ns, '-6', 'route', 'flush', 'proto', '147')
    for _replay in range(2):
        replay = subprocess.run(['ip', '-n', ns, '-force', '-batch', str(boot)], capture_output=True, text=True, check=False)
        assert replay.returncode == 0, replay.stderr
    return routes(ns)


def test_routes_and_their_boot_file_agree(tmp_path, two_hosts):
    host, replay = two_hosts
    boot = tmp_path / '50-routes.batch'
    args = dict(netns=host, routes=ROUTES, purge=True, purge_devices=[DEV], boot_file=str(boot))
    check = run_module(MODULE, args, check=True, diff=True)
    assert check['changed'] is True and routes(host) == [] and not boot.exists(), check
    result = run_module(MODULE, args, diff=True)
    assert (result['commands'], result['diff']) == (check['commands'], check['diff'])
    assert result['commands'][-1] == 'write %s (mode 0644)' % boot
    assert [d['after_header'] for d in result['diff']] == ['routes', str(boot)]
    applied = routes(host)
    assert applied == [('100.64.2.0/24', '198.18.64.12', DEV, None), ('100.64.3.0/24', '2001:db8:64::13', DEV, None),
                       ('2001:db8:164:2::/64', '2001:db8:64::12', DEV, 50)]
    assert 'route replace 100.64.3.0/24 via inet6 2001:db8:64::13 dev %s proto 147' % DEV in boot.read_text()
    assert replayed(replay, boot) == applied
    assert run_module(MODULE, args)['changed'] is False

    # Without purge (a host outside the run): its route stays live AND at boot; nothing changes.
    result = run_module(MODULE, dict(args, routes=ROUTES[1:], purge=False))
    assert (result['changed'], len(result['persisted'])) == (False, 3), result
    assert routes(host) == applied and replayed(replay, boot) == applied

    # With purge it goes from both.
    result = run_module(MODULE, dict(args, routes=ROUTES[1:]))
    assert result['removed'] == ['100.64.2.0/24 via 198.18.64.12 dev %s table 254 metric 0 proto 147' % DEV]
    assert routes(host) == applied[1:] and replayed(replay, boot) == applied[1:]

    # Absent: every route of ours on the device and the file go; another protocol's route stays.
    sh('ip', '-n', host, 'route', 'add', '100.64.9.0/24', 'via', '198.18.64.19', 'dev', DEV, 'proto', 'static')
    result = run_module(MODULE, dict(netns=host, state='absent', purge_devices=[DEV], boot_file=str(boot)))
    assert result['changed'] is True and result['persisted'] == []
    assert routes(host) == [] and not boot.exists()
    assert routes(host, 'static') == [('100.64.9.0/24', '198.18.64.19', DEV, None)]


def test_bad_input_and_failed_batch_write_nothing(tmp_path, two_hosts):
    host = two_hosts[0]
    boot = tmp_path / '50-routes.batch'
    result = run_module(MODULE, dict(netns=host, routes=[dict(dst='100.64.2.0/24', via='198.19.0.1', dev=DEV)], boot_file=str(boot)))
    assert result.get('failed') and 'gateway 198.19.0.1 is not reachable on link' in result['msg'], result
    # The kernel refuses an IPv6 route once IPv6 is off: the batch fails, naming its line, and no file is written.
    sh('ip', 'netns', 'exec', host, 'sysctl', '-q', '-w', 'net.ipv6.conf.%s.disable_ipv6=1' % DEV)
    route = dict(dst='2001:db8:164:2::/64', via='2001:db8:64::12', dev=DEV, onlink=True)
    result = run_module(MODULE, dict(netns=host, routes=[ROUTES[0], route], boot_file=str(boot)))
    assert result.get('failed') and result['rc'] != 0 and result['stderr'], result
    assert result['failed_command'].startswith('route replace 2001:db8:164:2::/64'), result
    assert not boot.exists()
