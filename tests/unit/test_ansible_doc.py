"""``ansible-doc`` is clean for every module, filter and role of the collection.

One ``ansible-doc --json`` run per plugin type over all its names: any warning or error
on stderr fails, and so does a name without documentation (a role without an argument
spec for its ``main`` entry point, a filter without its YAML docs).
"""

import importlib
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
ANSIBLE_DOC = pathlib.Path(sys.executable).parent / 'ansible-doc'
# ansible-core's own internal collection has no version; nothing of ours.
CORE_NOISE = re.compile(r"Collection at '[^']*/ansible/_internal/ansible_collections/[^']*' does not have a MANIFEST\.json")


def _filters():
    names = []
    for path in sorted((ROOT / 'plugins' / 'filter').glob('*.py')):
        module = importlib.import_module('ansible_collections.crosshost.network.plugins.filter.' + path.stem)
        names.extend(module.FilterModule().filters())
    return sorted(names)


NAMES = {
    'module': sorted(path.stem for path in (ROOT / 'plugins' / 'modules').glob('*.py')),
    'filter': _filters(),
    'role': sorted(path.parent.parent.name for path in ROOT.glob('roles/*/meta/argument_specs.yml')),
}


def _doc(plugin_type, names):
    env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_DEPRECATION_WARNINGS='True')
    env.setdefault('ANSIBLE_COLLECTIONS_PATH', str(ROOT / '.cache' / 'collections'))  # as the Makefile sets it
    proc = subprocess.run([str(ANSIBLE_DOC), '-t', plugin_type, '--json'] + ['crosshost.network.' + n for n in names],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    problems = [line for line in proc.stderr.splitlines() if line.strip() and not CORE_NOISE.search(line)]
    return proc, problems


def test_every_role_has_an_argument_spec():
    roles = sorted(path.name for path in (ROOT / 'roles').iterdir() if path.is_dir())
    assert NAMES['role'] == roles


@pytest.mark.parametrize('plugin_type', sorted(NAMES))
def test_ansible_doc_is_clean(plugin_type):
    names = NAMES[plugin_type]
    assert names
    proc, problems = _doc(plugin_type, names)
    assert proc.returncode == 0 and not problems, '\n'.join(problems) or proc.stdout[-3000:]
    docs = json.loads(proc.stdout)
    assert sorted(docs) == sorted('crosshost.network.' + n for n in names)
    for name, doc in docs.items():
        if plugin_type == 'role':
            main = doc['entry_points']['main']
            assert main.get('short_description') and main.get('description'), name
        else:
            assert doc['doc'].get('short_description'), name
            assert doc['doc'].get('version_added'), name
            assert doc.get('examples'), name
            assert doc.get('return'), name
