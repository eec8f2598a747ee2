#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: ip_link
short_description: Manage virtual network links (bridge, veth, vxlan, macvlan) with iproute2
version_added: 0.1.0
description:
  - Creates, changes and removes one network link with C(ip link), in the host or in
    another network namespace.
  - Creating a link and setting its MTU, MAC address, master and administrative state
    happen in one C(ip -batch) call.
  - Attributes the link is created with (its O(kind), a veth's O(peer), a vxlan's
    O(vxlan.id), O(vxlan.local), O(vxlan.dev) and O(vxlan.dstport), a macvlan's
    O(macvlan.parent)) are changed only by deleting and re-creating the link, and only
    with O(recreate=true); otherwise the module fails naming the attribute, its current
    and its wanted value.
  - Without O(kind), the module changes an existing link of any kind (for example the
    end of a veth pair inside a container, or a NIC) and fails if it does not exist.
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
      - Name of the link (at most 15 characters, no whitespace, V(/) or V(:)).
    type: str
    required: true
  state:
    description:
      - V(present) creates the link if needed and sets the given attributes.
      - V(absent) deletes the link; deleting either end of a veth pair deletes the pair.
        The link's other options are ignored then, except O(kind), which must match.
    type: str
    choices: [present, absent]
    default: present
  kind:
    description:
      - The kind of link. Required to create one.
      - An existing link of another kind makes the module fail unless O(recreate=true).
    type: str
    choices: [bridge, veth, vxlan, macvlan]
  mtu:
    description:
      - MTU of the link. Left alone when not given (a new vxlan takes its O(vxlan.dev)'s
        MTU minus 50, a new bridge follows its ports).
    type: int
  address:
    description:
      - MAC address of the link, V(xx:xx:xx:xx:xx:xx) (case and V(-) separators are
        normalised). Left alone (kernel chosen) when not given.
    type: str
  master:
    description:
      - The bridge this link is a port of.
      - V('') (the empty string) detaches the link from any master (C(nomaster)).
      - Left alone when not given.
    type: str
  admin_state:
    description:
      - Administrative state of the link, V(up) or V(down) (C(ip link set up|down)).
      - Left alone when not given; a new link is down until set V(up).
    type: str
    choices: [up, down]
  recreate:
    description:
      - Allow deleting and re-creating the link to change an attribute the link was created
        with (see the description), or to replace a link of another kind.
      - A re-created link loses whatever this task does not set again (addresses, routes,
        FDB entries, ports of a bridge).
    type: bool
    default: false
  peer:
    description:
      - The other end of a veth pair (only with O(kind=veth); required to create one).
      - The peer is created with the kernel's defaults; configure it with another task
        of this module (in its namespace, without O(kind)).
    type: dict
    suboptions:
      name:
        description:
          - Name of the peer link.
        type: str
        required: true
      netns:
        description:
          - Create the peer in this named network namespace instead of the link's own.
          - Mutually exclusive with O(peer.pid) and O(peer.container).
        type: str
      pid:
        description:
          - Create the peer in the network namespace of this process.
          - Mutually exclusive with O(peer.netns) and O(peer.container).
        type: int
      container:
        description:
          - Create the peer in the network namespace of this running Docker container.
          - Mutually exclusive with O(peer.netns) and O(peer.pid).
        type: str
  vxlan:
    description:
      - VXLAN settings (only with O(kind=vxlan); required to create one).
    type: dict
    suboptions:
      id:
        description:
          - VXLAN network identifier (VNI), 0 to 16777215. Fixed at creation.
        type: int
        required: true
      local:
        description:
          - Source IP address of the tunnel (IPv4 or IPv6). Fixed at creation.
        type: str
      dev:
        description:
          - Underlay device the tunnel sends through. Fixed at creation.
        type: str
      dstport:
        description:
          - UDP destination port. Fixed at creation.
          - When not given, a new link gets the Linux default 8472 (as flannel uses; the
            IANA port is 4789) and an existing link's port is not compared.
        type: int
      learning:
        description:
          - Whether the device learns remote addresses from received packets (off for
            flannel-style static FDB entries). Changed in place.
          - When not given, a new link gets the kernel default (on).
        type: bool
  macvlan:
    description:
      - macvlan settings (only with O(kind=macvlan); required to create one).
    type: dict
    suboptions:
      parent:
        description:
          - The device the macvlan sits on. Fixed at creation.
        type: str
        required: true
        aliases: [link]
      mode:
        description:
          - macvlan mode. Changed in place.
        type: str
        choices: [private, vepa, bridge, passthru, source]
        default: bridge
notes:
  - The kernel can change some vxlan attributes in place on recent versions; this module
    still treats O(vxlan.local) and O(vxlan.dev) as fixed, so that it behaves the same on
    every kernel.
seealso:
  - module: crosshost.network.ip_address
  - module: crosshost.network.linux_bridge
'''

EXAMPLES = r'''
- name: A bridge with a fixed MAC address, up
  crosshost.network.ip_link:
    name: br-xh
    kind: bridge
    address: 02:42:64:40:00:01
    mtu: 1450
    admin_state: up

- name: A veth pair, one end on the bridge, the other in a namespace
  crosshost.network.ip_link:
    name: vxh0
    kind: veth
    peer:
      name: eth1
      netns: xh-blue
    master: br-xh
    admin_state: up

- name: The peer end inside the namespace
  crosshost.network.ip_link:
    name: eth1
    netns: xh-blue
    mtu: 1450
    admin_state: up

- name: A flannel-style VXLAN device
  crosshost.network.ip_link:
    name: flannel.1
    kind: vxlan
    vxlan:
      id: 1
      local: 198.18.0.11
      dev: eth1
      dstport: 8472
      learning: false
    admin_state: up

- name: A macvlan on a NIC
  crosshost.network.ip_link:
    name: mv-xh
    kind: macvlan
    macvlan:
      parent: eth1
      mode: bridge

- name: Detach a link from its bridge
  crosshost.network.ip_link:
    name: vxh0
    master: ''

- name: Change the VNI (deletes and re-creates the device)
  crosshost.network.ip_link:
    name: flannel.1
    kind: vxlan
    vxlan:
      id: 2
      local: 198.18.0.11
      dev: eth1
    recreate: true

- name: Remove a veth pair
  crosshost.network.ip_link:
    name: vxh0
    state: absent
'''

RETURN = r'''
commands:
  description: The C(ip) commands of the plan (run unless in check mode).
  returned: always
  type: list
  elements: str
  sample: ['ip link add name br-xh type bridge', 'ip link set dev br-xh mtu 1450 up']
link:
  description:
    - The link after the task (in check mode, as it would be).
    - Keys the task does not know in check mode (for example a new link's MAC address)
      are missing; after a real run they are read back from the kernel.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the link.
      type: str
      sample: br-xh
    state:
      description: V(present) or V(absent).
      type: str
      sample: present
    kind:
      description: Kind of the link, or null for a device without one (a NIC).
      type: str
      sample: bridge
    mtu:
      description: MTU.
      type: int
      sample: 1450
    address:
      description: MAC address.
      type: str
      sample: 02:42:64:40:00:01
    master:
      description: Name of the master, or V('') for none.
      type: str
      sample: br-xh
    admin_state:
      description: V(up) or V(down).
      type: str
      sample: up
    peer:
      description:
        - A veth's peer, C(name) (plus the namespace option of O(peer) when it was
          checked there); a peer in an unchecked namespace shows as C(if<index>).
      type: dict
      sample: {name: eth1, netns: xh-blue}
    vxlan:
      description: A vxlan's C(id), C(local), C(dev), C(dstport) and C(learning).
      type: dict
      sample: {id: 1, local: 198.18.0.11, dev: eth1, dstport: 8472, learning: false}
    macvlan:
      description: A macvlan's C(parent) and C(mode).
      type: dict
      sample: {parent: eth1, mode: bridge}
  sample: {name: br-xh, state: present, kind: bridge, mtu: 1450, address: 02:42:64:40:00:01, master: '', admin_state: up}
recreated:
  description: Whether the link was (or would be) deleted and created again.
  returned: always
  type: bool
  sample: false
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.crosshost.network.plugins.module_utils._iproute import (
    TARGET_ARGUMENT_SPEC,
    TARGET_MUTUALLY_EXCLUSIVE,
    IPRoute,
)
from ansible_collections.crosshost.network.plugins.module_utils._link_plan import (
    MACVLAN_MODES,
    PEER_TARGETS,
    build_want,
    compute_plan,
    same_namespace,
    view,
)
from ansible_collections.crosshost.network.plugins.module_utils._links import describe
from ansible_collections.crosshost.network.plugins.module_utils._reconcile import Reconcile

ARGUMENT_SPEC = dict(
    name=dict(type='str', required=True),
    state=dict(type='str', choices=['present', 'absent'], default='present'),
    kind=dict(type='str', choices=['bridge', 'veth', 'vxlan', 'macvlan']),
    mtu=dict(type='int'),
    address=dict(type='str'),
    master=dict(type='str'),
    admin_state=dict(type='str', choices=['up', 'down']),
    recreate=dict(type='bool', default=False),
    peer=dict(type='dict', options=dict(
        name=dict(type='str', required=True),
        netns=dict(type='str'),
        pid=dict(type='int'),
        container=dict(type='str'),
    ), mutually_exclusive=[PEER_TARGETS]),
    vxlan=dict(type='dict', options=dict(
        id=dict(type='int', required=True),
        local=dict(type='str'),
        dev=dict(type='str'),
        dstport=dict(type='int'),
        learning=dict(type='bool'),
    )),
    macvlan=dict(type='dict', options=dict(
        parent=dict(type='str', required=True, aliases=['link']),
        mode=dict(type='str', choices=list(MACVLAN_MODES), default='bridge'),
    )),
    **TARGET_ARGUMENT_SPEC
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, mutually_exclusive=TARGET_MUTUALLY_EXCLUSIVE, supports_check_mode=True)
    run = Reconcile(module)
    with run.checking():
        want = build_want(module.params)

    ipr = run.ipr
    links = ipr.links()
    peer_links = peer_ref = None
    if want['peer'] and not same_namespace(module.params, want['peer']):
        peer_ipr = IPRoute.for_target(module, want['peer'], label='peer ')
        peer_links = peer_ipr.links()
        peer_ref = peer_ipr.netns or str(peer_ipr.pid)
    with run.checking(name_target=True):
        result = compute_plan(want, links, peer_links, peer_ref)

    def read_back():
        """What the kernel chose (a new link's MAC address, MTU)."""
        if want['state'] != 'present':
            return {}
        return dict(link=describe(ipr.read('ip', '-details', 'link', 'show', 'dev', want['name'])[0], want['peer']))

    run.finish(result['plan'], dict(link=result['after'], recreated=result['recreated']), read_back=read_back,
               diff=lambda: dict(before=view(result['before'], want), after=view(result['after'], want)))


if __name__ == '__main__':
    main()
