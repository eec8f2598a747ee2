#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: docker_daemon_config
short_description: Reconcile the keys we own in Docker's daemon.json and tell whether the daemon must restart
version_added: 0.1.0
description:
  - Reads O(path) once, sets the keys of O(set), removes those of O(remove), keeps every other key, and writes the
    file back (with a backup of the old one) only when the result differs.
  - Tells whether the running daemon must restart to use the file (RV(restart_needed)), when the file changed, when
    the running daemon's default bridge network (C(docker network inspect bridge)) has another bridge, gateway or MTU
    than the file asks for, or when the record O(applied_file) of the last restart differs from the file (a run
    interrupted before the restart, a restart that failed). The module never restarts Docker itself; the caller does,
    then writes the record (RV(config) is its content).
  - Looks for the Docker daemon (O(dockerd)) and reads its version (RV(installed), RV(version)), in check mode
    too; with O(skip_missing) a host without it is left as it is.
  - A file that is not a JSON object fails, naming the file and the line, and is left as it is.
author: crosshost.network contributors (@crosshost)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The file before and after, as JSON.
  platform:
    platforms: posix
options:
  path:
    description: Docker's daemon configuration file.
    type: path
    default: /etc/docker/daemon.json
  set:
    description: Keys to set, with their values.
    type: dict
    default: {}
  remove:
    description: Keys that must not be in the file (a key in both O(set) and O(remove) is set).
    type: list
    elements: str
    default: []
  applied_file:
    description:
      - The record of the configuration the running daemon was last restarted with (JSON). A record that differs from
        the file means a restart is needed; a missing record too (the daemon was never restarted by its caller).
      - Unset, no record is compared.
    type: path
  restart:
    description:
      - Whether the caller restarts the daemon when RV(restart_needed). When false the module warns that a restart is
        pending, and compares no record.
    type: bool
    default: true
  allow_direct_routing:
    description:
      - V(true) sets C(allow-direct-routing=true) where the installed engine is Docker 28 or later (it lifts Docker 28's
        filter of traffic routed to container addresses) and removes the key on older engines, which refuse to start
        with it. V(false) removes the key.
      - Where it is not set, a key C(allow-direct-routing) in O(set) stays. Unset, the key is left to O(set) and O(remove).
    type: bool
  dockerd:
    description: The Docker daemon's binary (a name looked up in C(PATH) and the sbin directories, or a path).
    type: str
    default: dockerd
  skip_missing:
    description:
      - Where O(dockerd) is not installed, change and compare nothing and return RV(installed) V(false) (the caller
        installs Docker or skips the host). When false the file is written anyway.
    type: bool
    default: false
  backup:
    description:
      - Keep a timestamped copy of the file before it is rewritten, unless it holds just what O(applied_file) records
        (the configuration this module last applied), so that no copy of our own file piles up.
    type: bool
    default: true
'''

EXAMPLES = r'''
- name: Docker on the host's subnet, without its own masquerading
  crosshost.network.docker_daemon_config:
    set:
      bip: 100.64.1.1/24
      mtu: 1450
      ip-masq: false
    remove: [bridge]
    applied_file: /etc/crosshost/docker-daemon.applied.json
    allow_direct_routing: true
    skip_missing: true
  register: docker_config
  changed_when: docker_config.changed or docker_config.restart_needed
  notify: Restart Docker
'''

RETURN = r'''
installed:
  description: Whether the Docker daemon (O(dockerd)) is installed. With O(skip_missing) nothing else was done when not.
  returned: always
  type: bool
version:
  description: The installed engine's version (C(dockerd --version)); empty when it is not installed or tells none.
  returned: always
  type: str
  sample: 20.10.24
config:
  description: The whole configuration the file holds after the run (in check mode, would hold).
  returned: always
  type: dict
  sample: {"bip": "100.64.1.1/24", "mtu": 1450, "ip-masq": false, "log-driver": "journald"}
restart_needed:
  description: Whether the running daemon must restart to use RV(config).
  returned: always
  type: bool
restart_reason:
  description: Why a restart is needed (what the daemon runs, what is wanted); empty when none is.
  returned: always
  type: str
  sample: "docker: the daemon runs bridge docker0 gateway 172.17.0.1/16 mtu 1500; want docker0 100.64.1.1/24 mtu 1450"
backup_file:
  description: The copy of the old file, when one was made.
  returned: when the file was rewritten and O(backup) is true
  type: str
commands:
  description: What was (in check mode, would be) done to the file.
  returned: always
  type: list
  elements: str
  sample: ["write /etc/docker/daemon.json (keys bip, ip-masq, mtu)"]
'''

import json
import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.crosshost.network.plugins.module_utils._checks import parse_json_file
from ansible_collections.crosshost.network.plugins.module_utils._files import read_file, write_file
from ansible_collections.crosshost.network.plugins.module_utils._iproute import C_LOCALE


def to_json(config):
    """The file's text, as ansible.builtin.to_nice_json(indent=2) writes it."""
    return json.dumps(config, indent=2, sort_keys=True, separators=(',', ': ')) + '\n'


def read_text(path):
    content = read_file(path)
    return content[0] if content else None


def wanted_config(current, set_keys, remove):
    config = dict((key, value) for key, value in current.items() if key not in remove)
    config.update(set_keys)
    return config


# Docker 28 filters traffic routed to container addresses unless allow-direct-routing
# is set; older engines do not know the key and refuse to start with it.
DIRECT_ROUTING_SINCE = (28, 0)


def engine_version(text):
    """``'28.1.1'`` from ``Docker version 28.1.1, build 4eba377``; '' when there is none."""
    match = re.search(r'[0-9]+\.[0-9]+(\.[0-9]+)?', text or '')
    return match.group(0) if match else ''


def direct_routing(set_keys, remove, version, allow):
    """(set, remove) with allow-direct-routing decided by ``allow`` and the engine version (None: left as given)."""
    key = 'allow-direct-routing'
    if allow is None:
        return set_keys, remove
    numbers = tuple(int(part) for part in version.split('.')[:2]) if version else (0, 0)
    if allow and numbers >= DIRECT_ROUTING_SINCE:
        return dict(set_keys, **{key: True}), remove
    return set_keys, list(remove) + [key]


def installed_version(module):
    """(installed, version) of the Docker daemon."""
    dockerd = module.get_bin_path(module.params['dockerd'])
    if not dockerd:
        return False, ''
    rc, out, _err = module.run_command([dockerd, '--version'], environ_update=C_LOCALE)
    return True, engine_version(out) if rc == 0 else ''


def live_bridge(module):
    """(name, gateway/prefix, mtu) of the running daemon's default bridge network, or None when it does not answer."""
    docker = module.get_bin_path('docker')
    if not docker:
        return None
    rc, out, _err = module.run_command([docker, 'network', 'inspect', 'bridge'], environ_update=C_LOCALE)
    if rc != 0:
        return None
    try:
        network = (json.loads(out) or [{}])[0]
    except ValueError:
        return None
    options = network.get('Options') or {}
    ipam = ((network.get('IPAM') or {}).get('Config') or [{}])[0]
    prefix = (ipam.get('Subnet') or '/').split('/')[-1]
    return (options.get('com.docker.network.bridge.name', 'docker0'), '%s/%s' % (ipam.get('Gateway', ''), prefix),
            int(options.get('com.docker.network.driver.mtu', 1500)))


def restart_reason(config, live, record_ok, path):
    """Why the daemon must restart, or '' when it runs ``config`` already."""
    bridge = config.get('bridge') or 'docker0'
    mtu = int(config.get('mtu', 1500))
    # With a bridge of ours Docker takes the bridge's own address, and without bip (an
    # IPv6-only cluster) it picks its own subnet: only docker0 with a bip has a gateway to compare.
    want = (bridge, config.get('bip') if bridge == 'docker0' else None, mtu)
    live_ok = live is not None and (live[0], live[1] if want[1] else None, live[2]) == want
    if live_ok and record_ok:
        return ''
    runs = 'is not running' if live is None else 'runs bridge %s gateway %s mtu %d' % live
    return 'docker: the daemon %s%s; want %s%s mtu %d' % (
        runs, '' if record_ok else ', not restarted since %s changed' % path,
        bridge, ' %s' % want[1] if want[1] else '', mtu)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', default='/etc/docker/daemon.json'),
            set=dict(type='dict', default={}),
            remove=dict(type='list', elements='str', default=[]),
            applied_file=dict(type='path'),
            restart=dict(type='bool', default=True),
            backup=dict(type='bool', default=True),
            allow_direct_routing=dict(type='bool'),
            dockerd=dict(type='str', default='dockerd'),
            skip_missing=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    path = params['path']
    installed, version = installed_version(module)
    if not installed and params['skip_missing']:
        module.exit_json(changed=False, installed=False, version='', config={}, restart_needed=False, restart_reason='',
                         commands=[])
    set_keys, remove = direct_routing(params['set'], params['remove'], version, params['allow_direct_routing'])
    text = read_text(path)
    try:
        current = parse_json_file(path, text)
    except ValueError as exc:
        module.fail_json(msg='docker: %s' % exc)
    config = wanted_config(current, set_keys, [key for key in remove if key not in set_keys])

    record = None
    if params['restart'] and params['applied_file']:
        record_text = read_text(params['applied_file'])
        try:
            record = parse_json_file(params['applied_file'], record_text) if record_text is not None else None
        except ValueError:
            record = None

    result = dict(config=config, commands=[], changed=False, installed=installed, version=version)
    if config != current or text is None:
        changed_keys = sorted(key for key in set(config) | set(current) if config.get(key) != current.get(key))
        result['commands'].append('write %s (keys %s)' % (path, ', '.join(changed_keys) or 'none'))
        result['changed'] = True
        if not module.check_mode:
            # A file that is what we last applied is ours: backing it up again would only
            # pile copies up beside it. Anything else (the user's file, a hand edit) is kept.
            if text is not None and params['backup'] and current != record:
                result['backup_file'] = module.backup_local(path)
            write_file(module, path, to_json(config))

    record_ok = True
    if params['restart'] and params['applied_file']:
        record_ok = record == config
    reason = restart_reason(config, live_bridge(module), record_ok, path)
    if result['changed'] and not reason:
        reason = 'docker: %s changed' % path
    result.update(restart_needed=bool(reason), restart_reason=reason)
    if reason and not params['restart']:
        module.warn('%s; but restart is false: restart the daemon yourself, then recreate the containers to give them '
                    'addresses of the new subnet' % reason)
    if module._diff:
        result['diff'] = dict(before_header=path, after_header=path,
                              before=to_json(current) if text is not None else '', after=to_json(config))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
