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

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.crosshost.network.plugins.module_utils._iproute import (
    TARGET_ARGUMENT_SPEC,
    TARGET_MUTUALLY_EXCLUSIVE,
    InvalidValue,
    IPRoute,
    Plan,
    normalize_mac,
    parse_address,
    validate_ifname,
)
from ansible_collections.crosshost.network.plugins.module_utils._links import (
    admin_state,
    check_mtu,
    link_data,
    link_kind,
    link_master,
    require_link,
)

# Which kind each kind-specific option belongs to.
KIND_OPTIONS = (('peer', 'veth'), ('vxlan', 'vxlan'), ('macvlan', 'macvlan'))
MACVLAN_MODES = ('private', 'vepa', 'bridge', 'passthru', 'source')
PEER_TARGETS = ('netns', 'pid', 'container')
# Fixed at creation. Recent kernels change local and dev in place, older ones do not:
# we re-create for all four so that a task does the same everywhere.
VXLAN_FIXED = ('id', 'local', 'dev', 'dstport')
VXLAN_DEFAULT_PORT = 8472
MAX_VNI = 2 ** 24 - 1
MANAGED = ('mtu', 'address', 'master', 'admin_state', 'peer', 'vxlan', 'macvlan')

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


# ---- want ----------------------------------------------------------------------------
def build_want(params):
    """Validate the arguments; return the wanted state (None = leave alone)."""
    name = validate_ifname(params['name'], 'link name')
    kind = params.get('kind')
    want = dict(name=name, state=params.get('state') or 'present', kind=kind, recreate=bool(params.get('recreate')))
    for key in MANAGED:
        want[key] = None
    for option, option_kind in KIND_OPTIONS:
        if params.get(option) is not None and kind != option_kind:
            raise InvalidValue('option %s is only for kind %s, but link %s has kind %s' % (option, option_kind, name, kind or '(not set)'))
    if want['state'] == 'absent':
        return want

    want['mtu'] = check_mtu(params.get('mtu'), what='mtu of link %s' % name)
    if params.get('address') is not None:
        want['address'] = check_unicast(normalize_mac(params['address'], 'address of link %s' % name), name)
    master = params.get('master')
    if master is not None:
        if master != '':
            validate_ifname(master, 'master of link %s' % name)
            if master == name:
                raise InvalidValue('link %s cannot be its own master' % name)
        want['master'] = master
    want['admin_state'] = params.get('admin_state')
    if params.get('peer') is not None:
        want['peer'] = build_peer(params['peer'], name)
    if params.get('vxlan') is not None:
        want['vxlan'] = build_vxlan(params['vxlan'], name)
    if params.get('macvlan') is not None:
        want['macvlan'] = build_macvlan(params['macvlan'], name)
    return want


def check_unicast(mac, name):
    if int(mac[:2], 16) & 1 or mac == '00:00:00:00:00:00':
        raise InvalidValue('address %s of link %s is not a unicast MAC address' % (mac, name))
    return mac


def build_peer(peer, name):
    peer_name = validate_ifname(peer.get('name'), 'peer name of link %s' % name)
    targets = dict((key, peer[key]) for key in PEER_TARGETS if peer.get(key) not in (None, ''))
    if len(targets) > 1:
        raise InvalidValue('peer of link %s: netns, pid and container are mutually exclusive (got %s)' % (name, ', '.join(sorted(targets))))
    if 'netns' in targets and ('/' in targets['netns'] or targets['netns'] in ('.', '..')):
        raise InvalidValue('peer netns %r of link %s is not a valid namespace name' % (targets['netns'], name))
    if 'pid' in targets and targets['pid'] <= 0:
        raise InvalidValue('peer pid %r of link %s is not a process ID' % (targets['pid'], name))
    if not targets and peer_name == name:
        raise InvalidValue('peer of link %s needs another name (or another namespace)' % name)
    result = dict(name=peer_name)
    result.update(targets)
    return result


def build_vxlan(vxlan, name):
    vni = vxlan.get('id')
    if vni is None or not 0 <= vni <= MAX_VNI:
        raise InvalidValue('vxlan id %r of link %s is out of range (0..%d)' % (vni, name, MAX_VNI))
    local = vxlan.get('local')
    if local is not None:
        local = str(parse_address(local, 'vxlan local address of link %s' % name))
    dev = vxlan.get('dev')
    if dev is not None:
        validate_ifname(dev, 'vxlan dev of link %s' % name)
        if dev == name:
            raise InvalidValue('vxlan dev of link %s cannot be the link itself' % name)
    port = vxlan.get('dstport')
    if port is not None and not 1 <= port <= 65535:
        raise InvalidValue('vxlan dstport %r of link %s is out of range (1..65535)' % (port, name))
    return dict(id=vni, local=local, dev=dev, dstport=port, learning=vxlan.get('learning'))


def build_macvlan(macvlan, name):
    parent = validate_ifname(macvlan.get('parent'), 'macvlan parent of link %s' % name)
    if parent == name:
        raise InvalidValue('macvlan parent of link %s cannot be the link itself' % name)
    mode = macvlan.get('mode') or 'bridge'
    if mode not in MACVLAN_MODES:
        raise InvalidValue('macvlan mode %r of link %s is not one of %s' % (mode, name, ', '.join(MACVLAN_MODES)))
    return dict(parent=parent, mode=mode)


# ---- have ----------------------------------------------------------------------------
def peer_of(link):
    """A veth's peer as the JSON tells it: its name in the same namespace, else its index."""
    if 'link_netnsid' in link or 'link' not in link:
        return dict(name='if%s' % link.get('link_index'), netnsid=link.get('link_netnsid'))
    return dict(name=link['link'])


def describe(link, peer=None):
    """The state of an existing link, in the module's terms (``peer``: a verified peer)."""
    kind = link_kind(link)
    state = dict(name=link['ifname'], state='present', kind=kind, mtu=link.get('mtu'),
                 address=(link.get('address') or '').lower() or None,
                 master=link_master(link), admin_state=admin_state(link))
    data = link_data(link)
    if kind == 'veth':
        state['peer'] = dict(peer) if peer else peer_of(link)
    elif kind == 'vxlan':
        state['vxlan'] = dict(id=data.get('id'), local=data.get('local') or data.get('local6'), dev=data.get('link'),
                              dstport=data.get('port'), learning=data.get('learning'))
    elif kind == 'macvlan':
        # A parent in another namespace has no name here: unknown, so never compared.
        parent = None if 'link_netnsid' in link else link.get('link')
        state['macvlan'] = dict(parent=parent, mode=data.get('mode'))
    return state


def peer_matches(link, peer, peer_links, peer_ref):
    """Whether the veth ``link`` is paired with the wanted peer (name and namespace)."""
    if peer_ref is None:
        return 'link_netnsid' not in link and link.get('link') == peer['name']
    other = (peer_links or {}).get(peer['name'])
    # ifindexes are per namespace: each end names the other's index.
    return (bool(other) and 'link_netnsid' in link and 'link_netnsid' in other
            and link.get('link_index') == other.get('ifindex') and other.get('link_index') == link.get('ifindex'))


# ---- plan ----------------------------------------------------------------------------
def fixed_changes(want, have, peer_links, peer_ref):
    """(attribute, current, wanted) for each wanted attribute only a re-creation can change."""
    have_kind = link_kind(have)
    if want['kind'] and want['kind'] != have_kind:
        return [('kind', have_kind or 'none (not a virtual link)', want['kind'])]
    current = describe(have)
    changes = []
    if want['peer'] and have_kind == 'veth' and not peer_matches(have, want['peer'], peer_links, peer_ref):
        changes.append(('peer', peer_text(current['peer']), peer_text(want['peer'])))
    if want['vxlan'] and have_kind == 'vxlan':
        for key in VXLAN_FIXED:
            if want['vxlan'][key] is not None and want['vxlan'][key] != current['vxlan'][key]:
                changes.append(('vxlan %s' % key, current['vxlan'][key], want['vxlan'][key]))
    if want['macvlan'] and have_kind == 'macvlan':
        parent = current['macvlan']['parent']
        if parent is not None and parent != want['macvlan']['parent']:
            changes.append(('macvlan parent', parent, want['macvlan']['parent']))
    return changes


def peer_text(peer):
    where = ['%s %s' % (key, peer[key]) for key in PEER_TARGETS + ('netnsid',) if peer.get(key) is not None]
    return peer['name'] + (' (%s)' % ', '.join(where) if where else '')


def add_command(want, peer_ref):
    """``link add`` for a new link; the attributes every kind shares are set afterwards."""
    name, kind = want['name'], want['kind']
    if kind == 'veth':
        cmd = ['link', 'add', 'name', name, 'type', 'veth', 'peer', 'name', want['peer']['name']]
        if peer_ref is not None:
            cmd += ['netns', peer_ref]
        return cmd
    if kind == 'vxlan':
        vxlan = want['vxlan']
        cmd = ['link', 'add', 'name', name, 'type', 'vxlan', 'id', vxlan['id']]
        for key in ('local', 'dev'):
            if vxlan[key] is not None:
                cmd += [key, vxlan[key]]
        # Explicit port: iproute2 warns when it is left to the kernel.
        cmd += ['dstport', vxlan['dstport'] or VXLAN_DEFAULT_PORT]
        if vxlan['learning'] is not None:
            cmd.append('learning' if vxlan['learning'] else 'nolearning')
        return cmd
    if kind == 'macvlan':
        return ['link', 'add', 'link', want['macvlan']['parent'], 'name', name, 'type', 'macvlan', 'mode', want['macvlan']['mode']]
    return ['link', 'add', 'name', name, 'type', kind]


def check_references(want, links, peer_links, peer_ref, have, creating):
    """Devices the link refers to must exist (and a new peer's name must be free)."""
    name = want['name']
    if want['master']:
        master = require_link(links, want['master'], 'master of link %s:' % name)
        if link_kind(master) != 'bridge':
            raise InvalidValue('master %s of link %s is a %s, not a bridge' % (want['master'], name, link_kind(master) or 'device without kind'))
    if not creating:
        return
    if want['vxlan'] and want['vxlan']['dev'] is not None:
        require_link(links, want['vxlan']['dev'], 'vxlan dev of link %s:' % name)
    if want['macvlan']:
        require_link(links, want['macvlan']['parent'], 'macvlan parent of link %s:' % name)
    if want['peer']:
        peer_name = want['peer']['name']
        space = links if peer_ref is None else (peer_links or {})
        # Re-creating a veth deletes its peer, so the old peer's name is free again.
        old_peer = have and link_kind(have) == 'veth' and peer_matches(have, want['peer'], peer_links, peer_ref)
        if peer_name in space and not old_peer:
            raise InvalidValue('peer name %s of link %s is already taken by another link%s'
                               % (peer_name, name, '' if peer_ref is None else ' in the peer namespace'))


def compute_plan(want, links, peer_links=None, peer_ref=None):
    """Plan for one link. ``links``: ``IPRoute.links()`` of the target; ``peer_links``: of
    the peer's namespace and ``peer_ref`` its ``netns`` argument (None: same namespace).

    Returns dict(plan, before, after, recreated); raises InvalidValue before any change.
    """
    name = want['name']
    have = links.get(name)
    plan = Plan()
    peer_view = want['peer'] if have and want['peer'] and peer_matches(have, want['peer'], peer_links, peer_ref) else None
    before = describe(have, peer_view) if have else dict(name=name, state='absent')
    if want['state'] == 'absent':
        if have is None:
            return dict(plan=plan, before=before, after=before, recreated=False)
        if want['kind'] and link_kind(have) != want['kind']:
            raise InvalidValue('link %s is a %s, not a %s: not removing it' % (name, link_kind(have) or 'device without kind', want['kind']))
        plan.add_ip('link', 'del', 'dev', name)
        return dict(plan=plan, before=before, after=dict(name=name, state='absent'), recreated=False)

    if have is None and not want['kind']:
        raise InvalidValue('link %s does not exist: set kind to create it' % name)
    changes = fixed_changes(want, have, peer_links, peer_ref) if have else []
    if changes and not want['recreate']:
        raise InvalidValue('link %s: %s; this is only set when the link is created: set recreate=true to delete and re-create the link'
                           % (name, '; '.join('%s is %s, want %s' % change for change in changes)))
    if changes and link_kind(have) is None:
        raise InvalidValue('link %s is not a virtual link (no kind): it cannot be re-created as a %s' % (name, want['kind']))
    creating = have is None or bool(changes)
    if creating:
        for option, option_kind in KIND_OPTIONS:
            if want['kind'] == option_kind and not want[option]:
                raise InvalidValue('creating link %s of kind %s needs option %s' % (name, option_kind, option))
    else:
        check_mtu(want['mtu'], have, 'mtu of link %s' % name)
    check_references(want, links, peer_links, peer_ref, have, creating)

    current = {} if creating else describe(have)
    if creating:
        if have is not None:
            plan.add_ip('link', 'del', 'dev', name)
        plan.add_ip(*add_command(want, peer_ref))
    else:
        in_place_changes(plan, want, current)
    settings = []
    if want['mtu'] is not None and want['mtu'] != current.get('mtu'):
        settings += ['mtu', want['mtu']]
    if want['address'] is not None and want['address'] != current.get('address'):
        settings += ['address', want['address']]
    if want['master'] == '' and current.get('master'):
        settings.append('nomaster')
    elif want['master'] and want['master'] != current.get('master'):
        settings += ['master', want['master']]
    # A new link starts down.
    if want['admin_state'] is not None and want['admin_state'] != current.get('admin_state', 'down'):
        settings.append(want['admin_state'])
    if settings:
        plan.add_ip('link', 'set', 'dev', name, *settings)

    after = predict(want, before if not creating else dict(name=name, state='present', kind=want['kind']), creating)
    return dict(plan=plan, before=before, after=after, recreated=bool(changes))


def in_place_changes(plan, want, current):
    """Kind-specific settings the kernel changes on a live link."""
    name = want['name']
    if want['vxlan'] and current.get('vxlan') and want['vxlan']['learning'] is not None \
            and want['vxlan']['learning'] != current['vxlan']['learning']:
        plan.add_ip('link', 'set', 'dev', name, 'type', 'vxlan', 'learning' if want['vxlan']['learning'] else 'nolearning')
    if want['macvlan'] and current.get('macvlan') and want['macvlan']['mode'] != current['macvlan']['mode']:
        plan.add_ip('link', 'set', 'dev', name, 'type', 'macvlan', 'mode', want['macvlan']['mode'])


def predict(want, base, creating):
    """The state after the plan: ``base`` (the current state, or a bare new link) + want."""
    after = dict(base)
    after['state'] = 'present'
    if creating:
        for key in ('master', 'admin_state'):
            after[key] = {'master': '', 'admin_state': 'down'}[key]
    for key in ('mtu', 'address', 'master', 'admin_state'):
        if want[key] is not None:
            after[key] = want[key]
    if want['peer']:
        after['peer'] = dict(want['peer'])
    if want['vxlan']:
        vxlan = dict(after.get('vxlan') or dict(dstport=VXLAN_DEFAULT_PORT, learning=True))
        vxlan.update((key, value) for key, value in want['vxlan'].items() if value is not None)
        after['vxlan'] = vxlan
    if want['macvlan']:
        after['macvlan'] = dict(want['macvlan'])
    return after


def view(state, want):
    """The part of a state the task manages, for --diff."""
    if state.get('state') == 'absent':
        return dict(name=state['name'], state='absent')
    shown = dict((key, state.get(key)) for key in ('name', 'state', 'kind'))
    for key in MANAGED:
        if want.get(key) is None:
            continue
        value = state.get(key)
        if isinstance(want[key], dict) and isinstance(value, dict):
            value = dict((sub, value.get(sub)) for sub in value if sub in want[key] and (want[key][sub] is not None or key == 'peer'))
        shown[key] = value
    return shown


# ---- module --------------------------------------------------------------------------
def same_namespace(params, peer):
    """Whether the wanted peer lives in the link's own namespace."""
    targets = [key for key in PEER_TARGETS if peer.get(key) not in (None, '')]
    if not targets:
        return True
    key = targets[0]
    return params.get(key) not in (None, '') and params.get(key) == peer[key]


def peer_iproute(module, peer):
    """An IPRoute for the namespace the peer goes to (checked like the target options)."""
    if peer.get('container'):
        # Imported here: only this option needs docker.
        from ansible_collections.crosshost.network.plugins.module_utils._container import container_pid
        return IPRoute(module, pid=container_pid(module, peer['container']))
    if peer.get('netns'):
        if not os.path.exists('/run/netns/%s' % peer['netns']):
            module.fail_json(msg='peer network namespace %r does not exist (ip netns list)' % peer['netns'])
        return IPRoute(module, netns=peer['netns'])
    if not os.path.exists('/proc/%d/ns/net' % peer['pid']):
        module.fail_json(msg='peer process %d does not exist, so it has no network namespace' % peer['pid'])
    return IPRoute(module, pid=peer['pid'])


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, mutually_exclusive=TARGET_MUTUALLY_EXCLUSIVE, supports_check_mode=True)
    try:
        want = build_want(module.params)
    except InvalidValue as exc:
        module.fail_json(msg=str(exc))

    ipr = IPRoute.from_params(module)
    links = ipr.links()
    peer_links = peer_ref = None
    if want['peer'] and not same_namespace(module.params, want['peer']):
        peer_ipr = peer_iproute(module, want['peer'])
        peer_links = peer_ipr.links()
        peer_ref = peer_ipr.netns or str(peer_ipr.pid)
    try:
        result = compute_plan(want, links, peer_links, peer_ref)
    except InvalidValue as exc:
        module.fail_json(msg='%s: %s' % (ipr.target(), exc))

    plan = result['plan']
    link = result['after']
    if plan and not module.check_mode:
        ipr.apply(plan)
        if want['state'] == 'present':
            # Read back what the kernel chose (a new link's MAC address, MTU).
            link = describe(ipr.read('ip', '-details', 'link', 'show', 'dev', want['name'])[0], want['peer'])
    output = dict(changed=bool(plan), commands=plan.commands(), link=link, recreated=result['recreated'])
    if module._diff:
        output['diff'] = dict(before=view(result['before'], want), after=view(result['after'], want))
    module.exit_json(**output)


if __name__ == '__main__':
    main()
