# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The forwarding state of a host, as data: pure planning for ``crosshost.network.forwarding``.

*want* (from the module's arguments): per address family the forwarding sysctl, our
two chains (filter: accept from and to the cluster networks; nat: masquerade what
leaves them) and the jumps to them, and the files we own with their exact content: the
rules file of each family, the sysctl file, the modules file, the replay command and the
boot unit. *have* is read by the module (``/proc/sys``, ``iptables-save``, the files).
:func:`compute_plan` returns the ordered steps that turn one into the other; the same
steps are what check mode and ``commands`` show. The boot replay reads the very rules
files the module writes, so the runtime and the boot cannot disagree.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import re

from ansible_collections.crosshost.network.plugins.module_utils._iproute import InvalidValue

HEADER = '# Managed by crosshost.network (forwarding module): replaced on every run, edit its arguments instead.\n'

# Per family: the tool, the forwarding sysctl, the rules file's name, what is never masqueraded.
FAMILIES = {
    4: dict(tool='iptables', sysctl='net.ipv4.ip_forward', rules='iptables.rules', multicast='224.0.0.0/4'),
    6: dict(tool='ip6tables', sysctl='net.ipv6.conf.all.forwarding', rules='ip6tables.rules', multicast='ff00::/8'),
}
# Our chains and where they are jumped to from: (table, built-in chain, option naming our chain).
JUMPS = (('filter', 'FORWARD', 'filter_chain'), ('nat', 'POSTROUTING', 'nat_chain'))
MODULE_NAME = 'br_netfilter'
_CHAIN_RE = re.compile(r'^[A-Za-z0-9_-]{1,28}$')
# Paths end up single-quoted in the replay script and unit: no quotes, spaces or newlines.
_PATH_RE = re.compile(r'^/[A-Za-z0-9_./@+-]*$')


# ---- want --------------------------------------------------------------------------
def parse_networks(networks):
    """The cluster networks -> {family: [canonical CIDR, ...]} (host bits must be zero)."""
    result = {4: [], 6: []}
    for text in networks or []:
        try:
            network = ipaddress.ip_network(str(text).strip())
        except ValueError:
            raise InvalidValue('networks: %r is not a network in CIDR form with its host bits zero (e.g. 100.64.0.0/16, 2001:db8:100::/48)'
                               % (text,))
        if str(network) not in result[network.version]:
            result[network.version].append(str(network))
    return result


def check_options(params):
    """Bad input, named, before anything is read or changed."""
    for name in ('filter_chain', 'nat_chain'):
        if not _CHAIN_RE.match(params[name] or ''):
            raise InvalidValue("%s must be 1..28 letters, digits, '-' or '_' (got %r)" % (name, params[name]))
    if params['filter_chain'] == params['nat_chain']:
        raise InvalidValue('filter_chain and nat_chain must differ (both %r)' % params['nat_chain'])
    for name in ('config_dir', 'restore_command', 'sysctl_file', 'modules_file', 'unit_dir'):
        if not _PATH_RE.match(params[name] or '') or params[name].rstrip('/') == '':
            raise InvalidValue('%s must be an absolute path of letters, digits and . _ - + @ / (got %r)' % (name, params[name]))
    if not re.match(r'^[A-Za-z0-9_.@-]+\.service$', params['boot_unit'] or ''):
        raise InvalidValue('boot_unit must be a unit name ending in .service (got %r)' % params['boot_unit'])
    if params['boot_wait'] < 0:
        raise InvalidValue('boot_wait must be 0 or more seconds (got %r)' % params['boot_wait'])
    networks = parse_networks(params['networks'])
    if params['state'] == 'present' and not (networks[4] or networks[6]):
        raise InvalidValue('networks must hold at least one IPv4 or IPv6 network with state=present')
    return networks


def chain_rules(family, networks, masquerade):
    """{(table, our chain option): [rules as iptables-save prints them]} of one family."""
    multicast = FAMILIES[family]['multicast']
    accept = []
    nat = []
    for network in networks:
        accept += ['-s %s -j ACCEPT' % network, '-d %s -j ACCEPT' % network]
        if masquerade:
            # Cluster -> cluster is never translated, multicast neither; the rest leaving it is.
            nat += ['-s %s -d %s -j RETURN' % (network, other) for other in networks]
            nat += ['-s %s -d %s -j RETURN' % (network, multicast), '-s %s -j MASQUERADE' % network]
    return {'filter': accept, 'nat': nat}


def rules_file(chains, params):
    """The rules file of one family, for ``<tool>-restore --noflush`` (replaces our chains only)."""
    lines = [HEADER.rstrip('\n'),
             '# Our chains only: `-restore --noflush` replaces their rules and touches nothing else.',
             '# %s adds the jumps to them.' % params['restore_command']]
    for table, _builtin, option in JUMPS:
        chain = params[option]
        lines += ['*%s' % table, ':%s - [0:0]' % chain] + ['-A %s %s' % (chain, rule) for rule in chains[table]] + ['COMMIT']
    return '\n'.join(lines) + '\n'


def sysctl_file(families):
    lines = [HEADER.rstrip('\n'), '# Hosts route their containers\' traffic.']
    lines += ['%s = 1' % FAMILIES[family]['sysctl'] for family in sorted(families)]
    return '\n'.join(lines) + '\n'


def modules_file():
    return HEADER + MODULE_NAME + '\n'


def restore_script(params):
    """The replay command: modules and sysctls, each family's rules file and jumps, the batch files."""
    jumps = ''.join('    ensure_jump "$1" %s %s %s || return 1\n' % (table, builtin, params[option])
                    for table, builtin, option in JUMPS)
    return _RESTORE_SCRIPT % dict(
        header=HEADER.rstrip('\n'), conf_dir=params['config_dir'], sysctl_file=params['sysctl_file'],
        modules_file=params['modules_file'], unit=params['boot_unit'], jumps=jumps)


def boot_unit(params):
    wait = int(params['boot_wait'])
    return _BOOT_UNIT % dict(header=HEADER.rstrip('\n'), command=params['restore_command'], wait=wait, timeout=wait + 60)


def want_files(params, families, with_modules, with_unit):
    """{path: (content, mode)} of the files we own that must exist; the others of ours must not."""
    files = {
        params['sysctl_file']: (sysctl_file(families), 0o644),
        params['restore_command']: (restore_script(params), 0o755),
    }
    for family, chains in sorted(families.items()):
        files[os.path.join(params['config_dir'], FAMILIES[family]['rules'])] = (rules_file(chains, params), 0o644)
    if with_modules:
        files[params['modules_file']] = (modules_file(), 0o644)
    if with_unit:
        files[unit_path(params)] = (boot_unit(params), 0o644)
    return files


def our_paths(params):
    """Every file this module may own, whatever the state wants."""
    return [unit_path(params), params['restore_command'], params['sysctl_file'], params['modules_file']] + [
        os.path.join(params['config_dir'], FAMILIES[family]['rules']) for family in sorted(FAMILIES)]


def unit_path(params):
    return os.path.join(params['unit_dir'], params['boot_unit'])


# ---- have --------------------------------------------------------------------------
def parse_save(text):
    """``iptables-save`` output -> {table: {'chains': set, 'rules': [lines starting with -A]}}."""
    tables = {}
    table = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith('*'):
            table = tables.setdefault(line[1:], dict(chains=set(), rules=[]))
        elif table is None:
            continue
        elif line.startswith(':'):
            table['chains'].add(line[1:].split(' ', 1)[0])
        elif line.startswith('-A '):
            table['rules'].append(line)
    return tables


def chain_content(tables, table, chain):
    """The rules of one chain (without ``-A CHAIN``), or None when the chain does not exist."""
    entry = tables.get(table) or dict(chains=set(), rules=[])
    if chain not in entry['chains']:
        return None
    prefix = '-A %s ' % chain
    return [rule[len(prefix):] for rule in entry['rules'] if rule.startswith(prefix)]


def jump_count(tables, table, builtin, chain):
    entry = tables.get(table) or dict(rules=[])
    return entry['rules'].count('-A %s -j %s' % (builtin, chain))


# ---- plan --------------------------------------------------------------------------
class Step:
    """One change: what ``commands`` shows, and how to do it (an argv, or a file operation)."""

    def __init__(self, command, argv=None, write=None, remove=None, mkdir=None, tolerate=False):
        self.command = command
        self.argv = argv
        self.write = write      # (path, content, mode)
        self.remove = remove    # path
        self.mkdir = mkdir      # path
        # A step allowed to fail (modprobe of a module the kernel may not have): the
        # steps naming it in ``needs`` are dropped then.
        self.tolerate = tolerate
        self.needs = None


class Steps:
    """The ordered plan; :class:`_reconcile.Reconcile` applies it and reports its commands."""

    def __init__(self):
        self.steps = []

    def add(self, step):
        self.steps.append(step)
        return step

    def __bool__(self):
        return bool(self.steps)

    __nonzero__ = __bool__

    def commands(self):
        return [step.command for step in self.steps]


def _write_step(path, content, mode, before):
    verb = 'write' if before is None else 'rewrite'
    return Step('%s %s (mode %04o)' % (verb, path, mode), write=(path, content, mode))


def compute_plan(params, networks, have):
    """The steps from *have* to *want*, in the order they must run.

    ``have``: ``sysctls`` {key: value or None}, ``firewall`` {family: parse_save() or
    None where the tool is missing}, ``files`` {path: (content, mode) or None},
    ``module_loaded`` (in /sys/module), ``module_active`` (its sysctls exist), ``module_available``
    (the kernel has it), ``systemd`` (bool),
    ``unit_enabled`` (bool), ``config_dir_exists`` (bool).
    Returns dict(plan, families, want_files, before, after, warnings).
    """
    plan = Steps()
    warnings = []
    present = params['state'] == 'present'
    families = {}
    if present:
        for family in (4, 6):
            if networks[family]:
                if have['firewall'].get(family) is None:
                    raise InvalidValue('%s-save is not installed: the %s networks %s need it'
                                       % (FAMILIES[family]['tool'], 'IPv%d' % family, ', '.join(networks[family])))
                families[family] = chain_rules(family, networks[family], params['masquerade'])

    # 1. The kernel: forwarding on (never turned off: Docker needs it too), br_netfilter.
    for family in sorted(families):
        key = FAMILIES[family]['sysctl']
        if have['sysctls'].get(key) != '1':
            plan.add(Step('sysctl -q -w %s=1' % key, argv=['sysctl', '-q', '-w', '%s=1' % key]))
    # The modules file lists what the boot replay must load, and it loads what /sys/module
    # does not show: only a module seen there, or loaded now, goes in. Active but not there
    # (built in, or a container's view of the host's kernel): nothing to load, no file.
    modprobe = None
    wanted_module = present and params['br_netfilter']
    with_modules = wanted_module and (have['module_loaded'] or (not have['module_active'] and have['module_available']))
    if with_modules and not have['module_loaded']:
        modprobe = plan.add(Step('modprobe %s' % MODULE_NAME, argv=['modprobe', MODULE_NAME], tolerate=True))

    # 2. Files: written before the firewall is loaded from them.
    with_unit = present and have['systemd']
    wanted = want_files(params, families, with_modules, with_unit) if present else {}
    if wanted and not have['config_dir_exists']:
        plan.add(Step('mkdir -m 0755 %s' % params['config_dir'], mkdir=params['config_dir']))
    changed_files = set()
    for path in our_paths(params):
        before = have['files'].get(path)
        if path in wanted and before != wanted[path]:
            step = plan.add(_write_step(path, wanted[path][0], wanted[path][1], before))
            changed_files.add(path)
            if path == params['modules_file']:
                step.needs = modprobe
        elif path not in wanted and before is not None and path != unit_path(params):
            # The unit file goes after it was disabled (below).
            plan.add(Step('rm -f %s' % path, remove=path))
            changed_files.add(path)

    # 3. The firewall of each family: our chains from the rules file, the jumps at the top.
    before_lines, after_lines = [], []
    for family in sorted(FAMILIES):
        tables = have['firewall'].get(family)
        tool = FAMILIES[family]['tool']
        if tables is None:
            continue
        rules_path = os.path.join(params['config_dir'], FAMILIES[family]['rules'])
        for table, builtin, option in JUMPS:
            chain = params[option]
            live = chain_content(tables, table, chain)
            jumps = jump_count(tables, table, builtin, chain)
            if live is not None:
                before_lines += ['%s -t %s -A %s %s' % (tool, table, chain, rule) for rule in live]
            before_lines += ['%s -t %s -A %s -j %s' % (tool, table, builtin, chain)] * jumps
            if family in families:
                after_lines += ['%s -t %s -A %s %s' % (tool, table, chain, rule) for rule in families[family][table]]
                after_lines += ['%s -t %s -A %s -j %s' % (tool, table, builtin, chain)]
        if family in families:
            stale = rules_path in changed_files or any(
                chain_content(tables, table, params[option]) != families[family][table] for table, _b, option in JUMPS)
            if stale:
                plan.add(Step('%s-restore -w --noflush %s' % (tool, rules_path), argv=['%s-restore' % tool, '-w', '--noflush', rules_path]))
            for table, builtin, option in JUMPS:
                if not jump_count(tables, table, builtin, params[option]):
                    argv = [tool, '-w', '-t', table, '-I', builtin, '1', '-j', params[option]]
                    plan.add(Step(' '.join(argv), argv=argv))
        else:
            # Not (or no longer) wanted in this family: every copy of each jump, then the chains.
            for table, builtin, option in JUMPS:
                argv = [tool, '-w', '-t', table, '-D', builtin, '-j', params[option]]
                for _copy in range(jump_count(tables, table, builtin, params[option])):
                    plan.add(Step(' '.join(argv), argv=argv))
            for table, _builtin, option in JUMPS:
                if chain_content(tables, table, params[option]) is not None:
                    for flag in ('-F', '-X'):
                        argv = [tool, '-w', '-t', table, flag, params[option]]
                        plan.add(Step(' '.join(argv), argv=argv))

    # 4. The boot unit: systemd learns a new or changed unit, and its [Install] links follow.
    unit = unit_path(params)
    unit_before = have['files'].get(unit)
    if with_unit:
        if unit in changed_files:
            plan.add(Step('systemctl daemon-reload', argv=['systemctl', 'daemon-reload']))
            # reenable: also a unit enabled by an older file gets its current [Install] links.
            plan.add(Step('systemctl reenable %s' % params['boot_unit'], argv=['systemctl', 'reenable', params['boot_unit']]))
        elif not have['unit_enabled']:
            plan.add(Step('systemctl enable %s' % params['boot_unit'], argv=['systemctl', 'enable', params['boot_unit']]))
    elif unit_before is not None:
        if have['systemd']:
            plan.add(Step('systemctl disable %s' % params['boot_unit'], argv=['systemctl', 'disable', params['boot_unit']]))
        plan.add(Step('rm -f %s' % unit, remove=unit))
        if have['systemd']:
            plan.add(Step('systemctl daemon-reload', argv=['systemctl', 'daemon-reload']))
    if present and not have['systemd'] and params['restore_command'] in changed_files:
        warnings.append("no systemd here, so no boot unit was installed: run '%s all' from the init system at boot "
                        "(after the network is up, before Docker starts)" % params['restore_command'])

    before_files = dict((path, have['files'].get(path)) for path in our_paths(params))
    after_files = dict((path, wanted.get(path)) for path in our_paths(params))
    module_state = 'not wanted' if not wanted_module else 'loaded' if (
        have['module_loaded'] or have['module_active'] or with_modules) else 'unavailable'
    return dict(plan=plan, families=families, wanted=wanted, module_state=module_state, warnings=warnings,
                before=dict(kernel=before_lines, files=before_files), after=dict(kernel=after_lines, files=after_files))


def diff(result, params):
    """``--diff``: the kernel state (our chains, jumps, sysctls) and each of our files that changes."""
    def kernel(lines):
        return ''.join(line + '\n' for line in lines)

    diffs = [dict(before_header='kernel (our chains and jumps)', after_header='kernel (our chains and jumps)',
                  before=kernel(result['before']['kernel']), after=kernel(result['after']['kernel']))]
    for path in our_paths(params):
        before, after = result['before']['files'][path], result['after']['files'][path]
        if before != after:
            diffs.append(dict(before_header=path, after_header=path,
                              before=before[0] if before else '', after=after[0] if after else ''))
    return diffs


_RESTORE_SCRIPT = r'''#!/bin/sh
%(header)s
# crosshost-restore: replay the saved state of crosshost.network.
#   sysctl    the kernel modules of %(modules_file)s (when not loaded), then the
#             keys of %(sysctl_file)s that differ from the running kernel
#   firewall  our chains from %(conf_dir)s/iptables.rules (IPv4) and ip6tables.rules (IPv6),
#             each where it exists, plus the jumps to them
#   routes    every %(conf_dir)s/*.batch file, in name order, through `ip -force -batch`,
#             then every *.bridge file (FDB entries...) through `bridge -force -batch`
#   all       all three (the default; run at boot by %(unit)s where systemd runs)
# Safe to run again: our chains are replaced, not appended to, and the batch files
# use `replace`. Exits non-zero when anything failed (after trying everything).
# CROSSHOST_RESTORE_WAIT=N (the boot unit sets it): routes that fail because the
# underlay is not up yet (no device, no address for the gateway) are tried again
# every second for up to N seconds.
set -u
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
conf_dir='%(conf_dir)s'
sysctl_file='%(sysctl_file)s'
modules_file='%(modules_file)s'
wait_seconds=${CROSSHOST_RESTORE_WAIT:-0}
status=0

restore_sysctls() {
    rc=0
    if [ -f "$modules_file" ]; then
        for module in $(sed -e 's/#.*//' "$modules_file" | tr -s '[:space:]' ' '); do
            [ -d "/sys/module/$module" ] || modprobe "$module" || rc=1
        done
    fi
    [ -f "$sysctl_file" ] || return "$rc"
    # Only keys that differ are written (a read-only /proc/sys with the right value is fine).
    sed -e 's/#.*//' -e 's/[[:space:]]//g' "$sysctl_file" | {
        while IFS='=' read -r key value; do
            [ -n "$key" ] || continue
            [ "$(cat "/proc/sys/$(echo "$key" | tr . /)" 2>/dev/null)" = "$value" ] && continue
            sysctl -q -w "$key=$value" || rc=1
        done
        exit "$rc"
    }
}

ensure_jump() {  # TOOL TABLE CHAIN TARGET: one jump, at the top when missing
    "$1" -w -t "$2" -C "$3" -j "$4" 2>/dev/null || "$1" -w -t "$2" -I "$3" 1 -j "$4"
}

restore_family() {  # TOOL RULES: our chains from the rules file, then the jumps to them
    [ -f "$2" ] || return 0
    "$1-restore" -w --noflush "$2" || return 1
%(jumps)s}

restore_firewall() {
    rc=0
    restore_family iptables "$conf_dir/iptables.rules" || rc=1
    restore_family ip6tables "$conf_dir/ip6tables.rules" || rc=1
    return "$rc"
}

# shellcheck disable=SC2317  # called through retry
replay_all() {  # every batch file once; non-zero when a line of any of them failed
    rc=0
    for batch in "$conf_dir"/*.batch; do
        [ -f "$batch" ] || continue
        ip -force -batch "$batch" || { echo "crosshost-restore: errors in $batch" >&2; rc=1; }
    done
    for batch in "$conf_dir"/*.bridge; do
        [ -f "$batch" ] || continue
        bridge -force -batch "$batch" || { echo "crosshost-restore: errors in $batch" >&2; rc=1; }
    done
    return "$rc"
}

retry() {  # COMMAND...: quiet tries for wait_seconds while the underlay comes up, then one that reports its errors
    deadline=$(($(date +%%s) + wait_seconds))
    while [ "$(date +%%s)" -lt "$deadline" ]; do
        "$@" 2>/dev/null && return 0
        sleep 1
    done
    "$@"
}

restore_routes() {
    retry replay_all
}

case "${1:-all}" in
    all)
        restore_sysctls || { echo "crosshost-restore: sysctls not restored" >&2; status=1; }
        restore_firewall || { echo "crosshost-restore: firewall chains not restored" >&2; status=1; }
        restore_routes || status=1
        ;;
    sysctl)
        restore_sysctls || status=1
        ;;
    firewall)
        restore_firewall || status=1
        ;;
    routes)
        restore_routes || status=1
        ;;
    *)
        echo "usage: $0 [all|sysctl|firewall|routes]" >&2
        exit 2
        ;;
esac
exit "$status"
'''

_BOOT_UNIT = '''%(header)s
# Boot replay of crosshost.network's forwarding state: sysctls, firewall chains, routes.
# - After network-online.target: the routes need the underlay device and its address
#   (and the script keeps trying for CROSSHOST_RESTORE_WAIT seconds when the underlay
#   is late). Loading our chains this late opens nothing: they only accept or
#   masquerade, and no container runs before Docker.
# - Before docker.service, and wanted by it: Docker (also when socket-activated) starts
#   with our routes, chains and sysctls in place, inserts its own jumps above ours and
#   restarts its containers onto a routed network. A failed replay does not keep Docker
#   down (Wants=, not Requires=).
# - No ExecStop: stopping the unit (or shutting down) leaves the kernel state alone.
[Unit]
Description=crosshost.network: restore container routes, firewall chains and sysctls
Documentation=https://github.com/crosshost/network
Wants=network-online.target
After=network-online.target
Before=docker.service

[Service]
Type=oneshot
RemainAfterExit=yes
Environment=CROSSHOST_RESTORE_WAIT=%(wait)d
ExecStart=%(command)s all
TimeoutStartSec=%(timeout)d

[Install]
WantedBy=multi-user.target docker.service
'''
