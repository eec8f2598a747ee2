# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The planner of ``ip_link``: one link (bridge, veth, vxlan, macvlan) as declared.

Pure: arguments -> want (:func:`build_want`), links parsed by :mod:`._links` -> have,
want + have -> plan (:func:`compute_plan`), and the ``--diff`` view (:func:`view`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.crosshost.network.plugins.module_utils._iproute import (
    InvalidValue,
    Plan,
    is_unicast_mac,
    normalize_mac,
    parse_address,
    validate_ifname,
)
from ansible_collections.crosshost.network.plugins.module_utils._links import (
    check_mtu,
    describe,
    link_kind,
    peer_matches,
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
    if not is_unicast_mac(mac):
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


def same_namespace(params, peer):
    """Whether the wanted peer lives in the link's own namespace."""
    targets = [key for key in PEER_TARGETS if peer.get(key) not in (None, '')]
    if not targets:
        return True
    key = targets[0]
    return params.get(key) not in (None, '') and params.get(key) == peer[key]
