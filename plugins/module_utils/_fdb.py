# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""FDB entries: the one parser of ``bridge -json fdb`` entries and the planner of ``bridge_fdb``.

Pure: arguments -> want (:func:`build_want`), ``bridge -json fdb show dev X`` -> have
(:func:`parse_fdb`), want + have -> plan (:func:`compute_plan`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.crosshost.network.plugins.module_utils._iproute import (
    ZERO_MAC,
    InvalidValue,
    Plan,
    is_unicast_mac,
    normalize_mac,
    validate_ifname,
)
from ansible_collections.crosshost.network.plugins.module_utils._links import link_data, link_kind
from ansible_collections.crosshost.network.plugins.module_utils._reconcile import (
    canonical_ip,
    check_state_options,
    find_duplicates,
    ip_family,
)


def build_want(params):
    """Module parameters -> list of dict(mac, dst), validated."""
    check_state_options(params, 'entries')
    validate_ifname(params['dev'], 'dev')
    want = []
    for spec in params.get('entries') or []:
        spec = spec or {}
        mac = normalize_mac(spec.get('mac'), 'fdb entry mac')
        dst = canonical_ip(spec.get('dst'), 'fdb entry %s: dst' % mac)
        want.append(dict(mac=mac, dst=dst))
    dups = find_duplicates((entry['mac'], entry['dst']) for entry in want)
    if dups:
        raise InvalidValue('fdb entry %s dst %s is declared more than once for dev %s' % (dups[0][0], dups[0][1], params['dev']))
    if params['state'] == 'present':
        unicast = find_duplicates(entry['mac'] for entry in want if is_unicast_mac(entry['mac']))
        if unicast:
            raise InvalidValue('fdb entry %s is declared with several dst for dev %s: a unicast MAC has one remote'
                               ' (use %s entries to flood to several remotes)' % (unicast[0], params['dev'], ZERO_MAC))
    return want


def vxlan_info(link, dev):
    """The device's address family and default remotes; InvalidValue unless it is a VXLAN device."""
    kind = link_kind(link)
    if kind != 'vxlan':
        raise InvalidValue('dev %r is %s, not a vxlan device: remote FDB entries (dst) need a vxlan device' % (dev, 'a ' + kind if kind else 'a plain device'))
    data = link_data(link)
    family = 4
    defaults = set()
    for key in ('remote', 'group', 'local', 'remote6', 'group6', 'local6'):
        if data.get(key):
            family = 6 if key.endswith('6') else 4
            if not key.startswith('local'):
                defaults.add(canonical_ip(data[key]))
    return family, defaults


def parse_fdb(entries):
    """``bridge -json fdb show dev X`` -> list of dict(mac, dst, state, self, master)."""
    have = []
    for entry in entries:
        try:
            mac = normalize_mac(entry.get('mac', ''))
            dst = canonical_ip(entry['dst']) if entry.get('dst') else None
        except InvalidValue:
            continue
        have.append(dict(mac=mac, dst=dst, state=str(entry.get('state', '')), master=entry.get('master'),
                         self='self' in (entry.get('flags') or [])))
    return have


def is_remote(entry, defaults):
    """The kind of entry this module installs and may delete: permanent, own table, with a remote dst."""
    return (entry['state'] == 'permanent' and entry['dst'] is not None and not entry['master']
            and not (entry['mac'] == ZERO_MAC and entry['dst'] in defaults))


def fdb_text(entry):
    parts = [entry['mac']]
    if entry.get('dst'):
        parts += ['dst', entry['dst']]
    parts.append('master %s' % entry['master'] if entry.get('master') else 'self')
    parts.append(entry.get('state') or 'dynamic')
    return ' '.join(parts)


def compute_plan(want, have, dev, family=4, defaults=(), state='present', purge=False):
    """want + have (one device) -> dict(plan, removed, before, after, warnings). Raises InvalidValue before any change."""
    defaults = set(defaults)
    own = [entry for entry in have if not entry['master']]
    by_key = dict(((entry['mac'], entry['dst']), entry) for entry in own)
    declared = set((entry['mac'], entry['dst']) for entry in want)
    declared_macs = set(entry['mac'] for entry in want)
    warnings = []
    deletes = []
    adds = []
    for entry in want:
        if ip_family(entry['dst']) != family:
            raise InvalidValue('fdb entry %s: dst %s is IPv%d but dev %s uses IPv%d' % (entry['mac'], entry['dst'], ip_family(entry['dst']), dev, family))
    if state == 'absent':
        for entry in want:
            existing = by_key.get((entry['mac'], entry['dst']))
            if existing is None:
                continue
            if is_remote(existing, defaults):
                deletes.append(existing)
            else:
                warnings.append('fdb entry %s on %s is not a permanent remote entry of ours: left alone' % (fdb_text(existing), dev))
    else:
        if purge:
            deletes = [entry for entry in own if is_remote(entry, defaults) and (entry['mac'], entry['dst']) not in declared]
        for entry in want:
            existing = by_key.get((entry['mac'], entry['dst']))
            if existing is not None and existing['state'] == 'permanent':
                continue
            adds.append(entry)

    plan = Plan()
    for entry in deletes:
        plan.add_bridge('fdb', 'del', entry['mac'], 'dev', dev, 'dst', entry['dst'], 'self')
    for entry in adds:
        # Several remotes per all-zeros/multicast MAC need append; replace refuses them.
        plan.add_bridge('fdb', 'replace' if is_unicast_mac(entry['mac']) else 'append', entry['mac'], 'dev', dev, 'dst', entry['dst'], 'self', 'permanent')

    shown = [entry for entry in own if is_remote(entry, defaults) or (entry['mac'], entry['dst']) in declared
             or (state == 'present' and entry['mac'] in declared_macs and is_unicast_mac(entry['mac']))]
    gone = set(id(entry) for entry in deletes)
    replaced_macs = set(entry['mac'] for entry in adds if is_unicast_mac(entry['mac']))
    added = set((entry['mac'], entry['dst']) for entry in adds)
    before = [fdb_text(entry) for entry in shown]
    after = [fdb_text(entry) for entry in shown
             if id(entry) not in gone and entry['mac'] not in replaced_macs and (entry['mac'], entry['dst']) not in added]
    after += [fdb_text(dict(entry, state='permanent')) for entry in adds]
    return dict(plan=plan, removed=[fdb_text(entry) for entry in deletes], before=before, after=after, warnings=warnings)
