"""Hosts outside the run on the shared lab (see conftest.py): `--limit` and an unreachable host.

The plan covers the whole cluster: a host left out with --limit, or that cannot be
reached, keeps its subnet (allocations file) and the other hosts keep their live routes
AND their boot files to it. An unreachable host does not stop the run: the others
converge, the run names it at the end and ansible-playbook exits with 4 (its code for
"some host was unreachable"); once it is back, the next ordinary run converges it.

Runs after test_faults.py (file order), which leaves the lab converged, and leaves it
converged with every host for test_static_routes.py.
"""

import os
import subprocess

import yaml

from labdriver import recap

SITE = 'playbooks/site.yml'
BOOT_FILE = '/etc/crosshost/50-routes.batch'


def kept(lab):
    path = os.path.join(lab.inventory_dir, '.crosshost_allocations.yml')
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return yaml.safe_load(handle)


def converged(lab):
    """The allocations of a converged lab (one ordinary run first if there are none yet)."""
    if kept(lab) is None or sorted(kept(lab)['subnets']) != lab.hosts:
        rc, output = lab.playbook(SITE, check=False)
        assert rc == 0, output[-6000:]
    return kept(lab)


def routes_to(lab, host, peer, allocations):
    """(live route, boot line) of host's route to peer's subnet, each None when missing."""
    subnet, via = allocations['subnets'][peer], allocations['underlay'][peer]
    live = lab.our_routes(host).get(subnet)
    lines = [line for line in lab.sh(host, 'cat', BOOT_FILE, check=False).splitlines() if subnet in line.split()]
    assert via == lab.address(peer)
    return live, (lines[0] if lines else None)


def assert_routes_to(lab, hosts, peer, allocations):
    for host in hosts:
        live, boot = routes_to(lab, host, peer, allocations)
        assert live == lab.address(peer), (host, peer, lab.our_routes(host))
        assert boot is not None and 'via %s ' % lab.address(peer) in boot, (host, boot)


def forget_node2_on_node1(lab, allocations):
    """What the run must put back from the plan alone: node1's boot file and live route to node2."""
    lab.sh('node1', 'rm', '-f', BOOT_FILE)
    lab.sh('node1', 'ip', 'route', 'del', allocations['subnets']['node2'], 'proto', '147')
    assert routes_to(lab, 'node1', 'node2', allocations) == (None, None)


def test_limit_keeps_live_routes_and_boot_files_to_hosts_outside_it(lab):
    before = converged(lab)
    forget_node2_on_node1(lab, before)
    rc, output = lab.playbook(SITE, '--limit', 'all:!node2', check=False)
    assert rc == 0, output[-6000:]
    assert sorted(recap(output)) == ['node1', 'node3']
    assert_routes_to(lab, ['node1', 'node3'], 'node2', before)
    assert kept(lab) == before


def test_unreachable_host_does_not_stop_the_others_and_is_named(lab):
    before = converged(lab)
    forget_node2_on_node1(lab, before)
    # Paused: its address answers TCP, nothing on it runs (as a hung host).
    subprocess.run(['docker', 'pause', lab.container('node2')], check=True, capture_output=True)
    try:
        rc, output = lab.playbook(SITE, check=False)
    finally:
        subprocess.run(['docker', 'unpause', lab.container('node2')], check=True, capture_output=True)
    counts = recap(output)
    assert rc == 4, output[-6000:]
    assert counts['node2']['unreachable'] == 1 and counts['node2']['failed'] == 0, counts
    for host in ('node1', 'node3'):
        assert counts[host]['failed'] == 0 and counts[host]['unreachable'] == 0, counts
    assert 'Report the hosts that were not reached' in output.split('PLAY RECAP')[0].rsplit('PLAY [', 1)[1]
    assert ('crosshost: host node2 was not reached (' in output
            and 'it keeps %s and the other hosts keep their routes to it via %s' % (before['subnets']['node2'], lab.address('node2'))
            in output), output[-3000:]
    assert_routes_to(lab, ['node1', 'node3'], 'node2', before)
    assert kept(lab) == before

    # Back: the next ordinary run converges every host, and names nobody.
    rc, output = lab.playbook(SITE, check=False)
    counts = recap(output)
    assert rc == 0 and all(c['failed'] == 0 and c['unreachable'] == 0 for c in counts.values()), output[-6000:]
    assert sorted(counts) == lab.hosts
    assert 'was not reached' not in output
    for peer in lab.hosts:
        assert_routes_to(lab, [h for h in lab.hosts if h != peer], peer, before)
    assert kept(lab) == before
