# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Routes: the one parser of ``ip -json route`` entries and the planner of ``ip_route``.

Pure: arguments -> want (:func:`build_want`), ``ip -json -N route show`` -> have
(:func:`parse_routes`), want + have -> plan (:func:`compute_plan`). A module that
reconciles a host's whole state imports these as they are.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import glob
import ipaddress

from ansible_collections.crosshost.network.plugins.module_utils._iproute import (
    PROTO_ID,
    InvalidValue,
    Plan,
    is_ours,
    validate_ifname,
)
from ansible_collections.crosshost.network.plugins.module_utils._reconcile import (
    canonical_ip,
    check_dev,
    check_state_options,
    find_duplicates,
    ip_family,
)

MAIN_TABLE = 254
TABLE_NAMES = {'default': 253, 'main': 254, 'local': 255}
RT_TABLES_FILES = ('/usr/share/iproute2/rt_tables', '/etc/iproute2/rt_tables')
RT_TABLES_DIRS = ('/usr/share/iproute2/rt_tables.d', '/etc/iproute2/rt_tables.d')
# `ip -N` prints route types and scopes as numbers (rtnetlink.h).
ROUTE_TYPES = {'1': 'unicast', '2': 'local', '3': 'broadcast', '4': 'anycast', '5': 'multicast', '6': 'blackhole',
               '7': 'unreachable', '8': 'prohibit', '9': 'throw', '10': 'nat'}
ROUTE_SCOPES = {'0': 'global', '200': 'site', '253': 'link', '254': 'host', '255': 'nowhere', 'universe': 'global'}
DEFAULT_METRIC = {4: 0, 6: 1024}
MTU_RANGE = {4: (68, 65535), 6: (1280, 65535)}
MAX_U32 = 4294967295


# The options of the modules that reconcile a declared list of routes (ip_route, persistent_routes).
ROUTES_ARGUMENT_SPEC = dict(
    routes=dict(type='list', elements='dict', default=[], options=dict(
        dst=dict(type='str', required=True),
        via=dict(type='str'),
        dev=dict(type='str'),
        onlink=dict(type='bool', default=False),
        metric=dict(type='int'),
        table=dict(type='raw'),
        src=dict(type='str'),
        mtu=dict(type='int'),
    )),
    state=dict(type='str', choices=['present', 'absent'], default='present'),
    purge=dict(type='bool', default=False),
    purge_tables=dict(type='list', elements='raw'),
    purge_devices=dict(type='list', elements='str'),
    force=dict(type='bool', default=False),
)


@functools.lru_cache(maxsize=65536)
def _network(text, strict=True):
    """ipaddress.ip_network, cached: a large run parses each destination more than once."""
    return ipaddress.ip_network(text, strict=strict)


# ---- arguments -> want ---------------------------------------------------------------
def parse_rt_tables(text):
    """``rt_tables`` file content -> dict name -> id."""
    names = {}
    for line in text.splitlines():
        fields = line.split('#', 1)[0].split()
        if len(fields) >= 2 and fields[0].isdigit():
            names[fields[1]] = int(fields[0])
    return names


def load_table_names():
    """Table names known to iproute2 on this host (the files ``ip`` itself reads)."""
    names = dict(TABLE_NAMES)
    paths = list(RT_TABLES_FILES)
    for directory in RT_TABLES_DIRS:
        paths.extend(sorted(glob.glob(directory + '/*.conf')))
    for path in paths:
        try:
            with open(path) as handle:
                names.update(parse_rt_tables(handle.read()))
        except (IOError, OSError):
            pass
    return names


def resolve_table(value, names, what='table'):
    """A table number or name -> its number."""
    if value is None or value == '':
        return MAIN_TABLE
    if isinstance(value, bool):
        raise InvalidValue('%s %r is not a table number or name' % (what, value))
    text = str(value).strip()
    if text.isdigit():
        number = int(text)
    elif text in names:
        number = names[text]
    else:
        raise InvalidValue('%s %r is not a table number (1-%d) nor a known table name (%s; see /etc/iproute2/rt_tables)'
                           % (what, value, MAX_U32, ', '.join(sorted(names))))
    if not 1 <= number <= MAX_U32:
        raise InvalidValue('%s %r is out of range (1-%d)' % (what, value, MAX_U32))
    return number


def parse_dst(value, family_hint):
    """Destination text -> canonical CIDR string; ``default`` takes the hinted family."""
    text = str(value).strip()
    if text == 'default':
        return '::/0' if family_hint == 6 else '0.0.0.0/0'
    try:
        return str(_network(with_prefixlen(text, ip_family(text))))
    except ValueError:
        raise InvalidValue('route %r: dst is not a valid network in CIDR form with zero host bits (e.g. 100.64.2.0/24, 2001:db8:2::/64, default)'
                           % (value,))


def build_route(spec, state, table_names):
    """One ``routes`` item -> a normalised route dict, or InvalidValue naming the problem."""
    raw_dst = spec.get('dst')
    if raw_dst is None or str(raw_dst).strip() == '':
        raise InvalidValue('every route needs dst (got %r)' % (spec,))
    label = 'route %s' % raw_dst
    via = canonical_ip(spec['via'], '%s: via' % label) if spec.get('via') not in (None, '') else None
    src = canonical_ip(spec['src'], '%s: src' % label) if spec.get('src') not in (None, '') else None
    hint = ip_family(via) if via else (ip_family(src) if src else 4)
    dst = parse_dst(raw_dst, hint)
    family = ip_family(dst)
    if src and ip_family(src) != family:
        raise InvalidValue('%s: src %s is IPv%d but dst %s is IPv%d' % (label, src, ip_family(src), dst, family))
    if via and family == 6 and ip_family(via) == 4:
        # Measured on Linux 6.18: `ip -6 route add ... via inet A.B.C.D` fails with "IPv6 does
        # not support RTA_VIA attribute", and a nexthop object with "IPv6 routes can not use an
        # IPv4 nexthop". The other way round (IPv4 route, IPv6 gateway) the kernel takes.
        raise InvalidValue('%s: via %s is IPv4 but dst %s is IPv6: Linux takes no IPv4 next hop for an IPv6 route'
                           ' (only an IPv6 gateway for an IPv4 route, RFC 5549)' % (label, via, dst))
    dev = spec.get('dev') or None
    if dev is not None:
        validate_ifname(dev, '%s: dev' % label)
    onlink = bool(spec.get('onlink'))
    metric = spec.get('metric')
    if metric is not None and not 0 <= metric <= MAX_U32:
        raise InvalidValue('%s: metric %r is out of range (0-%d)' % (label, metric, MAX_U32))
    if metric is None or (family == 6 and metric == 0):
        # The kernel's defaults: compare with what `ip route` will show.
        metric = DEFAULT_METRIC[family]
    mtu = spec.get('mtu')
    if mtu is not None:
        low, high = MTU_RANGE[family]
        if not low <= mtu <= high:
            raise InvalidValue('%s: mtu %r is out of range for IPv%d (%d-%d)' % (label, mtu, family, low, high))
    table = resolve_table(spec.get('table'), table_names, '%s: table' % label)
    if state == 'present':
        if not via and not dev:
            raise InvalidValue('%s needs via (a gateway) or dev (a device route), or both' % label)
        if onlink and not via:
            raise InvalidValue('%s: onlink needs via (onlink marks the gateway as directly attached)' % label)
        if onlink and not dev:
            raise InvalidValue('%s: onlink needs dev (the device the gateway is attached to)' % label)
        if via and ip_family(via) == 6 and not dev and ipaddress.ip_address(via).is_link_local:
            raise InvalidValue('%s: link-local gateway %s needs dev' % (label, via))
    return dict(family=family, dst=dst, via=via, dev=dev, onlink=onlink, metric=metric, table=table, src=src, mtu=mtu)


def build_want(params, table_names):
    """Module parameters -> list of normalised routes (validated, no duplicates)."""
    check_state_options(params, 'routes')
    want = [build_route(spec or {}, params['state'], table_names) for spec in params.get('routes') or []]
    dups = find_duplicates(route_key(route) for route in want)
    if dups:
        raise InvalidValue('route %s is declared more than once for table %d metric %d (a route is identified by dst, table and metric)'
                           % (dups[0][1], dups[0][2], dups[0][3]))
    return want


# ---- ip -json -> have ----------------------------------------------------------------
def _mtu(metrics):
    for item in metrics or []:
        if isinstance(item, dict) and 'mtu' in item:
            value = item['mtu']
            if isinstance(value, dict):  # `mtu lock` in some iproute2 versions
                value = value.get('value', value.get('mtu'))
            return int(value)
    return None


def route_gateway(entry):
    """The gateway of an ``ip -json route`` entry (or nexthop), or None.

    A gateway of the other family (RFC 5549, ``via inet6 ...``) comes as ``via.host``.
    """
    gateway = entry.get('gateway')
    if gateway is None and isinstance(entry.get('via'), dict):
        gateway = entry['via'].get('host')
    return gateway


def with_prefixlen(dst, family):
    """``ip`` shows a host route's dst without prefix length: add /32 or /128."""
    return dst if '/' in dst else dst + ('/32' if family == 4 else '/128')


def parse_routes(entries, family, table_names=None):
    """``ip -json [-N] -4|-6 route show table all`` -> normalised route dicts."""
    names = dict(TABLE_NAMES)
    names.update(table_names or {})
    routes = []
    for entry in entries:
        raw_dst = entry.get('dst', 'default')
        if raw_dst == 'default':
            dst = '0.0.0.0/0' if family == 4 else '::/0'
        else:
            try:
                # Same text (and so the same cache entry) as the declared destination.
                dst = str(_network(with_prefixlen(raw_dst, family)))
            except ValueError:
                continue  # nothing we could have made
        gateway = route_gateway(entry)
        table = entry.get('table', MAIN_TABLE)
        table = int(table) if str(table).isdigit() else names.get(table, table)
        rtype = str(entry.get('type', 'unicast'))
        scope = str(entry.get('scope', 'global'))
        routes.append(dict(
            family=family,
            dst=dst,
            via=canonical_ip(gateway) if gateway else None,
            dev=entry.get('dev'),
            onlink='onlink' in (entry.get('flags') or []),
            metric=int(entry.get('metric', 0)),
            table=table,
            src=canonical_ip(entry['prefsrc']) if entry.get('prefsrc') else None,
            mtu=_mtu(entry.get('metrics')),
            protocol=str(entry.get('protocol', 'boot')),
            type=ROUTE_TYPES.get(rtype, rtype),
            scope=ROUTE_SCOPES.get(scope, scope),
            multipath=bool(entry.get('nexthops')),
        ))
    return routes


def purge_scope(params, table_names):
    """``purge_tables`` as numbers and ``purge_devices``, validated."""
    for dev in params['purge_devices'] or []:
        validate_ifname(dev, 'purge_devices item')
    return [resolve_table(table, table_names, 'purge_tables item') for table in params['purge_tables'] or []], params['purge_devices']


def read_have(ipr, table_names):
    """(links by name, routes of both families) of the target; ``-N``: numeric tables and protocols, whatever names this host registered."""
    links = dict((link.get('ifname'), link) for link in ipr.read('ip', 'link', 'show'))
    routes = parse_routes(ipr.read('ip', '-N', '-4', 'route', 'show', 'table', 'all'), 4, table_names)
    return links, routes + parse_routes(ipr.read('ip', '-N', '-6', 'route', 'show', 'table', 'all'), 6, table_names)


# ---- planning --------------------------------------------------------------------------
def route_key(route):
    return (route['family'], route['dst'], route['table'], route['metric'])


def route_text(route):
    """One line, close to ``ip route`` output, for diffs and messages."""
    parts = [] if route.get('type', 'unicast') == 'unicast' else [route['type']]
    parts.append(route['dst'])
    if route.get('multipath'):
        parts.append('nexthop...')
    for name in ('via', 'dev'):
        if route.get(name):
            parts += [name, route[name]]
    if route.get('onlink'):
        parts.append('onlink')
    parts += ['table', str(route['table']), 'metric', str(route['metric']), 'proto', str(route.get('protocol', PROTO_ID))]
    for name in ('src', 'mtu'):
        if route.get(name) is not None:
            parts += [name, str(route[name])]
    return ' '.join(parts)


def in_sync(have, want):
    """True when an existing route of ours already is the declared one."""
    return (is_ours(have) and have['type'] == 'unicast' and not have['multipath']
            and have['via'] == want['via'] and (want['dev'] is None or have['dev'] == want['dev'])
            and have['onlink'] == want['onlink'] and have['src'] == want['src'] and have['mtu'] == want['mtu'])


def _connected(route):
    """A directly connected route: what makes a gateway reachable on link."""
    return (route['type'] == 'unicast' and not route['via'] and not route['multipath'] and route['dev']
            and (route['family'] == 6 or route['scope'] in ('link', 'host')))


class OnLink:
    """Answers "which route covers this gateway" fast, for thousands of routes.

    Routes are indexed by (family, table, prefix length, network), so a lookup costs one
    dict access per prefix length in use instead of a scan of every route.
    """

    def __init__(self, routes):
        self.index = {}
        for route in routes:
            if route['type'] == 'unicast':
                network = _network(route['dst'])
                by_len = self.index.setdefault((route['family'], route['table']), {})
                by_len.setdefault(network.prefixlen, {}).setdefault(network, []).append(route)
        self.cache = {}

    def covering(self, family, table, gateway):
        """(prefix length, route) of every unicast route in ``table`` that covers ``gateway``."""
        found = []
        for prefixlen, networks in self.index.get((family, table), {}).items():
            for route in networks.get(ipaddress.ip_network((gateway, prefixlen), strict=False), ()):
                found.append((prefixlen, route))
        return found

    def check(self, want):
        """The device the gateway of ``want`` is on link from; InvalidValue if none (see the kernel's nexthop checks)."""
        key = (want['table'], want['via'], want['dev'])
        if key not in self.cache:
            self.cache[key] = self._check(want)
        if self.cache[key] is None:
            where = 'from dev %s' % want['dev'] if want['dev'] else 'from any interface'
            searched = 'main' if want['table'] == MAIN_TABLE else 'table %d or main' % want['table']
            raise InvalidValue('route %s: gateway %s is not reachable on link %s of the namespace (no connected route covers it in %s);'
                               ' add an address in its subnet, declare a device route for it, or set onlink: true with dev'
                               % (want['dst'], want['via'], where, searched))
        return self.cache[key]

    def _check(self, want):
        # The gateway's own family decides (an IPv4 route may have an IPv6 gateway).
        gateway = ipaddress.ip_address(want['via'])
        family = gateway.version
        if family == 6 and gateway.is_link_local:
            return want['dev']  # on link on its device by definition (dev is required)
        candidates = []
        for table in set((want['table'], MAIN_TABLE, TABLE_NAMES['default'])):
            candidates += [(prefixlen, route) for prefixlen, route in self.covering(family, table, gateway)
                           if not want['dev'] or route['dev'] == want['dev']]
        if family == 4:
            # IPv4 looks for a route of scope link, skipping more specific gateway routes.
            candidates = [item for item in candidates if _connected(item[1])]
        # IPv6 takes the longest match, which must not itself need a gateway.
        best = max(candidates, key=lambda item: item[0])[1] if candidates else None
        return best['dev'] if best is not None and _connected(best) else None


def via_argv(route):
    """``via GW``, or ``via inet6 GW`` for an IPv6 gateway of an IPv4 route (RFC 5549); [] without gateway."""
    if not route['via']:
        return []
    if ip_family(route['via']) != route['family']:
        return ['via', 'inet6', route['via']]
    return ['via', route['via']]


def compute_plan(want, have, links, state='present', purge=False, purge_tables=None, purge_devices=None, force=False):
    """want + have -> dict(plan, removed, before, after, warnings). Raises InvalidValue before any change."""
    groups = {}
    for route in have:
        groups.setdefault(route_key(route), []).append(route)
    declared = set(route_key(route) for route in want)
    if purge_tables:
        managed_tables = set(purge_tables)
    else:
        managed_tables = set(route['table'] for route in want) | set([MAIN_TABLE])
    warnings = []
    deletes = []
    replaces = []
    kernel_dev = {}

    if state == 'absent':
        for route in want:
            for existing in groups.get(route_key(route), []):
                if is_ours(existing):
                    deletes.append(existing)
                else:
                    warnings.append('route %s is not ours (proto %s): left alone' % (route_text(existing), existing['protocol']))
    else:
        if purge:
            for route in have:
                if (is_ours(route) and route['table'] in managed_tables and route_key(route) not in declared
                        and (not purge_devices or route['dev'] in purge_devices)):
                    deletes.append(route)
        deleted = set(id(route) for route in deletes)
        # Gateways may be reached through routes that stay or that this run adds.
        on_link = OnLink([route for route in have if id(route) not in deleted]
                         + [dict(route, type='unicast', scope='link', multipath=False) for route in want if not route['via']])
        local_addresses = set(ipaddress.ip_network(route['dst']).network_address for route in have if route['type'] == 'local')
        for route in want:
            dev = route['dev']
            if route['dev']:
                check_dev(links, route['dev'], need_up=True, what='route %s: dev' % route['dst'])
            if route['src'] and ipaddress.ip_address(route['src']) not in local_addresses:
                raise InvalidValue('route %s: src %s is not an address of this namespace' % (route['dst'], route['src']))
            if route['via'] and not route['onlink']:
                dev = on_link.check(route)
            group = groups.get(route_key(route), [])
            foreign = [existing for existing in group if not is_ours(existing)]
            if foreign and not force:
                raise InvalidValue('route %s already exists and is not ours (%s); nothing was changed: remove it, declare another metric or table,'
                                   ' or set force: true to take it over' % (route['dst'], route_text(foreign[0])))
            if foreign or not any(in_sync(existing, route) for existing in group):
                replaces.append(route)
                # The diff shows the device the kernel will pick; the command leaves it to the kernel.
                kernel_dev[id(route)] = dev

    plan = Plan()
    for route in deletes:
        argv = ['route', 'del', route['dst'], 'table', route['table'], 'proto', PROTO_ID, 'metric', route['metric']]
        argv += via_argv(route)
        if route['dev']:
            argv += ['dev', route['dev']]
        plan.add_ip(*argv)
    # Device routes first: a gateway route of this run may need one of them.
    for route in sorted(replaces, key=lambda r: bool(r['via'])):
        argv = ['route', 'replace', route['dst']] + via_argv(route)
        if route['dev']:
            argv += ['dev', route['dev']]
        if route['onlink']:
            argv.append('onlink')
        argv += ['table', route['table'], 'proto', PROTO_ID, 'metric', route['metric']]
        if route['src']:
            argv += ['src', route['src']]
        if route['mtu'] is not None:
            argv += ['mtu', route['mtu']]
        plan.add_ip(*argv)

    # The diff: our routes in the managed tables and whatever sits at a declared key.
    shown = [route for route in have if (is_ours(route) and route['table'] in managed_tables) or route_key(route) in declared]
    replaced = set(route_key(route) for route in replaces)
    gone = set(id(route) for route in deletes)
    before = [route_text(route) for route in shown]
    after = [route_text(route) for route in shown if id(route) not in gone and route_key(route) not in replaced]
    after += [route_text(dict(route, dev=kernel_dev[id(route)], protocol=str(PROTO_ID))) for route in replaces]
    return dict(plan=plan, removed=[route_text(route) for route in deletes], before=before, after=after, warnings=warnings)
