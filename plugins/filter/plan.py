# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters computing the cluster plan once, on the controller.

``cluster_plan`` turns what the ``preflight`` role collected from every host into one
plan (host -> subnet, gateway, underlay address, VTEP MAC...) plus the new content of
the allocations file; ``host_interfaces`` reduces a host's network facts to what the
plan needs. Documentation: cluster_plan.yml and host_interfaces.yml beside this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.crosshost.network.plugins.module_utils._checks import (
    backend_errors,
    etcd_errors,
    host_state_errors,
    reserved_range_errors,
)
from ansible_collections.crosshost.network.plugins.module_utils._subnets import (
    DEFAULT_MTU,
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
)


def _text(value):
    return '' if value is None else str(value).strip()


def _fact_key(device):
    """Key of an interface in ansible_facts ('-' and ':' become '_')."""
    return device.replace('-', '_').replace(':', '_')


def host_interfaces(facts):
    """``ansible_facts`` (network subset) -> ``[{interface, mtu, addresses}]``, sorted by name.

    ``addresses`` lists every IPv4 address with its prefix (primary and secondaries).
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
        result.append(dict(interface=str(data.get('device') or name), mtu=data.get('mtu'), addresses=addresses,
                           active=data.get('active')))
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
    if not _text(values['network']):
        raise SubnetError('host %s: crosshost_network is not set (the container network of the whole cluster, e.g. 100.64.0.0/16)'
                          % names[0], names[0], values['network'])
    return values


def _underlay(name, data):
    """(ip, interface, mtu) of one host: explicit values first, then its facts."""
    default = data.get('default_ipv4') if isinstance(data.get('default_ipv4'), Mapping) else {}
    interfaces = [i for i in (data.get('interfaces') or []) if isinstance(i, Mapping)]
    explicit = _text(data.get('underlay_ip'))
    ip = parse_address(explicit or default.get('address'), host=name)

    interface = _text(data.get('underlay_interface'))
    if not interface:
        # The interface carrying the underlay address; else the default-route one.
        for entry in interfaces:
            if any(_text(a).partition('/')[0] == str(ip) for a in entry.get('addresses') or []):
                interface = entry['interface']
                break
        else:
            interface = _text(default.get('interface'))

    mtu = data.get('underlay_mtu')
    if mtu is None or _text(mtu) == '':
        mtu = next((i.get('mtu') for i in interfaces if i.get('interface') == interface and i.get('mtu')), None)
        if mtu is None and interface and interface == _text(default.get('interface')):
            mtu = default.get('mtu')
    try:
        mtu = int(mtu) if mtu is not None and _text(mtu) != '' else DEFAULT_MTU
    except (TypeError, ValueError):
        raise SubnetError('host %s: crosshost_underlay_mtu %r is not an integer' % (name, mtu), name, mtu)
    if not 576 <= mtu <= 65535:
        raise SubnetError('host %s: crosshost_underlay_mtu %d is out of range (576..65535)' % (name, mtu), name, mtu)
    return ip, interface or None, mtu


def _kept(allocations, source):
    """``({host: subnet}, {host: underlay_ip})`` from the allocations file's content.

    None or '' means no file yet. ``underlay`` (the address the peers route to) came
    later: a file without it still loads.
    """
    if allocations is None or allocations == '':
        return {}, {}
    if not isinstance(allocations, Mapping):
        raise SubnetError('%s: expected a YAML mapping with "subnets: {host: subnet}", got %r' % (source, allocations), None, allocations)
    result = []
    for key, what in (('subnets', 'subnet'), ('underlay', 'underlay address')):
        entries = allocations.get(key)
        if entries is None:
            entries = {}
        if not isinstance(entries, Mapping):
            raise SubnetError('%s: "%s" must map host -> %s, got %r' % (source, key, what, entries), None, entries)
        result.append(dict((str(h), _text(v)) for h, v in entries.items()))
    return result[0], result[1]


def _outside_entries(outside, reserved_subnets, kept_underlay, network):
    """Plan entries of the cluster's hosts outside this run, and why the others have none.

    Such a host keeps what it was given: its kept subnet, and the underlay address from
    its inventory (crosshost_underlay_ip) or else the allocations file; its VTEP MAC is
    derived from its name. Without both it is reported, never guessed.
    """
    entries, unplanned, errors = {}, {}, []
    for name in sorted(outside):
        data = outside[name] if isinstance(outside[name], Mapping) else {}
        subnet = reserved_subnets.get(name)
        explicit = _text(data.get('underlay_ip'))
        ip = None
        try:
            ip = parse_address(explicit or kept_underlay.get(name) or None, host=name)
        except SubnetError as exc:
            if explicit:
                errors.append(exc.msg)
        if subnet is None:
            unplanned[name] = 'no subnet kept for it in the allocations file (never planned)'
        elif ip is None:
            unplanned[name] = 'no underlay address known: set crosshost_underlay_ip for it'
        else:
            entry = subnet_entry(subnet)
            entry.update(underlay_ip=str(ip), underlay_interface=None, underlay_mtu=None,
                         vtep_mac=stable_mac(network, name), network=str(network),
                         in_run=False, reachable=bool(data.get('reachable', True)))
            entries[name] = entry
    return entries, unplanned, errors


def _fitting(value, network, subnet_len, bounds):
    """A kept subnet that still fits the network, else None."""
    try:
        return check_subnet(value, network, subnet_len, bounds) if _text(value) else None
    except SubnetError:
        return None


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


def _cluster_plan(hosts, allocations, inventory_hosts, source, outside, etcd):
    if not isinstance(hosts, Mapping) or not hosts:
        raise SubnetError('cluster_plan needs a mapping host -> inputs with at least one host, got %r' % (hosts,))
    hosts = dict((str(h), v if isinstance(v, Mapping) else {}) for h, v in hosts.items())
    names = sorted(hosts)
    if outside is not None and not isinstance(outside, Mapping):
        raise SubnetError('cluster_plan: outside must map host -> {underlay_ip, reachable}, got %r' % (outside,))
    outside = dict((str(h), v) for h, v in (outside or {}).items() if str(h) not in hosts)
    # Without one network and subnet length nothing else can be checked: these stop here.
    cluster = _agree(hosts, names)
    network = parse_network(cluster['network'], host=names[0])
    subnet_len = validate_subnet_len(network, cluster['subnet_len'], host=names[0])
    first, last = subnet_bounds(network, subnet_len, cluster['subnet_min'], cluster['subnet_max'], host=names[0])

    # From here on every problem of every host is collected, then reported together.
    errors = reserved_range_errors(network, names[0]) + backend_errors(hosts, names)
    etcd_wanted = _etcd_wanted(hosts, names, network, subnet_len, etcd)
    problems, etcd_state = etcd_errors(hosts, names, etcd_wanted)
    errors.extend(problems)
    underlay = {}
    for name in names:
        try:
            underlay[name] = _underlay(name, hosts[name])
        except SubnetError as exc:
            errors.append(exc.msg)

    kept, kept_underlay = _kept(allocations, source)
    members = set(names)
    not_in_run = set(outside)
    if inventory_hosts is not None:
        not_in_run |= set(str(h) for h in inventory_hosts) - members
    reserved = dict((h, s) for h, s in kept.items() if h in not_in_run)
    pins = dict((name, hosts[name].get('subnet')) for name in names)
    try:
        subnets = allocate(names, network, subnet_len, kept=kept, pins=pins, reserved=reserved,
                           subnet_min=cluster['subnet_min'], subnet_max=cluster['subnet_max'])
    except SubnetError as exc:
        errors.append(exc.msg)
        subnets = {}

    # Subnets kept for hosts outside this run: still fitting, not given to a host here.
    kept_reserved = {}
    for owner in sorted(reserved):
        try:
            subnet = check_subnet(reserved[owner], network, subnet_len, (first, last))
        except SubnetError:
            continue  # no longer fits this network: dropped from the file
        if str(subnet) not in [str(s) for s in subnets.values()] and str(subnet) not in kept_reserved.values():
            kept_reserved[owner] = str(subnet)
    absent, unplanned, absent_errors = _outside_entries(outside, kept_reserved, kept_underlay, network)
    errors.extend(absent_errors)

    seen = {}
    addresses = dict((name, underlay[name][0]) for name in underlay)
    addresses.update((name, parse_address(entry['underlay_ip'])) for name, entry in absent.items())
    for name in sorted(addresses):
        ip = addresses[name]
        if ip in seen:
            errors.append('hosts %s and %s have the same underlay address %s: set crosshost_underlay_ip per host' % (seen[ip], name, ip))
        seen.setdefault(ip, name)

    overlaps = []
    for name in sorted(underlay):
        own = subnets.get(name) or _fitting(kept.get(name), network, subnet_len, (first, last))
        overlaps.extend(overlap_errors(network, name, underlay[name][0], hosts[name].get('interfaces'), own))
        entry = dict(subnet=own, underlay_interface=underlay[name][1], underlay_mtu=underlay[name][2])
        errors.extend(host_state_errors(name, hosts[name], network, entry, bool(_text(hosts[name].get('underlay_interface')))))
    # Overlaps with what the hosts have come first: they are often why nothing fits.
    errors = overlaps + errors
    errors = _unique(errors)
    if len(errors) == 1:
        raise SubnetError(errors[0])
    if errors:
        raise SubnetError('%d problems, nothing was changed on any host:\n- %s' % (len(errors), '\n- '.join(errors)))

    plan = dict(absent)
    for name in names:
        ip, interface, mtu = underlay[name]
        entry = subnet_entry(subnets[name])
        entry.update(
            underlay_ip=str(ip),
            underlay_interface=interface,
            underlay_mtu=mtu,
            vtep_mac=stable_mac(network, name),
            network=str(network),
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

    all_subnets = dict((name, str(subnet)) for name, subnet in subnets.items())
    all_subnets.update(kept_reserved)
    # The peers' address of every host that keeps a subnet, so that a later run without
    # it (--limit, unreachable) still routes to it.
    all_underlay = dict((h, kept_underlay[h]) for h in kept_reserved if kept_underlay.get(h))
    all_underlay.update((name, entry['underlay_ip']) for name, entry in plan.items())
    return dict(
        network=str(network),
        subnet_len=subnet_len,
        subnet_min=str(subnet_at(network, subnet_len, first).network_address),
        subnet_max=str(subnet_at(network, subnet_len, last).network_address),
        hosts=names,
        plan=plan,
        outside=sorted(outside),
        unplanned=unplanned,
        reserved=kept_reserved,
        etcd=dict(state=etcd_state, endpoints=etcd_wanted['endpoints']),
        allocations=dict(network=str(network), subnet_len=subnet_len, subnets=all_subnets, underlay=all_underlay),
    )


class FilterModule(object):
    """crosshost.network cluster plan filters."""

    def filters(self):
        return {
            'cluster_plan': cluster_plan,
            'host_interfaces': host_interfaces,
            'not_reached': not_reached,
        }
