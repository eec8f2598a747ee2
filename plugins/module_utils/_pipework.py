# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planning for the ``pipework`` module: one container interface on a host bridge or NIC.

Nothing here runs a command. The module reads the host's links, the target's links with
their addresses and the target's routes (``ip -json``), and :func:`compute_plan` turns
them and the arguments into three :class:`Plan` objects:

- ``target_pre``: deletions in the target namespace, only when an interface of ours must
  be re-created there (a macvlan that must become a veth); usually empty;
- ``host``: one ``ip -batch`` in the host namespace (bridge, veth pair or macvlan, whose
  container end is created directly in the target namespace with ``netns``);
- ``target``: one ``ip -batch`` in the target namespace (link settings, addresses,
  default route, extra routes).

With DHCP the target batch is split around the client: the link part runs first, the
lease is read back, and :func:`l3_plan` plans the address part from it.

What is ours: a link whose ``ifalias`` is :data:`MARK` (set on both ends), or a veth
end paired with the other end; routes with our protocol id.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import ipaddress

from ansible_collections.crosshost.network.plugins.module_utils._addresses import add_command, global_addresses
from ansible_collections.crosshost.network.plugins.module_utils._iproute import (
    PROTO_ID,
    InvalidValue,
    Plan,
    is_ours,
    is_unicast_mac,
    normalize_mac,
    parse_interface,
    parse_network,
    validate_ifname,
)
from ansible_collections.crosshost.network.plugins.module_utils._links import (
    MAX_MTU,
    MIN_MTU,
    is_up,
    link_kind,
    paired_across,
)
from ansible_collections.crosshost.network.plugins.module_utils import _routes
from ansible_collections.crosshost.network.plugins.module_utils._routes import DEFAULT_METRIC, MAIN_TABLE

MARK = 'crosshost:pipework'
HOST_PREFIX = 'vxh'
DEFAULT_IFNAME = 'eth1'
# Address words that ask for DHCP, and the client each one forces ('auto': any).
DHCP_WORDS = {'dhcp': 'auto', 'udhcpc': 'udhcpc', 'dhclient': 'dhclient'}
# Forms of the original script this module does not take, with the reason.
UNSUPPORTED_DHCP = {
    'dhcpcd': 'dhcpcd is not supported: use dhcp, udhcpc or dhclient',
    '-f': 'a DHCP client left running in the foreground (-f) is not supported: the lease is applied once, re-run to renew it',
    ':': 'options for the DHCP client (dhcp:<options>) are not supported',
}


# ---- arguments -> want -----------------------------------------------------------------
def stable_mac(text):
    """``U:<text>``: ``02:`` + the first 5 bytes of md5(text + newline).

    The newline is what ``echo <text> | md5sum`` in the original script hashes, so a
    container gets the MAC address the script gave it.
    """
    digest = hashlib.md5((text + '\n').encode('utf-8')).hexdigest()
    return '02:' + ':'.join(digest[i:i + 2] for i in range(0, 10, 2))


def parse_mac(value):
    """A MAC address, ``U:<string>`` (stable, derived) or None (the kernel picks one)."""
    if value is None or str(value).strip() == '':
        return None
    text = str(value).strip()
    if '@' in text:
        raise InvalidValue('mac %r: VLAN tags (@<vlan>) are not supported (a Linux bridge cannot tag, and this module does not make VLAN devices)'
                           % text)
    if text[:2] in ('U:', 'u:'):
        if not text[2:]:
            raise InvalidValue('mac %r: U: needs a string to derive the MAC address from (U:<string>)' % text)
        return stable_mac(text[2:])
    mac = normalize_mac(text, 'mac')
    if not is_unicast_mac(mac):
        raise InvalidValue('mac %r is not a unicast MAC address (the lowest bit of the first byte must be 0)' % text)
    return mac


def parse_address_spec(value):
    """``ip/len``, ``ip/len@gateway``, ``0/0`` (no address) or ``dhcp``/``udhcpc``/``dhclient``.

    Returns dict(mode='static'|'none'|'dhcp', iface, gateway, client, text).
    """
    if value is None or str(value).strip() == '':
        raise InvalidValue('address is required with state=present: ip/len, ip/len@gateway, 0/0 (no address) or dhcp')
    text = str(value).strip()
    word = text.lower()
    if word in DHCP_WORDS:
        return dict(mode='dhcp', iface=None, gateway=None, client=DHCP_WORDS[word], text=text)
    if word.split(':', 1)[0].split('-f', 1)[0] in ('dhcp', 'udhcpc', 'dhclient', 'dhcpcd'):
        for marker, reason in UNSUPPORTED_DHCP.items():
            if marker in word:
                raise InvalidValue('address %r: %s' % (text, reason))
    if text == '0/0':
        return dict(mode='none', iface=None, gateway=None, client=None, text=text)
    address, gateway = text, None
    if '@' in text:
        address, gateway = text.split('@', 1)
    if '/' not in address:
        raise InvalidValue('address %r: the IP address should include a prefix length (e.g. %s/24)' % (text, address))
    iface = parse_interface(address, 'address %r:' % text)
    if iface.network.prefixlen == 0:
        raise InvalidValue('address %r: prefix length 0 is only allowed as 0/0 (no address)' % text)
    if gateway is not None:
        try:
            gw = ipaddress.ip_address(gateway)
        except ValueError:
            raise InvalidValue('address %r: gateway %r is not a valid IP address' % (text, gateway))
        if gw.version != iface.version:
            raise InvalidValue('address %r: gateway %s is IPv%d but the address is IPv%d' % (text, gw, gw.version, iface.version))
        if gw == iface.ip:
            raise InvalidValue('address %r: the gateway cannot be the address itself' % text)
        if gw not in iface.network and not (gw.version == 6 and gw.is_link_local):
            raise InvalidValue('address %r: gateway %s is not in %s, so the container could not reach it on its interface'
                               % (text, gw, iface.network))
        gateway = str(gw)
    return dict(mode='static', iface=iface, gateway=gateway, client=None, text=text)


def check_family(spec, family):
    """``-a 4|6`` of the original: the family the address is of (its ``ip -4|-6``). Here it is read
    from the address itself; a declared family must agree with it."""
    if family is None:
        return
    if family not in (4, 6):
        raise InvalidValue('family %r must be 4 or 6' % (family,))
    if spec['mode'] == 'static' and spec['iface'].version != family:
        raise InvalidValue('address %r is IPv%d but family is %d' % (spec['text'], spec['iface'].version, family))
    if spec['mode'] == 'dhcp' and family == 6:
        raise InvalidValue('address %r: DHCP here is IPv4 only (no DHCPv6 client), so it cannot go with family 6' % spec['text'])


def parse_routes(routes, spec):
    """The extra routes: list of dict(dst, via, metric, family), validated against the address."""
    result = []
    seen = set()
    for item in routes or []:
        item = item or {}
        raw = item.get('dst')
        if raw in (None, ''):
            raise InvalidValue('every route needs dst (got %r)' % (item,))
        if str(raw).strip() == 'default':
            raise InvalidValue('route default: give the default gateway in address (ip/len@gateway) instead')
        network = parse_network(str(raw).strip(), 'route dst')
        if network.prefixlen == 0:
            raise InvalidValue('route %s: give the default gateway in address (ip/len@gateway) instead' % raw)
        via = item.get('via')
        if via not in (None, ''):
            try:
                gw = ipaddress.ip_address(str(via).strip())
            except ValueError:
                raise InvalidValue('route %s: via %r is not a valid IP address' % (raw, via))
            if gw.version != network.version:
                raise InvalidValue('route %s: via %s is IPv%d but dst is IPv%d' % (raw, gw, gw.version, network.version))
            if spec['mode'] == 'none':
                raise InvalidValue('route %s via %s: a gateway needs an address on the interface (address is 0/0)' % (raw, gw))
            if spec['mode'] == 'static' and gw not in spec['iface'].network and not (gw.version == 6 and gw.is_link_local):
                raise InvalidValue('route %s: gateway %s is not in %s, the network of the interface' % (raw, gw, spec['iface'].network))
            via = str(gw)
        else:
            via = None
        metric = item.get('metric')
        if metric is not None:
            try:
                metric = int(metric)
            except (TypeError, ValueError):
                raise InvalidValue('route %s: metric %r is not a number' % (raw, metric))
            if not 0 <= metric <= 4294967295:
                raise InvalidValue('route %s: metric %r is out of range' % (raw, metric))
        if metric is None or (network.version == 6 and metric == 0):
            metric = DEFAULT_METRIC[network.version]
        key = (str(network), metric)
        if key in seen:
            raise InvalidValue('route %s metric %d is declared twice' % key)
        seen.add(key)
        result.append(dict(dst=str(network), via=via, metric=metric, family=network.version))
    return result


def host_veth_name(identity, ifname):
    """``vxh`` + 12 hex digits of sha256(identity/ifname): 15 characters, the IFNAMSIZ limit.

    ``identity`` is the container's full ID (kept across restarts), ``netns:<name>`` or
    ``pid:<pid>``; so the name does not change with the container's PID.
    """
    return HOST_PREFIX + hashlib.sha256(('%s/%s' % (identity, ifname)).encode('utf-8')).hexdigest()[:12]


def build_want(params):
    """Validate the arguments (nothing about the system yet)."""
    state = params.get('state') or 'present'
    ifname = validate_ifname(params.get('ifname') or DEFAULT_IFNAME, 'ifname')
    if ifname == 'lo':
        raise InvalidValue('ifname lo is the loopback device of the container')
    host_interface = params.get('host_interface')
    if host_interface not in (None, ''):
        validate_ifname(host_interface, 'host_interface')
    elif state == 'present':
        raise InvalidValue('host_interface (the bridge or NIC to attach to) is required with state=present')
    host_ifname = params.get('host_ifname')
    if host_ifname not in (None, ''):
        validate_ifname(host_ifname, 'host_ifname')
        if host_ifname == host_interface:
            raise InvalidValue('host_ifname %s cannot be the host interface itself' % host_ifname)
    else:
        host_ifname = None
    want = dict(state=state, ifname=ifname, host_interface=host_interface or None, host_ifname=host_ifname,
                create_bridge=params.get('create_bridge'), mac=None, mtu=None, spec=None, routes=[],
                arping=params.get('arping', True) is not False)
    if state == 'absent':
        return want
    want['spec'] = parse_address_spec(params.get('address'))
    check_family(want['spec'], params.get('family'))
    want['mac'] = parse_mac(params.get('mac'))
    mtu = params.get('mtu')
    if mtu is not None and not MIN_MTU <= int(mtu) <= MAX_MTU:
        raise InvalidValue('mtu %r is out of range (%d..%d)' % (mtu, MIN_MTU, MAX_MTU))
    want['mtu'] = int(mtu) if mtu is not None else None
    want['routes'] = parse_routes(params.get('routes'), want['spec'])
    return want


# ---- ip -json -> have --------------------------------------------------------------------
def paired(host_link, target_link):
    """Whether two veth ends in two namespaces are one pair (each names the other's index)."""
    return link_kind(host_link) == 'veth' and link_kind(target_link) == 'veth' and paired_across(host_link, target_link)


def host_peer(host_links, target_link):
    """The host end of a veth whose other end is ``target_link``, or None."""
    if link_kind(target_link) != 'veth':
        return None
    for link in host_links.values():
        if paired(link, target_link):
            return link
    return None


def parse_route_entries(entries, family):
    """``ip -json -N -4|-6 route show table main`` -> the unicast routes, parsed as ip_route does."""
    return [route for route in _routes.parse_routes(entries or [], family) if route['type'] == 'unicast']


def route_text(route):
    parts = [route['dst']]
    if route.get('via'):
        parts += ['via', route['via']]
    if route.get('dev'):
        parts += ['dev', route['dev']]
    parts += ['metric', str(route['metric'])]
    return ' '.join(parts)


# ---- plan ------------------------------------------------------------------------------
def choose_mode(want, host_links):
    """``bridge`` (veth pair) or ``macvlan``, and whether the bridge must be created.

    Like the original: an existing bridge gets a veth pair, another Ethernet device a
    macvlan in bridge mode; a missing name is created as a bridge when it begins with
    ``br`` (or with create_bridge=true), and is an error otherwise.
    """
    name = want['host_interface']
    link = host_links.get(name)
    create = want['create_bridge']
    if link is None:
        if create is False or (create is None and not name.startswith('br')):
            raise InvalidValue('host_interface %s does not exist; a missing name is only created as a bridge when it begins with br'
                               ' or with create_bridge=true' % name)
        return 'bridge', True
    kind = link_kind(link)
    if kind == 'bridge':
        return 'bridge', False
    if create:
        raise InvalidValue('host_interface %s exists and is a %s, not a bridge (create_bridge=true asks for a bridge)'
                           % (name, kind or 'network device'))
    if link.get('link_type') != 'ether':
        raise InvalidValue('host_interface %s is neither a bridge nor an Ethernet device (link type %s): cannot attach a container to it'
                           % (name, link.get('link_type')))
    if link.get('master'):
        raise InvalidValue('host_interface %s is a port of %s: attach the container to %s instead' % (name, link['master'], link['master']))
    return 'macvlan', False


def l3_plan(ifname, addresses, gateway, manage_default, routes, have_link, have_routes):
    """Addresses, default route and extra routes of the container interface.

    ``addresses``: the wanted list of ip_interface, or None to leave them alone;
    ``gateway``: the wanted default gateway or None; ``manage_default``: remove a default
    route of ours on the interface when no gateway is wanted. Returns (Plan, after) where
    after = dict(addresses, gateway, routes) as the interface will have them.

    Order: route deletions, address deletions, address additions, route additions. The
    kernel drops the routes through an interface when its last address of a family goes,
    so after an address deletion the wanted routes of that family are added again.
    """
    deletes, adds = [], []
    addr_del, addr_add = [], []
    have_addrs = global_addresses(have_link)
    after_addrs = list(have_addrs)
    if addresses is not None:
        wanted = set(addresses)
        # Secondaries are listed after their primary: delete from the end.
        addr_del = [iface for iface in reversed(have_addrs) if iface not in wanted]
        addr_add = [iface for iface in addresses if iface not in have_addrs]
        after_addrs = list(addresses)
    flushed = set(iface.version for iface in addr_del)

    def present(route):
        return route['family'] not in flushed

    after_gateway = None
    if gateway is not None:
        family = ipaddress.ip_address(gateway).version
        default_dst = '0.0.0.0/0' if family == 4 else '::/0'
        defaults = [r for r in have_routes if r['dst'] == default_dst]
        good = [r for r in defaults if r['via'] == gateway and r['dev'] == ifname and not r['multipath']]
        for route in defaults:
            if route not in good:
                deletes.append(route)
        if not good or not present(good[0]):
            adds.append(dict(dst=default_dst, via=gateway, metric=DEFAULT_METRIC[family]))
        after_gateway = gateway
    else:
        for route in have_routes:
            if route['dst'] in ('0.0.0.0/0', '::/0') and route['dev'] == ifname and route['via']:
                if manage_default and is_ours(route):
                    deletes.append(route)
                elif present(route):
                    after_gateway = route['via']

    # Extra routes: ours on this interface, exactly the declared ones.
    declared = set((r['dst'], r['metric']) for r in routes)
    for route in have_routes:
        if route['dev'] == ifname and is_ours(route) and route['dst'] not in ('0.0.0.0/0', '::/0') \
                and (route['dst'], route['metric']) not in declared:
            deletes.append(route)
    for route in routes:
        match = [r for r in have_routes if r['dst'] == route['dst'] and r['metric'] == route['metric'] and r['dev'] == ifname
                 and r['via'] == route['via'] and is_ours(r) and not r['multipath'] and present(r)]
        if not match:
            adds.append(route)

    plan = Plan()
    for route in deletes:
        argv = ['route', 'del', route['dst'], 'table', MAIN_TABLE, 'metric', route['metric']]
        if route['via']:
            argv += ['via', route['via']]
        if route['dev']:
            argv += ['dev', route['dev']]
        plan.add_ip(*argv)
    for iface in addr_del:
        plan.add_ip('address', 'del', iface.with_prefixlen, 'dev', ifname)
    for iface in addr_add:
        plan.add_ip(*address_add(iface, ifname))
    # Device routes first: a gateway route may need one of them.
    for route in sorted(adds, key=lambda r: bool(r['via'])):
        argv = ['route', 'replace', route['dst']]
        if route['via']:
            argv += ['via', route['via']]
        plan.add_ip(*(argv + ['dev', ifname, 'table', MAIN_TABLE, 'proto', PROTO_ID, 'metric', route['metric']]))
    after = dict(addresses=sorted(a.with_prefixlen for a in after_addrs), gateway=after_gateway,
                 routes=sorted(route_text(dict(r, dev=None)) for r in routes))
    return plan, after


def address_add(iface, ifname):
    """``ip address add``; an IPv6 address without duplicate address detection (``nodad``, as
    Docker adds its containers' addresses): usable at once instead of tentative for a second or
    more. The role checks the inventory for addresses declared twice."""
    argv = add_command(iface, ifname)
    return argv + ['nodad'] if iface.version == 6 else argv


def describe_target(link, host_link, have_routes, mode=None):
    """The interface as it is now, for --diff and results."""
    if link is None:
        return dict(state='absent')
    kind = link_kind(link)
    gateway = None
    for route in have_routes:
        if route['dst'] in ('0.0.0.0/0', '::/0') and route['dev'] == link['ifname'] and route['via']:
            gateway = route['via']
    routes = [route_text(dict(r, dev=None)) for r in have_routes
              if r['dev'] == link['ifname'] and is_ours(r) and r['dst'] not in ('0.0.0.0/0', '::/0')]
    return dict(state='present', kind=kind, mtu=link.get('mtu'), mac=(link.get('address') or '').lower() or None,
                up=is_up(link), host_ifname=host_link['ifname'] if host_link else None,
                master=host_link.get('master') if host_link else None,
                addresses=sorted(a.with_prefixlen for a in global_addresses(link)), gateway=gateway, routes=sorted(routes))


def delete_target(result, target, peer, ifname):
    """Plan the deletion of our target interface; return the host links deleted with it."""
    if target is None:
        return set()
    if peer is not None:
        # Deleting the host end of a veth pair takes the target end with it.
        result['host'].add_ip('link', 'del', 'dev', peer['ifname'])
        return set([peer['ifname']])
    result['target_pre'].add_ip('link', 'del', 'dev', ifname)
    return set()


def compute_plan(want, host_links, target_links, have_routes, target_ref, host_name):
    """Plan one attachment. ``host_links``: ``ip -json -details link show`` of the host (by
    name); ``target_links``: ``ip -json -details address show`` of the target (by name);
    ``have_routes``: :func:`parse_route_entries` of the target's main table;
    ``target_ref``: what ``ip link ... netns`` takes for the target (netns name or PID);
    ``host_name``: the host end's name.

    Returns dict(host, target_pre, target, l3 (Plan or None when DHCP must run first),
    dhcp (bool), mode, before, after, created, address_changed, host_name, warnings).
    Raises InvalidValue before any change.
    """
    ifname = want['ifname']
    target = target_links.get(ifname)
    host = host_links.get(host_name)
    pair = paired(host, target)
    target_ours = bool(target) and ((target.get('ifalias') == MARK) or pair)
    peer = host_peer(host_links, target) if target is not None else None
    host_ours = bool(host) and (host.get('ifalias') == MARK or pair)
    before = describe_target(target if target_ours else None, host if pair else peer, have_routes)
    result = dict(host=Plan(), target_pre=Plan(), target=Plan(), l3=Plan(), dhcp=False, mode=None, before=before,
                  created=False, address_changed=False, host_name=None, warnings=[])
    plans_host, plans_target = result['host'], result['target']

    if want['state'] == 'absent':
        if target is not None and not target_ours:
            result['warnings'].append('%s in the target was not made by pipework: left alone' % ifname)
        deleted = delete_target(result, target if target_ours else None, peer, ifname)
        if host is not None and host_ours and host_name not in deleted:
            plans_host.add_ip('link', 'del', 'dev', host_name)
        result['after'] = dict(state='absent')
        result['l3'] = None
        return result

    if target is not None and not target_ours:
        raise InvalidValue('the target already has an interface %s (%s) that pipework did not make: choose another ifname'
                           % (ifname, link_kind(target) or 'device'))
    if host is not None and not host_ours:
        raise InvalidValue('host interface %s already exists and was not made by pipework (choose another host_ifname)' % host_name)

    mode, create_bridge = choose_mode(want, host_links)
    result['mode'] = mode
    parent = host_links.get(want['host_interface'])
    parent_mtu = parent.get('mtu') if parent else 1500
    mtu = want['mtu'] or parent_mtu
    if mode == 'macvlan' and mtu > parent_mtu:
        raise InvalidValue('mtu %d is larger than the MTU %d of %s, which a macvlan cannot exceed' % (mtu, parent_mtu, want['host_interface']))

    # Keep the existing interface (ours) when it is the right kind on the right device;
    # otherwise delete it (and a stale host end) and create it again.
    if mode == 'bridge':
        in_place = target_ours and pair
    else:
        in_place = (target_ours and link_kind(target) == 'macvlan' and 'link_netnsid' in target
                    and target.get('link_index') == parent.get('ifindex')
                    and ((target.get('linkinfo') or {}).get('info_data') or {}).get('mode') == 'bridge')
    deleted = set() if in_place else delete_target(result, target if target_ours else None, peer, ifname)
    if host is not None and host_name not in deleted and not (mode == 'bridge' and in_place):
        plans_host.add_ip('link', 'del', 'dev', host_name)
    creating = not in_place

    if create_bridge:
        plans_host.add_ip('link', 'add', 'name', want['host_interface'], 'type', 'bridge')
        plans_host.add_ip('link', 'set', 'dev', want['host_interface'], 'up')
    link_settings = []
    if mode == 'bridge':
        result['host_name'] = host_name
        if creating:
            peer_opts = ['peer', 'name', ifname, 'mtu', mtu]
            if want['mac']:
                peer_opts += ['address', want['mac']]
            plans_host.add_ip(*(['link', 'add', 'name', host_name, 'mtu', mtu, 'type', 'veth'] + peer_opts + ['netns', target_ref]))
            plans_host.add_ip('link', 'set', 'dev', host_name, 'alias', MARK, 'master', want['host_interface'], 'up')
        else:
            settings = []
            if host.get('ifalias') != MARK:
                settings += ['alias', MARK]
            if host.get('mtu') != mtu:
                settings += ['mtu', mtu]
            if host.get('master') != want['host_interface']:
                settings += ['master', want['host_interface']]
            if not is_up(host):
                settings.append('up')
            if settings:
                plans_host.add_ip(*(['link', 'set', 'dev', host_name] + settings))
    else:
        if creating:
            argv = ['link', 'add', 'link', want['host_interface'], 'name', ifname, 'mtu', mtu]
            if want['mac']:
                argv += ['address', want['mac']]
            plans_host.add_ip(*(argv + ['netns', target_ref, 'type', 'macvlan', 'mode', 'bridge']))
        if not is_up(parent):
            plans_host.add_ip('link', 'set', 'dev', want['host_interface'], 'up')

    if creating:
        link_settings = ['alias', MARK, 'up']
    else:
        if target.get('ifalias') != MARK:
            link_settings += ['alias', MARK]
        if target.get('mtu') != mtu:
            link_settings += ['mtu', mtu]
        if want['mac'] and (target.get('address') or '').lower() != want['mac']:
            link_settings += ['address', want['mac']]
        if not is_up(target):
            link_settings.append('up')
    if link_settings:
        plans_target.add_ip(*(['link', 'set', 'dev', ifname] + link_settings))
    result['created'] = creating

    have_link = None if creating else target
    # A new interface has no routes yet (an old one's die with it).
    routes_now = [r for r in have_routes if r['dev'] != ifname] if creating else have_routes
    result['have_link'], result['have_routes'] = have_link, routes_now
    spec = want['spec']
    if spec['mode'] == 'static':
        l3, after_l3 = l3_plan(ifname, [spec['iface']], spec['gateway'], True, want['routes'], have_link, routes_now)
        result['address_changed'] = spec['iface'] not in global_addresses(have_link)
    elif spec['mode'] == 'none':
        l3, after_l3 = l3_plan(ifname, None, None, True, want['routes'], have_link, routes_now)
    else:
        has_v4 = any(a.version == 4 for a in global_addresses(have_link))
        if has_v4:
            # A lease was applied before: keep it (re-run after deleting it to renew).
            l3, after_l3 = l3_plan(ifname, None, None, False, want['routes'], have_link, routes_now)
        else:
            result['dhcp'] = True
            l3, after_l3 = None, dict(addresses=['(dhcp)'], gateway='(dhcp)', routes=sorted(route_text(dict(r, dev=None)) for r in want['routes']))
            result['address_changed'] = True
    result['l3'] = l3
    after = dict(state='present', kind='veth' if mode == 'bridge' else 'macvlan', mtu=mtu,
                 mac=want['mac'] or (None if creating else (target.get('address') or '').lower()), up=True,
                 host_ifname=host_name if mode == 'bridge' else None,
                 master=want['host_interface'] if mode == 'bridge' else None)
    after.update(after_l3)
    result['after'] = after
    return result


# ---- DHCP ------------------------------------------------------------------------------
# Run by the DHCP client (udhcpc: $1 is the event; dhclient: $reason) inside the target
# namespace: it only records the lease; the module applies it with ip -batch.
LEASE_SCRIPT = r'''#!/bin/sh
# crosshost.network pipework: record the DHCP lease for the module (it applies it itself).
out="$(dirname "$0")/lease"
event="${1:-}"
[ -n "${reason:-}" ] && event="$reason"
case "$event" in
    bound|renew|BOUND|RENEW|REBIND|REBOOT)
        {
            echo "ip=${ip:-${new_ip_address:-}}"
            echo "subnet=${subnet:-${new_subnet_mask:-}}"
            echo "mask=${mask:-}"
            echo "router=${router:-${new_routers:-}}"
        } > "$out.tmp" && mv "$out.tmp" "$out"
        # dhclient has no one-shot mode: stop it once the lease is recorded.
        [ -n "${reason:-}" ] && kill "$PPID" 2>/dev/null
        ;;
esac
exit 0
'''


def parse_lease(text):
    """The lease file the script writes -> dict(iface, router) or None when incomplete."""
    values = {}
    for line in (text or '').splitlines():
        if '=' in line:
            key, value = line.split('=', 1)
            values[key.strip()] = value.strip()
    ip = values.get('ip')
    if not ip:
        return None
    prefix = values.get('mask')
    if not prefix and values.get('subnet'):
        try:
            prefix = str(ipaddress.ip_network('0.0.0.0/%s' % values['subnet']).prefixlen)
        except ValueError:
            prefix = None
    try:
        iface = ipaddress.ip_interface('%s/%s' % (ip, prefix or 24))
    except ValueError:
        return None
    router = (values.get('router') or '').split()
    gateway = None
    if router:
        try:
            gateway = str(ipaddress.ip_address(router[0]))
        except ValueError:
            gateway = None
    if gateway and ipaddress.ip_address(gateway) not in iface.network:
        gateway = None
    return dict(iface=iface, router=gateway)


def dhcp_argv(client, binary, ifname, script, timeout, hostname=None):
    """The client's command line (without the namespace prefix)."""
    if client == 'udhcpc':
        argv = list(binary) + ['-i', ifname, '-f', '-q', '-n', '-s', script, '-T', '2', '-t', str(max(1, int(timeout) // 2))]
        if hostname:
            argv += ['-x', 'hostname:%s' % hostname]
        return argv
    directory = script.rsplit('/', 1)[0]
    return list(binary) + ['-d', '-1', '-sf', script, '-lf', directory + '/dhclient.leases', '-pf', directory + '/dhclient.pid', ifname]


def check_lease_routes(routes, iface):
    """Gateways of the extra routes must be on the leased network."""
    for route in routes:
        if route['via'] and ipaddress.ip_address(route['via']) not in iface.network \
                and not ipaddress.ip_address(route['via']).is_link_local:
            raise InvalidValue('route %s: gateway %s is not in %s, the network DHCP gave the interface' % (route['dst'], route['via'], iface.network))


# ---- gratuitous ARP ----------------------------------------------------------------------
def arping_argv(flavour, binary, ifname, address):
    """One unsolicited ARP for ``address`` out of ``ifname``."""
    if flavour == 'habets':
        return list(binary) + ['-U', '-c', '1', '-i', ifname, '-S', address, address]
    # busybox and iputils take the same options.
    return list(binary) + ['-U', '-c', '1', '-I', ifname, address]
