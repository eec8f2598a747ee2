"""The collection tarball holds what users run, and nothing by accident.

Builds (``ansible-galaxy collection build``) a copy of this working tree, with stray
files of the kinds that used to leak added to it, and checks the tarball's file list
against galaxy.yml's allow-list manifest.
"""

import os
import pathlib
import shutil
import subprocess
import sys
import tarfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
GALAXY = pathlib.Path(sys.executable).parent / 'ansible-galaxy'

# Untracked files a working tree gathers; none may be shipped.
STRAYS = [
    'molecule/default/.molecule/state.yml',
    'inventory/lab/.crosshost_allocations.yml',
    'inventory/lab/.crosshost-report.html',
    'tests/output/molecule/default.log',
    '.cache/lab/inventory-5/hosts.yml',
    'notes.txt',
    'benchmarks/results.json',
    'plugins/modules/ip_route.py.orig',
    'roles/bridge/tasks/main.yml~',
    'playbooks/site.retry',
    'plugins/modules/__pycache__/ip_route.cpython-312.pyc',
    'crosshost-network-0.0.1.tar.gz',
]


def _tracked():
    out = subprocess.run(['git', 'ls-files', '-z'], cwd=ROOT, check=True, capture_output=True).stdout
    return sorted(path for path in out.decode().split('\0') if path and (ROOT / path).is_file())


@pytest.fixture(scope='module')
def shipped(tmp_path_factory):
    """Paths of the files in a tarball built from a copy of the tree plus STRAYS."""
    work = tmp_path_factory.mktemp('build')
    tree = work / 'ansible_collections' / 'crosshost' / 'network'
    # The working tree as it is (tracked and untracked files), less what cannot be copied.
    shutil.copytree(ROOT, tree, symlinks=True, ignore=shutil.ignore_patterns('.git', '.venv', '.cache', '.pytest_cache'))
    for stray in STRAYS:
        path = tree / stray
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('stray\n')
    out = work / 'out'
    result = subprocess.run([str(GALAXY), 'collection', 'build', '--output-path', str(out), str(tree)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    tarballs = list(out.glob('crosshost-network-*.tar.gz'))
    assert len(tarballs) == 1, tarballs
    with tarfile.open(tarballs[0]) as tar:
        return {member.name: member for member in tar.getmembers() if member.isfile()}


def _user_content():
    """What users run and read, from the tracked files."""
    wanted = {'README.md', 'COPYING', 'meta/runtime.yml', 'changelogs/changelog.yaml', 'changelogs/config.yaml'}
    for path in _tracked():
        top = path.split('/')[0]
        if top in ('plugins', 'roles', 'docs', 'inventory') or path.startswith('playbooks/'):
            wanted.add(path)
    return wanted


def test_everything_users_run_is_shipped(shipped):
    missing = sorted(_user_content() - set(shipped) - {'.gitignore'})
    assert not missing, 'not in the tarball: %s' % missing
    for must in ('plugins/modules/ip_route.py', 'plugins/filter/report.py', 'roles/bridge/README.md',
                 'playbooks/site.yml', 'playbooks/verify.yml', 'playbooks/lab/create.yml', 'inventory/lab/hosts.yml'):
        assert must in shipped


def test_nothing_else_is_shipped(shipped):
    # Every file is tracked user content (MANIFEST.json and FILES.json are the build's own).
    extra = sorted(set(shipped) - _user_content() - {'MANIFEST.json', 'FILES.json'})
    assert not extra, 'shipped but not tracked user content (a stray file? commit or remove it): %s' % extra
    for path in shipped:
        assert not path.startswith(('tests/', 'molecule/', 'benchmarks/', '.')), path
        assert not any(part.startswith('.') for part in path.split('/')), path
    for name in ('Makefile', 'requirements.txt', 'pytest.ini', 'galaxy.yml'):
        assert name not in shipped


def test_strays_are_not_shipped(shipped):
    assert not set(STRAYS) & set(shipped)


def test_lab_scripts_stay_executable(shipped):
    for path in ('playbooks/lab/demo.sh', 'playbooks/lab/build-images.sh'):
        assert shipped[path].mode & 0o111, path


def test_install_from_tarball_and_git(tmp_path):
    """README's two ways in: a requirements.yml naming the tarball, and git+file of this checkout."""
    out = tmp_path / 'out'
    subprocess.run([str(GALAXY), 'collection', 'build', '--output-path', str(out), str(ROOT)],
                   capture_output=True, text=True, check=True)
    tarball = next(out.glob('crosshost-network-*.tar.gz'))
    (tmp_path / 'requirements.yml').write_text('---\ncollections:\n  - name: %s\n    type: file\n' % tarball)
    head = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    sources = {
        'tarball': ['-r', str(tmp_path / 'requirements.yml')],
        'git': ['git+file://%s,%s' % (ROOT, head)],
    }
    for name, args in sources.items():
        target = tmp_path / name
        # Only the target counts: the Makefile's collections path already has this checkout.
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(target))
        proc = subprocess.run([str(GALAXY), 'collection', 'install', '-p', str(target), *args],
                              env=env, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        installed = target / 'ansible_collections' / 'crosshost' / 'network'
        assert (installed / 'MANIFEST.json').is_file() and (installed / 'playbooks' / 'site.yml').is_file(), name
        assert not (installed / 'tests').exists() and not (installed / 'molecule').exists(), name
