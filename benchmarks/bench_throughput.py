"""TCP throughput between containers of two lab hosts: underlay, static routes, VXLAN; IPv4 and IPv6.

Creates a docker-in-docker lab (playbooks/lab/create.yml, Docker objects
``crosshost-bench-tput-*``, underlay 198.18.13.0/24 and 2001:db8:13::/64), configures it
dual-stack (cluster networks 100.64.0.0/16 and 2001:db8:113::/48) with the flannel-compatible
VXLAN backend, then with the direct routing backend (one run each), and measures with
iperf3 (Debian's, from the lab host image) each path over IPv4 and over IPv6:

* ``underlay``       host to host over the lab hosts' eth0 (each family's ceiling);
* ``static_routes``  container to container, routed via the peer host's underlay address
                     of the same family;
* ``vxlan``          container to container through flannel.1 (IPv4 over the IPv4
                     underlay) and flannel-v6.1 (IPv6 over the IPv6 underlay), as
                     flanneld's dual stack does it.

Side by side: in each backend's run the underlay's runs and the containers' interleave
(underlay IPv4, containers IPv4, underlay IPv6, containers IPv6, again), so a change of the
machine's load falls on all four, and each container row's ratio is to the underlay row
of its family measured beside it. The vxlan backend goes first, then static_routes.

The containers are the bridge-mode probes of playbooks/verify.yml (busybox app image, no
iperf3 inside): iperf3 runs in the probe's network namespace (``nsenter --target <pid>
--net``), so its packets take exactly the container's path (its eth0, MTU, docker0,
routes) while the binary comes from the lab host. This is what ``docker run
--net=container:crosshost-probe <host image> iperf3`` would do, without loading the
486 MB host image into every inner dockerd.

    .venv/bin/python benchmarks/bench_throughput.py [--seconds 5] [--repeat 3] [--keep]

Prints one row per path and family: the MTU of the sender's interface, the sending host's
device towards the target (``ip route get``) with its MTU, the median throughput of the
runs, its ratio to that underlay row, the retransmits of all runs and the range of the
1-minute load average while they ran.
Numbers depend on the machine and its load (printed): compare rows of one run. The lab is
destroyed at the end unless --keep.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'lab'))

from labdriver import CLUSTER_VARS, create_lab, destroy_lab, recap  # noqa: E402  (path set just above)

LAB_NAME = 'crosshost-bench-tput'
LAB_SUBNET = '198.18.13.0/24'
LAB_SUBNET_V6 = '2001:db8:13::/64'
NETWORK_V6 = '2001:db8:113::/48'
HOSTS = 2
PROBE = 'crosshost-probe'
PORT = 5201
FAMILIES = (4, 6)


def site_playbook():
    """site.yml once it knows the vxlan backend, else the overlay scenario's converge (site.yml + that block)."""
    with open(os.path.join(ROOT, 'playbooks', 'site.yml')) as handle:
        if 'crosshost.network.flannel' in handle.read():
            return 'playbooks/site.yml'
    return 'molecule/overlay/converge.yml'


def converge(lab, backend):
    rc, output = lab.playbook(site_playbook(), '-e', 'crosshost_backend=%s' % backend, check=False)
    failed = [host for host, counts in recap(output).items() if counts.get('failed') or counts.get('unreachable')]
    if rc != 0 or failed:
        raise RuntimeError('%s with backend %s failed:\n%s' % (site_playbook(), backend, output[-4000:]))


def fresh_probes(lab):
    """(Re)create the probes so that they get the MTU and subnets of the current backend."""
    for host in lab.hosts:
        lab.sh(host, 'docker', 'rm', '--force', PROBE, check=False)
    rc, output = lab.playbook('playbooks/verify.yml', check=False)
    if rc != 0:
        raise RuntimeError('verify.yml failed:\n%s' % output[-4000:])


def probe_ns(lab, host):
    """nsenter argv prefix entering the probe container's network namespace on host."""
    pid = lab.sh(host, 'docker', 'inspect', '--format', '{{.State.Pid}}', PROBE).strip()
    return ['nsenter', '--target', pid, '--net']


def probe_ip(lab, host, family):
    key = 'IPAddress' if family == 4 else 'GlobalIPv6Address'
    return lab.sh(host, 'docker', 'inspect', '--format', '{{.NetworkSettings.%s}}' % key, PROBE).strip()


def underlay_ip(lab, host, family):
    out = lab.ip_json(host, '-%d' % family, 'address', 'show', 'dev', 'eth0', 'scope', 'global')
    return out[0]['addr_info'][0]['local'] if out and out[0].get('addr_info') else ''


def link_mtu(lab, host, device, netns=()):
    # Through netlink (ip): /sys would show the lab host's eth0, nsenter --net keeps its mount.
    return int(json.loads(lab.sh(host, *(list(netns) + ['ip', '-json', 'link', 'show', 'dev', device])))[0]['mtu'])


def host_device(lab, host, target):
    """The device host's own routing sends target's packets out of (eth0, flannel.1, flannel-v6.1)."""
    return lab.ip_json(host, 'route', 'get', target)[0]['dev']


def iperf(lab, server, client, target, seconds, server_ns=(), client_ns=()):
    """One TCP run: iperf3 server (one connection) on `server`, client on `client`; bits/s received."""
    lab.sh(server, *(list(server_ns) + ['iperf3', '--server', '--one-off', '--daemon', '--port', str(PORT)]))
    time.sleep(0.5)
    try:
        out = lab.sh(client, *(list(client_ns) + ['iperf3', '--client', target, '--port', str(PORT), '--time', str(seconds),
                                                  '--json', '--connect-timeout', '3000']))
    finally:
        # A server left waiting (client failed) would block the next run's port.
        lab.sh(server, 'pkill', '-f', 'iperf3 --server --one-off --daemon --port %d' % PORT, check=False)
    result = json.loads(out)
    return result['end']['sum_received']['bits_per_second'], result['end']['sum_sent'].get('retransmits', 0)


def path(lab, label, containers):
    """Where one path's runs go: the server's address of each family and both ends' netns prefixes."""
    server, client = lab.hosts[1], lab.hosts[0]
    server_ns, client_ns = (probe_ns(lab, server), probe_ns(lab, client)) if containers else ([], [])
    targets = dict((family, probe_ip(lab, server, family) if containers else underlay_ip(lab, server, family))
                   for family in FAMILIES)
    for family, target in targets.items():
        if not target:
            raise RuntimeError('%s: %s on %s has no IPv%d address' % (label, 'the probe' if containers else 'eth0', server, family))
    return dict(label=label, server=server, client=client, server_ns=server_ns, client_ns=client_ns, targets=targets,
                runs=dict((family, []) for family in FAMILIES))


def measure(lab, backend, seconds, repeat):
    """Rows of the underlay and of the backend's container path, IPv4 and IPv6.

    Their runs interleave (underlay IPv4, containers IPv4, underlay IPv6, containers
    IPv6, again): a change of the machine's load falls on all four, so each container
    row's ratio is to the underlay runs beside its own.
    """
    paths = [path(lab, 'underlay host -> host (%s run)' % backend, False),
             path(lab, '%s container -> container' % backend, True)]
    loads = []
    for run in range(repeat):
        for family in FAMILIES:
            for one in paths:
                loads.append(os.getloadavg()[0])
                one['runs'][family].append(iperf(lab, one['server'], one['client'], one['targets'][family], seconds,
                                                 one['server_ns'], one['client_ns']))
    rows = []
    for one in paths:
        for family in FAMILIES:
            device = host_device(lab, one['client'], one['targets'][family])
            rows.append(dict(label=one['label'], family=family, mtu=link_mtu(lab, one['client'], 'eth0', one['client_ns']),
                             device='%s (%d)' % (device, link_mtu(lab, one['client'], device)),
                             bps=statistics.median(r[0] for r in one['runs'][family]),
                             underlay_bps=statistics.median(r[0] for r in paths[0]['runs'][family]),
                             retransmits=sum(r[1] for r in one['runs'][family]), load=(min(loads), max(loads))))
    return rows


def print_table(rows, args, seconds):
    print()
    print('TCP throughput between 2 lab hosts, iperf3 %d x %d s per row, median; each backend\'s runs interleave with the'
          ' underlay\'s, IPv4 and IPv6 (%.0f s in all)' % (args.repeat, args.seconds, seconds))
    line = '%-42s %4s %5s %-20s %7s %6s %11s %10s'
    print(line % ('path', 'IP', 'MTU', 'host device (MTU)', 'Gbit/s', 'ratio', 'retransmits', 'load 1 min'))
    for row in rows:
        print(line % (row['label'], 'v%d' % row['family'], row['mtu'], row['device'], '%.2f' % (row['bps'] / 1e9),
                      '%.2f' % (row['bps'] / row['underlay_bps']), row['retransmits'], '%.1f-%.1f' % row['load']))
    print('ratio: to the underlay of the same family in the same backend\'s run; load average at the end: %.1f %.1f %.1f'
          % os.getloadavg())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seconds', type=int, default=5, help='seconds per iperf3 run (default 5)')
    parser.add_argument('--repeat', type=int, default=3, help='runs per path and family; the median is shown (default 3)')
    parser.add_argument('--keep', action='store_true', help='leave the lab running')
    args = parser.parse_args()

    rows = []
    status = 0
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix='crosshost-bench-tput-') as inventory_dir:
        try:
            lab = create_lab(LAB_NAME, LAB_SUBNET, HOSTS, inventory_dir, subnet_v6=LAB_SUBNET_V6,
                             cluster_vars=CLUSTER_VARS + 'crosshost_network_v6: %s\n' % NETWORK_V6)
            for backend in ('vxlan', 'static_routes'):
                converge(lab, backend)
                fresh_probes(lab)
                rows += measure(lab, backend, args.seconds, args.repeat)
        except (RuntimeError, AssertionError, subprocess.SubprocessError, ValueError, KeyError, IndexError) as exc:
            print('bench_throughput: %s' % exc, file=sys.stderr)
            status = 1
        finally:
            if not args.keep:
                destroy_lab(LAB_NAME)
    if rows:
        print_table(rows, args, time.monotonic() - started)
    return status


if __name__ == '__main__':
    sys.exit(main())
