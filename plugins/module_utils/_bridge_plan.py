# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The planner of ``linux_bridge``: one bridge, its ports and STP, with ``ip`` or ``brctl``.

Pure: arguments -> want (:func:`build_want`), links parsed by :mod:`._links` -> have
(:func:`bridge_state`), want + have -> plan (:func:`compute_plan`), and the ``--diff``
view (:func:`view`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.crosshost.network.plugins.module_utils._iproute import (
    InvalidValue,
    Plan,
    validate_ifname,
)
from ansible_collections.crosshost.network.plugins.module_utils._links import (
    DEFAULT_FORWARD_DELAY_CS,
    admin_state,
    bridge_state,
    link_kind,
    link_master,
    require_link,
)

# Kernel bounds of the forward delay while STP runs (BR_MIN/MAX_FORWARD_DELAY).
STP_FORWARD_DELAY = (2, 30)


class BridgePlan:
    """``ip`` commands (one batch, run first) and brctl calls (one process each)."""

    def __init__(self):
        self.ip = Plan()
        self.brctl = []

    def add_brctl(self, *argv):
        self.brctl.append([str(a) for a in argv])

    def __bool__(self):
        return bool(self.ip) or bool(self.brctl)

    __nonzero__ = __bool__

    def commands(self):
        return self.ip.commands() + ['brctl ' + ' '.join(c) for c in self.brctl]


def build_want(params):
    """Validate the arguments; None means leave alone."""
    name = validate_ifname(params['name'], 'bridge name')
    ports = params.get('ports')
    if ports is not None:
        seen = set()
        for port in ports:
            validate_ifname(port, 'port of bridge %s' % name)
            if port == name:
                raise InvalidValue('bridge %s cannot be a port of itself' % name)
            if port in seen:
                raise InvalidValue('port %s of bridge %s is listed twice' % (port, name))
            seen.add(port)
        ports = sorted(ports)
    if params.get('purge') and ports is None:
        raise InvalidValue('purge=true needs ports (ports=[] detaches every port of bridge %s)' % name)
    delay = params.get('forward_delay')
    if delay is not None:
        if delay < 0:
            raise InvalidValue('forward_delay %r of bridge %s is negative' % (delay, name))
        if params.get('stp'):
            check_stp_delay(delay, name)
    return dict(name=name, state=params.get('state') or 'present', ports=ports, purge=bool(params.get('purge')),
                stp=params.get('stp'), forward_delay=delay)


def check_stp_delay(delay, name):
    low, high = STP_FORWARD_DELAY
    if not low <= delay <= high:
        raise InvalidValue('forward_delay %r of bridge %s must be between %d and %d seconds while STP is on' % (delay, name, low, high))


def centiseconds(seconds):
    return int(round(seconds * 100))


def seconds_text(seconds):
    """brctl's argument: ``4``, ``2.5``."""
    return '%g' % seconds


def compute_plan(want, links, backend):
    """Plan for one bridge with ``backend`` ``brctl`` or ``ip``.

    Returns dict(plan, before, after); raises InvalidValue before any change.
    """
    name = want['name']
    have = links.get(name)
    plan = BridgePlan()
    use_brctl = backend == 'brctl'
    if have is not None and link_kind(have) != 'bridge':
        raise InvalidValue('link %s is a %s, not a bridge' % (name, link_kind(have) or 'device without kind'))
    before = bridge_state(links, name)

    if want['state'] == 'absent':
        if have is None:
            return dict(plan=plan, before=before, after=before)
        if use_brctl:
            # brctl delbr refuses a bridge that is up; deleting it detaches the ports.
            if admin_state(have) == 'up':
                plan.ip.add_ip('link', 'set', 'dev', name, 'down')
            plan.add_brctl('delbr', name)
        else:
            for port in before['ports']:
                plan.ip.add_ip('link', 'set', 'dev', port, 'nomaster')
            plan.ip.add_ip('link', 'del', 'dev', name)
        return dict(plan=plan, before=before, after=dict(name=name, state='absent'))

    for port in want['ports'] or []:
        link = require_link(links, port, 'port of bridge %s:' % name)
        if link_kind(link) == 'bridge':
            raise InvalidValue('port %s of bridge %s is a bridge itself' % (port, name))
    current = before if have is not None else dict(name=name, state='absent', ports=[], stp=False,
                                                   forward_delay=DEFAULT_FORWARD_DELAY_CS / 100.0)
    stp = current['stp'] if want['stp'] is None else want['stp']
    if want['forward_delay'] is not None and stp:
        check_stp_delay(want['forward_delay'], name)

    # Settings in an order the kernel accepts: it checks the delay only while STP runs,
    # so STP goes off before and on after a new delay.
    settings = []
    if want['forward_delay'] is not None and abs(centiseconds(want['forward_delay']) - centiseconds(current['forward_delay'])) > 1:
        # > 1: the kernel keeps jiffies, so 2.55 s reads back as 2.54 s.
        settings.append(('forward_delay', want['forward_delay']))
    if want['stp'] is not None and want['stp'] != current['stp']:
        settings.insert(0 if not want['stp'] else len(settings), ('stp', want['stp']))

    add_ports = [port for port in want['ports'] or [] if port not in current['ports']]
    del_ports = [port for port in current['ports'] if want['purge'] and port not in want['ports']]

    if use_brctl:
        if have is None:
            plan.add_brctl('addbr', name)
        for key, value in settings:
            if key == 'stp':
                plan.add_brctl('stp', name, 'on' if value else 'off')
            else:
                plan.add_brctl('setfd', name, seconds_text(value))
        for port in del_ports:
            plan.add_brctl('delif', name, port)
        for port in add_ports:
            # brctl does not move a port between bridges: take it off the old one first.
            other = link_master(links[port])
            if other:
                plan.add_brctl('delif', other, port)
            plan.add_brctl('addif', name, port)
    else:
        ip_settings = [['stp_state', int(value)] if key == 'stp' else ['forward_delay', centiseconds(value)] for key, value in settings]
        if have is None:
            # A new bridge has STP off, so one command in the kernel's order is safe.
            plan.ip.add_ip('link', 'add', 'name', name, 'type', 'bridge', *[token for setting in ip_settings for token in setting])
        else:
            for setting in ip_settings:
                plan.ip.add_ip('link', 'set', 'dev', name, 'type', 'bridge', *setting)
        for port in del_ports:
            plan.ip.add_ip('link', 'set', 'dev', port, 'nomaster')
        for port in add_ports:
            plan.ip.add_ip('link', 'set', 'dev', port, 'master', name)

    after = dict(current, state='present', stp=stp, ports=sorted(set(current['ports']) - set(del_ports) | set(add_ports)))
    if any(key == 'forward_delay' for key, dummy in settings):
        after['forward_delay'] = float(want['forward_delay'])
    return dict(plan=plan, before=before, after=after)


def view(state, want):
    """The part of the state the task manages, for --diff."""
    if state['state'] == 'absent':
        return dict(name=state['name'], state='absent')
    shown = dict(name=state['name'], state='present')
    for key in ('ports', 'stp', 'forward_delay'):
        if want[key] is not None:
            shown[key] = state[key]
    return shown
