"""The forwarding module's boot replay (crosshost-restore) and its unit, for real in a throwaway netns.

The module writes the replay command and the rules files into ``tmp_path`` (every path
pointed there), then the replay command runs inside a network namespace ``xh-*``:
sysctls, firewall chains and routes come back, a late underlay is waited for (the boot
case), and the unit carries the ordering a reboot relies on (checked offline with
``systemd-analyze verify`` where it exists). The lab reboots real systemd hosts
(Molecule ``default`` and ``overlay``).
"""

import os
import shutil
import subprocess
import threading
import time
import uuid

from ansible_collections.crosshost.network.plugins.module_utils._forwarding import boot_unit
from conftest import ip_json, run_module, sh

UNDERLAY = 'xh-uplink'


def render(tmp_path, **extra):
    """Install crosshost-restore and the rules files with the forwarding module (every path in ``tmp_path``).

    The module runs for real in a scratch namespace of its own (deleted at once), so the
    test's namespace starts empty and only the replay fills it. The unit is rendered by
    the same code the module writes it with (this machine may run no systemd).
    """
    conf = tmp_path / 'etc' / 'crosshost'
    conf.mkdir(parents=True)
    args = {
        'networks': ['100.64.0.0/16'],
        'config_dir': str(conf),
        'restore_command': str(tmp_path / 'crosshost-restore'),
        'sysctl_file': str(tmp_path / '60-crosshost.conf'),
        'modules_file': str(tmp_path / 'modules.conf'),
        'unit_dir': str(tmp_path),
        'br_netfilter': False,
        'systemd': False,
    }
    args.update(extra)
    scratch = 'xh-' + uuid.uuid4().hex[:8]
    sh('ip', 'netns', 'add', scratch)
    try:
        result = run_module('forwarding', dict(args, netns=scratch))
    finally:
        sh('ip', 'netns', 'del', scratch, check=False)
    assert not result.get('failed'), result
    unit = tmp_path / 'crosshost-routes.service'
    unit.write_text(boot_unit(dict(args, boot_unit=unit.name, boot_wait=args.get('boot_wait', 60))))
    (conf / '50-routes.batch').write_text(
        '# a route to a peer host, as the static_routes role writes it\n'
        'route replace 100.64.2.0/24 via 198.18.180.12 dev %s proto 147\n' % UNDERLAY)
    return tmp_path / 'crosshost-restore', unit


def restore(netns, script, *args, wait=0):
    env = dict(os.environ, CROSSHOST_RESTORE_WAIT=str(wait))
    return subprocess.run(['ip', 'netns', 'exec', netns, 'sh', str(script)] + list(args),
                          capture_output=True, text=True, timeout=120, env=env, check=False)


def add_underlay(netns):
    """The underlay coming up: a veth pair in the namespace, 198.18.180.11/24 on our end."""
    sh('ip', '-n', netns, 'link', 'add', UNDERLAY, 'type', 'veth', 'peer', 'name', 'xh-uplink-peer')
    sh('ip', '-n', netns, 'address', 'add', '198.18.180.11/24', 'dev', UNDERLAY)
    sh('ip', '-n', netns, 'link', 'set', 'xh-uplink-peer', 'up')
    sh('ip', '-n', netns, 'link', 'set', UNDERLAY, 'up')


def our_routes(netns):
    return [(r['dst'], r.get('gateway')) for r in ip_json(netns, 'route', 'show', 'proto', '147')]


def iptables(netns, *args):
    return sh('ip', 'netns', 'exec', netns, 'iptables', '-w', *args).splitlines()


def test_replay_restores_sysctls_chains_and_routes(tmp_path, netns):
    script, _unit = render(tmp_path)
    sh('ip', 'netns', 'exec', netns, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=0')
    add_underlay(netns)

    for _run in range(2):  # the second run changes nothing
        result = restore(netns, script, 'all')
        assert result.returncode == 0, result.stderr
        assert sh('ip', 'netns', 'exec', netns, 'cat', '/proc/sys/net/ipv4/ip_forward').strip() == '1'
        assert our_routes(netns) == [('100.64.2.0/24', '198.18.180.12')]
        assert iptables(netns, '-S', 'FORWARD').count('-A FORWARD -j CROSSHOST-FWD') == 1
        assert iptables(netns, '-S', 'CROSSHOST-FWD') == [
            '-N CROSSHOST-FWD', '-A CROSSHOST-FWD -s 100.64.0.0/16 -j ACCEPT', '-A CROSSHOST-FWD -d 100.64.0.0/16 -j ACCEPT']
        assert iptables(netns, '-t', 'nat', '-S', 'POSTROUTING').count('-A POSTROUTING -j CROSSHOST-POSTRTG') == 1


def test_replay_waits_for_a_late_underlay(tmp_path, netns):
    script, _unit = render(tmp_path)
    # Without waiting (a run by hand), a missing underlay is an error, reported at once.
    result = restore(netns, script, 'routes')
    assert result.returncode == 1
    assert '50-routes.batch' in result.stderr
    assert our_routes(netns) == []

    # At boot (CROSSHOST_RESTORE_WAIT), the underlay appearing 2 s later is waited for.
    late = threading.Timer(2, add_underlay, [netns])
    started = time.monotonic()
    late.start()
    try:
        result = restore(netns, script, 'all', wait=30)
    finally:
        late.join()
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert result.stderr == ''  # the failed tries while waiting stay quiet
    assert 2 <= elapsed < 20
    assert our_routes(netns) == [('100.64.2.0/24', '198.18.180.12')]


def test_replay_gives_up_after_the_wait(tmp_path, netns):
    script, _unit = render(tmp_path)
    started = time.monotonic()
    result = restore(netns, script, 'all', wait=2)
    assert result.returncode == 1
    assert time.monotonic() - started >= 2
    # The last try reports why; the firewall was still restored.
    assert 'errors in' in result.stderr
    assert iptables(netns, '-S', 'FORWARD').count('-A FORWARD -j CROSSHOST-FWD') == 1


def unit_settings(path):
    """[Section] Key=value lines of a unit file -> {(section, key): [values...]}."""
    settings, section = {}, None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        if line.startswith('['):
            section = line.strip('[]')
            continue
        key, value = line.split('=', 1)
        settings.setdefault((section, key), []).extend(value.split())
    return settings


def test_boot_unit_ordering(tmp_path):
    script, unit = render(tmp_path, boot_wait=45)
    settings = unit_settings(unit)
    # Routes need the underlay; Docker needs our state; Docker pulls us in even when
    # socket-activated; a failed replay must not keep Docker down.
    assert settings[('Unit', 'After')] == ['network-online.target']
    assert settings[('Unit', 'Wants')] == ['network-online.target']
    assert settings[('Unit', 'Before')] == ['docker.service']
    assert ('Unit', 'Requires') not in settings and ('Unit', 'BindsTo') not in settings
    assert settings[('Service', 'Type')] == ['oneshot']
    assert settings[('Service', 'RemainAfterExit')] == ['yes']
    assert ('Service', 'ExecStop') not in settings
    assert settings[('Service', 'ExecStart')] == [str(script), 'all']
    assert settings[('Service', 'Environment')] == ['CROSSHOST_RESTORE_WAIT=45']
    assert int(settings[('Service', 'TimeoutStartSec')][0]) > 45
    assert sorted(settings[('Install', 'WantedBy')]) == ['docker.service', 'multi-user.target']
    subprocess.run(['sh', '-n', str(script)], check=True)
    if shutil.which('shellcheck'):
        subprocess.run(['shellcheck', '-s', 'sh', str(script)], check=True)
    if shutil.which('systemd-analyze'):
        proc = subprocess.run(['systemd-analyze', 'verify', str(unit)], capture_output=True, text=True, check=False)
        # Only what is wrong with our unit counts (the machine may lack docker.service).
        problems = [line for line in proc.stderr.splitlines() if unit.name in line]
        assert not problems, proc.stderr
