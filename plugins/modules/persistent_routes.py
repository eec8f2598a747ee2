#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: persistent_routes
short_description: Reconcile routes marked as crosshost's and persist exactly what was applied for boot
version_added: 0.1.0
author: crosshost.network contributors (@crosshost)
description:
  - M(crosshost.network.ip_route) (declared routes with the protocol id 147, checks before any change, one
    C(ip -batch -) call) followed by the boot file of the result - in one task, from one read of the routes.
  - After the batch it writes O(boot_file), an C(ip -batch) file of C(route replace) lines replayed at boot
    (the forwarding role's replay command runs every C(*.batch) file of C(/etc/crosshost)). It lists every
    route of ours in the task's scope as the kernel holds it after the run - the declared routes, and without
    O(purge) the routes of ours in the scope that stay - so the runtime and the boot cannot disagree (a route
    kept live for a host outside the run is kept at boot too).
  - The scope is the tables of O(purge_tables) (default - the tables of the declared routes and V(main)) and,
    when given, the devices of O(purge_devices).
  - O(state=absent) deletes every route of ours in the scope and removes O(boot_file).
options:
  routes:
    description: The declared routes, as M(crosshost.network.ip_route) takes them; each needs O(routes[].via) or O(routes[].dev).
    type: list
    elements: dict
    default: []
    suboptions:
      dst:
        description: Destination network in CIDR form (host bits zero), or V(default).
        type: str
        required: true
      via:
        description: Gateway address (an IPv6 one for an IPv4 destination is C(via inet6), RFC 5549); it must be on link unless O(routes[].onlink).
        type: str
      dev:
        description: Output device (it must exist and be up).
        type: str
      onlink:
        description: The gateway is directly attached to O(routes[].dev) (C(onlink) flag).
        type: bool
        default: false
      metric:
        description: Route metric; the kernel's default when not given (V(0) for IPv4, V(1024) for IPv6).
        type: int
      table:
        description: Routing table, by number or name; V(main) when not given.
        type: raw
      src:
        description: Preferred source address, an address of this namespace.
        type: str
      mtu:
        description: Path MTU of the route.
        type: int
  state:
    description: V(present) reconciles the declared routes and writes O(boot_file); V(absent) deletes every route of ours in the scope and removes it.
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - With O(state=present), also delete the routes of ours in the scope that are not declared. Routes of any
        other protocol are never touched.
      - Without it those routes stay, live and in O(boot_file).
    type: bool
    default: false
  purge_tables:
    description: Tables (numbers or names) of the scope.
    type: list
    elements: raw
  purge_devices:
    description: Restrict the scope to routes through these devices (another task's routes of ours elsewhere stay out of it).
    type: list
    elements: str
  force:
    description: Take over a route at a declared destination, table and metric that somebody else made.
    type: bool
    default: false
  boot_file:
    description: The C(ip -batch) file replaying the routes at boot, e.g. C(/etc/crosshost/50-routes.batch).
    type: path
    required: true
extends_documentation_fragment:
  - crosshost.network.target
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: One diff of the routes (ours in the scope and those at the declared destinations), one of O(boot_file) when it changes.
  platform:
    platforms: posix
notes:
  - The boot file is the host's, whatever the target namespace; the protocol name file too (see M(crosshost.network.ip_route)).
seealso:
  - module: crosshost.network.ip_route
'''

EXAMPLES = r'''
- name: Each peer's container subnet via the peer host, kept across reboots
  crosshost.network.persistent_routes:
    routes:
      - dst: 100.64.2.0/24
        via: 198.18.0.12
        dev: eth1
      - dst: 2001:db8:100:2::/64
        via: 2001:db8:64::12
        dev: eth1
    purge: true
    purge_devices: [eth1]
    boot_file: /etc/crosshost/50-routes.batch

- name: Remove our routes on eth1 and their boot file
  crosshost.network.persistent_routes:
    state: absent
    purge_devices: [eth1]
    boot_file: /etc/crosshost/50-routes.batch
'''

RETURN = r'''
commands:
  description:
    - The batch - the C(ip) commands run in one C(ip -batch -), the C(echo) line when the protocol name file is
      written, and the boot file written or removed.
  returned: always
  type: list
  elements: str
  sample:
    - ip route replace 100.64.2.0/24 via 198.18.0.12 dev eth1 table 254 proto 147 metric 0
    - write /etc/crosshost/50-routes.batch (mode 0644)
removed:
  description: Routes of ours that were (or in check mode would be) deleted, one line a route.
  returned: always
  type: list
  elements: str
  sample: [100.64.7.0/24 via 198.18.0.17 dev eth1 table 254 metric 0 proto 147]
persisted:
  description: The routes O(boot_file) holds after the task, one line a route (empty with O(state=absent)).
  returned: always
  type: list
  elements: str
  sample: [100.64.2.0/24 via 198.18.0.12 dev eth1 table 254 metric 0 proto 147]
target:
  description: Where the routes were reconciled - C(host), C(netns NAME) or C(pid N).
  returned: always
  type: str
  sample: host
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.crosshost.network.plugins.module_utils._files import read_file
from ansible_collections.crosshost.network.plugins.module_utils._iproute import (
    InvalidValue,
    TARGET_ARGUMENT_SPEC,
    TARGET_MUTUALLY_EXCLUSIVE,
)
from ansible_collections.crosshost.network.plugins.module_utils._persist import check_path
from ansible_collections.crosshost.network.plugins.module_utils._persistent_routes import compute_plan
from ansible_collections.crosshost.network.plugins.module_utils._reconcile import Reconcile, register_ours, text_diff
from ansible_collections.crosshost.network.plugins.module_utils._routes import (
    ROUTES_ARGUMENT_SPEC,
    build_want,
    load_table_names,
    purge_scope,
    read_have,
)


def main():
    module = AnsibleModule(argument_spec=dict(ROUTES_ARGUMENT_SPEC, boot_file=dict(type='path', required=True), **TARGET_ARGUMENT_SPEC),
                           mutually_exclusive=TARGET_MUTUALLY_EXCLUSIVE, supports_check_mode=True)
    params = dict(module.params)
    run = Reconcile(module)
    table_names = load_table_names()
    with run.checking():
        check_path(params['boot_file'], 'boot_file')
        if params['state'] == 'absent' and params['routes']:
            raise InvalidValue('state=absent deletes every route of ours in the scope (purge_devices, purge_tables): routes must be empty')
        want = build_want(dict(params, state='present', purge=False), table_names)
        params['purge_tables'], params['purge_devices'] = purge_scope(params, table_names)

    # have, read once: the links, the routes of both families, the boot file.
    links, have = read_have(run.ipr, table_names)
    with run.checking():
        result = compute_plan(want, have, links, params, read_file(params['boot_file']))
    plan = result['plan']

    def diff():
        routes = dict(text_diff(result['before'], result['after']), before_header='routes', after_header='routes')
        return [routes] + plan.file_diffs

    for warning in result['warnings']:
        module.warn(warning)
    run.finish(plan, dict(removed=result['removed'], persisted=result['persisted'], target=run.ipr.target()),
               diff=diff, commands=register_ours(module) if params['state'] == 'present' and want else [],
               apply=lambda batch: batch.apply(module, run.ipr))


if __name__ == '__main__':
    main()
