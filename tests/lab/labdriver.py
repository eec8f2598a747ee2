"""Drive a crosshost docker-in-docker lab from Python: create/destroy it with
playbooks/lab/create.yml and destroy.yml, write its inventory, run playbooks on it and
read its hosts' state with ``docker exec``. Used by tests/lab and benchmarks/.

Playbooks reach the hosts over SSH as the lab's user with become (connection 'ssh',
the default), or with ``docker exec`` as root (connection 'docker', for comparisons).
"""

import ipaddress
import json
import os
import signal
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# CROSSHOST_LABTEST_NAME/_SUBNET/_SUBNET_V6 give a second checkout its own lab beside this one.
LAB_NAME = os.environ.get('CROSSHOST_LABTEST_NAME', 'crosshost-routes-test')
LAB_SUBNET = os.environ.get('CROSSHOST_LABTEST_SUBNET', '198.18.42.0/24')
# The lab's IPv6 underlay (off for other labs): nodeN is 2001:db8:64::1N.
LAB_SUBNET_V6 = os.environ.get('CROSSHOST_LABTEST_SUBNET_V6', '2001:db8:64::/64')
LAB_HOSTS = 3
CLUSTER_VARS = """---
# Written by tests/lab/labdriver.py
crosshost_network: 100.64.0.0/16
crosshost_subnet_len: 24
crosshost_backend: static_routes
"""
# Whole playbooks over the docker connection on a busy 2-core machine: generous.
PLAYBOOK_TIMEOUT = int(os.environ.get('CROSSHOST_LABTEST_TIMEOUT', '1200'))


def _collections_path():
    if os.environ.get('ANSIBLE_COLLECTIONS_PATH'):
        return os.environ['ANSIBLE_COLLECTIONS_PATH']
    parent = os.path.join(ROOT, '.cache', 'collections')
    link = os.path.join(parent, 'ansible_collections', 'crosshost', 'network')
    if not os.path.lexists(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(ROOT, link)
    return parent


def ansible_env():
    env = dict(os.environ)
    env['PATH'] = os.path.dirname(sys.executable) + os.pathsep + env.get('PATH', '')
    env.update(
        ANSIBLE_COLLECTIONS_PATH=_collections_path(),
        ANSIBLE_NOCOLOR='1',
        ANSIBLE_FORCE_COLOR='0',
        ANSIBLE_RETRY_FILES_ENABLED='False',
        ANSIBLE_PIPELINING='True',
        ANSIBLE_PYTHON_INTERPRETER='auto_silent',
    )
    return env


def playbook_argv(playbook, *args, inventory=None):
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')]
    if inventory:
        cmd += ['-i', inventory]
    return cmd + [os.path.join(ROOT, playbook)] + list(args)


def run_playbook(playbook, *args, inventory=None, check=True):
    """ansible-playbook PLAYBOOK ARGS; returns (rc, output). Fails the test on rc != 0 when check."""
    cmd = playbook_argv(playbook, *args, inventory=inventory)
    proc = subprocess.run(cmd, cwd=ROOT, env=ansible_env(), capture_output=True, text=True,
                          timeout=PLAYBOOK_TIMEOUT, check=False, stdin=subprocess.DEVNULL)
    output = proc.stdout + proc.stderr
    if check and proc.returncode != 0:
        raise AssertionError('%s failed (rc=%d):\n%s' % (' '.join(cmd), proc.returncode, output[-8000:]))
    return proc.returncode, output


def run_playbook_until(playbook, marker, *args, inventory=None, act=None):
    """ansible-playbook PLAYBOOK ARGS, streamed; at the first output line starting with MARKER
    (a task's header, say) call act(), or without act kill the run there, as an admin's
    Ctrl-C or a lost controller would. Returns (reached, output): reached is False when
    the run never printed MARKER."""
    proc = subprocess.Popen(playbook_argv(playbook, *args, inventory=inventory), cwd=ROOT, env=ansible_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    output = []
    reached = False
    try:
        for line in proc.stdout:
            output.append(line)
            if not reached and line.startswith(marker):
                reached = True
                if act is None:
                    break
                act()
        if act is not None or not reached:
            proc.wait(timeout=PLAYBOOK_TIMEOUT)
    finally:
        # Killed at the marker (or the test failed): the whole session, ansible-playbook's
        # workers and their ssh too.
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()
    return reached, ''.join(output)


def recap(output):
    """PLAY RECAP -> {host: {'ok': n, 'changed': n, ...}}."""
    result = {}
    in_recap = False
    for line in output.splitlines():
        if line.startswith('PLAY RECAP'):
            in_recap = True
            continue
        if in_recap and ':' in line and '=' in line:
            host, counts = line.split(':', 1)
            result[host.strip()] = dict((k, int(v)) for k, v in (item.split('=') for item in counts.split()))
    return result


def converge(lab, playbook='playbooks/site.yml'):
    """One ordinary run that must reach and fix every host; returns its recap."""
    rc, output = lab.playbook(playbook, check=False)
    counts = recap(output)
    assert rc == 0 and all(c['failed'] == 0 and c['unreachable'] == 0 for c in counts.values()), output[-6000:]
    return counts


def lab_dir(name):
    """create.yml's folder of the lab's key, known_hosts and ssh_config."""
    return os.path.join(ROOT, '.cache', 'lab', name)


def ssh_vars(name):
    """Inventory variables that log in to lab NAME's hosts as a user would (with become)."""
    folder = lab_dir(name)
    return {
        'ansible_user': 'admin',
        'ansible_become': True,
        'ansible_ssh_private_key_file': os.path.join(folder, 'id_ed25519'),
        'ansible_ssh_common_args': '-o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes'
                                   % os.path.join(folder, 'known_hosts'),
    }


class Lab:
    """The running lab: its inventory folder and a way into its hosts."""

    def __init__(self, inventory_dir, name=LAB_NAME, hosts=LAB_HOSTS, subnet=LAB_SUBNET, connection='ssh', docker=True):
        self.name = name
        self.docker = docker
        self.subnet = subnet
        self.connection = connection
        self.inventory_dir = inventory_dir
        self.inventory = os.path.join(inventory_dir, 'hosts.yml')
        self.hosts = ['node%d' % i for i in range(1, hosts + 1)]

    def container(self, host):
        return '%s-%s' % (self.name, host)

    def address(self, host):
        """Underlay address of host nodeN: .10+N (create.yml's default)."""
        return str(ipaddress.ip_network(self.subnet).network_address + 10 + int(host[len('node'):]))

    def sh(self, host, *argv, check=True):
        """Run argv on a lab host (docker exec); return stdout."""
        proc = subprocess.run(['docker', 'exec', self.container(host)] + [str(a) for a in argv],
                              capture_output=True, text=True, timeout=120, check=False)
        if check and proc.returncode != 0:
            raise AssertionError('%s: %s failed (rc=%d): %s' % (host, ' '.join(map(str, argv)), proc.returncode, proc.stderr))
        return proc.stdout

    def ip_json(self, host, *args):
        out = self.sh(host, 'ip', '-json', *args)
        return json.loads(out) if out.strip() else []

    def our_routes(self, host):
        """{dst: gateway} of our routes (protocol 147) in the main table."""
        return dict((r['dst'], r.get('gateway')) for r in self.ip_json(host, 'route', 'show', 'proto', '147'))

    def write_hosts(self, hosts):
        """(Re)write the inventory's host list; group_vars and the allocations stay."""
        if self.connection == 'ssh':
            host_vars = dict((host, {'ansible_host': self.address(host)}) for host in hosts)
            group_vars = ssh_vars(self.name)
        else:
            host_vars = dict((host, {'ansible_host': self.container(host)}) for host in hosts)
            group_vars = {'ansible_connection': 'community.docker.docker'}
        group_vars.update(ansible_python_interpreter='/usr/bin/python3', ansible_pipelining=True)
        if not self.docker:
            group_vars['crosshost_docker'] = False
        inventory = {'cluster': {'hosts': host_vars, 'vars': group_vars}}
        with open(self.inventory, 'w') as handle:
            handle.write('---\n# Written by tests/lab/labdriver.py\n')
            yaml.safe_dump(inventory, handle, default_flow_style=False)

    def playbook(self, playbook, *args, check=True):
        return run_playbook(playbook, *args, inventory=self.inventory, check=check)

    def playbook_until(self, playbook, marker, *args, act=None):
        return run_playbook_until(playbook, marker, *args, inventory=self.inventory, act=act)


def create_lab(name, subnet, hosts, inventory_dir, cluster_vars=CLUSTER_VARS, connection='ssh', docker=True, subnet_v6=''):
    """Create the lab and its inventory (hosts.yml + group_vars/cluster.yml); return a Lab.

    docker=False: light hosts without an inner dockerd (crosshost_docker false in the inventory).
    subnet_v6: an IPv6 underlay too (create.yml's crosshost_lab_subnet_v6).
    """
    os.makedirs(os.path.join(inventory_dir, 'group_vars'), exist_ok=True)
    with open(os.path.join(inventory_dir, 'group_vars', 'cluster.yml'), 'w') as handle:
        handle.write(cluster_vars)
    run_playbook('playbooks/lab/create.yml', '-e', 'crosshost_lab_name=%s' % name, '-e', 'crosshost_lab_subnet=%s' % subnet,
                 '-e', 'crosshost_lab_hosts=%d' % hosts, '-e', 'crosshost_lab_docker=%s' % str(docker).lower(),
                 '-e', 'crosshost_lab_subnet_v6=%s' % subnet_v6)
    lab = Lab(inventory_dir, name, hosts, subnet, connection, docker)
    lab.write_hosts(lab.hosts)
    return lab


def destroy_lab(name):
    return run_playbook('playbooks/lab/destroy.yml', '-e', 'crosshost_lab_name=%s' % name, check=False)
