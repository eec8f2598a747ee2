"""inventory/example (the SSH example for real hosts) works as shipped on lab hosts.

A copy of inventory/example gets only the lab's addresses and login user in place of
its placeholders; the lab's key and known_hosts come in a second inventory file (as a
user's ssh config or agent would provide them). site.yml then verify.yml run with it,
over SSH with become. Own lab: ``crosshost-h8-example-*``, underlay 198.18.101.0/24.
"""

import os
import re
import shutil

import pytest
import yaml

from labdriver import ROOT, Lab, destroy_lab, recap, run_playbook, ssh_vars

LAB_NAME = 'crosshost-h8-example'
LAB_SUBNET = '198.18.101.0/24'


@pytest.fixture(scope='module')
def example_lab():
    if not shutil.which('docker'):
        if os.environ.get('CI') == 'true':
            pytest.fail('docker is not installed')
        pytest.skip('docker is not installed')
    try:
        run_playbook('playbooks/lab/create.yml', '-e', 'crosshost_lab_name=%s' % LAB_NAME,
                     '-e', 'crosshost_lab_subnet=%s' % LAB_SUBNET, '-e', 'crosshost_lab_hosts=3')
        yield Lab('/nonexistent', LAB_NAME, 3, LAB_SUBNET)
    finally:
        if os.environ.get('CROSSHOST_LABTEST_KEEP') != '1':
            destroy_lab(LAB_NAME)


def example_copy(lab, folder):
    """inventory/example in FOLDER with the lab's addresses and user; returns the inventory arguments."""
    shutil.copytree(os.path.join(ROOT, 'inventory', 'example'), str(folder / 'example'))
    hosts_file = folder / 'example' / 'hosts.yml'
    text = hosts_file.read_text()
    shipped = yaml.safe_load(text)['cluster']['hosts']
    login = ssh_vars(lab.name)
    for host, node in zip(sorted(shipped), lab.hosts):
        text, count = re.subn(r'(?m)^(\s+ansible_host: )%s$' % re.escape(shipped[host]['ansible_host']),
                              r'\g<1>' + lab.address(node), text)
        assert count == 1, host
    text, count = re.subn(r'(?m)^(\s+ansible_user: )\S+$', r'\g<1>' + login['ansible_user'], text)
    assert count == 1
    hosts_file.write_text(text)
    connection = {'cluster': {'vars': dict((key, login[key]) for key in
                                           ('ansible_ssh_private_key_file', 'ansible_ssh_common_args'))}}
    (folder / 'connection.yml').write_text(yaml.safe_dump(connection))
    return ['-i', str(folder / 'example'), '-i', str(folder / 'connection.yml')]


def test_example_inventory_configures_and_verifies_the_cluster(example_lab, tmp_path):
    inventory = example_copy(example_lab, tmp_path)
    output = run_playbook('playbooks/site.yml', *inventory)[1]
    counts = recap(output)
    assert sorted(counts) == ['host1', 'host2', 'host3'], output[-3000:]
    assert all(c['failed'] == 0 and c['unreachable'] == 0 for c in counts.values()), output[-3000:]

    output = run_playbook('playbooks/verify.yml', *inventory)[1]
    assert 'all 3 hosts\' containers reach each other' in output, output[-3000:]
    assert 'MISS' not in output
