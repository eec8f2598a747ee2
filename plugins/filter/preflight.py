# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters turning what the ``preflight`` role read from every host into the plan's inputs.

``preflight_inputs`` describes each host of the run for ``cluster_plan`` (and for
``lan_slices``) from the variables it noted as its tasks see them (the ``note`` of its
read: ``hostvars`` holds no play, ``import_playbook`` or role variables) and what ``hostvars``
holds of it (its probe, its facts), tells the hosts that dropped out of the run
(unreachable: planned from what they kept; failed: the run stops) and describes the
hosts of the cluster outside it. ``host_groups`` names the groups of site.yml's plays
each host has work in. ``etcd_endpoints`` gives the overlay's etcd URLs the
way the flannel role reaches them. They run once, on the controller, in one task:
pure Python instead of a chain of set_fact tasks, one per host each.
Documentation: preflight_inputs.yml and etcd_endpoints.yml beside this file.

A host's state comes from one ``network_facts`` run (the role's probe): interfaces with
their addresses and flags, routes of every table, kernel support, Docker's
daemon.json and whether some paths exist. Without that probe (``preflight_gather_facts:
false``) it comes from the facts already there, the setup module's included.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import ChainMap
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.crosshost.network.plugins.filter.plan import host_interfaces, not_reached
from ansible_collections.crosshost.network.plugins.module_utils._checks import OVERLAY_BACKENDS

DEFAULT_DAEMON_JSON = '/etc/docker/daemon.json'
# IPv6 addresses the kernel does not choose as a source.
_NO_SOURCE_V6 = frozenset(('tentative', 'dadfailed', 'deprecated'))
_FAMILIES = {4: 'inet', 6: 'inet6'}
# The roles whose files another backend may leave: (role, its directory's variable and
# default, the backends that keep them). site.yml asks the probe about these directories.
_PIECES = (('flannel', 'flannel_config_dir', '/etc/crosshost/flannel', OVERLAY_BACKENDS),
           ('pipework', 'pipework_config_dir', '/etc/crosshost/pipework', ('pipework',)))
# The plan's inputs that are the inventory's crosshost_<key> as it is (None when unset).
_CROSSHOST_KEYS = ('network', 'subnet_len', 'subnet_min', 'subnet_max', 'subnet', 'network_v6', 'subnet_len_v6', 'subnet_v6',
                   'underlay_ip', 'underlay_ip6', 'underlay_interface', 'underlay_mtu')


def _text(value):
    return '' if value is None else str(value).strip()


def _get(variables, name, default=None):
    """A variable of a host, ``default`` when the host has none (Jinja's ``default()``)."""
    try:
        return variables[name] if name in variables else default
    except TypeError:
        return default


def _bool(value):
    return boolean(value, strict=False)


def _used(result):
    """A registered module result that ran and did not fail, else None."""
    if not isinstance(result, Mapping) or result.get('skipped') or result.get('failed') or result.get('unreachable'):
        return None
    return result


def probe_interfaces(facts):
    """network_facts' ``interfaces`` -> what host_interfaces returns (setup's ``active``: operstate not down)."""
    result = []
    interfaces = facts.get('interfaces') if isinstance(facts, Mapping) else None
    for name in sorted(interfaces or {}):
        data = interfaces[name] if isinstance(interfaces[name], Mapping) else {}
        addresses = [a for a in data.get('addresses') or [] if isinstance(a, Mapping) and a.get('cidr')]
        result.append(dict(
            interface=str(name),
            mtu=data.get('mtu'),
            addresses=[str(a['cidr']) for a in addresses if a.get('family') == 'inet'],
            addresses_v6=[dict(cidr=str(a['cidr']), scope=a.get('scope'), flags=list(a.get('flags') or []))
                          for a in addresses if a.get('family') == 'inet6'],
            active=_text(data.get('operstate')).upper() != 'DOWN' if data.get('operstate') is not None else None,
        ))
    return result


def probe_default(facts, version):
    """``{interface, address, gateway, mtu}`` of the default route of the main table, as setup's ``default_ipv4``/``_ipv6``.

    From network_facts' routes and interfaces: the default unicast route of the lowest
    metric; its device (or its first next hop's), its gateway, and as address its
    preferred source, else the device's first global address the kernel would use
    (IPv4: the primary one). ``{}`` without such a route.
    """
    family = _FAMILIES[version]
    routes = [r for r in facts.get('routes') or [] if isinstance(r, Mapping) and r.get('dst') == 'default'
              and r.get('family') == family and _text(r.get('table')) in ('', 'main') and r.get('type', 'unicast') == 'unicast']
    if not routes:
        return {}
    route = min(routes, key=lambda r: r.get('metric') or 0)  # min keeps the first of equal metrics
    hops = [h for h in route.get('nexthops') or [] if isinstance(h, Mapping)]
    device = route.get('dev') or (hops[0].get('dev') if hops else None)
    interface = (facts.get('interfaces') or {}).get(device) or {}
    address = route.get('prefsrc')
    if not address:
        for candidate in interface.get('addresses') or []:
            flags = set(candidate.get('flags') or ())
            if candidate.get('family') == family and candidate.get('scope') == 'global' and not flags & _NO_SOURCE_V6 \
                    and 'secondary' not in flags:
                address = candidate.get('address')
                break
    result = dict(interface=device, gateway=route.get('gateway') or (hops[0].get('gateway') if hops else None),
                  mtu=interface.get('mtu'))
    if address:
        result['address'] = str(address)
    return result


def _host_state(variables, probe_name):
    """(interfaces, default_ipv4, default_ipv6, routes, kernel, files) of one host: its probe, else its facts."""
    facts = _get(variables, 'ansible_facts') or {}
    probe = _used(_get(variables, probe_name))
    # A read of none of the parts (preflight_gather_facts false) leaves them to the facts.
    gathered = probe is not None and ('interfaces' in probe or 'routes' in probe)
    network = probe if gathered else facts.get('crosshost_network_facts')
    network = network if isinstance(network, Mapping) else {}
    kernel = probe.get('kernel_support') if probe is not None else None
    if kernel is None:
        kernel = facts.get('crosshost_kernel_support')
    files = (probe or {}).get('files') or {}
    if 'interfaces' in network:
        return (probe_interfaces(network), probe_default(network, 4), probe_default(network, 6), network.get('routes'), kernel, files)
    # The setup module's facts (a fact cache, or gathered before): as before the probe.
    return (host_interfaces(facts), facts.get('default_ipv4') or {}, facts.get('default_ipv6') or {}, network.get('routes'),
            kernel, files)


def host_input(variables, groups, probe_name='preflight_probe', etcd_name='preflight_probe_etcd'):
    """One host's input for cluster_plan, from its variables (``hostvars[host]``); see cluster_plan.yml.

    Also ``lan``: its input for lan_slices when it puts Docker on its LAN (pipework
    backend with pipework_docker_bridge), else None.
    """
    v = variables
    interfaces, default_ipv4, default_ipv6, routes, kernel, files = _host_state(v, probe_name)
    backend = _get(v, 'crosshost_backend', 'static_routes')
    pipework_bridge = _get(v, 'pipework_bridge', 'bri0')
    attachments = [a for a in _get(v, 'pipework_attachments') or [] if isinstance(a, Mapping)]
    etcd_group = _get(v, 'flannel_etcd_group', 'etcd')
    daemon_json = _get(v, 'docker_daemon_json', DEFAULT_DAEMON_JSON)
    etcd = _get(v, etcd_name)
    result = dict((key, _get(v, 'crosshost_' + key)) for key in _CROSSHOST_KEYS)
    result.update(
        default_ipv4=default_ipv4,
        default_ipv6=default_ipv6,
        interfaces=interfaces,
        routes=routes,
        kernel=kernel,
        backend=backend,
        # Devices of ours whose routes are never conflicts (a rerun must pass).
        own_devices=[_get(v, 'bridge_name', 'docker0'),
                     _get(v, 'flannel_device', 'flannel.%s' % _get(v, 'flannel_vni', 1)),
                     pipework_bridge],
        overlay=dict(
            etcd=_bool(_get(v, 'flannel_etcd', len(groups.get(etcd_group) or []) > 0)),
            flanneld_binary=bool(_text(_get(v, 'flannel_binary_src'))
                                 or (_text(_get(v, 'flannel_binary_url')) and _text(_get(v, 'flannel_binary_checksum')))),
            flanneld_backend_type=_get(v, 'flannel_flanneld_backend_type', 'vxlan'),
        ),
        # The overlay's etcd as this host's read-only query found it (None: not asked).
        etcd=etcd if isinstance(etcd, Mapping) else None,
        etcd_unavailable=_get(v, 'crosshost_etcd_unavailable', 'fail'),
        pipework_uplink=_get(v, 'pipework_uplink', ''),
        docker_daemon_json=dict(path=daemon_json, content=files.get(daemon_json)),
        pipework_macvlan=any('host_interface' in a and a['host_interface'] != pipework_bridge for a in attachments),
    )
    lan = None
    if backend == 'pipework' and _bool(_get(v, 'pipework_docker_bridge', False)):
        lan = dict(uplink=_get(v, 'pipework_uplink', ''), bridge=pipework_bridge, interfaces=interfaces, default_ipv4=default_ipv4,
                   gateway=_get(v, 'pipework_lan_gateway', ''), reserved=_get(v, 'pipework_lan_reserved', []),
                   slice_len=_get(v, 'pipework_docker_slice_len'), slice=_get(v, 'pipework_docker_slice'),
                   static=[_text(a.get('address')) for a in attachments])
    return result, lan


def host_variables(variables, probe_name='preflight_probe'):
    """A host's variables (``hostvars[host]``) seen through the ones its read noted with every level applied.

    ``hostvars`` has the inventory, facts and extra vars but no play, ``import_playbook``
    or role variables; the host's own task (the role's read, its ``note``) saw them all. A
    variable it did not note is undefined for its tasks, so it is undefined in ``hostvars`` too.
    """
    noted = (_used(_get(variables, probe_name)) or {}).get('note')
    return ChainMap(noted, variables) if isinstance(noted, Mapping) else variables


def preflight_inputs(hostvars, play_hosts, play_hosts_all, groups, registered=('preflight_probe', 'preflight_probe_etcd')):
    """What cluster_plan and lan_slices take, for the hosts of this run; see preflight_inputs.yml."""
    reached = [str(h) for h in play_hosts or []]
    everyone = [str(h) for h in play_hosts_all or []]
    groups = groups if isinstance(groups, Mapping) else {}
    registered = list(registered)
    gone = sorted(set(everyone) - set(reached))
    # Hosts gone from the play: the unreachable ones are planned from what they kept;
    # any other failure stops everything.
    lost = not_reached(dict((name, hostvars[name]) for name in gone), registered)
    failed = [name for name in everyone if name in gone and name not in lost]
    if failed:
        raise AnsibleFilterError(
            'preflight: host(s) %s failed before the plan or are not in this serial batch (see their errors above); no host was '
            'changed. Fix them or leave them out with --limit, and run preflight in a play without serial.' % ', '.join(failed))
    hosts, lan = {}, {}
    for name in reached:
        hosts[name], lan_input = host_input(host_variables(hostvars[name], registered[0]), groups, *registered[:2])
        if lan_input is not None:
            lan[name] = lan_input
    # The cluster is group `cluster` (every inventory host without one): its hosts outside
    # this run (--limit, unreachable) stay in the plan with what they kept.
    cluster = groups['cluster'] if 'cluster' in groups else groups.get('all') or []
    outside = {}
    for name in sorted((set(str(h) for h in cluster) | set(everyone)) - set(reached)):
        variables = hostvars[name]
        outside[name] = dict(underlay_ip=_get(variables, 'crosshost_underlay_ip'), underlay_ip6=_get(variables, 'crosshost_underlay_ip6'),
                             reachable=name not in lost)
    return dict(hosts=hosts, outside=outside, not_reached=lost, lan=lan,
                lan_reserved=sorted(set(str(h) for h in groups.get('all') or []) - set(reached)))


def host_groups(hostvars, play_hosts, probe_name='preflight_probe'):
    """Host of the run -> the groups of site.yml's plays it has work in; see host_groups.yml."""
    result = {}
    for name in play_hosts or []:
        v = host_variables(hostvars[name], probe_name)
        backend = _text(_get(v, 'crosshost_backend', 'static_routes'))
        paths = (_used(_get(v, probe_name)) or {}).get('paths') or {}
        groups = ['crosshost_backend_' + backend]
        if backend in OVERLAY_BACKENDS:
            groups.append('crosshost_overlay')
        for piece, variable, default, keepers in _PIECES:
            if backend not in keepers and paths.get(_get(v, variable, default)) == 'directory':
                groups.append('crosshost_remove_' + piece)
        groups.append('crosshost_lan_bridge' if _get(v, 'preflight_lan') else 'crosshost_container_bridge')
        if _bool(_get(v, 'crosshost_docker', True)):
            groups.append('crosshost_docker')
        result[str(name)] = groups
    return result


def etcd_endpoints(hostvars, members, tls=False, probe_name='preflight_probe'):
    """The client URLs of the etcd ``members``, where the flannel role reaches them.

    A member's address: etcd_member_address, etcd_listen_address, crosshost_underlay_ip,
    else the address of its default route (its probe, else its facts), ansible_host or its
    name; https where the member has etcd_tls or ``tls`` (client TLS options) is set.
    """
    urls = []
    for member in members or []:
        v = hostvars[member]
        address = ''
        for name in ('etcd_member_address', 'etcd_listen_address', 'crosshost_underlay_ip'):
            address = _text(_get(v, name))
            if address:
                break
        if not address:
            address = _text(_host_state(v, probe_name)[1].get('address')) or _text(_get(v, 'ansible_host')) or str(member)
        secure = _bool(_get(v, 'etcd_tls', False)) or _bool(tls)
        urls.append('%s://%s:%s' % ('https' if secure else 'http', address, _get(v, 'etcd_client_port', 2379)))
    return urls


class FilterModule(object):
    """crosshost.network preflight filters."""

    def filters(self):
        return {
            'preflight_inputs': preflight_inputs,
            'etcd_endpoints': etcd_endpoints,
            'host_groups': host_groups,
        }
