#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: bridge_fdb
short_description: Manage the permanent remote FDB entries of a VXLAN device
version_added: 0.1.0
author: crosshost.network contributors (@crosshost)
description:
  - Makes the forwarding database of one VXLAN device hold a declared list of permanent
    remote entries (MAC address -> remote VTEP IP), in the host or in another network
    namespace, with one C(bridge -batch -) call.
  - This is what a VXLAN overlay needs per peer - C(<peer VTEP MAC> dev flannel.1 dst
    <peer IP> self permanent) - and, to flood broadcast and unknown traffic to every
    peer, one C(00:00:00:00:00:00 dst <peer IP>) entry per peer.
  - Unicast MACs are installed with C(bridge fdb replace ... self permanent) (a peer's
    MAC that moves to another IP is updated in place); the all-zeros MAC and multicast
    MACs with C(bridge fdb append), because one such MAC may have many remotes.
  - FDB entries have no protocol attribute to mark them as ours. Purge and
    O(state=absent) therefore only ever delete B(permanent entries with a remote C(dst)
    on the device's own table) (C(self)) - the kind this module installs - and never
    the device's default remote (the C(00:00:00:00:00:00) entry created from the
    device's C(remote) or C(group)), bridge (C(master)) entries, static entries, or
    dynamic entries learned from traffic. Do not let two owners manage remote entries of
    one device with O(purge=true).
options:
  dev:
    description:
      - The VXLAN device, for example V(flannel.1). It must exist and be of kind
        C(vxlan).
    type: str
    required: true
  entries:
    description:
      - The remote entries of O(dev).
    type: list
    elements: dict
    default: []
    suboptions:
      mac:
        description:
          - MAC address, any case, C(:) or C(-) separated. V(00:00:00:00:00:00) is the
            flood (default destination) entry and may be declared once per remote.
          - A unicast MAC has one remote, so it may be declared once.
        type: str
        required: true
      dst:
        description:
          - Remote VTEP IP address, of the address family of the device (the family of
            its C(local), C(remote) or C(group); IPv4 when none is set).
        type: str
        required: true
  state:
    description:
      - V(present) installs every declared entry.
      - V(absent) deletes the declared entries that are permanent remote entries; other
        entries at those MACs are left alone with a warning.
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - With O(state=present), also delete the permanent remote entries of O(dev) that
        are not declared (see the description for which entries are never touched).
    type: bool
    default: false
extends_documentation_fragment:
  - crosshost.network.target
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows, one line an entry, the permanent remote entries of O(dev) and the entries at the declared MACs, before and after.
  platform:
    platforms: posix
notes:
  - Per-entry VXLAN options (C(vni), C(port), C(via), C(src_vni)) are not managed; entries
    use the device's.
seealso:
  - module: crosshost.network.ip_neighbor
  - module: crosshost.network.ip_route
'''

EXAMPLES = r'''
- name: Flannel-style peers on flannel.1 - unicast to each VTEP, flooding to all
  crosshost.network.bridge_fdb:
    dev: flannel.1
    entries:
      - mac: c6:d2:32:6f:8f:44
        dst: 198.18.0.12
      - mac: 4a:51:0e:93:2b:10
        dst: 198.18.0.13
      - mac: 00:00:00:00:00:00
        dst: 198.18.0.12
      - mac: 00:00:00:00:00:00
        dst: 198.18.0.13
    purge: true

- name: Remove one peer's entries, inside a namespace
  crosshost.network.bridge_fdb:
    netns: xh-demo
    dev: vxlan0
    state: absent
    entries:
      - mac: 4a:51:0e:93:2b:10
        dst: 198.18.0.13
      - mac: 00:00:00:00:00:00
        dst: 198.18.0.13
'''

RETURN = r'''
commands:
  description: The plan - the C(bridge) commands run in one C(bridge -batch -) (or that would run, in check mode).
  returned: always
  type: list
  elements: str
  sample:
    - bridge fdb replace c6:d2:32:6f:8f:44 dev flannel.1 dst 198.18.0.12 self permanent
    - bridge fdb append 00:00:00:00:00:00 dev flannel.1 dst 198.18.0.12 self permanent
entries:
  description: The declared entries, normalised (lower-case MAC, canonical address).
  returned: always
  type: list
  elements: dict
  sample:
    - mac: c6:d2:32:6f:8f:44
      dst: 198.18.0.12
removed:
  description: Entries that were (or in check mode would be) deleted, one line an entry.
  returned: always
  type: list
  elements: str
  sample:
    - 00:00:00:00:00:00 dst 198.18.0.14 self permanent
target:
  description: Where the module acted - C(host), C(netns NAME) or C(pid N).
  returned: always
  type: str
  sample: host
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.crosshost.network.plugins.module_utils._iproute import (
    TARGET_ARGUMENT_SPEC,
    TARGET_MUTUALLY_EXCLUSIVE,
    InvalidValue,
    IPRoute,
    Plan,
    normalize_mac,
    validate_ifname,
)
from ansible_collections.crosshost.network.plugins.module_utils._reconcile import (
    apply_and_exit,
    canonical_ip,
    check_dev,
    check_state_options,
    find_duplicates,
    ip_family,
)

ZERO_MAC = '00:00:00:00:00:00'


def is_unicast(mac):
    """Not all-zeros and not multicast (lowest bit of the first octet)."""
    return mac != ZERO_MAC and not int(mac.split(':')[0], 16) & 1


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
        unicast = find_duplicates(entry['mac'] for entry in want if is_unicast(entry['mac']))
        if unicast:
            raise InvalidValue('fdb entry %s is declared with several dst for dev %s: a unicast MAC has one remote'
                               ' (use %s entries to flood to several remotes)' % (unicast[0], params['dev'], ZERO_MAC))
    return want


def vxlan_info(link, dev):
    """The device's address family and default remotes; InvalidValue unless it is a VXLAN device."""
    info = link.get('linkinfo') or {}
    kind = info.get('info_kind')
    if kind != 'vxlan':
        raise InvalidValue('dev %r is %s, not a vxlan device: remote FDB entries (dst) need a vxlan device' % (dev, 'a ' + kind if kind else 'a plain device'))
    data = info.get('info_data') or {}
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
        plan.add_bridge('fdb', 'replace' if is_unicast(entry['mac']) else 'append', entry['mac'], 'dev', dev, 'dst', entry['dst'], 'self', 'permanent')

    shown = [entry for entry in own if is_remote(entry, defaults) or (entry['mac'], entry['dst']) in declared
             or (state == 'present' and entry['mac'] in declared_macs and is_unicast(entry['mac']))]
    gone = set(id(entry) for entry in deletes)
    replaced_macs = set(entry['mac'] for entry in adds if is_unicast(entry['mac']))
    added = set((entry['mac'], entry['dst']) for entry in adds)
    before = [fdb_text(entry) for entry in shown]
    after = [fdb_text(entry) for entry in shown
             if id(entry) not in gone and entry['mac'] not in replaced_macs and (entry['mac'], entry['dst']) not in added]
    after += [fdb_text(dict(entry, state='permanent')) for entry in adds]
    return dict(plan=plan, removed=[fdb_text(entry) for entry in deletes], before=before, after=after, warnings=warnings)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dev=dict(type='str', required=True),
            entries=dict(type='list', elements='dict', default=[], options=dict(
                mac=dict(type='str', required=True),
                dst=dict(type='str', required=True),
            )),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            purge=dict(type='bool', default=False),
            **TARGET_ARGUMENT_SPEC
        ),
        mutually_exclusive=TARGET_MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )
    params = module.params
    dev = params['dev']
    try:
        want = build_want(params)
    except InvalidValue as exc:
        module.fail_json(msg=str(exc))

    ipr = IPRoute.from_params(module)
    try:
        family, defaults = vxlan_info(check_dev(ipr.links(), dev), dev)
        result = compute_plan(want, parse_fdb(ipr.fdb(dev)), dev, family=family, defaults=defaults, state=params['state'],
                              purge=params['purge'])
    except InvalidValue as exc:
        module.fail_json(msg=str(exc))

    apply_and_exit(module, ipr, result, 'entries', want)


if __name__ == '__main__':
    main()
