# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reconcile N routes / N neighbours + N FDB entries: our modules vs one process per entry vs one batch.

Runs as root in a scratch namespace (xh-bench-XXXX, always deleted) holding a veth pair
(xh-b0 198.18.0.1/15 - xh-b1) and a VXLAN device (xh-bvx). For each size it measures:

  module, from empty   crosshost.network.ip_route (or ip_neighbor + bridge_fdb), run for
                       real with `ansible localhost -m` and purge: true
  module, no-op rerun  the same call again (reads, plans nothing)
  1 process/entry      one `ip ... replace` (`bridge fdb replace|append`) process per entry,
                       from empty - what a loop of command tasks runs, before Ansible's
                       per-task overhead (which comes on top; see --ansible-loop)
  ip -batch floor      one raw `ip -batch -` (+ one `bridge -batch -`) of the same lines

The module cases run --repeat rounds (default 3; the other cases once), and every round
starts with `ansible localhost -m ping`, the fixed cost of one Ansible run, so the two
are measured side by side. The table gives medians in wall seconds and in CPU seconds
(user + system of every process the case started), each with its ratio to the median
ping of the run. CPU time is the steadier figure when other jobs share the machine.
With --against REV, every round also runs the same module calls from the collection as
it was at git revision REV (its plugins/ and meta/ unpacked into a scratch collection
path), and a second table gives this checkout's medians over REV's.

Times are measured without tracing. Process counts of the module runs come from a
separate run under `strace -f -e trace=execve` (successful execve calls: `ip`, `bridge`
and `nsenter` of the module, and everything Ansible starts), so tracing does not distort
the times. Usage (root): .venv/bin/python benchmarks/bench_reconcile.py [--quick] [--sizes 10,100] [--repeat 5] [--ansible-loop]
[--against REV]
"""

from __future__ import absolute_import, division, print_function

import argparse
import glob
import ipaddress
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import uuid

from timing import Timing, timed  # benchmarks/, the script's own folder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FULL_SIZES = (10, 100, 1000, 5000)
QUICK_SIZES = (10, 1000)
LOOP_SIZES = (10, 100)
PROTO = 147
GATEWAY = '198.18.0.2'
VXLAN = 'xh-bvx'
IPROUTE_PROGRAMS = ('ip', 'bridge', 'nsenter')
DEFAULT_REPEAT = 3


def run_group(cmd, env=None, data=None):
    """Run cmd in its own process group; if we are interrupted, the whole group goes too.

    (Ansible starts the module as a grandchild: killing only ``ansible`` would leave it.)
    """
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(data)
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    return proc.returncode, out, err


def sh(*argv, **kwargs):
    data = kwargs.pop('data', None)
    return subprocess.run([str(a) for a in argv], input=data, capture_output=True, text=True, check=True, **kwargs).stdout


def unpack_revision(rev, workdir):
    """The collection at git revision ``rev`` as a collections path in ``workdir``."""
    tree = os.path.join(workdir, 'against', 'ansible_collections', 'crosshost', 'network')
    os.makedirs(tree)
    archive = subprocess.run(['git', '-C', ROOT, 'archive', rev, 'plugins', 'meta', 'galaxy.yml'], capture_output=True, check=True).stdout
    subprocess.run(['tar', '-x', '-C', tree], input=archive, check=True)
    return os.path.join(workdir, 'against')


# ---- what to reconcile -----------------------------------------------------------------
def route_entries(count):
    """count /24 routes in 100.64.0.0/10 via a gateway on xh-b0, as module args and as ip lines."""
    base = int(ipaddress.ip_address('100.64.0.0'))
    routes = [dict(dst='%s/24' % ipaddress.ip_address(base + 256 * i), via=GATEWAY, dev='xh-b0') for i in range(count)]
    lines = ['route replace %s via %s dev xh-b0 table 254 proto %d metric 0' % (r['dst'], GATEWAY, PROTO) for r in routes]
    return routes, lines


def peer_entries(count):
    """count peers: a neighbour (subnet address -> VTEP MAC) and an FDB entry (VTEP MAC -> underlay IP) each."""
    base = int(ipaddress.ip_address('100.64.0.0'))
    under = int(ipaddress.ip_address('198.18.1.0'))
    neighbours, fdb = [], []
    for i in range(count):
        mac = '02:%02x:%02x:%02x:%02x:01' % ((i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255)
        neighbours.append(dict(address=str(ipaddress.ip_address(base + 256 * i)), lladdr=mac))
        fdb.append(dict(mac=mac, dst=str(ipaddress.ip_address(under + i))))
    neigh_lines = ['neigh replace %s lladdr %s dev %s nud permanent protocol %d' % (n['address'], n['lladdr'], VXLAN, PROTO) for n in neighbours]
    fdb_lines = ['fdb replace %s dev %s dst %s self permanent' % (f['mac'], VXLAN, f['dst']) for f in fdb]
    return neighbours, fdb, neigh_lines, fdb_lines


# ---- the namespace ---------------------------------------------------------------------
class Namespace:
    def __init__(self):
        self.name = 'xh-bench-' + uuid.uuid4().hex[:4]

    def ip(self, *argv):
        return sh('ip', '-n', self.name, *argv)

    def create(self):
        sh('ip', 'netns', 'add', self.name)
        self.ip('link', 'set', 'lo', 'up')
        self.ip('link', 'add', 'xh-b0', 'type', 'veth', 'peer', 'name', 'xh-b1')
        self.ip('addr', 'add', '198.18.0.1/15', 'dev', 'xh-b0')
        self.ip('link', 'set', 'xh-b0', 'up')
        self.ip('link', 'set', 'xh-b1', 'up')
        self.reset_vxlan()

    def reset_vxlan(self):
        """A fresh VXLAN device: no neighbour or FDB entries."""
        subprocess.run(['ip', '-n', self.name, 'link', 'del', VXLAN], capture_output=True, check=False)
        self.ip('link', 'add', VXLAN, 'type', 'vxlan', 'id', '42', 'local', '198.18.0.1', 'dev', 'xh-b0', 'dstport', '8472', 'nolearning')
        self.ip('link', 'set', VXLAN, 'up')

    def reset_routes(self):
        self.ip('route', 'flush', 'table', 'main', 'proto', str(PROTO))

    def count_routes(self):
        return len(json.loads(self.ip('-json', 'route', 'show', 'table', 'main', 'proto', str(PROTO)) or '[]'))

    def count_peers(self):
        neigh = json.loads(self.ip('-json', 'neigh', 'show', 'dev', VXLAN) or '[]')
        fdb = json.loads(sh('bridge', '-n', self.name, '-json', 'fdb', 'show', 'dev', VXLAN) or '[]')
        return (len([n for n in neigh if 'PERMANENT' in n.get('state', [])]),
                len([f for f in fdb if f.get('state') == 'permanent' and f.get('dst')]))

    def delete(self):
        subprocess.run(['ip', 'netns', 'del', self.name], capture_output=True, check=False)


# ---- runners -----------------------------------------------------------------------------
class Runner:
    def __init__(self, ns, workdir, use_strace, against=None):
        self.ns = ns
        self.workdir = workdir
        self.against = against
        self.strace = shutil.which('strace') if use_strace else None
        venv_bin = os.path.join(ROOT, '.venv', 'bin')
        self.ansible = os.path.join(venv_bin, 'ansible') if os.path.exists(os.path.join(venv_bin, 'ansible')) else shutil.which('ansible')
        self.playbook = os.path.join(os.path.dirname(self.ansible), 'ansible-playbook')
        self.env = self._ansible_env(venv_bin)
        # REV's collection: the same Ansible, another crosshost.network.
        self.against_env = dict(self.env, ANSIBLE_COLLECTIONS_PATH=unpack_revision(against, workdir)) if against else None

    @staticmethod
    def _ansible_env(venv_bin):
        env = dict(os.environ)
        env['PATH'] = venv_bin + os.pathsep + env.get('PATH', '')
        if not env.get('ANSIBLE_COLLECTIONS_PATH'):
            # The same layout as the Makefile and the test fixtures: .cache/collections/ansible_collections/crosshost/network -> checkout.
            parent = os.path.join(ROOT, '.cache', 'collections')
            link = os.path.join(parent, 'ansible_collections', 'crosshost', 'network')
            if not os.path.lexists(link):
                os.makedirs(os.path.dirname(link), exist_ok=True)
                os.symlink(ROOT, link)
            env['ANSIBLE_COLLECTIONS_PATH'] = parent
        env.update(ANSIBLE_STDOUT_CALLBACK='ansible.builtin.json', ANSIBLE_LOAD_CALLBACK_PLUGINS='1', ANSIBLE_PYTHON_INTERPRETER='auto_silent',
                   ANSIBLE_LOCALHOST_WARNING='False', ANSIBLE_INVENTORY_UNPARSED_WARNING='False', ANSIBLE_RETRY_FILES_ENABLED='False')
        return env

    def _traced(self, cmd, trace):
        """cmd, or cmd under strace writing one file per process into a fresh directory."""
        if not trace:
            return cmd, None
        outdir = tempfile.mkdtemp(prefix='strace-', dir=self.workdir)
        return [self.strace, '-f', '-ff', '-qq', '--seccomp-bpf', '-e', 'trace=execve', '-e', 'signal=none',
                '-o', os.path.join(outdir, 'trace')] + cmd, outdir

    @staticmethod
    def count_execs(outdir):
        """Successful execve calls in an strace -ff directory: (iproute2 programs, all)."""
        iproute = total = 0
        pattern = re.compile(r'execve\("([^"]+)".*= 0$')
        for path in glob.glob(os.path.join(outdir, 'trace.*')):
            with open(path) as handle:
                for line in handle:
                    match = pattern.search(line.strip())
                    if match:
                        total += 1
                        if os.path.basename(match.group(1)) in IPROUTE_PROGRAMS:
                            iproute += 1
        shutil.rmtree(outdir, ignore_errors=True)
        return iproute, total

    def module(self, name, args, variables, trace=False, env=None):
        """Run crosshost.network.<name> once (``env``: another collection's); return (Timing, result, execs)."""
        vars_file = os.path.join(self.workdir, 'vars.json')
        with open(vars_file, 'w') as handle:
            json.dump(variables, handle)
        cmd, outdir = self._traced([self.ansible, 'localhost', '-m', 'crosshost.network.' + name, '-a', json.dumps(args), '-e', '@' + vars_file], trace)
        with timed() as clock:
            rc, out, err = run_group(cmd, env=env or self.env)
        try:
            result = json.loads(out)['plays'][0]['tasks'][0]['hosts']['localhost']
        except (ValueError, KeyError, IndexError):
            raise RuntimeError('ansible failed (rc=%d):\n%s\n%s' % (rc, out[-3000:], err[-3000:]))
        if result.get('failed'):
            raise RuntimeError('%s failed: %s' % (name, result.get('msg')))
        return clock.timing, result, (self.count_execs(outdir) if outdir else None)

    def adhoc_ping(self, trace=False):
        cmd, outdir = self._traced([self.ansible, 'localhost', '-m', 'ansible.builtin.ping'], trace)
        with timed() as clock:
            rc, out, err = run_group(cmd, env=self.env)
        if rc:
            raise RuntimeError('ansible ping failed (rc=%d): %s %s' % (rc, out[-2000:], err[-2000:]))
        return clock.timing, (self.count_execs(outdir) if outdir else None)

    def per_entry(self, tool, lines):
        """One process per line, as a shell or command loop runs them."""
        with timed() as clock:
            for line in lines:
                subprocess.run([tool, '-n', self.ns.name] + line.split(), capture_output=True, check=True)
        return clock.timing

    def batch(self, tool, lines):
        with timed() as clock:
            subprocess.run([tool, '-n', self.ns.name, '-batch', '-'], input='\n'.join(lines) + '\n', capture_output=True, text=True, check=True)
        return clock.timing

    def ansible_loop(self, lines, trace=False):
        """A real `loop:` of ansible.builtin.command tasks, one `ip` per item."""
        playbook = os.path.join(self.workdir, 'loop.yml')
        with open(playbook, 'w') as handle:
            handle.write('- name: One ip process per route\n  hosts: localhost\n  gather_facts: false\n  tasks:\n'
                         '    - name: Route\n      ansible.builtin.command:\n'
                         '        argv: "{{ [\'ip\', \'-n\', xh_bench_ns] + item.split() }}"\n'
                         '      loop: "{{ xh_bench_lines }}"\n      changed_when: true\n')
        vars_file = os.path.join(self.workdir, 'loop-vars.json')
        with open(vars_file, 'w') as handle:
            json.dump(dict(xh_bench_ns=self.ns.name, xh_bench_lines=lines), handle)
        env = dict(self.env, ANSIBLE_STDOUT_CALLBACK='ansible.builtin.default')
        # Implicit localhost, as the ad-hoc module runs use: same interpreter, no connection plugin.
        cmd, outdir = self._traced([self.playbook, playbook, '-e', '@' + vars_file], trace)
        with timed() as clock:
            rc, out, err = run_group(cmd, env=env)
        if rc:
            raise RuntimeError('ansible-playbook loop failed (rc=%d): %s %s' % (rc, out[-2000:], err[-2000:]))
        return clock.timing, (self.count_execs(outdir) if outdir else None)


# ---- the benchmark ------------------------------------------------------------------------
def fmt_execs(execs):
    return '-' if execs is None else '%d / %d' % execs


def check(condition, what):
    if not condition:
        raise RuntimeError('benchmark self-check failed: ' + what)


def module_rows(runner, repeat, pings, reset, once, installed, case, kind, count, rows, execs):
    """The module cases: ``repeat`` rounds of ping, then from empty and the no-op rerun.

    ``reset()`` empties the namespace, ``once(env)`` runs the module(s) and returns
    (Timing, changed, commands), ``installed()`` says what from empty left short (None: all there).
    With --against, REV's collection runs in every round too, first in every other round.
    ``execs`` (a pair, or None) are this checkout's process counts.
    """
    checkouts = [('', None)] + ([(' at ' + runner.against, runner.against_env)] if runner.against else [])
    samples = dict((label, ([], [])) for label, _env in checkouts)
    for index in range(repeat):
        pings.append(runner.adhoc_ping()[0])
        for label, env in (checkouts[::-1] if index % 2 else checkouts):
            reset()
            timing, changed = once(env)[:2]
            short = installed()
            check(changed and not short, '%s%s from empty: %s' % (case, label, short or 'no change'))
            samples[label][0].append(timing)
            timing, changed, commands = once(env)
            check(not changed, '%s%s rerun changed: %s' % (case, label, commands[:3]))
            samples[label][1].append(timing)
    for label, (empty, noop) in samples.items():
        rows.append((kind, count, '%s%s, from empty' % (case, label), empty, fmt_execs(execs[0] if execs and not label else None)))
        rows.append((kind, count, '%s%s, no-op rerun' % (case, label), noop, fmt_execs(execs[1] if execs and not label else None)))


def bench_routes(runner, ns, count, rows, loop, repeat, pings):
    routes, lines = route_entries(count)
    variables = dict(xh_bench_routes=routes)
    args = dict(netns=ns.name, routes='{{ xh_bench_routes }}', purge=True)

    def once(env=None, trace=False):
        timing, result, execs = runner.module('ip_route', args, variables, trace, env)
        return (execs if trace else timing), result['changed'], result['commands']

    def installed():
        return None if ns.count_routes() == count else '%d of %d routes' % (ns.count_routes(), count)

    execs = None
    if runner.strace:
        ns.reset_routes()
        execs = once(trace=True)[0], once(trace=True)[0]
    module_rows(runner, repeat, pings, ns.reset_routes, once, installed, 'module ip_route', 'routes', count, rows, execs)

    ns.reset_routes()
    timing = runner.per_entry('ip', lines)
    check(ns.count_routes() == count, 'per-entry loop')
    rows.append(('routes', count, '1 `ip route replace` per route', [timing], '%d / %d' % (count, count)))

    if loop and count in LOOP_SIZES:
        ns.reset_routes()
        timing = runner.ansible_loop(lines)[0]
        check(ns.count_routes() == count, 'ansible loop')
        execs = None
        if runner.strace and count == LOOP_SIZES[0]:
            # Counted once (it is 16 execs a task, linear): tracing 100 tasks again would double the longest case.
            ns.reset_routes()
            execs = runner.ansible_loop(lines, trace=True)[1]
        rows.append(('routes', count, 'ansible `loop:` of command tasks', [timing], fmt_execs(execs)))

    ns.reset_routes()
    timing = runner.batch('ip', lines)
    check(ns.count_routes() == count, 'batch')
    rows.append(('routes', count, 'floor: one raw `ip -batch`', [timing], '1 / 1'))
    ns.reset_routes()


def bench_peers(runner, ns, count, rows, repeat, pings):
    neighbours, fdb, neigh_lines, fdb_lines = peer_entries(count)
    variables = dict(xh_bench_neighbors=neighbours, xh_bench_fdb=fdb)
    neigh_args = dict(netns=ns.name, dev=VXLAN, neighbors='{{ xh_bench_neighbors }}', purge=True)
    fdb_args = dict(netns=ns.name, dev=VXLAN, entries='{{ xh_bench_fdb }}', purge=True)

    def both(env=None, trace=False):
        first = runner.module('ip_neighbor', neigh_args, variables, trace, env)
        second = runner.module('bridge_fdb', fdb_args, variables, trace, env)
        measure = tuple(a + b for a, b in zip(first[2], second[2])) if trace else first[0] + second[0]
        return measure, first[1]['changed'] or second[1]['changed'], first[1]['commands'] + second[1]['commands']

    def installed():
        return None if ns.count_peers() == (count, count) else '%s of %d' % (ns.count_peers(), count)

    execs = None
    if runner.strace:
        ns.reset_vxlan()
        execs = both(trace=True)[0], both(trace=True)[0]
    module_rows(runner, repeat, pings, ns.reset_vxlan, both, installed, 'modules ip_neighbor + bridge_fdb', 'neigh+fdb', count, rows, execs)

    ns.reset_vxlan()
    timing = runner.per_entry('ip', neigh_lines) + runner.per_entry('bridge', fdb_lines)
    check(ns.count_peers() == (count, count), 'per-entry loop')
    rows.append(('neigh+fdb', count, '1 `ip neigh`/`bridge fdb` per entry', [timing], '%d / %d' % (2 * count, 2 * count)))

    ns.reset_vxlan()
    timing = runner.batch('ip', neigh_lines) + runner.batch('bridge', fdb_lines)
    check(ns.count_peers() == (count, count), 'batch')
    rows.append(('neigh+fdb', count, 'floor: one `ip -batch` + one `bridge -batch`', [timing], '2 / 2'))


def median_timing(samples):
    return Timing(statistics.median(t.wall for t in samples), statistics.median(t.cpu for t in samples))


def print_table(rows, header):
    """rows: (kind, entries, case, [Timing, ...], processes); the first row is the ping every ratio is to."""
    ping = median_timing(rows[0][3])
    print(header)
    print()
    print('| kind | entries | case | runs | wall s | wall / ping | CPU s | CPU / ping | processes (iproute2 / all) |')
    print('|---|---:|---|---:|---:|---:|---:|---:|---:|')
    for kind, count, case, samples, execs in rows:
        timing = median_timing(samples)
        print('| %s | %d | %s | %d | %.3f | %.2fx | %.3f | %.2fx | %s |' % (
            kind, count, case, len(samples), timing.wall, timing.wall / ping.wall, timing.cpu, timing.cpu / ping.cpu, execs))
    sys.stdout.flush()


def print_against(rows, rev):
    """This checkout's module cases over the same cases at ``rev``, measured in the same rounds."""
    label = ' at ' + rev
    theirs = dict(((kind, count, case.replace(label, '')), samples) for kind, count, case, samples, _execs in rows if label in case)
    print()
    print('| kind | entries | case | wall, this checkout / %s | CPU, this checkout / %s |' % (rev, rev))
    print('|---|---:|---|---:|---:|')
    for kind, count, case, samples, _execs in rows:
        if (kind, count, case) in theirs:
            mine, other = median_timing(samples), median_timing(theirs[(kind, count, case)])
            print('| %s | %d | %s | %.2fx | %.2fx |' % (kind, count, case, mine.wall / other.wall, mine.cpu / other.cpu))
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--quick', action='store_true', help='sizes %s only, no Ansible loop' % ','.join(map(str, QUICK_SIZES)))
    parser.add_argument('--sizes', help='comma-separated entry counts (default %s)' % ','.join(map(str, FULL_SIZES)))
    parser.add_argument('--repeat', type=int, default=DEFAULT_REPEAT,
                        help='rounds of ping + module runs per size; the table gives medians (default %d)' % DEFAULT_REPEAT)
    parser.add_argument('--ansible-loop', action='store_true', default=None,
                        help='also time a real loop of ansible.builtin.command tasks for %s routes (default: on unless --quick)'
                        % ' and '.join(map(str, LOOP_SIZES)))
    parser.add_argument('--no-ansible-loop', dest='ansible_loop', action='store_false')
    parser.add_argument('--no-strace', action='store_true', help='skip the (separate, untimed) strace runs that count processes')
    parser.add_argument('--against', metavar='REV',
                        help="also run the module cases from the collection at git revision REV, in the same rounds")
    opts = parser.parse_args()
    if os.geteuid() != 0:
        parser.error('needs root (network namespaces)')
    if opts.repeat < 1:
        parser.error('--repeat must be at least 1')
    sizes = [int(s) for s in opts.sizes.split(',')] if opts.sizes else list(QUICK_SIZES if opts.quick else FULL_SIZES)
    loop = (not opts.quick) if opts.ansible_loop is None else opts.ansible_loop
    if not opts.no_strace and not shutil.which('strace'):
        print('strace not found (apt-get install strace): process counts of module runs are skipped', file=sys.stderr)

    # SIGTERM as well as Ctrl-C must reach the finally below and delete the namespace.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    ns = Namespace()
    workdir = tempfile.mkdtemp(prefix='xh-bench-')
    rows, pings = [], []
    try:
        ns.create()
        runner = Runner(ns, workdir, use_strace=not opts.no_strace, against=opts.against)
        ping_execs = runner.adhoc_ping(trace=True)[1] if runner.strace else None
        for count in sizes:
            print('routes: %d ...' % count, file=sys.stderr)
            bench_routes(runner, ns, count, rows, loop, opts.repeat, pings)
            print('neighbours + fdb: %d ...' % count, file=sys.stderr)
            bench_peers(runner, ns, count, rows, opts.repeat, pings)
    finally:
        ns.delete()
        shutil.rmtree(workdir, ignore_errors=True)
    rows.insert(0, ('-', 0, 'fixed cost: `ansible localhost -m ping`', pings, fmt_execs(ping_execs)))
    load = os.getloadavg()
    print_table(rows, 'crosshost.network reconcile benchmark: %d CPUs, load average %.1f %.1f %.1f, namespace %s, medians of %d rounds'
                % (os.cpu_count(), load[0], load[1], load[2], ns.name, opts.repeat))
    if opts.against:
        print_against(rows, opts.against)


if __name__ == '__main__':
    main()
