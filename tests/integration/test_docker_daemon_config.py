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
