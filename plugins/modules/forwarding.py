#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: forwarding
short_description: Reconcile a host's forwarding state for routed container traffic (sysctls, chains, boot replay)
version_added: 0.1.0
description:
  - Reads the host's forwarding state once (the forwarding sysctls, C(br_netfilter), our firewall chains and
    the jumps to them in both address families, the files we own), computes the difference with O(networks)
    and applies it in one ordered batch; what check mode, C(--diff) and RV(commands) show is that batch.
  - For each family that O(networks) holds (IPv4, IPv6 or both) it turns forwarding on
    (C(net.ipv4.ip_forward), C(net.ipv6.conf.all.forwarding)), keeps two chains of ours in C(iptables)
    resp. C(ip6tables) (filter O(filter_chain) jumped to from the top of C(FORWARD), accepting from and to the
    cluster networks; nat O(nat_chain) jumped to from the top of C(POSTROUTING), masquerading what leaves them,
    never traffic between them nor multicast) and writes them to a rules file of the family in O(config_dir)
    (C(iptables.rules), C(ip6tables.rules)). The chains are loaded from that very file with
    C(<tool>-restore --noflush) (which replaces our chains' rules only), so the running chains and the ones
    replayed at boot are the same. A family no longer in O(networks) loses our chains, jumps and rules file.
  - Persists the forwarding sysctls in O(sysctl_file), C(br_netfilter) in O(modules_file) (only where the
    kernel has it; a kernel or container without it is fine), and installs the replay command
    O(restore_command) (C(all), C(sysctl), C(firewall) or C(routes)), which also replays every C(*.batch) file
    of O(config_dir) through C(ip -force -batch) and every C(*.bridge) file through C(bridge -force -batch).
  - Where systemd runs, installs the oneshot unit O(boot_unit) running the replay after
    C(network-online.target) and before (wanted by) C(docker.service), and enables it (C(systemctl
    daemon-reload), C(reenable) when the unit file changed). Without systemd it warns that the init system
    must run C(<restore_command> all) at boot.
  - O(state=absent) removes only what is ours, the jumps to our chains (every copy), our chains, our files and
    the unit. Forwarding itself stays on (Docker needs it too).
  - Forwarding is never turned off, and nothing but our own chains, jumps and files is changed.
author: crosshost.network contributors (@crosshost)
extends_documentation_fragment:
  - crosshost.network.target
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: One diff for the kernel (our chains and jumps of both families), one per file of ours that changes.
  platform:
    platforms: posix
options:
  state:
    description: V(present) reconciles the state above; V(absent) removes what is ours.
    type: str
    choices: [present, absent]
    default: present
  networks:
    description:
      - The cluster's container networks (CIDR with host bits zero), IPv4 and/or IPv6, e.g. V(100.64.0.0/16)
        and V(2001:db8:100::/48). At least one with O(state=present).
      - A family appears (chains, rules file, forwarding sysctl) exactly when one of its networks is listed.
    type: list
    elements: str
    default: []
  masquerade:
    description:
      - Masquerade traffic from the cluster networks to anywhere outside them (both families).
      - When false the nat chain stays empty; let Docker masquerade then.
    type: bool
    default: true
  br_netfilter:
    description: Load C(br_netfilter) (and persist it in O(modules_file)) where the kernel has the module.
    type: bool
    default: true
  filter_chain:
    description: Our chain in the filter table (both families), jumped to from C(FORWARD).
    type: str
    default: CROSSHOST-FWD
  nat_chain:
    description: Our chain in the nat table (both families), jumped to from C(POSTROUTING).
    type: str
    default: CROSSHOST-POSTRTG
  config_dir:
    description: Directory of the saved state (the rules files; other roles put C(*.batch) and C(*.bridge) files there).
    type: path
    default: /etc/crosshost
  restore_command:
    description: Path of the replay command.
    type: path
    default: /usr/local/sbin/crosshost-restore
  sysctl_file:
    description: Persisted forwarding sysctls.
    type: path
    default: /etc/sysctl.d/60-crosshost.conf
  modules_file:
    description: Persisted kernel modules to load at boot.
    type: path
    default: /etc/modules-load.d/crosshost.conf
  boot_unit:
    description: Name of the systemd oneshot unit replaying the state at boot.
    type: str
    default: crosshost-routes.service
  unit_dir:
    description: Directory of O(boot_unit).
    type: path
    default: /etc/systemd/system
  boot_wait:
    description: Seconds the boot replay keeps trying routes whose underlay is not up yet (once a second).
    type: int
    default: 60
  systemd:
    description:
      - Whether systemd runs here (the unit is installed and enabled then).
      - Unset, the module looks for C(/run/systemd/system).
    type: bool
requirements:
  - C(iptables) (C(iptables-save), C(iptables-restore)); C(ip6tables) for IPv6 networks.
notes:
  - The forwarding sysctls are read and written in the target's network namespace; C(br_netfilter), the files
    and the unit are the host's, whatever the target.
  - Turning on C(net.ipv6.conf.all.forwarding) makes the kernel ignore router advertisements on interfaces
    with C(accept_ra=1); give such a host a static IPv6 underlay address and route (or C(accept_ra=2)).
'''

EXAMPLES = r'''
- name: Forwarding, our chains and the boot replay for a dual-stack cluster network
  crosshost.network.forwarding:
    networks:
      - 100.64.0.0/16
      - 2001:db8:100::/48

- name: IPv4 only, without masquerading (Docker masquerades)
  crosshost.network.forwarding:
    networks: [100.64.0.0/16]
    masquerade: false

- name: Remove our chains, jumps, files and unit
  crosshost.network.forwarding:
    state: absent
'''

RETURN = r'''
commands:
  description: The batch, in order (the commands run, the files written or removed); empty when nothing changed.
  returned: always
  type: list
  elements: str
  sample:
    - sysctl -q -w net.ipv6.conf.all.forwarding=1
    - write /etc/crosshost/ip6tables.rules (mode 0644)
    - ip6tables-restore -w --noflush /etc/crosshost/ip6tables.rules
    - ip6tables -w -t filter -I FORWARD 1 -j CROSSHOST-FWD
networks:
  description: The cluster networks per family, in canonical form.
  returned: always
  type: dict
  sample: {"ipv4": ["100.64.0.0/16"], "ipv6": ["2001:db8:100::/48"]}
chains:
  description: Per family (V(ipv4), V(ipv6)) the rules of our chains by table, as C(iptables-save) prints them.
  returned: always
  type: dict
  sample: {"ipv4": {"filter": ["-s 100.64.0.0/16 -j ACCEPT", "-d 100.64.0.0/16 -j ACCEPT"], "nat": []}}
files:
  description: The files of ours that exist after the run (in check mode, would exist).
  returned: always
  type: list
  elements: str
  sample: [/etc/sysctl.d/60-crosshost.conf, /usr/local/sbin/crosshost-restore, /etc/crosshost/iptables.rules]
br_netfilter:
  description: V(loaded) (before or by this run), V(unavailable) (the kernel has no such module), or V(not wanted).
  returned: always
  type: str
  sample: loaded
systemd:
  description: Whether the boot unit is managed (systemd runs here).
  returned: always
  type: bool
target:
  description: Where the sysctls and chains were reconciled (V(host), V(netns NAME) or V(pid N)).
  returned: always
  type: str
  sample: host
'''

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.crosshost.network.plugins.module_utils._files import read_file, write_file
from ansible_collections.crosshost.network.plugins.module_utils._forwarding import (
    FAMILIES,
    MODULE_NAME,
    check_options,
    compute_plan,
    diff,
    our_paths,
    parse_save,
    unit_path,
)
from ansible_collections.crosshost.network.plugins.module_utils._iproute import (
    C_LOCALE,
    TARGET_ARGUMENT_SPEC,
    TARGET_MUTUALLY_EXCLUSIVE,
)
from ansible_collections.crosshost.network.plugins.module_utils._kernel import probe
from ansible_collections.crosshost.network.plugins.module_utils._reconcile import Reconcile

# Programs that act on the host whatever the target namespace.
HOST_PROGRAMS = ('systemctl', 'modprobe')


class Host:
    """What the module reads and does on the host (and the target namespace)."""

    def __init__(self, run):
        self.run = run
        self.module = run.module

    def bin(self, name, required=True):
        return self.module.get_bin_path(name, required=required, opt_dirs=['/usr/sbin', '/sbin'])

    def command(self, argv):
        """Run one argv of the plan (the target's namespace unless it is a host program); fails with cmd/rc/stderr."""
        prefix = [] if argv[0] in HOST_PROGRAMS else None
        return self.run.ipr.run([self.bin(argv[0])] + list(argv[1:]), what=' '.join(argv[:2]), prefix=prefix)

    def sysctls(self):
        keys = [FAMILIES[family]['sysctl'] for family in sorted(FAMILIES)]
        if not self.run.ipr.prefix:
            values = {}
            for key in keys:
                content = read_file('/proc/sys/' + key.replace('.', '/'))
                values[key] = content[0].strip() if content else None
            return values
        # Another namespace: /proc/sys/net is the reader's, so sysctl reads it from inside.
        out = self.run.ipr.run([self.bin('sysctl'), '-e'] + keys, what='sysctl')
        values = dict((key, None) for key in keys)
        for line in out.splitlines():
            key, sep, value = line.partition('=')
            if sep:
                values[key.strip()] = value.strip()
        return values

    def firewall(self):
        """{family: parse_save() or None where the family's tools are not installed}."""
        result = {}
        for family in sorted(FAMILIES):
            save = self.bin(FAMILIES[family]['tool'] + '-save', required=False)
            result[family] = parse_save(self.run.ipr.run([save], what=FAMILIES[family]['tool'] + '-save')) if save else None
        return result

    def unit_enabled(self, unit):
        rc, out, _err = self.module.run_command([self.bin('systemctl'), 'is-enabled', unit], environ_update=C_LOCALE)
        return rc == 0 and out.strip() == 'enabled'

    def write(self, path, content, mode):
        write_file(self.module, path, content, mode)

    def remove(self, path):
        try:
            os.unlink(path)
        except OSError as exc:
            if os.path.lexists(path):
                self.module.fail_json(msg='cannot remove %s: %s' % (path, exc), path=path)

    def mkdir(self, path):
        try:
            os.makedirs(path, 0o755)
        except OSError as exc:
            if not os.path.isdir(path):
                self.module.fail_json(msg='cannot create %s: %s' % (path, exc), path=path)

    def apply(self, plan):
        """Every step in order; a tolerated step that fails drops the steps that need it."""
        failed = set()
        done = []
        for step in plan.steps:
            if step.needs is not None and id(step.needs) in failed:
                continue
            if step.write:
                self.write(*step.write)
            elif step.remove:
                self.remove(step.remove)
            elif step.mkdir:
                self.mkdir(step.mkdir)
            elif step.tolerate:
                rc, _out, err = self.module.run_command([self.bin(step.argv[0])] + step.argv[1:], environ_update=C_LOCALE)
                if rc != 0:
                    failed.add(id(step))
                    self.module.warn('forwarding: %s is not available here (%s); continuing without it'
                                     % (MODULE_NAME, err.strip() or 'rc=%d' % rc))
                    continue
            else:
                self.command(step.argv)
            done.append(step)
        # commands: what was done, not what was planned.
        plan.steps = done
        return failed


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            networks=dict(type='list', elements='str', default=[]),
            masquerade=dict(type='bool', default=True),
            br_netfilter=dict(type='bool', default=True),
            filter_chain=dict(type='str', default='CROSSHOST-FWD'),
            nat_chain=dict(type='str', default='CROSSHOST-POSTRTG'),
            config_dir=dict(type='path', default='/etc/crosshost'),
            restore_command=dict(type='path', default='/usr/local/sbin/crosshost-restore'),
            sysctl_file=dict(type='path', default='/etc/sysctl.d/60-crosshost.conf'),
            modules_file=dict(type='path', default='/etc/modules-load.d/crosshost.conf'),
            boot_unit=dict(type='str', default='crosshost-routes.service'),
            unit_dir=dict(type='path', default='/etc/systemd/system'),
            boot_wait=dict(type='int', default=60),
            systemd=dict(type='bool'),
            **TARGET_ARGUMENT_SPEC
        ),
        mutually_exclusive=TARGET_MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )
    params = module.params
    run = Reconcile(module)
    with run.checking():
        networks = check_options(params)
    host = Host(run)

    # have, read once.
    systemd = params['systemd'] if params['systemd'] is not None else os.path.isdir('/run/systemd/system')
    files = dict((path, read_file(path)) for path in our_paths(params))
    loaded = os.path.isdir('/sys/module/' + MODULE_NAME)
    active = loaded or os.path.isdir('/proc/sys/net/bridge')
    have = dict(
        sysctls=host.sysctls(),
        firewall=host.firewall(),
        files=files,
        module_loaded=loaded,
        module_active=active,
        module_available=active or probe([MODULE_NAME])[MODULE_NAME] != 'missing',
        systemd=systemd,
        unit_enabled=systemd and files[unit_path(params)] is not None and host.unit_enabled(params['boot_unit']),
        config_dir_exists=os.path.isdir(params['config_dir']),
    )
    with run.checking(name_target=True):
        result = compute_plan(params, networks, have)

    plan = result['plan']
    status = {}

    def apply(steps):
        status['failed'] = host.apply(steps)

    def br_netfilter():
        return 'unavailable' if status.get('failed') else result['module_state']

    def output():
        wanted = dict(result['wanted'])
        if status.get('failed'):
            wanted.pop(params['modules_file'], None)
        return dict(
            networks=dict(ipv4=networks[4], ipv6=networks[6]),
            chains=dict(('ipv%d' % family, chains) for family, chains in result['families'].items()),
            files=sorted(wanted),
            br_netfilter=br_netfilter(),
            systemd=systemd,
            target=run.ipr.target(),
        )

    warnings = list(result['warnings'])
    if params['state'] == 'present' and params['br_netfilter'] and not have['module_available']:
        warnings.append('forwarding: this kernel has no %s module; continuing without it' % MODULE_NAME)
    run.finish(plan, output(), diff=lambda: diff(result, params), warnings=warnings, apply=apply,
               read_back=output)


if __name__ == '__main__':
    main()
