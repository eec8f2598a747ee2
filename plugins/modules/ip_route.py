#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: ip_route
short_description: Manage a declared set of IPv4 and IPv6 routes marked as crosshost's
version_added: 0.1.0
author: crosshost.network contributors (@crosshost)
description:
  - Makes the kernel routing tables hold a declared list of routes, IPv4 and IPv6, in the
    host or in another network namespace, with one C(ip -batch -) call.
  - Every route this module installs carries the route protocol id 147, registered by
    name as C(crosshost) in C(/etc/iproute2/rt_protos.d/crosshost.conf), so that
    C(ip route) shows C(proto crosshost). Commands use the numeric id.
  - Routes are identified by destination, table and metric, as the kernel does. A
    declared route whose destination, table and metric are taken by a route somebody
    else made (another protocol, for example C(proto static), C(kernel) or C(boot)) is
    an error naming that route, unless O(force=true).
  - Everything is validated before any change - malformed destinations and addresses,
    devices that do not exist or are down, gateways that are not reachable on link,
    source addresses that are not local, conflicting options - so a run either applies
    its whole plan or changes nothing.
options:
  routes:
    description:
      - The routes to manage. With O(state=present) each must have O(routes[].via) or
        O(routes[].dev) (or both).
      - With O(state=absent) only O(routes[].dst), O(routes[].table) and
        O(routes[].metric) identify the routes to delete; other keys are checked for
        syntax and otherwise ignored.
    type: list
    elements: dict
    default: []
    suboptions:
      dst:
        description:
          - Destination network in CIDR form, for example V(100.64.2.0/24) or
            V(2001:db8:2::/64). An address without prefix length is a host route.
          - V(default) is the default route of the family of O(routes[].via) (or of
            O(routes[].src)); IPv4 when neither is given. V(0.0.0.0/0) and V(::/0) are
            accepted too.
          - Host bits must be zero.
        type: str
        required: true
      via:
        description:
          - Gateway address, of the family of O(routes[].dst), or an IPv6 gateway for an IPv4
            destination (RFC 5549, C(via inet6 ...); Linux 5.2 and later).
          - An IPv4 gateway for an IPv6 destination is an error before any change - Linux
            refuses it (C(IPv6 does not support RTA_VIA attribute), and for a nexthop object
            C(IPv6 routes can not use an IPv4 nexthop)). Route IPv6 via the peer's IPv6
            address (a global one, or its link-local one with O(routes[].dev)).
          - It must be reachable on link - covered by a directly connected route of the
            namespace (on O(routes[].dev) if given), or by a device route declared in
            the same run - unless O(routes[].onlink=true). An IPv6 link-local gateway
            needs O(routes[].dev).
        type: str
      dev:
        description:
          - Output device. It must exist and be up. When omitted with O(routes[].via),
            the kernel picks the device of the connected route covering the gateway,
            and any device is accepted when comparing.
        type: str
      onlink:
        description:
          - Pretend that the gateway is directly attached to O(routes[].dev) even if no
            connected route covers it (C(onlink) flag). Needs O(routes[].via) and
            O(routes[].dev).
        type: bool
        default: false
      metric:
        description:
          - Route metric (priority). Defaults to the kernel's default - V(0) for IPv4,
            V(1024) for IPv6 (where the kernel also turns V(0) into V(1024)).
        type: int
      table:
        description:
          - Routing table, by number (1-4294967295) or by name (V(main), V(local),
            V(default) or a name from C(/etc/iproute2/rt_tables) and
            C(/etc/iproute2/rt_tables.d/*.conf)).
          - Defaults to V(main) (254).
        type: raw
      src:
        description:
          - Preferred source address (C(src), shown as C(prefsrc)). It must be an
            address of this namespace, of the family of O(routes[].dst).
        type: str
      mtu:
        description:
          - Path MTU of the route (a route metric, shown under C(metrics)). 68-65535 for
            IPv4, 1280-65535 for IPv6.
        type: int
  state:
    description:
      - V(present) installs (or updates, with C(ip route replace)) every declared route.
      - V(absent) deletes the declared routes that carry our protocol id. A route with
        that destination, table and metric made by someone else is left alone (with a
        warning).
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - With O(state=present), also delete routes carrying our protocol id that are not
        declared, in the tables of O(purge_tables) and through the devices of
        O(purge_devices). Routes of any other protocol are never touched.
    type: bool
    default: false
  purge_tables:
    description:
      - Tables (numbers or names) in which O(purge=true) deletes undeclared routes of
        ours.
      - Defaults to the tables of the declared routes plus V(main).
    type: list
    elements: raw
  purge_devices:
    description:
      - Restrict O(purge=true) to routes through these devices, so that two roles can
        each manage their own routes on one host without deleting the other's.
      - Defaults to any device.
    type: list
    elements: str
  force:
    description:
      - Take over a route with the same destination, table and metric that somebody
        else made (it is replaced and then carries our protocol id).
      - Without it such a route is an error and nothing is changed.
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
    details: The diff shows, one line a route, our routes in the managed tables and the routes at the declared destinations, before and after.
  platform:
    platforms: posix
notes:
  - The route identity is (table, destination, metric), as in the kernel, so
    C(ip route replace) of a declared route never creates a second route next to one
    of ours; to have two routes to one destination, give them different metrics.
  - Writing the protocol name file on the host is reported as a change (and in
    RV(commands) as an C(echo) line); it is the host's file even when the module
    acts in a namespace or container, because C(ip) reads it there.
seealso:
  - module: crosshost.network.ip_neighbor
  - module: crosshost.network.bridge_fdb
'''

EXAMPLES = r'''
- name: Route each peer's container subnet via the peer host (direct routing)
  crosshost.network.ip_route:
    routes:
      - dst: 100.64.2.0/24
        via: 198.18.0.12
      - dst: 100.64.3.0/24
        via: 198.18.0.13
    purge: true
    purge_devices: [eth1]

- name: An IPv6 route and a default route in their own table, inside a namespace
  crosshost.network.ip_route:
    netns: xh-demo
    routes:
      - dst: 2001:db8:2::/64
        via: 2001:db8:1::2
        mtu: 1400
      - dst: default
        via: 198.18.0.1
        dev: veth0
        table: 100

- name: IPv4 container subnets over an IPv6-only underlay (RFC 5549 next hop)
  crosshost.network.ip_route:
    routes:
      - dst: 100.64.2.0/24
        via: 2001:db8:64::12
        dev: eth1

- name: A gateway not covered by any local subnet
  crosshost.network.ip_route:
    routes:
      - dst: 100.64.9.0/24
        via: 198.19.255.254
        dev: eth1
        onlink: true
        metric: 50

- name: Remove two routes of ours
  crosshost.network.ip_route:
    state: absent
    routes:
      - dst: 100.64.2.0/24
      - dst: 2001:db8:2::/64
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
    - ip route replace 100.64.2.0/24 via 198.18.0.12 table 254 proto 147 metric 0
    - ip route del 100.64.7.0/24 table 254 proto 147 metric 0 via 198.18.0.17 dev eth1
removed:
  description: Routes of ours that were (or in check mode would be) deleted, one line a route.
  returned: always
  type: list
  elements: str
  sample:
    - 100.64.7.0/24 via 198.18.0.17 dev eth1 table 254 metric 0 proto 147
target:
  description: Where the module acted - C(host), C(netns NAME) or C(pid N).
  returned: always
  type: str
  sample: netns xh-demo
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.crosshost.network.plugins.module_utils._iproute import (
    TARGET_ARGUMENT_SPEC,
    TARGET_MUTUALLY_EXCLUSIVE,
)
from ansible_collections.crosshost.network.plugins.module_utils._reconcile import Reconcile
from ansible_collections.crosshost.network.plugins.module_utils._routes import (
    ROUTES_ARGUMENT_SPEC,
    build_want,
    compute_plan,
    load_table_names,
    purge_scope,
    read_have,
)


def main():
    module = AnsibleModule(argument_spec=dict(ROUTES_ARGUMENT_SPEC, **TARGET_ARGUMENT_SPEC), mutually_exclusive=TARGET_MUTUALLY_EXCLUSIVE,
                           supports_check_mode=True)
    params = module.params
    run = Reconcile(module)
    table_names = load_table_names()
    with run.checking():
        want = build_want(params, table_names)
        purge_tables, purge_devices = purge_scope(params, table_names)

    links, have = read_have(run.ipr, table_names)
    with run.checking():
        result = compute_plan(want, have, links, state=params['state'], purge=params['purge'], purge_tables=purge_tables,
                              purge_devices=purge_devices, force=params['force'])

    run.finish_entries(result, register=params['state'] == 'present' and want)


if __name__ == '__main__':
    main()
