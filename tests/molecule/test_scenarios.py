"""Run every Molecule scenario (molecule/<name>/molecule.yml) as one pytest case.

Each case runs ``molecule test -s <name>`` from the collection root with the
venv's tools first on PATH and ANSIBLE_COLLECTIONS_PATH pointing at a folder
where this checkout is ansible_collections/crosshost/network. The full output
goes to tests/output/molecule/<name>.log; a failure shows its tail.
"""

import os
import pathlib
import signal
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCENARIOS = sorted(path.parent.name for path in ROOT.glob('molecule/*/molecule.yml'))
LOG_DIR = ROOT / 'tests' / 'output' / 'molecule'
TAIL_LINES = 150
# One scenario builds and configures a small docker-in-docker cluster twice
# (converge + idempotence): generous, but bounded so CI cannot hang.
TIMEOUT = int(os.environ.get('MOLECULE_TIMEOUT', '2400'))


def _collections_path():
    """ANSIBLE_COLLECTIONS_PATH as set by the Makefile, else the same .cache link."""
    if os.environ.get('ANSIBLE_COLLECTIONS_PATH'):
        return os.environ['ANSIBLE_COLLECTIONS_PATH']
    parent = ROOT / '.cache' / 'collections'
    link = parent / 'ansible_collections' / 'crosshost' / 'network'
    if not os.path.lexists(link):
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(ROOT)
    return str(parent)


def _env():
    env = dict(os.environ)
    # molecule calls ansible-playbook/ansible-config by name: use the venv running pytest.
    env['PATH'] = os.path.dirname(sys.executable) + os.pathsep + env.get('PATH', '')
    env.update(
        ANSIBLE_COLLECTIONS_PATH=_collections_path(),
        ANSIBLE_NOCOLOR='1',
        ANSIBLE_FORCE_COLOR='0',
        PY_COLORS='0',
        NO_COLOR='1',
    )
    return env


def _molecule(*args, log, timeout):
    """Run ``python -m molecule ARGS`` in its own process group; return its exit status."""
    with subprocess.Popen(
        [sys.executable, '-m', 'molecule', *args],
        cwd=ROOT, env=_env(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    ) as proc:
        try:
            return proc.wait(timeout=timeout)
        except BaseException:
            # Timeout or Ctrl-C: stop molecule and the ansible processes it started.
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            raise


def _tail(path):
    lines = path.read_text(errors='replace').splitlines()
    return '\n'.join(lines[-TAIL_LINES:])


@pytest.mark.parametrize(
    'scenario',
    SCENARIOS or [pytest.param(None, marks=pytest.mark.skip(reason='no molecule scenarios yet (molecule/*/molecule.yml)'))],
)
def test_scenario(scenario):
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / f'{scenario}.log'
    with log_path.open('w') as log:
        try:
            rc = _molecule('test', '-s', scenario, log=log, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            # `molecule test` destroys on failure, but not when it was killed.
            rc = None
            log.write('\n--- crosshost: molecule destroy after the timeout ---\n')
            log.flush()
            _molecule('destroy', '-s', scenario, log=log, timeout=600)
    if rc is None:
        pytest.fail(f'molecule test -s {scenario} timed out after {TIMEOUT}s; log: {log_path}\n{_tail(log_path)}')
    if rc != 0:
        pytest.fail(f'molecule test -s {scenario} failed (rc={rc}); log: {log_path}\n{_tail(log_path)}')
