# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""flannel's data in etcd: the network config and the per-host subnet leases.

Pure functions (no etcd calls) shared by ``crosshost.network.flannel_network_config``
and ``crosshost.network.flannel_lease``, so that what we write is exactly what flanneld
(v0.18+, etcd v3 API) reads and writes:

* config: ``<prefix>/config``, a JSON object (``Network``, ``SubnetLen``, ``SubnetMin``,
  ``SubnetMax``, ``EnableIPv6``, ``IPv6Network``, ``Backend`` ...). Like Go's JSON
  decoder, field names are matched case-insensitively when reading;
* leases: ``<prefix>/subnets/<subnet ip>-<len>``, value
  ``{"PublicIP":"198.18.0.11","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"02:.."}}``.

Subnet arithmetic comes from ``_subnets`` (the controller-side plan uses the same).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import re

from ansible_collections.crosshost.network.plugins.module_utils._subnets import (
    SubnetError,
    default_subnet_len,
    parse_network,
    stable_mac,
    subnet_at,
    subnet_count,
    subnet_entry,
    subnet_index,
    validate_subnet_len,
)

DEFAULT_PREFIX = '/coreos.com/network'
DEFAULT_BACKEND = 'vxlan'
DEFAULT_VNI = 1
DEFAULT_LEASE_TTL = 24 * 3600  # flanneld's lease time
DEFAULT_IPV6_SUBNET_LEN = 64
MAX_IPV6_SUBNET_LEN = 126
# flanneld's backend when a config has no Backend.Type at all (a classic trap).
IMPLICIT_BACKEND = 'udp'
BACKEND_TYPES = ('alloc', 'ali-vpc', 'aws-vpc', 'extension', 'gce', 'host-gw', 'ipip', 'ipsec',
                 'tencent-vpc', 'udp', 'vxlan', 'wireguard')
# Bytes of encapsulation each backend adds (flannel's MTU = underlay MTU - overhead).
BACKEND_OVERHEAD = {'vxlan': 50, 'udp': 28, 'ipip': 20, 'wireguard': 80, 'host-gw': 0, 'alloc': 0}
# Module option -> Backend key, and the backends that have the key.
BACKEND_KEYS = (
    ('vni', 'VNI', ('vxlan',)),
    ('port', 'Port', ('vxlan', 'udp')),
    ('gbp', 'GBP', ('vxlan',)),
    ('direct_routing', 'DirectRouting', ('vxlan', 'ipip')),
    ('learning', 'Learning', ('vxlan',)),
    ('mtu', 'MTU', None),  # underlay MTU: we use it for every backend's MTU info
)
_PREFIX_RE = re.compile(r'^(/[^/\s]+)+$')
_LEASE_KEY_RE = re.compile(r'^(\d+\.\d+\.\d+\.\d+)-(\d+)(?:&([0-9a-fA-F:.]+)-(\d+))?$')
_MAC_RE = re.compile(r'^[0-9a-f]{2}(:[0-9a-f]{2}){5}$')


class FlannelError(ValueError):
    """A value flannel would reject, or that we cannot work with; the message names it."""


# ---- keys ---------------------------------------------------------------------------
def normalize_prefix(prefix):
    """``/coreos.com/network/`` -> ``/coreos.com/network``; must be an absolute key path."""
    text = str(prefix or '').strip().rstrip('/')
    if not _PREFIX_RE.match(text):
        raise FlannelError('prefix %r is not valid: expected a key path such as %s' % (prefix, DEFAULT_PREFIX))
    return text


def config_key(prefix):
    return prefix + '/config'


def subnets_prefix(prefix):
    return prefix + '/subnets/'


def lease_key(prefix, subnet):
    """flannel's key of a lease: ``<prefix>/subnets/100.64.3.0-24``."""
    return '%s%s-%d' % (subnets_prefix(prefix), subnet.network_address, subnet.prefixlen)


def parse_lease_key(key, prefix):
    """A lease key -> its IPv4 subnet (dual-stack keys too), or None if it is not one."""
    name = key[len(subnets_prefix(prefix)):] if key.startswith(subnets_prefix(prefix)) else None
    match = _LEASE_KEY_RE.match(name or '')
    if not match:
        return None
    try:
        return ipaddress.IPv4Network('%s/%s' % (match.group(1), match.group(2)))
    except ValueError:
        return None


# ---- JSON helpers -------------------------------------------------------------------
def _canonical(value):
    """A JSON value in a form where true != 1 and 1 == 1.0 (for semantic comparison)."""
    if isinstance(value, bool):
        return ('bool', value)
    if isinstance(value, (int, float)):
        return ('num', value)
    if isinstance(value, dict):
        return ('obj', tuple(sorted((k, _canonical(v)) for k, v in value.items())))
    if isinstance(value, list):
        return ('arr', tuple(_canonical(v) for v in value))
    return ('val', value)


def json_equal(first, second):
    """Same JSON document, whatever the key order, spacing or number spelling."""
    return _canonical(first) == _canonical(second)


def dumps(value):
    """Compact JSON, keys in the order given (as flanneld writes its own documents)."""
    return json.dumps(value, separators=(',', ':'))


def _get(doc, name):
    """Field of a JSON object, matched case-insensitively as Go's encoding/json does."""
    if name in doc:
        return doc[name]
    lower = name.lower()
    for key, value in doc.items():
        if key.lower() == lower:
            return value
    return None


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


# ---- the network config -------------------------------------------------------------
def _bound(value, network, subnet_len, field):
    """SubnetMin/SubnetMax: the address of an aligned subnet inside Network -> its index."""
    text = str(value).strip()
    try:
        address = ipaddress.IPv4Address(text.split('/', 1)[0])
        if '/' in text and int(text.split('/', 1)[1]) != subnet_len:
            raise ValueError(text)
    except ValueError:
        raise FlannelError('%s %r is not an IPv4 address of a /%d subnet' % (field, value, subnet_len))
    subnet = ipaddress.IPv4Network((address, subnet_len), strict=False)
    if address not in network:
        raise FlannelError('%s %s is outside Network %s' % (field, address, network))
    if subnet.network_address != address:
        raise FlannelError('%s %s is not on a /%d boundary (SubnetLen): did you mean %s?' % (field, address, subnet_len, subnet.network_address))
    return subnet_index(network, subnet_len, subnet)


class NetworkConfig:
    """A validated flannel network config, with flannel's defaults filled in."""

    def __init__(self, doc, where='config'):
        if not isinstance(doc, dict):
            raise FlannelError('%s is not a JSON object: %r' % (where, doc))
        self.doc = doc
        enable_ipv4 = _get(doc, 'EnableIPv4')
        if enable_ipv4 is False:
            raise FlannelError('EnableIPv4 false (IPv6-only) is not supported: crosshost.network needs an IPv4 Network')
        value = _get(doc, 'Network')
        if value is None or value == '':
            raise FlannelError('Network is missing: it is mandatory (an IPv4 CIDR such as 100.64.0.0/16)')
        try:
            self.network = parse_network(value, what='Network')
        except SubnetError as exc:
            raise FlannelError(exc.msg)

        length = _get(doc, 'SubnetLen')
        if length is None or length == 0:
            length = default_subnet_len(self.network)
            if length > 30:
                raise FlannelError('Network %s is too small: flannel would cut it into /%d subnets (SubnetLen), and at most /30 work'
                                   % (self.network, length))
        elif not _is_int(length):
            raise FlannelError('SubnetLen %r is not a number' % (length,))
        try:
            self.subnet_len = validate_subnet_len(self.network, length, what='SubnetLen')
        except SubnetError as exc:
            raise FlannelError(exc.msg)

        self.first, self.last = 1, subnet_count(self.network, self.subnet_len) - 1
        if _get(doc, 'SubnetMin') not in (None, ''):
            self.first = _bound(_get(doc, 'SubnetMin'), self.network, self.subnet_len, 'SubnetMin')
        if _get(doc, 'SubnetMax') not in (None, ''):
            self.last = _bound(_get(doc, 'SubnetMax'), self.network, self.subnet_len, 'SubnetMax')
        if self.first > self.last:
            raise FlannelError('SubnetMin %s is above SubnetMax %s' % (self.subnet(self.first).network_address, self.subnet(self.last).network_address))

        backend = _get(doc, 'Backend')
        if backend is None:
            backend = {}
        if not isinstance(backend, dict):
            raise FlannelError('Backend %r is not a JSON object' % (backend,))
        self.backend = backend
        self.backend_type = _get(backend, 'Type') or IMPLICIT_BACKEND
        if self.backend_type not in BACKEND_TYPES:
            raise FlannelError('Backend.Type %r is not a flannel backend (one of %s)' % (self.backend_type, ', '.join(BACKEND_TYPES)))
        self.vni = self._backend_int('VNI', DEFAULT_VNI if self.backend_type == 'vxlan' else None, 0, 16777215)
        self._backend_int('Port', None, 0, 65535)
        self.mtu = self._backend_int('MTU', None, 68 + BACKEND_OVERHEAD.get(self.backend_type, 0), 65535)
        for name in ('GBP', 'DirectRouting', 'Learning'):
            if _get(backend, name) is not None and not isinstance(_get(backend, name), bool):
                raise FlannelError('Backend.%s %r is not true or false' % (name, _get(backend, name)))

        self.enable_ipv6 = _get(doc, 'EnableIPv6')
        if self.enable_ipv6 is not None and not isinstance(self.enable_ipv6, bool):
            raise FlannelError('EnableIPv6 %r is not true or false' % (self.enable_ipv6,))
        self.enable_ipv6 = bool(self.enable_ipv6)
        self.ipv6_network = None
        self.ipv6_subnet_len = None
        if self.enable_ipv6 or _get(doc, 'IPv6Network'):
            self._check_ipv6(_get(doc, 'IPv6Network'), _get(doc, 'IPv6SubnetLen'))

    def _backend_int(self, name, default, low, high):
        value = _get(self.backend, name)
        if value is None:
            return default
        if not _is_int(value) or not low <= value <= high:
            raise FlannelError('Backend.%s %r is not valid: an integer from %d to %d' % (name, value, low, high))
        return value

    def _check_ipv6(self, value, length):
        if not value:
            raise FlannelError('EnableIPv6 is true but IPv6Network is missing')
        try:
            net = ipaddress.ip_network(str(value), strict=True)
        except ValueError:
            raise FlannelError('IPv6Network %r is not a valid IPv6 CIDR (host bits must be zero)' % (value,))
        if net.version != 6:
            raise FlannelError('IPv6Network %r is not an IPv6 network' % (value,))
        if length is None or length == 0:
            length = DEFAULT_IPV6_SUBNET_LEN
        if not _is_int(length) or not net.prefixlen < length <= MAX_IPV6_SUBNET_LEN:
            raise FlannelError('IPv6SubnetLen %r is not valid for IPv6Network %s: longer than /%d and at most /%d'
                               % (length, net, net.prefixlen, MAX_IPV6_SUBNET_LEN))
        self.ipv6_network = net
        self.ipv6_subnet_len = length

    def subnet(self, index):
        return subnet_at(self.network, self.subnet_len, index)

    def fits(self, subnet):
        """True if a lease's subnet is one this config hands out (length, range)."""
        if subnet is None or subnet.prefixlen != self.subnet_len or not subnet.subnet_of(self.network):
            return False
        return self.first <= subnet_index(self.network, self.subnet_len, subnet) <= self.last

    def overlay_mtu(self):
        """The MTU containers get (underlay MTU - encapsulation), if Backend.MTU is set."""
        if self.mtu is None:
            return None
        return self.mtu - BACKEND_OVERHEAD.get(self.backend_type, 0)

    def summary(self):
        """The effective config (defaults filled in), as modules return it."""
        return dict(
            network=str(self.network),
            subnet_len=self.subnet_len,
            subnet_min=str(self.subnet(self.first).network_address),
            subnet_max=str(self.subnet(self.last).network_address),
            subnet_count=self.last - self.first + 1,
            backend_type=self.backend_type,
            backend=self.backend,
            vni=self.vni,
            mtu=self.mtu,
            enable_ipv6=self.enable_ipv6,
            ipv6_network=str(self.ipv6_network) if self.ipv6_network else None,
            ipv6_subnet_len=self.ipv6_subnet_len,
        )


def parse_config_text(text, key):
    """The stored config (JSON text) -> :class:`NetworkConfig`; errors name the key."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise FlannelError('the flannel config at %s is not valid JSON (%s): %r' % (key, exc, text[:200]))
    try:
        return NetworkConfig(doc)
    except FlannelError as exc:
        raise FlannelError('the flannel config at %s is not valid: %s' % (key, exc))


def build_config(params):
    """Module options -> the config document to store, validated as flanneld would.

    Only what the user gave is written (plus ``Backend.Type``, always: without it
    flanneld silently uses udp). Raises :class:`FlannelError` naming the field.
    """
    doc = {}
    network = params.get('network')
    doc['Network'] = str(network).strip() if network is not None else None
    # 0 means "flannel's default", as in flanneld's own config: not written.
    if params.get('subnet_len'):
        doc['SubnetLen'] = params['subnet_len']
    for option, field in (('subnet_min', 'SubnetMin'), ('subnet_max', 'SubnetMax')):
        if params.get(option):
            doc[field] = str(params[option]).strip().split('/', 1)[0]
    if params.get('enable_ipv6') is not None:
        doc['EnableIPv6'] = params['enable_ipv6']
    if params.get('ipv6_network'):
        doc['IPv6Network'] = str(params['ipv6_network']).strip()
    if params.get('ipv6_subnet_len'):
        doc['IPv6SubnetLen'] = params['ipv6_subnet_len']
    backend_params = params.get('backend') or {}
    backend_type = backend_params.get('type') or DEFAULT_BACKEND
    backend = {'Type': backend_type}
    for option, field, types in BACKEND_KEYS:
        value = backend_params.get(option)
        if value is None:
            continue
        if types is not None and backend_type not in types:
            raise FlannelError('Backend.%s (backend.%s=%r) is not an option of the %s backend (only of %s)'
                               % (field, option, value, backend_type, ', '.join(types)))
        backend[field] = value
    doc['Backend'] = backend
    # Validate exactly what will be stored; SubnetMin/Max given as CIDRs were cut to addresses.
    for option, field in (('subnet_min', 'SubnetMin'), ('subnet_max', 'SubnetMax')):
        if params.get(option) and '/' in str(params[option]):
            probe = dict(doc)
            probe[field] = str(params[option]).strip()
            NetworkConfig(probe)
    return doc, NetworkConfig(doc)


# ---- leases -------------------------------------------------------------------------
def normalize_mac(mac, what='vtep_mac'):
    text = str(mac).strip().lower().replace('-', ':')
    if not _MAC_RE.match(text):
        raise FlannelError('%s %r is not a valid MAC address (expected xx:xx:xx:xx:xx:xx)' % (what, mac))
    if int(text[:2], 16) & 1:
        raise FlannelError('%s %s is a multicast MAC address: a VTEP needs a unicast one' % (what, text))
    return text


def default_vtep_mac(network, public_ip):
    """The VTEP MAC we derive when none is given: stable for (network, public IP)."""
    return stable_mac(network, public_ip)


def backend_data(backend_type, vni=None, vtep_mac=None):
    """flanneld's BackendData: ``{"VNI":1,"VtepMAC":"..."}`` for vxlan, null otherwise."""
    if backend_type == 'vxlan':
        return {'VNI': DEFAULT_VNI if vni is None else vni, 'VtepMAC': vtep_mac}
    return None


def lease_document(public_ip, backend_type, data, public_ipv6=None):
    """A lease value in flanneld's field order."""
    return {'PublicIP': str(public_ip), 'PublicIPv6': public_ipv6, 'BackendType': backend_type, 'BackendData': data}


def parse_lease(kv, prefix):
    """A key-value under ``<prefix>/subnets/`` -> lease dict, or None if not a lease key.

    Leases whose value is not flannel's JSON still hold their subnet (``invalid`` true).
    """
    subnet = parse_lease_key(kv['key'], prefix)
    if subnet is None:
        return None
    try:
        doc = json.loads(kv['value'])
        if not isinstance(doc, dict):
            raise ValueError(kv['value'])
        invalid = False
    except ValueError:
        doc, invalid = {}, True
    data = _get(doc, 'BackendData')
    public_ip = _get(doc, 'PublicIP')
    lease = dict(
        key=kv['key'],
        subnet=str(subnet),
        public_ip=public_ip if isinstance(public_ip, str) else None,
        public_ipv6=_get(doc, 'PublicIPv6'),
        backend_type=_get(doc, 'BackendType'),
        backend_data=data,
        vtep_mac=_get(data, 'VtepMAC') if isinstance(data, dict) else None,
        lease_id=kv.get('lease') and '%016x' % kv['lease'] or None,
    )
    if invalid:
        lease['invalid'] = True
    lease.update(subnet_entry(subnet))
    return lease


def parse_leases(kvs, prefix):
    """All leases among ``kvs``, lowest subnet first, each with its raw kv in ``_kv``."""
    leases = []
    for kv in kvs:
        lease = parse_lease(kv, prefix)
        if lease is not None:
            lease['_kv'] = kv
            leases.append(lease)
    leases.sort(key=lambda item: ipaddress.IPv4Network(item['subnet']))
    return leases


def public_view(lease):
    """A lease without internal fields, as returned to the user."""
    return dict((k, v) for k, v in lease.items() if not k.startswith('_'))


def check_subnet(value, config, what='subnet'):
    """A requested subnet -> IPv4Network that the config hands out, or FlannelError."""
    text = str(value).strip()
    try:
        subnet = ipaddress.ip_network(text if '/' in text else '%s/%d' % (text, config.subnet_len), strict=False)
    except ValueError:
        raise FlannelError('%s %r is not a valid IPv4 subnet (e.g. %s)' % (what, value, config.subnet(config.first)))
    if subnet.version != 4:
        raise FlannelError('%s %r is not an IPv4 subnet' % (what, value))
    if subnet.prefixlen < config.network.prefixlen or not subnet.subnet_of(config.network):
        raise FlannelError('%s %s is outside the flannel Network %s' % (what, subnet, config.network))
    if subnet.prefixlen != config.subnet_len:
        raise FlannelError('%s %s is a /%d, but the flannel config hands out /%d subnets (SubnetLen)' % (what, subnet, subnet.prefixlen, config.subnet_len))
    if str(subnet.network_address) != text.split('/', 1)[0]:
        raise FlannelError('%s %s is not on a /%d boundary: did you mean %s?' % (what, text, config.subnet_len, subnet))
    if not config.fits(subnet):
        raise FlannelError('%s %s is outside SubnetMin..SubnetMax (%s .. %s) of the flannel config'
                           % (what, subnet, config.subnet(config.first), config.subnet(config.last)))
    return subnet


def free_subnets(config, leases, skip=()):
    """Free subnets of the config, lowest first (a generator: a /8 of /30s stays cheap)."""
    taken = set()
    for lease in leases:
        subnet = ipaddress.IPv4Network(lease['subnet'])
        if subnet.prefixlen == config.subnet_len and subnet.subnet_of(config.network):
            taken.add(subnet_index(config.network, config.subnet_len, subnet))
    taken.update(subnet_index(config.network, config.subnet_len, s) for s in skip)
    for index in range(config.first, config.last + 1):
        if index not in taken:
            yield config.subnet(index)


def choose(config, leases, public_ip, subnet=None, preferred=None):
    """Decide, from the current leases, what this host should hold (pure).

    Returns ``dict(keep=<lease or None>, want=<IPv4Network or None>, remove=[leases])``:
    ``keep`` is the host's own lease to reuse (renew, maybe update); else ``want`` is the
    first subnet to try to create (None: the lowest free one); ``remove`` are other
    leases carrying this host's PublicIP that must go (duplicates, or leases that no
    longer fit the config, or not the pinned subnet).
    Raises :class:`FlannelError` for a pin held by another host.
    """
    own = [lease for lease in leases if lease['public_ip'] == public_ip]
    by_subnet = dict((lease['subnet'], lease) for lease in leases)
    if subnet is not None:
        holder = by_subnet.get(str(subnet))
        if holder is not None and holder['public_ip'] != public_ip:
            raise FlannelError('subnet %s is already leased to %s (key %s): release it there first, or pin another subnet'
                               % (subnet, holder['public_ip'] or 'an unreadable lease', holder['key']))
        keep = holder
        return dict(keep=keep, want=None if keep else subnet, remove=[lease for lease in own if lease is not keep])
    usable = [lease for lease in own if config.fits(ipaddress.IPv4Network(lease['subnet']))]
    keep = usable[0] if usable else None
    want = None
    if keep is None and preferred is not None and str(preferred) not in by_subnet:
        want = preferred
    return dict(keep=keep, want=want, remove=[lease for lease in own if lease is not keep])


def lease_info(lease, config, ttl=None):
    """The host's lease as returned: the lease plus gateway, MTU info and TTL."""
    info = public_view(lease)
    info.update(network=str(config.network), mtu=config.overlay_mtu(), underlay_mtu=config.mtu, ttl=ttl)
    return info
