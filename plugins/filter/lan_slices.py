# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``lan_slices`` filter: per-host Docker ``fixed-cidr`` slices of the LAN, planned on
the controller for the pipework backend's ``pipework_docker_bridge`` option.
Documentation: lan_slices.yml beside this file; the planning: module_utils/_lan_slices.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.crosshost.network.plugins.module_utils._lan_slices import SliceError, plan_slices


def lan_slices(hosts, allocations=None, reserved_hosts=None, source='slices file'):
    try:
        return plan_slices(hosts, allocations, reserved_hosts, source)
    except SliceError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    """crosshost.network LAN slice filter."""

    def filters(self):
        return {'lan_slices': lan_slices}
