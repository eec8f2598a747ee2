#!/usr/bin/env bash
# Run `ansible-test sanity` on this collection.
#
# ansible-test only works from a directory shaped
# .../ansible_collections/<namespace>/<name>, so the collection is copied into
# <tmp>/ansible_collections/crosshost/network first (tracked + untracked files
# that .gitignore does not exclude, or a fixed exclude list without git), and
# ansible-test runs there with --venv (it builds its own per-test venvs from PyPI
# under ~/.ansible/test/venv, reused on later runs).
#
# Usage: tests/run-sanity.sh [extra ansible-test sanity args, e.g. --test pep8]
# Environment:
#   VENV              venv holding ansible-test (default: <collection>/.venv)
#   SANITY_PYTHON     Python version to test with (default: the venv's version)
#   SANITY_KEEP=1     keep the temporary copy (its path is printed)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${VENV:-$root/.venv}
python=$venv/bin/python
if [[ ! -x $python || ! -x $venv/bin/ansible-test ]]; then
  echo "run-sanity: no ansible-test in $venv (run 'make deps' first)" >&2
  exit 2
fi
export PATH="$venv/bin:$PATH"
pyver=${SANITY_PYTHON:-$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')}

# ansible-test bootstraps pip in each fresh venv with a get-pip.py downloaded
# from ci-files.testing.ansible.com, which we cannot reach. It first looks in
# ~/.ansible/test/cache/get_pip_<version>.py: put a stand-in there that
# bootstraps pip with the stdlib's ensurepip and then installs the requested
# pip version (and anything else it was asked for) from the normal index.
pip_version=$("$python" - <<'EOF'
from ansible_test._internal.python_requirements import get_venv_packages


class _Python:  # only .version is read
    version = ''


print(get_venv_packages(_Python())['pip'])
EOF
)
get_pip=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
if [[ ! -s $get_pip ]]; then
  mkdir -p "$(dirname "$get_pip")"
  cat >"$get_pip" <<'EOF'
"""Stand-in for get-pip.py (written by crosshost.network tests/run-sanity.sh): ensurepip, then pip install."""
import subprocess
import sys

# get-pip.py options pip itself does not know
_GET_PIP_ONLY = ('--no-setuptools', '--no-wheel')

subprocess.check_call([sys.executable, '-m', 'ensurepip', '--default-pip'])
subprocess.check_call([sys.executable, '-m', 'pip', 'install'] + [a for a in sys.argv[1:] if a not in _GET_PIP_ONLY])
EOF
  echo "run-sanity: wrote get-pip stand-in $get_pip"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/xh-sanity.XXXXXX")
if [[ ${SANITY_KEEP:-0} == 1 ]]; then
  echo "run-sanity: keeping $work"
else
  trap 'rm -rf "$work"' EXIT
fi
dest=$work/ansible_collections/crosshost/network
mkdir -p "$dest"

if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # Tracked and untracked-but-not-ignored files; skip tracked files deleted
  # from the working tree (ls-files still lists them).
  (
    cd "$root"
    git ls-files -z -co --exclude-standard |
      while IFS= read -r -d '' f; do
        if [[ -e $f || -L $f ]]; then printf '%s\0' "$f"; fi
      done |
      xargs -0 -r cp -a --parents -t "$dest"
  )
else
  # No git (e.g. an unpacked tarball): same exclusions as .gitignore.
  tar -C "$root" -cf - \
    --exclude=./.git --exclude=./.venv --exclude=./.cache --exclude=./.ansible \
    --exclude=./tests/output --exclude=.pytest_cache --exclude=__pycache__ \
    --exclude='*.py[cod]' --exclude=crosshost_allocations.yml --exclude='crosshost-network-*.tar.gz' \
    . | tar -C "$dest" -xf -
fi

echo "run-sanity: ansible-test sanity --venv --python $pyver in $dest"
start=$SECONDS
rc=0
(cd "$dest" && ansible-test sanity --venv --python "$pyver" --color no "$@") || rc=$?

# Keep ansible-test's reports (bot/, junit/) in tests/output/sanity/ (gitignored),
# without its scratch dir .tmp/ (it holds a throwaway venv).
rm -rf "$root/tests/output/sanity"
mkdir -p "$root/tests/output/sanity"
if [[ -d $dest/tests/output ]]; then
  tar -C "$dest/tests/output" --exclude=./.tmp -cf - . | tar -C "$root/tests/output/sanity" -xf -
fi

# ansible-test compiles only target code (modules, module_utils) for Python
# 3.11, but with ansible-core 2.19 the controller may run 3.11 too: check that
# every Python file in plugins/ at least compiles there.
py311=$(command -v python3.11 || true)
if [[ -n $py311 && -d $dest/plugins ]]; then
  echo "run-sanity: compiling plugins/ with $py311"
  "$py311" - "$dest/plugins" <<'PY' || rc=1
import pathlib
import sys

bad = 0
for path in sorted(pathlib.Path(sys.argv[1]).rglob('*.py')):
    try:
        compile(path.read_bytes(), str(path), 'exec', dont_inherit=True)
    except SyntaxError as ex:
        bad += 1
        print(f'plugins/{path.relative_to(sys.argv[1])}:{ex.lineno}: Python 3.11 syntax error: {ex.msg}')
sys.exit(1 if bad else 0)
PY
else
  echo "run-sanity: no python3.11 on PATH, skipped the Python 3.11 compile check" >&2
fi
echo "run-sanity: rc=$rc after $((SECONDS - start))s"
exit "$rc"
