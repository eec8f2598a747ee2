# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``checked`` filter: a role's input check folded into the first argument of its
first module task, so that bad input fails that task before the module runs (no
separate assert task, which would cost a task run on every host).
Documentation: checked.yml beside this file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError


def checked(value, errors, role, host):
    """``value`` itself when ``errors`` is empty; else fail with ``<role> on <host>: <error>; <error>``."""
    if isinstance(errors, str) or not isinstance(errors, (list, tuple)):
        raise AnsibleFilterError('checked: the errors of %s must be a list (got %r)' % (role, errors))
    if errors:
        raise AnsibleFilterError('%s on %s: %s' % (role, host, '; '.join(str(error) for error in errors)))
    return value


class FilterModule(object):
    """crosshost.network input check filter."""

    def filters(self):
        return {'checked': checked}
