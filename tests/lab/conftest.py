"""One docker-in-docker lab for the tests of this folder (direct routing, end to end).

The session fixture ``lab`` creates the lab with playbooks/lab/create.yml (3 hosts on
underlay 198.18.42.0/24 and 2001:db8:64::/64, Docker objects named ``crosshost-routes-test-*``), writes an
inventory for it in a temporary folder, and always runs playbooks/lab/destroy.yml at
the end, pass or fail. Tests run playbooks against it and read the hosts' state with
``docker exec``.

Environment: CROSSHOST_LABTEST_NAME, _SUBNET and _SUBNET_V6 name another lab (a second
checkout beside this one); CROSSHOST_LABTEST_KEEP=1 leaves the lab running (for debugging; destroy it
with ``ansible-playbook playbooks/lab/destroy.yml -e crosshost_lab_name=crosshost-routes-test``).
"""

import os
import shutil
import sys

import pytest

# labdriver.py sits beside this file (benchmarks/ import it too).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from labdriver import LAB_HOSTS, LAB_NAME, LAB_SUBNET, LAB_SUBNET_V6, create_lab, destroy_lab  # noqa: E402


@pytest.fixture(scope='session')
def lab(tmp_path_factory):
    """A 3-host lab with its inventory; destroyed at the end of the session, always."""
    if not shutil.which('docker'):
        pytest.skip('docker is not installed')
    inventory_dir = str(tmp_path_factory.mktemp('labtest-inventory'))
    try:
        yield create_lab(LAB_NAME, LAB_SUBNET, LAB_HOSTS, inventory_dir, subnet_v6=LAB_SUBNET_V6)
    finally:
        if os.environ.get('CROSSHOST_LABTEST_KEEP') != '1':
            destroy_lab(LAB_NAME)
