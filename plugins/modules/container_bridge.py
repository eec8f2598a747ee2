#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: container_bridge
short_description: Reconcile a host's container bridge (link, addresses, MTU, state) and persist it for boot
version_added: 0.1.0
description:
  - Reads the bridge once (C(ip -json -details address show) - the link, its STP and its addresses) with the files
    of ours, computes the difference with the arguments and applies it in one C(ip -batch); what check mode,
    C(--diff) and RV(commands) show is that batch.
  - Makes sure the bridge exists with the STP setting, carries O(addresses) (with O(purge), nothing else but
    IPv6 link-local addresses), has O(mtu) and is up.
  - After the batch it writes the bridge as applied to O(boot_file), an C(ip -batch) file replayed at boot
    (the forwarding role's replay command runs every C(*.batch) file of C(/etc/crosshost) before Docker starts),
    and the IPv6 addresses of O(addresses) to O(record_file). An IPv6 address recorded there that is no longer in
    O(addresses) is removed from the bridge, also with O(purge=false).
  - O(state=absent) deletes the bridge (its ports are detached and stay), unless O(keep_link), and removes
    O(boot_file) and O(record_file).
  - M(crosshost.network.linux_bridge) (ports, forward delay, brctl), M(crosshost.network.ip_address) and
    M(crosshost.network.ip_link) do the same pieces one by one, without files.
author: crosshost.network contributors (@crosshost)
extends_documentation_fragment:
  - crosshost.network.target
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: One diff for the bridge (STP, MTU, state, addresses), one per file of ours that changes.
  platform:
    platforms: posix
options:
  name:
    description: Name of the bridge (at most 15 characters, no whitespace, V(/) or V(:)).
    type: str
    required: true
  state:
    description: V(present) reconciles the bridge; V(absent) deletes it (see O(keep_link)) and removes our files.
    type: str
    choices: [present, absent]
    default: present
  addresses:
    description: The bridge's addresses (C(address/prefix), IPv4 and/or IPv6), e.g. the gateway of the host's container subnet.
    type: list
    elements: str
    default: []
  purge:
    description: Remove the bridge's other addresses (IPv6 link-local ones stay).
    type: bool
    default: false
  stp:
    description: Spanning tree on the bridge.
    type: bool
    default: false
  mtu:
    description: The bridge's MTU; left alone when not given.
    type: int
  keep_link:
    description:
      - With O(state=absent), leave the link and its addresses to their owner and remove only our files
        (C(docker0) is Docker's).
    type: bool
    default: false
  boot_file:
    description:
      - The C(ip -batch) file recreating the bridge as applied at boot, e.g. C(/etc/crosshost/10-bridge.batch).
      - Not written when not given (C(docker0) - Docker makes it at boot).
    type: path
  record_file:
    description:
      - The record of the IPv6 addresses this module set on the bridge, e.g. C(/etc/crosshost/bridge-docker0.address6).
      - Not kept when not given; removed when O(addresses) has no IPv6 address.
    type: path
seealso:
  - module: crosshost.network.linux_bridge
  - module: crosshost.network.ip_address
  - module: crosshost.network.ip_link
'''

EXAMPLES = r'''
- name: A bridge of ours with the gateways of the host's subnets, kept across reboots
  crosshost.network.container_bridge:
    name: br-xh
    addresses: [100.64.1.1/24, 2001:db8:100:1::1/64]
    purge: true
    mtu: 1450
    boot_file: /etc/crosshost/10-bridge.batch
    record_file: /etc/crosshost/bridge-br-xh.address6

- name: Docker's docker0 with our gateway (Docker recreates it at boot)
  crosshost.network.container_bridge:
    name: docker0
    addresses: [100.64.1.1/24]
    purge: true
    record_file: /etc/crosshost/bridge-docker0.address6

- name: Remove a bridge of ours and its files
  crosshost.network.container_bridge:
    name: br-xh
    state: absent
    boot_file: /etc/crosshost/10-bridge.batch
    record_file: /etc/crosshost/bridge-br-xh.address6
'''

RETURN = r'''
commands:
  description: The batch, in order (the C(ip) commands, then the files written or removed); empty when nothing changed.
  returned: always
  type: list
  elements: str
  sample:
    - ip link add name br-xh type bridge
    - ip link set dev br-xh mtu 1450
    - ip address add 100.64.1.1/24 brd + dev br-xh
    - ip link set dev br-xh up
    - write /etc/crosshost/10-bridge.batch (mode 0644)
bridge:
  description: The bridge after the task (in check mode, as it would be).
  returned: always
  type: dict
  contains:
    name:
      description: Name of the bridge.
      type: str
      sample: br-xh
    state:
      description: V(present) or V(absent).
      type: str
      sample: present
    stp:
      description: Whether STP is on (only when present).
      type: bool
      sample: false
    mtu:
      description: The MTU (only when present).
      type: int
      sample: 1450
    admin_state:
      description: V(up) (only when present).
      type: str
      sample: up
    addresses:
      description: Its addresses (only when present), IPv6 link-local ones included.
      type: list
      elements: str
      sample: [100.64.1.1/24]
  sample: {name: br-xh, state: present, stp: false, mtu: 1450, admin_state: up, addresses: [100.64.1.1/24]}
target:
  description: Where the bridge was reconciled (V(host), V(netns NAME) or V(pid N)); the files are the host's.
  returned: always
  type: str
  sample: host
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.crosshost.network.plugins.module_utils._container_bridge import build_want, compute_plan
from ansible_collections.crosshost.network.plugins.module_utils._iproute import (
    TARGET_ARGUMENT_SPEC,
    TARGET_MUTUALLY_EXCLUSIVE,
)
from ansible_collections.crosshost.network.plugins.module_utils._persist import read_files
from ansible_collections.crosshost.network.plugins.module_utils._reconcile import Reconcile, link_index, text_diff


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            addresses=dict(type='list', elements='str', default=[]),
            purge=dict(type='bool', default=False),
            stp=dict(type='bool', default=False),
            mtu=dict(type='int'),
            keep_link=dict(type='bool', default=False),
            boot_file=dict(type='path'),
            record_file=dict(type='path'),
            **TARGET_ARGUMENT_SPEC
        ),
        mutually_exclusive=TARGET_MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )
    run = Reconcile(module)
    with run.checking():
        want = build_want(module.params)
    # have, read once: every link with its details and addresses, and our files.
    links = link_index(run.ipr.read('ip', '-details', 'address', 'show'))
    files = read_files([want['boot_file'], want['record_file']])
    with run.checking(name_target=True):
        result = compute_plan(want, links, files)
    plan = result['plan']

    def diff():
        bridge = dict(text_diff(result['before'], result['after']), before_header='bridge %s' % want['name'],
                      after_header='bridge %s' % want['name'])
        return [bridge] + plan.file_diffs

    run.finish(plan, dict(bridge=result['bridge'], target=run.ipr.target()), diff=diff,
               apply=lambda batch: batch.apply(module, run.ipr))


if __name__ == '__main__':
    main()
