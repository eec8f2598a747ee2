# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The attributes of a module that only reads (facts and probes).
    DOCUMENTATION = r'''
attributes:
  check_mode:
    description: Fully supported; the module never changes anything.
    support: full
  diff_mode:
    description: Nothing changes, so there is never a diff.
    support: none
'''
