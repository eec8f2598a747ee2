"""Seconds from a lab host's boot to the first cross-host ping between containers, per backend.

Creates a lab (playbooks/lab/create.yml: 2 systemd hosts, Docker objects
``crosshost-h8b-boot-*``, underlay 198.18.180.0/24). For each backend: site.yml, then
verify.yml (which starts the bridge-mode probe containers with a restart policy), then
node1 reboots (``docker stop``, then ``docker start``: the boot starts there) while node2
stays up, and node1's probe pings node2's every 0.2 s until one answer comes back.
No Ansible runs after the reboot: whatever brings the network back is the boot's.

The pipework backend runs as the article's bri0 recipe (``pipework_docker_bridge``: the
probes get LAN addresses from Docker on bri0) and with one pipework attachment per host
(a ``--net none`` container with a restart policy, its eth1 on bri0 at 198.18.180.20N):
its extra column is the first ping between the attachments of node1 and node2, which
only the replay service (``crosshost-pipework-replay``) brings back.

The milestones are read on one clock: CLOCK_MONOTONIC is the machine's, and the lab
hosts' systemd stamps its units with it. Columns, in seconds after ``docker start``:
systemd up (PID 1 started), our boot units active (crosshost-routes.service, and
crosshost-flannel.service for vxlan, the pipework bridge and replay units for
pipework), dockerd ready, the probe container running (Docker's own wall-clock stamp),
first ping answered (and, for pipework, the first ping between the attachments).

    .venv/bin/python benchmarks/bench_boot.py [--reboots 3] [--keep]

With --reboots N, every backend reboots N times and each column is the median. The lab
is destroyed at the end unless --keep. Times depend on the machine's load: compare the rows of one run.
"""

import argparse
import datetime
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

LAB_NAME = 'crosshost-h8b-boot'
LAB_SUBNET = '198.18.180.0/24'
HOSTS = 2
PROBE = 'crosshost-probe'
PING_TIMEOUT = 180
ATTACHED = 'crosshost-bench-att'
# Host nodeN's attachment: 198.18.180.(200 + N), a static address (outside Docker's slices).
ATTACHED_PREFIX, ATTACHED_FIRST = '198.18.180.', 200
ATTACHED_ADDRESS = ATTACHED_PREFIX + '{{ %d + inventory_hostname[4:] | int }}' % ATTACHED_FIRST
PIPEWORK_VARS = {
    'pipework_uplink': 'eth0',
    'pipework_docker_bridge': True,
    'pipework_attachments': [{'container': ATTACHED, 'address': ATTACHED_ADDRESS + '/24'}],
}
# (backend, extra variables of site.yml, our boot units)
BACKENDS = (
    ('static_routes', {}, ['crosshost-routes.service']),
    ('vxlan', {}, ['crosshost-routes.service', 'crosshost-flannel.service']),
    ('pipework', PIPEWORK_VARS, ['crosshost-pipework-bridge.service', 'crosshost-pipework-replay.service']),
)


def converge(lab, backend, extra_vars, inventory_dir):
    if extra_vars.get('pipework_attachments'):
        for host in lab.hosts:
            # The attached container exists before site.yml attaches it (as pipework wants).
            lab.sh(host, 'sh', '-c', 'docker container inspect %s >/dev/null 2>&1 || docker run --detach --name %s --net none'
                   ' --restart unless-stopped crosshost-lab-app sleep 2000000000' % (ATTACHED, ATTACHED))
    vars_file = os.path.join(inventory_dir, 'bench-%s.json' % backend)
    with open(vars_file, 'w', encoding='utf-8') as handle:
        json.dump(dict(extra_vars, crosshost_backend=backend), handle)
    rc, output = lab.playbook('playbooks/site.yml', '-e', '@' + vars_file, check=False)
    failed = [host for host, counts in recap(output).items() if counts.get('failed') or counts.get('unreachable')]
    if rc != 0 or failed:
        raise RuntimeError('site.yml with backend %s failed:\n%s' % (backend, output[-4000:]))
    rc, output = lab.playbook('playbooks/verify.yml', check=False)
    if rc != 0:
        raise RuntimeError('verify.yml with backend %s failed:\n%s' % (backend, output[-4000:]))


def monotonic_of(lab, host, units):
    """{name: ActiveEnterTimestampMonotonic in s} of units, and 'systemd' (PID 1's start)."""
    out = lab.sh(host, 'systemctl', 'show', '--property=Id,ActiveEnterTimestampMonotonic', *units)
    stamps, name = {}, None
    for line in out.splitlines():
        key, value = line.split('=', 1) if '=' in line else (line, '')
        if key == 'Id':
            name = value
        elif key == 'ActiveEnterTimestampMonotonic':
            stamps[name] = int(value) / 1e6
    stamps['systemd'] = int(lab.sh(host, 'systemctl', 'show', '--property=UserspaceTimestampMonotonic', '--value')) / 1e6
    return stamps


def probe_started(lab, host):
    """The probe's start, Docker's wall clock (RFC 3339, nanoseconds) -> epoch seconds."""
    stamp = lab.sh(host, 'docker', 'inspect', '--format', '{{.State.StartedAt}}', PROBE).strip()
    whole, fraction = (stamp.rstrip('Z').split('.') + [''])[:2]
    when = datetime.datetime.strptime(whole, '%Y-%m-%dT%H:%M:%S').replace(tzinfo=datetime.timezone.utc)
    return when.timestamp() + float('0.' + (fraction or '0'))


def pings(lab, host, target, container=PROBE):
    """One ping from host's container to target (docker exec twice: into the lab host, into the container)."""
    return subprocess.run(['docker', 'exec', lab.container(host), 'docker', 'exec', container, 'ping', '-c', '1', '-W', '1', target],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30, check=False).returncode == 0


def wait_for_ping(lab, host, target, start, container=PROBE):
    """Seconds after start of the first answer from target, pinging every 0.2 s."""
    while not pings(lab, host, target, container):
        if time.monotonic() - start > PING_TIMEOUT:
            raise RuntimeError('%s: no ping from %s to %s within %d s of the boot' % (host, container, target, PING_TIMEOUT))
        time.sleep(0.2)
    return time.monotonic() - start


def reboot_to_ping(lab, units, attached):
    """Reboot node1; the milestones of its boot in seconds after `docker start`."""
    host, peer = lab.hosts[0], lab.hosts[1]
    target = lab.sh(peer, 'docker', 'inspect', '--format', '{{.NetworkSettings.IPAddress}}', PROBE).strip()
    attached_target = ATTACHED_PREFIX + str(ATTACHED_FIRST + int(peer[4:]))
    for container, address in [(PROBE, target)] + ([(ATTACHED, attached_target)] if attached else []):
        if not pings(lab, host, address, container):
            raise RuntimeError('%s: %s cannot ping %s before the reboot' % (host, container, address))
    subprocess.run(['docker', 'stop', '--time', '30', lab.container(host)], check=True, capture_output=True)
    wall_start, start = time.time(), time.monotonic()
    subprocess.run(['docker', 'start', lab.container(host)], check=True, capture_output=True)
    first_ping = wait_for_ping(lab, host, target, start)
    attached_ping = wait_for_ping(lab, host, attached_target, start, ATTACHED) if attached else None
    stamps = monotonic_of(lab, host, units + ['docker.service'])
    row = {'systemd up': stamps['systemd'] - start,
           'our units active': max(stamps[unit] for unit in units) - start,
           'dockerd ready': stamps['docker.service'] - start,
           'probe running': probe_started(lab, host) - wall_start,
           'first ping': first_ping,
           'attachment ping': attached_ping}
    # Wait for the end of the boot before the next step (sshd, Ansible).
    lab.sh(host, 'timeout', '120', 'systemctl', 'is-system-running', '--wait', check=False)
    return row


COLUMNS = ('systemd up', 'our units active', 'dockerd ready', 'probe running', 'first ping', 'attachment ping')


def median(values):
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--reboots', type=int, default=1, help='reboots per backend; the median is shown (default 1)')
    parser.add_argument('--keep', action='store_true', help='leave the lab running')
    args = parser.parse_args()

    rows, status, started = [], 0, time.monotonic()
    with tempfile.TemporaryDirectory(prefix='crosshost-h8b-boot-') as inventory_dir:
        try:
            lab = create_lab(LAB_NAME, LAB_SUBNET, HOSTS, inventory_dir)
            for backend, extra_vars, units in BACKENDS:
                converge(lab, backend, extra_vars, inventory_dir)
                runs = [reboot_to_ping(lab, units, 'pipework_attachments' in extra_vars) for _run in range(args.reboots)]
                rows.append((backend, dict((column, median(run[column] for run in runs)) for column in COLUMNS)))
        except (RuntimeError, AssertionError, subprocess.SubprocessError, ValueError, KeyError) as exc:
            print('bench_boot: %s' % exc, file=sys.stderr)
            status = 1
        finally:
            if not args.keep:
                destroy_lab(LAB_NAME)

    print()
    print('boot to first cross-host ping, node1 of 2 lab hosts rebooted, median of %d (%.0f s in all, load %.1f)'
          % (args.reboots, time.monotonic() - started, os.getloadavg()[0]))
    print('seconds after `docker start` of the lab host')
    print('%-15s' % 'backend' + ''.join('%18s' % column for column in COLUMNS))
    for backend, row in rows:
        print('%-15s' % backend + ''.join('%18s' % ('-' if row[column] is None else '%.2f' % row[column]) for column in COLUMNS))
    return status


if __name__ == '__main__':
    sys.exit(main())
