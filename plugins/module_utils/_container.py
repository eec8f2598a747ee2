# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Docker container name or ID, PID or netns name -> the network namespace we act in.

``container_pid(module, ref)`` is what iproute-based modules need (the PID to
``nsenter``). ``container_info`` and ``describe_namespace`` add what facts report:
the container's Docker network mode (``bridge``, ``host``, ``container:<peer>``,
``none`` or a user-defined network) and the namespace's inode, which tells whether two
targets share one namespace (host mode, container mode).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

_C_LOCALE = {'LANG': 'C', 'LC_ALL': 'C'}


def _docker_inspect(module, ref):
    """``docker inspect --type container REF`` -> (cmd, rc, parsed or None, stderr)."""
    docker = module.get_bin_path('docker', required=True)
    cmd = [docker, 'inspect', '--type', 'container', ref]
    rc, out, err = module.run_command(cmd, environ_update=_C_LOCALE)
    data = None
    if rc == 0:
        try:
            data = json.loads(out)[0]
        except (ValueError, IndexError, TypeError):
            data = None
    return cmd, rc, data, err


def inspect_container(module, ref):
    """``docker inspect`` of one container, or fail naming it."""
    cmd, rc, data, err = _docker_inspect(module, ref)
    if rc != 0 or data is None:
        if rc != 0 and 'no such' not in err.lower():
            # Daemon down, permission denied, ...: do not claim the container is missing.
            msg = 'docker inspect of container %r failed (rc=%d): %s' % (ref, rc, err.strip())
        else:
            msg = 'Docker container %r not found: %s' % (ref, err.strip() or 'docker inspect returned nothing')
        module.fail_json(msg=msg, cmd=cmd, rc=rc, stderr=err)
    return data


def container_pid(module, ref):
    """PID of a running container's init process; fail if it is not running."""
    return _running_pid(module, ref, inspect_container(module, ref))


def _running_pid(module, ref, data):
    state = data.get('State') or {}
    if not state.get('Running') or not state.get('Pid'):
        module.fail_json(msg='Docker container %r is not running (status %s)' % (ref, state.get('Status')))
    return int(state['Pid'])


def split_network_mode(mode):
    """Docker's ``HostConfig.NetworkMode`` -> (mode, peer reference or None).

    ``default`` (what ``docker run`` without ``--network`` stores on Linux) is the
    ``bridge`` mode; ``container:<name|id>`` becomes (``container``, ``<name|id>``).
    A user-defined network keeps its name.
    """
    mode = mode or 'default'
    if mode == 'default':
        return 'bridge', None
    if mode.startswith('container:'):
        return 'container', mode.split(':', 1)[1]
    return mode, None


def _short_name(data):
    return (data.get('Name') or '').lstrip('/') or None


def container_info(module, ref):
    """A running container's identity and network mode; fail if unknown or not running.

    Returns a dict: ``id``, ``name``, ``pid``, ``network_mode`` (see
    :func:`split_network_mode`), ``networks`` (Docker networks it is attached to) and
    ``peer`` (``{id, name}`` of the container whose namespace it shares, else None).
    Costs one ``docker inspect``, two in container mode (to name the peer).
    """
    data = inspect_container(module, ref)
    pid = _running_pid(module, ref, data)
    mode, peer_ref = split_network_mode((data.get('HostConfig') or {}).get('NetworkMode'))
    peer = None
    if peer_ref:
        is_id = len(peer_ref) == 64 and all(c in '0123456789abcdef' for c in peer_ref)
        peer = dict(id=peer_ref if is_id else None, name=None if is_id else peer_ref)
        dummy, rc, peer_data, dummy = _docker_inspect(module, peer_ref)
        # Facts stay available when the peer cannot be inspected: report what we know.
        if rc == 0 and peer_data:
            peer = dict(id=peer_data.get('Id'), name=_short_name(peer_data))
    networks = sorted(((data.get('NetworkSettings') or {}).get('Networks') or {}).keys())
    return dict(id=data.get('Id'), name=_short_name(data), pid=pid, network_mode=mode, networks=networks, peer=peer)


def namespace_inode(path):
    """Inode of a network namespace file (``/proc/PID/ns/net``, ``/run/netns/NAME``), or None."""
    try:
        return os.stat(path).st_ino
    except (IOError, OSError):
        return None


def host_namespace_inode():
    """Inode of the host's network namespace: PID 1's, else our own when PID 1's is hidden."""
    # Some sandboxes deny access to PID 1's namespace links even to root; the module
    # itself then runs in the host namespace (it is not started inside a netns).
    for path in ('/proc/1/ns/net', '/proc/self/ns/net'):
        inode = namespace_inode(path)
        if inode:
            return inode
    return None


def describe_namespace(netns=None, pid=None, container=None):
    """What a target is, for results: target, netns, pid, inode, shares_host_namespace, network_mode, container.

    ``container`` is a :func:`container_info` dict (its ``pid`` is used).
    """
    if container:
        pid = container['pid']
        path = '/proc/%d/ns/net' % pid
        target = 'container %s' % (container.get('name') or container.get('id'))
    elif netns:
        path = '/run/netns/%s' % netns
        target = 'netns %s' % netns
    elif pid:
        path = '/proc/%d/ns/net' % pid
        target = 'pid %d' % pid
    else:
        path = '/proc/self/ns/net'
        target = 'host'
    inode = namespace_inode(path)
    host = host_namespace_inode()
    shares = inode == host if inode and host else None
    if container and container.get('network_mode') == 'host':
        shares = True
    return dict(
        target=target,
        netns=netns or None,
        pid=pid or None,
        inode=inode,
        shares_host_namespace=shares,
        network_mode=container.get('network_mode') if container else None,
        container=container or None,
    )
