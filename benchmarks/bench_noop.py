"""Cost per host of site.yml against `ansible -m setup`, measured side by side in one run.

Creates a fresh lab (playbooks/lab/create.yml, Docker objects ``crosshost-i9speed-*``,
underlay 198.18.52.0/24, 8 hosts by default, SSH + become as the demo), then runs, in
this order and on the same hosts:

* ``ansible cluster -m setup -a gather_subset=network``: the yardstick (one module run
  per host);
* ``playbooks/site.yml``, first run on the fresh lab (backend static_routes);
* ``playbooks/site.yml`` again: the no-op rerun (must change nothing).

With ``--baseline DIR`` (another checkout of the collection, e.g. /work/main) the same
lab first runs that checkout's site.yml (first run, no-op rerun), then this checkout's
(the run that moves the hosts over, then its no-op rerun), and setup again at the end:
both no-op figures come from one run on the same hosts, under the same load.

For each it prints wall seconds, the ratio to setup, and the task runs per host (from
the recap: ok + skipped + failed + unreachable; Ansible counts a changed task in ok
too), then the 10 costliest tasks of each site.yml run (ansible.posix.profile_tasks:
the wall time of a task over all hosts). The lab is destroyed at the end unless --keep.

    /work/bin/labslot crosshost-i9speed .venv/bin/python benchmarks/bench_noop.py [--hosts 8] [--keep]
        [--baseline /work/main] [--lab-name crosshost-i9speed --subnet 198.18.52.0/24]

Times depend on the machine's load: compare the rows of one run.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tests', 'lab'))

from labdriver import CLUSTER_VARS, PLAYBOOK_TIMEOUT, ROOT, ansible_env, create_lab, destroy_lab, recap  # noqa: E402
from timing import timed  # noqa: E402  (benchmarks/, the script's own folder)

LAB_NAME = 'crosshost-i9speed'
LAB_SUBNET = '198.18.52.0/24'
TOP = 10
# profile_tasks' summary line: "<role> : <task> ---- 3.90s"
PROFILE_LINE = re.compile(r'^(?P<task>.*\S) -+ (?P<seconds>[0-9.]+)s$')


def profiled_env(collections=None):
    env = ansible_env()
    if collections:
        env['ANSIBLE_COLLECTIONS_PATH'] = collections
    env.update(ANSIBLE_CALLBACKS_ENABLED='ansible.posix.profile_tasks',
               PROFILE_TASKS_TASK_OUTPUT_LIMIT=str(TOP), PROFILE_TASKS_SORT_ORDER='descending')
    return env


def run(argv, checkout=None):
    """Run an ansible command on the controller (with CHECKOUT as crosshost.network); (seconds, rc, output, cpu).

    cpu: user + system seconds of the controller's processes (Ansible and its ssh clients);
    the hosts' own processes run in the lab containers and are not counted.
    """
    with timed() as clock:
        proc = subprocess.run(argv, cwd=checkout.root if checkout else ROOT, env=profiled_env(checkout and checkout.collections),
                              capture_output=True, text=True,
                              timeout=PLAYBOOK_TIMEOUT, check=False, stdin=subprocess.DEVNULL)
    return clock.timing.wall, proc.returncode, proc.stdout + proc.stderr, clock.timing.cpu


def setup(lab):
    argv = [os.path.join(os.path.dirname(sys.executable), 'ansible'), '-i', lab.inventory, 'cluster',
            '-m', 'ansible.builtin.setup', '-a', 'gather_subset=network']
    seconds, rc, output, cpu = run(argv)
    return dict(step='ansible -m setup (network)', seconds=seconds, cpu=cpu, rc=rc, output=output, runs=1.0,
                changed='-', profile=[])


class Checkout:
    """Another checkout of the collection, found by Ansible as crosshost.network through a symlink in TMP."""

    def __init__(self, root, tmp):
        self.root = os.path.abspath(root)
        self.collections = os.path.join(tmp, 'collections')
        link = os.path.join(self.collections, 'ansible_collections', 'crosshost', 'network')
        os.makedirs(os.path.dirname(link))
        os.symlink(self.root, link)
        self.label = subprocess.run(['git', '-C', self.root, 'log', '-1', '--format=%h'], capture_output=True,
                                    text=True, check=False).stdout.strip() or self.root


def site(lab, label, *args, checkout=None):
    argv = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', lab.inventory,
            os.path.join(checkout.root if checkout else ROOT, 'playbooks', 'site.yml')] + list(args)
    seconds, rc, output, cpu = run(argv, checkout)
    counts = recap(output)
    runs = [c.get('ok', 0) + c.get('skipped', 0) + c.get('failed', 0) + c.get('unreachable', 0) for c in counts.values()]
    return dict(step=label, seconds=seconds, cpu=cpu, rc=rc, output=output,
                runs=sum(runs) / len(runs) if runs else 0.0,
                changed=sum(c.get('changed', 0) for c in counts.values()),
                profile=profile(output))


def profile(output):
    """[(seconds, task)] of profile_tasks' summary at the end of OUTPUT, costliest first."""
    rows = []
    tail = output.rsplit('=' * 20, 1)[-1]
    for line in tail.splitlines():
        match = PROFILE_LINE.match(line.strip())
        if match:
            rows.append((float(match.group('seconds')), match.group('task')))
    return rows


def measure(lab, baseline=None):
    """setup, site.yml first run, site.yml no-op rerun on LAB (BASELINE's first); the rows; raises on a failed step."""
    steps = [lambda: setup(lab)]
    if baseline:
        steps += [lambda: site(lab, 'baseline %s: site.yml first run' % baseline.label, checkout=baseline),
                  lambda: site(lab, 'baseline %s: site.yml no-op rerun' % baseline.label, checkout=baseline),
                  lambda: site(lab, 'this checkout: site.yml over the baseline'),
                  lambda: site(lab, 'this checkout: site.yml no-op rerun'),
                  lambda: setup(lab)]
    else:
        steps += [lambda: site(lab, 'site.yml first run'), lambda: site(lab, 'site.yml no-op rerun')]
    rows = []
    for step in steps:
        row = step()
        rows.append(row)
        if row['rc'] != 0:
            raise RuntimeError('%s failed (rc=%d):\n%s' % (row['step'], row['rc'], row['output'][-6000:]))
        if 'no-op' in row['step'] and row['changed']:
            print('warning: %s changed %s tasks' % (row['step'], row['changed']), file=sys.stderr)
    return rows


def print_rows(rows, hosts):
    setups = [row['seconds'] for row in rows if row['step'].startswith('ansible -m setup')]
    base = sum(setups) / len(setups)
    print()
    print('%d lab hosts (backend static_routes), %s, load average %.1f %.1f %.1f'
          % ((hosts, time.strftime('%Y-%m-%d %H:%M')) + os.getloadavg()))
    print()
    print('| step | wall s | ratio to setup | task runs per host | changed |')
    print('|---|---:|---:|---:|---:|')
    for row in rows:
        print('| %s | %.1f | %.1f | %.1f | %s |' % (row['step'], row['seconds'], row['seconds'] / base, row['runs'], row['changed']))
    for row in rows:
        if not row['profile']:
            continue
        print()
        print('%d costliest tasks of the %s (profile_tasks, wall s over all hosts):' % (TOP, row['step']))
        print()
        print('| s | task |')
        print('|---:|---|')
        for seconds, task in row['profile'][:TOP]:
            print('| %.2f | %s |' % (seconds, task.replace('|', '\\|')))
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--hosts', type=int, default=8, help='lab hosts (default 8)')
    parser.add_argument('--keep', action='store_true', help='leave the lab running')
    parser.add_argument('--baseline', metavar='DIR', help='another checkout measured first on the same lab (e.g. /work/main)')
    parser.add_argument('--lab-name', default=LAB_NAME, help='lab name (default %(default)s)')
    parser.add_argument('--subnet', default=LAB_SUBNET, help='lab underlay (default %(default)s)')
    args = parser.parse_args()
    status = 0
    with tempfile.TemporaryDirectory(prefix='crosshost-bench-noop-') as inventory_dir:
        try:
            baseline = Checkout(args.baseline, inventory_dir) if args.baseline else None
            lab = create_lab(args.lab_name, args.subnet, args.hosts, inventory_dir, CLUSTER_VARS)
            print_rows(measure(lab, baseline), args.hosts)
        except (RuntimeError, AssertionError, subprocess.SubprocessError) as exc:
            print('bench_noop: %s' % exc, file=sys.stderr)
            status = 1
        finally:
            if not args.keep:
                destroy_lab(args.lab_name)
    return status


if __name__ == '__main__':
    sys.exit(main())
