#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: flannel_lease
short_description: A host's flannel subnet lease in etcd, in flanneld's own format
version_added: 0.1.0
description:
  - Gives a host (identified by its underlay address, flannel's C(PublicIP)) one subnet of
    the flannel network, as the etcd key C(<prefix>/subnets/<subnet ip>-<len>) holding
    C({"PublicIP":"198.18.0.11","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"02:..."}}),
    exactly what flanneld writes, so flanneld hosts and hosts managed by this module see
    each other's leases.
  - The key is attached to an etcd lease of O(ttl) seconds (24 hours like flanneld), renewed
    (keepalive) by every run with O(state=present); a host that stops running it loses its
    subnet when the TTL runs out, as with flanneld.
  - "O(state=present): the host keeps the lease that carries its own C(PublicIP) (renewing
    it, and updating C(BackendData) if the VTEP MAC or VNI changed); else it takes the
    pinned O(subnet), or O(preferred_subnet) if free, or the lowest free subnet between
    C(SubnetMin) and C(SubnetMax) of the stored network config."
  - Creating a lease is one etcd transaction that succeeds only if the key does not exist yet
    (C(create_revision == 0)), so hosts converging in parallel never share a subnet; on a
    conflict the next free subnet is tried.
  - Other leases carrying the host's C(PublicIP) (duplicates, leases that no longer fit the
    config, the old lease when O(subnet) pins another one) are deleted.
  - "O(state=absent): deletes the host's leases (or the lease of O(subnet)). O(state=query):
    reads only."
  - With O(prune=true), leases whose C(PublicIP) is not in O(known_public_ips) (hosts that
    left the cluster) are deleted instead of lingering until their TTL runs out.
  - "Dual stack, when the config has C(EnableIPv6): the key also names the host's IPv6 subnet
    (C(<prefix>/subnets/100.64.1.0-24&2001:db8:165:1::-64)) and the value carries
    C(PublicIPv6) (O(public_ipv6)) and C(BackendV6Data) (C({\"VNI\":1,\"VtepMAC\":...}), the
    MAC of the IPv6 VXLAN device, O(vtep_mac_v6)), as flanneld writes them. The IPv6 subnet
    is O(subnet_v6) if pinned, else the one the host's lease already has, else
    O(preferred_subnet_v6) if free, else the lowest free one between C(IPv6SubnetMin) and C(IPv6SubnetMax)."
  - "Turning IPv6 on or off in the config changes the key of the host's lease: the lease
    keeps its IPv4 subnet and moves to the new key in one etcd transaction (the new key is
    created only if nobody has it, the old one deleted only if unchanged)."
  - Every run returns all leases (RV(leases)), from which the overlay programs its VXLAN
    peers, and the host's own (RV(lease)).
author: crosshost.network contributors (@crosshost)
extends_documentation_fragment:
  - crosshost.network.etcd
options:
  public_ip:
    description:
      - The host's C(PublicIP), the underlay IPv4 address other hosts send encapsulated
        traffic to (flanneld's C(--public-ip)).
      - Required with O(state=present) unless the config is IPv6 only (then O(public_ipv6)
        names the host); with O(state=absent) unless O(subnet) or O(public_ipv6) is given.
    type: str
  subnet:
    description:
      - Pin the host to this subnet (V(100.64.7.0/24); an address alone takes the config's
        C(SubnetLen)). It must be inside C(Network), aligned, and between C(SubnetMin) and
        C(SubnetMax).
      - If another host holds it, the module fails naming the holder. If the host holds
        another lease, that one is deleted once the pinned one is created.
      - With O(state=absent), the lease to delete.
    type: str
  public_ipv6:
    description:
      - The host's C(PublicIPv6), its underlay IPv6 address, which the IPv6 VXLAN device
        sends from (flanneld's C(--public-ipv6)).
      - Required with O(state=present) when the config enables IPv6 (C(EnableIPv6)); ignored otherwise.
      - In an IPv6-only config it names the host (its lease is the one with this C(PublicIPv6)),
        also for O(state=absent) and O(state=query).
    type: str
  subnet_v6:
    description:
      - Pin the host to this IPv6 subnet (V(2001:db8:165:7::/64); an address alone takes the
        config's C(IPv6SubnetLen)). It must be inside C(IPv6Network), aligned, and between
        C(IPv6SubnetMin) and C(IPv6SubnetMax); the module fails naming the holder if another host has it.
    type: str
  preferred_subnet_v6:
    description:
      - An IPv6 subnet to take when the host's lease has none that fits yet and it is free
        (for example the one the controller-side plan gave the host). Ignored, with a
        warning, when it does not fit the config.
    type: str
  vtep_mac_v6:
    description:
      - The MAC address of the host's IPv6 VXLAN device (C(flannel-v6.<VNI>)), stored as
        C(BackendV6Data.VtepMAC) (vxlan only).
      - Default a stable, locally administered MAC derived from the config's C(IPv6Network) and O(public_ipv6).
    type: str
  preferred_subnet:
    description:
      - A subnet to take when the host has no lease yet and it is free (for example the
        subnet the controller-side plan gave the host, or the one it had before). Ignored,
        with a warning, when it is taken or does not fit the config.
    type: str
  vtep_mac:
    description:
      - The MAC address of the host's VXLAN device, stored as C(BackendData.VtepMAC) (vxlan only).
      - Default a stable, locally administered MAC derived from the config's C(Network) and
        O(public_ip); the overlay must give its VXLAN device the same MAC.
    type: str
  ttl:
    description:
      - Lifetime of the lease in seconds, renewed by every run with O(state=present).
      - V(0) stores the key without an etcd lease (it never expires); otherwise at least 10.
    type: int
    default: 86400
  prune:
    description:
      - Delete the leases whose C(PublicIP) (IPv6-only leases, C(PublicIPv6)) is not in O(known_public_ips)
        (nor O(public_ip), O(public_ipv6)).
      - Leases whose value is not flannel's JSON are deleted too.
    type: bool
    default: false
  known_public_ips:
    description:
      - The C(PublicIP)s of the hosts that are still in the cluster, and the C(PublicIPv6)s of
        IPv6-only hosts. Required with O(prune=true).
    type: list
    elements: str
  prefix:
    description:
      - flannel's etcd prefix (flanneld's C(--etcd-prefix)).
    type: str
    default: /coreos.com/network
  state:
    description:
      - V(present) ensures the host holds a lease, V(absent) deletes it, V(query) only reads.
    type: str
    choices: [present, absent, query]
    default: present
attributes:
  check_mode:
    description: Reads etcd and computes the subnet the host would get; writes nothing, not even the keepalive.
    support: full
  diff_mode:
    description: Before and after are the lease keys and values under C(<prefix>/subnets/).
    support: full
notes:
  - The network config (C(<prefix>/config)) must exist for O(state=present); write it with
    M(crosshost.network.flannel_network_config).
  - "An IPv6-only config (C(EnableIPv4=false)): the key keeps flanneld's IPv4 part, the empty
    subnet (C(<prefix>/subnets/0.0.0.0-0&2001:db8:165:1::-64)), the value has C(PublicIP)
    V(0.0.0.0) and no C(BackendData), as flanneld's etcd subnet manager writes them. The
    host's lease is then the one carrying its O(public_ipv6); O(public_ip) and O(subnet) are
    not used. (flanneld itself gives every IPv6-only host the same lease, since it finds its
    lease by C(PublicIP); this module does not.)"
  - Two hosts never get the same IPv4 subnet (the key is created in a transaction); the
    IPv6 subnet is chosen free from the leases read at the start of the run, as flanneld does.
  - Renewing a lease (keepalive) is not a change; RV(renewed) says whether it happened.
seealso:
  - module: crosshost.network.flannel_network_config
'''

EXAMPLES = r'''
- name: Give this host a subnet (kept across runs, renewed each run)
  crosshost.network.flannel_lease:
    endpoints: "{{ groups['etcd'] | map('extract', hostvars, 'etcd_listen_address') | map('regex_replace', '^(.*)$', 'http://\\1:2379') | list }}"
    public_ip: "{{ crosshost_underlay_ip }}"
    vtep_mac: "{{ ansible_facts['flannel.1']['macaddress'] | default(omit) }}"
  register: flannel

- name: Show this host's subnet and its peers
  ansible.builtin.debug:
    msg: "{{ flannel.lease.subnet }} via {{ flannel.lease.gateway }}; peers: {{ flannel.leases | map(attribute='subnet') | list }}"

- name: Pin a host to a subnet, and drop leases of hosts no longer in the inventory
  crosshost.network.flannel_lease:
    public_ip: 198.18.0.13
    subnet: 100.64.13.0/24
    prune: true
    known_public_ips: "{{ groups['overlay'] | map('extract', hostvars, 'crosshost_underlay_ip') | list }}"

- name: A dual-stack lease (the config has EnableIPv6 and IPv6Network)
  crosshost.network.flannel_lease:
    public_ip: 198.18.65.11
    public_ipv6: 2001:db8:65::11
    preferred_subnet_v6: 2001:db8:165:1::/64

- name: Release a host's lease
  crosshost.network.flannel_lease:
    public_ip: 198.18.0.13
    state: absent

- name: Read all leases
  crosshost.network.flannel_lease:
    state: query
  register: all_leases
'''

RETURN = r'''
lease:
  description:
    - The host's lease after the run (in check mode, the one it would get); null when it has none.
    - C(gateway) is the first address of the subnet (docker0's address), C(bip) the same
      with the prefix length (Docker's C(--bip), flannel's C(FLANNEL_SUBNET)).
    - C(mtu) is the overlay MTU (C(Backend.MTU) minus the encapsulation, flannel's
      C(FLANNEL_MTU)) and C(underlay_mtu) is C(Backend.MTU); both null when the config has no C(MTU).
    - C(ttl) is the lease's lifetime in seconds after the renewal (null when unknown, 0 without expiry).
    - "Dual stack: C(subnet_v6), C(gateway_v6), C(bip_v6) (as C(subnet), C(gateway), C(bip)),
      C(public_ipv6), C(backend_v6_data), C(vtep_mac_v6) and C(network_v6) (the config's
      C(IPv6Network)); C('') or null without IPv6."
    - C(lease_id) is the etcd lease in hex as etcdctl prints it (null in check mode for a new lease).
  returned: always
  type: dict
  sample:
    key: /coreos.com/network/subnets/100.64.1.0-24
    subnet: 100.64.1.0/24
    gateway: 100.64.1.1
    bip: 100.64.1.1/24
    prefixlen: 24
    network: 100.64.0.0/16
    public_ip: 198.18.0.11
    public_ipv6: null
    backend_type: vxlan
    backend_data: {"VNI": 1, "VtepMAC": "02:5e:10:c4:9a:21"}
    backend_v6_data: null
    vtep_mac: 02:5e:10:c4:9a:21
    vtep_mac_v6: null
    subnet_v6: ''
    gateway_v6: ''
    bip_v6: ''
    network_v6: ''
    lease_id: 694d7ad0c9ac0a0b
    ttl: 86400
    mtu: 1450
    underlay_mtu: 1500
leases:
  description:
    - All leases under C(<prefix>/subnets/) after the run, lowest subnet first, the host's own included.
    - Each has C(key), C(subnet), C(gateway), C(bip), C(prefixlen), C(public_ip),
      C(public_ipv6), C(backend_type), C(backend_data), C(vtep_mac) (null unless vxlan), C(lease_id)
      and, for dual stack, C(subnet_v6), C(gateway_v6), C(bip_v6), C(backend_v6_data) and C(vtep_mac_v6);
      C(invalid=true) marks a value that is not flannel's JSON.
  returned: always
  type: list
  elements: dict
  sample:
    - key: /coreos.com/network/subnets/100.64.1.0-24
      subnet: 100.64.1.0/24
      gateway: 100.64.1.1
      bip: 100.64.1.1/24
      prefixlen: 24
      public_ip: 198.18.0.11
      public_ipv6: 2001:db8:65::11
      backend_type: vxlan
      backend_data: {"VNI": 1, "VtepMAC": "02:5e:10:c4:9a:21"}
      backend_v6_data: {"VNI": 1, "VtepMAC": "02:7a:33:01:5c:e0"}
      vtep_mac: 02:5e:10:c4:9a:21
      vtep_mac_v6: 02:7a:33:01:5c:e0
      subnet_v6: 2001:db8:165:1::/64
      gateway_v6: 2001:db8:165:1::1
      bip_v6: 2001:db8:165:1::1/64
      lease_id: 694d7ad0c9ac0a0b
config:
  description: The effective network config (see M(crosshost.network.flannel_network_config)); null if there is none.
  returned: always
  type: dict
  sample: {"network": "100.64.0.0/16", "subnet_len": 24, "subnet_min": "100.64.1.0", "subnet_max": "100.64.255.0", "backend_type": "vxlan"}
removed:
  description: Leases deleted by the run (the host's extra or old leases, pruned ones, or released ones).
  returned: always
  type: list
  elements: dict
renewed:
  description: Whether the host's etcd lease was renewed (keepalive) by this run.
  returned: always
  type: bool
commands:
  description: The etcd writes done (or, in check mode, that would be done); renewals are not listed.
  returned: always
  type: list
  elements: str
  sample:
    - >-
      create /coreos.com/network/subnets/100.64.1.0-24
      {"PublicIP":"198.18.0.11","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"02:5e:10:c4:9a:21"}} ttl=86400
'''

import ipaddress
import json

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.crosshost.network.plugins.module_utils._etcd import (
    ETCD_ARGUMENT_SPEC,
    ETCD_REQUIRED_TOGETHER,
    EtcdClient,
    EtcdError,
)
from ansible_collections.crosshost.network.plugins.module_utils._flannel import (
    DEFAULT_LEASE_TTL,
    DEFAULT_PREFIX,
    FlannelError,
    backend_data,
    check_subnet,
    check_subnet_v6,
    choose,
    choose_v6,
    config_key,
    default_vtep_mac,
    dumps,
    NO_IPV4,
    free_subnets,
    free_subnets_v6,
    holder_of,
    json_equal,
    lease_document,
    lease_info,
    lease_key,
    lease_order,
    lease_subnet,
    no_free_subnet,
    normalize_mac,
    normalize_prefix,
    parse_config_text,
    parse_lease,
    parse_leases,
    public_view,
    subnets_prefix,
)
from ansible_collections.crosshost.network.plugins.module_utils._subnets import SubnetError, parse_address, stable_mac


class LeaseRun:
    """One module run: read config and leases, decide, write, report."""

    def __init__(self, module, client, prefix):
        self.module = module
        self.client = client
        self.prefix = prefix
        self.check = module.check_mode
        self.commands = []
        self.removed = []
        self.moved = set()  # keys the host's lease moved away from
        self.renewed = False
        self.ttl_left = None
        self.config = None
        self.leases = []
        self.before = []

    # ---- reading -------------------------------------------------------------------
    def read(self, need_config):
        kv = self.client.get(config_key(self.prefix))
        if kv is None:
            if need_config:
                raise FlannelError('flannel config not found at %s: write it first (crosshost.network.flannel_network_config)'
                                   % config_key(self.prefix))
        else:
            self.config = parse_config_text(kv['value'], config_key(self.prefix))
        self.leases = parse_leases(self.client.range(subnets_prefix(self.prefix), prefix=True), self.prefix)
        self.before = list(self.leases)

    # ---- writing -------------------------------------------------------------------
    def remove(self, lease, why):
        kv = lease['_kv']
        self.commands.append('delete %s (%s)' % (lease['key'], why))
        self.removed.append(public_view(lease))
        if not self.check:
            ok, current = self.client.delete_if(lease['key'], kv['mod_revision'])
            if not ok and current is not None:
                self.module.warn('lease %s changed while deleting it; left as it is now: %s' % (lease['key'], current['value']))
            if kv['lease'] and ok:
                self.client.lease_revoke(kv['lease'])

    def grant(self, ttl):
        return self.client.lease_grant(ttl) if ttl and not self.check else 0

    def renew(self, lease, ttl):
        """Keep the host's lease alive; returns False if its etcd lease has expired."""
        lease_id = lease['_kv']['lease']
        if not ttl or not lease_id:
            return True
        if self.check:
            remaining, granted = self.client.lease_ttl(lease_id)
        else:
            granted = remaining = self.client.lease_keepalive(lease_id)
            self.renewed = remaining > 0
        if remaining <= 0:
            return False
        self.ttl_left = granted
        return True

    def update(self, lease, value, ttl):
        """Rewrite the host's own lease (new value, or a new TTL) without losing the key."""
        kv = lease['_kv']
        same_value = False
        try:
            same_value = json_equal(json.loads(kv['value']), json.loads(value))
        except ValueError:
            pass
        new_ttl = bool(ttl) and (not kv['lease'] or self.ttl_left != ttl)
        drop_ttl = not ttl and kv['lease']
        if same_value and not new_ttl and not drop_ttl:
            return lease
        self.commands.append('put %s %s ttl=%d' % (lease['key'], value, ttl))
        lease_id = kv['lease'] if ttl and not new_ttl else 0
        if new_ttl:
            lease_id = self.grant(ttl)
            self.ttl_left = ttl
        if drop_ttl:
            self.ttl_left = 0
        if not self.check:
            ok, current = self.client.replace(lease['key'], value, kv['mod_revision'], lease_id)
            if not ok:
                raise FlannelError('lease %s changed while updating it (now: %s); run again'
                                   % (lease['key'], current['value'] if current else 'deleted'))
            if kv['lease'] and kv['lease'] != lease_id:
                self.client.lease_revoke(kv['lease'])
        return self.local_lease(lease['key'], value, lease_id)

    def create(self, candidates, value, ttl, pinned):
        """Take the first candidate (IPv4 subnet, IPv6 subnet) nobody has taken meanwhile (one txn per try)."""
        lease_id = self.grant(ttl)
        for subnet, subnet_v6 in candidates:
            key = lease_key(self.prefix, subnet, subnet_v6)
            if self.check:
                self.commands.append('create %s %s ttl=%d' % (key, value, ttl))
                self.ttl_left = ttl
                return self.local_lease(key, value, 0)
            ok, current = self.client.create(key, value, lease_id)
            if ok:
                self.commands.append('create %s %s ttl=%d' % (key, value, ttl))
                self.ttl_left = ttl
                return self.local_lease(key, value, lease_id)
            if pinned:
                if lease_id:
                    self.client.lease_revoke(lease_id)
                holder = parse_lease(current, self.prefix) if current else None
                raise FlannelError('%ssubnet %s is already leased to %s (key %s): release it there first, or pin another subnet'
                                   % ('IPv6 ' if subnet == NO_IPV4 else '', subnet_v6 if subnet == NO_IPV4 else subnet,
                                      holder_of(holder) if holder else 'another host', key))
        if lease_id:
            self.client.lease_revoke(lease_id)
        raise FlannelError('%s (leases of removed hosts linger until their TTL runs out: prune them with prune/known_public_ips)'
                           % no_free_subnet(self.config, 4 if self.config.enable_ipv4 else 6))

    def move(self, lease, key, value, ttl):
        """The host's lease under a new key (IPv6 turned on or off, or a new IPv6 subnet): one txn."""
        kv = lease['_kv']
        lease_id = kv['lease'] if ttl and kv['lease'] else self.grant(ttl)
        if lease_id != kv['lease'] or not ttl:
            self.ttl_left = ttl
        self.commands.append('move %s -> %s %s ttl=%d' % (lease['key'], key, value, ttl))
        self.moved.add(lease['key'])
        if not self.check:
            ok, current = self.client.move(lease['key'], kv['mod_revision'], key, value, lease_id)
            if not ok:
                if lease_id and lease_id != kv['lease']:
                    self.client.lease_revoke(lease_id)
                holder = parse_lease(current, self.prefix) if current else None
                raise FlannelError('lease %s could not move to %s (%s); run again'
                                   % (lease['key'], key, 'held by %s' % (holder_of(holder) if holder else 'another host')
                                      if current else 'it changed meanwhile'))
        return self.local_lease(key, value, lease_id)

    def local_lease(self, key, value, lease_id):
        kv = dict(key=key, value=value, create_revision=0, mod_revision=0, version=0, lease=lease_id)
        lease = parse_lease(kv, self.prefix)
        lease['_kv'] = kv
        return lease

    # ---- the states ----------------------------------------------------------------
    def present(self, public_ip, pin, preferred, mac, ttl, v6):
        config = self.config
        v4 = config.enable_ipv4
        if not v4 and pin:
            raise FlannelError('subnet %s is given, but the flannel config is IPv6 only (EnableIPv4 false): its leases have no IPv4 '
                               'subnet (pin subnet_v6 instead)' % pin)
        if v4 and not public_ip:
            raise FlannelError('public_ip is required: the flannel config has an IPv4 Network (EnableIPv4), and peers send to the PublicIP of every lease')
        pinned = check_subnet(pin, config, 'subnet') if pin else None
        wish = self.wish(check_subnet, preferred, 'preferred_subnet') if v4 and not pinned else None
        pinned_v6 = check_subnet_v6(v6['subnet'], config) if v6['subnet'] else None
        wish_v6 = self.wish(check_subnet_v6, v6['preferred'], 'preferred_subnet_v6') if config.enable_ipv6 and not pinned_v6 else None
        if config.enable_ipv6 and not v6['public_ip']:
            raise FlannelError('public_ipv6 is required: the flannel config enables IPv6 (EnableIPv6), and peers need '
                               'the PublicIPv6 and BackendV6Data of every lease')
        public_ipv6, data, data_v6 = None, None, None
        if v4:
            data = backend_data(config.backend_type, config.vni, mac or default_vtep_mac(config.network, public_ip))
        if config.enable_ipv6:
            public_ipv6 = v6['public_ip']
            data_v6 = backend_data(config.backend_type, config.vni, v6['vtep_mac'] or stable_mac(config.ipv6_network, public_ipv6))
        value = dumps(lease_document(public_ip if v4 else None, config.backend_type, data, public_ipv6, data_v6))
        # The host's own lease is the one with its PublicIP; IPv6 only, with its PublicIPv6
        # (every IPv6-only lease has PublicIP 0.0.0.0).
        who, me = ('public_ip', str(public_ip)) if v4 else ('public_ipv6', public_ipv6)

        plan = choose(config, self.leases, me, pinned, wish, who)
        own = plan['keep']
        if own is not None and not self.renew(own, ttl):
            # Its etcd lease expired between our read and the keepalive: the key is gone.
            plan = dict(keep=None, want=lease_subnet(own) if v4 else None, remove=[x for x in plan['remove'] if x is not own])
            self.leases = [x for x in self.leases if x is not own]
            own = None
        subnet_v6 = choose_v6(config, self.leases, me, own, pinned_v6, wish_v6, who)
        if own is not None:
            key = lease_key(self.prefix, lease_subnet(own), subnet_v6)
            own = self.update(own, value, ttl) if key == own['key'] else self.move(own, key, value, ttl)
        elif not v4:
            # The IPv4 part is always the empty subnet: the IPv6 subnets are the candidates.
            others = [x for x in self.leases if x[who] != me]
            rest = () if pinned_v6 else (s for s in free_subnets_v6(config, others) if s != subnet_v6)
            own = self.create(((NO_IPV4, s) for s in _chain([subnet_v6], rest)), value, ttl, pinned_v6 is not None)
        else:
            if pinned is not None:
                candidates = [pinned]
            else:
                first = [plan['want']] if plan['want'] is not None else []
                candidates = _chain(first, free_subnets(config, self.leases, skip=first))
            own = self.create(((s, subnet_v6) for s in candidates), value, ttl, pinned is not None)
        for lease in plan['remove']:
            self.remove(lease, 'another lease of %s' % me)
        if not ttl:
            self.ttl_left = 0
        return own

    def wish(self, check, value, what):
        """A preferred subnet that fits the config, else None (with a warning)."""
        if not value:
            return None
        try:
            return check(value, self.config, what)
        except FlannelError as exc:
            self.module.warn('%s; taking a free subnet instead' % exc)
            return None

    def absent(self, public_ip, subnet, public_ipv6=None):
        targets = []
        if subnet:
            try:
                net = ipaddress.ip_network(str(subnet).strip(), strict=True)
                if net.version != 4:
                    raise ValueError(subnet)
            except ValueError:
                raise FlannelError('subnet %r is not a valid IPv4 subnet (e.g. 100.64.7.0/24)' % (subnet,))
            for lease in self.leases:
                if lease['subnet'] == str(net):
                    if public_ip and lease['public_ip'] != public_ip:
                        raise FlannelError('subnet %s is leased to %s, not to %s: not deleted' % (net, lease['public_ip'], public_ip))
                    targets.append(lease)
        else:
            # IPv6-only leases are the host's by their PublicIPv6.
            targets = [lease for lease in self.leases if (public_ip and lease['public_ip'] == public_ip)
                       or (public_ipv6 and lease['public_ipv6'] == public_ipv6)]
        for lease in targets:
            self.remove(lease, 'released')

    def prune(self, keep_ips, own):
        for lease in self.leases:
            if lease['public_ip'] in keep_ips or lease['public_ipv6'] in keep_ips or (own is not None and lease['key'] == own['key']):
                continue
            if any(gone['key'] == lease['key'] for gone in self.removed):
                continue
            self.remove(lease, 'pruned: %s is not a known host' % (lease['public_ip'] or lease['public_ipv6'] or 'invalid lease'))

    def after(self, own):
        """Leases after the run: read again after real writes, else computed."""
        if self.commands and not self.check:
            return parse_leases(self.client.range(subnets_prefix(self.prefix), prefix=True), self.prefix)
        gone = set(lease['key'] for lease in self.removed) | self.moved
        leases = [lease for lease in self.leases if lease['key'] not in gone and (own is None or lease['key'] != own['key'])]
        if own is not None:
            leases.append(own)
        leases.sort(key=lease_order)
        return leases


def known_address(value):
    """A known_public_ips item (a PublicIP, or the PublicIPv6 of an IPv6-only host) -> its canonical text."""
    try:
        return str(parse_address(value, what='known_public_ips item'))
    except SubnetError:
        return parse_address_v6(value, 'known_public_ips item')


def parse_address_v6(value, what='public_ipv6'):
    """public_ipv6 -> its canonical text; a unicast IPv6 address other hosts can reach, or FlannelError."""
    try:
        address = ipaddress.IPv6Address(str(value).strip())
    except ValueError:
        raise FlannelError('%s %r is not a valid IPv6 address' % (what, value))
    if address.is_multicast or address.is_link_local or address.is_loopback or address.is_unspecified:
        raise FlannelError('%s %s is not a unicast address other hosts can reach (multicast, link-local, '
                           'loopback or unspecified)' % (what, address))
    return str(address)


# etcd raises shorter TTLs to its own minimum (a few seconds), which would make every run
# see a "different" TTL and rewrite the lease.
MIN_TTL = 10


def _chain(first, rest):
    yield from first
    yield from rest


def diff_text(leases):
    return ''.join('%s %s\n' % (lease['key'], lease['_kv']['value']) for lease in leases)


def main():
    argument_spec = dict(
        public_ip=dict(type='str'),
        subnet=dict(type='str'),
        preferred_subnet=dict(type='str'),
        vtep_mac=dict(type='str'),
        public_ipv6=dict(type='str'),
        subnet_v6=dict(type='str'),
        preferred_subnet_v6=dict(type='str'),
        vtep_mac_v6=dict(type='str'),
        ttl=dict(type='int', default=DEFAULT_LEASE_TTL),
        prune=dict(type='bool', default=False),
        known_public_ips=dict(type='list', elements='str'),
        prefix=dict(type='str', default=DEFAULT_PREFIX),
        state=dict(type='str', default='present', choices=['present', 'absent', 'query']),
    )
    argument_spec.update(ETCD_ARGUMENT_SPEC)
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_together=ETCD_REQUIRED_TOGETHER,
        required_if=[('state', 'present', ('public_ip', 'public_ipv6'), True), ('state', 'absent', ('public_ip', 'subnet', 'public_ipv6'), True),
                     ('prune', True, ('known_public_ips',))],
        supports_check_mode=True,
    )
    params = module.params
    state = params['state']

    # want: everything checked before etcd is contacted.
    try:
        prefix = normalize_prefix(params['prefix'])
        public_ip = str(parse_address(params['public_ip'], what='public_ip')) if params['public_ip'] else None
        keep_ips = set(known_address(ip) for ip in params['known_public_ips'] or [])
        mac = normalize_mac(params['vtep_mac']) if params['vtep_mac'] else None
        v6 = dict(public_ip=parse_address_v6(params['public_ipv6']) if params['public_ipv6'] else None,
                  vtep_mac=normalize_mac(params['vtep_mac_v6'], 'vtep_mac_v6') if params['vtep_mac_v6'] else None,
                  subnet=params['subnet_v6'], preferred=params['preferred_subnet_v6'])
        if params['ttl'] != 0 and params['ttl'] < MIN_TTL:
            raise FlannelError('ttl %d is not valid: at least %d seconds, or 0 for no expiry' % (params['ttl'], MIN_TTL))
        if params['prune'] and state == 'query':
            raise FlannelError('prune needs state present or absent (state query never changes anything)')
        client = EtcdClient.from_params(params)
    except (FlannelError, SubnetError, EtcdError) as exc:
        module.fail_json(msg=str(exc))
    keep_ips.update(ip for ip in (public_ip, v6['public_ip']) if ip)

    run = LeaseRun(module, client, prefix)
    own = None
    try:
        run.read(need_config=state == 'present')
        if state == 'present':
            own = run.present(public_ip, params['subnet'], params['preferred_subnet'], mac, params['ttl'], v6)
        elif state == 'absent':
            run.absent(public_ip, params['subnet'], v6['public_ip'])
        if params['prune']:
            run.prune(keep_ips, own)
        leases = run.after(own)
        if state == 'query' and (public_ip or v6['public_ip']):
            own = next((lease for lease in leases if (public_ip and lease['public_ip'] == public_ip)
                        or (v6['public_ip'] and lease['public_ipv6'] == v6['public_ip'])), None)
        elif own is not None:
            own = next((lease for lease in leases if lease['key'] == own['key']), own)
    except (FlannelError, SubnetError) as exc:
        module.fail_json(msg=str(exc), commands=run.commands)
    except EtcdError as exc:
        module.fail_json(msg=str(exc), commands=run.commands)

    result = dict(
        changed=bool(run.commands),
        lease=lease_info(own, run.config, run.ttl_left) if own is not None and run.config is not None else (public_view(own) if own else None),
        leases=[public_view(lease) for lease in leases],
        config=run.config.summary() if run.config is not None else None,
        removed=run.removed,
        renewed=run.renewed,
        commands=run.commands,
    )
    if module._diff:
        result['diff'] = dict(before_header=subnets_prefix(prefix), after_header=subnets_prefix(prefix),
                              before=diff_text(run.before), after=diff_text(leases))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
