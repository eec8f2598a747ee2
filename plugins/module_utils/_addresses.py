# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Addresses: the one parser of ``ip -json address`` entries and the planner of ``ip_address``.

Pure: arguments -> want (:func:`build_want`), one link of ``ip -json address show``
-> have (:func:`have_addresses`), want + have -> plan (:func:`compute_plan`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.crosshost.network.plugins.module_utils._iproute import (
    InvalidValue,
    Plan,
    parse_interface,
    validate_ifname,
)


def build_want(params):
    """Validate the arguments: dict(dev, state, purge, addresses=[ip_interface])."""
    dev = validate_ifname(params['dev'], 'device')
    state = params.get('state') or 'present'
    purge = bool(params.get('purge'))
    if purge and state == 'absent':
        raise InvalidValue('purge=true only goes with state=present (to remove all addresses of %s: state=present, addresses=[])' % dev)
    addresses = []
    seen = {}
    for text in params.get('addresses') or []:
        iface = parse_interface(text, 'address of %s' % dev)
        if iface.ip in seen:
            raise InvalidValue('address %s of %s is listed twice (also as %s)' % (text, dev, seen[iface.ip]))
        seen[iface.ip] = text
        addresses.append(iface)
    return dict(dev=dev, state=state, purge=purge, addresses=addresses)


class HaveAddress:
    """One entry of ``addr_info`` (``ip -json address show``)."""

    def __init__(self, info):
        self.iface = ipaddress.ip_interface('%s/%s' % (info['local'], info['prefixlen']))
        self.secondary = bool(info.get('secondary'))

    def __repr__(self):
        return 'HaveAddress(%s%s)' % (self.iface, ', secondary' if self.secondary else '')


def have_addresses(link):
    """The IPv4/IPv6 addresses of one link, in the kernel's order."""
    return [HaveAddress(info) for info in link.get('addr_info', []) if info.get('family') in ('inet', 'inet6') and 'local' in info]


def kernel_link_local(iface):
    """IPv6 link-local: the kernel makes these itself, purge leaves them alone."""
    return iface.version == 6 and iface.ip.is_link_local


def add_command(iface, dev, verb='add'):
    cmd = ['address', verb, iface.with_prefixlen]
    if iface.version == 4 and iface.network.prefixlen <= 30:
        cmd += ['brd', '+']
    return cmd + ['dev', dev]


def compute_plan(want, addresses):
    """Plan for one link. ``addresses``: ``IPRoute.addresses()``.

    Returns dict(plan, before, after) (lists of ``address/len``); raises InvalidValue for
    an unknown device.
    """
    dev = want['dev']
    if dev not in addresses:
        raise InvalidValue('device %r does not exist' % dev)
    have = have_addresses(addresses[dev])
    wanted = dict((iface.ip, iface) for iface in want['addresses'])
    remove, add = [], []
    if want['state'] == 'absent':
        remove = [entry for entry in have if wanted.get(entry.iface.ip) == entry.iface]
    else:
        for entry in have:
            declared = wanted.get(entry.iface.ip)
            if declared is not None and declared != entry.iface:
                remove.append(entry)          # same IP, other prefix length: replaced
            elif declared is None and want['purge'] and not kernel_link_local(entry.iface):
                remove.append(entry)
        present = set(entry.iface for entry in have if entry not in remove)
        add = [iface for iface in want['addresses'] if iface not in present]

    plan = Plan()
    # Secondaries first: deleting a primary also drops the secondaries of its subnet.
    for entry in sorted(remove, key=lambda e: not e.secondary):
        plan.add_ip('address', 'del', entry.iface.with_prefixlen, 'dev', dev)
    # Secondaries of a removed primary that stay: add them back (replace: with
    # promote_secondaries one of them is still there).
    dropped = [entry.iface.network for entry in remove if entry.iface.version == 4 and not entry.secondary]
    for entry in have:
        if entry not in remove and entry.secondary and entry.iface.network in dropped:
            plan.add_ip(*add_command(entry.iface, dev, 'replace'))
    for iface in add:
        plan.add_ip(*add_command(iface, dev))

    before = [entry.iface.with_prefixlen for entry in have]
    after = [entry.iface.with_prefixlen for entry in have if entry not in remove] + [iface.with_prefixlen for iface in add]
    return dict(plan=plan, before=before, after=after)


def global_addresses(link):
    """The addresses of a link that a task manages: IPv4, and IPv6 except link-local."""
    return [entry.iface for entry in have_addresses(link or {}) if not kernel_link_local(entry.iface)]
