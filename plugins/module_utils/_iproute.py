# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The only code in crosshost.network that runs ``ip``, ``bridge`` and ``brctl``.

Modules follow one shape: read *have* with :meth:`IPRoute.read` (``ip -json``),
build *want* from their arguments, compute a :class:`Plan` (argv lists), and hand it
to :meth:`IPRoute.apply`, which runs the whole plan as one ``ip -batch -`` and one
``bridge -batch -`` call. The plan is also what check mode and ``commands`` show, so
the process count of a module call never grows with the number of entries.

Every command can run inside another network namespace: a named one (``netns``) or
the one of a process (``pid``, e.g. a Docker container's init).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import os
import re

# Routes and neighbours we install carry this protocol id: purge touches only these.
PROTO_NAME = 'crosshost'
PROTO_ID = 147
PROTO_VALUES = frozenset((PROTO_NAME, str(PROTO_ID)))
RT_PROTOS_FILE = '/etc/iproute2/rt_protos.d/crosshost.conf'

IFNAMSIZ = 15
ZERO_MAC = '00:00:00:00:00:00'
C_LOCALE = {'LANG': 'C', 'LC_ALL': 'C', 'LC_MESSAGES': 'C'}

# Options every iproute-based module accepts to act in another namespace.
TARGET_ARGUMENT_SPEC = dict(
    netns=dict(type='str'),
    pid=dict(type='int'),
    container=dict(type='str'),
)
TARGET_MUTUALLY_EXCLUSIVE = [('netns', 'pid', 'container')]

_MAC_RE = re.compile(r'^[0-9a-f]{2}(:[0-9a-f]{2}){5}$')
_IFNAME_RE = re.compile(r'^[^\s/:]+$')
_BATCH_ERROR_RE = re.compile(r'Command failed -:(\d+)')


class InvalidValue(ValueError):
    """A user-supplied value that cannot be used; the message names the value."""


def validate_ifname(name, what='interface name'):
    """Linux interface names: 1..15 bytes, no whitespace, '/' or ':'."""
    if not name or len(name.encode('utf-8')) > IFNAMSIZ or not _IFNAME_RE.match(name) or name in ('.', '..'):
        raise InvalidValue("%s %r is not valid: at most %d characters, no whitespace, '/' or ':'" % (what, name, IFNAMSIZ))
    return name


def normalize_mac(mac, what='MAC address'):
    """Return the MAC in lower-case colon form, or raise naming the bad value."""
    text = str(mac).strip().lower().replace('-', ':')
    if not _MAC_RE.match(text):
        raise InvalidValue('%s %r is not a valid MAC address (expected xx:xx:xx:xx:xx:xx)' % (what, mac))
    return text


def is_unicast_mac(mac):
    """A normalised MAC that is not all-zeros nor multicast (lowest bit of the first octet)."""
    return mac != ZERO_MAC and not int(mac.split(':')[0], 16) & 1


def parse_interface(cidr, what='address'):
    """``10.0.0.1/24`` -> ipaddress interface; a prefix length is required."""
    if '/' not in str(cidr):
        raise InvalidValue('%s %r has no prefix length (expected address/len, e.g. 100.64.1.1/24)' % (what, cidr))
    try:
        return ipaddress.ip_interface(str(cidr))
    except ValueError:
        raise InvalidValue('%s %r is not a valid address/len' % (what, cidr))


def parse_network(cidr, what='network'):
    """``10.0.0.0/24`` (host bits must be zero) or ``default`` -> ipaddress network."""
    text = str(cidr)
    if text == 'default':
        return ipaddress.ip_network('0.0.0.0/0')
    try:
        return ipaddress.ip_network(text if '/' in text else text + ('/128' if ':' in text else '/32'))
    except ValueError:
        raise InvalidValue('%s %r is not a valid network (host bits must be zero, e.g. 100.64.2.0/24)' % (what, cidr))


def parse_address(addr, what='address'):
    try:
        return ipaddress.ip_address(str(addr))
    except ValueError:
        raise InvalidValue('%s %r is not a valid IP address' % (what, addr))


def is_ours(entry):
    """True for a route or neighbour entry carrying our protocol id."""
    return str(entry.get('protocol', '')) in PROTO_VALUES


class Plan:
    """An ordered list of ``ip`` and ``bridge`` commands (argv lists without the program).

    Tokens never contain whitespace (names and addresses are validated first), so a
    command is one line of a ``-batch`` file.
    """

    def __init__(self):
        self.ip = []
        self.bridge = []

    def add_ip(self, *argv):
        self.ip.append([str(a) for a in argv])

    def add_bridge(self, *argv):
        self.bridge.append([str(a) for a in argv])

    def extend(self, other):
        self.ip.extend(other.ip)
        self.bridge.extend(other.bridge)

    def __bool__(self):
        return bool(self.ip or self.bridge)

    __nonzero__ = __bool__

    def commands(self):
        """Human-readable commands, as returned to the user."""
        return ['ip ' + ' '.join(c) for c in self.ip] + ['bridge ' + ' '.join(c) for c in self.bridge]


class IPRoute:
    """Runs iproute2 for one module, in the host or in another network namespace."""

    def __init__(self, module, netns=None, pid=None):
        self.module = module
        self.netns = netns
        self.pid = pid
        if netns:
            # nsenter (not `ip -n`) so that bridge and brctl enter the same namespace.
            self.prefix = [self._bin('nsenter'), '--net=/run/netns/%s' % netns]
        elif pid:
            self.prefix = [self._bin('nsenter'), '--target', str(pid), '--net']
        else:
            self.prefix = []

    @classmethod
    def from_params(cls, module):
        """Build from the standard ``netns``/``pid``/``container`` options."""
        return cls.for_target(module, module.params)

    @classmethod
    def for_target(cls, module, target, label=''):
        """Build for a dict with ``netns``, ``pid`` or ``container`` (none: the host), checking it exists.

        ``label`` starts the error messages (``'peer '`` for a veth's other end).
        """
        if target.get('container'):
            # Imported here so that modules without a container option do not need it.
            from ansible_collections.crosshost.network.plugins.module_utils._container import container_pid
            return cls(module, pid=container_pid(module, target['container']))
        if target.get('netns'):
            if not os.path.exists('/run/netns/%s' % target['netns']):
                module.fail_json(msg='%snetwork namespace %r does not exist (ip netns list)' % (label, target['netns']))
            return cls(module, netns=target['netns'])
        if target.get('pid'):
            if not os.path.exists('/proc/%d/ns/net' % target['pid']):
                module.fail_json(msg='%sprocess %d does not exist, so it has no network namespace' % (label, target['pid']))
            return cls(module, pid=target['pid'])
        return cls(module)

    def target(self):
        """Where commands run, for results: ``host``, ``netns NAME`` or ``pid N``."""
        if self.netns:
            return 'netns %s' % self.netns
        if self.pid:
            return 'pid %d' % self.pid
        return 'host'

    def _bin(self, name, required=True):
        return self.module.get_bin_path(name, required=required, opt_dirs=['/usr/sbin', '/sbin'])

    def run(self, argv, data=None, what=None, prefix=None):
        """Run argv (a list) with the C locale; fail the module with cmd, rc and stderr.

        ``prefix`` replaces the namespace prefix (nsenter ...) when given, e.g. ``[]``
        for an argv that enters the namespace itself (``ip netns exec``).
        """
        cmd = (self.prefix if prefix is None else list(prefix)) + list(argv)
        rc, out, err = self.module.run_command(cmd, data=data, environ_update=C_LOCALE)
        if rc != 0:
            result = dict(msg='%s failed (rc=%d): %s' % (what or ' '.join(argv[:3]), rc, err.strip() or out.strip()),
                          cmd=cmd, rc=rc, stdout=out, stderr=err)
            if data is not None:
                result['stdin'] = data
                match = _BATCH_ERROR_RE.search(err)
                if match:
                    lines = data.splitlines()
                    index = int(match.group(1)) - 1
                    if 0 <= index < len(lines):
                        result['failed_command'] = lines[index]
            self.module.fail_json(**result)
        return out

    # ---- reading -------------------------------------------------------------------
    def read(self, tool, *args):
        """``<tool> -json <args>`` parsed; ``[]`` when the tool prints nothing."""
        out = self.run([self._bin(tool), '-json'] + [str(a) for a in args])
        return json.loads(out) if out.strip() else []

    def links(self):
        """All links with details (linkinfo, master), keyed by name."""
        return dict((link['ifname'], link) for link in self.read('ip', '-details', 'link', 'show'))

    def addresses(self):
        """``ip -json addr show``, keyed by interface name."""
        return dict((link['ifname'], link) for link in self.read('ip', 'address', 'show'))

    def routes(self, family=4, table='all'):
        return self.read('ip', '-%d' % family, 'route', 'show', 'table', table)

    def neighbours(self, dev):
        return self.read('ip', 'neigh', 'show', 'dev', dev)

    def fdb(self, dev):
        return self.read('bridge', 'fdb', 'show', 'dev', dev)

    # ---- writing -------------------------------------------------------------------
    def apply(self, plan):
        """Run a whole plan: one ``ip -batch -`` and one ``bridge -batch -`` call at most."""
        if plan.ip:
            self.run([self._bin('ip'), '-batch', '-'], data='\n'.join(' '.join(c) for c in plan.ip), what='ip -batch')
        if plan.bridge:
            self.run([self._bin('bridge'), '-batch', '-'], data='\n'.join(' '.join(c) for c in plan.bridge), what='bridge -batch')

    def brctl_path(self):
        """brctl's path, or None where bridge-utils is not installed."""
        return self._bin('brctl', required=False)

    def brctl_argv(self):
        """The argv prefix that runs brctl in the target, or None where it cannot.

        brctl writes bridge settings through sysfs, and nsenter does not remount /sys for
        the namespace it enters (brctl would act on a host bridge of the same name). In a
        named netns brctl therefore runs under ``ip netns exec``, which mounts the
        namespace's own sysfs; a ``pid`` target has no such way in (use ``ip`` there).
        None also where bridge-utils is not installed.
        """
        path = self.brctl_path()
        if not path or self.pid:
            return None
        if self.netns:
            return [self._bin('ip'), 'netns', 'exec', self.netns, path]
        return [path]

    def brctl(self, *argv):
        """One brctl call (it has no batch mode); bridges are configured with few calls."""
        prefix = self.brctl_argv()
        if prefix is None:
            self.module.fail_json(msg='brctl cannot run in %s (bridge-utils missing, or a pid/container target)' % self.target())
        return self.run([str(a) for a in argv], what='brctl %s' % argv[0], prefix=prefix)


def register_protocol(module, path=RT_PROTOS_FILE):
    """Register our route protocol id by name so ``ip route`` shows ``proto crosshost``.

    Returns True when the file was (or, in check mode, would be) written.
    """
    line = '%d %s\n' % (PROTO_ID, PROTO_NAME)
    try:
        with open(path) as handle:
            if handle.read() == line:
                return False
    except (IOError, OSError):
        pass
    if not module.check_mode:
        try:
            directory = os.path.dirname(path)
            if not os.path.isdir(directory):
                os.makedirs(directory)
            with open(path, 'w') as handle:
                handle.write(line)
        except (IOError, OSError) as exc:
            module.fail_json(msg='cannot register route protocol %s in %s: %s' % (PROTO_NAME, path, exc))
    return True
