"""Unit tests for plugins/module_utils/_etcd.py with a fake transport (no etcd, no network)."""

import base64
import json

import pytest

from ansible_collections.crosshost.network.plugins.module_utils._etcd import (
    EtcdClient,
    EtcdError,
    EtcdUnreachable,
    b64,
    decode_kv,
    lease_hex,
    normalize_endpoints,
    parse_body,
    prefix_end,
)


class FakePost:
    """Records calls; ``answers`` maps URL -> list of (status, body) or an exception to raise."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def __call__(self, url, body, headers, timeout, tls):
        self.calls.append(dict(url=url, body=json.loads(body), headers=dict(headers), timeout=timeout, tls=tls))
        answer = self.answers[url]
        if isinstance(answer, list):
            answer = answer.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, data = answer
        return status, data if isinstance(data, str) else json.dumps(data)


def kv(key, value, lease=0, rev=5):
    return dict(key=b64(key), value=b64(value), create_revision=str(rev), mod_revision=str(rev), version='1',
                **({'lease': str(lease)} if lease else {}))


def test_normalize_endpoints():
    assert normalize_endpoints(['10.0.0.1:2379, 10.0.0.2:2379', 'https://e3:2379/']) == [
        'http://10.0.0.1:2379', 'http://10.0.0.2:2379', 'https://e3:2379']
    assert normalize_endpoints('e1:2379', tls=True) == ['https://e1:2379']
    assert normalize_endpoints(['http://a:1', 'http://a:1/']) == ['http://a:1']
    with pytest.raises(EtcdError, match="'ftp://x:1' is not valid"):
        normalize_endpoints(['ftp://x:1'])
    with pytest.raises(EtcdError, match='no etcd endpoint'):
        normalize_endpoints([' , '])


def test_base64_and_prefix_end():
    assert b64('/coreos.com/network/config') == base64.b64encode(b'/coreos.com/network/config').decode()
    assert prefix_end('/coreos.com/network/subnets/') == b'/coreos.com/network/subnets0'
    assert prefix_end('a\xff') == b'a\xc3\xc0'  # U+00FF is two UTF-8 bytes: c3 bf -> c3 c0
    assert prefix_end('') == b'\0'
    assert lease_hex(0x694d7ad0c9ac0a0b) == '694d7ad0c9ac0a0b'
    assert lease_hex(10) == '000000000000000a'
    assert lease_hex(0) is None


def test_decode_kv_defaults_missing_fields():
    assert decode_kv(dict(key=b64('/k'))) == dict(key='/k', value='', create_revision=0, mod_revision=0, version=0, lease=0)


def test_parse_body_stream():
    assert parse_body('{"result":{"TTL":"60"}}\n{"result":{"TTL":"60"}}\n') == {'result': {'TTL': '60'}}
    assert parse_body('') == {}


def test_range_prefix_and_decoding():
    post = FakePost({'http://e1:2379/v3/kv/range': (200, dict(kvs=[kv('/p/b', '2', lease=10), kv('/p/a', '1')], count='2'))})
    client = EtcdClient(['e1:2379'], post=post)
    result = client.range('/p/', prefix=True)
    assert [r['key'] for r in result] == ['/p/a', '/p/b']
    assert result[1]['lease'] == 10 and result[1]['value'] == '2'
    assert post.calls[0]['body'] == dict(key=b64('/p/'), range_end=b64('/p0'))
    assert post.calls[0]['headers']['Content-Type'] == 'application/json'


def test_create_is_a_txn_on_create_revision_zero():
    post = FakePost({'http://e1:2379/v3/kv/txn': [(200, dict(succeeded=True)), (200, dict(responses=[dict(response_range=dict(kvs=[kv('/k', 'theirs')]))]))]})
    client = EtcdClient(['http://e1:2379'], post=post)
    assert client.create('/k', 'mine', lease=42) == (True, None)
    body = post.calls[0]['body']
    assert body['compare'] == [dict(key=b64('/k'), target='CREATE', result='EQUAL', create_revision='0')]
    assert body['success'] == [dict(request_put=dict(key=b64('/k'), value=b64('mine'), lease='42'))]
    assert body['failure'] == [dict(request_range=dict(key=b64('/k')))]
    ok, current = client.create('/k', 'mine')
    assert not ok and current['value'] == 'theirs'
    assert 'lease' not in post.calls[1]['body']['success'][0]['request_put']


def test_replace_and_delete_if_compare_mod_revision():
    post = FakePost({'http://e1:2379/v3/kv/txn': (200, dict(succeeded=True))})
    client = EtcdClient(['http://e1:2379'], post=post)
    client.replace('/k', 'v', 17, lease=3)
    client.delete_if('/k', 18)
    assert post.calls[0]['body']['compare'][0] == dict(key=b64('/k'), target='MOD', result='EQUAL', mod_revision='17')
    assert post.calls[1]['body']['success'] == [dict(request_delete_range=dict(key=b64('/k')))]


def test_endpoints_tried_in_order_and_sticky():
    post = FakePost({
        'http://e1:2379/v3/kv/put': OSError('[Errno 111] Connection refused'),
        'http://e2:2379/v3/kv/put': (200, dict(header=dict(revision='9'))),
    })
    client = EtcdClient(['http://e1:2379', 'http://e2:2379'], post=post)
    assert client.put('/k', 'v') == 9
    assert [c['url'] for c in post.calls] == ['http://e1:2379/v3/kv/put', 'http://e2:2379/v3/kv/put']
    client.put('/k', 'v')
    assert post.calls[-1]['url'] == 'http://e2:2379/v3/kv/put'  # the member that answered goes first


def test_unreachable_names_every_endpoint():
    post = FakePost({
        'http://e1:2379/v3/kv/range': OSError('[Errno 111] Connection refused'),
        'https://e2:2379/v3/kv/range': OSError('timed out'),
    })
    client = EtcdClient(['http://e1:2379', 'https://e2:2379'], post=post)
    with pytest.raises(EtcdUnreachable) as info:
        client.get('/k')
    assert str(info.value) == ('etcd unreachable at http://e1:2379, https://e2:2379: '
                               'http://e1:2379: [Errno 111] Connection refused; https://e2:2379: timed out')


def test_unavailable_member_is_skipped_but_other_errors_are_not():
    post = FakePost({
        'http://e1:2379/v3/kv/range': (503, dict(error='etcdserver: no leader', message='etcdserver: no leader', code=14)),
        'http://e2:2379/v3/kv/range': (400, dict(error='bad', message='etcdserver: bad', code=3)),
    })
    client = EtcdClient(['http://e1:2379', 'http://e2:2379'], post=post)
    with pytest.raises(EtcdError) as info:
        client.get('/k')
    assert not isinstance(info.value, EtcdUnreachable)
    assert str(info.value) == 'etcd at http://e2:2379: POST /v3/kv/range failed: etcdserver: bad'
    assert info.value.code == 3


def test_tls_options_are_passed_to_the_transport():
    post = FakePost({'https://e1:2379/v3/kv/range': (200, {})})
    client = EtcdClient.from_params(dict(endpoints=['e1:2379'], ca_cert='/ca.pem', client_cert='/c.pem', client_key='/k.pem', timeout=3))
    client.post = post
    assert client.get('/k') is None
    assert post.calls[0]['tls'] == dict(ca_path='/ca.pem', client_cert='/c.pem', client_key='/k.pem')
    assert post.calls[0]['timeout'] == 3


def test_auth_token_and_refresh():
    post = FakePost({
        'http://e1:2379/v3/auth/authenticate': [(200, dict(token='t1')), (200, dict(token='t2'))],
        'http://e1:2379/v3/kv/range': [(200, {}), (401, dict(error='etcdserver: invalid auth token', message='etcdserver: invalid auth token', code=16)),
                                       (200, {})],
    })
    client = EtcdClient(['http://e1:2379'], username='flannel', password='secret', post=post)
    client.get('/a')
    client.get('/b')
    urls = [c['url'].rsplit('/', 2)[-2:] for c in post.calls]
    assert urls == [['auth', 'authenticate'], ['kv', 'range'], ['kv', 'range'], ['auth', 'authenticate'], ['kv', 'range']]
    assert post.calls[0]['body'] == dict(name='flannel', password='secret')
    assert 'Authorization' not in post.calls[0]['headers']
    assert post.calls[1]['headers']['Authorization'] == 't1'
    assert post.calls[4]['headers']['Authorization'] == 't2'


def test_auth_failure_is_clear():
    denied = dict(error='x', message='etcdserver: authentication failed, invalid user ID or password', code=3)
    post = FakePost({'http://e1:2379/v3/auth/authenticate': (400, denied)})
    client = EtcdClient(['http://e1:2379'], username='flannel', password='bad', post=post)
    with pytest.raises(EtcdError, match=r"^etcd at http://e1:2379: authentication as user 'flannel' failed: etcdserver: authentication failed"):
        client.get('/a')


def test_leases():
    post = FakePost({
        'http://e1:2379/v3/lease/grant': (200, dict(ID='7587883110766573067', TTL='86400')),
        'http://e1:2379/v3/lease/keepalive': [(200, '{"result":{"ID":"1","TTL":"86400"}}\n'), (200, '{"result":{"ID":"1"}}\n')],
        'http://e1:2379/v3/lease/timetolive': [(200, dict(ID='1', TTL='50', grantedTTL='60')), (200, dict(ID='1', TTL='-1'))],
        'http://e1:2379/v3/lease/revoke': [(200, {}), (404, dict(error='not found', message='etcdserver: requested lease not found', code=5))],
    })
    client = EtcdClient(['http://e1:2379'], post=post)
    assert client.lease_grant(86400) == 7587883110766573067
    assert post.calls[0]['body'] == dict(TTL='86400')
    assert client.lease_keepalive(1) == 86400
    assert client.lease_keepalive(1) == 0  # expired: etcd omits the TTL
    assert client.lease_ttl(1) == (50, 60)
    assert client.lease_ttl(1) == (-1, 0)
    assert client.lease_revoke(1) is True
    assert client.lease_revoke(1) is False
