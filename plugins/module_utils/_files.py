# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The files our modules own: read them as they are, replace them whole (never half-written)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
import tempfile


def read_file(path):
    """(content, mode) of a file, or None when it does not exist (or cannot be read)."""
    try:
        with open(path) as handle:
            return handle.read(), stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
    except (IOError, OSError):
        return None


def write_file(module, path, content, mode=0o644):
    """Replace ``path`` by ``content`` atomically (a temporary file renamed over it); fail naming the path."""
    directory = os.path.dirname(path)
    try:
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        handle, temp = tempfile.mkstemp(prefix='.crosshost-', dir=directory)
        try:
            with os.fdopen(handle, 'w') as out:
                out.write(content)
            os.chmod(temp, mode)
            os.rename(temp, path)
        finally:
            if os.path.exists(temp):
                os.unlink(temp)
    except (IOError, OSError) as exc:
        module.fail_json(msg='cannot write %s: %s' % (path, exc), path=path)


def remove_file(module, path):
    """Remove ``path`` if it exists; fail naming the path."""
    try:
        os.unlink(path)
    except OSError as exc:
        if os.path.lexists(path):
            module.fail_json(msg='cannot remove %s: %s' % (path, exc), path=path)
