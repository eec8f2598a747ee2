"""Interrupted runs on the shared lab (see conftest.py): ONE ordinary run repairs them.

Each case kills ansible-playbook (its whole process group) at a chosen task, seen in its
streamed output, then runs site.yml once and checks every host's full desired state
against the plan: the live daemon (Docker's bridge network: gateway, prefix, MTU), the
bridge, our routes (protocol 147), the overlay's device and peers, the boot files, and
nothing of the other backend left; a further run changes nothing. The points:

1. switching static_routes -> vxlan, right after daemon.json was written (the overlay
   is up, Docker not restarted yet);
2. switching back vxlan -> static_routes, at the routes (the overlay removed, Docker
   restarted, the direct routes and their boot file not there yet: one module call
   writes both).

Runs after test_faults.py (file order), which leaves the lab converged, and leaves it
converged with direct routing for test_limit_and_unreachable.py.
"""

import ipaddress
import json
import os

import yaml

from labdriver import converge, recap

SITE = 'playbooks/site.yml'
ROUTES_BOOT_FILE = '/etc/crosshost/50-routes.batch'
OVERLAY_DIR = '/etc/crosshost/flannel'
OVERLAY_DEVICE = 'flannel.1'
# Of the other backend: nothing of these may be left on a static_routes host.
OVERLAY_LEFTOVERS = [OVERLAY_DIR, '/run/flannel', '/etc/systemd/system/crosshost-flannel.service',
                     '/usr/local/sbin/crosshost-flannel-restore']
VXLAN_OVERHEAD = 50


def set_backend(lab, backend):
    """The inventory's crosshost_backend, as a user switches it."""
    path = os.path.join(lab.inventory_dir, 'group_vars', 'cluster.yml')
    with open(path) as handle:
        cluster_vars = yaml.safe_load(handle)
    cluster_vars['crosshost_backend'] = backend
    with open(path, 'w') as handle:
        handle.write('---\n')
        yaml.safe_dump(cluster_vars, handle, default_flow_style=False)


def plan(lab):
    with open(os.path.join(lab.inventory_dir, '.crosshost_allocations.yml')) as handle:
        return yaml.safe_load(handle)


def interrupt(lab, header):
    """site.yml killed as soon as it prints HEADER (every host done with the task before)."""
    reached, output = lab.playbook_until(SITE, header)
    assert reached, output[-4000:]
    return output


def existing(lab, host, paths):
    return lab.sh(host, 'sh', '-c', 'for p in "$@"; do [ -e "$p" ] && echo "$p"; done; true', 'sh', *paths).split()


def overlay_device(lab, host):
    """ip -details link of the overlay's device, [] when there is none."""
    out = lab.sh(host, 'ip', '-json', '-details', 'link', 'show', 'dev', OVERLAY_DEVICE, check=False)
    return json.loads(out) if out.strip() else []


def live_docker(lab, host):
    """(gateway/prefix, mtu) of the running daemon's default bridge network."""
    network = json.loads(lab.sh(host, 'docker', 'network', 'inspect', 'bridge'))[0]
    ipam = network['IPAM']['Config'][0]
    return ('%s/%s' % (ipam['Gateway'], ipam['Subnet'].split('/')[1]),
            int(network['Options'].get('com.docker.network.driver.mtu', 1500)))


def daemon_json(lab, host):
    return json.loads(lab.sh(host, 'cat', '/etc/docker/daemon.json'))


def assert_desired_state(lab, backend):
    """Every host as the plan says, for BACKEND, and nothing of the other one."""
    allocations = plan(lab)
    subnets, underlay = allocations['subnets'], allocations['underlay']
    assert sorted(subnets) == lab.hosts
    for host in lab.hosts:
        subnet = ipaddress.ip_network(subnets[host])
        bip = '%s/%d' % (subnet.network_address + 1, subnet.prefixlen)
        underlay_mtu = lab.ip_json(host, 'link', 'show', 'dev', 'eth0')[0]['mtu']
        mtu = underlay_mtu - VXLAN_OVERHEAD if backend == 'vxlan' else underlay_mtu
        peers = [peer for peer in lab.hosts if peer != host]

        # Docker: the file and the running daemon.
        config = daemon_json(lab, host)
        assert (config['bip'], config['mtu']) == (bip, mtu), (host, config)
        assert live_docker(lab, host) == (bip, mtu), host
        # No backup pile-up beside daemon.json (at most the one of the user's own file).
        backups = [name for name in lab.sh(host, 'ls', '/etc/docker').split() if name.startswith('daemon.json.')]
        assert len(backups) <= 1, (host, backups)

        # The bridge.
        bridge = lab.ip_json(host, 'address', 'show', 'dev', 'docker0')[0]
        assert ['%s/%s' % (a['local'], a['prefixlen']) for a in bridge['addr_info'] if a['family'] == 'inet'] == [bip], host

        routes = dict((r['dst'], r) for r in lab.ip_json(host, 'route', 'show', 'proto', '147'))
        assert sorted(routes) == sorted(subnets[peer] for peer in peers), (host, routes)
        overlay = overlay_device(lab, host)
        if backend == 'vxlan':
            # flanneld's layout: an onlink route via the peer's network address on the
            # device, a neighbour and an FDB entry (to its underlay address) per peer.
            for peer in peers:
                route = routes[subnets[peer]]
                assert (route['dev'], route['gateway']) == (OVERLAY_DEVICE, subnets[peer].split('/')[0]), (host, route)
            assert overlay and overlay[0]['mtu'] == mtu, (host, overlay)
            neighbours = lab.ip_json(host, 'neigh', 'show', 'dev', OVERLAY_DEVICE)
            assert sorted(n['dst'] for n in neighbours) == sorted(subnets[p].split('/')[0] for p in peers), host
            assert overlay[0]['linkinfo']['info_data']['local'] == underlay[host], host
            fdb_dsts = [e.get('dst') for e in json.loads(lab.sh(host, 'bridge', '-json', 'fdb', 'show', 'dev', OVERLAY_DEVICE))]
            assert sorted(d for d in fdb_dsts if d) == sorted(underlay[p] for p in peers), host
            # Boot: the overlay's files and unit, not the direct routes' file.
            boot = lab.sh(host, 'cat', OVERLAY_DIR + '/flannel.batch')
            assert all(subnets[peer] in boot for peer in peers), (host, boot)
            assert 'FLANNEL_SUBNET=%s' % bip in lab.sh(host, 'cat', '/run/flannel/subnet.env'), host
            assert lab.sh(host, 'systemctl', 'is-enabled', 'crosshost-flannel.service').strip() == 'enabled', host
            assert existing(lab, host, [ROUTES_BOOT_FILE]) == [], host
            assert '-A CROSSHOST-VXLAN -j DROP' in lab.sh(host, 'iptables-save'), host
        else:
            for peer in peers:
                route = routes[subnets[peer]]
                assert (route['dev'], route['gateway']) == ('eth0', underlay[peer]), (host, route)
            boot = lab.sh(host, 'cat', ROUTES_BOOT_FILE).splitlines()
            for peer in peers:
                assert [line for line in boot if subnets[peer] in line.split() and 'via %s ' % underlay[peer] in line], (host, boot)
            assert overlay == [], host
            assert existing(lab, host, OVERLAY_LEFTOVERS) == [], host
            assert 'CROSSHOST-VXLAN' not in lab.sh(host, 'iptables-save'), host


def assert_nothing_changes(lab):
    rc, output = lab.playbook(SITE, check=False)
    assert rc == 0 and all(c['changed'] == 0 for c in recap(output).values()), output[-6000:]


def test_switch_to_vxlan_interrupted_after_daemon_json(lab):
    if not os.path.exists(os.path.join(lab.inventory_dir, '.crosshost_allocations.yml')):
        converge(lab)  # run alone: test_faults.py did not converge the lab first
    set_backend(lab, 'vxlan')
    try:
        # The module has written daemon.json; its restart handler is next.
        interrupt(lab, 'RUNNING HANDLER [crosshost.network.docker : Look whether Docker runs]')
        # Killed where it must be: the file has the overlay's MTU, the daemon still the old one.
        for host in lab.hosts:
            assert daemon_json(lab, host)['mtu'] != live_docker(lab, host)[1], host
        converge(lab)
        assert_desired_state(lab, 'vxlan')
        assert_nothing_changes(lab)
    except BaseException:
        set_backend(lab, 'static_routes')
        raise


def test_switch_back_interrupted_mid_routes(lab):
    set_backend(lab, 'static_routes')
    # The overlay is gone and Docker restarted; the direct routes and their boot file
    # come in the next task, one module call (the overlay removed the file when it came).
    interrupt(lab, "TASK [crosshost.network.static_routes : Routes to the other hosts' container subnets, and their boot file]")
    for host in lab.hosts:
        assert overlay_device(lab, host) == [], host
    converge(lab)
    assert_desired_state(lab, 'static_routes')
    assert_nothing_changes(lab)
