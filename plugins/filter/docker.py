# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``daemon_json``: Docker's daemon.json content -> dict, or an error naming the file and the line."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.crosshost.network.plugins.module_utils._checks import parse_json_file


def daemon_json(content, path='/etc/docker/daemon.json'):
    try:
        return parse_json_file(path, content)
    except ValueError as exc:
        raise AnsibleFilterError('docker: %s' % exc)


class FilterModule(object):
    """crosshost.network Docker filters."""

    def filters(self):
        return {'daemon_json': daemon_json}
