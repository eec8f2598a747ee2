# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the shared base of the modules (plugins/module_utils/_reconcile.py).

The module is a stand-in recording what the base asks of it; the modules' own runs in
real namespaces are in tests/integration.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.crosshost.network.plugins.module_utils._iproute import InvalidValue, Plan
from ansible_collections.crosshost.network.plugins.module_utils._reconcile import Reconcile


class Exited(Exception):
    pass


class FakeModule:
    def __init__(self, check_mode=False, diff=False):
        self.check_mode = check_mode
        self._diff = diff
        self.params = {}
        self.warnings = []
        self.result = None

    def warn(self, text):
        self.warnings.append(text)

    def exit_json(self, **result):
        self.result = result
        raise Exited()

    def fail_json(self, **result):
        self.result = dict(result, failed=True)
        raise Exited()


class FakeIPRoute:
    def __init__(self):
        self.applied = []

    def apply(self, plan):
        self.applied.append(plan)

    def target(self):
        return 'netns xh-t'


def run_for(module):
    run = Reconcile(module)
    run._ipr = FakeIPRoute()
    return run


def one_command():
    plan = Plan()
    plan.add_ip('route', 'replace', '100.64.2.0/24', 'dev', 'xh0')
    return plan


def finish(run, plan, **kwargs):
    with pytest.raises(Exited):
        run.finish(plan, dict(thing=1), **kwargs)
    return run.module.result


@pytest.mark.parametrize('name_target, message', [(False, 'bad value'), (True, 'netns xh-t: bad value')])
def test_invalid_value_fails_the_module(name_target, message):
    run = run_for(FakeModule())
    with pytest.raises(Exited):
        with run.checking(name_target=name_target):
            raise InvalidValue('bad value')
    assert run.module.result == dict(msg=message, failed=True)


def test_apply_commands_and_diff():
    run = run_for(FakeModule(diff=True))
    plan = one_command()
    result = finish(run, plan, diff=lambda: dict(before='a\n', after='b\n'), commands=['echo x'], warnings=['careful'])
    assert run.ipr.applied == [plan]
    assert result == dict(thing=1, changed=True, commands=['echo x', 'ip route replace 100.64.2.0/24 dev xh0'],
                          diff=dict(before='a\n', after='b\n'))
    assert run.module.warnings == ['careful']


def test_check_mode_applies_nothing_and_reads_nothing_back():
    run = run_for(FakeModule(check_mode=True))
    result = finish(run, one_command(), read_back=lambda: pytest.fail('read back in check mode'),
                    diff=lambda: pytest.fail('diff without --diff'))
    assert run.ipr.applied == []
    assert result == dict(thing=1, changed=True, commands=['ip route replace 100.64.2.0/24 dev xh0'])


def test_read_back_after_a_real_apply_and_a_custom_apply():
    run = run_for(FakeModule())
    applied = []
    result = finish(run, one_command(), apply=applied.append, read_back=lambda: dict(thing=2))
    assert len(applied) == 1 and run.ipr.applied == []
    assert result['thing'] == 2


def test_empty_plan_is_unchanged():
    run = run_for(FakeModule())
    result = finish(run, Plan(), read_back=lambda: pytest.fail('read back without a change'))
    assert run.ipr.applied == []
    assert result == dict(thing=1, changed=False, commands=[])
