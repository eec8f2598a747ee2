# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a block of a benchmark cost: wall seconds and the CPU seconds of the processes it ran."""

from __future__ import absolute_import, division, print_function

import collections
import resource
import time


class Timing(collections.namedtuple('Timing', 'wall cpu')):
    """Wall seconds and CPU seconds (user + system of the processes started and waited for)."""

    def __add__(self, other):
        return Timing(self.wall + other.wall, self.cpu + other.cpu)


class timed:
    """``with timed() as clock: ...`` then ``clock.timing``: what the block cost."""

    def __enter__(self):
        self._usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        self._start = time.monotonic()
        return self

    def __exit__(self, *exc):
        wall = time.monotonic() - self._start
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.timing = Timing(wall, usage.ru_utime - self._usage.ru_utime + usage.ru_stime - self._usage.ru_stime)
        return False
