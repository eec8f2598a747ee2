"""crosshost.network.docker_daemon_config for real on files in ``tmp_path``.

The running daemon it compares with is whatever this machine runs (or none): the
tests only rely on it not being on the test's made-up subnet.
"""

import json

from conftest import run_module

SET = {'bip': '100.64.9.1/24', 'mtu': 1450, 'ip-masq': False}


def test_keys_merged_once_others_kept_record_compared(tmp_path):
    path = tmp_path / 'daemon.json'
    record = tmp_path / 'applied.json'
    path.write_text('{"log-driver": "journald", "bridge": "xh-old"}\n')
    args = dict(path=str(path), set=SET, remove=['bridge'], applied_file=str(record))

    planned = run_module('docker_daemon_config', args, check=True, diff=True)
    assert planned['changed'] and planned['commands'] == ['write %s (keys bip, bridge, ip-masq, mtu)' % path], planned
    assert json.loads(path.read_text()) == {'log-driver': 'journald', 'bridge': 'xh-old'}

    written = run_module('docker_daemon_config', args)
    assert written['changed'] and written['config'] == dict(SET, **{'log-driver': 'journald'}), written
    assert json.loads(path.read_text()) == written['config']
    assert json.loads(open(written['backup_file']).read()) == {'log-driver': 'journald', 'bridge': 'xh-old'}
    assert written['restart_needed'] and 'want docker0 100.64.9.1/24 mtu 1450' in written['restart_reason']

    # The file is right; the daemon was never restarted with it (no record): still a restart.
    again = run_module('docker_daemon_config', args)
    assert not again['changed'] and again['commands'] == [] and again['restart_needed'], again
    assert 'not restarted since' in again['restart_reason']

    # Restarted with it (the role records the config): a later change of our keys rewrites
    # our own file without another backup, where a hand edit would be kept.
    record.write_text(json.dumps(written['config']))
    changed = run_module('docker_daemon_config', dict(args, set=dict(SET, mtu=1400)))
    assert changed['changed'] and 'backup_file' not in changed, changed
    path.write_text(json.dumps(dict(changed['config'], debug=True)))
    edited = run_module('docker_daemon_config', args)
    assert json.loads(open(edited['backup_file']).read())['debug'] is True, edited

    # restart false: no record compared, the pending restart is a warning.
    quiet = run_module('docker_daemon_config', dict(args, restart=False, applied_file=None))
    assert not quiet['changed'] and 'restart the daemon yourself' in ' '.join(quiet.get('warnings', [])), quiet


def test_not_a_json_object_is_left_alone(tmp_path):
    path = tmp_path / 'daemon.json'
    path.write_text('{"mtu": 1450,\n  oops}\n')
    result = run_module('docker_daemon_config', dict(path=str(path), set=SET))
    assert result.get('failed') and '%s line 2' % path in result['msg'], result
    assert path.read_text() == '{"mtu": 1450,\n  oops}\n'


def stand_in_dockerd(tmp_path, version):
    """A dockerd that only tells its version."""
    dockerd = tmp_path / ('dockerd-%s' % version)
    dockerd.write_text('#!/bin/sh\necho "Docker version %s, build 0000000"\n' % version)
    dockerd.chmod(0o755)
    return str(dockerd)


def test_without_dockerd_nothing_is_done(tmp_path):
    path = tmp_path / 'daemon.json'
    args = dict(path=str(path), set=SET, dockerd=str(tmp_path / 'no-dockerd'), skip_missing=True)
    for check in (True, False):
        result = run_module('docker_daemon_config', args, check=check)
        assert not result['changed'] and result['installed'] is False and result['version'] == '', result
        assert not result['restart_needed'] and result['commands'] == [], result
    assert not path.exists()
    # Without skip_missing the file is written all the same.
    written = run_module('docker_daemon_config', dict(args, skip_missing=False, restart=False))
    assert written['changed'] and written['installed'] is False and json.loads(path.read_text()) == SET, written


def test_direct_routing_by_engine_version(tmp_path):
    path = tmp_path / 'daemon.json'
    path.write_text('{"allow-direct-routing": true}\n')
    args = dict(path=str(path), set=SET, allow_direct_routing=True, restart=False)
    planned = run_module('docker_daemon_config', dict(args, dockerd=stand_in_dockerd(tmp_path, '28.1.1')), check=True)
    assert planned['installed'] and planned['version'] == '28.1.1', planned
    assert planned['config'] == dict(SET, **{'allow-direct-routing': True}), planned
    # An older engine refuses to start with the key: it goes; so it does when turned off.
    old = run_module('docker_daemon_config', dict(args, dockerd=stand_in_dockerd(tmp_path, '20.10.24+dfsg1')), check=True)
    assert old['version'] == '20.10.24' and old['config'] == SET, old
    off = run_module('docker_daemon_config', dict(args, allow_direct_routing=False, dockerd=stand_in_dockerd(tmp_path, '28.1.1')), check=True)
    assert off['config'] == SET, off
    # Unset: the key is the caller's (kept here).
    kept = run_module('docker_daemon_config', dict(args, allow_direct_routing=None, dockerd=stand_in_dockerd(tmp_path, '20.10.24')), check=True)
    assert kept['config'] == dict(SET, **{'allow-direct-routing': True}), kept
