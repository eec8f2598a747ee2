"""crosshost.network.container_bridge for real, in throwaway namespaces (xh-...).

Every change runs in check mode first (nothing changes, kernel nor files), then for real
and again (changed=false), with --diff. The boot file is replayed with ``ip -force
-batch`` in a second, empty namespace: it must give the same bridge.
"""

import os
import subprocess
import uuid

from conftest import ip_json, run_module, sh

MODULE = 'container_bridge'
V4 = '100.64.1.1/24'
V6 = '2001:db8:100:1::1/64'


def bridge(ns, name='xh-br0'):
    """(kind, stp, mtu, up, global addresses) of the link, or None."""
    found = ip_json(ns, '-details', 'address', 'show')
    for link in found:
        if link['ifname'] == name:
            addresses = sorted('%s/%s' % (a['local'], a['prefixlen']) for a in link.get('addr_info', [])
                               if 'local' in a and not a['local'].startswith('fe80:'))
            info = link.get('linkinfo', {})
            return (info.get('info_kind'), info.get('info_data', {}).get('stp_state'), link['mtu'],
                    'UP' in link['flags'], addresses)
    return None


def files(directory):
    return dict((name, (directory / name).read_text()) for name in sorted(os.listdir(str(directory))))


def converge(args, ns, directory):
    """Check mode (nothing changes), the real run, a rerun (changed=false); returns the real run."""
    before = (bridge(ns, args['name']), files(directory))
    check = run_module(MODULE, args, check=True, diff=True)
    assert check['changed'] is True and not check.get('failed'), check
    assert (bridge(ns, args['name']), files(directory)) == before, 'check mode changed something'
    real = run_module(MODULE, args, diff=True)
    assert real['changed'] is True and not real.get('failed'), real
    assert (real['commands'], real['diff']) == (check['commands'], check['diff'])
    again = run_module(MODULE, args, diff=True)
    assert (again['changed'], again['commands']) == (False, []), again
    return real


def test_lifecycle_with_boot_file_and_ipv6_record(tmp_path, netns):
    boot, record = tmp_path / '10-bridge.batch', tmp_path / 'bridge-xh-br0.address6'
    args = dict(netns=netns, name='xh-br0', addresses=[V4, V6], purge=True, mtu=1450, boot_file=str(boot), record_file=str(record))
    result = converge(args, netns, tmp_path)
    assert result['commands'] == [
        'ip link add name xh-br0 type bridge', 'ip link set dev xh-br0 mtu 1450', 'ip address add %s brd + dev xh-br0' % V4,
        'ip address add %s dev xh-br0' % V6, 'ip link set dev xh-br0 up',
        'write %s (mode 0644)' % boot, 'write %s (mode 0644)' % record]
    assert bridge(netns) == ('bridge', 0, 1450, True, sorted([V4, V6]))
    assert record.read_text() == V6 + '\n'
    # One diff of the bridge, one per file.
    assert [d['after_header'] for d in result['diff']] == ['bridge xh-br0', str(boot), str(record)]

    # The boot file gives the same bridge in an empty namespace (twice: replay is safe to repeat).
    empty = 'xh-' + uuid.uuid4().hex[:8]
    sh('ip', 'netns', 'add', empty)
    try:
        for _replay in range(2):
            subprocess.run(['ip', '-n', empty, '-force', '-batch', str(boot)], capture_output=True, check=False)
        assert bridge(empty) == bridge(netns)
    finally:
        sh('ip', 'netns', 'del', empty, check=False)

    # A foreign address goes with purge; without purge only our recorded IPv6 address goes when IPv6 is off.
    sh('ip', '-n', netns, 'address', 'add', '198.18.1.1/24', 'dev', 'xh-br0')
    assert run_module(MODULE, args)['commands'] == ['ip address del 198.18.1.1/24 dev xh-br0']
    sh('ip', '-n', netns, 'address', 'add', '198.18.1.1/24', 'dev', 'xh-br0')
    result = converge(dict(args, addresses=[V4], purge=False, stp=True, mtu=1400), netns, tmp_path)
    assert 'ip address del %s dev xh-br0' % V6 in result['commands']
    assert bridge(netns) == ('bridge', 1, 1400, True, sorted([V4, '198.18.1.1/24']))
    assert not record.exists() and V6 not in boot.read_text() and 'stp_state 1' in boot.read_text()

    # Absent: the link and our files go.
    result = converge(dict(args, state='absent'), netns, tmp_path)
    assert result['commands'][0] == 'ip link del dev xh-br0'
    assert bridge(netns) is None and files(tmp_path) == {}


def test_keep_link_leaves_a_bridge_of_another_owner(tmp_path, netns):
    """docker0 is Docker's: its address set here, absent removes only our files."""
    record = tmp_path / 'bridge-docker0.address6'
    sh('ip', '-n', netns, 'link', 'add', 'docker0', 'type', 'bridge')
    sh('ip', '-n', netns, 'address', 'add', '172.17.0.1/16', 'dev', 'docker0')
    args = dict(netns=netns, name='docker0', addresses=[V4, V6], purge=True, mtu=1500, record_file=str(record))
    assert run_module(MODULE, args)['changed'] is True
    assert bridge(netns, 'docker0')[4] == sorted([V4, V6])
    assert sorted(files(tmp_path)) == ['bridge-docker0.address6']
    assert run_module(MODULE, dict(args, state='absent', keep_link=True))['commands'] == ['rm -f %s' % record]
    assert bridge(netns, 'docker0')[4] == sorted([V4, V6]) and files(tmp_path) == {}


def test_bad_input_is_named_and_changes_nothing(tmp_path, netns):
    sh('ip', '-n', netns, 'link', 'add', 'xh-veth0', 'type', 'veth', 'peer', 'name', 'xh-veth1')
    boot = str(tmp_path / '10-bridge.batch')
    cases = [
        (dict(name='xh-veth0', addresses=[V4]), "link xh-veth0 is a veth, not a bridge"),
        (dict(name='xh-br0', addresses=['100.64.1.1']), 'has no prefix length'),
        (dict(name='xh-br0', addresses=[V4], boot_file='relative.batch'), 'boot_file must be an absolute file path'),
    ]
    for args, message in cases:
        result = run_module(MODULE, dict(args, netns=netns, boot_file=args.get('boot_file', boot)))
        assert result.get('failed') and message in result['msg'], (args, result)
    assert bridge(netns) is None and files(tmp_path) == {}


def test_a_failed_batch_writes_no_file_and_names_the_command(tmp_path, netns):
    """The kernel refuses the IPv6 address (IPv6 off in the namespace): nothing is persisted."""
    boot = tmp_path / '10-bridge.batch'
    sh('ip', 'netns', 'exec', netns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1')
    result = run_module(MODULE, dict(netns=netns, name='xh-br0', addresses=[V4, V6], boot_file=str(boot)))
    assert result.get('failed') and result['rc'] != 0 and result['stderr'], result
    assert result['cmd'][-2:] == ['-batch', '-'] and result['failed_command'] == 'address add %s dev xh-br0' % V6, result
    assert not boot.exists()
