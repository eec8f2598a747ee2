"""Wall time of site.yml (static_routes) on the lab, over SSH + become and over docker exec.

Real hosts are reached over SSH as a user with become; the lab can also be reached with
``docker exec`` as root: the table compares the two.

For each connection (default: both, SSH first) it creates a fresh lab
(playbooks/lab/create.yml, Docker objects ``crosshost-routes-bench-*``, underlay
198.18.43.0/24), runs site.yml twice - the first run configures everything, the second
must change nothing - then verify.yml, destroys the lab, and prints one table with
a row per connection and step. With --keep the last lab is left running.

    .venv/bin/python benchmarks/bench_site.py [--hosts 3] [--connection ssh --connection docker] [--keep]

Times depend on the machine's load: compare runs made on one machine.
"""

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tests', 'lab'))

from labdriver import CLUSTER_VARS, create_lab, destroy_lab, recap  # noqa: E402  (path set just above)

LAB_NAME = 'crosshost-routes-bench'
LAB_SUBNET = '198.18.43.0/24'
CONNECTIONS = {'ssh': 'ssh+become', 'docker': 'docker exec'}


def timed(func, *args):
    start = time.monotonic()
    result = func(*args)
    return time.monotonic() - start, result


def totals(output):
    counts = recap(output).values()
    return sum(c.get('changed', 0) for c in counts), sum(c.get('failed', 0) + c.get('unreachable', 0) for c in counts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--hosts', type=int, default=3, help='lab hosts (default 3)')
    parser.add_argument('--connection', action='append', choices=CONNECTIONS,
                        help='ssh (user + become) or docker (docker exec as root); repeatable; default both')
    parser.add_argument('--keep', action='store_true', help='leave the last lab running')
    args = parser.parse_args()
    connections = args.connection or list(CONNECTIONS)

    rows = []
    status = 0
    for index, connection in enumerate(connections):
        status = max(status, bench(connection, args.hosts, rows, keep=args.keep and index == len(connections) - 1))

    print()
    print('site.yml on %d lab hosts (backend static_routes), %s' % (args.hosts, time.strftime('%Y-%m-%d %H:%M')))
    print('%-12s %-22s %10s %9s %8s' % ('connection', 'step', 'wall s', 'changed', 'failed'))
    print('%-12s %-22s %10s %9s %8s' % ('-' * 12, '-' * 22, '-' * 10, '-' * 9, '-' * 8))
    for connection, label, seconds, changed, failed in rows:
        print('%-12s %-22s %10.1f %9s %8s' % (CONNECTIONS[connection], label, seconds, changed, failed))
    print('load average at the end: %.1f %.1f %.1f' % os.getloadavg())
    return status


def bench(connection, hosts, rows, keep=False):
    """One fresh lab, site.yml twice and verify.yml over CONNECTION; appends to ROWS; returns 0 or 1."""
    status = 0
    with tempfile.TemporaryDirectory(prefix='crosshost-bench-') as inventory_dir:
        try:
            seconds, lab = timed(create_lab, LAB_NAME, LAB_SUBNET, hosts, inventory_dir, CLUSTER_VARS, connection)
            rows.append((connection, 'lab create', seconds, '-', '-'))
            for label, playbook in (('site.yml first run', 'playbooks/site.yml'),
                                    ('site.yml no-op rerun', 'playbooks/site.yml'),
                                    ('verify.yml', 'playbooks/verify.yml')):
                seconds, (rc, output) = timed(lab.playbook, playbook)
                changed, failed = totals(output)
                rows.append((connection, label, seconds, changed, failed))
                if rc != 0:
                    status = 1
                    print(output[-4000:], file=sys.stderr)
                    break
        finally:
            if not keep:
                seconds = timed(destroy_lab, LAB_NAME)[0]
                rows.append((connection, 'lab destroy', seconds, '-', '-'))
    return status


if __name__ == '__main__':
    sys.exit(main())
