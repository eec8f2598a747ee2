# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters turning what verify.yml measured into a report of the cluster.

``cluster_report`` compares every host's live network (crosshost.network.network_facts)
with its plan (the preflight role's entry), tells how each pair of hosts is connected
(the route the kernel would take: a static route, a VXLAN device, a bridge) and reads
the probe lines (round-trip time, largest packet that passes with DF set).
``cluster_report_html`` draws that report as one self-contained HTML page (inline SVG
and CSS, nothing fetched). Documentation: cluster_report.yml and cluster_report_html.yml.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import math
from collections.abc import Mapping
from html import escape

from ansible.errors import AnsibleFilterError

from ansible_collections.crosshost.network.plugins.module_utils._checks import OVERLAY_BACKENDS

# Route protocol of what we install (rt_protos.d name, or the number where unnamed).
_OUR_PROTOCOLS = ('crosshost', '147')
# Per family: its name, the probe's address key, the plan's subnet and gateway keys.
_FAMILY_NAMES = {4: 'IPv4', 6: 'IPv6'}
_PROBE_KEYS = {4: 'address', 6: 'address6'}
_SUBNET_KEYS = {4: 'subnet', 6: 'subnet_v6'}
_GATEWAY_KEYS = {4: 'gateway', 6: 'gateway_v6'}
_UNDERLAY_KEYS = {4: 'underlay_ip', 6: 'underlay_ip6'}


def _network(text):
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _address(text):
    try:
        return ipaddress.ip_address(str(text).split('/', maxsplit=1)[0])
    except ValueError:
        return None


def parse_probe_lines(lines):
    """Probe output -> ``{peer address: {reached, rtt_ms, df_max}}``.

    One line per peer: ``<address> ok <avg rtt ms> <largest IP packet with DF>`` or
    ``<address> miss``; other lines are ignored.
    """
    result = {}
    for line in lines or []:
        fields = str(line).split()
        if len(fields) < 2 or _address(fields[0]) is None or fields[1] not in ('ok', 'miss'):
            continue
        entry = {'reached': fields[1] == 'ok', 'rtt_ms': None, 'df_max': None}
        if entry['reached']:
            try:
                entry['rtt_ms'] = float(fields[2])
            except (IndexError, ValueError):
                pass
            try:
                entry['df_max'] = int(fields[3])
            except (IndexError, ValueError):
                pass
        result[fields[0]] = entry
    return result


def _main_routes(facts, family):
    """The main-table routes of one family (4 or 6)."""
    name = 'inet' if family == 4 else 'inet6'
    for route in facts.get('routes') or []:
        if route.get('family', 'inet') == name and route.get('table', 'main') in ('main', None):
            yield route


def _route_to(facts, address):
    """The main-table route the kernel would take to ``address`` (longest prefix, its family)."""
    target = _address(address)
    best, best_len = None, -1
    if target is None:
        return None
    for route in _main_routes(facts, target.version):
        dst = ('0.0.0.0/0' if target.version == 4 else '::/0') if route.get('dst') == 'default' else route.get('dst')
        network = _network(dst)
        if network is None or network.version != target.version or target not in network:
            continue
        if network.prefixlen > best_len:
            best, best_len = route, network.prefixlen
    return best


def _interfaces(facts):
    return facts.get('interfaces') or {}


def _has_address(facts, key, value):
    """Whether an interface has an address whose ``key`` (cidr, address) is ``value``."""
    return any(address.get(key) == value
               for interface in _interfaces(facts).values()
               for address in interface.get('addresses') or [])


def _connection(src, dst, family=4):
    """How ``src``'s kernel reaches ``dst``'s probe over ``family``: ``{kind, label, dev, gateway}``."""
    facts = src['facts']
    target = dst['probe'].get(_PROBE_KEYS[family]) or dst['plan'].get(_GATEWAY_KEYS[family])
    route = _route_to(facts, target)
    if route is None:
        return {'kind': 'none', 'label': 'no route', 'dev': None, 'gateway': None}
    dev, gateway = route.get('dev'), route.get('gateway')
    interface = _interfaces(facts).get(dev) or {}
    kind = interface.get('kind')
    if route.get('dst') == 'default':
        return {'kind': 'default', 'label': 'default route via %s (no route of the plan)' % gateway,
                'dev': dev, 'gateway': gateway}
    if kind == 'vxlan':
        vni = (interface.get('details') or {}).get('id')
        # Each family's device runs over that family's underlay (flannel.1, flannel-v6.1).
        label = 'VXLAN %s%s to %s' % (dev, ' (VNI %s)' % vni if vni is not None else '', dst['plan'].get(_UNDERLAY_KEYS[family]))
        return {'kind': 'vxlan', 'label': label, 'dev': dev, 'gateway': gateway}
    if kind == 'bridge' and not gateway:
        ports = ((facts.get('bridges') or {}).get(dev) or {}).get('ports') or []
        uplink = [port for port in ports if port == src['plan'].get('underlay_interface')]
        label = 'bridge %s%s' % (dev, ' (uplink %s)' % uplink[0] if uplink else '')
        return {'kind': 'bridge', 'label': label, 'dev': dev, 'gateway': None}
    if gateway:
        return {'kind': 'route', 'label': 'route %s via %s dev %s' % (route.get('dst'), gateway, dev),
                'dev': dev, 'gateway': gateway}
    return {'kind': 'link', 'label': 'on link %s' % dev, 'dev': dev, 'gateway': None}


def _drift(name, host, cluster):
    """What differs between this host's live state and its plan (list of sentences).

    ``cluster``: host -> plan entry of every planned host, those outside the run too.
    """
    plan, facts, backend = host['plan'], host['facts'], host['backend']
    problems = []
    if plan.get('bip') and not _has_address(facts, 'cidr', plan['bip']):
        problems.append('no interface has the planned bridge address %s' % plan['bip'])
    if plan.get('bip_v6') and not _has_address(facts, 'cidr', plan['bip_v6']):
        problems.append('no interface has the planned bridge address %s' % plan['bip_v6'])
    for key in ('underlay_ip', 'underlay_ip6'):
        if plan.get(key) and not _has_address(facts, 'address', plan[key]):
            problems.append('no interface has the planned underlay address %s' % plan[key])
    if backend != 'pipework':
        for family in _families({name: host}):
            probe = host['probe'].get(_PROBE_KEYS[family])
            subnet = _network(plan.get(_SUBNET_KEYS[family]))
            if not probe:
                problems.append('the probe container has no %s address' % _FAMILY_NAMES[family])
            elif subnet is not None and _address(probe) not in subnet:
                problems.append('probe address %s is outside the planned subnet %s' % (probe, plan[_SUBNET_KEYS[family]]))
    peers = sorted(peer for peer in cluster if peer != name)
    routes = list(_main_routes(facts, 4))
    if backend == 'static_routes':
        planned = _planned_routes(plan, [cluster[peer] for peer in peers])
        routes += list(_main_routes(facts, 6))
        for dst, gateway in sorted(planned.items()):
            if not any(r.get('dst') == dst and r.get('gateway') == gateway for r in routes):
                problems.append('route to %s via %s is missing' % (dst, gateway))
        for route in routes:
            if str(route.get('protocol')) in _OUR_PROTOCOLS and route.get('dst') not in planned:
                problems.append('route %s via %s is ours but not in the plan' % (route.get('dst'), route.get('gateway')))
    elif backend in OVERLAY_BACKENDS:
        fdb_dsts = set(entry.get('dst') for entry in facts.get('fdb') or [] if entry.get('dst'))
        # Per family of the peer's plan: its subnet on a VXLAN device, the FDB entry to its
        # underlay address of that family (IPv6 only: no IPv4 subnet, device or entry).
        for peer in peers:
            peer_plan = cluster[peer]
            for family in (4, 6):
                subnet = peer_plan.get(_SUBNET_KEYS[family])
                if not subnet:
                    continue
                route = next((r for r in _main_routes(facts, family) if r.get('dst') == subnet), None)
                if route is None or (_interfaces(facts).get(route.get('dev')) or {}).get('kind') != 'vxlan':
                    problems.append('no route to %s (%s) on a VXLAN device' % (subnet, peer))
                if peer_plan.get(_UNDERLAY_KEYS[family]) not in fdb_dsts:
                    problems.append('no VXLAN forwarding entry for %s (%s)' % (peer_plan.get(_UNDERLAY_KEYS[family]), peer))
    return problems


def _planned_routes(plan, peer_plans):
    """The static_routes role's routes as dst -> gateway: an IPv6 subnet via the peer's IPv6
    underlay address, an IPv4 one via its IPv4 address or else its IPv6 one (RFC 5549)."""
    has_ip4, has_ip6 = plan.get('underlay_ip', '-'), plan.get('underlay_ip6', '-')
    planned = {}
    for peer_plan in peer_plans:
        ip4 = peer_plan.get('underlay_ip') if has_ip4 else None
        ip6 = peer_plan.get('underlay_ip6') if has_ip6 else None
        if peer_plan.get('subnet'):
            planned[peer_plan['subnet']] = ip4 or ip6
        if peer_plan.get('subnet_v6'):
            planned[peer_plan['subnet_v6']] = ip6
    return planned


def _families(hosts):
    """The families of the plan's subnets (IPv4 where none has any). Not the probes': in an
    IPv6-only cluster Docker still gives every probe an IPv4 address, the same on every host."""
    return [family for family in (4, 6) if any(host['plan'].get(_SUBNET_KEYS[family]) for host in hosts.values())] or [4]


def _check_host(name, host):
    if not isinstance(host, Mapping):
        raise AnsibleFilterError('cluster_report: the entry of host %s must be a dict, got %r' % (name, host))
    for key in ('plan', 'facts'):
        if not isinstance(host.get(key), Mapping):
            raise AnsibleFilterError('cluster_report: host %s has no %s (a dict), got %r' % (name, key, host.get(key)))


def cluster_report(hosts, plan=None):
    """Per-host inputs (see cluster_report.yml) -> ``{hosts, pairs, drift, ok, summary}``."""
    if not isinstance(hosts, Mapping) or not hosts:
        raise AnsibleFilterError('cluster_report: expected a non-empty dict host -> entry, got %r' % (hosts,))
    if plan is not None and not isinstance(plan, Mapping):
        raise AnsibleFilterError('cluster_report: plan must be the whole plan (host -> entry), got %r' % (plan,))
    normal = {}
    for name in sorted(hosts):
        host = hosts[name]
        _check_host(name, host)
        normal[name] = {
            'plan': dict(host['plan']),
            'facts': host['facts'],
            'backend': str(host.get('backend') or 'static_routes'),
            'probe': dict(host.get('probe') or {}),
            'results': parse_probe_lines(host.get('probe_lines')),
        }
    # Hosts of the plan outside this run (--limit): the others keep their routes to them.
    cluster = dict((str(name), dict(entry)) for name, entry in (plan or {}).items() if isinstance(entry, Mapping))
    cluster.update((name, host['plan']) for name, host in normal.items())
    report_hosts, pairs, drift = [], [], {}
    for name, host in normal.items():
        problems = _drift(name, host, cluster)
        if problems:
            drift[name] = problems
        report_hosts.append({
            'name': name,
            'underlay_ip': host['plan'].get('underlay_ip'),
            'underlay_interface': host['plan'].get('underlay_interface'),
            'subnet': host['plan'].get('subnet'),
            'gateway': host['plan'].get('gateway'),
            'probe_ip': host['probe'].get('address'),
            'underlay_ip6': host['plan'].get('underlay_ip6') or None,
            'subnet_v6': host['plan'].get('subnet_v6') or None,
            'gateway_v6': host['plan'].get('gateway_v6') or None,
            'probe_ip6': host['probe'].get('address6') or None,
            'backend': host['backend'],
            'drift': problems,
        })
    families = _families(normal)
    for family in families:
        for src, src_host in normal.items():
            for dst, dst_host in normal.items():
                if src == dst:
                    continue
                address = dst_host['probe'].get(_PROBE_KEYS[family]) or None
                result = src_host['results'].get(address or '', {})
                pairs.append(dict(
                    src=src, dst=dst, family=family, address=address,
                    reached=bool(result.get('reached')),
                    rtt_ms=result.get('rtt_ms'),
                    df_max=result.get('df_max'),
                    connection=_connection(src_host, dst_host, family),
                ))
    report = {
        'hosts': report_hosts,
        'pairs': pairs,
        'families': families,
        'drift': drift,
        'backends': sorted(set(host['backend'] for host in normal.values())),
    }
    report['ok'] = all(pair['reached'] for pair in pairs) and not drift
    report['summary'] = _summary(report)
    return report


def _ms(value):
    return '-' if value is None else ('%.2f ms' % value)


def _bytes(value):
    return '-' if value is None else ('%d B' % value)


def _family_tag(pair):
    """'' for IPv4 (as before dual stack), 'IPv6 ' for IPv6."""
    return 'IPv6 ' if pair.get('family') == 6 else ''


def _summary(report):
    pairs = report['pairs']
    reached = sum(1 for pair in pairs if pair['reached'])
    families = report.get('families') or [4]
    lines = ['%d hosts, backend %s%s: %d of %d pairs reach each other, %s' % (
        len(report['hosts']), ', '.join(report['backends']),
        '' if families == [4] else ', ' + ' and '.join(_FAMILY_NAMES[f] for f in families), reached, len(pairs),
        'no host differs from the plan' if not report['drift'] else
        '%d host(s) differ from the plan' % len(report['drift']))]
    for host in report['hosts']:
        line = '%s  underlay %s  subnet %s  probe %s' % (host['name'], host['underlay_ip'], host['subnet'], host['probe_ip'] or '-')
        if 6 in families:
            line += '  underlay6 %s  subnet6 %s  probe6 %s' % tuple(host.get(key) or '-' for key in ('underlay_ip6', 'subnet_v6', 'probe_ip6'))
        lines.append(line)
    for pair in pairs:
        state = 'ok  ' if pair['reached'] else 'MISS'
        lines.append('%s -> %s  %s%s  rtt %s  DF max %s  %s' % (
            pair['src'], pair['dst'], _family_tag(pair), state, _ms(pair['rtt_ms']), _bytes(pair['df_max']),
            pair['connection']['label']))
    for name, problems in sorted(report['drift'].items()):
        for problem in problems:
            lines.append('differs from the plan: %s: %s' % (name, problem))
    return lines


# ---- HTML ---------------------------------------------------------------------------

_COLOURS = {
    'route': '#2563eb',
    'vxlan': '#9333ea',
    'bridge': '#059669',
    'link': '#0891b2',
    'default': '#d97706',
    'none': '#dc2626',
}
_KIND_NAMES = {
    'route': 'static route',
    'vxlan': 'VXLAN overlay',
    'bridge': 'pipework bridge',
    'link': 'on link',
    'default': 'default route only',
    'none': 'no route',
}

_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f6fa; color: #1f2937;
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", "Liberation Sans", sans-serif; }
header { background: #111827; color: #f9fafb; padding: 18px 32px; }
header h1 { margin: 0; font-size: 20px; font-weight: 600; }
header p { margin: 4px 0 0; color: #cbd5e1; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 999px; font-weight: 600; font-size: 13px; margin-left: 8px; }
.badge.ok { background: #dcfce7; color: #166534; } .badge.bad { background: #fee2e2; color: #991b1b; }
main { padding: 20px 32px 40px; display: grid; grid-template-columns: minmax(0, 1fr); gap: 20px; max-width: 1280px; }
section { background: #fff; border-radius: 10px; box-shadow: 0 1px 3px rgba(15, 23, 42, .12); padding: 16px 20px; }
section h2 { margin: 0 0 10px; font-size: 16px; }
svg { width: 100%; height: auto; display: block; }
svg text { font-family: inherit; }
.legend span { display: inline-flex; align-items: center; margin-right: 18px; font-size: 13px; }
.legend i { display: inline-block; width: 26px; height: 0; border-top: 3px solid; margin-right: 6px; }
table { border-collapse: collapse; width: 100%; }
table.matrix { table-layout: fixed; }
th, td { border: 1px solid #e5e7eb; padding: 6px 10px; text-align: left; vertical-align: top; }
th { background: #f8fafc; font-weight: 600; }
td.cell { text-align: center; min-width: 120px; }
td.cell.ok { background: #f0fdf4; } td.cell.miss { background: #fef2f2; color: #991b1b; font-weight: 600; }
td.cell.self { background: #f3f4f6; color: #9ca3af; }
.cell .rtt { font-weight: 600; } .cell .df, .cell .via { display: block; font-size: 12px; color: #4b5563; }
.mono { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 13px; }
ul.drift { margin: 0; padding-left: 20px; } ul.drift li { margin: 2px 0; }
.none { color: #166534; }
"""


def _e(value):
    return escape('' if value is None else str(value), quote=True)


def _layout(count, width, height):
    """Centres of ``count`` nodes on an ellipse (one row for two hosts)."""
    cx, cy = width / 2.0, height / 2.0
    if count == 1:
        return [(cx, cy)]
    if count == 2:
        return [(width * 0.25, cy), (width * 0.75, cy)]
    rx, ry = width / 2.0 - 130, height / 2.0 - 70
    return [(cx + rx * math.cos(-math.pi / 2 + 2 * math.pi * i / count),
             cy + ry * math.sin(-math.pi / 2 + 2 * math.pi * i / count)) for i in range(count)]


def _svg(report):
    hosts = report['hosts']
    width = 960
    height = 300 if len(hosts) <= 2 else 440 + 40 * (len(hosts) - 3)
    centres = dict(zip((host['name'] for host in hosts), _layout(len(hosts), width, height)))
    # A line per pair of hosts, for every family: (src, dst) -> its pairs.
    by_pair = {}
    for pair in report['pairs']:
        by_pair.setdefault((pair['src'], pair['dst']), []).append(pair)
    dual = 6 in (report.get('families') or [4])
    # Crop the drawing to the nodes (each 220 x 104, 136 with IPv6's lines) plus a margin.
    half = 68 if dual else 52
    xs = [centre[0] for centre in centres.values()]
    ys = [centre[1] for centre in centres.values()]
    left, top = min(xs) - 130, min(ys) - half - 10
    box = (left, top, max(xs) + 130 - left, max(ys) + half + 10 - top)
    out = ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="%.0f %.0f %.0f %.0f" role="img" '
           'aria-label="Hosts and how they are connected">' % box]
    names = [host['name'] for host in hosts]
    for i, src in enumerate(names):
        for dst in names[i + 1:]:
            both = by_pair[(src, dst)] + by_pair[(dst, src)]
            kinds = set(p['connection']['kind'] for p in both)
            kind = kinds.pop() if len(kinds) == 1 else 'mixed'
            colour = _COLOURS.get(kind, '#6b7280')
            reached = all(p['reached'] for p in both)
            (x1, y1), (x2, y2) = centres[src], centres[dst]
            label = _KIND_NAMES.get(kind, 'mixed') if reached else 'unreachable'
            rtts = [p['rtt_ms'] for p in both if p['rtt_ms'] is not None]
            if reached and rtts:
                label += ' \u00b7 %.2f ms' % (sum(rtts) / len(rtts))
            sizes = [p['df_max'] for p in both if p['df_max'] is not None]
            if reached and sizes:
                label += ' \u00b7 DF %d' % min(sizes)
            out.append('<g class="link %s" data-pair="%s|%s">' % (_e(kind), _e(src), _e(dst)))
            out.append('<title>%s</title>' % _e('\n'.join('%s \u2192 %s %s: %s' % (
                p['src'], p['dst'], _FAMILY_NAMES[p.get('family', 4)], p['connection']['label']) for p in both)))
            out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="3"%s/>' % (
                x1, y1, x2, y2, '#dc2626' if not reached else colour, '' if reached else ' stroke-dasharray="8 6"'))
            mx, my = (x1 + x2) / 2.0, (y1 + y2) / 2.0
            text_width = 7.2 * len(label) + 16
            out.append('<rect x="%.1f" y="%.1f" width="%.1f" height="22" rx="11" fill="#fff" stroke="%s"/>' % (
                mx - text_width / 2, my - 11, text_width, '#dc2626' if not reached else colour))
            out.append('<text x="%.1f" y="%.1f" text-anchor="middle" font-size="12" fill="#111827">%s</text>' % (
                mx, my + 4, _e(label)))
            out.append('</g>')
    for host in hosts:
        x, y = centres[host['name']]
        drifted = bool(host['drift'])
        out.append('<g class="host" data-host="%s">' % _e(host['name']))
        out.append('<title>%s</title>' % _e('\n'.join([host['name']] + host['drift'])))
        out.append('<rect x="%.1f" y="%.1f" width="220" height="%d" rx="12" fill="%s" stroke="%s" stroke-width="%s"/>' % (
            x - 110, y - half, 2 * half, '#fff7f7' if drifted else '#ffffff', '#dc2626' if drifted else '#334155', 3 if drifted else 1.5))
        out.append('<text x="%.1f" y="%.1f" text-anchor="middle" font-size="16" font-weight="700" fill="#111827">%s</text>' % (
            x, y - half + 24, _e(host['name'])))
        lines = [
            'underlay %s' % (host['underlay_ip'] or '-'),
            'subnet %s' % (host['subnet'] or '-'),
            'probe %s' % (host['probe_ip'] or '-'),
        ]
        if dual:
            lines += ['subnet %s' % (host.get('subnet_v6') or '-'), 'probe %s' % (host.get('probe_ip6') or '-')]
        lines.append('differs from the plan' if drifted else 'matches the plan')
        for n, line in enumerate(lines):
            colour = '#374151' if n < len(lines) - 1 else ('#b91c1c' if drifted else '#15803d')
            out.append('<text x="%.1f" y="%.1f" text-anchor="middle" font-size="12.5" fill="%s">%s</text>' % (
                x, y - half + 44 + 16 * n, colour, _e(line)))
        out.append('</g>')
    out.append('</svg>')
    return '\n'.join(out)


def _matrix(report, family=4):
    names = [host['name'] for host in report['hosts']]
    by_pair = dict(((pair['src'], pair['dst']), pair) for pair in report['pairs'] if pair.get('family', 4) == family)
    out = ['<table class="matrix" data-family="%d"><thead><tr><th>from \\ to</th>' % family]
    out.extend('<th>%s</th>' % _e(name) for name in names)
    out.append('</tr></thead><tbody>')
    for src in names:
        out.append('<tr><th>%s</th>' % _e(src))
        for dst in names:
            if src == dst:
                out.append('<td class="cell self">\u2014</td>')
                continue
            pair = by_pair[(src, dst)]
            title = _e(pair['connection']['label'])
            if pair['reached']:
                out.append('<td class="cell ok" data-pair="%s|%s" title="%s"><span class="rtt">\u2713 %s</span>'
                           '<span class="df">DF max %s</span><span class="via">%s</span></td>' % (
                               _e(src), _e(dst), title, _e(_ms(pair['rtt_ms'])), _e(_bytes(pair['df_max'])),
                               _e(_KIND_NAMES.get(pair['connection']['kind'], pair['connection']['kind']))))
            else:
                out.append('<td class="cell miss" data-pair="%s|%s" title="%s">\u2717 unreachable'
                           '<span class="via">%s</span></td>' % (_e(src), _e(dst), title, _e(pair['connection']['label'])))
        out.append('</tr>')
    out.append('</tbody></table>')
    return ''.join(out)


def cluster_report_html(report, title='crosshost.network cluster'):
    """The report of ``cluster_report`` -> one self-contained HTML page (str)."""
    if not isinstance(report, Mapping) or 'hosts' not in report or 'pairs' not in report:
        raise AnsibleFilterError('cluster_report_html: expected the result of crosshost.network.cluster_report, got %r' % (report,))
    pairs = report['pairs']
    reached = sum(1 for pair in pairs if pair['reached'])
    good = reached == len(pairs) and not report.get('drift')
    kinds = sorted(set(pair['connection']['kind'] for pair in pairs)) or ['route']
    legend = ''.join('<span><i style="border-color:%s"></i>%s</span>' % (_COLOURS[k], _e(_KIND_NAMES[k]))
                     for k in kinds if k in _COLOURS)
    legend += '<span><i style="border-color:#dc2626;border-top-style:dashed"></i>unreachable</span>'
    families = report.get('families') or [4]

    def both(host, key):  # a cell with the IPv6 value under the IPv4 one
        values = [host.get(key)] + ([host.get(key + '6' if key.endswith('ip') else key + '_v6')] if 6 in families else [])
        return '<br>'.join(_e(value or '-') for value in values)
    rows = ''.join(
        '<tr data-host="%s"><th>%s</th><td class="mono">%s%s</td><td class="mono">%s</td><td class="mono">%s</td>'
        '<td class="mono">%s</td><td>%s</td></tr>' % (
            _e(h['name']), _e(h['name']), both(h, 'underlay_ip'),
            ' (%s)' % _e(h['underlay_interface']) if h['underlay_interface'] else '',
            both(h, 'subnet'), both(h, 'gateway'), both(h, 'probe_ip'), _e(h['backend']))
        for h in report['hosts'])
    if report.get('drift'):
        drift = '<ul class="drift">%s</ul>' % ''.join(
            '<li data-drift="%s"><b>%s</b>: %s</li>' % (_e(name), _e(name), _e(problem))
            for name, problems in sorted(report['drift'].items()) for problem in problems)
    else:
        drift = '<p class="none">Every host matches the plan.</p>'
    paths = ''.join(
        '<tr><td>%s \u2192 %s%s</td><td class="mono">%s</td></tr>' % (
            _e(p['src']), _e(p['dst']), ' (%s)' % _FAMILY_NAMES[p['family']] if len(families) > 1 else '', _e(p['connection']['label']))
        for p in pairs)
    matrices = ''.join(
        '<section><h2>Reachability%s (probe container to probe container)</h2>%s'
        '<p>Round-trip time is the average of the probe pings; DF max is the largest IP packet '
        'that passes with the don\'t-fragment bit set.</p></section>' % (
            '' if families == [4] else ' over ' + _FAMILY_NAMES[family], _matrix(report, family))
        for family in families)
    return ''.join([
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<title>%s</title><style>%s</style></head><body>' % (_e(title), _CSS),
        '<header><h1>%s<span class="badge %s">%s</span></h1><p>%s</p></header><main>' % (
            _e(title), 'ok' if good else 'bad',
            'all good' if good else 'needs attention', _e(report.get('summary', [''])[0])),
        '<section><h2>Hosts and links</h2><div class="legend">%s</div>%s</section>' % (legend, _svg(report)),
        matrices,
        '<section><h2>Differences from the plan</h2>%s</section>' % drift,
        '<section><h2>Hosts</h2><table><thead><tr><th>host</th><th>underlay</th><th>container subnet</th>'
        '<th>bridge gateway</th><th>probe</th><th>backend</th></tr></thead><tbody>%s</tbody></table></section>' % rows,
        '<section><h2>Paths</h2><table><thead><tr><th>pair</th><th>what the kernel uses</th></tr></thead>'
        '<tbody>%s</tbody></table></section>' % paths,
        '</main></body></html>\n',
    ])


class FilterModule(object):
    """crosshost.network cluster report filters."""

    def filters(self):
        return {
            'cluster_report': cluster_report,
            'cluster_report_html': cluster_report_html,
        }
