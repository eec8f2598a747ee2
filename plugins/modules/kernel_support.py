#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: kernel_support
short_description: Tell whether the running kernel supports network features (vxlan, macvlan, ...)
version_added: 0.1.0
description:
  - Read-only probe for the preflight role. For each feature it tells whether the kernel
    can provide it now or on first use, without loading anything.
  - A feature is available when its module is loaded (C(/proc/modules) or C(/sys/module/<name>)),
    built in (C(modules.builtin), or C(=y) in the kernel config) or installed as a loadable
    module (C(modules.dep), or C(=m) in the kernel config); the kernel loads such a module
    when the device is first created.
  - The kernel config is read from C(/proc/config.gz), else C(/boot/config-<release>).
  - When neither the kernel config nor the module lists can be read (a container without
    C(/lib/modules), for example) a feature that is not loaded is V(unknown) and counted as
    available, as the probe refuses only what it knows is missing.
author: crosshost.network contributors (@crosshost)
extends_documentation_fragment:
  - crosshost.network.read_only
options:
  features:
    description:
      - Kernel modules to look for, by module name (V(vxlan), V(macvlan), V(bridge), ...).
    type: list
    elements: str
    required: true
attributes:
  facts:
    description: Returns RV(available) as C(ansible_facts.crosshost_kernel_support).
    support: full
'''

EXAMPLES = r'''
- name: Can this host carry a VXLAN overlay and macvlan attachments?
  crosshost.network.kernel_support:
    features: [vxlan, macvlan]
  register: kernel

- name: Refuse early
  ansible.builtin.assert:
    that: kernel.available.vxlan
'''

RETURN = r'''
ansible_facts:
  description: The facts.
  returned: always
  type: dict
  contains:
    crosshost_kernel_support:
      description: The same dict as RV(available).
      type: dict
      returned: always
      sample: {vxlan: true, macvlan: false}
available:
  description: Feature name -> whether the kernel provides it (now or on first use).
  returned: always
  type: dict
  sample: {vxlan: true, macvlan: false}
how:
  description:
    - Feature name -> how it is provided - V(loaded), V(builtin), V(module) - or V(missing),
      or V(unknown) when nothing on the host tells.
  returned: always
  type: dict
  sample: {vxlan: loaded, macvlan: missing}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.crosshost.network.plugins.module_utils._kernel import available, probe


def main():
    module = AnsibleModule(argument_spec=dict(features=dict(type='list', elements='str', required=True)),
                           supports_check_mode=True)
    how = probe(module.params['features'])
    features = available(how)
    module.exit_json(changed=False, how=how, available=features, ansible_facts=dict(crosshost_kernel_support=features))


if __name__ == '__main__':
    main()
