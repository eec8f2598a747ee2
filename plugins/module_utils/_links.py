# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Links: the one parser of ``ip -json -details link show`` entries.

Shared by every module that reads links (ip_link, linux_bridge, bridge_fdb, pipework,
network_facts). Nothing here runs a command: the functions read the parsed JSON of one
link (a dict) or of all links (a dict keyed by name, as :meth:`IPRoute.links` returns it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.crosshost.network.plugins.module_utils._iproute import InvalidValue

# The smallest MTU IPv4 allows; the largest one a virtual link accepts without a
# per-device max_mtu telling otherwise.
MIN_MTU = 68
MAX_MTU = 65535
# A new bridge's forward delay (the kernel keeps it in centiseconds).
DEFAULT_FORWARD_DELAY_CS = 1500


def link_kind(link):
    """``bridge``, ``veth``, ... or None for a device without linkinfo (a NIC, lo) or no link."""
    return ((link or {}).get('linkinfo') or {}).get('info_kind')


def link_data(link):
    """The kind-specific ``info_data`` of a link (bridge, vxlan, macvlan settings)."""
    return ((link or {}).get('linkinfo') or {}).get('info_data') or {}


def is_up(link):
    """Whether the administrative UP flag is set (carrier does not matter)."""
    return 'UP' in ((link or {}).get('flags') or [])


def admin_state(link):
    """``up`` or ``down``, as :func:`is_up` tells."""
    return 'up' if is_up(link) else 'down'


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


def peer_of(link):
    """A veth's peer as the JSON tells it: its name in the same namespace, else its index."""
    if 'link_netnsid' in link or 'link' not in link:
        return dict(name='if%s' % link.get('link_index'), netnsid=link.get('link_netnsid'))
    return dict(name=link['link'])


def describe(link, peer=None):
    """The state of an existing link, in the module's terms (``peer``: a verified peer)."""
    kind = link_kind(link)
    state = dict(name=link['ifname'], state='present', kind=kind, mtu=link.get('mtu'),
                 address=(link.get('address') or '').lower() or None,
                 master=link_master(link), admin_state=admin_state(link))
    data = link_data(link)
    if kind == 'veth':
        state['peer'] = dict(peer) if peer else peer_of(link)
    elif kind == 'vxlan':
        state['vxlan'] = dict(id=data.get('id'), local=data.get('local') or data.get('local6'), dev=data.get('link'),
                              dstport=data.get('port'), learning=data.get('learning'))
    elif kind == 'macvlan':
        # A parent in another namespace has no name here: unknown, so never compared.
        parent = None if 'link_netnsid' in link else link.get('link')
        state['macvlan'] = dict(parent=parent, mode=data.get('mode'))
    return state


def peer_matches(link, peer, peer_links, peer_ref):
    """Whether the veth ``link`` is paired with the wanted peer (name and namespace)."""
    if peer_ref is None:
        return 'link_netnsid' not in link and link.get('link') == peer['name']
    return paired_across(link, (peer_links or {}).get(peer['name']))


def paired_across(one, other):
    """Whether two links in two namespaces are the ends of one veth pair.

    ifindexes are per namespace: each end names the other's index.
    """
    return (bool(one and other) and 'link_netnsid' in one and 'link_netnsid' in other
            and one.get('link_index') == other.get('ifindex') and other.get('link_index') == one.get('ifindex'))


def bridge_state(links, name):
    """A bridge's ports, STP and forward delay (seconds), or state absent."""
    link = links.get(name)
    if link is None:
        return dict(name=name, state='absent')
    data = link_data(link)
    return dict(name=name, state='present', ports=bridge_ports(links, name), stp=bool(data.get('stp_state')),
                forward_delay=data.get('forward_delay', DEFAULT_FORWARD_DELAY_CS) / 100.0)
