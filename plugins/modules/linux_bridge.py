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
      - Ports already on the bridge and not listed stay, unless O(exclusive=true).
      - Not managed when not given.
    type: list
    elements: str
  exclusive:
    description:
      - Detach the ports of the bridge that are not in O(ports) (they stay, without master).
      - Needs O(ports) (V([]) detaches every port).
    type: bool
    default: false
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
    exclusive: true

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
from ansible_collections.crosshost.network.plugins.module_utils._iproute import (
    TARGET_ARGUMENT_SPEC,
    TARGET_MUTUALLY_EXCLUSIVE,
    InvalidValue,
    IPRoute,
    Plan,
    validate_ifname,
)
from ansible_collections.crosshost.network.plugins.module_utils._links import (
    admin_state,
    bridge_ports,
    link_data,
    link_kind,
    link_master,
    require_link,
)

# Kernel bounds of the forward delay while STP runs (BR_MIN/MAX_FORWARD_DELAY).
STP_FORWARD_DELAY = (2, 30)
# A new bridge's defaults.
DEFAULT_FORWARD_DELAY_CS = 1500

ARGUMENT_SPEC = dict(
    name=dict(type='str', required=True),
    state=dict(type='str', choices=['present', 'absent'], default='present'),
    ports=dict(type='list', elements='str'),
    exclusive=dict(type='bool', default=False),
    stp=dict(type='bool'),
    forward_delay=dict(type='float'),
    backend=dict(type='str', choices=['auto', 'brctl', 'ip'], default='auto'),
    **TARGET_ARGUMENT_SPEC
)


class BridgePlan:
    """``ip`` commands (one batch, run first) and brctl calls (one process each)."""

    def __init__(self):
        self.ip = Plan()
        self.brctl = []

    def add_brctl(self, *argv):
        self.brctl.append([str(a) for a in argv])

    def __bool__(self):
        return bool(self.ip) or bool(self.brctl)

    __nonzero__ = __bool__

    def commands(self):
        return self.ip.commands() + ['brctl ' + ' '.join(c) for c in self.brctl]


def build_want(params):
    """Validate the arguments; None means leave alone."""
    name = validate_ifname(params['name'], 'bridge name')
    ports = params.get('ports')
    if ports is not None:
        seen = set()
        for port in ports:
            validate_ifname(port, 'port of bridge %s' % name)
            if port == name:
                raise InvalidValue('bridge %s cannot be a port of itself' % name)
            if port in seen:
                raise InvalidValue('port %s of bridge %s is listed twice' % (port, name))
            seen.add(port)
        ports = sorted(ports)
    if params.get('exclusive') and ports is None:
        raise InvalidValue('exclusive=true needs ports (ports=[] detaches every port of bridge %s)' % name)
    delay = params.get('forward_delay')
    if delay is not None:
        if delay < 0:
            raise InvalidValue('forward_delay %r of bridge %s is negative' % (delay, name))
        if params.get('stp'):
            check_stp_delay(delay, name)
    return dict(name=name, state=params.get('state') or 'present', ports=ports, exclusive=bool(params.get('exclusive')),
                stp=params.get('stp'), forward_delay=delay)


def check_stp_delay(delay, name):
    low, high = STP_FORWARD_DELAY
    if not low <= delay <= high:
        raise InvalidValue('forward_delay %r of bridge %s must be between %d and %d seconds while STP is on' % (delay, name, low, high))


def centiseconds(seconds):
    return int(round(seconds * 100))


def seconds_text(seconds):
    """brctl's argument: ``4``, ``2.5``."""
    return '%g' % seconds


def bridge_state(links, name):
    """The bridge as this module manages it, from ``IPRoute.links()``."""
    link = links.get(name)
    if link is None:
        return dict(name=name, state='absent')
    data = link_data(link)
    return dict(name=name, state='present', ports=bridge_ports(links, name), stp=bool(data.get('stp_state')),
                forward_delay=data.get('forward_delay', DEFAULT_FORWARD_DELAY_CS) / 100.0)


def compute_plan(want, links, backend):
    """Plan for one bridge with ``backend`` ``brctl`` or ``ip``.

    Returns dict(plan, before, after); raises InvalidValue before any change.
    """
    name = want['name']
    have = links.get(name)
    plan = BridgePlan()
    use_brctl = backend == 'brctl'
    if have is not None and link_kind(have) != 'bridge':
        raise InvalidValue('link %s is a %s, not a bridge' % (name, link_kind(have) or 'device without kind'))
    before = bridge_state(links, name)

    if want['state'] == 'absent':
        if have is None:
            return dict(plan=plan, before=before, after=before)
        if use_brctl:
            # brctl delbr refuses a bridge that is up; deleting it detaches the ports.
            if admin_state(have) == 'up':
                plan.ip.add_ip('link', 'set', 'dev', name, 'down')
            plan.add_brctl('delbr', name)
        else:
            for port in before['ports']:
                plan.ip.add_ip('link', 'set', 'dev', port, 'nomaster')
            plan.ip.add_ip('link', 'del', 'dev', name)
        return dict(plan=plan, before=before, after=dict(name=name, state='absent'))

    for port in want['ports'] or []:
        link = require_link(links, port, 'port of bridge %s:' % name)
        if link_kind(link) == 'bridge':
            raise InvalidValue('port %s of bridge %s is a bridge itself' % (port, name))
    current = before if have is not None else dict(name=name, state='absent', ports=[], stp=False,
                                                   forward_delay=DEFAULT_FORWARD_DELAY_CS / 100.0)
    stp = current['stp'] if want['stp'] is None else want['stp']
    if want['forward_delay'] is not None and stp:
        check_stp_delay(want['forward_delay'], name)

    # Settings in an order the kernel accepts: it checks the delay only while STP runs,
    # so STP goes off before and on after a new delay.
    settings = []
    if want['forward_delay'] is not None and abs(centiseconds(want['forward_delay']) - centiseconds(current['forward_delay'])) > 1:
        # > 1: the kernel keeps jiffies, so 2.55 s reads back as 2.54 s.
        settings.append(('forward_delay', want['forward_delay']))
    if want['stp'] is not None and want['stp'] != current['stp']:
        settings.insert(0 if not want['stp'] else len(settings), ('stp', want['stp']))

    add_ports = [port for port in want['ports'] or [] if port not in current['ports']]
    del_ports = [port for port in current['ports'] if want['exclusive'] and port not in want['ports']]

    if use_brctl:
        if have is None:
            plan.add_brctl('addbr', name)
        for key, value in settings:
            if key == 'stp':
                plan.add_brctl('stp', name, 'on' if value else 'off')
            else:
                plan.add_brctl('setfd', name, seconds_text(value))
        for port in del_ports:
            plan.add_brctl('delif', name, port)
        for port in add_ports:
            # brctl does not move a port between bridges: take it off the old one first.
            other = link_master(links[port])
            if other:
                plan.add_brctl('delif', other, port)
            plan.add_brctl('addif', name, port)
    else:
        ip_settings = [['stp_state', int(value)] if key == 'stp' else ['forward_delay', centiseconds(value)] for key, value in settings]
        if have is None:
            # A new bridge has STP off, so one command in the kernel's order is safe.
            plan.ip.add_ip('link', 'add', 'name', name, 'type', 'bridge', *[token for setting in ip_settings for token in setting])
        else:
            for setting in ip_settings:
                plan.ip.add_ip('link', 'set', 'dev', name, 'type', 'bridge', *setting)
        for port in del_ports:
            plan.ip.add_ip('link', 'set', 'dev', port, 'nomaster')
        for port in add_ports:
            plan.ip.add_ip('link', 'set', 'dev', port, 'master', name)

    after = dict(current, state='present', stp=stp, ports=sorted(set(current['ports']) - set(del_ports) | set(add_ports)))
    if any(key == 'forward_delay' for key, dummy in settings):
        after['forward_delay'] = float(want['forward_delay'])
    return dict(plan=plan, before=before, after=after)


def view(state, want):
    """The part of the state the task manages, for --diff."""
    if state['state'] == 'absent':
        return dict(name=state['name'], state='absent')
    shown = dict(name=state['name'], state='present')
    for key in ('ports', 'stp', 'forward_delay'):
        if want[key] is not None:
            shown[key] = state[key]
    return shown


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
    try:
        want = build_want(module.params)
    except InvalidValue as exc:
        module.fail_json(msg=str(exc))
    ipr = IPRoute.from_params(module)
    backend = choose_backend(module, ipr)
    try:
        result = compute_plan(want, ipr.links(), backend)
    except InvalidValue as exc:
        module.fail_json(msg='%s: %s' % (ipr.target(), exc))
    plan = result['plan']
    if plan and not module.check_mode:
        ipr.apply(plan.ip)
        for argv in plan.brctl:
            ipr.brctl(*argv)
    output = dict(changed=bool(plan), commands=plan.commands(), backend=backend, bridge=result['after'])
    if module._diff:
        output['diff'] = dict(before=view(result['before'], want), after=view(result['after'], want))
    module.exit_json(**output)


if __name__ == '__main__':
    main()
