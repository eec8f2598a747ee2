#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: flannel_network_config
short_description: Manage flannel's network config in etcd (C(<prefix>/config), etcd v3 API)
version_added: 0.1.0
description:
  - Writes the JSON document that flanneld (0.18 and later, etcd v3 API) and
    M(crosshost.network.flannel_lease) read from C(<prefix>/config), by default
    C(/coreos.com/network/config).
  - Validates the config the way flanneld does before anything is written, and fails
    naming the field and the value flanneld would reject.
  - Compares with the stored document as JSON (key order, spacing and number spelling do
    not matter) and writes it with one C(put) only when it differs.
  - Only the fields you give are stored, plus C(Backend.Type), always (flanneld falls back
    to the slow C(udp) backend when a config has no backend type). RV(effective) shows the
    values flanneld derives (default C(SubnetLen), C(SubnetMin), C(SubnetMax)).
author: crosshost.network contributors (@crosshost)
extends_documentation_fragment:
  - crosshost.network.etcd
options:
  network:
    description:
      - C(Network), the IPv4 CIDR of the whole overlay, for example V(100.64.0.0/16).
      - Host bits must be zero. Required with O(state=present), except for an IPv6-only
        overlay. Empty (or not given) with O(ipv6_network), the module writes C(EnableIPv4=false)
        and no C(Network), flanneld's IPv6-only config.
    type: str
  subnet_len:
    description:
      - C(SubnetLen), the prefix length of each host's subnet.
      - Omitted (or V(0)), flanneld uses 24 when O(network) is a /22 or larger, else the network's
        prefix length + 2. It must be longer than the network's prefix and at most 30.
    type: int
  subnet_min:
    description:
      - C(SubnetMin), the first subnet handed out, as its address (V(100.64.10.0)); a CIDR
        of the subnet (V(100.64.10.0/24)) is accepted and stored as the address.
      - Must be inside O(network) and aligned to O(subnet_len). Omitted, flanneld starts at the
        second subnet of the network.
    type: str
  subnet_max:
    description:
      - C(SubnetMax), the last subnet handed out, as O(subnet_min). Omitted, flanneld uses the
        last subnet of the network. Must not be below O(subnet_min).
    type: str
  backend:
    description:
      - C(Backend), the encapsulation and its options. Options left out are not stored
        (flanneld applies its own defaults).
    type: dict
    default: {}
    suboptions:
      type:
        description:
          - C(Backend.Type). Always stored.
        type: str
        default: vxlan
        choices: [alloc, ali-vpc, aws-vpc, extension, gce, host-gw, ipip, ipsec, tencent-vpc, udp, vxlan, wireguard]
      vni:
        description:
          - C(Backend.VNI), the VXLAN network identifier (0 to 16777215; flanneld's default is 1). vxlan only.
        type: int
      port:
        description:
          - C(Backend.Port), the UDP port (0 = the kernel's 8472 for vxlan; 8285 for udp). vxlan and udp only.
        type: int
      gbp:
        description:
          - C(Backend.GBP), VXLAN Group Based Policy. vxlan only.
        type: bool
      direct_routing:
        description:
          - C(Backend.DirectRouting), route directly (no encapsulation) to hosts on the same
            L2 network. vxlan and ipip only.
        type: bool
      learning:
        description:
          - C(Backend.Learning), let the VXLAN device learn remote MACs. vxlan only.
        type: bool
      mtu:
        description:
          - C(Backend.MTU), the MTU of the underlay interface; the overlay gets it minus the
            encapsulation (50 bytes for vxlan). M(crosshost.network.flannel_lease) returns both.
        type: int
  enable_ipv6:
    description:
      - C(EnableIPv6), dual stack. Requires O(ipv6_network).
      - M(crosshost.network.flannel_lease) then gives every host an IPv6 subnet beside its
        IPv4 one, in flanneld's dual-stack lease format.
    type: bool
  ipv6_network:
    description:
      - C(IPv6Network), the IPv6 CIDR of the overlay, for example V(2001:db8:100::/48). Host
        bits must be zero; at most a /124.
    type: str
  ipv6_subnet_len:
    description:
      - C(IPv6SubnetLen), the prefix length of each host's IPv6 subnet.
      - Omitted (or V(0)), flanneld uses 64 when O(ipv6_network) is a /62 or larger, else the
        network's prefix length + 2. It must be at least the network's prefix + 2 and at most 126.
    type: int
  ipv6_subnet_min:
    description:
      - C(IPv6SubnetMin), the first IPv6 subnet handed out, as its address (V(2001:db8:100:10::));
        a CIDR of the subnet is accepted and stored as the address.
      - Must be inside O(ipv6_network) and aligned to O(ipv6_subnet_len). Omitted, flanneld starts
        at the second subnet of the network.
    type: str
  ipv6_subnet_max:
    description:
      - C(IPv6SubnetMax), the last IPv6 subnet handed out, as O(ipv6_subnet_min). Omitted, flanneld
        uses the last subnet of the network.
    type: str
  prefix:
    description:
      - flannel's etcd prefix (flanneld's C(--etcd-prefix)); the config is C(<prefix>/config).
    type: str
    default: /coreos.com/network
  state:
    description:
      - V(present) writes the config; V(absent) deletes the C(<prefix>/config) key (leases are left alone).
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    description: Reads etcd and reports what would be written; writes nothing.
    support: full
  diff_mode:
    description: Before and after are the stored JSON documents.
    support: full
notes:
  - Changing O(network) or O(subnet_len) while hosts hold leases makes those leases unusable;
    the module warns, and M(crosshost.network.flannel_lease) replaces a host's lease that no
    longer fits on its next run. Running flanneld daemons must be restarted to see a new config.
  - Turning IPv6 on or off (O(enable_ipv6)) changes the key of every lease (the IPv6 subnet is
    part of it); M(crosshost.network.flannel_lease) moves each host's lease to its new key on the
    host's next run, keeping its IPv4 subnet.
seealso:
  - module: crosshost.network.flannel_lease
  - name: flannel configuration
    description: flannel's documentation of the network config.
    link: https://github.com/flannel-io/flannel/blob/master/Documentation/configuration.md
'''

EXAMPLES = r'''
- name: A /16 overlay cut into /24s, VXLAN (written as {"Network":"100.64.0.0/16","Backend":{"Type":"vxlan"}})
  crosshost.network.flannel_network_config:
    endpoints: ['http://198.18.0.11:2379', 'http://198.18.0.12:2379']
    network: 100.64.0.0/16

- name: Explicit subnet range, VNI and underlay MTU, over TLS
  crosshost.network.flannel_network_config:
    endpoints: ['https://etcd1.example.net:2379']
    ca_cert: /etc/crosshost/etcd/ca.pem
    client_cert: /etc/crosshost/etcd/client.pem
    client_key: /etc/crosshost/etcd/client-key.pem
    network: 100.64.0.0/16
    subnet_len: 24
    subnet_min: 100.64.10.0
    subnet_max: 100.64.200.0
    backend:
      type: vxlan
      vni: 1
      mtu: 1500

- name: Dual stack (written as {"Network":"100.64.0.0/16","EnableIPv6":true,"IPv6Network":"2001:db8:100::/48","Backend":{"Type":"vxlan"}})
  crosshost.network.flannel_network_config:
    network: 100.64.0.0/16
    enable_ipv6: true
    ipv6_network: 2001:db8:100::/48

- name: Remove the config
  crosshost.network.flannel_network_config:
    state: absent
'''

RETURN = r'''
key:
  description: The etcd key of the config.
  returned: always
  type: str
  sample: /coreos.com/network/config
config:
  description: The JSON document stored after the run (null when absent).
  returned: always
  type: dict
  sample: {"Network": "100.64.0.0/16", "Backend": {"Type": "vxlan", "VNI": 1}}
effective:
  description:
    - The config with flanneld's defaults filled in (null when absent).
    - C(subnet_count) is the number of subnets between C(subnet_min) and C(subnet_max), both included.
  returned: always
  type: dict
  sample:
    network: 100.64.0.0/16
    subnet_len: 24
    subnet_min: 100.64.1.0
    subnet_max: 100.64.255.0
    subnet_count: 255
    backend_type: vxlan
    backend: {"Type": "vxlan", "VNI": 1}
    vni: 1
    mtu: null
    enable_ipv6: false
    ipv6_network: null
    ipv6_subnet_len: null
    ipv6_subnet_min: null
    ipv6_subnet_max: null
commands:
  description: The etcd writes done (or, in check mode, that would be done).
  returned: always
  type: list
  elements: str
  sample: ['put /coreos.com/network/config {"Network":"100.64.0.0/16","Backend":{"Type":"vxlan"}}']
'''

import json

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.crosshost.network.plugins.module_utils._etcd import (
    ETCD_ARGUMENT_SPEC,
    ETCD_REQUIRED_TOGETHER,
    EtcdClient,
    EtcdError,
)
from ansible_collections.crosshost.network.plugins.module_utils._flannel import (
    BACKEND_TYPES,
    DEFAULT_BACKEND,
    DEFAULT_PREFIX,
    FlannelError,
    build_config,
    config_key,
    dumps,
    json_equal,
    lease_subnet,
    lease_subnet_v6,
    normalize_prefix,
    parse_leases,
    subnets_prefix,
)


def diff_text(doc, raw=None):
    """A stored document as the diff shows it (raw text when it is not JSON)."""
    if doc is None:
        return raw if raw is not None else ''
    return json.dumps(doc, indent=2) + '\n'


def main():
    argument_spec = dict(
        network=dict(type='str'),
        subnet_len=dict(type='int'),
        subnet_min=dict(type='str'),
        subnet_max=dict(type='str'),
        backend=dict(type='dict', default={}, options=dict(
            type=dict(type='str', default=DEFAULT_BACKEND, choices=list(BACKEND_TYPES)),
            vni=dict(type='int'),
            port=dict(type='int'),
            gbp=dict(type='bool'),
            direct_routing=dict(type='bool'),
            learning=dict(type='bool'),
            mtu=dict(type='int'),
        )),
        enable_ipv6=dict(type='bool'),
        ipv6_network=dict(type='str'),
        ipv6_subnet_len=dict(type='int'),
        ipv6_subnet_min=dict(type='str'),
        ipv6_subnet_max=dict(type='str'),
        prefix=dict(type='str', default=DEFAULT_PREFIX),
        state=dict(type='str', default='present', choices=['present', 'absent']),
    )
    argument_spec.update(ETCD_ARGUMENT_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, required_together=ETCD_REQUIRED_TOGETHER,
                           required_if=[('state', 'present', ('network', 'ipv6_network'), True)], supports_check_mode=True)
    params = module.params

    # want: validated before etcd is contacted, so a bad config never gets near it.
    try:
        prefix = normalize_prefix(params['prefix'])
        want, config = build_config(params) if params['state'] == 'present' else (None, None)
        client = EtcdClient.from_params(params)
    except (FlannelError, EtcdError) as exc:
        module.fail_json(msg=str(exc))
    key = config_key(prefix)

    try:
        kv = client.get(key)
        have_raw = kv['value'] if kv else None
        try:
            have = json.loads(have_raw) if kv else None
        except ValueError:
            have = None
        commands = []
        warnings = []
        if want is not None:
            if have_raw is None or have is None or not json_equal(have, want):
                commands.append('put %s %s' % (key, dumps(want)))
                for lease in parse_leases(client.range(subnets_prefix(prefix), prefix=True), prefix):
                    if not (config.fits(lease_subnet(lease)) and config.fits_v6(lease_subnet_v6(lease))):
                        warnings.append('lease %s (of %s) does not fit the new config; flannel_lease replaces it (or moves it to '
                                        'the new key, keeping its IPv4 subnet) on its host\'s next run'
                                        % (lease['key'], lease['public_ip'] or lease['public_ipv6']))
                if not module.check_mode:
                    client.put(key, dumps(want))
        elif kv is not None:
            commands.append('delete %s' % key)
            if not module.check_mode:
                client.delete(key)
    except EtcdError as exc:
        module.fail_json(msg=str(exc), key=key)

    for warning in warnings:
        module.warn(warning)
    after = want if want is not None else None
    result = dict(
        changed=bool(commands),
        key=key,
        config=after if params['state'] == 'present' else None,
        effective=config.summary() if config is not None else None,
        commands=commands,
    )
    if module._diff:
        result['diff'] = dict(before_header=key, after_header=key,
                              before=diff_text(have, have_raw), after=diff_text(after))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
