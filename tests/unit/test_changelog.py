"""The changelog fragments are valid and announce everything new.

``antsibull-changelog lint`` must be clean, and a release made in a copy of the
collection must list every module, filter, role and user-facing playbook as new
(modules and filters are found through their docs' ``version_added``; roles and
playbooks only through ``add object.*`` fragment sections).
"""

import os
import pathlib
import shutil
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
TOOL = pathlib.Path(sys.executable).parent / 'antsibull-changelog'
VERSION = yaml.safe_load((ROOT / 'galaxy.yml').read_text())['version']


def _run(*args, cwd):
    # It runs ansible-doc: the venv's, even when the venv is not activated.
    env = dict(os.environ, PATH=str(TOOL.parent) + os.pathsep + os.environ.get('PATH', ''))
    proc = subprocess.run([str(TOOL), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def names(entries):
    return sorted(entry['name'] for entry in entries)


def test_fragments_lint_clean():
    proc = _run('lint', cwd=ROOT)
    assert proc.stdout.strip() == '', proc.stdout


def test_a_release_announces_everything(tmp_path):
    tree = tmp_path / 'ansible_collections' / 'crosshost' / 'network'
    tree.mkdir(parents=True)
    for name in ('galaxy.yml', 'meta', 'plugins', 'roles', 'playbooks', 'changelogs'):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tree / name)
    proc = _run('release', '--version', VERSION, '--date', '2026-12-01', cwd=tree)
    # e.g. "Ignore adding filter plugin ... from changelog fragment": a fragment out of step.
    assert 'WARNING Ignore' not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    release = yaml.safe_load((tree / 'changelogs' / 'changelog.yaml').read_text())['releases'][VERSION]
    assert names(release['modules']) == sorted(p.stem for p in (ROOT / 'plugins' / 'modules').glob('*.py'))
    assert names(release['plugins']['filter']) == sorted(p.stem for p in (ROOT / 'plugins' / 'filter').glob('*.yml'))
    assert names(release['objects']['role']) == sorted(p.name for p in (ROOT / 'roles').iterdir() if p.is_dir())
    playbooks = sorted(str(p.relative_to(ROOT / 'playbooks').with_suffix('')).replace('/', '.')
                       for pattern in ('*.yml', 'lab/*.yml') for p in (ROOT / 'playbooks').glob(pattern))
    assert names(release['objects']['playbook']) == playbooks
    assert (tree / 'CHANGELOG.rst').read_text().count('New Roles') == 1
