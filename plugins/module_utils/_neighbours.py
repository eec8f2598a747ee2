# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Neighbours: the one parser of ``ip -json neigh`` entries and the planner of ``ip_neighbor``.

Pure: arguments -> want (:func:`build_want`), ``ip -json neigh show dev X`` -> have
(:func:`parse_neighbours`), want + have -> plan (:func:`compute_plan`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.crosshost.network.plugins.module_utils._iproute import (
    PROTO_ID,
    InvalidValue,
    Plan,
    is_ours,
    normalize_mac,
    validate_ifname,
)
from ansible_collections.crosshost.network.plugins.module_utils._reconcile import (
    canonical_ip,
    check_state_options,
    find_duplicates,
)

# Neighbour states that somebody set on purpose (the rest are the ARP/NDP cache).
STATIC_STATES = frozenset(('PERMANENT', 'NOARP'))


def build_want(params):
    """Module parameters -> list of dict(address, lladdr), validated."""
    check_state_options(params, 'neighbors')
    validate_ifname(params['dev'], 'dev')
    want = []
    for spec in params.get('neighbors') or []:
        spec = spec or {}
        address = canonical_ip(spec.get('address'), 'neighbor address')
        lladdr = spec.get('lladdr')
        if lladdr in (None, ''):
            if params['state'] == 'present':
                raise InvalidValue('neighbor %s needs lladdr (its MAC address) with state=present' % address)
            lladdr = None
        else:
            lladdr = normalize_mac(lladdr, 'neighbor %s: lladdr' % address)
        want.append(dict(address=address, lladdr=lladdr))
    dups = find_duplicates(entry['address'] for entry in want)
    if dups:
        raise InvalidValue('neighbor %s is declared more than once for dev %s' % (dups[0], params['dev']))
    return want


def parse_neighbours(entries):
    """``ip -json neigh show dev X`` -> dict address -> dict(address, lladdr, state, protocol)."""
    have = {}
    for entry in entries:
        try:
            address = canonical_ip(entry.get('dst'))
        except InvalidValue:
            continue
        lladdr = entry.get('lladdr')
        # Ours shows as 147 or, once the name is registered, as crosshost: one spelling.
        have[address] = dict(address=address, lladdr=lladdr.lower() if lladdr else None,
                             state=[str(s).upper() for s in entry.get('state') or []],
                             protocol=str(PROTO_ID) if is_ours(entry) else str(entry.get('protocol', '')))
    return have


def neighbour_text(entry):
    parts = [entry['address']]
    if entry.get('lladdr'):
        parts += ['lladdr', entry['lladdr']]
    parts.append(','.join(entry.get('state') or ['NONE']))
    if entry.get('protocol'):
        parts += ['proto', entry['protocol']]
    return ' '.join(parts)


def compute_plan(want, have, dev, state='present', purge=False, force=False):
    """want + have (one device) -> dict(plan, removed, before, after, warnings). Raises InvalidValue before any change."""
    declared = set(entry['address'] for entry in want)
    warnings = []
    deletes = []
    replaces = []
    if state == 'absent':
        for entry in want:
            existing = have.get(entry['address'])
            if existing is None:
                continue
            if is_ours(existing):
                deletes.append(existing)
            else:
                warnings.append('neighbor %s on %s is not ours: left alone' % (neighbour_text(existing), dev))
    else:
        if purge:
            deletes = [entry for address, entry in sorted(have.items()) if is_ours(entry) and address not in declared]
        for entry in want:
            existing = have.get(entry['address'])
            if existing is None:
                replaces.append(entry)
                continue
            if not is_ours(existing) and STATIC_STATES.intersection(existing['state']) and not force:
                raise InvalidValue('neighbor %s on %s already exists and is not ours (%s); nothing was changed: remove it or set force: true'
                                   ' to take it over' % (entry['address'], dev, neighbour_text(existing)))
            if not (is_ours(existing) and 'PERMANENT' in existing['state'] and existing['lladdr'] == entry['lladdr']):
                replaces.append(entry)

    plan = Plan()
    for entry in deletes:
        plan.add_ip('neigh', 'del', entry['address'], 'dev', dev)
    for entry in replaces:
        plan.add_ip('neigh', 'replace', entry['address'], 'lladdr', entry['lladdr'], 'dev', dev, 'nud', 'permanent', 'protocol', PROTO_ID)

    shown = [entry for address, entry in sorted(have.items()) if is_ours(entry) or address in declared]
    changed = set(entry['address'] for entry in deletes + replaces)
    before = [neighbour_text(entry) for entry in shown]
    after = [neighbour_text(entry) for entry in shown if entry['address'] not in changed]
    after += [neighbour_text(dict(entry, state=['PERMANENT'], protocol=str(PROTO_ID))) for entry in replaces]
    return dict(plan=plan, removed=[neighbour_text(entry) for entry in deletes], before=before, after=after, warnings=warnings)
