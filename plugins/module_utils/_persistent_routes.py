# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The planner of ``persistent_routes``: ``ip_route``'s plan, and the boot file of what it leaves.

Pure. The routes are planned by :mod:`._routes` as they are; the boot file lists every
route of ours in the task's scope as the kernel has it after the batch: the declared
routes, and without purge the routes of ours in the scope that stay. So a route kept
live (``--limit``: a host outside the run) is kept at boot too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.crosshost.network.plugins.module_utils._iproute import PROTO_ID, is_ours
from ansible_collections.crosshost.network.plugins.module_utils._persist import Batch, header
from ansible_collections.crosshost.network.plugins.module_utils._routes import (
    DEFAULT_METRIC,
    MAIN_TABLE,
    compute_plan as routes_plan,
    route_key,
    route_text,
    via_argv,
)

MODULE_NAME = 'persistent_routes'


def in_scope(route, tables, devices):
    """A route of ours that the task manages: in its tables, on its devices (if any)."""
    return is_ours(route) and route['table'] in tables and (not devices or route['dev'] in devices)


def boot_line(route):
    """``route replace ...`` for ``ip -force -batch``; the kernel's defaults (main table, metric) left out."""
    argv = ['route', 'replace', route['dst']] + via_argv(route)
    if route['dev']:
        argv += ['dev', route['dev']]
    argv += ['proto', str(PROTO_ID)]
    if route['table'] != MAIN_TABLE:
        argv += ['table', str(route['table'])]
    if route['metric'] != DEFAULT_METRIC[route['family']]:
        argv += ['metric', str(route['metric'])]
    if route['onlink']:
        argv.append('onlink')
    for name in ('src', 'mtu'):
        if route.get(name) is not None:
            argv += [name, str(route[name])]
    return ' '.join(argv)


def boot_file(routes):
    lines = [header(MODULE_NAME).rstrip('\n'),
             '# Routes of ours, replayed at boot with ip -force -batch (crosshost-restore routes).']
    return '\n'.join(lines + [boot_line(route) for route in routes]) + '\n'


def compute_plan(want, have, links, params, have_file):
    """dict(plan, removed, before, after, warnings, persisted) for ``persistent_routes``.

    ``params``: state, purge, purge_tables (numbers), purge_devices, force, boot_file;
    ``have_file``: read_file() of the boot file. Raises InvalidValue before any change.
    """
    present = params['state'] == 'present'
    tables = set(params['purge_tables'] or []) or set(route['table'] for route in want) | set([MAIN_TABLE])
    devices = params['purge_devices'] or []
    # absent: every route of ours in the scope goes (nothing is declared).
    result = routes_plan(want if present else [], have, links, purge=params['purge'] or not present, purge_tables=list(tables),
                         purge_devices=devices, force=params['force'])
    plan = Batch()
    plan.ip.extend(result['plan'])
    persisted = []
    if present:
        declared = set(route_key(route) for route in want)
        kept = [] if params['purge'] else [route for route in have if in_scope(route, tables, devices) and route_key(route) not in declared]
        # One order whatever the run kept: the file changes only when the routes do.
        persisted = sorted(list(want) + kept, key=route_key)
        plan.persist(params['boot_file'], boot_file(persisted), have_file)
    else:
        plan.persist(params['boot_file'], None, have_file)
    return dict(result, plan=plan, persisted=[route_text(dict(route, protocol=str(PROTO_ID))) for route in persisted])
