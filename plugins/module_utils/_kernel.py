# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether the running kernel provides a feature (module), read from /proc, /sys and
/lib/modules without loading anything. Shared by kernel_support and network_facts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import os


def _read(path, opener=open):
    try:
        with opener(path, 'rt') as handle:
            return handle.read()
    except (IOError, OSError):
        return ''


def kernel_config(text):
    """``CONFIG_X=y|m`` lines -> ``{'CONFIG_X': 'y'}``."""
    result = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition('=')
        if sep and key.startswith('CONFIG_'):
            result[key] = value
    return result


def module_names(text):
    """Module names in modules.builtin / modules.dep (``kernel/drivers/net/vxlan/vxlan.ko:``)."""
    names = set()
    for line in text.splitlines():
        path = line.split(':', 1)[0].strip()
        if path:
            names.add(os.path.basename(path).split('.ko')[0].replace('-', '_'))
    return names


def probe(features, root='/'):
    """``{feature: 'loaded'|'builtin'|'module'|'missing'}``; ``root`` only for tests."""
    def path(*parts):
        return os.path.join(root, *parts)

    release = os.uname()[2]
    loaded = set(line.split(' ', 1)[0] for line in _read(path('proc/modules')).splitlines())
    modules_dir = path('lib', 'modules', release)
    builtin = module_names(_read(os.path.join(modules_dir, 'modules.builtin')))
    installed = module_names(_read(os.path.join(modules_dir, 'modules.dep')))
    config = kernel_config(_read(path('proc/config.gz'), gzip.open) or _read(path('boot', 'config-' + release)))
    result = {}
    for feature in features:
        name = feature.replace('-', '_')
        option = config.get('CONFIG_' + name.upper())
        if name in loaded or os.path.isdir(path('sys', 'module', name)):
            result[feature] = 'loaded'
        elif name in builtin or option == 'y':
            result[feature] = 'builtin'
        elif name in installed or option == 'm':
            result[feature] = 'module'
        elif config or builtin or installed:
            result[feature] = 'missing'
        else:
            # Nothing tells (a container without /lib/modules, a kernel without its
            # config): do not refuse what may well be there.
            result[feature] = 'unknown'
    return result


def available(how):
    """``probe()``'s answer -> ``{feature: bool}``: only what is known to be missing is refused."""
    return dict((feature, state != 'missing') for feature, state in how.items())
