"""Faults on the shared lab (see conftest.py): each is recovered by ONE ordinary run.

The first case converges the lab; each case breaks one host the way it breaks in real
life, runs site.yml once and checks that the cluster is right again (and that a run
refusing a broken input changed nothing, not even the broken file), leaving the lab
converged for the next. Runs before test_static_routes.py (file order), which starts
from the converged lab it leaves.
"""

import hashlib
import subprocess
import time

from labdriver import converge, recap

SITE = 'playbooks/site.yml'


def docker_answers(lab, host):
    return subprocess.run(['docker', 'exec', lab.container(host), 'docker', 'info'], capture_output=True, check=False).returncode == 0


def docker_bridge(lab, host):
    """Gateway/prefix of the inner Docker's default bridge, as Docker reports it."""
    return lab.sh(host, 'docker', 'network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Gateway}} {{.Subnet}}{{end}}', 'bridge').strip()


def planned_bridge(lab, host):
    out = lab.sh(host, 'python3', '-c', 'import json; d = json.load(open("/etc/docker/daemon.json")); print(d["bip"])').strip()
    gateway, prefix = out.split('/')
    return gateway, prefix


def assert_right(lab):
    for host in lab.hosts:
        gateway, prefix = planned_bridge(lab, host)
        live = docker_bridge(lab, host)
        assert live.startswith(gateway + ' ') and live.endswith('/' + prefix), (host, live, gateway, prefix)
        assert lab.our_routes(host), host


# dockerd crashes and stays down: systemd's restart is off for the crash (as once its start
# limit is hit), then its socket is stopped, so nothing but our run starts Docker again.
CRASH_DOCKERD = ' && '.join([
    'mkdir -p /run/systemd/system/docker.service.d',
    'printf "[Service]\\nRestart=no\\n" > /run/systemd/system/docker.service.d/xh-no-restart.conf',
    'systemctl daemon-reload',
    'systemctl kill --signal=SIGKILL docker.service',
    'while systemctl -q is-active docker.service; do sleep 0.2; done',
    'systemctl stop docker.socket',
    'rm /run/systemd/system/docker.service.d/xh-no-restart.conf',
    'systemctl daemon-reload',
])


def test_stopped_and_crashed_dockerd_recover_in_one_run(lab):
    converge(lab)
    # node1: dockerd crashed (SIGKILL, not restarted); node2: Docker stopped by an admin.
    lab.sh('node1', 'sh', '-c', CRASH_DOCKERD)
    lab.sh('node2', 'systemctl', 'stop', 'docker.socket', 'docker.service')
    for host in ('node1', 'node2'):
        assert not docker_answers(lab, host), host
    converge(lab)
    assert_right(lab)


def sha256(lab, host, path):
    return hashlib.sha256(lab.sh(host, 'cat', path).encode()).hexdigest()


def test_broken_daemon_json_is_named_and_left_as_it_is(lab):
    path = '/etc/docker/daemon.json'
    good = lab.sh('node2', 'cat', path)
    lab.sh('node2', 'sh', '-c', 'head -c -4 %s > %s.xh && cat %s.xh > %s && rm %s.xh' % (path, path, path, path, path))
    broken = sha256(lab, 'node2', path)
    rc, output = lab.playbook(SITE, check=False)
    assert rc != 0
    assert 'host node2: docker_daemon_json /etc/docker/daemon.json line ' in output, output[-4000:]
    assert 'fix or remove the file (it was left as it is)' in output
    # Refused in the plan: no host changed, the file is as the user left it.
    assert all(c['changed'] == 0 for c in recap(output).values()), output[-4000:]
    assert sha256(lab, 'node2', path) == broken
    subprocess.run(['docker', 'exec', '-i', lab.container('node2'), 'sh', '-c', 'cat > %s' % path], input=good, text=True, check=True)
    converge(lab)
    assert_right(lab)


def test_host_rebooting_mid_run_converges_on_the_next_run(lab):
    def reboot_node3():
        subprocess.run(['docker', 'restart', '-t', '1', lab.container('node3')], check=True, capture_output=True)

    # Reboot node3 once the run is past the plan, in the middle of the changes (the
    # bridge role's first task).
    rebooted, output = lab.playbook_until(SITE, 'TASK [crosshost.network.bridge :', act=reboot_node3)
    assert rebooted, output[-4000:]
    # The host is back (its init brings dockerd up); the next ordinary run converges.
    deadline = time.time() + 60
    while not docker_answers(lab, 'node3') and time.time() < deadline:
        time.sleep(1)
    converge(lab)
    assert_right(lab)
