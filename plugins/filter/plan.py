# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters computing the cluster plan once, on the controller.

``cluster_plan`` turns what the ``preflight`` role collected from every host into one
plan (host -> subnet, gateway, underlay address, VTEP MAC...) plus the new content of
the allocations file; ``host_interfaces`` reduces a host's network facts to what the
plan needs. Documentation: cluster_plan.yml and host_interfaces.yml beside this file.

Both IP families go through the same code: a cluster has an IPv4 network
(``crosshost_network``), an IPv6 one (``crosshost_network_v6``) or both, and each
family has its own subnet per host, pins, kept allocations and checks.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.crosshost.network.plugins.module_utils._checks import (
    backend_errors,
    etcd_errors,
    host_state_errors,
    ipv6_host_errors,
    ipv6_only_errors,
    reserved_range_errors,
)
from ansible_collections.crosshost.network.plugins.module_utils._subnets import (
    DEFAULT_MTU,
    NETWORK_VARS,
    SubnetError,
    allocate,
    check_subnet,
    overlap_errors,
    parse_address,
    parse_network,
    stable_mac,
    subnet_at,
    subnet_bounds,
    subnet_entry,
    validate_subnet_len,
)

# Per-host inputs that describe the whole cluster: every host must agree on them.
_CLUSTER_KEYS = (
    ('network', 'crosshost_network'),
    ('subnet_len', 'crosshost_subnet_len'),
    ('subnet_min', 'crosshost_subnet_min'),
    ('subnet_max', 'crosshost_subnet_max'),
    ('network_v6', 'crosshost_network_v6'),
    ('subnet_len_v6', 'crosshost_subnet_len_v6'),
)

# What network_facts sets (the preflight probe): its 'addresses' tell the IPv6 flags.
_PROBE_FACTS = 'crosshost_network_facts'
# IPv6 addresses that never make an underlay address: they fail, expire or rotate.
_UNSTABLE_V6 = frozenset(('dadfailed', 'deprecated', 'temporary'))


def _text(value):
    return '' if value is None else str(value).strip()


def _fact_key(device):
    """Key of an interface in ansible_facts ('-' and ':' become '_')."""
    return device.replace('-', '_').replace(':', '_')


def _addresses_v6(facts, name, data):
    """One interface's IPv6 addresses ``[{cidr, scope, flags}]``, in the kernel's order.

    From network_facts' ``addresses`` (which tells the flags) where the facts have it,
    else from the setup module's ``ipv6`` list.
    """
    probe = facts.get(_PROBE_FACTS)
    probed = probe.get('addresses') if isinstance(probe, Mapping) else None
    if isinstance(probed, list):
        return [dict(cidr=str(a['cidr']), scope=a.get('scope'), flags=list(a.get('flags') or []))
                for a in probed if isinstance(a, Mapping) and a.get('interface') == name and a.get('family') == 'inet6' and a.get('cidr')]
    return [dict(cidr='%s/%s' % (a['address'], a.get('prefix', 128)), scope=a.get('scope'), flags=[])
            for a in data.get('ipv6') or [] if isinstance(a, Mapping) and a.get('address')]


def host_interfaces(facts):
    """``ansible_facts`` (network subset) -> ``[{interface, mtu, addresses, addresses_v6, active}]``, sorted by name.

    ``addresses`` lists every IPv4 address with its prefix (primary and secondaries);
    ``addresses_v6`` every IPv6 address as ``{cidr, scope, flags}``.
    """
    if not isinstance(facts, Mapping):
        return []
    result = []
    for name in sorted(set(str(n) for n in (facts.get('interfaces') or []))):
        data = facts.get(_fact_key(name))
        if not isinstance(data, Mapping):
            continue
        addresses = []
        for entry in [data.get('ipv4')] + list(data.get('ipv4_secondaries') or []):
            if isinstance(entry, Mapping) and entry.get('address'):
                prefix = entry.get('prefix') or entry.get('netmask')
                addresses.append('%s/%s' % (entry['address'], prefix) if prefix else str(entry['address']))
        device = str(data.get('device') or name)
        result.append(dict(interface=device, mtu=data.get('mtu'), addresses=addresses,
                           addresses_v6=_addresses_v6(facts, device, data), active=data.get('active')))
    return result


# What a connection says when the host is there but cannot run anything (a paused or
# stopped container behind the docker connection): not a failure of the host's values.
_NOT_RUNNING = re.compile(r'is paused|is not running|No such container', re.I)


def not_reached(hosts, registered):
    """``{host: why}`` of the hosts whose probes (registered results) did not reach them.

    :param hosts: ``{host: hostvars}`` of the hosts that dropped out of the play.
    :param registered: names of the probes' registered variables, in the order they ran.
    """
    result = {}
    for name in sorted(hosts or {}):
        variables = hosts[name]
        for var in registered or []:
            probe = variables.get(var) if isinstance(variables, Mapping) or hasattr(variables, 'get') else None
            if not isinstance(probe, Mapping):
                continue
            if probe.get('unreachable'):
                result[str(name)] = _text(probe.get('msg')) or 'unreachable'
                break
            # With pipelining the docker connection reports a paused container as a
            # module whose output is no JSON ("deserialization failed"): say what it is.
            stderr = _text(probe.get('module_stderr'))
            if probe.get('failed') and not _text(probe.get('module_stdout')) and _NOT_RUNNING.search(stderr):
                result[str(name)] = 'the connection could not run anything there: %s' % stderr
                break
    return result


class _Family(object):
    """One IP family of the cluster: its network, subnet length, bounds and the names it is known by."""

    def __init__(self, version, network, subnet_len, subnet_min=None, subnet_max=None):
        suffix = '' if version == 4 else '_v6'
        self.version = version
        self.network = network
        self.subnet_len = subnet_len
        self.subnet_min = subnet_min
        self.subnet_max = subnet_max
        self.network_var = NETWORK_VARS[version]
        self.pin_var = 'crosshost_subnet' + suffix
        self.pin_key = 'subnet' + suffix  # in a host's input
        self.subnets_key = 'subnets' + suffix  # in the allocations file
        self.bounds = subnet_bounds(network, subnet_len, subnet_min, subnet_max, what=self.pin_var)

    def fitting(self, value):
        """A kept subnet that still fits this family's network, else None."""
        try:
            return check_subnet(value, self.network, self.subnet_len, self.bounds) if _text(value) else None
        except SubnetError:
            return None


# Underlay address of each version: the host input's key, its variable, the allocations file's key.
_UNDERLAY = {4: ('underlay_ip', 'crosshost_underlay_ip', 'underlay'), 6: ('underlay_ip6', 'crosshost_underlay_ip6', 'underlay_v6')}


def _agree(hosts, names):
    """The cluster-wide values, checked to be the same on every host."""
    values = {}
    for key, var in _CLUSTER_KEYS:
        texts = dict((name, _text(hosts[name].get(key))) for name in names)
        ref = next((name for name in names if texts[name]), names[0])
        for name in names:
            if texts[name] == texts[ref]:
                continue
            if not texts[name]:
                raise SubnetError('host %s: %s is not set, but host %s has %r: it must be the same for every host of the cluster'
                                  % (name, var, ref, texts[ref]), name, None)
            raise SubnetError('host %s: %s %r differs from %r on host %s: it must be the same for every host of the cluster'
                              % (name, var, texts[name], texts[ref], ref), name, texts[name])
        values[key] = hosts[ref].get(key)
    if not _text(values['network']) and not _text(values['network_v6']):
        raise SubnetError('host %s: crosshost_network is not set, nor crosshost_network_v6 (the container network of the whole '
                          'cluster, e.g. 100.64.0.0/16, its IPv6 one, e.g. fd00:64::/48, or both)' % names[0], names[0], values['network'])
    if _text(values['subnet_len_v6']) and not _text(values['network_v6']):
        raise SubnetError('host %s: crosshost_subnet_len_v6 is %r but crosshost_network_v6 is not set: set both, or neither for no IPv6'
                          % (names[0], _text(values['subnet_len_v6'])), names[0], values['subnet_len_v6'])
    return values


def _families(cluster, host):
    """The cluster's IP families, IPv4 first; a bad cluster-wide value stops here."""
    families = []
    if _text(cluster['network']):
        network = parse_network(cluster['network'], host=host)
        subnet_len = validate_subnet_len(network, cluster['subnet_len'], host=host)
        families.append(_Family(4, network, subnet_len, cluster['subnet_min'], cluster['subnet_max']))
    if _text(cluster['network_v6']):
        network = parse_network(cluster['network_v6'], what='crosshost_network_v6', host=host, version=6)
        subnet_len = validate_subnet_len(network, cluster['subnet_len_v6'], what='crosshost_subnet_len_v6', host=host)
        families.append(_Family(6, network, subnet_len))
    return families


def _ips(entry):
    """Every address of an interface entry, as ip_address objects."""
    result = set()
    for cidr in list(entry.get('addresses') or []) + [a.get('cidr') for a in entry.get('addresses_v6') or [] if isinstance(a, Mapping)]:
        try:
            result.add(ipaddress.ip_interface(_text(cidr).partition('/')[0]).ip)
        except ValueError:
            continue
    return result


def _first_global_v6(entry):
    """The first global IPv6 address of an interface entry that can be an underlay address, else None."""
    for address in entry.get('addresses_v6') or []:
        if not isinstance(address, Mapping) or address.get('scope') not in (None, 'global') or set(address.get('flags') or ()) & _UNSTABLE_V6:
            continue
        try:
            return parse_address(_text(address.get('cidr')).partition('/')[0], version=6)
        except (SubnetError, ValueError):
            continue
    return None


def _underlay(name, data, versions):
    """(ip, ip6, interface, mtu) of one host: explicit values first, then its facts.

    ``ip`` is None only in a cluster without IPv4, for a host without an IPv4 address;
    ``ip6`` is None in a cluster without IPv6, or for a host without a global IPv6
    address on its underlay interface (its IPv6 peers then route over IPv4).
    """
    default = data.get('default_ipv4') if isinstance(data.get('default_ipv4'), Mapping) else {}
    default6 = data.get('default_ipv6') if isinstance(data.get('default_ipv6'), Mapping) else {}
    interfaces = [i for i in (data.get('interfaces') or []) if isinstance(i, Mapping)]
    explicit = _text(data.get('underlay_ip'))
    ip = ip6 = None
    if explicit or default.get('address') or 4 in versions:
        ip = parse_address(explicit or default.get('address'), host=name)
    explicit6 = _text(data.get('underlay_ip6')) if 6 in versions else ''
    if explicit6:
        ip6 = parse_address(explicit6, what='crosshost_underlay_ip6', host=name, version=6)

    interface = _text(data.get('underlay_interface'))
    if not interface:
        # The interface carrying an underlay address; else the default-route one.
        wanted = set(a for a in (ip, ip6) if a is not None)
        for entry in interfaces:
            if wanted & _ips(entry):
                interface = entry['interface']
                break
        else:
            interface = _text(default.get('interface')) or (_text(default6.get('interface')) if 6 in versions else '')

    if 6 in versions and ip6 is None:
        ip6 = next((_first_global_v6(i) for i in interfaces if i.get('interface') == interface), None)
    if ip is None and ip6 is None:
        raise SubnetError('host %s: no underlay address: set crosshost_underlay_ip6 (or crosshost_underlay_ip), or give %s '
                          'a global IPv6 address' % (name, interface or 'the host a default route and its interface'), name, None)

    mtu = data.get('underlay_mtu')
    if mtu is None or _text(mtu) == '':
        mtu = next((i.get('mtu') for i in interfaces if i.get('interface') == interface and i.get('mtu')), None)
        for route in (default, default6):
            if mtu is None and interface and interface == _text(route.get('interface')):
                mtu = route.get('mtu')
    try:
        mtu = int(mtu) if mtu is not None and _text(mtu) != '' else DEFAULT_MTU
    except (TypeError, ValueError):
        raise SubnetError('host %s: crosshost_underlay_mtu %r is not an integer' % (name, mtu), name, mtu)
    if not 576 <= mtu <= 65535:
        raise SubnetError('host %s: crosshost_underlay_mtu %d is out of range (576..65535)' % (name, mtu), name, mtu)
    return ip, ip6, interface or None, mtu


# The allocations file's maps: key -> what each value is (for messages).
_KEPT_KEYS = (('subnets', 'subnet'), ('underlay', 'underlay address'), ('subnets_v6', 'IPv6 subnet'),
              ('underlay_v6', 'IPv6 underlay address'))


def _kept(allocations, source):
    """``{key: {host: value}}`` of the allocations file's maps (see _KEPT_KEYS).

    None or '' means no file yet. ``underlay`` (the address the peers route to) and the
    IPv6 maps came later: a file without them still loads.
    """
    result = dict((key, {}) for key, what in _KEPT_KEYS)
    if allocations is None or allocations == '':
        return result
    if not isinstance(allocations, Mapping):
        raise SubnetError('%s: expected a YAML mapping with "subnets: {host: subnet}", got %r' % (source, allocations), None, allocations)
    for key, what in _KEPT_KEYS:
        entries = allocations.get(key)
        if entries is None:
            entries = {}
        if not isinstance(entries, Mapping):
            raise SubnetError('%s: "%s" must map host -> %s, got %r' % (source, key, what, entries), None, entries)
        result[key] = dict((str(h), _text(v)) for h, v in entries.items())
    return result


def _entry(subnet, subnet_v6):
    """A host's addresses of both families; those of a family the cluster has not are ''."""
    entry = subnet_entry(subnet) if subnet is not None else dict(subnet='', gateway='', bip='', prefixlen='')
    v6 = subnet_entry(subnet_v6) if subnet_v6 is not None else dict(subnet='', gateway='', bip='')
    entry.update(subnet_v6=v6['subnet'], gateway_v6=v6['gateway'], bip_v6=v6['bip'])
    return entry


def _outside_entries(outside, families, reserved, kept, mac_network):
    """Plan entries of the cluster's hosts outside this run, and why the others have none.

    Such a host keeps what it was given: its kept subnets (``reserved``: version ->
    {host: subnet}), and its underlay addresses from its inventory
    (crosshost_underlay_ip, crosshost_underlay_ip6) or else the allocations file; its
    VTEP MAC is derived from its name. Without a subnet and the underlay address its
    peers need it is reported, never guessed.
    """
    versions = [f.version for f in families]
    network = dict((f.version, str(f.network)) for f in families)
    entries, unplanned, errors = {}, {}, []
    for name in sorted(outside):
        data = outside[name] if isinstance(outside[name], Mapping) else {}
        ips = {}
        # The IPv4 underlay address is kept also in an IPv6-only cluster (as for the hosts in the run).
        for version in sorted(set(versions) | set([4])):
            key, var, kept_key = _UNDERLAY[version]
            explicit = _text(data.get(key))
            try:
                ips[version] = parse_address(explicit or kept[kept_key].get(name) or None, what=var, host=name, version=version)
            except SubnetError as exc:
                if explicit:
                    errors.append(exc.msg)
        subnets = dict((version, reserved[version].get(name)) for version in versions)
        if not any(subnets.values()):
            unplanned[name] = 'no subnet kept for it in the allocations file (never planned)'
        elif 4 in versions and 4 not in ips:
            unplanned[name] = 'no underlay address known: set crosshost_underlay_ip for it'
        elif not ips:
            unplanned[name] = 'no underlay address known: set crosshost_underlay_ip6 (or crosshost_underlay_ip) for it'
        else:
            entry = _entry(subnets.get(4), subnets.get(6))
            entry.update(underlay_ip=str(ips.get(4) or ''), underlay_ip6=str(ips.get(6) or ''), underlay_interface=None,
                         underlay_mtu=None, vtep_mac=stable_mac(mac_network, name), network=network.get(4, ''),
                         in_run=False, reachable=bool(data.get('reachable', True)))
            entries[name] = entry
    return entries, unplanned, errors


def _unique(messages):
    return [m for i, m in enumerate(messages) if m not in messages[:i]]


def cluster_plan(hosts, allocations=None, inventory_hosts=None, source='allocations file', outside=None, etcd=None):
    """Plan the whole cluster; see cluster_plan.yml for the input and output shapes."""
    try:
        return _cluster_plan(hosts, allocations, inventory_hosts, source, outside, etcd)
    except SubnetError as exc:
        raise AnsibleFilterError(exc.msg)


def _etcd_wanted(hosts, names, network, subnet_len, etcd):
    """What the overlay's etcd must hold for this plan (see _checks.etcd_errors)."""
    etcd = etcd if isinstance(etcd, Mapping) else {}
    data = hosts[names[0]]
    backend = data.get('backend')
    flanneld = backend == 'flanneld'
    return dict(
        endpoints=[str(url) for url in etcd.get('endpoints') or []],
        prefix=_text(etcd.get('prefix')) or '/coreos.com/network',
        deployed=bool(etcd.get('deployed')),
        network=str(network),
        subnet_len=subnet_len,
        backend=backend,
        backend_type=((data.get('overlay') or {}).get('flanneld_backend_type') or 'vxlan') if flanneld else 'vxlan',
        backend_type_var='flannel_flanneld_backend_type' if flanneld else 'crosshost_backend',
    )


def _same_underlay_errors(underlay, absent, versions):
    """Two hosts (in the run or not) with one underlay address of a version."""
    errors = []
    for version in versions:
        key, var, kept_key = _UNDERLAY[version]
        addresses = dict((name, value[0 if version == 4 else 1]) for name, value in underlay.items())
        addresses.update((name, parse_address(entry[key], version=version)) for name, entry in absent.items() if entry[key])
        seen = {}
        for name in sorted(n for n in addresses if addresses[n] is not None):
            ip = addresses[name]
            if ip in seen:
                errors.append('hosts %s and %s have the same underlay address %s: set %s per host' % (seen[ip], name, ip, var))
            seen.setdefault(ip, name)
    return errors


def _cluster_plan(hosts, allocations, inventory_hosts, source, outside, etcd):
    if not isinstance(hosts, Mapping) or not hosts:
        raise SubnetError('cluster_plan needs a mapping host -> inputs with at least one host, got %r' % (hosts,))
    hosts = dict((str(h), v if isinstance(v, Mapping) else {}) for h, v in hosts.items())
    names = sorted(hosts)
    if outside is not None and not isinstance(outside, Mapping):
        raise SubnetError('cluster_plan: outside must map host -> {underlay_ip, underlay_ip6, reachable}, got %r' % (outside,))
    outside = dict((str(h), v) for h, v in (outside or {}).items() if str(h) not in hosts)
    # Without the networks and subnet lengths nothing else can be checked: these stop here.
    families = _families(_agree(hosts, names), names[0])
    versions = [f.version for f in families]
    by_version = dict((f.version, f) for f in families)

    # From here on every problem of every host is collected, then reported together.
    errors = []
    for family in families:
        errors.extend(reserved_range_errors(family.network, names[0], family.network_var))
    errors.extend(backend_errors(hosts, names))
    if 4 not in versions:
        errors.extend(ipv6_only_errors(hosts, names))
    # The overlay's etcd holds IPv4 leases (flannel keys them by the IPv4 subnet).
    v4 = by_version.get(4)
    etcd_wanted = _etcd_wanted(hosts, names, v4.network if v4 else '', v4.subnet_len if v4 else '', etcd)
    problems, etcd_state = etcd_errors(hosts, names, etcd_wanted)
    errors.extend(problems)
    underlay = {}
    for name in names:
        try:
            underlay[name] = _underlay(name, hosts[name], versions)
        except SubnetError as exc:
            errors.append(exc.msg)

    kept = _kept(allocations, source)
    not_in_run = set(outside)
    if inventory_hosts is not None:
        not_in_run |= set(str(h) for h in inventory_hosts) - set(names)
    subnets, kept_reserved = {}, {}
    for family in families:
        family_kept = kept[family.subnets_key]
        reserved = dict((h, s) for h, s in family_kept.items() if h in not_in_run)
        pins = dict((name, hosts[name].get(family.pin_key)) for name in names)
        try:
            subnets[family.version] = allocate(names, family.network, family.subnet_len, kept=family_kept, pins=pins, reserved=reserved,
                                               subnet_min=family.subnet_min, subnet_max=family.subnet_max, what=family.pin_var)
        except SubnetError as exc:
            errors.append(exc.msg)
            subnets[family.version] = {}
        # Subnets kept for hosts outside this run: still fitting, not given to a host here.
        given = set(str(s) for s in subnets[family.version].values())
        kept_reserved[family.version] = {}
        for owner in sorted(reserved):
            subnet = family.fitting(reserved[owner])  # one that no longer fits is dropped from the file
            if subnet is not None and str(subnet) not in given and str(subnet) not in kept_reserved[family.version].values():
                kept_reserved[family.version][owner] = str(subnet)
    mac_network = families[0].network
    absent, unplanned, absent_errors = _outside_entries(outside, families, kept_reserved, kept, mac_network)
    errors.extend(absent_errors)
    errors.extend(_same_underlay_errors(underlay, absent, versions))

    overlaps = []
    for name in sorted(underlay):
        ip, ip6, interface, mtu = underlay[name]
        own = dict((f.version, subnets[f.version].get(name) or f.fitting(kept[f.subnets_key].get(name))) for f in families)
        for family in families:
            overlaps.extend(overlap_errors(family.network, name, ip if family.version == 4 else ip6, hosts[name].get('interfaces'),
                                           own[family.version]))
        entry = dict(subnet=own.get(4), underlay_interface=interface, underlay_mtu=mtu)
        network = by_version[4].network if 4 in by_version else None
        errors.extend(host_state_errors(name, hosts[name], network, entry, bool(_text(hosts[name].get('underlay_interface')))))
        if 6 in by_version:
            errors.extend(ipv6_host_errors(name, hosts[name], by_version[6].network, own[6], mtu))
    # Overlaps with what the hosts have come first: they are often why nothing fits.
    errors = overlaps + errors
    errors = _unique(errors)
    if len(errors) == 1:
        raise SubnetError(errors[0])
    if errors:
        raise SubnetError('%d problems, nothing was changed on any host:\n- %s' % (len(errors), '\n- '.join(errors)))

    plan = dict(absent)
    for name in names:
        ip, ip6, interface, mtu = underlay[name]
        entry = _entry(subnets.get(4, {}).get(name), subnets.get(6, {}).get(name))
        entry.update(
            underlay_ip=str(ip or ''),
            underlay_ip6=str(ip6 or ''),
            underlay_interface=interface,
            underlay_mtu=mtu,
            vtep_mac=stable_mac(mac_network, name),
            network=str(by_version[4].network) if 4 in by_version else '',
            in_run=True,
            reachable=True,
        )
        plan[name] = entry
    macs = {}
    for name in sorted(plan):
        mac = plan[name]['vtep_mac']
        if mac in macs:  # 40 random bits: practically never, but never silently
            raise SubnetError('hosts %s and %s derive the same VTEP MAC %s: rename one' % (macs[mac], name, mac))
        macs[mac] = name

    result = dict(hosts=names, plan=plan, outside=sorted(outside), unplanned=unplanned, allocations={})
    # The peers' addresses of every host that keeps a subnet, so that a later run without
    # it (--limit, unreachable) still routes to it.
    keeping = set(h for family in families for h in kept_reserved[family.version])
    for version in (4, 6):
        key, var, kept_key = _UNDERLAY[version]
        if version == 6 and 6 not in by_version:
            continue
        addresses = dict((h, kept[kept_key][h]) for h in keeping if kept[kept_key].get(h))
        addresses.update((name, entry[key]) for name, entry in plan.items() if entry[key])
        result['allocations'][kept_key] = addresses
    for version, suffix in ((4, ''), (6, '_v6')):
        family = by_version.get(version)
        if family is None:
            result.update(dict((k + suffix, '') for k in ('network', 'subnet_len', 'subnet_min', 'subnet_max')), **{'reserved' + suffix: {}})
            continue
        first, last = family.bounds
        all_subnets = dict((name, str(subnet)) for name, subnet in subnets[version].items())
        all_subnets.update(kept_reserved[version])
        result.update({
            'network' + suffix: str(family.network),
            'subnet_len' + suffix: family.subnet_len,
            'subnet_min' + suffix: str(subnet_at(family.network, family.subnet_len, first).network_address),
            'subnet_max' + suffix: str(subnet_at(family.network, family.subnet_len, last).network_address),
            'reserved' + suffix: kept_reserved[version],
        })
        result['allocations'].update({'network' + suffix: str(family.network), 'subnet_len' + suffix: family.subnet_len,
                                      family.subnets_key: all_subnets})
    result['etcd'] = dict(state=etcd_state, endpoints=etcd_wanted['endpoints'])
    return result


class FilterModule(object):
    """crosshost.network cluster plan filters."""

    def filters(self):
        return {
            'cluster_plan': cluster_plan,
            'host_interfaces': host_interfaces,
            'not_reached': not_reached,
        }
