"""Every role has a README with a runnable example and an up-to-date Variables table,
and defaults/main.yml generated from its argument spec (literal defaults only).

The examples are syntax-checked together (one ansible-playbook run importing them all);
the preflight example runs for real on localhost (it only reads the machine's network
facts and writes the allocations file beside the test's inventory).
"""

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(path.name for path in (ROOT / 'roles').iterdir() if path.is_dir())
PLAYBOOK = pathlib.Path(sys.executable).parent / 'ansible-playbook'
EXAMPLE = re.compile(r'^## Example\n.*?^```yaml\n(.*?)^```', re.M | re.S)

sys.path.insert(0, str(ROOT / 'tests' / 'tools'))
import role_variables  # noqa: E402  pylint: disable=wrong-import-position


def _example(role):
    match = EXAMPLE.search((ROOT / 'roles' / role / 'README.md').read_text())
    assert match, 'roles/%s/README.md has no "## Example" section with a yaml block' % role
    return match.group(1)


def _env():
    env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_LOCALHOST_WARNING='False',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='False', ANSIBLE_RETRY_FILES_ENABLED='False')
    env.setdefault('ANSIBLE_COLLECTIONS_PATH', str(ROOT / '.cache' / 'collections'))  # as the Makefile sets it
    return env


@pytest.mark.parametrize('role', ROLES)
def test_readme_variables_match_the_argument_spec(role):
    readme = (ROOT / 'roles' / role / 'README.md').read_text()
    assert role_variables.render(ROOT / 'roles' / role) == readme, (
        'roles/%s/README.md: Variables table out of date, run .venv/bin/python tests/tools/role_variables.py' % role)


@pytest.mark.parametrize('role', ROLES)
def test_defaults_are_generated_from_the_argument_spec(role):
    defaults = (ROOT / 'roles' / role / 'defaults' / 'main.yml').read_text()
    assert role_variables.defaults(ROOT / 'roles' / role) == defaults, (
        'roles/%s/defaults/main.yml out of date, run .venv/bin/python tests/tools/role_variables.py' % role)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@pytest.mark.parametrize('role', ROLES)
def test_spec_defaults_are_literal(role):
    """A default that templates other variables breaks the role used alone (and the docs lint)."""
    options = role_variables.yaml.safe_load((ROOT / 'roles' / role / 'meta' / 'argument_specs.yml').read_text())[
        'argument_specs']['main'].get('options') or {}
    templated = sorted(name for name, option in options.items()
                       if any('{{' in text or '{%' in text for text in _strings(option.get('default'))))
    assert not templated, 'roles/%s/meta/argument_specs.yml: templated defaults %s' % (role, templated)


def test_examples_pass_syntax_check(tmp_path):
    imports = []
    for role in ROLES:
        (tmp_path / ('%s.yml' % role)).write_text(_example(role))
        imports.append({'name': 'Example of %s' % role, 'ansible.builtin.import_playbook': '%s.yml' % role})
    (tmp_path / 'all.yml').write_text(json.dumps(imports))
    (tmp_path / 'hosts.yml').write_text(json.dumps({'cluster': {'hosts': {'node1': {}, 'node2': {}}},
                                                    'etcd': {'hosts': {'node1': {}}}}))
    proc = subprocess.run([str(PLAYBOOK), '--syntax-check', '-i', str(tmp_path / 'hosts.yml'), str(tmp_path / 'all.yml')],
                          env=_env(), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '[WARNING]' not in proc.stderr, proc.stderr


def test_preflight_example_runs(tmp_path):
    (tmp_path / 'example.yml').write_text(_example('preflight'))
    (tmp_path / 'hosts.yml').write_text(json.dumps({'cluster': {
        'hosts': {'localhost': {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}},
        'vars': {'crosshost_network': '100.127.0.0/16'}}}))
    env = dict(_env(), ANSIBLE_STDOUT_CALLBACK='ansible.builtin.json', ANSIBLE_LOAD_CALLBACK_PLUGINS='1')
    proc = subprocess.run([str(PLAYBOOK), '-i', str(tmp_path / 'hosts.yml'), str(tmp_path / 'example.yml')],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr
    tasks = json.loads(proc.stdout)['plays'][0]['tasks']
    message = tasks[-1]['hosts']['localhost']['msg']
    assert message.startswith('localhost: subnet 100.127.1.0/24, bridge 100.127.1.1/24, underlay '), message
    assert (tmp_path / '.crosshost_allocations.yml').exists()
