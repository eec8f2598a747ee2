# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Docker filters: ``daemon_json`` (daemon.json content -> dict, or an error naming the
file and the line) and ``daemon_ipv6`` (the IPv6 keys of daemon.json we own).
Documentation: daemon_json.yml and daemon_ipv6.yml beside this file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible.errors import AnsibleFilterError

from ansible_collections.crosshost.network.plugins.module_utils._checks import parse_json_file

# The daemon.json keys that IPv6 on Docker's bridge takes. Not ``ip6tables``: on Docker
# 20.10 it exists only with ``experimental: true`` (every experimental feature on) and
# our forwarding chains accept the routed IPv6 traffic without it; from Docker 27 on it
# is on by default. Docker 28's filter of routed traffic (both families) is lifted by
# ``allow-direct-routing``, which the docker role writes for IPv4 already.
IPV6_KEYS = ('ipv6', 'fixed-cidr-v6')


def daemon_json(content, path='/etc/docker/daemon.json'):
    try:
        return parse_json_file(path, content)
    except ValueError as exc:
        raise AnsibleFilterError('docker: %s' % exc)


def daemon_ipv6(fixed_cidr_v6, options=None, what='docker_fixed_cidr_v6'):
    """``{'set': {key: value}, 'remove': [key]}`` for IPv6 on Docker's default bridge.

    With a subnet: ``ipv6: true`` and ``fixed-cidr-v6``. A gateway address with its prefix
    (the bridge's ``2001:db8:100:1::1/64``) stands for its subnet, as Docker reads it.
    Without: both keys go, except those the user sets through ``options``
    (docker_daemon_options): those are theirs.
    """
    text = '' if fixed_cidr_v6 is None else str(fixed_cidr_v6).strip()
    if not text:
        return dict(set={}, remove=[key for key in IPV6_KEYS if key not in (options or {})])
    try:
        subnet = ipaddress.ip_network(text, strict=False) if '/' in text else None
    except ValueError:
        subnet = None
    if subnet is None or subnet.version != 6:
        raise AnsibleFilterError('docker: %s must be an IPv6 subnet, e.g. 2001:db8:100:1::/64 (got %r)' % (what, text))
    return dict(set={'ipv6': True, 'fixed-cidr-v6': str(subnet)}, remove=[])


class FilterModule(object):
    """crosshost.network Docker filters."""

    def filters(self):
        return {'daemon_json': daemon_json, 'daemon_ipv6': daemon_ipv6}
