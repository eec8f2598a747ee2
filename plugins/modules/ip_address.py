#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: ip_address
short_description: Manage the IPv4 and IPv6 addresses of a network link with iproute2
version_added: 0.1.0
description:
  - Adds and removes addresses of one link with C(ip address), in the host or in another
    network namespace, in one C(ip -batch) call.
  - An address is identified by its IP; one already on the link with another prefix
    length is replaced by the declared one.
author: crosshost.network contributors (@crosshost)
extends_documentation_fragment:
  - crosshost.network.target
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
options:
  dev:
    description:
      - The link whose addresses are managed. It must exist.
    type: str
    required: true
  addresses:
    description:
      - Addresses as V(address/prefix length), IPv4 or IPv6, for example V(100.64.1.1/24)
        or V(2001:db8:1::1/64).
    type: list
    elements: str
    default: []
  state:
    description:
      - V(present) adds the O(addresses) missing from the link.
      - V(absent) removes those of the O(addresses) the link has (address and prefix
        length must both match).
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - With O(state=present), also remove every address of the link that is not in
        O(addresses) (O(addresses=[]) removes them all).
      - IPv6 link-local addresses (V(fe80::/10)), which the kernel adds by itself to
        links that are up, are never removed this way; list them with O(state=absent)
        to remove them.
      - Not allowed with O(state=absent).
      - The alias O(exclusive) is the option's former name. It is deprecated and will
        be removed in 1.0.0, because every module of the collection says O(purge) for
        removing what is not declared.
    type: bool
    default: false
    aliases: [exclusive]
notes:
  - IPv4 addresses get the broadcast address of their subnet (C(brd +)) for prefix
    lengths up to 30.
  - Removing a primary IPv4 address makes the kernel drop the secondary addresses of the
    same subnet (unless C(promote_secondaries) is set); the module adds back those that
    should stay, in the same batch.
seealso:
  - module: crosshost.network.ip_link
'''

EXAMPLES = r'''
- name: Give a bridge an IPv4 and an IPv6 address
  crosshost.network.ip_address:
    dev: br-xh
    addresses:
      - 100.64.1.1/24
      - 2001:db8:1::1/64

- name: Exactly this address inside a container's namespace (others go, link-local stays)
  crosshost.network.ip_address:
    dev: eth1
    container: web1
    addresses: [100.64.1.10/24]
    purge: true

- name: Remove one address
  crosshost.network.ip_address:
    dev: br-xh
    addresses: [2001:db8:1::1/64]
    state: absent
'''

RETURN = r'''
commands:
  description: The C(ip) commands of the plan (run unless in check mode).
  returned: always
  type: list
  elements: str
  sample: ['ip address add 100.64.1.1/24 brd + dev br-xh']
addresses:
  description: The addresses of the link after the task (in check mode, as they would be).
  returned: always
  type: list
  elements: str
  sample: ['100.64.1.1/24', '2001:db8:1::1/64', 'fe80::42:64ff:fe40:1/64']
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.crosshost.network.plugins.module_utils._addresses import build_want, compute_plan
from ansible_collections.crosshost.network.plugins.module_utils._iproute import (
    TARGET_ARGUMENT_SPEC,
    TARGET_MUTUALLY_EXCLUSIVE,
)
from ansible_collections.crosshost.network.plugins.module_utils._reconcile import PURGE_ALIASES, Reconcile

ARGUMENT_SPEC = dict(
    dev=dict(type='str', required=True),
    addresses=dict(type='list', elements='str', default=[]),
    state=dict(type='str', choices=['present', 'absent'], default='present'),
    purge=dict(type='bool', default=False, **PURGE_ALIASES),
    **TARGET_ARGUMENT_SPEC
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, mutually_exclusive=TARGET_MUTUALLY_EXCLUSIVE, supports_check_mode=True)
    run = Reconcile(module)
    with run.checking():
        want = build_want(module.params)
    with run.checking(name_target=True):
        result = compute_plan(want, run.ipr.addresses())
    # The kernel's order, not sorted: the first address of a subnet is its primary.
    run.finish(result['plan'], dict(addresses=result['after']),
               diff=lambda: dict(before='\n'.join(result['before']) + '\n', after='\n'.join(result['after']) + '\n'))


if __name__ == '__main__':
    main()
