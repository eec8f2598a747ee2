"""Role crosshost.network.etcd on three throwaway lab containers (the lab's host image, crosshost-lab-node).

The containers run a sleep instead of the image's systemd: etcd runs from Debian's /etc/init.d/etcd. After the role,
flannel_network_config and flannel_lease run on the containers against the new cluster.
Everything is named xhtest-etcd-<random> and removed, pass or fail.
"""

import json
import os
import random
import subprocess
import sys
import tempfile
import uuid

import pytest

from conftest import ROOT, ansible_env
from etcd_server import make_certs

IMAGE = os.environ.get('CROSSHOST_LAB_NODE_IMAGE', 'crosshost-lab-node')
HOSTS = ('etcd1', 'etcd2', 'etcd3')

PLAYBOOK = """
- name: etcd cluster
  hosts: etcd
  gather_facts: false
  roles:
    - role: crosshost.network.etcd

- name: flannel data in the new cluster
  hosts: etcd
  gather_facts: false
  vars:
    endpoints: "{{ groups['etcd'] | map('extract', hostvars, 'crosshost_underlay_ip') | map('regex_replace', '^(.*)$', 'http://\\\\1:2379') | list }}"
  tasks:
    - name: Network config
      crosshost.network.flannel_network_config:
        endpoints: "{{ endpoints }}"
        network: 100.64.0.0/16
      run_once: true

    - name: Lease
      crosshost.network.flannel_lease:
        endpoints: ['http://127.0.0.1:2379']
        public_ip: "{{ crosshost_underlay_ip }}"
      register: lease

    - name: Report the lease
      ansible.builtin.debug:
        msg: "{{ lease.lease.subnet }}"
"""


def docker(*args, check=True):
    return subprocess.run(['docker'] + [str(a) for a in args], capture_output=True, text=True, check=check)


def have_image():
    try:
        return docker('image', 'inspect', IMAGE, check=False).returncode == 0
    except FileNotFoundError:
        return False


@pytest.fixture(scope='module', autouse=True)
def lab_image():
    """The lab host image, built now when missing (on a fresh machine the labs build it later)."""
    if have_image():
        return
    try:
        docker('info')
    except (FileNotFoundError, subprocess.CalledProcessError):
        pytest.skip('no Docker engine answers `docker info`')
    build = subprocess.run([os.path.join(ROOT, 'playbooks', 'lab', 'build-images.sh'), 'node'],
                           capture_output=True, text=True, timeout=1200, check=False,
                           env=dict(os.environ, CROSSHOST_LAB_NODE_IMAGE=IMAGE))
    assert build.returncode == 0 and have_image(), 'could not build %s:\n%s\n%s' % (IMAGE, build.stdout[-3000:], build.stderr[-3000:])


@pytest.fixture
def make_lab():
    """make_lab(n): n containers on a private network 198.19.N.0/24 -> {host: (container, ip)}."""
    tag = 'xhtest-etcd-' + uuid.uuid4().hex[:6]
    containers = []
    networks = []

    def make(count):
        for attempt in range(10):  # pylint: disable=unused-variable
            third = random.randint(100, 199)
            result = docker('network', 'create', '--subnet', '198.19.%d.0/24' % third, tag, check=False)
            if result.returncode == 0:
                networks.append(tag)
                break
        assert networks, 'could not create a docker network: %s' % result.stderr
        lab = {}
        for index, host in enumerate(HOSTS[:count]):
            name = '%s-%s' % (tag, host)
            ip = '198.19.%d.%d' % (third, 11 + index)
            containers.append(name)
            docker('run', '-d', '--name', name, '--hostname', host, '--network', tag, '--ip', ip,
                   '--entrypoint', '/bin/sleep', IMAGE, 'infinity')
            lab[host] = (name, ip)
        return lab

    try:
        yield make
    finally:
        for name in containers:
            docker('rm', '-f', name, check=False)
        for network in networks:
            docker('network', 'rm', network, check=False)


def write_inventory(directory, lab, **host_vars):
    inventory = os.path.join(directory, 'hosts.yml')
    hosts = dict((host, dict(ansible_connection='community.docker.docker', ansible_host=name,
                             ansible_python_interpreter='/usr/bin/python3', crosshost_underlay_ip=ip, **host_vars))
                 for host, (name, ip) in lab.items())
    with open(inventory, 'w') as handle:
        json.dump(dict(all=dict(children=dict(etcd=dict(hosts=hosts)))), handle)
    return inventory


def play(inventory, playbook, check=False):
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', inventory, playbook]
    if check:
        cmd.append('--check')
    proc = subprocess.run(cmd, env=ansible_env(), capture_output=True, text=True, timeout=900, check=False)
    try:
        return json.loads(proc.stdout)
    except ValueError:
        raise AssertionError('ansible-playbook failed (rc=%d):\n%s\n%s' % (proc.returncode, proc.stdout[-5000:], proc.stderr[-5000:]))


def failures(output):
    """The failed task results of a playbook run, short enough for an assertion message."""
    found = []
    for play_ in output['plays']:
        for task in play_['tasks']:
            for host, result in task['hosts'].items():
                if result.get('failed') or result.get('unreachable'):
                    found.append('%s %s: %s' % (host, task['task']['name'], json.dumps(result, sort_keys=True)[:3000]))
    return '\n'.join(found)


def task_results(output, name):
    for play_ in output['plays']:
        for task in play_['tasks']:
            if task['task']['name'] == name:
                return task['hosts']
    return {}


def test_etcd_role_cluster_then_flannel_leases(make_lab):
    lab = make_lab(3)
    with tempfile.TemporaryDirectory(prefix='xhtest-etcd-') as tmp:
        inventory = write_inventory(tmp, lab)
        playbook = os.path.join(tmp, 'site.yml')
        with open(playbook, 'w') as handle:
            handle.write(PLAYBOOK)

        first = play(inventory, playbook)
        stats = first['stats']
        assert all(s['failures'] == 0 and s['unreachable'] == 0 for s in stats.values()), failures(first)
        assert all(s['changed'] > 0 for s in stats.values()), stats
        subnets = sorted(r['lease']['subnet'] for r in task_results(first, 'Lease').values())
        assert subnets == ['100.64.1.0/24', '100.64.2.0/24', '100.64.3.0/24']

        second = play(inventory, playbook)
        assert all(s['changed'] == 0 and s['failures'] == 0 for s in second['stats'].values()), (second['stats'], failures(second))
        again = dict((h, r['lease']['subnet']) for h, r in task_results(second, 'Lease').items())
        assert again == dict((h, r['lease']['subnet']) for h, r in task_results(first, 'Lease').items()), 'a host lost its lease'

        check = play(inventory, playbook, check=True)
        assert all(s['changed'] == 0 and s['failures'] == 0 for s in check['stats'].values()), check['stats']

    name, ip = lab['etcd1']
    endpoint = 'http://%s:2379' % ip
    members = docker('exec', '-e', 'ETCDCTL_API=3', name, 'etcdctl', '--endpoints', endpoint, 'member', 'list', '-w', 'json').stdout
    peers = sorted(m['peerURLs'][0] for m in json.loads(members)['members'])
    assert peers == sorted('http://%s:2380' % address for dummy, address in lab.values())
    endpoints = ','.join('http://%s:2379' % address for dummy, address in lab.values())
    health = docker('exec', '-e', 'ETCDCTL_API=3', name, 'etcdctl', '--endpoints', endpoints, 'endpoint', 'health', check=False)
    assert health.returncode == 0, health.stdout + health.stderr
    config = docker('exec', name, 'cat', '/etc/default/etcd').stdout
    assert 'ETCD_INITIAL_CLUSTER="etcd1=http://%s:2380,etcd2=' % ip in config
    assert 'ETCD_DATA_DIR="/var/lib/etcd/crosshost"' in config
    leases = docker('exec', '-e', 'ETCDCTL_API=3', name, 'etcdctl', '--endpoints', endpoint, 'get', '--prefix', '/coreos.com/network/subnets').stdout
    values = [json.loads(line) for line in leases.splitlines()[1::2]]
    assert sorted(v['PublicIP'] for v in values) == sorted(address for dummy, address in lab.values())


TLS_PLAYBOOK = """
- name: etcd with client TLS
  hosts: etcd
  gather_facts: false
  roles:
    - role: crosshost.network.etcd

- name: flannel config over TLS
  hosts: etcd
  gather_facts: false
  tasks:
    - name: Network config
      crosshost.network.flannel_network_config:
        endpoints: ["https://{{ crosshost_underlay_ip }}:2379"]
        ca_cert: /etc/etcd/crosshost/ca.pem
        client_cert: /etc/etcd/crosshost/server.pem
        client_key: /etc/etcd/crosshost/server-key.pem
        network: 100.64.0.0/16
"""


def test_etcd_role_single_node_with_client_tls(make_lab):
    lab = make_lab(1)
    name, ip = lab['etcd1']
    with tempfile.TemporaryDirectory(prefix='xhtest-etcd-') as tmp:
        certs = make_certs(tmp, ips=(ip, '127.0.0.1'))
        inventory = write_inventory(tmp, lab, etcd_tls=True, etcd_tls_ca_cert=certs['ca_cert'],
                                    etcd_tls_cert=certs['server_cert'], etcd_tls_key=certs['server_key'])
        playbook = os.path.join(tmp, 'site.yml')
        with open(playbook, 'w') as handle:
            handle.write(TLS_PLAYBOOK)
        first = play(inventory, playbook)
        assert first['stats']['etcd1']['failures'] == 0 and first['stats']['etcd1']['changed'] > 0, failures(first)
        second = play(inventory, playbook)
        assert second['stats']['etcd1']['changed'] == 0 and second['stats']['etcd1']['failures'] == 0, (second['stats'], failures(second))

    tls = ['--cacert', '/etc/etcd/crosshost/ca.pem', '--cert', '/etc/etcd/crosshost/server.pem', '--key', '/etc/etcd/crosshost/server-key.pem']
    out = docker('exec', '-e', 'ETCDCTL_API=3', name, 'etcdctl', '--endpoints', 'https://%s:2379' % ip, *tls, 'get', '/coreos.com/network/config').stdout
    assert out.splitlines() == ['/coreos.com/network/config', '{"Network":"100.64.0.0/16","Backend":{"Type":"vxlan"}}']
    plain = docker('exec', '-e', 'ETCDCTL_API=3', name, 'etcdctl', '--endpoints', 'https://%s:2379' % ip, '--dial-timeout', '2s',
                   '--cacert', '/etc/etcd/crosshost/ca.pem', 'get', '/coreos.com/network/config', check=False)
    assert plain.returncode != 0, 'etcd accepted a client without a certificate'
