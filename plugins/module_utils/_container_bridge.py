# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The planner of ``container_bridge``: a host's container bridge as one desired state.

Pure: arguments -> want (:func:`build_want`); ``ip -json -details address show`` (links
with their addresses, one read) and the files we own -> plan (:func:`compute_plan`).
The link, its STP and ports come from the ``linux_bridge`` planner (:mod:`._bridge_plan`),
the addresses from the ``ip_address`` one (:mod:`._addresses`); this adds the MTU, the
administrative state and the two files: the boot batch file (the bridge as applied) and
the record of the IPv6 addresses set, so that exactly those go when they are no longer
wanted, whatever ``purge`` says.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.crosshost.network.plugins.module_utils import _addresses, _bridge_plan
from ansible_collections.crosshost.network.plugins.module_utils._iproute import InvalidValue, parse_interface
from ansible_collections.crosshost.network.plugins.module_utils._links import check_mtu, is_up, link_kind
from ansible_collections.crosshost.network.plugins.module_utils._persist import Batch, check_path, header

MODULE_NAME = 'container_bridge'


def build_want(params):
    """Validate the arguments (names, addresses, MTU, paths) before anything is read."""
    name = params['name']
    addresses = _addresses.build_want(dict(dev=name, state='present', purge=params['purge'], addresses=params['addresses']))
    if params['mtu'] is not None:
        check_mtu(params['mtu'], what='mtu of bridge %s' % name)
    return dict(name=addresses['dev'], state=params['state'], stp=params['stp'], addresses=addresses['addresses'],
                purge=addresses['purge'], mtu=params['mtu'], keep_link=params['keep_link'],
                boot_file=check_path(params['boot_file'], 'boot_file'), record_file=check_path(params['record_file'], 'record_file'))


def parse_record(have):
    """The IPv6 addresses a record file lists (a line that is not one is ignored)."""
    found = []
    for line in (have[0] if have else '').splitlines():
        line = line.strip()
        if line and not line.startswith('#'):
            try:
                iface = parse_interface(line)
            except InvalidValue:
                continue
            if iface.version == 6:
                found.append(iface)
    return found


def boot_file(want):
    """The bridge as applied, for ``ip -force -batch`` at boot (before Docker starts)."""
    name = want['name']
    lines = [header(MODULE_NAME).rstrip('\n'),
             '# The container bridge %s, recreated at boot (before Docker starts) with ip -force -batch.' % name,
             'link add name %s type bridge stp_state %d' % (name, 1 if want['stp'] else 0)]
    if want['mtu'] is not None:
        lines.append('link set dev %s mtu %d' % (name, want['mtu']))
    lines += ['address replace %s dev %s' % (iface.with_prefixlen, name) for iface in want['addresses']]
    lines.append('link set dev %s up' % name)
    return '\n'.join(lines) + '\n'


def record_file(want):
    v6 = [iface.with_prefixlen for iface in want['addresses'] if iface.version == 6]
    return ''.join(address + '\n' for address in v6) if v6 else None


def state_lines(link, stp, mtu, up, addresses):
    """``--diff`` view of the bridge: one setting a line."""
    if not link:
        return []
    return ['bridge %s (stp %s)' % (link, 'on' if stp else 'off'), 'mtu %s' % mtu, 'up' if up else 'down'] + [
        'address %s' % address for address in addresses]


def compute_plan(want, links, files):
    """want + have -> dict(plan, before, after, bridge). Raises InvalidValue before any change.

    ``links``: ``ip -json -details address show`` keyed by name; ``files``: read_files().
    """
    name = want['name']
    link = links.get(name)
    if link is not None and link_kind(link) != 'bridge':
        raise InvalidValue('link %s is a %s, not a bridge' % (name, link_kind(link) or 'device without kind'))
    have_addresses = [entry.iface.with_prefixlen for entry in _addresses.have_addresses(link or {})]
    have_stp = bool(_bridge_plan.bridge_state(links, name).get('stp'))
    before = state_lines(link and name, have_stp, (link or {}).get('mtu'), is_up(link), have_addresses)
    plan = Batch()
    bridge_want = dict(name=name, state=want['state'], ports=None, purge=False, stp=want['stp'], forward_delay=None)

    if want['state'] == 'absent':
        if link is not None and not want['keep_link']:
            plan.ip.extend(_bridge_plan.compute_plan(bridge_want, links, 'ip')['plan'].ip)
        for path in (want['boot_file'], want['record_file']):
            if path:
                plan.persist(path, None, files.get(path))
        gone = not want['keep_link']
        bridge = dict(name=name, state='absent' if gone or link is None else 'present')
        return dict(plan=plan, before=before, after=[] if gone else before, bridge=bridge)

    plan.ip.extend(_bridge_plan.compute_plan(bridge_want, links, 'ip')['plan'].ip)
    mtu = (link or {}).get('mtu')
    if want['mtu'] is not None and want['mtu'] != mtu:
        check_mtu(want['mtu'], link, 'mtu of bridge %s' % name)
        plan.ip.add_ip('link', 'set', 'dev', name, 'mtu', want['mtu'])
        mtu = want['mtu']
    addresses = _addresses.compute_plan(dict(dev=name, state='present', purge=want['purge'], addresses=want['addresses']),
                                        {name: link or {}})
    plan.ip.extend(addresses['plan'])
    after_addresses = addresses['after']
    # Our IPv6 addresses of the last run that are no longer wanted go, also without purge.
    wanted_ips = set(iface.ip for iface in want['addresses'])
    for iface in parse_record(files.get(want['record_file'])):
        if iface.ip not in wanted_ips and iface.with_prefixlen in after_addresses:
            plan.ip.add_ip('address', 'del', iface.with_prefixlen, 'dev', name)
            after_addresses.remove(iface.with_prefixlen)
    if not is_up(link):
        plan.ip.add_ip('link', 'set', 'dev', name, 'up')
    if want['boot_file']:
        plan.persist(want['boot_file'], boot_file(want), files.get(want['boot_file']))
    if want['record_file']:
        plan.persist(want['record_file'], record_file(want), files.get(want['record_file']))
    bridge = dict(name=name, state='present', stp=bool(want['stp']), mtu=mtu, admin_state='up', addresses=after_addresses)
    return dict(plan=plan, before=before, after=state_lines(name, want['stp'], mtu, True, after_addresses), bridge=bridge)
