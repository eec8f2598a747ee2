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
  ``{"PublicIP":"198.18.0.11","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"02:.."}}``;
  dual stack (``EnableIPv6``): ``<prefix>/subnets/100.64.1.0-24&2001:db8:165:1::-64``, the value
  with ``"PublicIPv6":"2001:db8:65::11"`` and ``"BackendV6Data":{"VNI":1,"VtepMAC":"02:.."}``
  (the MAC of the IPv6 VXLAN device);
  IPv6 only (``EnableIPv4`` false): flanneld's key still starts with an IPv4 part, its empty
  subnet: ``<prefix>/subnets/0.0.0.0-0&2001:db8:165:1::-64``, the value
  ``{"PublicIP":"0.0.0.0","PublicIPv6":"2001:db8:65::11","BackendType":"vxlan","BackendV6Data":{..}}``
  (no ``BackendData``: there is no IPv4 device). A host's lease is then the one with its
  ``PublicIPv6``.

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
# VXLAN over an IPv6 underlay (flannel's IPv6 device): the outer IPv6 header is 20 bytes longer.
VXLAN_OVERHEAD_V6 = 70
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
# flanneld writes the IPv6 part as Go prints an address (lower case, shortest form) and
# reads only that: an upper-case key is not a lease to it, nor to us.
_LEASE_KEY_RE = re.compile(r'^(\d+\.\d+\.\d+\.\d+)-(\d+)(?:&([0-9a-f:]+)-(\d+))?$')
_MAC_RE = re.compile(r'^[0-9a-f]{2}(:[0-9a-f]{2}){5}$')
# The IPv4 part of an IPv6-only lease (flannel's empty IPv4 subnet and PublicIP).
NO_IPV4 = ipaddress.IPv4Network('0.0.0.0/0')
NO_PUBLIC_IP = '0.0.0.0'


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


def lease_key(prefix, subnet, subnet_v6=None):
    """flannel's key of a lease: ``<prefix>/subnets/100.64.3.0-24`` (``&2001:db8:1:3::-64`` dual stack)."""
    key = '%s%s-%d' % (subnets_prefix(prefix), subnet.network_address, subnet.prefixlen)
    if subnet_v6 is not None:
        key += '&%s-%d' % (subnet_v6.network_address, subnet_v6.prefixlen)
    return key


def parse_lease_key(key, prefix):
    """A lease key -> ``(IPv4 subnet, IPv6 subnet or None)``, or None if it is not one."""
    name = key[len(subnets_prefix(prefix)):] if key.startswith(subnets_prefix(prefix)) else None
    match = _LEASE_KEY_RE.match(name or '')
    if not match:
        return None
    try:
        subnet = ipaddress.IPv4Network('%s/%s' % (match.group(1), match.group(2)))
        subnet_v6 = ipaddress.IPv6Network('%s/%s' % (match.group(3), match.group(4))) if match.group(3) else None
    except ValueError:
        return None
    return subnet, subnet_v6


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
        if enable_ipv4 is not None and not isinstance(enable_ipv4, bool):
            raise FlannelError('EnableIPv4 %r is not true or false' % (enable_ipv4,))
        # flanneld's default is true; false (IPv6 only) makes it ignore the IPv4 fields.
        self.enable_ipv4 = enable_ipv4 is not False
        self.network = self.subnet_len = self.first = self.last = None
        if self.enable_ipv4:
            self._check_ipv4(doc)
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
        self.first_v6 = self.last_v6 = None
        if not self.enable_ipv4 and not self.enable_ipv6:
            raise FlannelError('EnableIPv4 is false and EnableIPv6 is not true: the config enables no address family')
        if self.enable_ipv6 or _get(doc, 'IPv6Network'):
            self._check_ipv6(_get(doc, 'IPv6Network'), _get(doc, 'IPv6SubnetLen'))

    def _check_ipv4(self, doc):
        """flanneld's rules for Network, SubnetLen, SubnetMin and SubnetMax (with EnableIPv4)."""
        value = _get(doc, 'Network')
        if value is None or value == '':
            raise FlannelError('Network is missing: it is mandatory (an IPv4 CIDR such as 100.64.0.0/16) unless EnableIPv4 is false')
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

    def _backend_int(self, name, default, low, high):
        value = _get(self.backend, name)
        if value is None:
            return default
        if not _is_int(value) or not low <= value <= high:
            raise FlannelError('Backend.%s %r is not valid: an integer from %d to %d' % (name, value, low, high))
        return value

    def _check_ipv6(self, value, length):
        """flanneld's rules for IPv6Network, IPv6SubnetLen, IPv6SubnetMin and IPv6SubnetMax."""
        if not value:
            raise FlannelError('EnableIPv6 is true but IPv6Network is missing')
        try:
            net = ipaddress.ip_network(str(value).strip(), strict=True)
        except ValueError:
            raise FlannelError('IPv6Network %r is not a valid IPv6 CIDR (host bits must be zero)' % (value,))
        if net.version != 6:
            raise FlannelError('IPv6Network %r is not an IPv6 network' % (value,))
        if length is None or length == 0:
            if net.prefixlen > MAX_IPV6_SUBNET_LEN - 2:
                raise FlannelError('IPv6Network %s is too small: flannel needs at least a /%d' % (net, MAX_IPV6_SUBNET_LEN - 2))
            length = DEFAULT_IPV6_SUBNET_LEN if net.prefixlen <= DEFAULT_IPV6_SUBNET_LEN - 2 else net.prefixlen + 2
        if not _is_int(length) or not net.prefixlen + 2 <= length <= MAX_IPV6_SUBNET_LEN:
            raise FlannelError('IPv6SubnetLen %r is not valid for IPv6Network %s: from /%d (four subnets at least) to /%d'
                               % (length, net, net.prefixlen + 2, MAX_IPV6_SUBNET_LEN))
        self.ipv6_network = net
        self.ipv6_subnet_len = length
        self.first_v6, self.last_v6 = 1, (1 << (length - net.prefixlen)) - 1
        for field in ('IPv6SubnetMin', 'IPv6SubnetMax'):
            bound = _get(self.doc, field)
            if bound in (None, ''):
                continue
            index = self._bound_v6(bound, field)
            if field == 'IPv6SubnetMin':
                self.first_v6 = index
            else:
                self.last_v6 = index
        if self.first_v6 > self.last_v6:
            raise FlannelError('IPv6SubnetMin %s is above IPv6SubnetMax %s'
                               % (self.subnet_v6(self.first_v6).network_address, self.subnet_v6(self.last_v6).network_address))

    def _bound_v6(self, value, field):
        """IPv6SubnetMin/IPv6SubnetMax: the address of an aligned subnet inside IPv6Network -> its index."""
        text = str(value).strip()
        try:
            address = ipaddress.IPv6Address(text.split('/', 1)[0])
            if '/' in text and int(text.split('/', 1)[1]) != self.ipv6_subnet_len:
                raise ValueError(text)
        except ValueError:
            raise FlannelError('%s %r is not an IPv6 address of a /%d subnet' % (field, value, self.ipv6_subnet_len))
        if address not in self.ipv6_network:
            raise FlannelError('%s %s is outside IPv6Network %s' % (field, address, self.ipv6_network))
        subnet = ipaddress.IPv6Network((address, self.ipv6_subnet_len), strict=False)
        if subnet.network_address != address:
            raise FlannelError('%s %s is not on a /%d boundary (IPv6SubnetLen): did you mean %s?'
                               % (field, address, self.ipv6_subnet_len, subnet.network_address))
        return self.index_v6(subnet)

    def subnet_v6(self, index):
        """The ``index``-th IPv6 subnet of IPv6Network."""
        size = 1 << (128 - self.ipv6_subnet_len)
        return ipaddress.IPv6Network((int(self.ipv6_network.network_address) + index * size, self.ipv6_subnet_len))

    def index_v6(self, subnet):
        return (int(subnet.network_address) - int(self.ipv6_network.network_address)) >> (128 - self.ipv6_subnet_len)

    def fits_v6(self, subnet_v6):
        """flanneld's test of a lease's IPv6 subnet: none without EnableIPv6, else one it hands out."""
        if not self.enable_ipv6:
            return subnet_v6 is None
        if subnet_v6 is None or subnet_v6.prefixlen != self.ipv6_subnet_len or not subnet_v6.subnet_of(self.ipv6_network):
            return False
        return self.first_v6 <= self.index_v6(subnet_v6) <= self.last_v6

    def subnet(self, index):
        return subnet_at(self.network, self.subnet_len, index)

    def fits(self, subnet):
        """True if a lease's subnet is one this config hands out (length, range).

        IPv6 only: flanneld's range is then empty (SubnetMin = SubnetMax = 0.0.0.0, SubnetLen
        0): only the empty subnet 0.0.0.0/0 of an IPv6-only lease fits."""
        if not self.enable_ipv4:
            return subnet == NO_IPV4
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
        v4 = self.enable_ipv4
        return dict(
            enable_ipv4=v4,
            network=str(self.network) if v4 else None,
            subnet_len=self.subnet_len,
            subnet_min=str(self.subnet(self.first).network_address) if v4 else None,
            subnet_max=str(self.subnet(self.last).network_address) if v4 else None,
            subnet_count=self.last - self.first + 1 if v4 else None,
            backend_type=self.backend_type,
            backend=self.backend,
            vni=self.vni,
            mtu=self.mtu,
            enable_ipv6=self.enable_ipv6,
            ipv6_network=str(self.ipv6_network) if self.ipv6_network else None,
            ipv6_subnet_len=self.ipv6_subnet_len,
            ipv6_subnet_min=str(self.subnet_v6(self.first_v6).network_address) if self.ipv6_network else None,
            ipv6_subnet_max=str(self.subnet_v6(self.last_v6).network_address) if self.ipv6_network else None,
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
    network = str(params.get('network') or '').strip()
    if network or not params.get('ipv6_network'):
        doc['Network'] = network or None
    else:
        # IPv6 only: flanneld's IPv4 default (true) must be turned off.
        doc['EnableIPv4'] = False
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
    for option, field in (('ipv6_subnet_min', 'IPv6SubnetMin'), ('ipv6_subnet_max', 'IPv6SubnetMax')):
        if params.get(option):
            doc[field] = str(params[option]).strip().split('/', 1)[0]
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
    for option, field in (('subnet_min', 'SubnetMin'), ('subnet_max', 'SubnetMax'),
                          ('ipv6_subnet_min', 'IPv6SubnetMin'), ('ipv6_subnet_max', 'IPv6SubnetMax')):
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


def lease_document(public_ip, backend_type, data, public_ipv6=None, data_v6=None):
    """A lease value in flanneld's field order. As flanneld (``omitempty``), the backend data
    of a family the lease does not have is left out; ``PublicIP`` is ``0.0.0.0`` in an
    IPv6-only lease (flanneld's empty IPv4 address)."""
    doc = {'PublicIP': str(public_ip) if public_ip else NO_PUBLIC_IP, 'PublicIPv6': str(public_ipv6) if public_ipv6 else None,
           'BackendType': backend_type}
    if data is not None:
        doc['BackendData'] = data
    if data_v6 is not None:
        doc['BackendV6Data'] = data_v6
    return doc


def subnet_entry_v6(subnet_v6):
    """The IPv6 addresses Docker takes from a host's IPv6 subnet (all '' without one)."""
    if subnet_v6 is None:
        return dict(subnet_v6='', gateway_v6='', bip_v6='')
    gateway = subnet_v6.network_address + 1
    return dict(subnet_v6=str(subnet_v6), gateway_v6=str(gateway), bip_v6='%s/%d' % (gateway, subnet_v6.prefixlen))


def _mac_of(data):
    return _get(data, 'VtepMAC') if isinstance(data, dict) else None


def parse_lease(kv, prefix):
    """A key-value under ``<prefix>/subnets/`` -> lease dict, or None if not a lease key.

    Leases whose value is not flannel's JSON still hold their subnet (``invalid`` true).
    """
    subnets = parse_lease_key(kv['key'], prefix)
    if subnets is None:
        return None
    subnet, subnet_v6 = subnets
    try:
        doc = json.loads(kv['value'])
        if not isinstance(doc, dict):
            raise ValueError(kv['value'])
        invalid = False
    except ValueError:
        doc, invalid = {}, True
    data = _get(doc, 'BackendData')
    data_v6 = _get(doc, 'BackendV6Data')
    public_ip = _get(doc, 'PublicIP')
    public_ipv6 = _get(doc, 'PublicIPv6')
    lease = dict(
        key=kv['key'],
        subnet=str(subnet),
        public_ip=public_ip if isinstance(public_ip, str) else None,
        public_ipv6=public_ipv6 if isinstance(public_ipv6, str) else None,
        backend_type=_get(doc, 'BackendType'),
        backend_data=data,
        backend_v6_data=data_v6,
        vtep_mac=_mac_of(data),
        vtep_mac_v6=_mac_of(data_v6),
        lease_id=kv.get('lease') and '%016x' % kv['lease'] or None,
    )
    if invalid:
        lease['invalid'] = True
    if subnet == NO_IPV4:
        # IPv6 only: no IPv4 subnet, nor an IPv4 address to send to (as in the plan).
        lease.update(subnet='', gateway='', bip='', prefixlen='')
        if lease['public_ip'] == NO_PUBLIC_IP:
            lease['public_ip'] = None
    else:
        lease.update(subnet_entry(subnet))
    lease.update(subnet_entry_v6(subnet_v6))
    return lease


def lease_subnet(lease):
    """A parsed lease's IPv4 subnet (``0.0.0.0/0`` in an IPv6-only lease, flannel's key)."""
    return ipaddress.IPv4Network(lease['subnet']) if lease.get('subnet') else NO_IPV4


def lease_order(lease):
    """Leases sort by their IPv4 subnet, then their IPv6 one (IPv6 only: by that alone)."""
    subnet_v6 = lease_subnet_v6(lease)
    return (lease_subnet(lease), subnet_v6 if subnet_v6 is not None else ipaddress.IPv6Network('::/0'))


def holder_of(lease):
    """Who holds a lease, for messages: its PublicIP, else its PublicIPv6."""
    return lease.get('public_ip') or lease.get('public_ipv6') or 'an unreadable lease'


def lease_subnet_v6(lease):
    """A parsed lease's IPv6 subnet, or None."""
    return ipaddress.IPv6Network(lease['subnet_v6']) if lease.get('subnet_v6') else None


def parse_leases(kvs, prefix):
    """All leases among ``kvs``, lowest subnet first, each with its raw kv in ``_kv``."""
    leases = []
    for kv in kvs:
        lease = parse_lease(kv, prefix)
        if lease is not None:
            lease['_kv'] = kv
            leases.append(lease)
    leases.sort(key=lease_order)
    return leases


def public_view(lease):
    """A lease without internal fields, as returned to the user."""
    return dict((k, v) for k, v in lease.items() if not k.startswith('_'))


def _checked(value, what, version, network, length, fits, bounds, fields):
    """A requested subnet of one family -> its network, or FlannelError naming the field.

    ``fields`` are the config's names of the network, the length and the range (for the messages).
    """
    family = 'IPv%d' % version
    text = str(value).strip()
    try:
        subnet = ipaddress.ip_network(text if '/' in text else '%s/%d' % (text, length), strict=False)
    except ValueError:
        raise FlannelError('%s %r is not a valid %s subnet (e.g. %s)' % (what, value, family, bounds[0]))
    if subnet.version != version:
        raise FlannelError('%s %r is not an %s subnet' % (what, value, family))
    if subnet.prefixlen < network.prefixlen or not subnet.subnet_of(network):
        raise FlannelError('%s %s is outside the flannel %s %s' % (what, subnet, fields[0], network))
    if subnet.prefixlen != length:
        raise FlannelError('%s %s is a /%d, but the flannel config hands out /%d subnets (%s)' % (what, subnet, subnet.prefixlen, length, fields[1]))
    if subnet.network_address != ipaddress.ip_address(text.split('/', 1)[0]):
        raise FlannelError('%s %s is not on a /%d boundary: did you mean %s?' % (what, text, length, subnet))
    if not fits(subnet):
        raise FlannelError('%s %s is outside %s (%s .. %s) of the flannel config' % (what, subnet, fields[2], bounds[0], bounds[1]))
    return subnet


def check_subnet(value, config, what='subnet'):
    """A requested subnet -> IPv4Network that the config hands out, or FlannelError."""
    return _checked(value, what, 4, config.network, config.subnet_len, config.fits,
                    (config.subnet(config.first), config.subnet(config.last)), ('Network', 'SubnetLen', 'SubnetMin..SubnetMax'))


def free_subnets(config, leases, skip=()):
    """Free subnets of the config, lowest first (a generator: a /8 of /30s stays cheap)."""
    taken = set()
    for lease in leases:
        subnet = lease_subnet(lease)
        if subnet.prefixlen == config.subnet_len and subnet.subnet_of(config.network):
            taken.add(subnet_index(config.network, config.subnet_len, subnet))
    taken.update(subnet_index(config.network, config.subnet_len, s) for s in skip)
    for index in range(config.first, config.last + 1):
        if index not in taken:
            yield config.subnet(index)


def check_subnet_v6(value, config, what='subnet_v6'):
    """A requested IPv6 subnet -> IPv6Network that the config hands out, or FlannelError."""
    if not config.enable_ipv6:
        raise FlannelError('%s %s is given, but the flannel config does not enable IPv6 (EnableIPv6)' % (what, value))
    return _checked(value, what, 6, config.ipv6_network, config.ipv6_subnet_len, config.fits_v6,
                    (config.subnet_v6(config.first_v6), config.subnet_v6(config.last_v6)),
                    ('IPv6Network', 'IPv6SubnetLen', 'IPv6SubnetMin..IPv6SubnetMax'))


def free_subnets_v6(config, leases):
    """Free IPv6 subnets of the config, lowest first (a generator, as :func:`free_subnets`)."""
    taken = set()
    for lease in leases:
        subnet_v6 = lease_subnet_v6(lease)
        if subnet_v6 is not None and subnet_v6.prefixlen == config.ipv6_subnet_len and subnet_v6.subnet_of(config.ipv6_network):
            taken.add(config.index_v6(subnet_v6))
    for index in range(config.first_v6, config.last_v6 + 1):
        if index not in taken:
            yield config.subnet_v6(index)


def no_free_subnet(config, family):
    """The message when every subnet of a family (4 or 6) of the config is leased."""
    if family == 6:
        count, length, first, last, network = (config.last_v6 - config.first_v6 + 1, config.ipv6_subnet_len, config.subnet_v6(config.first_v6),
                                               config.subnet_v6(config.last_v6), config.ipv6_network)
    else:
        count, length, first, last, network = (config.last - config.first + 1, config.subnet_len, config.subnet(config.first),
                                               config.subnet(config.last), config.network)
    return ('no free %ssubnet left in %s: all %d subnets /%d from %s to %s are leased'
            % ('IPv6 ' if family == 6 else '', network, count, length, first.network_address, last.network_address))


def free_subnet_v6(config, leases):
    """The lowest IPv6 subnet of the config that no lease holds, or FlannelError."""
    for subnet_v6 in free_subnets_v6(config, leases):
        return subnet_v6
    raise FlannelError(no_free_subnet(config, 6))


def choose_v6(config, leases, public_ip, keep, subnet_v6=None, preferred_v6=None, who='public_ip'):
    """The IPv6 subnet the host's lease should carry (pure), None without EnableIPv6.

    ``who`` is the lease field that names the host (``public_ipv6`` in an IPv6-only config).

    A pin wins (FlannelError when another host holds it); else the kept lease's own IPv6
    subnet when it still fits; else ``preferred_v6`` when free; else the lowest free one.
    """
    if not config.enable_ipv6:
        return None
    others = [lease for lease in leases if lease[who] != public_ip]
    held = dict((lease['subnet_v6'], lease) for lease in others if lease.get('subnet_v6'))
    if subnet_v6 is not None:
        holder = held.get(str(subnet_v6))
        if holder is not None:
            raise FlannelError('IPv6 subnet %s is already leased to %s (key %s): release it there first, or pin another subnet'
                               % (subnet_v6, holder_of(holder), holder['key']))
        return subnet_v6
    current = lease_subnet_v6(keep) if keep is not None else None
    if current is not None and config.fits_v6(current) and str(current) not in held:
        return current
    if preferred_v6 is not None and str(preferred_v6) not in held:
        return preferred_v6
    return free_subnet_v6(config, others)


def choose(config, leases, public_ip, subnet=None, preferred=None, who='public_ip'):
    """Decide, from the current leases, what this host should hold (pure).

    Returns ``dict(keep=<lease or None>, want=<IPv4Network or None>, remove=[leases])``:
    ``keep`` is the host's own lease to reuse (renew, maybe update); else ``want`` is the
    first subnet to try to create (None: the lowest free one); ``remove`` are other
    leases carrying this host's PublicIP that must go (duplicates, or leases that no
    longer fit the config, or not the pinned subnet).
    Raises :class:`FlannelError` for a pin held by another host. ``who``: as for :func:`choose_v6`.
    """
    own = [lease for lease in leases if lease[who] == public_ip]
    by_subnet = dict((lease['subnet'], lease) for lease in leases)
    if subnet is not None:
        holder = by_subnet.get(str(subnet))
        if holder is not None and holder[who] != public_ip:
            raise FlannelError('subnet %s is already leased to %s (key %s): release it there first, or pin another subnet'
                               % (subnet, holder_of(holder), holder['key']))
        keep = holder
        return dict(keep=keep, want=None if keep else subnet, remove=[lease for lease in own if lease is not keep])
    # A lease whose IPv4 subnet still fits is kept, also when its IPv6 part must change
    # (IPv6 turned on or off): the host keeps its IPv4 subnet under the new key.
    usable = [lease for lease in own if config.fits(lease_subnet(lease))]
    usable.sort(key=lambda lease: not config.fits_v6(lease_subnet_v6(lease)))
    keep = usable[0] if usable else None
    want = None
    if keep is None and preferred is not None and str(preferred) not in by_subnet:
        want = preferred
    return dict(keep=keep, want=want, remove=[lease for lease in own if lease is not keep])


def lease_info(lease, config, ttl=None):
    """The host's lease as returned: the lease plus gateway, MTU info and TTL."""
    info = public_view(lease)
    info.update(network=str(config.network) if config.enable_ipv4 else '', mtu=config.overlay_mtu(), underlay_mtu=config.mtu, ttl=ttl,
                network_v6=str(config.ipv6_network) if config.enable_ipv6 else '')
    return info
