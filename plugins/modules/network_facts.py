#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: network_facts
short_description: Interfaces, addresses, routes, bridges, neighbours and FDB of a host, netns or container
version_added: 0.1.0
description:
  - Reads the network state of the host, of a named network namespace, of a process's
    network namespace or of a running Docker container, and returns it as structured facts
    under C(ansible_facts.crosshost_network_facts) (and, unchanged, as top-level result keys).
  - What C(ifconfig -a), C(route -n), C(brctl show), C(ip neigh) and C(bridge fdb) tell,
    read with a fixed number of C(ip -json) and C(bridge -json) calls (at most five,
    whatever the number of interfaces or routes).
  - For a Docker container it also reports Docker's network mode. In C(host) mode the
    container has no namespace of its own, so the facts are the host's
    (RV(namespace.shares_host_namespace=true)); in C(container:<peer>) mode they are the
    peer's, and the peer is named; in C(none) mode there is only C(lo).
  - Read-only; never changes anything.
author: crosshost.network contributors (@crosshost)
extends_documentation_fragment:
  - crosshost.network.target
  - crosshost.network.read_only
options:
  gather_subset:
    description:
      - Which parts to read. V(all), or any of V(interfaces), V(addresses), V(bridges),
        V(routes), V(neighbours) (alias V(neighbors)) and V(fdb).
      - Prefix a value with C(!) to leave it out, for example V(!fdb); a list of only
        exclusions starts from V(all).
      - RV(namespace) is always returned. Parts not gathered are absent from the result.
      - V(!all) reads none of the parts, and C(crosshost_network_facts) is then not set (facts
        gathered before stay) - for a run that only reads O(files), O(paths) or O(kernel_features),
        or returns O(note).
      - V(interfaces), V(addresses) and V(bridges) cost one C(ip -details address show) together,
        V(routes) two C(ip route show) (IPv4 and IPv6), V(neighbours) one C(ip neigh show)
        and V(fdb) one C(bridge fdb show).
    type: list
    elements: str
    default: [all]
  table:
    description:
      - Routing table whose routes are returned (a name from C(/etc/iproute2/rt_tables),
        a number, or V(all)).
    type: str
    default: main
  kernel_features:
    description:
      - Also tell, as M(crosshost.network.kernel_support) does, whether the running kernel
        provides these features (kernel modules by name, such as V(vxlan) or V(macvlan)),
        in RV(kernel_support), also set as C(ansible_facts.crosshost_kernel_support).
      - The kernel is the host's, whatever the target.
      - So that one module run reads all a plan needs of a host (the preflight role).
    type: list
    elements: str
    default: []
  files:
    description:
      - Also read these small text files of the host (absolute paths, whatever the
        target), such as Docker's C(/etc/docker/daemon.json), into RV(files).
      - A missing file is returned as V(null); a path that cannot be read otherwise
        (a directory, no permission) fails the module, naming the path.
    type: list
    elements: path
    default: []
  paths:
    description:
      - Also tell what each of these paths of the host is (absolute paths, whatever the
        target), in RV(paths) - so that one run also finds, say, the configuration
        directories another role left.
    type: list
    elements: path
    default: []
  note:
    description:
      - Returned unchanged in RV(note), so that a caller registers values of its own with
        what was read, in the same task run.
      - The C(crosshost.network.preflight) role notes there the variables its plan reads, as the
        host's tasks see them (play, C(import_playbook) and role variables included, which
        C(hostvars) does not hold).
    type: dict
attributes:
  facts:
    description: Returns C(ansible_facts.crosshost_network_facts).
    support: full
notes:
  - The facts land in one key, C(crosshost_network_facts); querying several targets in a loop
    overwrites it, so use C(register) there and read the top-level result keys.
  - The host's namespace is PID 1's; where PID 1's namespace cannot be read (some
    sandboxes hide it even from root) it is the namespace the module runs in.
  - Transient bridge timers (C(hello_timer), C(gc_timer), ...) are left out of RV(interfaces.details)
    so that two reads of an unchanged system give the same facts.
requirements:
  - The C(docker) CLI on the target when O(container) is used.
seealso:
  - name: ip-link(8)
    description: Interface kinds and their attributes.
    link: https://man7.org/linux/man-pages/man8/ip-link.8.html
  - name: bridge(8)
    description: Bridge forwarding database.
    link: https://man7.org/linux/man-pages/man8/bridge.8.html
'''

EXAMPLES = r'''
- name: Read the host's network state
  crosshost.network.network_facts:

- name: Show the host's routes (what route -n shows)
  ansible.builtin.debug:
    msg: "{{ ansible_facts.crosshost_network_facts.routes | map(attribute='dst') | list }}"

- name: Read a container's network state (bridge, host, container or none mode)
  crosshost.network.network_facts:
    container: web1
  register: web1

- name: The container has an address on eth0 and a default route
  ansible.builtin.assert:
    that:
      - web1.namespace.network_mode == 'bridge'
      - web1.interfaces.eth0.addresses | selectattr('family', 'eq', 'inet') | list | length > 0
      - web1.routes | selectattr('dst', 'eq', 'default') | list | length > 0

- name: Bridges and their ports inside a named namespace, without neighbours and FDB
  crosshost.network.network_facts:
    netns: lab1
    gather_subset: ['!neighbours', '!fdb']

- name: The namespace of a process
  crosshost.network.network_facts:
    pid: 4242
    table: all

- name: What a plan needs of a host in one run - interfaces, every address and route, kernel support, daemon.json
  crosshost.network.network_facts:
    gather_subset: [interfaces, addresses, routes]
    table: all
    kernel_features: [vxlan, macvlan]
    files: [/etc/docker/daemon.json]
    paths: [/etc/crosshost/flannel]
  register: host_probe

- name: Whether the overlay's configuration directory is there
  ansible.builtin.debug:
    msg: "{{ host_probe.paths['/etc/crosshost/flannel'] == 'directory' }}"

- name: The host's global IPv6 addresses
  ansible.builtin.debug:
    msg: >-
      {{ host_probe.addresses | selectattr('family', 'eq', 'inet6') | selectattr('scope', 'eq', 'global')
         | map(attribute='cidr') | list }}

- name: Docker's configuration, if there is one
  ansible.builtin.debug:
    msg: "{{ host_probe.files['/etc/docker/daemon.json'] | default('{}', true) | from_json }}"
'''

RETURN = r'''
ansible_facts:
  description: The facts, under one key.
  returned: when a part was gathered (O(gather_subset) is not V(!all)) or O(kernel_features) is not empty
  type: dict
  contains:
    crosshost_network_facts:
      description:
        - The same dict as the top-level RV(namespace), RV(interfaces), RV(addresses), RV(bridges),
          RV(routes), RV(neighbours) and RV(fdb) keys of this result (gathered parts only).
      type: dict
      returned: when a part was gathered
      sample:
        namespace: {target: container web1, inode: 4026532473, pid: 8538, netns: null,
                    shares_host_namespace: false, network_mode: bridge,
                    container: {id: bd88739a7517d0da99b8964d63fe686901e3773837724e42726d3dc4cfcae1fd,
                                name: web1, pid: 8538, network_mode: bridge, networks: [bridge], peer: null}}
        interfaces:
          eth0: {index: 6, kind: veth, mtu: 1500, mac: '02:42:ac:11:00:02', state: up, operstate: UP,
                 carrier: true, link: null, link_index: 7, link_netnsid: 0, master: null,
                 addresses: [{address: 172.17.0.2, prefixlen: 16, family: inet, cidr: 172.17.0.2/16,
                              network: 172.17.0.0/16}]}
        routes:
          - {dst: default, family: inet, gateway: 172.17.0.1, dev: eth0, protocol: boot, scope: global,
             metric: 0, flags: [], type: unicast, table: main}
        bridges: {}
        neighbours: []
        fdb: []
kernel_support:
  description:
    - Feature of O(kernel_features) -> whether the kernel provides it now or on first use
      (what M(crosshost.network.kernel_support) returns as C(available)).
    - Also set as C(ansible_facts.crosshost_kernel_support).
  returned: when O(kernel_features) is not empty
  type: dict
  sample: {vxlan: true, macvlan: false}
files:
  description: Path of O(files) -> the file's text, or V(null) when there is no such file.
  returned: when O(files) is not empty
  type: dict
  sample: {/etc/docker/daemon.json: '{"bip": "100.64.1.1/24"}'}
paths:
  description:
    - Path of O(paths) -> what it is, V(directory), V(file) or V(other) (symbolic links
      are followed), or V(null) when there is no such path.
  returned: when O(paths) is not empty
  type: dict
  sample: {/etc/crosshost/flannel: directory, /etc/crosshost/pipework: null}
note:
  description: O(note), unchanged.
  returned: when O(note) is given
  type: dict
  sample: {crosshost_backend: static_routes, pipework_docker_bridge: false}
commands:
  description: Always empty; the module plans no change.
  returned: always
  type: list
  elements: str
  sample: []
namespace:
  description: Which network namespace was read.
  returned: always
  type: dict
  contains:
    target:
      description: V(host), C(netns <name>), C(pid <pid>) or C(container <name>).
      type: str
      returned: always
      sample: container web1
    inode:
      description:
        - Inode of the network namespace (as in C(readlink /proc/<pid>/ns/net)); equal inodes
          mean one shared namespace. Null if it could not be read.
      type: int
      returned: always
      sample: 4026532473
    netns:
      description: Name of the namespace, for O(netns).
      type: str
      returned: always
    pid:
      description: Process whose namespace was read, for O(pid) and O(container).
      type: int
      returned: always
      sample: 8538
    shares_host_namespace:
      description:
        - Whether this is the host's network namespace (same inode as PID 1's, or Docker's
          C(host) mode). Null if it could not be told.
      type: bool
      returned: always
      sample: false
    network_mode:
      description:
        - For O(container), Docker's network mode - V(bridge) (also for Docker's C(default)),
          V(host), V(container) (see RV(namespace.container.peer)), V(none), or the name of a
          user-defined network. Null for other targets.
      type: str
      returned: always
      sample: bridge
    container:
      description: For O(container), the container; null for other targets.
      type: dict
      returned: always
      contains:
        id:
          description: Full container ID.
          type: str
          returned: always
        name:
          description: Container name (without the leading C(/)).
          type: str
          returned: always
        pid:
          description: PID of the container's init process.
          type: int
          returned: always
        network_mode:
          description: As RV(namespace.network_mode).
          type: str
          returned: always
        networks:
          description: Docker networks the container is attached to (V(host), V(none) or none in container mode).
          type: list
          elements: str
          returned: always
        peer:
          description:
            - In V(container) mode, C({id, name}) of the container whose namespace this one shares
              (a part is null if the peer could not be inspected); else null.
          type: dict
          returned: always
interfaces:
  description:
    - Interfaces by name, as C(ip -details address show) shows them (what C(ifconfig -a) tells).
  returned: when gathered
  type: dict
  contains:
    index:
      description: Interface index.
      type: int
      returned: always
    kind:
      description:
        - V(veth), V(bridge), V(vxlan), V(macvlan), V(tun), ... (C(ip -d) C(info_kind));
          V(loopback) for C(lo) and V(device) for plain devices such as a NIC.
      type: str
      returned: always
    mtu:
      description: MTU.
      type: int
      returned: always
    mac:
      description: Link-layer address (null for devices without one, such as C(tun)).
      type: str
      returned: always
    state:
      description: V(up) if the interface is administratively up (the C(UP) flag), else V(down).
      type: str
      returned: always
    operstate:
      description: Operational state as the kernel tells it (V(UP), V(DOWN), V(UNKNOWN), V(LOWERLAYERDOWN), ...).
      type: str
      returned: always
    carrier:
      description: Whether the link has carrier (the C(LOWER_UP) flag).
      type: bool
      returned: always
    flags:
      description: Interface flags (C(BROADCAST), C(MULTICAST), C(UP), C(LOWER_UP), ...).
      type: list
      elements: str
      returned: always
    link_type:
      description: Link type (V(ether), V(loopback), V(none), ...).
      type: str
      returned: always
    master:
      description: Bridge (or other master) the interface is enslaved to, or null.
      type: str
      returned: always
    master_kind:
      description: Kind of the master (V(bridge), V(bond), ...), or null.
      type: str
      returned: always
    port:
      description: For an enslaved interface, its port attributes (for a bridge port C(state), C(cost), C(learning), ...), else empty.
      type: dict
      returned: always
    link:
      description:
        - The veth peer, the parent of a macvlan or the underlay device of a vxlan, when
          it is in this namespace; else null.
      type: str
      returned: always
    link_index:
      description: Interface index of the veth peer in another namespace (see RV(interfaces.link_netnsid)), else null.
      type: int
      returned: always
    link_netnsid:
      description: Netns ID (as in C(ip netns list-id)) of the namespace holding the veth peer, else null.
      type: int
      returned: always
    details:
      description: Kind-specific attributes (C(ip -d) C(info_data)), for example a vxlan's C(id), C(local), C(port), C(group).
      type: dict
      returned: always
    addresses:
      description: IP addresses.
      type: list
      elements: dict
      returned: always
      contains:
        address:
          description: The address.
          type: str
          returned: always
          sample: 100.64.1.1
        prefixlen:
          description: Prefix length.
          type: int
          returned: always
          sample: 24
        family:
          description: V(inet) (IPv4) or V(inet6) (IPv6).
          type: str
          returned: always
        cidr:
          description: Address with prefix length.
          type: str
          returned: always
          sample: 100.64.1.1/24
        network:
          description: The network the address is on.
          type: str
          returned: always
          sample: 100.64.1.0/24
        scope:
          description: V(global), V(link), V(host), ...
          type: str
          returned: always
        broadcast:
          description: IPv4 broadcast address, if set.
          type: str
          returned: always
        peer:
          description: Peer address of a point-to-point address, else null.
          type: str
          returned: always
        label:
          description: IPv4 label, if any.
          type: str
          returned: always
        flags:
          description: Address flags (V(nodad), V(tentative), V(dynamic), V(secondary), ...).
          type: list
          elements: str
          returned: always
addresses:
  description:
    - Every IPv4 and IPv6 address of every interface in one list, in the kernel's order
      (interface by interface), with the interface's name; the items of
      RV(interfaces.addresses) plus C(interface).
    - What a plan needs to check overlaps and choose an underlay address without
      reading every interface's details; the IPv6 ones carry their flags (V(tentative),
      V(dadfailed), V(deprecated), V(temporary), V(mngtmpaddr), ...).
  returned: when gathered
  type: list
  elements: dict
  sample:
    - {interface: eth0, address: '2001:db8:63::11', prefixlen: 64, family: inet6, cidr: '2001:db8:63::11/64',
       network: '2001:db8:63::/64', scope: global, broadcast: null, peer: null, label: null, flags: [nodad]}
bridges:
  description: Linux bridges by name, with their ports (what C(brctl show) tells).
  returned: when gathered
  type: dict
  contains:
    ports:
      description: Names of the enslaved interfaces, sorted.
      type: list
      elements: str
      returned: always
      sample: [veth1, vxlan0]
    port_states:
      description: STP state of each port (V(forwarding), V(listening), V(blocking), ...).
      type: dict
      returned: always
    stp:
      description: Whether STP is enabled.
      type: bool
      returned: always
    id:
      description: Bridge ID (priority in hex, a dot, the MAC address).
      type: str
      returned: always
    forward_delay:
      description: Forward delay in seconds.
      type: float
      returned: always
      sample: 15
    hello_time:
      description: Hello time in seconds.
      type: float
      returned: always
    max_age:
      description: Max message age in seconds.
      type: float
      returned: always
    ageing_time:
      description: FDB ageing time in seconds.
      type: float
      returned: always
    priority:
      description: Bridge priority.
      type: int
      returned: always
    vlan_filtering:
      description: Whether VLAN filtering is on.
      type: bool
      returned: always
routes:
  description:
    - IPv4 and IPv6 routes of O(table) (what C(route -n) and C(route -6 -n) tell), in C(ip route) order, IPv4 first.
  returned: when gathered
  type: list
  elements: dict
  contains:
    dst:
      description: V(default), or the destination network with its prefix length (host routes get C(/32) or C(/128)).
      type: str
      returned: always
      sample: 100.64.2.0/24
    family:
      description: V(inet) or V(inet6).
      type: str
      returned: always
    type:
      description: V(unicast), V(blackhole), V(local), V(broadcast), ...
      type: str
      returned: always
    gateway:
      description: Next hop, or null for a directly connected route.
      type: str
      returned: always
    dev:
      description: Output device, or null (blackhole, multipath).
      type: str
      returned: always
    protocol:
      description:
        - Who installed it (V(kernel), V(boot), V(static), V(dhcp), ...). Ours are always
          shown as V(crosshost), even where id 147 is not registered by name.
      type: str
      returned: always
    ours:
      description: Whether the route carries our protocol (crosshost, id 147).
      type: bool
      returned: always
    scope:
      description: V(global), V(link), V(host).
      type: str
      returned: always
    metric:
      description: Metric (0 when the kernel shows none).
      type: int
      returned: always
    flags:
      description: Route flags (V(onlink), V(linkdown), ...).
      type: list
      elements: str
      returned: always
    prefsrc:
      description: Preferred source address, or null.
      type: str
      returned: always
    table:
      description: Routing table.
      type: str
      returned: always
    pref:
      description: IPv6 router preference, null for IPv4.
      type: str
      returned: always
    nexthops:
      description: For a multipath route, its next hops (C(gateway), C(dev), C(weight), C(flags)); else empty.
      type: list
      elements: dict
      returned: always
neighbours:
  description: ARP and NDP entries (what C(ip neigh show) tells, C(NOARP) entries left out).
  returned: when gathered
  type: list
  elements: dict
  contains:
    dst:
      description: IP address.
      type: str
      returned: always
    family:
      description: V(inet) or V(inet6).
      type: str
      returned: always
    dev:
      description: Interface.
      type: str
      returned: always
    lladdr:
      description: Link-layer address, or null (for example while C(INCOMPLETE)).
      type: str
      returned: always
    state:
      description: NUD states (V(PERMANENT), V(REACHABLE), V(STALE), ...).
      type: list
      elements: str
      returned: always
    router:
      description: Whether the neighbour is a router.
      type: bool
      returned: always
    flags:
      description: Other flags (V(router), V(extern_learn), ...).
      type: list
      elements: str
      returned: always
    protocol:
      description: Who installed it (V(crosshost) for ours), or null.
      type: str
      returned: always
    ours:
      description: Whether the entry carries our protocol.
      type: bool
      returned: always
fdb:
  description: Forwarding database entries of bridges and vxlan devices (what C(bridge fdb show) tells).
  returned: when gathered
  type: list
  elements: dict
  contains:
    mac:
      description: MAC address (V(00:00:00:00:00:00) for a vxlan default destination).
      type: str
      returned: always
    dev:
      description: Interface the entry points to.
      type: str
      returned: always
    master:
      description: Bridge whose table holds the entry, or null for the device's own table (flag V(self)).
      type: str
      returned: always
    vlan:
      description: VLAN ID, or null.
      type: int
      returned: always
    dst:
      description: Remote VTEP IP address of a vxlan entry, or null.
      type: str
      returned: always
    state:
      description: V(permanent), V(static), V(stale), or null for a learned entry.
      type: str
      returned: always
    flags:
      description: Flags (V(self), V(master), V(extern_learn), V(offload), ...).
      type: list
      elements: str
      returned: always
'''

import errno
import ipaddress
import os
import re
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.crosshost.network.plugins.module_utils._iproute import (
    PROTO_NAME,
    PROTO_VALUES,
    TARGET_ARGUMENT_SPEC,
    TARGET_MUTUALLY_EXCLUSIVE,
    InvalidValue,
    IPRoute,
)
from ansible_collections.crosshost.network.plugins.module_utils._container import (
    container_info,
    describe_namespace,
)
from ansible_collections.crosshost.network.plugins.module_utils._kernel import available, probe
from ansible_collections.crosshost.network.plugins.module_utils._links import link_data, link_kind
from ansible_collections.crosshost.network.plugins.module_utils._routes import route_gateway, with_prefixlen

FACTS_KEY = 'crosshost_network_facts'
SUBSETS = ('interfaces', 'addresses', 'bridges', 'routes', 'neighbours', 'fdb')
_LINK_SUBSETS = ('interfaces', 'addresses', 'bridges')  # parts read from one ip -details address show
_SUBSET_ALIASES = {'neighbors': 'neighbours'}
_TABLE_RE = re.compile(r'^[A-Za-z0-9_.-]+$')
# Bridge timer values in centiseconds (clock_t at USER_HZ 100), shown in seconds.
_BRIDGE_TIMES = ('forward_delay', 'hello_time', 'max_age', 'ageing_time')


def parse_gather_subset(values):
    """``['all', '!fdb']`` -> set of parts to read; raise InvalidValue naming a bad value."""
    include, exclude = set(), set()
    for value in values or ['all']:
        text = str(value).strip()
        negate = text.startswith('!')
        name = text[1:] if negate else text
        name = _SUBSET_ALIASES.get(name, name)
        if name == 'all':
            names = set(SUBSETS)
        elif name in SUBSETS:
            names = set([name])
        else:
            raise InvalidValue('gather_subset %r is not valid: use all, %s (prefix ! to leave one out)' % (value, ', '.join(SUBSETS)))
        (exclude if negate else include).update(names)
    if not include:
        include = set(SUBSETS)
    return include - exclude


def validate_table(table):
    if not _TABLE_RE.match(str(table)):
        raise InvalidValue('table %r is not valid: a table name, number or all' % (table,))
    return str(table)


def _protocol(value):
    """Route/neighbour protocol as a name; ours by name whether or not 147 is registered."""
    if value is None:
        return None
    text = str(value)
    return PROTO_NAME if text in PROTO_VALUES else text


def _stable(data):
    """Kind-specific attributes without the running timers (they change on every read)."""
    return dict((k, v) for k, v in (data or {}).items() if not k.endswith('_timer'))


def _seconds(centiseconds):
    if centiseconds is None:
        return None
    value = centiseconds / 100.0
    return int(value) if value == int(value) else round(value, 2)


def _bridge_id(value):
    """``8000.2:42:ae:9:8a:d7`` (as ip prints it) -> ``8000.02:42:ae:09:8a:d7``."""
    if not value or '.' not in value:
        return value
    priority, mac = value.split('.', 1)
    return '%s.%s' % (priority, ':'.join(part.zfill(2) for part in mac.split(':')))


def address_facts(addr_info):
    """``addr_info`` of ``ip -json address`` -> list of address dicts."""
    result = []
    for entry in addr_info or []:
        local = entry.get('local')
        if not local:
            continue
        prefixlen = entry.get('prefixlen')
        cidr = '%s/%s' % (local, prefixlen)
        try:
            network = str(ipaddress.ip_interface(cidr).network)
        except ValueError:
            network = None
        peer = entry.get('address')
        result.append(dict(
            address=local,
            prefixlen=prefixlen,
            family=entry.get('family'),
            cidr=cidr,
            network=network,
            scope=entry.get('scope'),
            broadcast=entry.get('broadcast'),
            peer=peer if peer and peer != local else None,
            label=entry.get('label'),
            # Boolean attributes (nodad, tentative, dynamic, ...) are printed as true.
            flags=sorted(k for k, v in entry.items() if v is True),
        ))
    return result


def _kind(link):
    if link_kind(link):
        return link_kind(link)
    return 'loopback' if link.get('link_type') == 'loopback' else 'device'


def interface_facts(links):
    """``ip -json -details address show`` -> interfaces by name."""
    result = {}
    for link in links:
        name = link.get('ifname')
        if not name:
            continue
        info = link.get('linkinfo') or {}
        data = link_data(link)
        flags = list(link.get('flags') or [])
        lower = link.get('link')
        if not lower and isinstance(data.get('link'), str):
            lower = data['link']  # a vxlan's underlay device
        result[name] = dict(
            index=link.get('ifindex'),
            kind=_kind(link),
            mtu=link.get('mtu'),
            mac=link.get('address'),
            state='up' if 'UP' in flags else 'down',
            operstate=link.get('operstate'),
            carrier='LOWER_UP' in flags,
            flags=flags,
            link_type=link.get('link_type'),
            master=link.get('master'),
            master_kind=info.get('info_slave_kind'),
            port=_stable(info.get('info_slave_data')),
            link=lower,
            link_index=link.get('link_index'),
            link_netnsid=link.get('link_netnsid'),
            details=_stable(data),
            addresses=address_facts(link.get('addr_info')),
        )
    return result


def bridge_facts(links):
    """Bridges by name with their ports and STP settings (what ``brctl show`` tells)."""
    bridges = {}
    for link in links:
        if link_kind(link) != 'bridge':
            continue
        data = link_data(link)
        bridge = dict(
            ports=[],
            port_states={},
            stp=bool(data.get('stp_state')),
            id=_bridge_id(data.get('bridge_id')),
            priority=data.get('priority'),
            vlan_filtering=bool(data.get('vlan_filtering')),
        )
        for key in _BRIDGE_TIMES:
            bridge[key] = _seconds(data.get(key))
        bridges[link['ifname']] = bridge
    for link in links:
        bridge = bridges.get(link.get('master'))
        if bridge is None:
            continue
        bridge['ports'].append(link['ifname'])
        slave = (link.get('linkinfo') or {}).get('info_slave_data') or {}
        bridge['port_states'][link['ifname']] = slave.get('state')
    for bridge in bridges.values():
        bridge['ports'].sort()
    return bridges


def route_facts(routes, family, table='main'):
    """``ip -json -4|-6 route show table T`` -> list of route dicts (family inet or inet6)."""
    result = []
    for entry in routes:
        dst = entry.get('dst') or 'default'
        if dst != 'default':
            dst = with_prefixlen(dst, 6 if family == 'inet6' else 4)
        # ip omits the proto when it is "boot" (what `ip route add` uses by default).
        protocol = _protocol(entry.get('protocol', 'boot'))
        result.append(dict(
            dst=dst,
            family=family,
            type=entry.get('type', 'unicast'),
            gateway=route_gateway(entry),
            dev=entry.get('dev'),
            protocol=protocol,
            ours=protocol == PROTO_NAME,
            scope=entry.get('scope', 'global'),
            metric=entry.get('metric', 0),
            flags=list(entry.get('flags') or []),
            prefsrc=entry.get('prefsrc'),
            # ip names the table only for routes outside main (and only with table all).
            table=str(entry.get('table') or ('main' if table == 'all' else table)),
            pref=entry.get('pref'),
            nexthops=[dict(gateway=route_gateway(hop), dev=hop.get('dev'), weight=hop.get('weight'), flags=list(hop.get('flags') or []))
                      for hop in entry.get('nexthops') or []],
        ))
    return result


def neighbour_facts(neighbours):
    """``ip -json neigh show`` -> list of neighbour dicts."""
    result = []
    for entry in neighbours:
        dst = entry.get('dst') or ''
        protocol = _protocol(entry.get('protocol'))
        result.append(dict(
            dst=dst,
            family='inet6' if ':' in dst else 'inet',
            dev=entry.get('dev'),
            lladdr=entry.get('lladdr'),
            state=list(entry.get('state') or []),
            # Flags such as router or extern_learn are printed as keys with a null value.
            router='router' in entry,
            flags=sorted(k for k, v in entry.items() if v is None),
            protocol=protocol,
            ours=protocol == PROTO_NAME,
        ))
    return result


def fdb_facts(entries):
    """``bridge -json fdb show`` -> list of FDB dicts."""
    result = []
    for entry in entries:
        fact = dict(
            mac=entry.get('mac'),
            dev=entry.get('ifname'),
            master=entry.get('master'),
            vlan=entry.get('vlan'),
            dst=entry.get('dst'),
            state=entry.get('state') or None,
            flags=list(entry.get('flags') or []),
        )
        # vxlan extras, only where the kernel reports them.
        for key in ('port', 'vni', 'src_vni', 'via', 'nhid'):
            if key in entry:
                fact[key] = entry[key]
        result.append(fact)
    return result


def read_state(ipr, subsets, table):
    """The raw ``-json`` reads for the requested parts: at most five processes."""
    raw = {}
    if set(subsets) & set(_LINK_SUBSETS):
        # One read gives links with details and their addresses.
        raw['links'] = ipr.read('ip', '-details', 'address', 'show')
    if 'routes' in subsets:
        raw['routes4'] = ipr.routes(4, table)
        raw['routes6'] = ipr.routes(6, table)
    if 'neighbours' in subsets:
        raw['neighbours'] = ipr.read('ip', 'neigh', 'show')
    if 'fdb' in subsets:
        raw['fdb'] = ipr.read('bridge', 'fdb', 'show')
    return raw


def build_facts(raw, namespace, subsets, table='main'):
    """Assemble the facts dict from the raw reads (pure; unit-tested)."""
    facts = dict(namespace=namespace)
    if 'interfaces' in subsets:
        facts['interfaces'] = interface_facts(raw.get('links') or [])
    if 'addresses' in subsets:
        facts['addresses'] = [dict(address, interface=link['ifname']) for link in raw.get('links') or [] if link.get('ifname')
                              for address in address_facts(link.get('addr_info'))]
    if 'bridges' in subsets:
        facts['bridges'] = bridge_facts(raw.get('links') or [])
    if 'routes' in subsets:
        facts['routes'] = route_facts(raw.get('routes4') or [], 'inet', table) + route_facts(raw.get('routes6') or [], 'inet6', table)
    if 'neighbours' in subsets:
        facts['neighbours'] = neighbour_facts(raw.get('neighbours') or [])
    if 'fdb' in subsets:
        facts['fdb'] = fdb_facts(raw.get('fdb') or [])
    return facts


def read_files(paths):
    """``{path: text or None}`` (None: no such file); raise InvalidValue naming a path that cannot be read."""
    result = {}
    for path in paths:
        try:
            with open(path, 'rb') as handle:
                result[path] = handle.read().decode('utf-8', 'replace')
        except (IOError, OSError) as exc:
            if exc.errno != errno.ENOENT:
                raise InvalidValue('files: cannot read %s: %s' % (path, exc.strerror or exc))
            result[path] = None
    return result


def path_kinds(paths):
    """``{path: 'directory', 'file', 'other' or None}`` (None: no such path; links are followed)."""
    result = {}
    for path in paths:
        try:
            mode = os.stat(path).st_mode
        except (IOError, OSError):
            result[path] = None
            continue
        result[path] = 'directory' if stat.S_ISDIR(mode) else 'file' if stat.S_ISREG(mode) else 'other'
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            gather_subset=dict(type='list', elements='str', default=['all']),
            table=dict(type='str', default='main'),
            kernel_features=dict(type='list', elements='str', default=[]),
            files=dict(type='list', elements='path', default=[]),
            paths=dict(type='list', elements='path', default=[]),
            note=dict(type='dict'),
            **TARGET_ARGUMENT_SPEC
        ),
        mutually_exclusive=TARGET_MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )
    params = module.params
    try:
        subsets = parse_gather_subset(params['gather_subset'])
        table = validate_table(params['table'])
    except InvalidValue as exc:
        module.fail_json(msg=str(exc))

    if params.get('container'):
        container = container_info(module, params['container'])
        ipr = IPRoute(module, pid=container['pid'])
        namespace = describe_namespace(container=container)
    else:
        ipr = IPRoute.from_params(module)  # checks that the netns / process exists
        namespace = describe_namespace(netns=ipr.netns, pid=ipr.pid)

    facts = build_facts(read_state(ipr, subsets, table), namespace, subsets, table)
    # Nothing gathered (gather_subset !all): the facts of an earlier read stay as they are.
    result = dict(changed=False, commands=[], ansible_facts={FACTS_KEY: facts} if subsets else {})
    result.update(facts)
    if params['kernel_features']:
        result['kernel_support'] = result['ansible_facts']['crosshost_kernel_support'] = available(probe(params['kernel_features']))
    if params['files']:
        try:
            result['files'] = read_files(params['files'])
        except InvalidValue as exc:
            module.fail_json(msg=str(exc))
    if params['paths']:
        result['paths'] = path_kinds(params['paths'])
    if params['note'] is not None:
        result['note'] = params['note']
    module.exit_json(**result)


if __name__ == '__main__':
    main()
