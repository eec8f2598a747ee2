# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers shared by the modules that reconcile a declared list of kernel entries.

``ip_route``, ``ip_neighbor`` and ``bridge_fdb`` all compare a declared list (want)
with what ``ip -json``/``bridge -json`` shows (have), mark what they install with our
protocol id (routes, neighbours) or recognise it by shape (FDB), and show the result
as a text ``--diff``. Nothing here runs a command, so it is unit-testable as is.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import ipaddress

from ansible_collections.crosshost.network.plugins.module_utils._iproute import (
    PROTO_ID,
    PROTO_NAME,
    RT_PROTOS_FILE,
    InvalidValue,
    register_protocol,
)

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


def apply_and_exit(module, ipr, result, key, want, register=False):
    """Apply a planned reconcile (unless in check mode) and exit with the shared result shape.

    ``result`` is what the modules' ``compute_plan`` returns: plan, warnings, removed,
    before and after. ``register``: also register our protocol name (routes, neighbours).
    """
    plan = result['plan']
    commands = register_ours(module) if register else []
    if plan and not module.check_mode:
        ipr.apply(plan)
    commands += plan.commands()
    for warning in result['warnings']:
        module.warn(warning)
    output = {'changed': bool(commands), 'commands': commands, key: want, 'removed': result['removed'], 'target': ipr.target()}
    if module._diff:
        output['diff'] = text_diff(result['before'], result['after'])
    module.exit_json(**output)


def check_state_options(params, list_option):
    """Options that make no sense together, named in the error."""
    if params.get('state') == 'absent' and params.get('purge'):
        raise InvalidValue('purge=true only applies to state=present (to remove all of ours, use state=present, %s=[] and purge=true)'
                           % list_option)
