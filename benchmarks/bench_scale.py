"""Controller seconds per host of site.yml as hosts are added: 10, 25, 50 light lab hosts.

For each size, one at a time, it creates a lab of light hosts (playbooks/lab/create.yml
with crosshost_lab_docker false: systemd and sshd but no inner dockerd; the inventory
sets crosshost_docker false, so site.yml leaves the docker role out), Docker objects
``crosshost-i9speed-scale-*``, underlay 198.18.53.0/24 (room for 50 hosts), runs
``ansible -m setup -a gather_subset=network``, site.yml on the fresh lab and site.yml
again (the no-op rerun), then destroys the lab. One row per size: wall seconds of each
step, divided by the hosts; the controller's CPU seconds per host (Ansible and its ssh
clients, user + system, but not ssh's detached ControlPersist masters: the lab hosts
share this machine's cores, so wall time per host also grows with the hosts' own work);
and task runs per host (see bench_noop.py). What it answers: does the cost of a host
stay flat (or fall) as the cluster grows?

    /work/bin/labslot crosshost-i9speed-scale .venv/bin/python benchmarks/bench_scale.py [--sizes 10,25,50]

A 50-host lab is heavy on a 2-core machine: run it alone. Times depend on the load:
compare the rows of one run.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_noop import CLUSTER_VARS, create_lab, destroy_lab, measure  # noqa: E402  (path set just above)

LAB_NAME = 'crosshost-i9speed-scale'
LAB_SUBNET = '198.18.53.0/24'
SIZES = (10, 25, 50)


def bench(hosts):
    """One light lab of HOSTS hosts: its rows of bench_noop.measure; the lab is destroyed after."""
    with tempfile.TemporaryDirectory(prefix='crosshost-bench-scale-') as inventory_dir:
        try:
            lab = create_lab(LAB_NAME, LAB_SUBNET, hosts, inventory_dir, CLUSTER_VARS, docker=False)
            return measure(lab)
        finally:
            destroy_lab(LAB_NAME)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', default=','.join(map(str, SIZES)), help='comma-separated host counts (default %(default)s)')
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(',')]
    status = 0
    # Each row as soon as its lab is measured: a long run still tells what it saw.
    print('site.yml on light lab hosts (no Docker, backend static_routes), %s' % time.strftime('%Y-%m-%d %H:%M'))
    print()
    print('| hosts | setup s | first run s | s per host | no-op rerun s | s per host | ratio no-op/setup'
          ' | controller CPU s per host (first / no-op) | task runs per host (first / no-op) | load |')
    print('|---:|---:|---:|---:|---:|---:|---:|---|---|---|')
    sys.stdout.flush()
    for hosts in sizes:
        print('%d light hosts ...' % hosts, file=sys.stderr)
        started = time.monotonic()
        try:
            setup, first, noop = bench(hosts)
        except (RuntimeError, AssertionError, subprocess.SubprocessError) as exc:
            # A bigger lab would fail the same way, only later.
            print('bench_scale: %d hosts: %s' % (hosts, exc), file=sys.stderr)
            status = 1
            break
        finally:
            print('%d light hosts: %.0f s in all' % (hosts, time.monotonic() - started), file=sys.stderr)
        print('| %d | %.1f | %.1f | %.2f | %.1f | %.2f | %.1f | %.2f / %.2f | %.1f / %.1f | %.1f |'
              % (hosts, setup['seconds'], first['seconds'], first['seconds'] / hosts, noop['seconds'], noop['seconds'] / hosts,
                 noop['seconds'] / setup['seconds'], first['cpu'] / hosts, noop['cpu'] / hosts, first['runs'], noop['runs'],
                 os.getloadavg()[0]))
        sys.stdout.flush()
    return status


if __name__ == '__main__':
    sys.exit(main())
