"""module_defaults with the collection's action groups (meta/runtime.yml), for real.

``group/crosshost.network.target`` sets ``netns`` once for every module acting in a
network namespace; ``group/crosshost.network.etcd`` sets ``endpoints`` once for the
etcd modules. The tasks name neither, and everything lands where the defaults say.
"""

import json
import os
import subprocess
import sys

import yaml

from conftest import ansible_env, ip_json, sh
from etcd_server import etcd, etcd_server  # noqa: F401  pylint: disable=unused-import

RUNTIME = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'meta', 'runtime.yml')


def _groups():
    with open(RUNTIME) as f:
        return yaml.safe_load(f)['action_groups']


# A group holds exactly the modules that take its defining option, so that every
# option a group's defaults set is accepted by every member, and no module is forgotten.
GROUP_OPTION = {'target': 'netns', 'etcd': 'endpoints'}


def _module_options(modules):
    """Module -> its option names (DOCUMENTATION and doc fragments), from one ansible-doc run."""
    env = ansible_env()
    env.pop('ANSIBLE_STDOUT_CALLBACK', None)
    out = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-doc'), '--json']
                         + ['crosshost.network.' + module for module in modules],
                         env=env, capture_output=True, text=True, check=True).stdout
    docs = json.loads(out)
    return {module: set(docs['crosshost.network.' + module]['doc']['options']) for module in modules}


def test_every_module_is_in_the_groups_of_its_options():
    modules_dir = os.path.join(os.path.dirname(RUNTIME), '..', 'plugins', 'modules')
    modules = sorted(name[:-3] for name in os.listdir(modules_dir) if name.endswith('.py'))
    options = _module_options(modules)
    groups = _groups()
    assert sorted(groups) == sorted(GROUP_OPTION)
    for group, option in GROUP_OPTION.items():
        takes_it = [module for module in modules if option in options[module]]
        assert sorted(groups[group]) == takes_it, group


def test_module_defaults_by_group(tmp_path, netns, etcd):  # noqa: F811  pylint: disable=redefined-outer-name
    playbook = tmp_path / 'play.yml'
    playbook.write_text(yaml.safe_dump([{
        'name': 'module_defaults by group',
        'hosts': 'localhost',
        'connection': 'local',
        'gather_facts': False,
        'module_defaults': {
            'group/crosshost.network.target': {'netns': netns},
            'group/crosshost.network.etcd': {'endpoints': [etcd.endpoint]},
        },
        'tasks': [
            {'name': 'bridge', 'crosshost.network.ip_link': {'name': 'xh-br0', 'kind': 'bridge', 'admin_state': 'up'}},
            {'name': 'address', 'crosshost.network.ip_address': {'dev': 'xh-br0', 'addresses': ['198.18.140.1/24']}},
            {'name': 'route', 'crosshost.network.ip_route': {'routes': [{'dst': '100.64.9.0/24', 'via': '198.18.140.2', 'dev': 'xh-br0', 'onlink': True}]}},
            {'name': 'facts', 'crosshost.network.network_facts': {'gather_subset': ['interfaces', 'routes']}},
            {'name': 'config', 'crosshost.network.flannel_network_config': {'network': '100.64.0.0/16'}},
        ],
    }]))
    env = ansible_env()
    env['ANSIBLE_INVENTORY_UNPARSED_WARNING'] = 'False'
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), str(playbook)],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    results = {task['task']['name']: task['hosts']['localhost'] for task in json.loads(proc.stdout)['plays'][0]['tasks']}
    assert all(result['changed'] for name, result in results.items() if name != 'facts'), results
    # The kernel state is in the namespace the group's defaults named, not on the host.
    assert [link['ifname'] for link in ip_json(netns, 'link', 'show', 'xh-br0')] == ['xh-br0']
    assert 'xh-br0' not in sh('ip', '-o', 'link', 'show')
    assert [r['dst'] for r in ip_json(netns, 'route', 'show', 'proto', '147')] == ['100.64.9.0/24']
    facts = results['facts']
    assert facts['namespace']['target'] == 'netns %s' % netns
    assert '198.18.140.1' in [a['address'] for a in facts['interfaces']['xh-br0']['addresses']]
    # The etcd module wrote to the endpoint of the group's defaults.
    assert json.loads(etcd.etcdctl('get', '--print-value-only', '/coreos.com/network/config'))['Network'] == '100.64.0.0/16'
