"""TCP throughput between containers of two lab hosts: underlay, static routes, VXLAN; IPv4 and IPv6.

Creates a docker-in-docker lab (playbooks/lab/create.yml, Docker objects
``crosshost-bench-tput-*``, underlay 198.18.13.0/24 and 2001:db8:64::/64), configures it
dual-stack (cluster IPv6 network 2001:db8:164::/48) with the direct routing backend, then
with the flannel-compatible VXLAN backend (one run each), and measures with iperf3
(Debian's, from the lab host image), each path over IPv4 and over IPv6:

* ``underlay``       host to host over the lab hosts' eth0 (the ceiling);
* ``static_routes``  container to container, routed via the peer host's underlay address;
* ``vxlan``          container to container through flannel.1 (MTU 1450).

An IPv6 row is left out, with the reason, where the path has no IPv6 (a backend whose
run gave the probes no IPv6 address).

The containers are the bridge-mode probes of playbooks/verify.yml (busybox app image, no
iperf3 inside): iperf3 runs in the probe's network namespace (``nsenter --target <pid>
--net``), so its packets take exactly the container's path (its eth0, MTU, docker0,
routes) while the binary comes from the lab host. This is what ``docker run
--net=container:crosshost-probe <host image> iperf3`` would do, without loading the
486 MB host image into every inner dockerd.

    .venv/bin/python benchmarks/bench_throughput.py [--seconds 5] [--repeat 3] [--keep]

Prints one row per path: the median throughput of the runs and its ratio to the
underlay. Numbers depend on the machine and its load: compare rows of one run. The lab
is destroyed at the end unless --keep.
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

from labdriver import create_lab, destroy_lab, recap  # noqa: E402  (path set just above)

LAB_NAME = 'crosshost-bench-tput'
LAB_SUBNET = '198.18.13.0/24'
LAB_SUBNET_V6 = '2001:db8:64::/64'
NETWORK_V6 = '2001:db8:164::/48'
HOSTS = 2
PROBE = 'crosshost-probe'
PORT = 5201


def site_playbook():
    """site.yml once it knows the vxlan backend, else the overlay scenario's converge (site.yml + that block)."""
    with open(os.path.join(ROOT, 'playbooks', 'site.yml')) as handle:
        if 'crosshost.network.flannel' in handle.read():
            return 'playbooks/site.yml'
    return 'molecule/overlay/converge.yml'


def converge(lab, backend):
    rc, output = lab.playbook(site_playbook(), '-e', 'crosshost_backend=%s' % backend, '-e', 'crosshost_network_v6=%s' % NETWORK_V6,
                              check=False)
    failed = [host for host, counts in recap(output).items() if counts.get('failed') or counts.get('unreachable')]
    if rc != 0 or failed:
        raise RuntimeError('%s with backend %s failed:\n%s' % (site_playbook(), backend, output[-4000:]))


def fresh_probes(lab):
    """(Re)create the probes so that they get the MTU and subnet of the current backend."""
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


def measure(lab, label, seconds, repeat, containers, family):
    """One row; None (and why) when the path has no address of ``family``."""
    server, client = lab.hosts[1], lab.hosts[0]
    label = '%s IPv%d' % (label, family)
    if containers:
        target = probe_ip(lab, server, family)
        server_ns, client_ns = probe_ns(lab, server), probe_ns(lab, client)
    else:
        target = underlay_ip(lab, server, family)
        server_ns = client_ns = []
    if not target:
        print('bench_throughput: no row for %s: %s has no IPv%d address' % (label, 'the probe' if containers else 'eth0', family),
              file=sys.stderr)
        return None
    # Through netlink (ip): /sys would show the lab host's eth0, nsenter --net keeps its mount.
    mtu = json.loads(lab.sh(client, *(list(client_ns) + ['ip', '-json', 'link', 'show', 'dev', 'eth0'])))[0]['mtu']
    runs = [iperf(lab, server, client, target, seconds, server_ns, client_ns) for run in range(repeat)]
    return dict(label=label, mtu=int(mtu), bps=statistics.median(r[0] for r in runs),
                retransmits=sum(r[1] for r in runs), runs=len(runs))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seconds', type=int, default=5, help='seconds per iperf3 run (default 5)')
    parser.add_argument('--repeat', type=int, default=3, help='runs per path; the median is shown (default 3)')
    parser.add_argument('--keep', action='store_true', help='leave the lab running')
    args = parser.parse_args()

    rows = []
    status = 0
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix='crosshost-bench-tput-') as inventory_dir:
        try:
            lab = create_lab(LAB_NAME, LAB_SUBNET, HOSTS, inventory_dir, subnet_v6=LAB_SUBNET_V6)
            converge(lab, 'static_routes')
            fresh_probes(lab)
            for family in (4, 6):
                rows.append(measure(lab, 'underlay (host eth0 -> host eth0)', args.seconds, args.repeat, False, family))
            for family in (4, 6):
                rows.append(measure(lab, 'static_routes (container -> container)', args.seconds, args.repeat, True, family))
            converge(lab, 'vxlan')
            fresh_probes(lab)
            for family in (4, 6):
                rows.append(measure(lab, 'vxlan (container -> container)', args.seconds, args.repeat, True, family))
        except (RuntimeError, AssertionError, subprocess.SubprocessError, ValueError, KeyError) as exc:
            print('bench_throughput: %s' % exc, file=sys.stderr)
            status = 1
        finally:
            if not args.keep:
                destroy_lab(LAB_NAME)

    rows = [row for row in rows if row]
    if rows:
        base = rows[0]['bps']
        print()
        print('TCP throughput between 2 lab hosts, iperf3 %d x %d s, median (%.0f s in all)'
              % (args.repeat, args.seconds, time.monotonic() - started))
        print('%-45s %6s %12s %9s %12s' % ('path', 'MTU', 'Gbit/s', 'ratio', 'retransmits'))
        for row in rows:
            print('%-45s %6d %12.2f %9.2f %12d' % (row['label'], row['mtu'], row['bps'] / 1e9, row['bps'] / base, row['retransmits']))
    return status


if __name__ == '__main__':
    sys.exit(main())
