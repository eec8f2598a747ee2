"""The pipework role's check of the whole inventory's attachments (validate.yml), through ansible-playbook.

A host that became unreachable earlier in the play never noted its attachments
(pipework_declared): its inventory value is checked instead, so an address it
declares twice with another host is still refused before any host changes.
"""

import os
import subprocess
import sys

import yaml

from conftest import ansible_env

UNREACHABLE = {'ansible_connection': 'ssh', 'ansible_host': '127.0.0.1', 'ansible_port': 9, 'ansible_ssh_timeout': 5}
PLAY = [{
    'name': 'Reach the hosts, then check the attachments',
    'hosts': 'all',
    'gather_facts': False,
    'tasks': [
        {'name': 'Reach the host', 'ansible.builtin.ping': {}},
        {'name': 'Check the attachments', 'ansible.builtin.include_role': {'name': 'crosshost.network.pipework',
                                                                           'tasks_from': 'validate.yml'}},
    ],
}]


def test_unreachable_host_s_attachments_are_checked_from_the_inventory(tmp_path):
    attachment = {'container': 'web', 'address': '198.18.50.20/24', 'host_interface': 'bri0'}
    inventory = {'all': {'hosts': {
        'h1': {'ansible_connection': 'local', 'pipework_attachments': [attachment]},
        'h2': dict(UNREACHABLE, pipework_attachments=[dict(attachment, container='db')]),
    }}}
    (tmp_path / 'hosts.yml').write_text(yaml.safe_dump(inventory))
    (tmp_path / 'play.yml').write_text(yaml.safe_dump(PLAY))
    env = dict(ansible_env(), ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'hosts.yml', 'play.yml'],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode != 0
    assert ('LAN address 198.18.50.20 is declared more than once: host h1 attachment web (198.18.50.20/24), '
            'host h2 attachment db (198.18.50.20/24)') in proc.stdout, proc.stdout[-4000:]
