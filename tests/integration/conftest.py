"""Fixtures for running our modules for real, through Ansible, in throwaway namespaces.

Everything created here is named ``xh-...`` and removed after the test, pass or fail.
"""

import json
import os
import subprocess
import sys
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def collections_path():
    """A folder in which this checkout is ansible_collections/crosshost/network."""
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
    # The ansible commands of the venv that runs pytest, even when it is not activated.
    env['PATH'] = os.path.dirname(sys.executable) + os.pathsep + env.get('PATH', '')
    env.update(
        ANSIBLE_COLLECTIONS_PATH=collections_path(),
        ANSIBLE_STDOUT_CALLBACK='ansible.builtin.json',
        ANSIBLE_LOAD_CALLBACK_PLUGINS='1',
        ANSIBLE_HOST_KEY_CHECKING='False',
        ANSIBLE_RETRY_FILES_ENABLED='False',
        ANSIBLE_PYTHON_INTERPRETER='auto_silent',
        ANSIBLE_LOCALHOST_WARNING='False',
        ANSIBLE_INVENTORY_UNPARSED_WARNING='False',
    )
    return env


def run_module(module, args, check=False, diff=False):
    """Run ``crosshost.network.<module>`` on localhost; return its result dict."""
    name = module if '.' in module else 'crosshost.network.' + module
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible'), 'localhost', '-m', name, '-a', json.dumps(args)]
    if check:
        cmd.append('--check')
    if diff:
        cmd.append('--diff')
    env = ansible_env()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    try:
        output = json.loads(proc.stdout)
        return output['plays'][0]['tasks'][0]['hosts']['localhost']
    except (ValueError, KeyError, IndexError):
        raise AssertionError('ansible failed to run %s (rc=%d):\n%s\n%s' % (name, proc.returncode, proc.stdout, proc.stderr))


def sh(*argv, check=True):
    """Run a command of the test itself (setting up fixtures, reading state)."""
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, check=check).stdout


def ip_json(netns, *args):
    out = sh('ip', '-n', netns, '-json', *args)
    return json.loads(out) if out.strip() else []


@pytest.fixture
def netns():
    """A fresh network namespace named xh-<random>, with lo up; always deleted."""
    name = 'xh-' + uuid.uuid4().hex[:8]
    sh('ip', 'netns', 'add', name)
    try:
        sh('ip', '-n', name, 'link', 'set', 'lo', 'up')
        yield name
    finally:
        sh('ip', 'netns', 'del', name, check=False)


@pytest.fixture(autouse=True)
def _needs_root():
    if os.geteuid() != 0:
        pytest.skip('integration tests need root (network namespaces)')
