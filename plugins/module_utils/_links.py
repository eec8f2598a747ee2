# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers on ``ip -json -details link show`` entries, shared by ip_link and linux_bridge.

Nothing here runs a command: the functions read the parsed JSON of one link (a dict)
or of all links (a dict keyed by name, as :meth:`IPRoute.links` returns it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.crosshost.network.plugins.module_utils._iproute import InvalidValue

# The smallest MTU IPv4 allows; the largest one a virtual link accepts without a
# per-device max_mtu telling otherwise.
MIN_MTU = 68
MAX_MTU = 65535


def link_kind(link):
    """``bridge``, ``veth``, ... or None for a device without linkinfo (a NIC, lo)."""
    return (link.get('linkinfo') or {}).get('info_kind')


def link_data(link):
    """The kind-specific ``info_data`` of a link (bridge, vxlan, macvlan settings)."""
    return (link.get('linkinfo') or {}).get('info_data') or {}


def admin_state(link):
    """``up`` when the administrative UP flag is set (carrier does not matter)."""
    return 'up' if 'UP' in link.get('flags', []) else 'down'


def link_master(link):
    """Name of the link's master (its bridge), or '' when it has none."""
    return link.get('master') or ''


def bridge_ports(links, bridge):
    """Sorted names of the links whose master is ``bridge``."""
    return sorted(name for name, link in links.items() if link.get('master') == bridge)


def check_mtu(mtu, link=None, what='mtu'):
    """Raise InvalidValue unless ``mtu`` fits the device (its min_mtu/max_mtu when known)."""
    low, high = MIN_MTU, MAX_MTU
    if link:
        # 0 means "no limit reported" (lo); otherwise the kernel's own bounds for the device.
        low = link.get('min_mtu') or low
        high = link.get('max_mtu') or high
    if mtu is not None and not low <= mtu <= high:
        raise InvalidValue('%s %r is out of range (%d..%d)' % (what, mtu, low, high))
    return mtu


def require_link(links, name, what='device'):
    """The link called ``name``, or InvalidValue saying it does not exist."""
    if name not in links:
        raise InvalidValue('%s %r does not exist' % (what, name))
    return links[name]
