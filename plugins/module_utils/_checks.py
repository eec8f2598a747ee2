# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the plan checks on every host before any host is changed (pure, stdlib only).

Each function returns a list of messages (empty: fine); every message names the host,
the variable, the value and the fix, so the caller can list all of them in one failure.
The host's state comes from the preflight probe: interfaces (with ``active``), routes
(``network_facts``, every table) and kernel support (``kernel_support``). A part that
was not probed (``None``) is not checked.

What we installed ourselves is never a conflict: routes of protocol 147 (``ours``),
anything on our own devices (the container bridge, the VXLAN device) and addresses
inside the host's own planned subnet. So a rerun passes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json

from ansible_collections.crosshost.network.plugins.module_utils._flannel import BACKEND_OVERHEAD, VXLAN_OVERHEAD_V6

# Ranges that must never carry containers, per IP version. The IPv6 documentation
# prefix 2001:db8::/32 is allowed (the tests use it), as are unique local addresses.
RESERVED_RANGES = {
    4: (
        ('0.0.0.0/8', '"this network" (0.0.0.0/8)'),
        ('127.0.0.0/8', 'loopback'),
        ('169.254.0.0/16', 'link-local'),
        ('224.0.0.0/4', 'multicast'),
        ('240.0.0.0/4', 'reserved (240.0.0.0/4)'),
        ('255.255.255.255/32', 'limited broadcast'),
    ),
    6: (
        ('::/128', 'unspecified'),
        ('::1/128', 'loopback'),
        ('::/96', 'IPv4-compatible (deprecated, RFC 4291)'),
        ('::ffff:0:0/96', 'IPv4-mapped'),
        ('64:ff9b::/96', 'NAT64 well-known prefix'),
        ('64:ff9b:1::/48', 'local-use NAT64'),
        ('100::/64', 'discard-only'),
        ('2001::/23', 'IETF protocol assignments (Teredo, ORCHID, ...)'),
        ('2002::/16', '6to4'),
        ('5f00::/16', 'SRv6 SIDs'),
        ('fec0::/10', 'site-local (deprecated)'),
        ('fe80::/10', 'link-local'),
        ('ff00::/8', 'multicast'),
    ),
}
EXAMPLE_NETWORKS = {4: '100.64.0.0/16', 6: 'fd00:64::/48'}
IPV6_MIN_MTU = 1280

BACKENDS = ('static_routes', 'vxlan', 'flanneld', 'pipework', 'none')
# The backends of the flannel role (the VXLAN overlay, leases).
OVERLAY_BACKENDS = ('vxlan', 'flanneld')
MIN_MTU = 576


def reserved_range_errors(network, host, what='crosshost_network'):
    """The network must not overlap a reserved range of its IP version."""
    errors = []
    for cidr, name in RESERVED_RANGES.get(network.version, ()):
        reserved = ipaddress.ip_network(cidr)
        if network.overlaps(reserved):
            errors.append('host %s: %s %s overlaps the %s range %s, which must never carry containers: '
                          'choose another range, e.g. %s' % (host, what, network, name, reserved, EXAMPLE_NETWORKS[network.version]))
    return errors


def backend_errors(hosts, names):
    """``crosshost_backend`` known and the same on every host (a host without one is not checked)."""
    backends = dict((n, hosts[n]['backend']) for n in names if hosts[n].get('backend') is not None)
    errors = ['host %s: crosshost_backend %r is not a backend: use one of %s' % (name, backend, ', '.join(BACKENDS))
              for name, backend in sorted(backends.items()) if backend not in BACKENDS]
    if not errors and len(set(backends.values())) > 1:
        ref = min(backends)
        errors = ['host %s: crosshost_backend %r differs from %r on host %s: it must be the same on every host'
                  % (name, backend, backends[ref], ref) for name, backend in sorted(backends.items()) if backend != backends[ref]]
    return errors


def ipv6_only_errors(hosts, names):
    """Backends that cannot carry an IPv6-only cluster (no crosshost_network)."""
    flanneld = [n for n in names if hosts[n].get('backend') == 'flanneld']
    if not flanneld:
        return []
    # flanneld's etcd subnet manager finds a host's lease by its PublicIP, which is 0.0.0.0
    # on every IPv6-only host, and allocates only IPv4 subnets: all would share one lease.
    return ['host %s: crosshost_backend flanneld cannot run an IPv6-only cluster (crosshost_network empty): flanneld\'s etcd '
            'subnet manager gives every IPv6-only host the same lease. Use crosshost_backend vxlan (flannel-compatible leases '
            'without flanneld) or static_routes, or give crosshost_network an IPv4 network too' % flanneld[0]]


def _links(interfaces):
    return dict((i.get('interface'), i) for i in interfaces or [] if i.get('interface'))


def interface_errors(host, var, device, interfaces, why):
    """``device`` exists on the host and is up (``interfaces`` as host_interfaces returns)."""
    links = _links(interfaces)
    if not links or not device:
        return []
    if device not in links:
        return ['host %s: %s %r does not exist on this host (it has %s): %s'
                % (host, var, device, ', '.join(sorted(links)), why)]
    if links[device].get('active') is False:
        return ['host %s: %s %r is down: bring it up (ip link set %s up) or choose another interface'
                % (host, var, device, device)]
    return []


def route_errors(host, network, routes, own_subnet, own_devices, what='crosshost_network'):
    """Routes the host already has that overlap the cluster network (ours excepted); none without one."""
    errors = []
    if network is None:
        return errors
    for route in routes or []:
        if route.get('ours') or route.get('dev') in own_devices or route.get('table') == 'local':
            continue
        if route.get('type', 'unicast') not in ('unicast', 'blackhole', 'unreachable', 'prohibit'):
            continue
        try:
            dst = ipaddress.ip_network(str(route.get('dst')), strict=False)
        except ValueError:
            continue  # 'default'
        if dst.version != network.version or not dst.overlaps(network):
            continue
        if own_subnet is not None and dst.subnet_of(own_subnet):
            continue
        errors.append('host %s: route %s%s (proto %s, table %s) overlaps %s %s: '
                      'choose a %s that avoids it, or remove the route'
                      % (host, dst, ' dev %s' % route['dev'] if route.get('dev') else '', route.get('protocol'),
                         route.get('table', 'main'), what, network, what))
    return errors


def _kernel_errors(host, backend, kernel, feature):
    if kernel is None or kernel.get(feature, True):
        return []
    return ['host %s: crosshost_backend %s needs the kernel\'s %s support, which this host has neither built in nor as a module: '
            'install a kernel with CONFIG_%s (or its module package), or choose another backend' % (host, backend, feature, feature.upper())]


def backend_host_errors(host, data, entry):
    """The backend's prerequisites on one host. ``entry``: the host's plan entry."""
    backend = data.get('backend')
    overlay = data.get('overlay') or {}
    kernel = data.get('kernel')
    errors = []
    if backend in ('static_routes', 'vxlan', 'flanneld') and not entry.get('underlay_interface'):
        errors.append('host %s: crosshost_backend %s needs the underlay interface, which is not known: set crosshost_underlay_interface'
                      % (host, backend))
    if backend in OVERLAY_BACKENDS:
        encap = 'vxlan' if backend == 'vxlan' else overlay.get('flanneld_backend_type') or 'vxlan'
        if encap == 'vxlan':
            errors.extend(_kernel_errors(host, backend, kernel, 'vxlan'))
        overlay_mtu = entry['underlay_mtu'] - BACKEND_OVERHEAD.get(encap, 0)
        if overlay_mtu < MIN_MTU:
            errors.append('host %s: crosshost_underlay_mtu %d leaves the %s overlay an MTU of %d (%d bytes of encapsulation), below %d: '
                          'raise the MTU of %s or set crosshost_underlay_mtu, or choose crosshost_backend static_routes'
                          % (host, entry['underlay_mtu'], encap, overlay_mtu, BACKEND_OVERHEAD.get(encap, 0), MIN_MTU, entry.get('underlay_interface')))
    if backend == 'flanneld':
        if not overlay.get('etcd'):
            errors.append('host %s: crosshost_backend flanneld needs etcd: add hosts to the inventory group etcd, '
                          'or set flannel_etcd: true with flannel_etcd_endpoints' % host)
        if not overlay.get('flanneld_binary'):
            errors.append('host %s: crosshost_backend flanneld needs the flanneld binary: set flannel_binary_src, '
                          'or flannel_binary_url with flannel_binary_checksum' % host)
    if backend == 'pipework':
        uplink = data.get('pipework_uplink')
        errors.extend(interface_errors(host, 'pipework_uplink', uplink, data.get('interfaces'),
                                       'set pipework_uplink to the NIC to join to the bridge, or leave it empty'))
        if data.get('pipework_macvlan'):
            errors.extend(_kernel_errors(host, backend, kernel, 'macvlan'))
    return errors


def host_state_errors(host, data, network, entry, explicit_interface):
    """Everything the host's own facts can refute: interfaces, routes, backend needs."""
    errors = []
    why = 'set crosshost_underlay_interface to one of them' if explicit_interface else \
        'it comes from the default route: set crosshost_underlay_interface'
    errors.extend(interface_errors(host, 'crosshost_underlay_interface', entry.get('underlay_interface'),
                                   data.get('interfaces'), why))
    own_subnet = ipaddress.ip_network(str(entry['subnet'])) if entry.get('subnet') else None
    errors.extend(route_errors(host, network, data.get('routes'), own_subnet, set(data.get('own_devices') or ())))
    errors.extend(backend_host_errors(host, data, entry))
    errors.extend(daemon_json_errors(host, data.get('docker_daemon_json')))
    return errors


def ipv6_host_errors(host, data, network_v6, own_subnet_v6, underlay_mtu):
    """What refutes the cluster's IPv6 network on one host: routes overlapping it, and
    an MTU left to the containers below IPv6's minimum (1280). The overlay's IPv6 device
    gets the MTU of VXLAN over IPv6 (the roles' flannel_mtu_v6)."""
    errors = route_errors(host, network_v6, data.get('routes'), own_subnet_v6, set(data.get('own_devices') or ()),
                          what='crosshost_network_v6')
    backend = data.get('backend')
    encap = {'vxlan': 'vxlan', 'flanneld': (data.get('overlay') or {}).get('flanneld_backend_type') or 'vxlan'}.get(backend)
    overhead = VXLAN_OVERHEAD_V6 if encap == 'vxlan' else BACKEND_OVERHEAD.get(encap, 0) if encap else 0
    if underlay_mtu - overhead < IPV6_MIN_MTU:
        errors.append('host %s: crosshost_underlay_mtu %d leaves the containers an MTU of %d%s, below IPv6\'s minimum of %d: '
                      'raise the MTU of the underlay (or crosshost_underlay_mtu), or leave crosshost_network_v6 unset'
                      % (host, underlay_mtu, underlay_mtu - overhead,
                         ' (%d bytes of %s encapsulation%s)' % (overhead, encap, ' over IPv6' if encap == 'vxlan' else '') if overhead else '',
                         IPV6_MIN_MTU))
    return errors


def parse_json_file(path, content):
    """The JSON object in a file (``{}`` when empty); ValueError names the file and the line."""
    if content is None or not content.strip():
        return {}
    try:
        value = json.loads(content)
    except ValueError as exc:
        where = 'line %d column %d: %s' % (exc.lineno, exc.colno, exc.msg) if hasattr(exc, 'lineno') else str(exc)
        raise ValueError('%s %s: fix or remove the file (it was left as it is)' % (path, where))
    if not isinstance(value, dict):
        raise ValueError('%s must hold a JSON object, not %s: fix or remove the file (it was left as it is)'
                         % (path, type(value).__name__))
    return value


def daemon_json_errors(host, daemon_json):
    """Docker's daemon.json (``{path, content}``, content None: no file) must be a JSON object."""
    if not daemon_json or daemon_json.get('content') is None:
        return []
    try:
        parse_json_file(daemon_json.get('path'), daemon_json['content'])
    except ValueError as exc:
        return ['host %s: docker_daemon_json %s' % (host, exc)]
    return []


# ---- the overlay's etcd -------------------------------------------------------------

ETCD_UNAVAILABLE = ('fail', 'use_allocations')


def _etcd_failed(answer):
    # The query is registered with failed_when false: a failed one has no leases.
    return bool(answer.get('failed')) or 'leases' not in answer


def _etcd_unreachable(answer):
    # The etcd client's words when no endpoint answers (module_utils/_etcd.EtcdUnreachable).
    return _etcd_failed(answer) and str(answer.get('msg', '')).startswith('etcd unreachable')


def _etcd_config_errors(host, config, want):
    """What of etcd's flannel config (``flannel_lease``'s ``config``) the plan cannot use."""
    key = '%s/config' % want['prefix']
    fields = (
        ('network', 'Network', 'crosshost_network', want['network']),
        ('subnet_len', 'SubnetLen', 'crosshost_subnet_len', want['subnet_len']),
        ('backend_type', 'Backend.Type', want['backend_type_var'], want['backend_type']),
    )
    errors = []
    for name, field, var, value in fields:
        # IPv6 only: no Network nor SubnetLen on either side (None in etcd, '' in the plan).
        if str(config.get(name) or '') == str(value or ''):
            continue
        # crosshost_backend vxlan takes no other type: only flanneld's is a setting.
        settable = var != 'crosshost_backend'
        errors.append('host %s: etcd at %s holds %s with %s %s, but %s is %s here: %sdelete the key (etcdctl del %s) '
                      'so that this run writes the plan\'s, or use another flannel_etcd_prefix'
                      % (host, ', '.join(want['endpoints']), key, field, config.get(name), var, value,
                         'set %s to %s, or ' % (var, config.get(name)) if settable else '', key))
    return errors


def etcd_errors(hosts, names, want):
    """The overlay's etcd as every host's read-only probe found it, before anything is written.

    :param hosts: host -> plan input; ``etcd`` is the registered ``flannel_lease``
        query (None: not asked), ``etcd_unavailable`` the host's crosshost_etcd_unavailable.
    :param want: endpoints, prefix, network, subnet_len, backend_type, backend_type_var,
        backend and deployed (this run deploys etcd itself: it may not run yet).
    :returns: ``(errors, state)``; state is ``unused`` (not asked), ``up``, ``deployed``
        (no answer yet, this run starts it) or ``down`` (no answer, the run finishes
        from the kept allocations as crosshost_etcd_unavailable asks).
    """
    asked = [n for n in names if isinstance(hosts[n].get('etcd'), dict) and not hosts[n]['etcd'].get('skipped')]
    if not asked:
        return [], 'unused'
    if not want['endpoints']:
        return ['host %s: crosshost_backend %s takes its leases from etcd (flannel_etcd), but no etcd is known: add hosts to the '
                'inventory group etcd, or set flannel_etcd_endpoints (or flannel_etcd: false)' % (asked[0], want['backend'])], None
    errors, down = [], []
    urls = ', '.join(want['endpoints'])
    for name in asked:
        answer = hosts[name]['etcd']
        unavailable = hosts[name].get('etcd_unavailable') or 'fail'
        if unavailable not in ETCD_UNAVAILABLE:
            errors.append('host %s: crosshost_etcd_unavailable %r is not valid: use fail or use_allocations' % (name, unavailable))
        elif _etcd_unreachable(answer):
            if want['deployed']:
                continue
            if want['backend'] == 'flanneld':
                errors.append('host %s: etcd does not answer at %s (%s), and crosshost_backend flanneld cannot run without it: '
                              'start etcd or fix flannel_etcd_endpoints, then run again' % (name, urls, answer['msg']))
            elif unavailable == 'use_allocations':
                down.append(name)
            else:
                errors.append('host %s: etcd does not answer at %s (%s): start etcd or fix flannel_etcd_endpoints and run again, '
                              'or set crosshost_etcd_unavailable=use_allocations to finish this run from the kept allocations '
                              '(the leases are written by the next run with etcd up)' % (name, urls, answer['msg']))
        elif _etcd_failed(answer):
            errors.append('host %s: etcd at %s answered, but reading %s failed: %s: fix it (or the flannel_etcd_* settings) and run again'
                          % (name, urls, want['prefix'], answer.get('msg')))
    # The config is one for all: compared once, from the first host that read it.
    reader = next((n for n in asked if not _etcd_failed(hosts[n]['etcd'])), None)
    config = hosts[reader]['etcd'].get('config') if reader else None
    if config:
        errors.extend(_etcd_config_errors(reader, config, want))
    if errors:
        return errors, None
    if down:
        return [], 'down'
    return [], 'up' if reader else 'deployed'
