# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Where a module acts: the host, a named netns, a process's netns, or a container's.
    DOCUMENTATION = r'''
options:
  netns:
    description:
      - Act inside this named network namespace (as listed by C(ip netns list)).
      - Mutually exclusive with O(pid) and O(container).
    type: str
  pid:
    description:
      - Act inside the network namespace of this process ID.
      - Mutually exclusive with O(netns) and O(container).
    type: int
  container:
    description:
      - Act inside the network namespace of this running Docker container (name or ID).
      - Mutually exclusive with O(netns) and O(pid).
    type: str
notes:
  - Commands run with the C locale; state is read with C(ip -json) and changes are applied
    in one C(ip -batch -) (and one C(bridge -batch -)) call per module run.
requirements:
  - iproute2 (C(ip), C(bridge)) and C(nsenter) (util-linux) on the target.
'''
