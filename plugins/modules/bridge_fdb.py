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
from ansible_collections.crosshost.network.plugins.module_utils._fdb import (
    build_want,
    compute_plan,
    parse_fdb,
    vxlan_info,
)
from ansible_collections.crosshost.network.plugins.module_utils._iproute import (
    TARGET_ARGUMENT_SPEC,
    TARGET_MUTUALLY_EXCLUSIVE,
)
from ansible_collections.crosshost.network.plugins.module_utils._reconcile import Reconcile, check_dev


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
    run = Reconcile(module)
    with run.checking():
        want = build_want(params)

    ipr = run.ipr
    with run.checking():
        family, defaults = vxlan_info(check_dev(ipr.links(), dev), dev)
        result = compute_plan(want, parse_fdb(ipr.fdb(dev)), dev, family=family, defaults=defaults, state=params['state'],
                              purge=params['purge'])

    run.finish_entries(result)


if __name__ == '__main__':
    main()
