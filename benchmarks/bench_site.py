"""Wall time of playbooks/site.yml (backend static_routes) on the docker-in-docker lab.

Creates a lab (playbooks/lab/create.yml, Docker objects ``crosshost-routes-bench-*``, underlay
198.18.43.0/24), runs site.yml twice - the first run configures everything, the second
must change nothing - then verify.yml, and prints a table. The lab is destroyed at the
end unless --keep.

    .venv/bin/python benchmarks/bench_site.py [--hosts 3] [--keep]

Times depend on the machine's load: compare runs made on one machine.
"""

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tests', 'lab'))

from labdriver import create_lab, destroy_lab, recap  # noqa: E402  (path set just above)

LAB_NAME = 'crosshost-routes-bench'
LAB_SUBNET = '198.18.43.0/24'


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
    parser.add_argument('--keep', action='store_true', help='leave the lab running')
    args = parser.parse_args()

    rows = []
    status = 0
    with tempfile.TemporaryDirectory(prefix='crosshost-bench-') as inventory_dir:
        try:
            seconds, lab = timed(create_lab, LAB_NAME, LAB_SUBNET, args.hosts, inventory_dir)
            rows.append(('lab create', seconds, '-', '-'))
            for label, playbook in (('site.yml first run', 'playbooks/site.yml'),
                                    ('site.yml no-op rerun', 'playbooks/site.yml'),
                                    ('verify.yml', 'playbooks/verify.yml')):
                seconds, (rc, output) = timed(lab.playbook, playbook)
                changed, failed = totals(output)
                rows.append((label, seconds, changed, failed))
                if rc != 0:
                    status = 1
                    print(output[-4000:], file=sys.stderr)
                    break
        finally:
            if not args.keep:
                seconds = timed(destroy_lab, LAB_NAME)[0]
                rows.append(('lab destroy', seconds, '-', '-'))

    print()
    print('site.yml on %d lab hosts (backend static_routes), %s' % (args.hosts, time.strftime('%Y-%m-%d %H:%M')))
    print('%-22s %10s %9s %8s' % ('step', 'wall s', 'changed', 'failed'))
    print('%-22s %10s %9s %8s' % ('-' * 22, '-' * 10, '-' * 9, '-' * 8))
    for label, seconds, changed, failed in rows:
        print('%-22s %10.1f %9s %8s' % (label, seconds, changed, failed))
    print('load average at the end: %.1f %.1f %.1f' % os.getloadavg())
    return status


if __name__ == '__main__':
    sys.exit(main())
