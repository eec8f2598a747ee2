"""Rules for every test folder.

Under CI=true (as .ci/run sets it) a skipped test is a failed test: a missing
prerequisite (root, Docker, an image, a package) must break the build, not hide the
test. So is a test file skipped whole while it is collected (a module-level
pytest.importorskip). Locally a skip stays a skip, and -ra lists the reasons.
"""

import os

import pytest

CI = os.environ.get('CI', '').lower() == 'true'


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if CI and report.skipped and not hasattr(report, 'wasxfail'):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = 'failed'
        report.longrepr = 'CI=true: a test must not skip (missing prerequisite?): %s' % reason


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    report = outcome.get_result()
    if CI and report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = 'failed'
        report.longrepr = 'CI=true: a test file must not be skipped while collected (missing prerequisite?): %s' % reason
