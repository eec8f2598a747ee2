# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A kernel batch and the files that persist it, for the modules that write their own boot files.

``container_bridge`` and ``persistent_routes`` apply one ``ip -batch`` and then write
(or remove) the files of ours that replay it at boot, computed from the same state: the
boot replay and the runtime cannot disagree. The files go after the kernel: a failed
batch leaves the old files, and the next run repairs both.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.crosshost.network.plugins.module_utils._files import read_file, remove_file, write_file
from ansible_collections.crosshost.network.plugins.module_utils._iproute import InvalidValue, Plan

FILE_MODE = 0o644
# Paths are ours to write: absolute, no whitespace.
_PATH_RE = re.compile(r'^/[^\s]*[^\s/]$')


def header(module_name):
    """The first line of a file we own."""
    return '# Managed by crosshost.network (%s module): replaced on every run, edit its arguments instead.\n' % module_name


def check_path(path, what):
    if path is not None and not _PATH_RE.match(path):
        raise InvalidValue('%s must be an absolute file path without whitespace (got %r)' % (what, path))
    return path


def read_files(paths):
    """{path: (content, mode) or None} of the files we may own (None paths are skipped)."""
    return dict((path, read_file(path)) for path in paths if path)


class Batch:
    """One ``ip -batch`` (run first), then the files: what check mode, ``commands`` and ``--diff`` show."""

    def __init__(self):
        self.ip = Plan()
        self.files = []         # (path, content or None to remove)
        self.file_diffs = []

    def __bool__(self):
        return bool(self.ip) or bool(self.files)

    __nonzero__ = __bool__

    def persist(self, path, content, have):
        """Make ``path`` hold ``content`` (None: not exist), given its ``have`` (read_file())."""
        if content is None:
            if have is not None:
                self.files.append((path, None))
                self.file_diffs.append(dict(before_header=path, after_header=path, before=have[0], after=''))
        elif have != (content, FILE_MODE):
            self.files.append((path, content))
            self.file_diffs.append(dict(before_header=path, after_header=path, before=have[0] if have else '', after=content))

    def commands(self):
        return self.ip.commands() + ['rm -f %s' % path if content is None else 'write %s (mode %04o)' % (path, FILE_MODE)
                                     for path, content in self.files]

    def apply(self, module, ipr):
        ipr.apply(self.ip)
        for path, content in self.files:
            if content is None:
                remove_file(module, path)
            else:
                write_file(module, path, content, FILE_MODE)
