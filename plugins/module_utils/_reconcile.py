# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reconcile base shared by the single-purpose kernel modules.

Every module (ip_route, ip_neighbor, bridge_fdb, ip_address, ip_link, linux_bridge)
has one shape: arguments -> want; :class:`Reconcile` resolves the target (netns, pid,
container) and reads *have*; a pure planner (one module_utils file per ``ip -json``
object kind: ``_routes``, ``_neighbours``, ``_fdb``, ``_addresses``, ``_links``)
computes the plan; :meth:`Reconcile.finish` applies it unless in check mode and
reports ``changed``, ``commands`` and ``--diff``. Bad input (:class:`InvalidValue`)
becomes ``fail_json`` before anything is changed; a failed command carries cmd, rc and
stderr (:meth:`IPRoute.run`).

The list modules (routes, neighbours, FDB) also share the helpers below: canonical
addresses, duplicate checks, the text ``--diff`` and the ``purge`` option's rules.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import functools
import ipaddress

from ansible_collections.crosshost.network.plugins.module_utils._iproute import (
    PROTO_ID,
    PROTO_NAME,
    RT_PROTOS_FILE,
    InvalidValue,
    IPRoute,
    register_protocol,
)

# The one word for "remove what is not declared"; the modules that said `exclusive`
# keep it as a deprecated alias.
PURGE_ALIASES = dict(aliases=['exclusive'],
                     deprecated_aliases=[dict(name='exclusive', version='1.0.0', collection_name='crosshost.network')])

# Shown in ``commands`` when the protocol name is (or in check mode would be) registered.
REGISTER_COMMAND = "echo '%d %s' > %s" % (PROTO_ID, PROTO_NAME, RT_PROTOS_FILE)


def register_ours(module):
    """Register our protocol name; return the pseudo-command to report, if it changed."""
    return [REGISTER_COMMAND] if register_protocol(module) else []


@functools.lru_cache(maxsize=65536)
def _canonical(text):
    return str(ipaddress.ip_address(text))


def canonical_ip(text, what='address'):
    """An IP address in the canonical text form Python and iproute2 agree on.

    Cached: thousands of entries typically share a few gateways, and ipaddress parsing
    is most of a large run's planning time.
    """
    try:
        return _canonical(str(text).strip())
    except ValueError:
        raise InvalidValue('%s %r is not a valid IP address' % (what, text))


def ip_family(text):
    """4 or 6 for an address or network in text form."""
    return 6 if ':' in str(text) else 4


def link_index(links_json):
    """``ip -json link show`` (a list) -> dict name -> link."""
    return dict((link.get('ifname'), link) for link in links_json or [])


def check_dev(links, dev, need_up=False, what='dev'):
    """Fail with a readable message when ``dev`` does not exist (or is down, if it must be up)."""
    link = links.get(dev)
    if link is None:
        known = ', '.join(sorted(name for name in links if name)) or 'none'
        raise InvalidValue('%s %r does not exist in the target namespace (existing: %s)' % (what, dev, known))
    if need_up and 'UP' not in (link.get('flags') or []):
        raise InvalidValue('%s %r is down: set it up first (the kernel refuses routes through a down device)' % (what, dev))
    return link


def find_duplicates(keys):
    """Keys that occur more than once, in first-seen order."""
    seen = set()
    dups = []
    for key in keys:
        if key in seen and key not in dups:
            dups.append(key)
        seen.add(key)
    return dups


def text_diff(before, after):
    """``--diff`` payload: sorted lines, one entry a line."""
    return dict(before=''.join(line + '\n' for line in sorted(before)),
                after=''.join(line + '\n' for line in sorted(after)))


class Reconcile:
    """One run of a reconciling module: target, bad input, apply and result, written once."""

    def __init__(self, module):
        self.module = module
        self._ipr = None

    @property
    def ipr(self):
        """The :class:`IPRoute` of the target the ``netns``/``pid``/``container`` options name."""
        if self._ipr is None:
            self._ipr = IPRoute.from_params(self.module)
        return self._ipr

    @contextlib.contextmanager
    def checking(self, name_target=False):
        """Turn an InvalidValue raised inside into ``fail_json`` (``name_target``: message starts with the target)."""
        try:
            yield
        except InvalidValue as exc:
            self.module.fail_json(msg='%s: %s' % (self.ipr.target(), exc) if name_target else str(exc))

    def finish(self, plan, output, diff=None, commands=(), warnings=(), apply=None, read_back=None):
        """Apply ``plan`` (unless in check mode) and exit with changed, commands, ``output`` and the diff.

        ``commands``: lines reported before the plan's (the protocol name file);
        ``apply``: runs the plan (default :meth:`IPRoute.apply`); ``read_back``: after a
        real apply, returns output keys read back from the kernel; ``diff``: a callable
        returning the ``--diff`` payload, called only when a diff is asked for.
        """
        module = self.module
        if plan and not module.check_mode:
            (apply or self.ipr.apply)(plan)
            if read_back is not None:
                output = dict(output, **read_back())
        commands = list(commands) + plan.commands()
        for warning in warnings:
            module.warn(warning)
        result = dict(output, changed=bool(commands), commands=commands)
        if diff is not None and module._diff:
            result['diff'] = diff()
        module.exit_json(**result)

    def finish_entries(self, result, register=False):
        """Exit for a list module (routes, neighbours, FDB): ``result`` is its planner's dict.

        ``register``: also register our protocol name (routes, neighbours). The declared
        entries are not echoed back: ``commands`` and the diff show them, and at thousands
        of entries the echo was the costliest part of the result for the controller.
        """
        commands = register_ours(self.module) if register else []
        self.finish(result['plan'], {'removed': result['removed'], 'target': self.ipr.target()},
                    diff=lambda: text_diff(result['before'], result['after']), commands=commands, warnings=result['warnings'])


def check_state_options(params, list_option):
    """Options that make no sense together, named in the error."""
    if params.get('state') == 'absent' and params.get('purge'):
        raise InvalidValue('purge=true only applies to state=present (to remove all of ours, use state=present, %s=[] and purge=true)'
                           % list_option)
