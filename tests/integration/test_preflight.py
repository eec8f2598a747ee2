"""The preflight role through ansible-playbook, on inventories of hosts with ``ansible_connection: local``.

Nothing on the machine is changed: the role only gathers facts and computes the plan on
the controller. Each inventory is copied into a temporary folder, so the allocations
file it writes lands there. Bad inventories live in preflight/inventories/bad_*.yml,
each with the message it must fail with (``xh_expect``; a list: all in one failure).
"""

import glob
import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(HERE, 'preflight')
PLAYBOOK = os.path.join(FIXTURES, 'playbook.yml')
ALLOCATIONS = '.crosshost_allocations.yml'
BAD = sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(FIXTURES, 'inventories', 'bad_*.yml')))
ENTRY_KEYS = {'subnet', 'gateway', 'bip', 'prefixlen', 'underlay_ip', 'underlay_interface', 'underlay_mtu', 'vtep_mac', 'network',
              'in_run', 'reachable', 'subnet_v6', 'gateway_v6', 'bip_v6', 'underlay_ip6'}


def _env():
    env = dict(os.environ)
    env['PATH'] = os.path.dirname(sys.executable) + os.pathsep + env.get('PATH', '')
    collections = env.get('ANSIBLE_COLLECTIONS_PATH')
    if not collections:
        # Same layout as the Makefile: .cache/collections/ansible_collections/crosshost/network -> checkout
        collections = os.path.join(ROOT, '.cache', 'collections')
        link = os.path.join(collections, 'ansible_collections', 'crosshost', 'network')
        if not os.path.lexists(link):
            os.makedirs(os.path.dirname(link), exist_ok=True)
            os.symlink(ROOT, link)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=collections,
        ANSIBLE_STDOUT_CALLBACK='ansible.builtin.json',
        ANSIBLE_LOAD_CALLBACK_PLUGINS='1',
        ANSIBLE_RETRY_FILES_ENABLED='False',
        # Targets run Debian's python3 (discovery may pick a broken shim on dev machines).
        ANSIBLE_PYTHON_INTERPRETER='/usr/bin/python3' if os.path.exists('/usr/bin/python3') else sys.executable,
        ANSIBLE_LOCALHOST_WARNING='False',
        ANSIBLE_NOCOLOR='1',
    )
    return env


class Run:
    """One ansible-playbook run: rc, parsed JSON output, and helpers over it."""

    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        try:
            self.data = json.loads(proc.stdout[proc.stdout.index('{'):])
        except ValueError:
            raise AssertionError('ansible-playbook printed no JSON (rc=%d):\n%s\n%s' % (self.rc, proc.stdout, proc.stderr))

    def __repr__(self):
        return 'rc=%d\n%s\n%s' % (self.rc, self.stdout[-6000:], self.stderr[-3000:])

    def tasks(self, name):
        return [t for play in self.data['plays'] for t in play['tasks'] if t['task']['name'].endswith(name)]

    def results(self, name):
        """{host: result} of the task whose name ends with ``name``."""
        tasks = self.tasks(name)
        return tasks[0]['hosts'] if tasks else {}

    def report(self):
        return dict((host, result['msg']) for host, result in self.results('Report what preflight set').items())

    def failures(self):
        return [r.get('msg', '') for play in self.data['plays'] for t in play['tasks'] for r in t['hosts'].values()
                if r.get('failed') or r.get('unreachable')]


def inventory_dir(tmp_path, name):
    folder = tmp_path / 'inventory'
    folder.mkdir(exist_ok=True)
    shutil.copy(os.path.join(FIXTURES, 'inventories', name + '.yml'), folder / 'hosts.yml')
    return folder


def write_inventory(folder, data):
    with open(folder / 'hosts.yml', 'w') as handle:
        yaml.safe_dump(data, handle)


def read_inventory(folder):
    with open(folder / 'hosts.yml') as handle:
        return yaml.safe_load(handle)


def playbook(folder, *args):
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', str(folder / 'hosts.yml'), PLAYBOOK] + list(args)
    proc = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=300, check=False, cwd=str(folder))
    return Run(proc)


def allocations(folder):
    with open(folder / ALLOCATIONS) as handle:
        return yaml.safe_load(handle)


def subnets_of(run):
    return dict((host, entry['subnet']) for host, entry in next(iter(run.report().values()))['plan'].items())


def test_good_inventory(tmp_path):
    folder = inventory_dir(tmp_path, 'good')

    # Check mode: the plan is computed and published, but no file is written.
    run = playbook(folder, '--check')
    assert run.rc == 0, run
    assert subnets_of(run) == {'h1': '100.64.1.0/24', 'h2': '100.64.2.0/24', 'h3': '100.64.9.0/24'}
    assert not (folder / ALLOCATIONS).exists()

    # Real run: every host gets the whole plan and its own entry; the file is written.
    run = playbook(folder, '--diff')
    assert run.rc == 0, run
    report = run.report()
    assert sorted(report) == ['h1', 'h2', 'h3']
    plan = report['h1']['plan']
    for host, facts in report.items():
        assert facts['plan'] == plan
        assert facts['host'] == plan[host]
        assert facts['network'] == '100.64.0.0/16'
        assert set(facts['host']) == ENTRY_KEYS
        assert facts['cluster']['hosts'] == ['h1', 'h2', 'h3']
        assert facts['cluster']['subnet_len'] == 24
        assert (facts['cluster']['subnet_min'], facts['cluster']['subnet_max']) == ('100.64.1.0', '100.64.255.0')
    assert plan['h2']['subnet'] == '100.64.2.0/24'
    assert plan['h2']['gateway'] == '100.64.2.1'
    assert plan['h2']['bip'] == '100.64.2.1/24'
    assert plan['h2']['prefixlen'] == 24
    assert plan['h2']['underlay_ip'] == '198.18.0.12'
    assert plan['h3']['subnet'] == '100.64.9.0/24'
    # 198.18.0.1x is on no interface here: the default-route interface (gathered) is used.
    assert plan['h1']['underlay_interface'] and plan['h1']['underlay_interface'] == plan['h2']['underlay_interface']
    assert isinstance(plan['h1']['underlay_mtu'], int)
    assert len(set(entry['vtep_mac'] for entry in plan.values())) == 3
    assert all(entry['vtep_mac'].startswith('02:') for entry in plan.values())
    assert allocations(folder) == {
        'network': '100.64.0.0/16', 'subnet_len': 24,
        'subnets': {'h1': '100.64.1.0/24', 'h2': '100.64.2.0/24', 'h3': '100.64.9.0/24'},
        'underlay': {'h1': '198.18.0.11', 'h2': '198.18.0.12', 'h3': '198.18.0.13'},
    }
    assert list(run.results('Keep the allocations beside the inventory').values())[0]['changed'] is True
    assert 'changed' not in [r.get('changed') for r in run.results('Report what preflight set').values()]

    # Second run: same plan, same MACs, the file is not rewritten.
    before = os.stat(folder / ALLOCATIONS).st_mtime_ns
    run = playbook(folder)
    assert run.rc == 0, run
    assert run.report()['h1']['plan'] == plan
    assert list(run.results('Keep the allocations beside the inventory').values())[0]['changed'] is False
    assert os.stat(folder / ALLOCATIONS).st_mtime_ns == before
    assert all(stats['changed'] == 0 for stats in run.data['stats'].values())

    # A host joins (sorting first): it gets the lowest FREE subnet, nobody moves.
    inventory = read_inventory(folder)
    inventory['all']['hosts']['a0'] = {'crosshost_underlay_ip': '198.18.0.10'}
    write_inventory(folder, inventory)
    run = playbook(folder)
    assert run.rc == 0, run
    assert subnets_of(run) == {'a0': '100.64.3.0/24', 'h1': '100.64.1.0/24', 'h2': '100.64.2.0/24', 'h3': '100.64.9.0/24'}
    assert allocations(folder)['subnets']['a0'] == '100.64.3.0/24'

    # --limit: the plan still covers every host; the others keep their subnets (reserved)
    # and stay in the plan, outside the run, for the routes to them.
    kept = allocations(folder)
    run = playbook(folder, '--limit', 'h2')
    assert run.rc == 0, run
    assert subnets_of(run) == {'a0': '100.64.3.0/24', 'h1': '100.64.1.0/24', 'h2': '100.64.2.0/24', 'h3': '100.64.9.0/24'}
    report = run.report()['h2']
    assert [name for name, entry in sorted(report['plan'].items()) if entry['in_run']] == ['h2']
    assert report['cluster']['outside'] == ['a0', 'h1', 'h3']
    assert report['cluster']['reserved'] == {'a0': '100.64.3.0/24', 'h1': '100.64.1.0/24', 'h3': '100.64.9.0/24'}
    assert allocations(folder) == kept

    # A host leaves the inventory: it is dropped from the file, the others keep theirs.
    del inventory['all']['hosts']['h1']
    write_inventory(folder, inventory)
    run = playbook(folder)
    assert run.rc == 0, run
    assert subnets_of(run) == {'a0': '100.64.3.0/24', 'h2': '100.64.2.0/24', 'h3': '100.64.9.0/24'}
    assert allocations(folder)['subnets'] == {'a0': '100.64.3.0/24', 'h2': '100.64.2.0/24', 'h3': '100.64.9.0/24'}
    assert run.report()['h2']['plan']['h2'] == plan['h2']  # same MAC and addresses as before


def test_dual_stack_inventory(tmp_path):
    """The IPv6 inputs reach the plan through the role: entries, cluster values and the kept allocations."""
    folder = inventory_dir(tmp_path, 'good')
    inventory = read_inventory(folder)
    inventory['all']['vars']['crosshost_network_v6'] = '2001:db8:163::/48'
    for i, host in enumerate(['h1', 'h2', 'h3']):
        inventory['all']['hosts'][host]['crosshost_underlay_ip6'] = '2001:db8:63::1%d' % (i + 1)
    inventory['all']['hosts']['h3']['crosshost_subnet_v6'] = '2001:db8:163:9::/64'
    write_inventory(folder, inventory)
    run = playbook(folder)
    assert run.rc == 0, run
    report = run.report()['h2']
    assert (report['host']['subnet_v6'], report['host']['bip_v6'], report['host']['underlay_ip6']) == \
        ('2001:db8:163:2::/64', '2001:db8:163:2::1/64', '2001:db8:63::12')
    assert (report['cluster']['network_v6'], report['cluster']['subnet_len_v6']) == ('2001:db8:163::/48', 64)
    kept = allocations(folder)
    assert kept['subnets_v6'] == {'h1': '2001:db8:163:1::/64', 'h2': '2001:db8:163:2::/64', 'h3': '2001:db8:163:9::/64'}
    assert kept['underlay_v6'] == {'h1': '2001:db8:63::11', 'h2': '2001:db8:63::12', 'h3': '2001:db8:63::13'}
    assert kept['subnets'] == {'h1': '100.64.1.0/24', 'h2': '100.64.2.0/24', 'h3': '100.64.9.0/24'}


def imported(folder, variables):
    """ansible-playbook on a site.yml that imports the test playbook with these vars."""
    site = folder / 'site.yml'
    site.write_text(yaml.safe_dump([{'name': 'Plan with variables of the playbook', 'ansible.builtin.import_playbook': PLAYBOOK,
                                     'vars': variables}]))
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', str(folder / 'hosts.yml'), str(site)]
    return Run(subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=300, check=False, cwd=str(folder)))


def test_play_and_import_playbook_variables_reach_the_plan(tmp_path):
    """The plan sees a variable as the host's tasks do (every level), not as hostvars has it (inventory only).

    The roles after the plan read these levels too: a plan that missed them would disagree
    with them silently.
    """
    folder = inventory_dir(tmp_path, 'good')
    # import_playbook vars override the inventory's network and h3's pin; a var templated
    # per host overrides the inventory's host variable, each host its own value.
    run = imported(folder, {'crosshost_network': '100.80.0.0/16', 'crosshost_subnet': '',
                            'crosshost_underlay_ip': "198.18.1.{{ 21 + groups['all'].index(inventory_hostname) }}"})
    assert run.rc == 0, run
    plan = run.report()['h2']['plan']
    assert dict((host, (entry['subnet'], entry['underlay_ip'])) for host, entry in plan.items()) == {
        'h1': ('100.80.1.0/24', '198.18.1.21'), 'h2': ('100.80.2.0/24', '198.18.1.22'), 'h3': ('100.80.3.0/24', '198.18.1.23')}
    assert allocations(folder)['network'] == '100.80.0.0/16'


def test_docker_leaves_the_lan_when_a_playbook_says_so(tmp_path):
    """molecule/pipework's teardown: pipework_docker_bridge false in an import_playbook's vars puts Docker back on docker0."""
    folder = tmp_path / 'inventory'
    folder.mkdir()
    facts = dict(FACTS, default_ipv4=dict(FACTS['default_ipv4'], gateway='198.18.0.1'))
    write_inventory(folder, {'all': {
        'hosts': {'h1': {'crosshost_underlay_ip': '198.18.0.11'}},
        'vars': dict(ansible_connection='local', crosshost_network='100.64.0.0/16', crosshost_backend='pipework',
                     pipework_uplink='eth0', pipework_docker_bridge=True, xh_fake_facts=facts)}})
    run = playbook(folder)
    assert run.rc == 0, run
    assert run.report()['h1']['lan']['bridge'] == 'bri0'
    run = imported(folder, {'pipework_docker_bridge': False})
    assert run.rc == 0, run
    assert run.report()['h1']['lan'] == {}


UNREACHABLE = {'ansible_connection': 'ssh', 'ansible_host': '127.0.0.1', 'ansible_port': 9, 'ansible_ssh_timeout': 5}


def test_unreachable_host_keeps_its_allocation_and_the_others_go_on(tmp_path):
    folder = inventory_dir(tmp_path, 'good')
    assert playbook(folder).rc == 0
    kept = allocations(folder)
    inventory = read_inventory(folder)
    inventory['all']['hosts']['h2'].update(UNREACHABLE)
    write_inventory(folder, inventory)
    run = playbook(folder)
    assert run.rc == 4, run  # ansible-playbook's code for "some host was unreachable"
    report = run.report()
    assert sorted(report) == ['h1', 'h3']
    plan = report['h1']['plan']
    assert sorted(plan) == ['h1', 'h2', 'h3']
    assert (plan['h2']['subnet'], plan['h2']['underlay_ip']) == ('100.64.2.0/24', '198.18.0.12')
    assert (plan['h2']['in_run'], plan['h2']['reachable']) == (False, False)
    assert 'Failed to connect to the host' in report['h1']['cluster']['not_reached']['h2']
    assert allocations(folder) == kept


def test_unreachable_host_never_planned_is_reported(tmp_path):
    folder = inventory_dir(tmp_path, 'good')
    inventory = read_inventory(folder)
    inventory['all']['hosts']['h2'].update(UNREACHABLE)
    write_inventory(folder, inventory)
    run = playbook(folder)
    assert run.rc == 4, run
    cluster = run.report()['h1']['cluster']
    assert sorted(run.report()['h1']['plan']) == ['h1', 'h3']
    assert cluster['unplanned'] == {'h2': 'no subnet kept for it in the allocations file (never planned)'}
    assert allocations(folder)['subnets'] == {'h1': '100.64.1.0/24', 'h3': '100.64.9.0/24'}


def test_allocations_file_elsewhere(tmp_path):
    folder = inventory_dir(tmp_path, 'good')
    inventory = read_inventory(folder)
    inventory['all']['vars']['crosshost_allocations_file'] = 'state/alloc.yml'
    (folder / 'state').mkdir()
    write_inventory(folder, inventory)
    run = playbook(folder)
    assert run.rc == 0, run
    assert not (folder / ALLOCATIONS).exists()
    with open(folder / 'state' / 'alloc.yml') as handle:
        assert yaml.safe_load(handle)['subnets']['h3'] == '100.64.9.0/24'


@pytest.mark.parametrize('name', BAD)
def test_bad_inventory(tmp_path, name):
    folder = inventory_dir(tmp_path, name)
    expect = read_inventory(folder)['all']['vars']['xh_expect']
    # A list: every message must be in one failure (all problems are reported together).
    expect = expect if isinstance(expect, list) else [expect]
    run = playbook(folder)
    assert run.rc != 0, run
    failures = run.failures()
    assert any(all(part in msg for part in expect) for msg in failures), \
        'expected %r in one failure:\n%s\n%r' % (expect, '\n'.join(failures), run)
    # Nothing after the plan ran on any host, and no allocations were kept.
    assert run.report() == {}
    assert not run.results('Keep the allocations beside the inventory')
    assert not (folder / ALLOCATIONS).exists()


# ---- the overlay's etcd, asked read only in the plan ----------------------------------
# Fake facts (as bad_host_states.yml): only the etcd answers are real here.
FACTS = {
    'default_ipv4': {'address': '198.18.0.11', 'interface': 'eth0', 'mtu': 1500},
    'interfaces': ['eth0'],
    'eth0': {'device': 'eth0', 'mtu': 1500, 'active': True, 'ipv4': {'address': '198.18.0.11', 'prefix': '24'}},
    'crosshost_network_facts': {'routes': []},
    'crosshost_kernel_support': {'vxlan': True, 'macvlan': True},
}


def overlay_inventory(folder, endpoints=None, **variables):
    """Two vxlan hosts (h1, h2) taking their leases from etcd at ``endpoints``."""
    data = {'all': {
        'hosts': {'h1': {'crosshost_underlay_ip': '198.18.0.11'}, 'h2': {'crosshost_underlay_ip': '198.18.0.12'}},
        'vars': dict(ansible_connection='local', crosshost_network='100.64.0.0/16', crosshost_backend='vxlan',
                     flannel_etcd=True, flannel_etcd_timeout=2, xh_fake_facts=FACTS, **variables)}}
    if endpoints is not None:
        data['all']['vars']['flannel_etcd_endpoints'] = endpoints
    write_inventory(folder, data)
    return data


def one_failure(run):
    assert run.rc != 0, run
    failures = [m for m in run.failures() if 'crosshost.network.cluster_plan' in m]
    assert len(failures) == 1, run
    assert run.report() == {} and not run.results('Keep the allocations beside the inventory'), run
    return failures[0]


def test_etcd_down_is_refused_in_the_plan_and_the_run_can_go_on_from_the_kept_allocations(tmp_path):
    from etcd_server import free_port
    folder = tmp_path / 'inventory'
    folder.mkdir()
    dead = 'http://127.0.0.1:%d' % free_port()
    inventory = overlay_inventory(folder, [dead])
    inventory['all']['hosts']['h2']['crosshost_subnet'] = '100.64.2.7/24'  # another problem, in the same failure
    write_inventory(folder, inventory)
    msg = one_failure(playbook(folder))
    assert '3 problems, nothing was changed on any host' in msg, msg
    for name in ('h1', 'h2'):
        assert 'host %s: etcd does not answer at %s (etcd unreachable at %s' % (name, dead, dead) in msg
    assert 'set crosshost_etcd_unavailable=use_allocations' in msg and '100.64.2.7/24' in msg
    assert not (folder / ALLOCATIONS).exists()

    # Asked for: the plan passes and says etcd is down (site.yml then runs the overlay from it).
    inventory = overlay_inventory(folder, [dead], crosshost_etcd_unavailable='use_allocations')
    run = playbook(folder)
    assert run.rc == 0, run
    assert run.report()['h1']['cluster']['etcd'] == {'state': 'down', 'endpoints': [dead]}
    assert allocations(folder)['subnets'] == {'h1': '100.64.1.0/24', 'h2': '100.64.2.0/24'}
    # (flanneld, which cannot run without etcd, is refused: tests/unit/test_checks.py)


def test_etcd_that_this_run_deploys_need_not_answer_yet(tmp_path):
    from etcd_server import free_port
    folder = tmp_path / 'inventory'
    folder.mkdir()
    inventory = overlay_inventory(folder)
    port = free_port()
    inventory['etcd'] = {'hosts': {'h1': {'etcd_listen_address': '127.0.0.1', 'etcd_client_port': port}}}
    write_inventory(folder, inventory)
    run = playbook(folder)
    assert run.rc == 0, run
    assert run.report()['h2']['cluster']['etcd'] == {'state': 'deployed', 'endpoints': ['http://127.0.0.1:%d' % port]}
    # Its member left out of the run: nothing deploys it, it must answer.
    msg = one_failure(playbook(folder, '--limit', 'h2'))
    assert 'failed: host h2: etcd does not answer at http://127.0.0.1:%d' % port in msg, msg


def test_etcd_config_must_fit_the_plan(tmp_path):
    from etcd_server import EtcdServer
    folder = tmp_path / 'inventory'
    folder.mkdir()
    with EtcdServer() as etcd:
        overlay_inventory(folder, [etcd.endpoint])
        # (no config yet, which this run would write: tests/unit/test_checks.py)
        etcd.etcdctl('put', '/coreos.com/network/config', '{"Network": "100.64.0.0/16", "SubnetLen": 24, "Backend": {"Type": "vxlan"}}')
        run = playbook(folder)
        assert run.rc == 0, run
        assert run.report()['h1']['cluster']['etcd'] == {'state': 'up', 'endpoints': [etcd.endpoint]}
        etcd.etcdctl('put', '/coreos.com/network/config', '{"Network": "100.80.0.0/12", "SubnetLen": 26, "Backend": {"Type": "udp"}}')
        msg = one_failure(playbook(folder))
    assert '3 problems, nothing was changed on any host' in msg, msg
    key = 'host h1: etcd at %s holds /coreos.com/network/config with ' % etcd.endpoint
    assert key + 'Network 100.80.0.0/12, but crosshost_network is 100.64.0.0/16 here' in msg
    assert key + 'SubnetLen 26, but crosshost_subnet_len is 24 here' in msg
    assert key + 'Backend.Type udp, but crosshost_backend is vxlan here' in msg
