# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planning of the pipework backend's "Docker on the LAN" option (the article's bri0).

With ``pipework_docker_bridge`` Docker's own bridge is the host bridge joined to the
uplink, so ``docker run`` containers take LAN addresses. Every host then needs a
``fixed-cidr``: a slice of the LAN Docker hands addresses out of. :func:`plan_slices`
plans them for the whole cluster at once, on the controller:

- hosts are grouped by the LAN of their uplink (its first IPv4 address, or the bridge's
  when the uplink was joined already);
- a slice never holds the LAN's network or broadcast address, a host's address, the
  LAN gateway, a declared reserved range (the DHCP pool) or a static attachment address;
- kept slices (the file beside the inventory) and pins come first, so a host's slice
  does not move when another host joins or leaves; new hosts take the highest free
  aligned slice (hosts and routers usually sit at the low end of a LAN).

Every bad value is collected and reported at once, naming host, variable and value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from collections.abc import Mapping

DEFAULT_SLICE_LEN = 28


class SliceError(ValueError):
    """Bad input for the plan; the message names host, variable and value."""


def _text(value):
    return '' if value is None else str(value).strip()


def parse_range(text):
    """``a.b.c.d/len``, ``a.b.c.d-e.f.g.h`` or one address -> (first, last) IPv4Address."""
    text = _text(text)
    if '-' in text:
        first, last = (ipaddress.IPv4Address(part.strip()) for part in text.split('-', 1))
        if last < first:
            raise ValueError('the range ends before it starts')
        return first, last
    network = ipaddress.IPv4Network(text, strict=False)
    return network.network_address, network.broadcast_address


def _lan_address(name, data):
    """The host's LAN interface (IPv4Interface) from its uplink or, once joined, its bridge."""
    uplink, bridge = _text(data.get('uplink')), _text(data.get('bridge'))
    if not uplink:
        raise SliceError('host %s: pipework_uplink is empty, but pipework_docker_bridge needs the uplink whose LAN Docker joins'
                         % name)
    by_name = dict((_text(i.get('interface')), i) for i in data.get('interfaces') or [] if isinstance(i, Mapping))
    if uplink not in by_name:
        raise SliceError('host %s: pipework_uplink %s is not an interface of the host' % (name, uplink))
    for device in (uplink, bridge):
        for text in (by_name.get(device) or {}).get('addresses') or []:
            try:
                iface = ipaddress.IPv4Interface(_text(text))
            except ValueError:
                continue
            if iface.network.prefixlen < 31:
                return iface
    raise SliceError('host %s: pipework_uplink %s has no IPv4 address (nor bridge %s): Docker on the LAN needs the host on the LAN'
                     % (name, uplink, bridge))


def _gateway(name, data, lan):
    explicit = _text(data.get('gateway'))
    text = explicit or _text((data.get('default_ipv4') or {}).get('gateway'))
    if not text:
        raise SliceError('host %s: no LAN gateway: set pipework_lan_gateway (the LAN router, Docker\'s default-gateway)' % name)
    try:
        gateway = ipaddress.IPv4Address(text)
    except ValueError:
        raise SliceError('host %s: pipework_lan_gateway %r is not an IPv4 address' % (name, text))
    if gateway not in lan.network or gateway in (lan.network.network_address, lan.network.broadcast_address):
        what = 'pipework_lan_gateway %s' % gateway if explicit else 'the default gateway %s (set pipework_lan_gateway)' % gateway
        raise SliceError('host %s: %s is not a host address of the LAN %s' % (name, what, lan.network))
    return gateway


def _slice_len(name, data, lan):
    raw = data.get('slice_len')
    value = DEFAULT_SLICE_LEN if _text(raw) == '' else raw
    try:
        value = int(value)
    except (TypeError, ValueError):
        raise SliceError('host %s: pipework_docker_slice_len %r is not an integer' % (name, raw))
    if not lan.network.prefixlen < value <= 30:
        raise SliceError('host %s: pipework_docker_slice_len %d must be longer than the LAN %s and at most 30'
                         % (name, value, lan.network))
    return value


def _touches(network, ranges):
    first, last = network.network_address, network.broadcast_address
    return [r for r in ranges if r[0] <= last and first <= r[1]]


def _kept(allocations, source):
    if allocations in (None, ''):
        return {}
    slices = allocations.get('slices') if isinstance(allocations, Mapping) else None
    if not isinstance(allocations, Mapping) or not isinstance(slices, (Mapping, type(None))):
        raise SliceError('%s: expected a YAML mapping with "slices: {host: cidr}", got %r' % (source, allocations))
    return dict((str(h), _text(s)) for h, s in (slices or {}).items())


def plan_slices(hosts, allocations=None, reserved_hosts=None, source='slices file'):
    """Plan one ``fixed-cidr`` per host; see plugins/filter/lan_slices.yml for the shapes.

    ``reserved_hosts``: inventory hosts outside this run (``--limit``) whose kept slices
    stay reserved; kept slices of other hosts not in ``hosts`` are dropped.
    """
    names = sorted(str(h) for h in hosts)
    errors = []
    lan_of, gateway_of, len_of = {}, {}, {}
    for name in names:
        data = hosts[name]
        try:
            lan_of[name] = _lan_address(name, data)
            gateway_of[name] = _gateway(name, data, lan_of[name])
            len_of[name] = _slice_len(name, data, lan_of[name])
        except SliceError as exc:
            errors.append(str(exc))
    if errors:
        raise SliceError('; '.join(errors))

    lans = sorted(set(i.network for i in lan_of.values()))
    # What no slice may hold, per LAN: (first, last, why).
    taken = dict((lan, [(lan.network_address, lan.network_address, 'the network address of the LAN'),
                        (lan.broadcast_address, lan.broadcast_address, 'the broadcast address of the LAN')]) for lan in lans)
    for name in names:
        lan = lan_of[name].network
        taken[lan].append((lan_of[name].ip, lan_of[name].ip, 'the address of host %s' % name))
        taken[lan].append((gateway_of[name], gateway_of[name], 'the LAN gateway'))
        for index, text in enumerate(hosts[name].get('reserved') or []):
            try:
                first, last = parse_range(text)
            except ValueError as exc:
                errors.append('host %s: pipework_lan_reserved[%d] %r is not a CIDR, a first-last range or an address (%s)'
                              % (name, index, text, exc))
                continue
            if first not in lan or last not in lan:
                errors.append('host %s: pipework_lan_reserved[%d] %s is outside the LAN %s' % (name, index, text, lan))
                continue
            taken[lan].append((first, last, 'the reserved range %s' % _text(text)))
        for text in hosts[name].get('static') or []:
            try:
                ip = ipaddress.IPv4Interface(_text(text).split('@', maxsplit=1)[0]).ip
            except ValueError:
                continue  # not ours to judge: the pipework role checks attachments
            if ip in lan:
                taken[lan].append((ip, ip, 'the attachment address %s of host %s' % (ip, name)))

    kept = _kept(allocations, source)
    outside = set(str(h) for h in reserved_hosts or []) - set(names)
    slices = {}

    def clash(name, network):
        """Why ``network`` cannot be the slice of ``name`` (None: it can)."""
        lan = lan_of[name].network
        if not network.subnet_of(lan):
            return 'is not inside the LAN %s' % lan
        hits = _touches(network, taken[lan])
        if hits:
            return 'holds %s' % hits[0][2]
        for other, theirs in sorted(slices.items()):
            if network.overlaps(theirs):
                return 'overlaps the slice %s of host %s' % (theirs, other)
        return None

    # Slices of inventory hosts outside this run (--limit) stay reserved.
    for owner in sorted(outside & set(kept)):
        try:
            slices[owner] = ipaddress.IPv4Network(kept[owner])
        except ValueError:
            pass
    # Pins, then kept slices, then new ones.
    for name in names:
        pin = _text(hosts[name].get('slice'))
        if not pin:
            continue
        try:
            network = ipaddress.IPv4Network(pin)
        except ValueError as exc:
            errors.append('host %s: pipework_docker_slice %r is not an aligned IPv4 network (%s)' % (name, pin, exc))
            continue
        why = clash(name, network)
        if why:
            errors.append('host %s: pipework_docker_slice %s does not fit: it %s' % (name, network, why))
        else:
            slices[name] = network
    for name in names:
        if name in slices or name not in kept or _text(hosts[name].get('slice')):
            continue
        try:
            network = ipaddress.IPv4Network(kept[name])
        except ValueError:
            errors.append('host %s: the kept slice %r in %s is not a network: delete its line' % (name, kept[name], source))
            continue
        if network.prefixlen != len_of[name]:
            continue  # pipework_docker_slice_len changed: plan it again
        why = clash(name, network)
        if why:
            errors.append('host %s: its kept slice %s (%s) no longer fits: it %s; delete its line to plan a new one'
                          % (name, network, source, why))
        else:
            slices[name] = network
    for name in names:
        if name in slices or _text(hosts[name].get('slice')):
            continue
        lan = lan_of[name].network
        for network in reversed(list(lan.subnets(new_prefix=len_of[name]))):
            if clash(name, network) is None:
                slices[name] = network
                break
        else:
            errors.append('host %s: the LAN %s is too small: no free /%d slice is left for pipework_docker_slice_len %d '
                          '(hosts, gateway, reserved ranges and other slices take the rest)'
                          % (name, lan, len_of[name], len_of[name]))
    if errors:
        raise SliceError('; '.join(errors))

    plan = dict((name, dict(bridge=_text(hosts[name].get('bridge')), lan=str(lan_of[name].network),
                            address=str(lan_of[name]), fixed_cidr=str(slices[name]),
                            default_gateway=str(gateway_of[name]))) for name in names)
    return dict(plan=plan, allocations=dict(slices=dict((h, str(s)) for h, s in sorted(slices.items()))))
