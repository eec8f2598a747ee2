#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: linux_bridge
short_description: Manage a Linux bridge and its ports, with brctl or iproute2
version_added: 0.1.0
description:
  - Creates and removes a Linux bridge, attaches and detaches its ports and sets its
    spanning tree protocol (STP) and forward delay, like C(brctl) does.
  - Runs C(brctl) (bridge-utils) where it is installed and C(ip link) otherwise, with the
    same result. brctl has no batch mode, so it runs once per changed setting or port.
    With C(ip), all changes go in one C(ip -batch) call.
  - The state is always read with C(ip -json -details link show).
  - Administrative state, MTU and MAC address of the bridge are left to
    M(crosshost.network.ip_link).
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
  name:
    description:
      - Name of the bridge (at most 15 characters, no whitespace, V(/) or V(:)).
    type: str
    required: true
  state:
    description:
      - V(present) creates the bridge if needed and applies the other options.
      - V(absent) deletes the bridge; its ports are detached first and stay.
    type: str
    choices: [present, absent]
    default: present
  ports:
    description:
      - Links to attach to the bridge (a port of another bridge is moved). They must exist.
      - Ports already on the bridge and not listed stay, unless O(purge=true).
      - Not managed when not given.
    type: list
    elements: str
  purge:
    description:
      - Detach the ports of the bridge that are not in O(ports) (they stay, without master).
      - Needs O(ports) (V([]) detaches every port).
      - The alias O(exclusive) is the option's former name. It is deprecated and will
        be removed in 1.0.0, because every module of the collection says O(purge) for
        removing what is not declared.
    type: bool
    default: false
    aliases: [exclusive]
  stp:
    description:
      - Whether the bridge runs the spanning tree protocol (C(brctl stp)). Left alone
        when not given (a new bridge has it off).
    type: bool
  forward_delay:
    description:
      - Forward delay in seconds (C(brctl setfd)); the kernel keeps it in hundredths of a
        second. Left alone when not given (a new bridge has 15).
      - With STP on it must be between 2 and 30.
    type: float
  backend:
    description:
      - V(auto) uses C(brctl) where it is installed and can act on the target, C(ip)
        otherwise.
      - V(brctl) fails where brctl is missing or the target is O(pid) or O(container),
        because brctl writes settings through sysfs, which is only right for the host or
        a named O(netns) (there it runs under C(ip netns exec)).
      - V(ip) uses only C(ip link).
    type: str
    choices: [auto, brctl, ip]
    default: auto
seealso:
  - module: crosshost.network.ip_link
'''

EXAMPLES = r'''
- name: A bridge with two ports, STP on
  crosshost.network.linux_bridge:
    name: br-xh
    ports: [vxh0, vxh1]
    stp: true
    forward_delay: 4

- name: Exactly these ports (others are detached)
  crosshost.network.linux_bridge:
    name: br-xh
    ports: [vxh0]
    purge: true

- name: The same inside a namespace, with ip only
  crosshost.network.linux_bridge:
    name: br-xh
    netns: xh-lab
    backend: ip
    ports: [vxh0]

- name: Remove the bridge (its ports stay)
  crosshost.network.linux_bridge:
    name: br-xh
    state: absent
'''

RETURN = r'''
commands:
  description:
    - The commands of the plan (run unless in check mode), in order; C(ip) ones run
      first, in one batch.
  returned: always
  type: list
  elements: str
  sample: ['brctl addbr br-xh', 'brctl setfd br-xh 4', 'brctl stp br-xh on', 'brctl addif br-xh vxh0']
backend:
  description: The backend used, V(brctl) or V(ip).
  returned: always
  type: str
  sample: brctl
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
    ports:
      description: Sorted names of its ports (only when present).
      type: list
      elements: str
      sample: [vxh0, vxh1]
    stp:
      description: Whether STP is on (only when present).
      type: bool
      sample: true
    forward_delay:
      description: Forward delay in seconds (only when present).
      type: float
      sample: 4.0
  sample: {name: br-xh, state: present, ports: [vxh0, vxh1], stp: true, forward_delay: 4.0}
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.crosshost.network.plugins.module_utils._bridge_plan import build_want, compute_plan, view
from ansible_collections.crosshost.network.plugins.module_utils._iproute import (
    TARGET_ARGUMENT_SPEC,
    TARGET_MUTUALLY_EXCLUSIVE,
)
from ansible_collections.crosshost.network.plugins.module_utils._reconcile import PURGE_ALIASES, Reconcile

ARGUMENT_SPEC = dict(
    name=dict(type='str', required=True),
    state=dict(type='str', choices=['present', 'absent'], default='present'),
    ports=dict(type='list', elements='str'),
    purge=dict(type='bool', default=False, **PURGE_ALIASES),
    stp=dict(type='bool'),
    forward_delay=dict(type='float'),
    backend=dict(type='str', choices=['auto', 'brctl', 'ip'], default='auto'),
    **TARGET_ARGUMENT_SPEC
)


def choose_backend(module, ipr):
    """``brctl`` or ``ip`` for the wanted backend option and this target."""
    wanted = module.params['backend']
    if wanted == 'ip':
        return 'ip'
    if ipr.brctl_argv() is not None:
        return 'brctl'
    if wanted == 'auto':
        return 'ip'
    if ipr.pid:
        module.fail_json(msg='backend brctl cannot act in %s: brctl writes through sysfs, which is not that namespace\'s; '
                             'use backend ip (or auto)' % ipr.target())
    module.fail_json(msg='backend brctl: brctl is not installed on the target (package bridge-utils); use backend ip (or auto)')
    return None


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, mutually_exclusive=TARGET_MUTUALLY_EXCLUSIVE, supports_check_mode=True)
    run = Reconcile(module)
    with run.checking():
        want = build_want(module.params)
    ipr = run.ipr
    backend = choose_backend(module, ipr)
    with run.checking(name_target=True):
        result = compute_plan(want, ipr.links(), backend)

    def apply(plan):
        ipr.apply(plan.ip)
        for argv in plan.brctl:
            ipr.brctl(*argv)

    run.finish(result['plan'], dict(backend=backend, bridge=result['after']), apply=apply,
               diff=lambda: dict(before=view(result['before'], want), after=view(result['after'], want)))


if __name__ == '__main__':
    main()
