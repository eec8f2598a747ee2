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
  exclusive:
    description:
      - With O(state=present), also remove every address of the link that is not in
        O(addresses) (O(addresses=[]) removes them all).
      - IPv6 link-local addresses (V(fe80::/10)), which the kernel adds by itself to
        links that are up, are never removed this way; list them with O(state=absent)
        to remove them.
      - Not allowed with O(state=absent).
    type: bool
    default: false
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
    exclusive: true

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

import ipaddress

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.crosshost.network.plugins.module_utils._iproute import (
    TARGET_ARGUMENT_SPEC,
    TARGET_MUTUALLY_EXCLUSIVE,
    InvalidValue,
    IPRoute,
    Plan,
    parse_interface,
    validate_ifname,
)

ARGUMENT_SPEC = dict(
    dev=dict(type='str', required=True),
    addresses=dict(type='list', elements='str', default=[]),
    state=dict(type='str', choices=['present', 'absent'], default='present'),
    exclusive=dict(type='bool', default=False),
    **TARGET_ARGUMENT_SPEC
)


def build_want(params):
    """Validate the arguments: dict(dev, state, exclusive, addresses=[ip_interface])."""
    dev = validate_ifname(params['dev'], 'device')
    state = params.get('state') or 'present'
    exclusive = bool(params.get('exclusive'))
    if exclusive and state == 'absent':
        raise InvalidValue('exclusive=true only goes with state=present (to remove all addresses of %s: state=present, addresses=[])' % dev)
    addresses = []
    seen = {}
    for text in params.get('addresses') or []:
        iface = parse_interface(text, 'address of %s' % dev)
        if iface.ip in seen:
            raise InvalidValue('address %s of %s is listed twice (also as %s)' % (text, dev, seen[iface.ip]))
        seen[iface.ip] = text
        addresses.append(iface)
    return dict(dev=dev, state=state, exclusive=exclusive, addresses=addresses)


class HaveAddress:
    """One entry of ``addr_info`` (``ip -json address show``)."""

    def __init__(self, info):
        self.iface = ipaddress.ip_interface('%s/%s' % (info['local'], info['prefixlen']))
        self.secondary = bool(info.get('secondary'))

    def __repr__(self):
        return 'HaveAddress(%s%s)' % (self.iface, ', secondary' if self.secondary else '')


def have_addresses(link):
    """The IPv4/IPv6 addresses of one link, in the kernel's order."""
    return [HaveAddress(info) for info in link.get('addr_info', []) if info.get('family') in ('inet', 'inet6') and 'local' in info]


def kernel_link_local(iface):
    """IPv6 link-local: the kernel makes these itself, exclusive leaves them alone."""
    return iface.version == 6 and iface.ip.is_link_local


def add_command(iface, dev, verb='add'):
    cmd = ['address', verb, iface.with_prefixlen]
    if iface.version == 4 and iface.network.prefixlen <= 30:
        cmd += ['brd', '+']
    return cmd + ['dev', dev]


def compute_plan(want, addresses):
    """Plan for one link. ``addresses``: ``IPRoute.addresses()``.

    Returns dict(plan, before, after) (lists of ``address/len``); raises InvalidValue for
    an unknown device.
    """
    dev = want['dev']
    if dev not in addresses:
        raise InvalidValue('device %r does not exist' % dev)
    have = have_addresses(addresses[dev])
    wanted = dict((iface.ip, iface) for iface in want['addresses'])
    remove, add = [], []
    if want['state'] == 'absent':
        remove = [entry for entry in have if wanted.get(entry.iface.ip) == entry.iface]
    else:
        for entry in have:
            declared = wanted.get(entry.iface.ip)
            if declared is not None and declared != entry.iface:
                remove.append(entry)          # same IP, other prefix length: replaced
            elif declared is None and want['exclusive'] and not kernel_link_local(entry.iface):
                remove.append(entry)
        present = set(entry.iface for entry in have if entry not in remove)
        add = [iface for iface in want['addresses'] if iface not in present]

    plan = Plan()
    # Secondaries first: deleting a primary also drops the secondaries of its subnet.
    for entry in sorted(remove, key=lambda e: not e.secondary):
        plan.add_ip('address', 'del', entry.iface.with_prefixlen, 'dev', dev)
    # Secondaries of a removed primary that stay: add them back (replace: with
    # promote_secondaries one of them is still there).
    dropped = [entry.iface.network for entry in remove if entry.iface.version == 4 and not entry.secondary]
    for entry in have:
        if entry not in remove and entry.secondary and entry.iface.network in dropped:
            plan.add_ip(*add_command(entry.iface, dev, 'replace'))
    for iface in add:
        plan.add_ip(*add_command(iface, dev))

    before = [entry.iface.with_prefixlen for entry in have]
    after = [entry.iface.with_prefixlen for entry in have if entry not in remove] + [iface.with_prefixlen for iface in add]
    return dict(plan=plan, before=before, after=after)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, mutually_exclusive=TARGET_MUTUALLY_EXCLUSIVE, supports_check_mode=True)
    try:
        want = build_want(module.params)
    except InvalidValue as exc:
        module.fail_json(msg=str(exc))
    ipr = IPRoute.from_params(module)
    try:
        result = compute_plan(want, ipr.addresses())
    except InvalidValue as exc:
        module.fail_json(msg='%s: %s' % (ipr.target(), exc))
    plan = result['plan']
    if plan and not module.check_mode:
        ipr.apply(plan)
    output = dict(changed=bool(plan), commands=plan.commands(), addresses=result['after'])
    if module._diff:
        output['diff'] = dict(before='\n'.join(result['before']) + '\n', after='\n'.join(result['after']) + '\n')
    module.exit_json(**output)


if __name__ == '__main__':
    main()
