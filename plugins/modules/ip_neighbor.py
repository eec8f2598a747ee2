#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: ip_neighbor
short_description: Manage the permanent neighbour (ARP/NDP) entries of one device
version_added: 0.1.0
author: crosshost.network contributors (@crosshost)
description:
  - Makes the neighbour table of one device hold a declared list of permanent entries
    (IP address -> link-layer address), IPv4 and IPv6, in the host or in another network
    namespace, with one C(ip -batch -) call.
  - This is what a VXLAN overlay needs per peer - for example
    C(100.64.2.0 lladdr <peer VTEP MAC> dev flannel.1 nud permanent).
  - Entries this module installs carry the protocol id 147 (C(crosshost), registered in
    C(/etc/iproute2/rt_protos.d/crosshost.conf)); C(ip -json neigh) shows it as
    C("protocol"). Purge and O(state=absent) only ever delete entries with that id.
  - A permanent (or C(noarp)) entry for a declared address that somebody else made is an
    error naming it, unless O(force=true). Dynamic entries (learned by ARP/NDP, in any
    state such as C(REACHABLE) or C(STALE)) are a cache and are simply replaced.
options:
  dev:
    description:
      - The device whose neighbour entries are managed, for example V(flannel.1). It
        must exist and use neighbour discovery (no C(NOARP) flag).
    type: str
    required: true
  neighbors:
    description:
      - The entries of O(dev). With O(state=absent) only O(neighbors[].address) is used.
    type: list
    elements: dict
    default: []
    aliases: [neighbours]
    suboptions:
      address:
        description:
          - The IPv4 or IPv6 address (C(ip neigh) C(to)), for example V(100.64.2.0).
        type: str
        required: true
      lladdr:
        description:
          - The link-layer (MAC) address, for example V(aa:bb:cc:00:00:02); any case,
            C(:) or C(-) separated. Required with O(state=present).
        type: str
  state:
    description:
      - V(present) installs or updates (C(ip neigh replace ... nud permanent protocol 147))
        every declared entry.
      - V(absent) deletes the declared addresses' entries that carry our protocol id;
        others are left alone with a warning.
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - With O(state=present), also delete the entries of O(dev) carrying our protocol id
        whose address is not declared. Entries without it (made by hand, by other tools,
        or learned) are never touched.
    type: bool
    default: false
  force:
    description:
      - Replace a permanent entry for a declared address that somebody else made (it then
        carries our protocol id). Without it such an entry is an error and nothing is
        changed.
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
    details: The diff shows, one line an entry, our entries on O(dev) and the entries at the declared addresses, before and after.
  platform:
    platforms: posix
notes:
  - Needs a kernel and iproute2 that support the neighbour C(protocol) attribute
    (Linux 5.0 or later, iproute2 5.0 or later).
  - Writing the protocol name file on the host is reported as a change (and in
    RV(commands) as an C(echo) line).
seealso:
  - module: crosshost.network.bridge_fdb
  - module: crosshost.network.ip_route
'''

EXAMPLES = r'''
- name: One neighbour per VXLAN peer (flannel-style), removing peers that left
  crosshost.network.ip_neighbor:
    dev: flannel.1
    neighbors:
      - address: 100.64.2.0
        lladdr: c6:d2:32:6f:8f:44
      - address: 100.64.3.0
        lladdr: 4a:51:0e:93:2b:10
    purge: true

- name: Remove one entry of ours, inside a namespace
  crosshost.network.ip_neighbor:
    netns: xh-demo
    dev: vxlan0
    state: absent
    neighbors:
      - address: 100.64.3.0
'''

RETURN = r'''
commands:
  description:
    - The plan - the C(ip) commands run in one C(ip -batch -) (or that would run, in
      check mode), plus an C(echo) line when the protocol name file is written.
  returned: always
  type: list
  elements: str
  sample:
    - ip neigh replace 100.64.2.0 lladdr c6:d2:32:6f:8f:44 dev flannel.1 nud permanent protocol 147
    - ip neigh del 100.64.9.0 dev flannel.1
removed:
  description: Entries of ours that were (or in check mode would be) deleted, one line an entry.
  returned: always
  type: list
  elements: str
  sample:
    - 100.64.9.0 lladdr 4a:51:0e:93:2b:10 PERMANENT proto 147
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
)
from ansible_collections.crosshost.network.plugins.module_utils._neighbours import (
    build_want,
    compute_plan,
    parse_neighbours,
)
from ansible_collections.crosshost.network.plugins.module_utils._reconcile import Reconcile, check_dev, link_index


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dev=dict(type='str', required=True),
            neighbors=dict(type='list', elements='dict', default=[], aliases=['neighbours'], options=dict(
                address=dict(type='str', required=True),
                lladdr=dict(type='str'),
            )),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            purge=dict(type='bool', default=False),
            force=dict(type='bool', default=False),
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
        link = check_dev(link_index(ipr.read('ip', 'link', 'show')), dev)
        if 'NOARP' in (link.get('flags') or []) and params['state'] == 'present' and want:
            raise InvalidValue('dev %r has the NOARP flag: it does not use neighbour entries' % dev)
        result = compute_plan(want, parse_neighbours(ipr.neighbours(dev)), dev, state=params['state'],
                              purge=params['purge'], force=params['force'])

    run.finish_entries(result, register=params['state'] == 'present' and want)


if __name__ == '__main__':
    main()
