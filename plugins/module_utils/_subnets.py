# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Subnet arithmetic and validation for the cluster's container network.

Pure functions on the standard library's :mod:`ipaddress` only: the controller-side
plan (``crosshost.network.cluster_plan``) and the etcd lease module on the targets
share them, so this file must never import anything outside the stdlib.

Vocabulary (flannel-compatible):

* *network*: the whole container network of the cluster, e.g. ``100.64.0.0/16``, or
  its IPv6 network (``2001:db8:100::/48``): the same rules apply to both families.
* *subnet_len*: prefix length of one host's subnet, e.g. ``24`` (IPv6: ``64``).
* *SubnetMin .. SubnetMax*: the subnets that are handed out; by default the 2nd
  to the last one, so the first subnet of the network is never given to a host.

Subnets are addressed by their *index* inside the network (0 = the first one), which
keeps the search for a free subnet cheap even for a /8 cut into /30s.

Every bad value raises :class:`SubnetError`, whose message names the host (when
there is one) and the value, so the caller can show it as it is.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import ipaddress

MAX_SUBNET_LEN = 30  # smallest subnet with a gateway and at least one container (flannel's limit)
# Per IP version: the longest subnet length, and an example network for hints.
MAX_SUBNET_LENS = {4: MAX_SUBNET_LEN, 6: 126}
EXAMPLE_NETWORKS = {4: '100.64.0.0/16', 6: 'fd00:64::/48'}
# The variables naming a version's cluster values, for messages (IPv4 first).
NETWORK_VARS = {4: 'crosshost_network', 6: 'crosshost_network_v6'}
DEFAULT_MTU = 1500
_FAMILY = {4: 'IPv4', 6: 'IPv6'}


class SubnetError(ValueError):
    """A value that cannot be planned with; ``host`` and ``value`` say which."""

    def __init__(self, msg, host=None, value=None):
        super(SubnetError, self).__init__(msg)
        self.msg = msg
        self.host = host
        self.value = value


def _prefix(host):
    """Start of an error message: which host it is about (if any)."""
    return 'host %s: ' % host if host is not None else ''


def _text(value):
    """A value as the user wrote it, for error messages and parsing."""
    if value is None:
        return ''
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace').strip()
    return str(value).strip()


def _network_types(value):
    return isinstance(value, (ipaddress.IPv4Network, ipaddress.IPv6Network))


def parse_network(value, what='crosshost_network', host=None, version=4):
    """Parse a network of IP ``version`` in CIDR form (``100.64.0.0/16``), strictly.

    Host bits must be zero and the prefix must be written out: ``100.64.0.1/16`` or
    ``100.64.0.0`` are refused, with a hint, instead of being silently changed. A parsed
    network (of either version) is returned as it is.
    """
    if _network_types(value):
        return value
    text = _text(value)
    if not text:
        raise SubnetError('%s%s is not set' % (_prefix(host), what), host, value)
    if '/' not in text:
        raise SubnetError('%s%s %r is not a CIDR: write it as address/prefix, e.g. %s'
                          % (_prefix(host), what, text, EXAMPLE_NETWORKS[version]), host, value)
    try:
        iface = ipaddress.ip_interface(text)
    except ValueError:
        raise SubnetError('%s%s %r is not a valid CIDR' % (_prefix(host), what, text), host, value)
    if iface.version != version:
        raise SubnetError('%s%s %r is %s: it must be an %s network (the %s one is %s)'
                          % (_prefix(host), what, text, _FAMILY[iface.version], _FAMILY[version], _FAMILY[iface.version],
                             NETWORK_VARS[iface.version]), host, value)
    if iface.ip != iface.network.network_address:
        raise SubnetError('%s%s %r has host bits set: did you mean %s?' % (_prefix(host), what, text, iface.network), host, value)
    return iface.network


def parse_address(value, what='crosshost_underlay_ip', host=None, version=4):
    """Parse a usable unicast address of IP ``version`` (``198.18.0.11``, ``2001:db8::11``)."""
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        addr = value
    else:
        text = _text(value)
        if not text:
            raise SubnetError('%sno underlay address: set %s or gather facts with a default %s route'
                              % (_prefix(host), what, _FAMILY[version]), host, value)
        try:
            addr = ipaddress.ip_address(text)
        except ValueError:
            raise SubnetError('%s%s %r is not a valid %s address' % (_prefix(host), what, text, _FAMILY[version]), host, value)
        if addr.version != version:
            raise SubnetError('%s%s %r is %s: it must be an %s address%s'
                              % (_prefix(host), what, text, _FAMILY[addr.version], _FAMILY[version],
                                 ' (set an IPv6 underlay address as crosshost_underlay_ip6)' if addr.version == 6 else ''), host, value)
    if addr.is_unspecified or addr.is_loopback or addr.is_multicast or addr == ipaddress.IPv4Address('255.255.255.255') \
            or (addr.version == 6 and (addr.is_link_local or addr.ipv4_mapped is not None)):
        raise SubnetError('%s%s %s is not a usable unicast address' % (_prefix(host), what, addr), host, value)
    return addr


def default_subnet_len(network):
    """flannel's default: /24 when the network is /22 or larger, else network prefix + 2.

    IPv6 (flannel's IPv6SubnetLen): /64 when the network is /62 or larger, else prefix + 2.
    """
    network = parse_network(network)
    usual = 24 if network.version == 4 else 64
    return usual if network.prefixlen <= usual - 2 else network.prefixlen + 2


def validate_subnet_len(network, subnet_len, what='crosshost_subnet_len', host=None):
    """Return ``subnet_len`` as an int if one network can be cut into such subnets.

    It must be longer than the network's prefix (at least two subnets: the first is
    never handed out) and at most /30. ``None`` or ``''`` means flannel's default.
    """
    network = parse_network(network, host=host)
    if subnet_len is None or _text(subnet_len) == '':
        subnet_len = default_subnet_len(network)
    if isinstance(subnet_len, bool):
        raise SubnetError('%s%s %r is not an integer' % (_prefix(host), what, subnet_len), host, subnet_len)
    try:
        length = int(_text(subnet_len).lstrip('/'))
    except ValueError:
        raise SubnetError('%s%s %r is not an integer' % (_prefix(host), what, subnet_len), host, subnet_len)
    longest = MAX_SUBNET_LENS[network.version]
    if length <= network.prefixlen or length > longest:
        raise SubnetError(
            '%s%s %d is impossible for network %s: it must be longer than /%d and at most /%d'
            % (_prefix(host), what, length, network, network.prefixlen, longest), host, subnet_len)
    return length


def subnet_at(network, subnet_len, index):
    """The ``index``-th subnet of length ``subnet_len`` inside ``network``."""
    size = 1 << (network.max_prefixlen - subnet_len)
    return type(network)((int(network.network_address) + index * size, subnet_len))


def subnet_index(network, subnet_len, subnet):
    """Index of an aligned ``subnet`` of length ``subnet_len`` inside ``network``."""
    return (int(subnet.network_address) - int(network.network_address)) >> (network.max_prefixlen - subnet_len)


def subnet_count(network, subnet_len):
    """How many subnets of length ``subnet_len`` the network holds (all, not only usable)."""
    return 1 << (subnet_len - network.prefixlen)


def _parse_bound(value, network, subnet_len, what, host):
    """SubnetMin/SubnetMax: an aligned address (flannel style) or a CIDR of the subnet."""
    text = _text(value)
    try:
        if '/' in text:
            subnet = ipaddress.ip_network(text, strict=True)
        else:
            subnet = ipaddress.ip_network('%s/%d' % (text, subnet_len), strict=True)
    except ValueError:
        raise SubnetError('%s%s %r is not the address of a /%d subnet of %s' % (_prefix(host), what, text, subnet_len, network), host, value)
    if subnet.version != network.version or subnet.prefixlen != subnet_len or not subnet.subnet_of(network):
        raise SubnetError('%s%s %r is not the address of a /%d subnet of %s' % (_prefix(host), what, text, subnet_len, network), host, value)
    return subnet_index(network, subnet_len, subnet)


def subnet_bounds(network, subnet_len, subnet_min=None, subnet_max=None, host=None, what='crosshost_subnet'):
    """Return ``(first, last)`` indices of the subnets handed out (inclusive).

    Defaults as flannel: the 2nd subnet and the last one. ``what`` names the variables
    (``<what>_min``, ``<what>_max``) in messages.
    """
    network = parse_network(network, host=host)
    subnet_len = validate_subnet_len(network, subnet_len, host=host)
    first, last = 1, subnet_count(network, subnet_len) - 1
    if _text(subnet_min):
        first = _parse_bound(subnet_min, network, subnet_len, what + '_min', host)
    if _text(subnet_max):
        last = _parse_bound(subnet_max, network, subnet_len, what + '_max', host)
    if first > last:
        raise SubnetError('%s%s_min %s is above %s_max %s'
                          % (_prefix(host), what, subnet_at(network, subnet_len, first), what,
                             subnet_at(network, subnet_len, last)), host, subnet_min)
    return first, last


def iter_subnets(network, subnet_len, subnet_min=None, subnet_max=None):
    """Yield the candidate subnets, SubnetMin .. SubnetMax, lowest first."""
    network = parse_network(network)
    subnet_len = validate_subnet_len(network, subnet_len)
    first, last = subnet_bounds(network, subnet_len, subnet_min, subnet_max)
    for index in range(first, last + 1):
        yield subnet_at(network, subnet_len, index)


def _len_var(what):
    """``crosshost_subnet_v6`` -> ``crosshost_subnet_len_v6``: the length variable beside a subnet one."""
    return what[:-3] + '_len_v6' if what.endswith('_v6') else what + '_len'


def check_subnet(value, network, subnet_len, bounds=None, what='crosshost_subnet', host=None):
    """Validate one host subnet (a pin or a lease): CIDR, length, alignment, range.

    Returns the :class:`ipaddress.IPv4Network` (or IPv6Network).
    """
    network = parse_network(network)
    text = _text(value)
    if not text:
        raise SubnetError('%s%s is empty' % (_prefix(host), what), host, value)
    try:
        iface = ipaddress.ip_interface(text)
    except ValueError:
        raise SubnetError('%s%s %r is not a valid CIDR' % (_prefix(host), what, text), host, value)
    if iface.version != network.version or '/' not in text:
        raise SubnetError('%s%s %r is not an %s CIDR (e.g. %s)'
                          % (_prefix(host), what, text, _FAMILY[network.version], subnet_at(network, subnet_len, 1)), host, value)
    subnet = iface.network
    if subnet.prefixlen != subnet_len:
        raise SubnetError('%s%s %s is a /%d, but the cluster hands out /%d subnets (%s)'
                          % (_prefix(host), what, text, subnet.prefixlen, subnet_len, _len_var(what)), host, value)
    if iface.ip != subnet.network_address:
        raise SubnetError('%s%s %s is not aligned to a /%d boundary: did you mean %s?' % (_prefix(host), what, text, subnet_len, subnet), host, value)
    if not subnet.subnet_of(network):
        raise SubnetError('%s%s %s is outside the cluster network %s' % (_prefix(host), what, subnet, network), host, value)
    first, last = bounds if bounds is not None else subnet_bounds(network, subnet_len)
    index = subnet_index(network, subnet_len, subnet)
    if not first <= index <= last:
        raise SubnetError('%s%s %s is out of range: subnets handed out are %s .. %s'
                          % (_prefix(host), what, subnet, subnet_at(network, subnet_len, first), subnet_at(network, subnet_len, last)), host, value)
    return subnet


def allocate(hosts, network, subnet_len, kept=None, pins=None, reserved=None, subnet_min=None, subnet_max=None,
             what='crosshost_subnet'):
    """Give every host one subnet; pure and deterministic.

    :param hosts: names of the hosts to plan (any order; they are sorted).
    :param kept: ``{host: subnet}`` allocated earlier (allocations file, etcd leases...).
        A host keeps its subnet; entries of hosts not in ``hosts`` are ignored, and so are
        entries that no longer fit (other network or length, out of range) or that an
        earlier-sorted host already keeps.
    :param pins: ``{host: subnet}`` chosen by the user; checked strictly (a bad pin is an
        error) and winning over the host's own kept subnet. A pin on a subnet that
        another present host keeps, or that is reserved, is an error.
    :param reserved: ``{owner: subnet}`` that no host here may be given (e.g. hosts of the
        inventory that this run does not include). Entries that do not fit are ignored.
    :param what: the pin variable, for messages (``crosshost_subnet_v6`` for IPv6).
    :returns: ``{host: IPv4Network}`` (or IPv6Network), for every host.
    :raises SubnetError: naming the host and the value.
    """
    network = parse_network(network)
    subnet_len = validate_subnet_len(network, subnet_len)
    bounds = subnet_bounds(network, subnet_len, subnet_min, subnet_max, what=what)
    names = sorted(set(str(h) for h in hosts))
    kept = dict(kept or {})
    pins = dict((str(h), v) for h, v in (pins or {}).items() if v is not None and _text(v) != '')
    taken = {}  # index -> owner
    result = {}

    def fits(value):
        try:
            return check_subnet(value, network, subnet_len, bounds)
        except SubnetError:
            return None

    for owner in sorted(str(o) for o in (reserved or {})):
        subnet = fits(reserved[owner])
        if subnet is not None and owner not in names:
            taken.setdefault(subnet_index(network, subnet_len, subnet), '%s (kept for it, not in this run)' % owner)

    kept_index = {}  # subnets present hosts keep (a host with a pin gives its kept one up)
    for name in names:
        if name in pins:
            continue
        subnet = fits(kept.get(name))
        if subnet is not None and subnet_index(network, subnet_len, subnet) not in taken:
            kept_index.setdefault(subnet_index(network, subnet_len, subnet), name)

    pin_owner = {}
    for name in names:
        if name not in pins:
            continue
        subnet = check_subnet(pins[name], network, subnet_len, bounds, what=what, host=name)
        index = subnet_index(network, subnet_len, subnet)
        if index in pin_owner:
            raise SubnetError('hosts %s and %s both pin %s %s' % (pin_owner[index], name, what, subnet), name, pins[name])
        if index in taken:
            raise SubnetError('host %s: %s %s is already taken by host %s' % (name, what, subnet, taken[index]), name, pins[name])
        if kept_index.get(index, name) != name:
            raise SubnetError('host %s: %s %s is the subnet that host %s keeps (allocations): '
                              'pin %s elsewhere or remove its line from the allocations file first'
                              % (name, what, subnet, kept_index[index], kept_index[index]), name, pins[name])
        pin_owner[index] = name
        result[name] = subnet
    for index, name in pin_owner.items():
        taken[index] = name

    for name in names:
        if name in result:
            continue
        subnet = fits(kept.get(name))
        if subnet is None:
            continue
        index = subnet_index(network, subnet_len, subnet)
        if index not in taken:
            taken[index] = name
            result[name] = subnet

    first, last = bounds
    index = first
    for name in names:
        if name in result:
            continue
        while index <= last and index in taken:
            index += 1
        if index > last:
            reserved_count = len([o for o in taken.values() if o not in names])
            raise SubnetError(
                'host %s: no free subnet left in %s: %d hosts need one, but /%d subnets %s .. %s hold only %d%s'
                % (name, network, len(names), subnet_len, subnet_at(network, subnet_len, first), subnet_at(network, subnet_len, last),
                   last - first + 1, ' (%d reserved)' % reserved_count if reserved_count else ''), name, str(network))
        taken[index] = name
        result[name] = subnet_at(network, subnet_len, index)
    return result


def overlap_errors(network, host, underlay_ip=None, interfaces=None, own_subnet=None):
    """Why the cluster network cannot live on this host (a list of messages, empty if fine).

    :param network: the cluster network of one IP version; the addresses of the other
        version are not looked at.
    :param interfaces: ``[{'interface': 'eth0', 'addresses': ['198.18.0.11/15', ...],
        'addresses_v6': [{'cidr': '2001:db8::11/64', ...}]}]``.
    :param own_subnet: the host's planned subnet. Addresses inside it are ours (docker0's
        bip, the VTEP's /32 from an earlier run) and are not conflicts.
    """
    network = parse_network(network)
    errors = []
    if underlay_ip is not None:
        addr = parse_address(underlay_ip, host=host, version=network.version)
        if addr in network:
            errors.append('host %s: underlay address %s lies inside the cluster network %s' % (host, addr, network))
    own = parse_network(own_subnet) if own_subnet is not None else None
    pin_var = 'crosshost_subnet' if network.version == 4 else 'crosshost_subnet_v6'
    for entry in interfaces or []:
        cidrs = entry.get('addresses') or [] if network.version == 4 else \
            [a.get('cidr') for a in entry.get('addresses_v6') or [] if isinstance(a, dict)]
        for cidr in cidrs:
            try:
                iface = ipaddress.ip_interface(_text(cidr))
            except ValueError:
                continue
            if iface.version != network.version or not iface.network.overlaps(network):
                continue
            if own is not None and iface.network.subnet_of(own):
                continue
            msg = 'host %s: interface %s has %s (network %s), which overlaps the cluster network %s' % (
                host, entry.get('interface'), iface.with_prefixlen, iface.network, network)
            if own is not None and iface.network.subnet_of(network) and iface.network.prefixlen >= own.prefixlen:
                # Most likely left from an earlier allocation of this host: say how to keep it.
                msg += ' (if it is this cluster\'s, left from an earlier run, pin %s: %s)' % (
                    pin_var, ipaddress.ip_network('%s/%d' % (iface.ip, own.prefixlen), strict=False))
            errors.append(msg)
    return errors


def stable_mac(network, host):
    """A locally administered unicast MAC derived from the cluster network and the host.

    Same inputs, same MAC: it survives reruns and reboots, and needs no state.
    """
    digest = hashlib.sha256(('crosshost|%s|%s' % (_text(network), _text(host))).encode('utf-8')).digest()
    # 0x02: locally administered (bit 1 set), unicast (bit 0 clear).
    return ':'.join(['02'] + ['%02x' % b for b in bytearray(digest[:5])])


def subnet_entry(subnet):
    """Addresses Docker and the bridges need from one host subnet (IPv4 or IPv6)."""
    subnet = subnet if _network_types(subnet) else ipaddress.ip_network(_text(subnet))
    gateway = subnet.network_address + 1
    return dict(
        subnet=str(subnet),
        gateway=str(gateway),
        bip='%s/%d' % (gateway, subnet.prefixlen),
        prefixlen=subnet.prefixlen,
    )
