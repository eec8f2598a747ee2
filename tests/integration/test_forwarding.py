"""crosshost.network.forwarding for real in a throwaway netns, IPv4 and IPv6.

The sysctls and chains are the namespace's; every file the module owns is pointed into
``tmp_path`` (no systemd here: the unit is covered by test_boot_replay and the lab).
"""

from conftest import run_module, sh

V4 = '100.64.0.0/16'
V6 = '2001:db8:100::/48'


def args_for(tmp_path, netns, **extra):
    args = dict(networks=[V4, V6], netns=netns, config_dir=str(tmp_path / 'etc' / 'crosshost'),
                restore_command=str(tmp_path / 'crosshost-restore'), sysctl_file=str(tmp_path / 'sysctl.conf'),
                modules_file=str(tmp_path / 'modules.conf'), unit_dir=str(tmp_path), br_netfilter=False, systemd=False)
    args.update(extra)
    return args


def rules(netns, tool, table, chain):
    return sh('ip', 'netns', 'exec', netns, tool, '-w', '-t', table, '-S', chain, check=False).splitlines()


def sysctl(netns, key):
    return sh('ip', 'netns', 'exec', netns, 'sysctl', '-n', key).strip()


def test_both_families_converge_idempotent_and_repair(tmp_path, netns):
    sh('ip', 'netns', 'exec', netns, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=0')
    args = args_for(tmp_path, netns)

    # Check mode: the whole batch is shown, nothing is done.
    planned = run_module('forwarding', args, check=True, diff=True)
    assert planned['changed'] and not planned.get('failed'), planned
    assert 'sysctl -q -w net.ipv6.conf.all.forwarding=1' in planned['commands']
    assert 'ip6tables -w -t filter -I FORWARD 1 -j CROSSHOST-FWD' in planned['commands']
    assert not (tmp_path / 'etc').exists() and sysctl(netns, 'net.ipv4.ip_forward') == '0'
    assert rules(netns, 'ip6tables', 'filter', 'CROSSHOST-FWD') == []

    applied = run_module('forwarding', args, diff=True)
    assert applied['changed'] and applied['commands'] == planned['commands'], applied
    assert sysctl(netns, 'net.ipv4.ip_forward') == '1' and sysctl(netns, 'net.ipv6.conf.all.forwarding') == '1'
    for tool, network in (('iptables', V4), ('ip6tables', V6)):
        assert rules(netns, tool, 'filter', 'CROSSHOST-FWD') == [
            '-N CROSSHOST-FWD', '-A CROSSHOST-FWD -s %s -j ACCEPT' % network, '-A CROSSHOST-FWD -d %s -j ACCEPT' % network]
        assert rules(netns, tool, 'nat', 'CROSSHOST-POSTRTG')[-1] == '-A CROSSHOST-POSTRTG -s %s -j MASQUERADE' % network
        assert rules(netns, tool, 'filter', 'FORWARD')[1] == '-A FORWARD -j CROSSHOST-FWD'
        assert rules(netns, tool, 'nat', 'POSTROUTING')[1] == '-A POSTROUTING -j CROSSHOST-POSTRTG'
    # What runs is what boots: the rules files are the chains just loaded.
    assert ':CROSSHOST-FWD - [0:0]\n-A CROSSHOST-FWD -s %s -j ACCEPT\n' % V6 in (tmp_path / 'etc' / 'crosshost' / 'ip6tables.rules').read_text()
    assert 'net.ipv6.conf.all.forwarding = 1' in (tmp_path / 'sysctl.conf').read_text()
    assert sorted(applied['files']) == sorted(str(p) for p in (
        tmp_path / 'sysctl.conf', tmp_path / 'crosshost-restore',
        tmp_path / 'etc' / 'crosshost' / 'iptables.rules', tmp_path / 'etc' / 'crosshost' / 'ip6tables.rules'))
    assert applied['networks'] == {'ipv4': [V4], 'ipv6': [V6]}

    again = run_module('forwarding', args)
    assert not again['changed'] and again['commands'] == [], again

    # Someone flushes our IPv6 nat chain and removes an IPv4 jump: the next run repairs both, only those.
    sh('ip', 'netns', 'exec', netns, 'ip6tables', '-w', '-t', 'nat', '-F', 'CROSSHOST-POSTRTG')
    sh('ip', 'netns', 'exec', netns, 'iptables', '-w', '-D', 'FORWARD', '-j', 'CROSSHOST-FWD')
    repaired = run_module('forwarding', args)
    assert repaired['commands'] == ['iptables -w -t filter -I FORWARD 1 -j CROSSHOST-FWD',
                                    'ip6tables-restore -w --noflush %s' % (tmp_path / 'etc' / 'crosshost' / 'ip6tables.rules')], repaired
    assert rules(netns, 'ip6tables', 'nat', 'CROSSHOST-POSTRTG')[-1] == '-A CROSSHOST-POSTRTG -s %s -j MASQUERADE' % V6


def test_ipv6_dropped_then_absent_removes_only_ours(tmp_path, netns):
    args = args_for(tmp_path, netns, masquerade=False)
    # A rule and a chain of someone else's, in both families: they stay.
    for tool in ('iptables', 'ip6tables'):
        sh('ip', 'netns', 'exec', netns, tool, '-w', '-N', 'USER-CHAIN')
        sh('ip', 'netns', 'exec', netns, tool, '-w', '-A', 'FORWARD', '-j', 'USER-CHAIN')
    assert not run_module('forwarding', args).get('failed')
    assert rules(netns, 'iptables', 'nat', 'CROSSHOST-POSTRTG') == ['-N CROSSHOST-POSTRTG']  # masquerade: false

    # The cluster loses its IPv6 network: our ip6tables chains, jumps and rules file go.
    v4only = run_module('forwarding', dict(args, networks=[V4]))
    assert 'ip6tables -w -t filter -X CROSSHOST-FWD' in v4only['commands'], v4only
    assert not (tmp_path / 'etc' / 'crosshost' / 'ip6tables.rules').exists()
    assert rules(netns, 'ip6tables', 'filter', 'FORWARD') == ['-P FORWARD ACCEPT', '-A FORWARD -j USER-CHAIN']
    assert rules(netns, 'iptables', 'filter', 'CROSSHOST-FWD')[1:] == ['-A CROSSHOST-FWD -s %s -j ACCEPT' % V4,
                                                                       '-A CROSSHOST-FWD -d %s -j ACCEPT' % V4]

    # A second copy of our jump (added by hand) goes too with state absent.
    sh('ip', 'netns', 'exec', netns, 'iptables', '-w', '-A', 'FORWARD', '-j', 'CROSSHOST-FWD')
    removed = run_module('forwarding', dict(args, state='absent'))
    assert removed['changed'] and removed['commands'].count('iptables -w -t filter -D FORWARD -j CROSSHOST-FWD') == 2
    for tool in ('iptables', 'ip6tables'):
        assert rules(netns, tool, 'filter', 'FORWARD') == ['-P FORWARD ACCEPT', '-A FORWARD -j USER-CHAIN']
        assert rules(netns, tool, 'filter', 'CROSSHOST-FWD') == []
    assert not (tmp_path / 'crosshost-restore').exists() and not (tmp_path / 'sysctl.conf').exists()
    assert sysctl(netns, 'net.ipv4.ip_forward') == '1'  # forwarding itself stays on
    assert not run_module('forwarding', dict(args, state='absent'))['changed']


def test_bad_input_changes_nothing(tmp_path, netns):
    # (The other checks of the input: tests/unit/test_forwarding.py.)
    result = run_module('forwarding', args_for(tmp_path, netns, networks=[V4, '2001:db8:100::1/48']))
    assert result.get('failed') and "'2001:db8:100::1/48' is not a network" in result['msg'], result
    assert list(tmp_path.iterdir()) == []
    assert rules(netns, 'iptables', 'filter', 'CROSSHOST-FWD') == []
