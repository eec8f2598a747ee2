#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: pipework
short_description: Attach a container to a host bridge or NIC, as the pipework script does, idempotently
version_added: 0.1.0
description:
  - Gives a Docker container (or a named network namespace, or the namespace of a
    process) one more network interface, attached to a Linux bridge of the host (a veth
    pair) or to a physical NIC (a macvlan in bridge mode on it), with an address,
    optionally a default gateway, a MAC address, an MTU and extra routes - what
    C(pipework <hostif> [-i ifname] <guest> <ip>/<len>[@gw] [mac]) does, made declarative.
  - A re-run changes nothing. A container restarted since (new PID, interface gone)
    gets its interface back on the next run, with the same host-side name.
  - All kernel changes are C(ip) commands, one C(ip -batch) in the host's namespace and
    one in the target's. The container end of the veth pair (or the macvlan) is created
    directly in the target's namespace (C(ip link add ... netns <pid>)). With DHCP the
    target's batch is split in two around the client.
  - The host end of a veth pair is named C(vxh) followed by the first 12 hex digits of
    sha256(C(<identity>/<ifname>)), 15 characters, where the identity is the container's
    full ID, C(netns:<name>) or C(pid:<pid>) - so it fits the kernel's limit and does not
    change when the container restarts with another PID. O(host_ifname) overrides it.
  - Both ends carry the interface alias (C(ifalias)) C(crosshost:pipework); an
    interface without it (or a veth end not paired with ours) is never changed or removed.
  - Routes it installs (default route, O(routes)) carry the route protocol C(crosshost) (147).
  - Everything is validated before any change (addresses without prefix length, a
    missing host interface that is not to be created, a container that is not running,
    a name taken by an interface that is not ours) - a bad task changes nothing.
author: crosshost.network contributors (@crosshost)
extends_documentation_fragment:
  - crosshost.network.target
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Neither the DHCP client nor arping (nor the C(ndisc_notify) sysctl) runs in check mode.
  diff_mode:
    support: full
  platform:
    platforms: posix
options:
  host_interface:
    description:
      - The host side, like the first argument of pipework.
      - An existing Linux bridge gets a veth pair; any other Ethernet device (a NIC) gets
        a macvlan in bridge mode, and is set up if it is down.
      - A name that does not exist is created as a bridge (and set up) when it begins
        with C(br), or with O(create_bridge=true); otherwise the module fails.
      - Required with O(state=present).
    type: str
    aliases: [bridge]
  create_bridge:
    description:
      - V(true) creates a missing O(host_interface) as a bridge whatever its name, and
        fails if it exists and is not a bridge.
      - V(false) never creates it.
      - Not set - the original's rule - creates a missing name beginning with C(br).
    type: bool
  ifname:
    description:
      - Name of the interface inside the container (C(-i) of the original).
    type: str
    default: eth1
  host_ifname:
    description:
      - Name of the host end of the veth pair (C(-l) of the original), at most 15
        characters. Default the derived C(vxh...) name (see the description).
    type: str
  address:
    description:
      - V(<ip>/<len>), or V(<ip>/<len>@<gateway>) to make the gateway the container's
        default route (the default routes it had for that family are removed). The
        gateway must be in the address's network (an IPv6 link-local gateway too).
      - V(0/0) creates the interface without an address (existing addresses are left alone).
      - V(dhcp) asks a DHCP server. The client is the host's C(udhcpc), C(busybox udhcpc)
        or C(dhclient), else the container's own; it runs in the container's network
        namespace and only reports the lease, which the module applies (the address, and
        the router as default gateway). V(udhcpc) or V(dhclient) picks the client. The
        module takes the lease once (the role's replay service keeps a client renewing it);
        an interface that has an IPv4 address keeps it.
      - Any other address of the interface (not IPv6 link-local) is removed - one address per
        interface, as the original (a second call of it on the same interface fails). A container
        gets both families with two interfaces, each with its own O(address) and gateway (see
        O(family)).
      - An IPv6 address (V(2001:db8:2::21/64), V(2001:db8:2::21/64@2001:db8:2::1),
        V(2001:db8:2::21/64@fe80::1)) is added without duplicate address detection (C(nodad), as
        Docker adds its containers' IPv6 addresses), so it is usable at once rather than tentative
        for a second or more; the C(crosshost.network.pipework) role checks the inventory for
        addresses declared twice instead. IPv6 is turned on for the interface first
        (C(disable_ipv6=0) with C(sysctl) in the container's namespace) - Docker turns it off in a
        container without an IPv6 network, so a new interface there has it off too.
      - Required with O(state=present). An address without prefix length is an error.
    type: str
  family:
    description:
      - The original's C(-a 4|6) - the address family of O(address), which its C(ip -4|-6) commands
        act on. There its default is 4, so an IPv6 address needs C(-a 6), and C(@gateway) replaces
        the default route of that family only (the other family's default route, for example an
        IPv4 one through another interface, stays).
      - Here the family is read from O(address) and the default route replaced is always that of
        the address's family, so O(family) is optional; given, it must agree with O(address) (an
        error otherwise, before any change). V(6) with DHCP is an error (the DHCP clients here are
        IPv4 only). No effect with V(0/0).
    type: int
    choices: [4, 6]
  mac:
    description:
      - MAC address of the container interface.
      - V(U:<string>) derives a stable one, C(02:) followed by the first 5 bytes of the
        md5 of the string and a newline (as the original's C(echo <string> | md5sum)).
      - Default a random one chosen by the kernel, kept on re-runs.
    type: str
  mtu:
    description:
      - MTU of both ends. Default the MTU of O(host_interface) (1500 for a new bridge).
      - A macvlan cannot have a larger MTU than its NIC.
    type: int
  routes:
    description:
      - Extra routes inside the container, through the interface. Routes of ours on the
        interface that are not listed are removed.
    type: list
    elements: dict
    default: []
    suboptions:
      dst:
        description: Destination network (CIDR; an address alone is a host route). Not the default route - use O(address) with C(@gateway).
        type: str
        required: true
      via:
        description: Gateway, in the network of the interface's address. Without it, a device route.
        type: str
      metric:
        description: Route metric (default 0 for IPv4, 1024 for IPv6).
        type: int
  arping:
    description:
      - After an IPv4 address was set, send one gratuitous (unsolicited) ARP from the
        container's interface, with C(busybox arping), else the host's C(arping) (iputils or
        Habets'), run in the container's namespace. Skipped quietly when none is installed
        (RV(arping) says so).
      - IPv6 has no ARP, and an address added without DAD is not advertised - after an IPv6 address
        was set, turn on the interface's C(ndisc_notify) (C(sysctl) in the container's namespace)
        and set its MAC address again, to the one it has - the kernel then sends an unsolicited
        neighbour advertisement with the override flag for each of its addresses (and does so again
        whenever the interface comes up or changes its MAC address), so the LAN's neighbour caches
        learn a new MAC address at once.
    type: bool
    default: true
  dhcp_timeout:
    description: Seconds to wait for a DHCP lease.
    type: int
    default: 20
  state:
    description:
      - V(present) creates or updates the interface.
      - V(absent) removes the interface if it is ours (the veth pair or the macvlan; its
        addresses and routes go with it). The bridge stays. A container that is stopped or
        gone has nothing left to remove (its namespace took the interface with it).
      - The default route that V(<ip>/<len>@<gateway>) replaced is not put back.
    type: str
    choices: [present, absent]
    default: present
notes:
  - One of O(container), O(netns) and O(pid) is required; the target must have its own
    network namespace (not Docker's C(host) mode).
  - The host's own macvlan children cannot reach it and it cannot reach them (a kernel rule).
  - A container interface with a smaller MTU than the bridge lowers the bridge's MTU,
    unless the bridge's MTU was set explicitly.
  - The module keeps nothing for the next boot or container start; the C(crosshost.network.pipework)
    role persists RV(persist) and runs a replay service that attaches the container again when it
    starts, and keeps a DHCP client running per DHCP attachment (which renews the lease).
  - Outside check mode it holds an exclusive lock on C(/run/lock/crosshost-pipework.lock) from
    reading the state to applying the change; the replay service takes the same lock, so the two
    never create the same interface at once just after a container started.
seealso:
  - module: crosshost.network.network_facts
  - module: crosshost.network.ip_link
'''

EXAMPLES = r'''
- name: Attach web1 to bri0 with a LAN address and make the LAN router its default gateway
  crosshost.network.pipework:
    container: web1
    host_interface: bri0
    address: 198.18.2.21/24@198.18.2.1

- name: A second interface with a stable MAC address, an MTU and a route
  crosshost.network.pipework:
    container: web1
    host_interface: br-backend
    ifname: eth2
    address: 100.64.7.21/24
    mac: U:web1-backend
    mtu: 1400
    routes:
      - dst: 100.64.8.0/24
        via: 100.64.7.1

- name: The same container on the LAN by IPv6 too, a second interface (pipework bri0 -i eth3 -a 6 web1 ...)
  crosshost.network.pipework:
    container: web1
    host_interface: bri0
    ifname: eth3
    family: 6
    address: 2001:db8:2::21/64@2001:db8:2::1
    routes:
      - dst: 2001:db8:8::/48
        via: fe80::1

- name: A macvlan on a NIC, address from DHCP
  crosshost.network.pipework:
    container: db1
    host_interface: eth1
    address: dhcp

- name: An interface without an address, in a named network namespace
  crosshost.network.pipework:
    netns: xh-lab
    host_interface: br-lab
    address: 0/0

- name: Remove it again
  crosshost.network.pipework:
    container: web1
    ifname: eth2
    state: absent
'''

RETURN = r'''
commands:
  description:
    - The plan, in order - C(ip) commands of the host's namespace as they are, those of the
      target's prefixed with C(ip -n <netns>) or C(nsenter -t <pid> -n ip), the DHCP client
      and arping calls, and an C(echo) line when the route protocol name is registered.
  returned: always
  type: list
  elements: str
  sample:
    - ip link add name vxh3f2a9c1d0b7e mtu 1500 type veth peer name eth1 mtu 1500 netns 4242
    - ip link set dev vxh3f2a9c1d0b7e alias crosshost:pipework master bri0 up
    - nsenter -t 4242 -n ip link set dev eth1 alias crosshost:pipework up
    - nsenter -t 4242 -n ip address add 198.18.2.21/24 brd + dev eth1
target:
  description: The target - C(container <name>), C(netns <name>) or C(pid <pid>).
  returned: always
  type: str
  sample: container web1
mode:
  description: V(bridge) (a veth pair on a bridge), V(macvlan) (on a NIC), or null with O(state=absent).
  returned: always
  type: str
  sample: bridge
host_ifname:
  description: The host end of the veth pair (null for a macvlan).
  returned: always
  type: str
  sample: vxh3f2a9c1d0b7e
interface:
  description:
    - The container interface after the task (in check mode, as it would be; keys not
      known before the change, such as a random MAC address or a DHCP address, are null
      or V((dhcp)) there).
  returned: always
  type: dict
  contains:
    state:
      description: V(present) or V(absent).
      type: str
    kind:
      description: V(veth) or V(macvlan).
      type: str
    mtu:
      description: MTU.
      type: int
    mac:
      description: MAC address.
      type: str
    up:
      description: Whether it is up.
      type: bool
    host_ifname:
      description: Host end of the veth pair.
      type: str
    master:
      description: Bridge of the host end.
      type: str
    addresses:
      description: Its addresses (not IPv6 link-local ones).
      type: list
      elements: str
    gateway:
      description: The default gateway through this interface, if any.
      type: str
    routes:
      description: The extra routes of ours through it.
      type: list
      elements: str
  sample:
    state: present
    kind: veth
    mtu: 1500
    mac: 02:5e:1e:33:8d:71
    up: true
    host_ifname: vxh3f2a9c1d0b7e
    master: bri0
    addresses: [198.18.2.21/24]
    gateway: 198.18.2.1
    routes: []
dhcp:
  description: The lease applied in this run (C(client), C(address), C(router)), else null.
  returned: always
  type: dict
  sample: {client: busybox udhcpc, address: 198.18.2.150/24, router: 198.18.2.1}
persist:
  description:
    - What the task applies, as the C(crosshost.network.pipework) role persists it for its replay
      service (which attaches a Docker container again when it restarts or the host boots). It names
      C(container) or C(netns); null for a O(pid) target or with O(state=absent). V(dhcp) true means
      the address comes from a DHCP client (C(addresses) is empty).
  returned: always
  type: dict
  sample:
    container: web1
    ifname: eth1
    mode: bridge
    host_interface: bri0
    host_ifname: vxh3f2a9c1d0b7e
    mac: 02:5e:1e:33:8d:71
    mtu: 1500
    dhcp: false
    addresses: [198.18.2.21/24]
    gateway: 198.18.2.1
    routes: [{dst: 100.64.8.0/24, via: 198.18.2.1, metric: 0}]
arping:
  description:
    - What became of the gratuitous ARP (IPv4) or unsolicited neighbour advertisement (IPv6) - sent,
      skipped and why, or failed; V(not needed) when the address did not change.
  returned: always
  type: str
  sample: sent (busybox arping -U -c 1 -I eth1 198.18.2.21)
'''

import fcntl
import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.crosshost.network.plugins.module_utils._container import (
    _docker_inspect,
    namespace_inode,
)
from ansible_collections.crosshost.network.plugins.module_utils._iproute import (
    C_LOCALE,
    TARGET_ARGUMENT_SPEC,
    TARGET_MUTUALLY_EXCLUSIVE,
    InvalidValue,
    IPRoute,
    Plan,
)
from ansible_collections.crosshost.network.plugins.module_utils._addresses import global_addresses
from ansible_collections.crosshost.network.plugins.module_utils._pipework import (
    LEASE_SCRIPT,
    MARK,
    arping_argv,
    build_want,
    check_lease_routes,
    compute_plan,
    dhcp_argv,
    host_veth_name,
    l3_plan,
    parse_lease,
    parse_route_entries,
)
from ansible_collections.crosshost.network.plugins.module_utils._reconcile import register_ours

SBIN = ['/usr/sbin', '/sbin', '/usr/local/sbin']
# Shared with the role's replay service (roles/pipework/files/crosshost-pipework-replay).
ATTACH_LOCK = '/run/lock/crosshost-pipework.lock'
BIN_DIRS = ('/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin')

ARGUMENT_SPEC = dict(
    host_interface=dict(type='str', aliases=['bridge']),
    create_bridge=dict(type='bool'),
    ifname=dict(type='str', default='eth1'),
    host_ifname=dict(type='str'),
    address=dict(type='str'),
    mac=dict(type='str'),
    mtu=dict(type='int'),
    routes=dict(type='list', elements='dict', default=[], options=dict(
        dst=dict(type='str', required=True),
        via=dict(type='str'),
        metric=dict(type='int'),
    )),
    family=dict(type='int', choices=[4, 6]),
    arping=dict(type='bool', default=True),
    dhcp_timeout=dict(type='int', default=20),
    state=dict(type='str', choices=['present', 'absent'], default='present'),
    **TARGET_ARGUMENT_SPEC
)


class Target:
    """The namespace the interface goes to, and how to name and reach it."""

    def __init__(self, label, identity, alive, ipr=None, ref=None, pid=None, hostname=None, container=False):
        self.label = label
        self.identity = identity
        self.alive = alive
        self.ipr = ipr
        self.ref = ref
        self.pid = pid
        self.hostname = hostname
        self.container = container

    def commands(self, plan):
        """A target plan as commands a person could type."""
        if self.ipr.netns:
            prefix = 'ip -n %s ' % self.ipr.netns
        else:
            prefix = 'nsenter -t %d -n ip ' % self.pid
        return [prefix + ' '.join(c) for c in plan.ip]


def resolve_target(module, state):
    """Docker container | netns | pid -> Target; a missing target is only an error with state=present."""
    params = module.params
    present = state == 'present'
    if params.get('container'):
        ref = params['container']
        cmd, rc, data, err = _docker_inspect(module, ref)
        if rc != 0 or data is None:
            if rc != 0 and 'no such' not in err.lower():
                module.fail_json(msg='docker inspect of container %r failed (rc=%d): %s' % (ref, rc, err.strip()), cmd=cmd, rc=rc, stderr=err)
            if present:
                module.fail_json(msg='Docker container %r not found: %s' % (ref, err.strip() or 'docker inspect returned nothing'))
            return Target('container %s' % ref, None, False)
        name = (data.get('Name') or '').lstrip('/') or ref
        label = 'container %s' % name
        status = data.get('State') or {}
        if not status.get('Running') or not status.get('Pid'):
            if present:
                module.fail_json(msg='Docker container %r is not running (status %s): start it first' % (ref, status.get('Status')))
            return Target(label, data.get('Id'), False)
        pid = int(status['Pid'])
        if (data.get('HostConfig') or {}).get('NetworkMode') == 'host' and present:
            module.fail_json(msg='Docker container %r uses the host network mode: it has no network namespace of its own' % ref)
        return Target(label, data.get('Id'), True, IPRoute(module, pid=pid), str(pid), pid, hostname=name, container=True)
    if params.get('netns'):
        name = params['netns']
        if '/' in name or name in ('.', '..'):
            module.fail_json(msg='netns %r is not a valid namespace name' % name)
        if not os.path.exists('/run/netns/%s' % name):
            if present:
                module.fail_json(msg='network namespace %r does not exist (ip netns list)' % name)
            return Target('netns %s' % name, 'netns:%s' % name, False)
        return Target('netns %s' % name, 'netns:%s' % name, True, IPRoute(module, netns=name), name)
    pid = params['pid']
    if pid <= 0 or not os.path.exists('/proc/%d/ns/net' % pid):
        if present:
            module.fail_json(msg='process %d does not exist, so it has no network namespace' % pid)
        return Target('pid %d' % pid, 'pid:%d' % pid, False)
    return Target('pid %d' % pid, 'pid:%d' % pid, True, IPRoute(module, pid=pid), str(pid), pid)


def target_inode(target):
    if target.ipr.netns:
        return namespace_inode('/run/netns/%s' % target.ipr.netns)
    return namespace_inode('/proc/%d/ns/net' % target.pid)


class Tools:
    """Finds the DHCP client and arping once per run."""

    def __init__(self, module):
        self.module = module
        self._applets = None

    def path(self, name):
        return self.module.get_bin_path(name, required=False, opt_dirs=SBIN)

    def busybox(self, applet):
        """``[busybox, applet]`` when busybox has that applet, else None."""
        busybox = self.path('busybox')
        if not busybox:
            return None
        if self._applets is None:
            rc, out, dummy = self.module.run_command([busybox, '--list'], environ_update=C_LOCALE)
            self._applets = set(out.split()) if rc == 0 else set()
        return [busybox, applet] if applet in self._applets else None

    def dhcp_client(self, wanted, target):
        """(client, argv prefix, where) with where 'host' or 'container', or None."""
        if wanted in ('auto', 'udhcpc'):
            if self.path('udhcpc'):
                return 'udhcpc', [self.path('udhcpc')], 'host'
            if self.busybox('udhcpc'):
                return 'udhcpc', self.busybox('udhcpc'), 'host'
        if wanted in ('auto', 'dhclient') and self.path('dhclient'):
            return 'dhclient', [self.path('dhclient')], 'host'
        if target.container:
            # The container's own client, run in its mount namespace too.
            root = '/proc/%d/root' % target.pid
            for client in ('udhcpc', 'dhclient'):
                if wanted not in ('auto', client):
                    continue
                for directory in BIN_DIRS:
                    # lexists: busybox applets are absolute symlinks, resolved in the container.
                    if os.path.lexists(root + directory + '/' + client):
                        return client, [directory + '/' + client], 'container'
        return None

    def arping(self):
        """(flavour, argv prefix) or None."""
        busybox = self.busybox('arping')
        if busybox:
            return 'busybox', busybox
        arping = self.path('arping')
        if not arping:
            return None
        rc, out, err = self.module.run_command([arping, '--help'], environ_update=C_LOCALE)
        return ('habets' if 'Habets' in out + err else 'iputils'), [arping]


def run_dhcp(module, tools, target, want):
    """Run the client in the target's namespace; return dict(iface, router, client) from its lease."""
    spec = want['spec']
    found = tools.dhcp_client(spec['client'], target)
    if not found:
        module.fail_json(msg='%s: address %s asks for DHCP, but no %s was found on the host%s' % (
            target.label, spec['text'], 'DHCP client (udhcpc, busybox udhcpc, dhclient)' if spec['client'] == 'auto' else spec['client'],
            ' nor in the container' if target.container else ''))
    client, binary, where = found
    nsenter = module.get_bin_path('nsenter', required=True, opt_dirs=SBIN)
    if where == 'host':
        workdir = tempfile.mkdtemp(prefix='xh-pipework-')
        inside = workdir
        prefix = list(target.ipr.prefix)
    else:
        workdir = tempfile.mkdtemp(prefix='xh-pipework-', dir='/proc/%d/root/tmp' % target.pid)
        inside = '/tmp/' + os.path.basename(workdir)
        prefix = [nsenter, '--target', str(target.pid), '--net', '--mount']
    try:
        script = os.path.join(workdir, 'lease-script')
        with open(script, 'w') as handle:
            handle.write(LEASE_SCRIPT)
        os.chmod(script, 0o700)
        hostname = target.hostname if target.hostname and all(c.isalnum() or c in '-.' for c in target.hostname) else None
        argv = dhcp_argv(client, binary, want['ifname'], inside + '/lease-script', want['dhcp_timeout'], hostname)
        timeout = module.get_bin_path('timeout', required=False)
        if timeout:
            argv = [timeout, str(want['dhcp_timeout'] + 5)] + argv
        rc, out, err = module.run_command(prefix + argv, environ_update=C_LOCALE)
        lease = None
        if os.path.exists(os.path.join(workdir, 'lease')):
            with open(os.path.join(workdir, 'lease')) as handle:
                lease = parse_lease(handle.read())
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if lease is None:
        module.fail_json(msg='%s: no DHCP lease for %s within %d s (%s, rc=%d); the interface stays without address, re-run to retry'
                         % (target.label, want['ifname'], want['dhcp_timeout'], ' '.join(binary), rc),
                         cmd=prefix + argv, rc=rc, stdout=out, stderr=err)
    lease['client'] = ' '.join(os.path.basename(b) for b in binary) + ('' if where == 'host' else ' (in the container)')
    return lease


def ipv6_sysctls(module, target, ifname, notify):
    """Before an IPv6 address is added: Docker turns IPv6 off in a container without an IPv6
    network (all and default disable_ipv6=1, so a new interface has it off too): turn it on for
    this interface. With ``notify``, ndisc_notify on too (see notify_neighbours_v6)."""
    keys = ['net/ipv6/conf/%s/disable_ipv6=0' % ifname] + (['net/ipv6/conf/%s/ndisc_notify=1' % ifname] if notify else [])
    # The '/' form: an interface name may hold a dot.
    argv = [module.get_bin_path('sysctl', required=True, opt_dirs=SBIN), '-q', '-w'] + keys
    rc, out, err = module.run_command(list(target.ipr.prefix) + argv, environ_update=C_LOCALE)
    if rc != 0:
        module.fail_json(msg='%s: cannot turn on IPv6 on %s (rc=%d): %s' % (target.label, ifname, rc, (err or out).strip()),
                         cmd=list(target.ipr.prefix) + argv, rc=rc, stderr=err)


def notify_neighbours_v6(target, ifname):
    """IPv6 has no ARP, and a Linux address added without DAD is not advertised. With the
    interface's ndisc_notify on, the kernel sends an unsolicited neighbour advertisement (override
    set) for each of its addresses when its MAC address is set - to the one it has, here."""
    mac = target.ipr.read('ip', 'link', 'show', 'dev', ifname)[0]['address']
    plan = Plan()
    plan.add_ip('link', 'set', 'dev', ifname, 'address', mac)
    target.ipr.apply(plan)
    return 'sent (unsolicited neighbour advertisement: ndisc_notify on, MAC address %s set again on %s)' % (mac, ifname)


def send_arping(module, tools, target, ifname, iface):
    found = tools.arping()
    if not found:
        return 'skipped: no arping on the host (busybox arping, iputils or Habets arping)'
    flavour, binary = found
    argv = arping_argv(flavour, binary, ifname, str(iface.ip))
    shown = ' '.join([os.path.basename(argv[0])] + argv[1:])
    rc, out, err = module.run_command(list(target.ipr.prefix) + argv, environ_update=C_LOCALE)
    if rc != 0:
        module.warn('%s: gratuitous ARP for %s failed (rc=%d): %s' % (target.label, iface.ip, rc, (err or out).strip()))
        return 'failed (%s): rc=%d %s' % (shown, rc, (err or out).strip())
    return 'sent (%s)' % shown


def persist_spec(module, target, want, result, after):
    """What this task applies, for the role's replay service (RV(persist))."""
    spec = want['spec']
    where = dict(container=target.hostname) if target.container else dict(netns=module.params['netns'])
    return dict(where, ifname=want['ifname'], mode=result['mode'], host_interface=want['host_interface'],
                host_ifname=result['host_name'], mac=after.get('mac'), mtu=after.get('mtu'), dhcp=spec['mode'] == 'dhcp',
                addresses=[spec['iface'].with_prefixlen] if spec['mode'] == 'static' else [], gateway=spec['gateway'],
                routes=[dict(dst=r['dst'], via=r['via'], metric=r['metric']) for r in want['routes']])


def hold_attach_lock(module):
    """Wait for, then hold until exit, the lock the replay service takes around its attach: without
    it both may find the interface missing just after the container started and both create it."""
    try:
        if not os.path.isdir(os.path.dirname(ATTACH_LOCK)):
            os.makedirs(os.path.dirname(ATTACH_LOCK))
        fd = os.open(ATTACH_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError as exc:
        module.fail_json(msg='cannot lock %s: %s' % (ATTACH_LOCK, exc))
    return fd


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, mutually_exclusive=TARGET_MUTUALLY_EXCLUSIVE,
                           required_one_of=[('container', 'netns', 'pid')], supports_check_mode=True)
    try:
        want = build_want(module.params)
        if module.params['dhcp_timeout'] < 1:
            raise InvalidValue('dhcp_timeout %r must be at least 1 second' % module.params['dhcp_timeout'])
    except InvalidValue as exc:
        module.fail_json(msg=str(exc))
    want['dhcp_timeout'] = module.params['dhcp_timeout']
    state = want['state']

    if not module.check_mode:
        hold_attach_lock(module)
    target = resolve_target(module, state)
    host_ipr = IPRoute(module)
    host_name = want['host_ifname'] or (host_veth_name(target.identity, want['ifname']) if target.identity else None)
    output = dict(changed=False, commands=[], target=target.label, mode=None, host_ifname=None,
                  interface=dict(state='absent'), dhcp=None, arping='not needed', persist=None)

    if not target.alive:
        # Stopped or gone: its namespace took the container end (and so the pair) with it.
        plan = Plan()
        if host_name:
            link = host_ipr.links().get(host_name)
            if link is not None and link.get('ifalias') == MARK:
                plan.add_ip('link', 'del', 'dev', host_name)
        if plan and not module.check_mode:
            host_ipr.apply(plan)
        output.update(changed=bool(plan), commands=plan.commands())
        if module._diff:
            output['diff'] = dict(before=dict(target=target.label, ifname=want['ifname'], state='absent'),
                                  after=dict(target=target.label, ifname=want['ifname'], state='absent'))
        module.exit_json(**output)

    if state == 'present' and target_inode(target) == namespace_inode('/proc/self/ns/net'):
        module.fail_json(msg='%s shares the host\'s network namespace: pipework needs a namespace of its own' % target.label)

    host_links = host_ipr.links()
    target_links = dict((link['ifname'], link) for link in target.ipr.read('ip', '-details', 'address', 'show'))
    have_routes = parse_route_entries(target.ipr.read('ip', '-N', '-4', 'route', 'show', 'table', 'main'), 4)
    have_routes += parse_route_entries(target.ipr.read('ip', '-N', '-6', 'route', 'show', 'table', 'main'), 6)
    try:
        result = compute_plan(want, host_links, target_links, have_routes, target.ref, host_name)
    except InvalidValue as exc:
        module.fail_json(msg='%s: %s' % (target.label, exc))
    for warning in result['warnings']:
        module.warn('%s: %s' % (target.label, warning))

    tools = Tools(module)
    target_plan = Plan()
    target_plan.extend(result['target'])
    if result['l3'] is not None:
        target_plan.extend(result['l3'])
    send_arp = state == 'present' and want['arping'] and result['address_changed']
    static_v6 = want['spec'] is not None and want['spec']['mode'] == 'static' and want['spec']['iface'].version == 6
    if static_v6:
        arp_line = 'unsolicited neighbour advertisement: ndisc_notify=1 on %s, its MAC address set again' % want['ifname']
    else:
        arp_line = 'arping: one gratuitous ARP from %s' % want['ifname']
    commands = []
    if state == 'present' and (want['routes'] or (want['spec']['gateway'] or want['spec']['mode'] == 'dhcp')):
        commands += register_ours(module)
    commands += target.commands(result['target_pre']) + result['host'].commands()
    if static_v6 and result['address_changed']:
        commands.append('sysctl in %s: net.ipv6.conf.%s.disable_ipv6=0%s' % (
            target.label, want['ifname'], ' ndisc_notify=1' if send_arp else ''))
    commands += target.commands(target_plan)
    if result['dhcp']:
        found = tools.dhcp_client(want['spec']['client'], target)
        commands.append('dhcp: %s on %s in %s, then its address and router' % (
            ' '.join(os.path.basename(b) for b in found[1]) if found else 'no DHCP client found', want['ifname'], target.label))

    after = dict(result['after'])
    changed = bool(commands) or send_arp
    if not module.check_mode and changed:
        if result['target_pre']:
            target.ipr.apply(result['target_pre'])
        if result['host']:
            host_ipr.apply(result['host'])
        if static_v6 and result['address_changed']:
            ipv6_sysctls(module, target, want['ifname'], send_arp)
        if target_plan:
            target.ipr.apply(target_plan)
        if send_arp and static_v6:
            commands.append(arp_line)
            output['arping'] = notify_neighbours_v6(target, want['ifname'])
        iface = want['spec']['iface'] if state == 'present' else None
        if result['dhcp']:
            lease = run_dhcp(module, tools, target, want)
            try:
                check_lease_routes(want['routes'], lease['iface'])
            except InvalidValue as exc:
                module.fail_json(msg='%s: %s' % (target.label, exc))
            l3, after_l3 = l3_plan(want['ifname'], [lease['iface']], lease['router'], True, want['routes'],
                                   result['have_link'], result['have_routes'])
            target.ipr.apply(l3)
            commands += target.commands(l3)
            after.update(after_l3)
            iface = lease['iface']
            output['dhcp'] = dict(client=lease['client'], address=lease['iface'].with_prefixlen, router=lease['router'])
        if send_arp and not static_v6:
            commands.append(arp_line)
            output['arping'] = send_arping(module, tools, target, want['ifname'], iface)
        elif state == 'present' and not want['arping']:
            output['arping'] = 'disabled'
        if state == 'present':
            # Read back what the kernel chose (a random MAC address).
            link = target.ipr.read('ip', '-details', 'address', 'show', 'dev', want['ifname'])[0]
            after.update(mac=(link.get('address') or '').lower() or None, mtu=link.get('mtu'),
                         addresses=sorted(a.with_prefixlen for a in global_addresses(link)))
    elif send_arp:
        commands.append(arp_line)
        output['arping'] = 'would be sent'

    output.update(changed=changed, commands=commands, mode=result['mode'], host_ifname=result['host_name'], interface=after)
    if state == 'present' and (target.container or module.params.get('netns')):
        output['persist'] = persist_spec(module, target, want, result, after)
    if module._diff:
        context = dict(target=target.label, ifname=want['ifname'])
        output['diff'] = dict(before=dict(context, **result['before']), after=dict(context, **after))
    module.exit_json(**output)


if __name__ == '__main__':
    main()
