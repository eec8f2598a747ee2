"""The flannel role's files, rendered by the role itself on localhost into a temporary folder (runs Ansible: integration).

Nothing here touches the machine's network or services: every path the role writes is
pointed into ``tmp_path`` and only task files that write files (or talk to a throwaway
etcd) are included. Covers what cannot run on the lab:

* the flanneld backend: binary installed from the controller or from a ``file://`` URL
  with its checksum, the ``Type=notify`` unit and its flags, the Docker drop-in, and the
  etcd config/leases with Backend.Type vxlan, udp and host-gw (flanneld itself cannot be
  installed on our machines: it is not packaged for Debian 12);
* the vxlan backend's boot files (ip/bridge batches, subnet.env in flannel's format), its
  firewall chain and replay command, computed from a plan with and without DirectRouting.
"""

import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from conftest import collections_path

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PLAN = {
    'node1': {'subnet': '100.64.1.0/24', 'gateway': '100.64.1.1', 'bip': '100.64.1.1/24', 'prefixlen': 24,
              'underlay_ip': '198.18.3.11', 'underlay_interface': 'eth0', 'underlay_mtu': 1500,
              'vtep_mac': '02:11:11:11:11:11', 'network': '100.64.0.0/16'},
    'node2': {'subnet': '100.64.2.0/24', 'gateway': '100.64.2.1', 'bip': '100.64.2.1/24', 'prefixlen': 24,
              'underlay_ip': '198.18.3.12', 'underlay_interface': 'eth0', 'underlay_mtu': 1500,
              'vtep_mac': '02:22:22:22:22:22', 'network': '100.64.0.0/16'},
    # Another L2: with DirectRouting it still goes through VXLAN.
    'node3': {'subnet': '100.64.3.0/24', 'gateway': '100.64.3.1', 'bip': '100.64.3.1/24', 'prefixlen': 24,
              'underlay_ip': '198.19.7.13', 'underlay_interface': 'eth0', 'underlay_mtu': 1500,
              'vtep_mac': '02:33:33:33:33:33', 'network': '100.64.0.0/16'},
}
CLUSTER = {'network': '100.64.0.0/16', 'subnet_len': 24, 'subnet_min': '100.64.1.0', 'subnet_max': '100.64.255.0',
           'hosts': sorted(PLAN), 'reserved': {}}
# What the preflight role's fact gathering gives the role for DirectRouting.
FACTS = {'eth0': {'ipv4': {'address': '198.18.3.11', 'prefix': '24', 'netmask': '255.255.255.0', 'network': '198.18.3.0'}}}


def run_playbook(tmp_path, plays, extra=(), rc=0, netns=None):
    """Write ``plays`` as a playbook and run it on localhost (in ``netns`` if given); return the output (asserts the rc)."""
    playbook = tmp_path / 'play.yml'
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_NOCOLOR='1',
               ANSIBLE_LOCALHOST_WARNING='False', ANSIBLE_INVENTORY_UNPARSED_WARNING='False',
               ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    env['PATH'] = os.path.dirname(sys.executable) + os.pathsep + env.get('PATH', '')
    prefix = ['ip', 'netns', 'exec', netns] if netns else []
    proc = subprocess.run(prefix + [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), str(playbook)] + list(extra),
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL, check=False)
    assert proc.returncode == rc, proc.stdout[-6000:] + proc.stderr[-3000:]
    return proc.stdout


def role_vars(tmp_path, host='node1', **extra):
    """Vars that point every path of the role into tmp_path, and the plan of PLAN (as site.yml passes it)."""
    values = {
        'flannel_plan': PLAN,
        'flannel_host': PLAN[host],
        'flannel_network': CLUSTER['network'],
        'flannel_subnet_len': CLUSTER['subnet_len'],
        'flannel_subnet_min': CLUSTER['subnet_min'],
        'flannel_subnet_max': CLUSTER['subnet_max'],
        'flannel_purge_devices': ['flannel.1', PLAN[host]['underlay_interface']],
        'flannel_flanneld_iface': PLAN[host]['underlay_interface'],
        'flannel_flanneld_public_ip': PLAN[host]['underlay_ip'],
        'ansible_facts': FACTS,
        'flannel_systemd': {'stat': {'exists': False}},
        'flannel_etcd': False,
        'flannel_config_dir': str(tmp_path / 'etc' / 'crosshost' / 'flannel'),
        'flannel_subnet_file': str(tmp_path / 'run' / 'flannel' / 'subnet.env'),
        'flannel_restore_command': str(tmp_path / 'sbin' / 'crosshost-flannel-restore'),
        'flannel_binary_path': str(tmp_path / 'bin' / 'flanneld'),
        'flannel_flanneld_unit_file': str(tmp_path / 'systemd' / 'flanneld.service'),
        'flannel_flanneld_env_file': str(tmp_path / 'default' / 'flanneld'),
        'flannel_docker_dropin_file': str(tmp_path / 'systemd' / 'docker.service.d' / '10-crosshost-flanneld.conf'),
        'flannel_replaced_boot_files': [str(tmp_path / 'etc' / 'crosshost' / '50-routes.batch')],
    }
    values.update(extra)
    return values


def play(tasks, **play_vars):
    return [{'name': 'flannel role test', 'hosts': 'localhost', 'connection': 'local', 'gather_facts': False,
             'vars': play_vars, 'tasks': tasks}]


def include(tasks_from, public=False):
    return {'name': 'flannel role: %s' % tasks_from,
            'ansible.builtin.include_role': {'name': 'crosshost.network.flannel', 'tasks_from': tasks_from, 'public': public}}


def render(template, dest):
    """A task rendering one of the role's templates (role vars must be public already)."""
    return {'name': 'render %s' % template,
            'ansible.builtin.template': {'src': os.path.join(ROOT, 'roles', 'flannel', 'templates', template),
                                         'dest': str(dest), 'mode': '0644'}}


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason='the role writes root-owned files (owner: root)')


@pytest.fixture
def dummy_binary(tmp_path):
    path = tmp_path / 'controller' / 'flanneld'
    path.parent.mkdir()
    path.write_text('#!/bin/sh\necho "dummy flanneld $*"\n')
    return path


def read(path):
    with open(str(path)) as handle:
        return handle.read()


def exec_args(unit):
    """The ExecStart= command line of a unit, continuation lines joined, as a list of words."""
    text = read(unit).replace('\\\n', ' ')
    line = next(line for line in text.splitlines() if line.startswith('ExecStart='))
    return line[len('ExecStart='):].split()


@needs_root
def test_flanneld_files_from_the_controller(tmp_path, dummy_binary):
    variables = role_vars(
        tmp_path, flannel_backend='flanneld', flannel_binary_src=str(dummy_binary),
        flannel_etcd_endpoints=['https://198.18.3.11:2379', 'https://198.18.3.12:2379'],
        flannel_etcd_ca_cert='/etc/crosshost/etcd/ca.pem', flannel_etcd_client_cert='/etc/crosshost/etcd/client.pem',
        flannel_etcd_client_key='/etc/crosshost/etcd/client-key.pem', flannel_etcd_username='flannel',
        flannel_etcd_password='s3cret', flannel_flanneld_ip_masq=True, flannel_flanneld_healthz_port=8471,
        flannel_disable_tx_checksum=True, flannel_flanneld_extra_args=['--v=2'],
        flannel_network_v6='2001:db8:165::/48', flannel_flanneld_public_ipv6='2001:db8:65::11')
    run_playbook(tmp_path, play([include('flanneld.yml')], **variables))

    binary = tmp_path / 'bin' / 'flanneld'
    assert read(binary) == read(dummy_binary)
    assert os.stat(str(binary)).st_mode & 0o777 == 0o755

    unit = tmp_path / 'systemd' / 'flanneld.service'
    text = read(unit)
    assert '\nType=notify\n' in text
    assert 'Before=docker.service' in text
    assert 'EnvironmentFile=-%s' % (tmp_path / 'default' / 'flanneld') in text
    assert 'ExecStartPost=-/usr/sbin/ethtool --features flannel.1 tx-checksum-ip-generic off' in text
    assert exec_args(unit) == [
        str(binary),
        '--etcd-endpoints=https://198.18.3.11:2379,https://198.18.3.12:2379',
        '--etcd-prefix=/coreos.com/network',
        '--etcd-cafile=/etc/crosshost/etcd/ca.pem',
        '--etcd-certfile=/etc/crosshost/etcd/client.pem',
        '--etcd-keyfile=/etc/crosshost/etcd/client-key.pem',
        '--etcd-username=flannel',
        '--iface=eth0',
        '--public-ip=198.18.3.11',
        # Dual stack: the address the IPv6 device sends from.
        '--public-ipv6=2001:db8:65::11',
        '--auto-detect-ipv6',
        '--ip-masq',
        '--subnet-file=%s' % (tmp_path / 'run' / 'flannel' / 'subnet.env'),
        '--iptables-forward-rules=false',
        '--healthz-port=8471',
        '--v=2',
    ]
    # The password stays off the command line, in a root-only file.
    assert 's3cret' not in text
    env_file = tmp_path / 'default' / 'flanneld'
    assert 'FLANNELD_ETCD_PASSWORD=s3cret' in read(env_file)
    assert os.stat(str(env_file)).st_mode & 0o777 == 0o600

    dropin = read(tmp_path / 'systemd' / 'docker.service.d' / '10-crosshost-flanneld.conf')
    assert 'After=flanneld.service' in dropin
    assert 'Wants=flanneld.service' in dropin
    # A flanneld failing at boot or restarting must not stop Docker.
    assert not [line for line in dropin.splitlines() if line.startswith('Requires=')]
    assert 'EnvironmentFile=-%s' % (tmp_path / 'run' / 'flannel' / 'subnet.env') in dropin

    # Second run: nothing changes.
    out = run_playbook(tmp_path, play([include('flanneld.yml')], **variables))
    assert 'changed=0' in out


@needs_root
def test_flanneld_binary_from_a_url_with_checksum(tmp_path, dummy_binary):
    checksum = 'sha256:' + hashlib.sha256(dummy_binary.read_bytes()).hexdigest()
    variables = role_vars(tmp_path, flannel_backend='flanneld', flannel_binary_url='file://%s' % dummy_binary,
                          flannel_binary_checksum=checksum, flannel_etcd_endpoints=['http://198.18.3.11:2379'],
                          flannel_flanneld_iface='', flannel_flanneld_backend_type='host-gw')
    run_playbook(tmp_path, play([include('flanneld.yml')], **variables))
    assert read(tmp_path / 'bin' / 'flanneld') == read(dummy_binary)
    args = exec_args(tmp_path / 'systemd' / 'flanneld.service')
    assert '--public-ip=198.18.3.11' in args
    assert not [arg for arg in args if arg.startswith('--iface')]
    assert '--ip-masq' not in args
    assert not [arg for arg in args if 'ipv6' in arg]  # IPv4 only
    # host-gw has no VXLAN device to fix.
    assert 'ethtool' not in read(tmp_path / 'systemd' / 'flanneld.service')


@needs_root
def test_flanneld_bad_checksum_installs_nothing(tmp_path, dummy_binary):
    variables = role_vars(tmp_path, flannel_backend='flanneld', flannel_binary_url='file://%s' % dummy_binary,
                          flannel_binary_checksum='sha256:' + '0' * 64, flannel_etcd_endpoints=['http://198.18.3.11:2379'])
    playbook = tmp_path / 'play.yml'
    playbook.write_text(yaml.safe_dump(play([include('flanneld.yml')], **variables)))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_NOCOLOR='1',
               ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), str(playbook)],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode != 0
    assert 'checksum' in proc.stdout.lower()
    assert not (tmp_path / 'bin' / 'flanneld').exists()
    assert not (tmp_path / 'systemd' / 'flanneld.service').exists()


@needs_root
@pytest.mark.parametrize('direct_routing', [False, True], ids=['vxlan', 'direct-routing'])
def test_vxlan_boot_files(tmp_path, direct_routing):
    replaced = tmp_path / 'etc' / 'crosshost' / '50-routes.batch'
    replaced.parent.mkdir(parents=True)
    replaced.write_text('route replace 100.64.2.0/24 via 198.18.3.12 dev eth0 proto 147\n')
    conf = tmp_path / 'etc' / 'crosshost' / 'flannel'
    conf.mkdir()
    variables = role_vars(tmp_path, flannel_direct_routing=direct_routing, flannel_disable_tx_checksum=True)
    tasks = [include('boot_files.yml', public=True),
             render('iptables.rules.j2', conf / 'iptables.rules'),
             render('crosshost-flannel-restore.j2', tmp_path / 'restore.sh'),
             render('crosshost-flannel.service.j2', tmp_path / 'crosshost-flannel.service')]
    run_playbook(tmp_path, play(tasks, **variables))

    assert not replaced.exists()
    # subnet.env exactly in flannel's format.
    assert read(conf / 'subnet.env') == ('FLANNEL_NETWORK=100.64.0.0/16\nFLANNEL_SUBNET=100.64.1.1/24\n'
                                         'FLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n')

    def lines(name):
        return [line for line in read(conf / name).splitlines() if line and not line.startswith('#')]

    assert lines('link.batch') == [
        'link add flannel.1 address 02:11:11:11:11:11 mtu 1450 type vxlan id 1 local 198.18.3.11 dev eth0 dstport 8472 nolearning']
    batch = lines('flannel.batch')
    assert batch[:2] == ['link set dev flannel.1 address 02:11:11:11:11:11 mtu 1450 up',
                         'address replace 100.64.1.0/32 dev flannel.1']
    if direct_routing:
        # node2 shares node1's underlay /24: a plain route; node3 does not: VXLAN.
        assert batch[2:] == [
            'neigh replace 100.64.3.0 lladdr 02:33:33:33:33:33 dev flannel.1 nud permanent protocol 147',
            'route replace 100.64.3.0/24 via 100.64.3.0 dev flannel.1 onlink proto 147',
            'route replace 100.64.2.0/24 via 198.18.3.12 dev eth0 proto 147',
        ]
        assert lines('fdb.batch') == ['fdb replace 02:33:33:33:33:33 dev flannel.1 dst 198.19.7.13 self permanent']
    else:
        assert batch[2:] == [
            'neigh replace 100.64.2.0 lladdr 02:22:22:22:22:22 dev flannel.1 nud permanent protocol 147',
            'neigh replace 100.64.3.0 lladdr 02:33:33:33:33:33 dev flannel.1 nud permanent protocol 147',
            'route replace 100.64.2.0/24 via 100.64.2.0 dev flannel.1 onlink proto 147',
            'route replace 100.64.3.0/24 via 100.64.3.0 dev flannel.1 onlink proto 147',
        ]
        assert lines('fdb.batch') == [
            'fdb replace 02:22:22:22:22:22 dev flannel.1 dst 198.18.3.12 self permanent',
            'fdb replace 02:33:33:33:33:33 dev flannel.1 dst 198.19.7.13 self permanent',
        ]
    # The VXLAN port from the other hosts only, everything else on it dropped.
    assert lines('iptables.rules') == [
        '*filter', ':CROSSHOST-VXLAN - [0:0]',
        '-A CROSSHOST-VXLAN -s 198.18.3.12/32 -j ACCEPT',
        '-A CROSSHOST-VXLAN -s 198.19.7.13/32 -j ACCEPT',
        '-A CROSSHOST-VXLAN -j DROP',
        'COMMIT',
    ]
    script = read(tmp_path / 'restore.sh')
    assert "jump='-p udp -m udp --dport 8472 -j CROSSHOST-VXLAN'" in script
    assert 'ethtool --features "$device" tx-checksum-ip-generic off' in script
    subprocess.run(['sh', '-n', str(tmp_path / 'restore.sh')], check=True)
    if shutil.which('shellcheck'):
        subprocess.run(['shellcheck', '-s', 'sh', str(tmp_path / 'restore.sh')], check=True)
    unit = read(tmp_path / 'crosshost-flannel.service')
    assert 'Before=docker.service' in unit and 'Type=oneshot' in unit
    # Docker pulls it in even when socket-activated; the underlay may be late at boot.
    assert '\nWantedBy=multi-user.target docker.service\n' in unit
    assert '\nEnvironment=CROSSHOST_RESTORE_WAIT=60\n' in unit


# ---- the etcd config flanneld reads, for each of its backends ------------------------
etcd_server = pytest.importorskip('etcd_server')


@pytest.fixture
def etcd():
    if not os.path.exists(etcd_server.ETCD):
        pytest.skip('etcd is not installed')
    with etcd_server.EtcdServer() as server:
        yield server


@pytest.mark.parametrize('backend_type', ['vxlan', 'udp', 'host-gw', 'vxlan-dual-stack'])
def test_flanneld_etcd_config_and_lease(tmp_path, etcd, backend_type):
    dual = backend_type == 'vxlan-dual-stack'
    backend_type = backend_type.replace('-dual-stack', '')
    variables = role_vars(tmp_path, flannel_backend='flanneld', flannel_flanneld_backend_type=backend_type,
                          flannel_etcd=True, flannel_etcd_endpoints=[etcd.endpoint])
    if dual:
        variables.update(dual_vars(tmp_path, 'node1', flannel_backend='flanneld', flannel_etcd=True,
                                   flannel_etcd_endpoints=[etcd.endpoint], flannel_config_dir=str(tmp_path / 'etc')))
    tasks = [include('leases_etcd.yml')]
    run_playbook(tmp_path, play(tasks, **variables))

    config = json.loads(etcd.etcdctl('get', '/coreos.com/network/config', '--print-value-only').strip())
    backend = {'vxlan': {'Type': 'vxlan', 'VNI': 1}, 'udp': {'Type': 'udp'}, 'host-gw': {'Type': 'host-gw'}}[backend_type]
    v6 = {'EnableIPv6': True, 'IPv6Network': '2001:db8:165::/48', 'IPv6SubnetLen': 64} if dual else {}
    assert config == dict({'Network': '100.64.0.0/16', 'SubnetLen': 24, 'SubnetMin': '100.64.1.0',
                           'SubnetMax': '100.64.255.0', 'Backend': backend}, **v6)
    out = etcd.etcdctl('get', '--prefix', '/coreos.com/network/subnets').splitlines()
    if dual:
        # The plan's IPv6 subnet, in flanneld's dual-stack key and value.
        assert out[0] == '/coreos.com/network/subnets/100.64.1.0-24&2001:db8:165:1::-64'
        lease = json.loads(out[1])
        assert lease['PublicIPv6'] == '2001:db8:65::11' and lease['BackendV6Data']['VNI'] == 1
        assert re.match('^02(:[0-9a-f]{2}){5}$', lease['BackendV6Data']['VtepMAC'])
        return
    assert out[0] == '/coreos.com/network/subnets/100.64.1.0-24'
    lease = json.loads(out[1])
    assert lease['PublicIP'] == '198.18.3.11'
    assert lease['BackendType'] == backend_type
    if backend_type == 'vxlan':
        assert lease['BackendData'] == {'VNI': 1, 'VtepMAC': '02:11:11:11:11:11'}


def dead_endpoint():
    """An etcd URL on which nothing listens (a port just closed)."""
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return 'http://127.0.0.1:%d' % sock.getsockname()[1]


def test_etcd_down_fails_before_anything_is_written(tmp_path):
    # The preflight plan asks etcd first (tests/integration/test_preflight.py); the role
    # alone fails at its first etcd request, the config's, before any write.
    variables = role_vars(tmp_path, flannel_backend='vxlan', flannel_etcd=True, flannel_etcd_endpoints=[dead_endpoint()],
                          flannel_etcd_timeout=2)
    out = run_playbook(tmp_path, play([include('leases_etcd.yml')], **variables), rc=2)
    assert 'etcd unreachable at http://127.0.0.1:' in out
    assert 'Lease this host' not in out


# ---- dual stack: the vxlan backend in two throwaway namespaces -----------------------
DUAL_PLAN = {
    'node1': {'subnet': '100.64.1.0/24', 'gateway': '100.64.1.1', 'bip': '100.64.1.1/24', 'prefixlen': 24,
              'subnet_v6': '2001:db8:165:1::/64', 'gateway_v6': '2001:db8:165:1::1', 'bip_v6': '2001:db8:165:1::1/64',
              'underlay_ip': '198.18.65.11', 'underlay_ip6': '2001:db8:65::11', 'underlay_interface': 'xh-u',
              'underlay_mtu': 1500, 'vtep_mac': '02:11:11:11:11:11', 'network': '100.64.0.0/16'},
    'node2': {'subnet': '100.64.2.0/24', 'gateway': '100.64.2.1', 'bip': '100.64.2.1/24', 'prefixlen': 24,
              'subnet_v6': '2001:db8:165:2::/64', 'gateway_v6': '2001:db8:165:2::1', 'bip_v6': '2001:db8:165:2::1/64',
              'underlay_ip': '198.18.65.12', 'underlay_ip6': '2001:db8:65::12', 'underlay_interface': 'xh-u',
              'underlay_mtu': 1500, 'vtep_mac': '02:22:22:22:22:22', 'network': '100.64.0.0/16'},
}


def netns_ip(netns, *args):
    subprocess.run(['ip', '-n', netns] + list(args), check=True)


@pytest.fixture
def two_hosts():
    """Two namespaces joined by a veth underlay (both families); each has a 'container' veth holding its bridge addresses."""
    names = ['xh-' + os.urandom(4).hex(), 'xh-' + os.urandom(4).hex()]
    try:
        for name in names:
            subprocess.run(['ip', 'netns', 'add', name], check=True)
        subprocess.run(['ip', 'link', 'add', 'xh-u', 'netns', names[0], 'type', 'veth', 'peer', 'name', 'xh-u', 'netns', names[1]],
                       check=True)
        for name, host in zip(names, ('node1', 'node2')):
            entry = DUAL_PLAN[host]
            ip = functools.partial(netns_ip, name)
            ip('link', 'set', 'lo', 'up')
            ip('address', 'add', entry['underlay_ip'] + '/24', 'dev', 'xh-u')
            ip('address', 'add', entry['underlay_ip6'] + '/64', 'dev', 'xh-u', 'nodad')
            ip('link', 'set', 'xh-u', 'up')
            # The containers' side: both ends in the host, the bridge's addresses on one.
            ip('link', 'add', 'xh-c0', 'type', 'veth', 'peer', 'name', 'xh-c1')
            ip('address', 'add', entry['bip'], 'dev', 'xh-c0')
            ip('address', 'add', entry['bip_v6'], 'dev', 'xh-c0', 'nodad')
            ip('link', 'set', 'xh-c0', 'up')
            ip('link', 'set', 'xh-c1', 'up')
        yield names
    finally:
        for name in names:
            subprocess.run(['ip', 'netns', 'del', name], check=False)


def dual_vars(tmp_path, host, **extra):
    variables = role_vars(tmp_path / host, host=host, flannel_plan=DUAL_PLAN, flannel_host=DUAL_PLAN[host],
                          flannel_network_v6='2001:db8:165::/48', flannel_subnet_len_v6=64,
                          flannel_purge_devices=['flannel.1', 'flannel-v6.1', 'xh-u'], ansible_facts={},
                          flannel_replaced_boot_files=[])
    variables.update(extra)
    return variables


def overlay_tasks(tmp_path):
    """vxlan.yml, then the replay command and the VXLAN port's chains of both families (as present.yml does)."""
    return [include('vxlan.yml', public=True),
            {'name': 'the replay command', 'ansible.builtin.template': {
                'src': os.path.join(ROOT, 'roles', 'flannel', 'templates', 'crosshost-flannel-restore.j2'),
                'dest': str(tmp_path / 'sbin' / 'crosshost-flannel-restore'), 'mode': '0755'}},
            include('firewall.yml')]


def in_netns(name, *argv):
    return subprocess.run(['ip', 'netns', 'exec', name] + list(argv), capture_output=True, text=True, check=False)


# A UDP echo (there is no ping here): the server answers one datagram; the client sends
# `size` bytes with the don't-fragment bit and prints what came back.
ECHO_SERVER = """
import socket, sys
family = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET
sock = socket.socket(family, socket.SOCK_DGRAM)
sock.bind((sys.argv[1], 7007))
sock.settimeout(20)
data, peer = sock.recvfrom(65535)
sock.sendto(data, peer)
"""
ECHO_CLIENT = """
import socket, sys
source, target, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
six = ':' in target
sock = socket.socket(socket.AF_INET6 if six else socket.AF_INET, socket.SOCK_DGRAM)
if six:
    sock.setsockopt(socket.IPPROTO_IPV6, 62, 1)  # IPV6_DONTFRAG
else:
    sock.setsockopt(socket.IPPROTO_IP, 10, 2)  # IP_MTU_DISCOVER = IP_PMTUDISC_DO
sock.bind((source, 0))
sock.settimeout(5)
for _ in range(5):
    sock.sendto(b'x' * size, (target, 7007))
    try:
        print(len(sock.recvfrom(65535)[0]))
        break
    except socket.timeout:
        continue
"""


def echo(client_ns, server_ns, source, target, size=64):
    """Bytes echoed back from target (in server_ns) to source (in client_ns), 0 if nothing came back."""
    server = subprocess.Popen(['ip', 'netns', 'exec', server_ns, sys.executable, '-c', ECHO_SERVER, target])
    try:
        out = in_netns(client_ns, sys.executable, '-c', ECHO_CLIENT, source, target, str(size))
        return int(out.stdout.strip() or 0)
    finally:
        server.kill()
        server.wait()


def converge_both(tmp_path, namespaces, host_vars):
    """The overlay tasks on node1 and node2, each in its namespace, both at once as a play runs them."""
    def converge(name, host):
        for directory in ('etc/crosshost/flannel', 'sbin'):  # present.yml makes them
            (tmp_path / host / directory).mkdir(parents=True)
        run_playbook(tmp_path / host, play(overlay_tasks(tmp_path / host), **host_vars(tmp_path, host)), netns=name)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(converge, namespaces, ('node1', 'node2')))


@needs_root
def test_vxlan_dual_stack_between_two_namespaces(tmp_path, two_hosts):
    """flannel.1 and flannel-v6.1 (VXLAN over the IPv6 underlay) carry each family's container subnets; IPv6 off removes only ours."""
    converge_both(tmp_path, two_hosts, dual_vars)
    node1 = two_hosts[0]
    link = json.loads(in_netns(node1, 'ip', '-d', '-json', 'link', 'show', 'flannel-v6.1').stdout)[0]
    vxlan = link['linkinfo']['info_data']
    assert (vxlan['id'], vxlan['local6'], vxlan['port'], vxlan['learning'], link['mtu']) == (1, '2001:db8:65::11', 8472, False, 1430)
    assert json.loads(in_netns(node1, 'ip', '-json', 'link', 'show', 'flannel.1').stdout)[0]['mtu'] == 1450
    neigh = in_netns(node1, 'ip', '-6', 'neigh', 'show', 'dev', 'flannel-v6.1').stdout
    mac2 = json.loads(in_netns(two_hosts[1], 'ip', '-json', 'link', 'show', 'flannel-v6.1').stdout)[0]['address']
    assert '2001:db8:165:2:: lladdr %s PERMANENT' % mac2 in neigh, neigh
    assert 'dst 2001:db8:65::12 self permanent' in in_netns(node1, 'bridge', 'fdb', 'show', 'dev', 'flannel-v6.1').stdout
    assert '2001:db8:165:2::/64 via 2001:db8:165:2:: proto 147 metric 1024 onlink' in \
        in_netns(node1, 'ip', '-N', '-6', 'route', 'show', 'dev', 'flannel-v6.1').stdout
    node2 = two_hosts[1]
    assert echo(node1, node2, '100.64.1.1', '100.64.2.1') == 64
    assert echo(node1, node2, '2001:db8:165:1::1', '2001:db8:165:2::1') == 64
    # Full-size packets fit the smaller MTU subnet.env gives the containers (1430: VXLAN over IPv6 costs 70).
    conf = tmp_path / 'node1' / 'etc' / 'crosshost' / 'flannel'
    assert read(conf / 'subnet.env') == (
        'FLANNEL_NETWORK=100.64.0.0/16\nFLANNEL_SUBNET=100.64.1.1/24\n'
        'FLANNEL_IPV6_NETWORK=2001:db8:165::/48\nFLANNEL_IPV6_SUBNET=2001:db8:165:1::1/64\n'
        'FLANNEL_MTU=1430\nFLANNEL_IPMASQ=true\n')
    assert echo(node1, node2, '2001:db8:165:1::1', '2001:db8:165:2::1', 1430 - 48) == 1430 - 48
    batch = [line for line in read(conf / 'flannel.batch').splitlines() if line and not line.startswith('#')]
    assert batch[-4:] == ['link set dev flannel-v6.1 address %s mtu 1430 up' % link['address'],
                          'address replace 2001:db8:165:1::/128 dev flannel-v6.1',
                          'neigh replace 2001:db8:165:2:: lladdr %s dev flannel-v6.1 nud permanent protocol 147' % mac2,
                          'route replace 2001:db8:165:2::/64 via 2001:db8:165:2:: dev flannel-v6.1 onlink proto 147']
    assert 'local 2001:db8:65::11 dev xh-u dstport 8472 nolearning' in read(conf / 'link-v6.batch')
    assert read(conf / 'fdb.batch').splitlines()[-1] == 'fdb replace %s dev flannel-v6.1 dst 2001:db8:65::12 self permanent' % mac2

    # IPv6 off on node1: its IPv6 device goes (with its entries and routes), nothing else changes.
    before = in_netns(node1, 'ip', '-4', 'route', 'show').stdout
    # The IPv6 VXLAN port is accepted from the other hosts' IPv6 underlay addresses only.
    assert in_netns(node1, 'ip6tables', '-S', 'CROSSHOST-VXLAN').stdout.splitlines() == [
        '-N CROSSHOST-VXLAN', '-A CROSSHOST-VXLAN -s 2001:db8:65::12/128 -j ACCEPT', '-A CROSSHOST-VXLAN -j DROP']
    assert '-A INPUT -p udp -m udp --dport 8472 -j CROSSHOST-VXLAN' in in_netns(node1, 'ip6tables', '-S', 'INPUT').stdout
    out = run_playbook(tmp_path / 'node1', play(overlay_tasks(tmp_path / 'node1'), **dual_vars(tmp_path, 'node1', flannel_network_v6='')),
                       netns=node1)
    assert in_netns(node1, 'ip', 'link', 'show', 'flannel-v6.1').returncode != 0, out
    assert in_netns(node1, 'ip', '-6', 'route', 'show', 'proto', '147').stdout == ''
    assert in_netns(node1, 'ip', '-4', 'route', 'show').stdout == before
    assert echo(node1, node2, '100.64.1.1', '100.64.2.1') == 64
    assert 'IPV6' not in read(conf / 'subnet.env') and 'FLANNEL_MTU=1450' in read(conf / 'subnet.env')
    assert not (conf / 'link-v6.batch').exists()
    assert 'flannel-v6.1' not in read(conf / 'flannel.batch') + read(conf / 'fdb.batch')
    assert in_netns(node1, 'ip6tables', '-S').stdout.count('CROSSHOST-VXLAN') == 0 and not (conf / 'ip6tables.rules').exists()
    assert '-A CROSSHOST-VXLAN -s 198.18.65.12/32 -j ACCEPT' in in_netns(node1, 'iptables', '-S', 'CROSSHOST-VXLAN').stdout


# ---- IPv6 only: no IPv4 network, device or lease part ---------------------------------
def v6_only_plan():
    """DUAL_PLAN as the preflight plan gives it without crosshost_network: every IPv4 field ''."""
    plan = {}
    for host, entry in DUAL_PLAN.items():
        plan[host] = dict(entry, subnet='', gateway='', bip='', prefixlen='', underlay_ip='', network='')
    return plan


def v6_only_vars(tmp_path, host, **extra):
    plan = v6_only_plan()
    return dual_vars(tmp_path, host, flannel_plan=plan, flannel_host=plan[host], flannel_network='', flannel_subnet_len='',
                     flannel_subnet_min='', flannel_subnet_max='', **extra)


@needs_root
def test_vxlan_ipv6_only_between_two_namespaces(tmp_path, two_hosts):
    """IPv6 only (flanneld's EnableIPv4 false): flannel-v6.1 alone, subnet.env without the IPv4 variables, no IPv4 chain."""
    converge_both(tmp_path, two_hosts, v6_only_vars)
    node1, node2 = two_hosts
    assert in_netns(node1, 'ip', 'link', 'show', 'flannel.1').returncode != 0
    link = json.loads(in_netns(node1, 'ip', '-d', '-json', 'link', 'show', 'flannel-v6.1').stdout)[0]
    assert (link['linkinfo']['info_data']['local6'], link['mtu']) == ('2001:db8:65::11', 1430)
    mac2 = json.loads(in_netns(node2, 'ip', '-json', 'link', 'show', 'flannel-v6.1').stdout)[0]['address']
    assert '2001:db8:165:2:: lladdr %s PERMANENT' % mac2 in in_netns(node1, 'ip', '-6', 'neigh', 'show', 'dev', 'flannel-v6.1').stdout
    assert in_netns(node1, 'ip', '-4', 'route', 'show', 'proto', '147').stdout == ''
    assert echo(node1, node2, '2001:db8:165:1::1', '2001:db8:165:2::1', 1430 - 48) == 1430 - 48
    conf = tmp_path / 'node1' / 'etc' / 'crosshost' / 'flannel'
    # flanneld writes the IPv4 variables only with EnableIPv4.
    assert read(conf / 'subnet.env') == (
        'FLANNEL_IPV6_NETWORK=2001:db8:165::/48\nFLANNEL_IPV6_SUBNET=2001:db8:165:1::1/64\n'
        'FLANNEL_MTU=1430\nFLANNEL_IPMASQ=true\n')
    assert not (conf / 'link.batch').exists() and (conf / 'link-v6.batch').exists()
    assert 'flannel.1' not in read(conf / 'flannel.batch') + read(conf / 'fdb.batch')
    # No IPv4 VXLAN port to guard; the IPv6 one is accepted from the peer only.
    assert 'CROSSHOST-VXLAN' not in in_netns(node1, 'iptables', '-S').stdout and not (conf / 'iptables.rules').exists()
    assert '-A CROSSHOST-VXLAN -s 2001:db8:65::12/128 -j ACCEPT' in in_netns(node1, 'ip6tables', '-S', 'CROSSHOST-VXLAN').stdout

    # A reboot loses the device: the replay command makes it again from the boot files.
    in_netns(node1, 'ip', 'link', 'del', 'flannel-v6.1')
    replay = in_netns(node1, str(tmp_path / 'node1' / 'sbin' / 'crosshost-flannel-restore'), 'overlay')
    assert replay.returncode == 0, replay.stderr
    assert in_netns(node1, 'ip', 'link', 'show', 'flannel.1').returncode != 0
    assert echo(node1, node2, '2001:db8:165:1::1', '2001:db8:165:2::1') == 64


def test_ipv6_only_etcd_leases_are_flannels(tmp_path, etcd):
    """The vxlan backend's IPv6-only config and leases in etcd: EnableIPv4 false, keys 0.0.0.0-0&<IPv6 subnet>."""
    for host in ('node1', 'node2'):
        variables = v6_only_vars(tmp_path, host, flannel_backend='vxlan', flannel_etcd=True, flannel_etcd_endpoints=[etcd.endpoint])
        run_playbook(tmp_path, play([include('leases_etcd.yml')], **variables))
    config = json.loads(etcd.etcdctl('get', '/coreos.com/network/config', '--print-value-only').strip())
    assert config == {'EnableIPv4': False, 'EnableIPv6': True, 'IPv6Network': '2001:db8:165::/48', 'IPv6SubnetLen': 64,
                      'Backend': {'Type': 'vxlan', 'VNI': 1}}
    out = etcd.etcdctl('get', '--prefix', '/coreos.com/network/subnets').splitlines()
    assert out[0::2] == ['/coreos.com/network/subnets/0.0.0.0-0&2001:db8:165:1::-64',
                         '/coreos.com/network/subnets/0.0.0.0-0&2001:db8:165:2::-64']
    first = json.loads(out[1])
    assert list(first) == ['PublicIP', 'PublicIPv6', 'BackendType', 'BackendV6Data']
    assert (first['PublicIP'], first['PublicIPv6'], first['BackendV6Data']['VNI']) == ('0.0.0.0', '2001:db8:65::11', 1)
    # A second run keeps each host's lease (found by its PublicIPv6): nothing changes.
    variables = v6_only_vars(tmp_path, 'node2', flannel_backend='vxlan', flannel_etcd=True, flannel_etcd_endpoints=[etcd.endpoint])
    run_playbook(tmp_path, play([include('leases_etcd.yml')], **variables))
    assert etcd.etcdctl('get', '--prefix', '/coreos.com/network/subnets').splitlines() == out


def test_flanneld_refuses_an_ipv6_only_cluster(tmp_path):
    variables = v6_only_vars(tmp_path, 'node1', flannel_backend='flanneld')
    out = run_playbook(tmp_path, play([include('present.yml')], **variables), rc=2)
    assert 'the flanneld backend cannot run an IPv6-only cluster' in out
