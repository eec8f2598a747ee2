# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small etcd v3 client over etcd's JSON gateway, using Ansible's own URL helpers.

etcd (3.4 and later) serves its gRPC API as JSON over HTTP(S) under ``/v3/``: every call
is a ``POST`` of a JSON object, keys and values travel base64-encoded and 64-bit integers
as strings. Speaking it with :func:`ansible.module_utils.urls.open_url` keeps modules free
of third-party client libraries (python-etcd3, grpc) on the targets.

What the client does on top of the raw calls:

* several endpoints, tried in order; the one that answered is tried first next time;
  if none answers: :class:`EtcdUnreachable` ``etcd unreachable at <endpoints>: <reasons>``;
* HTTPS with a CA bundle and a client certificate/key;
* user/password authentication (``/v3/auth/authenticate`` -> a token sent in the
  ``Authorization`` header, fetched again once when etcd says it has expired);
* decoding: key-values come back as dicts of text and ints (see :meth:`EtcdClient.range`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
from http.client import HTTPException
from urllib.error import HTTPError

from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import SSLValidationError, open_url

DEFAULT_ENDPOINT = 'http://127.0.0.1:2379'
DEFAULT_TIMEOUT = 10

# Options every etcd-backed module accepts (documented in the crosshost.network.etcd fragment).
ETCD_ARGUMENT_SPEC = dict(
    endpoints=dict(type='list', elements='str', default=[DEFAULT_ENDPOINT]),
    ca_cert=dict(type='path'),
    client_cert=dict(type='path'),
    client_key=dict(type='path', no_log=False),
    username=dict(type='str'),
    password=dict(type='str', no_log=True),
    timeout=dict(type='int', default=DEFAULT_TIMEOUT),
)
ETCD_REQUIRED_TOGETHER = [('client_cert', 'client_key'), ('username', 'password')]

# gRPC status codes (in the gateway's error bodies) that mean "this member cannot serve
# now, another one may": UNAVAILABLE, and DEADLINE_EXCEEDED (e.g. no leader yet).
_RETRY_ELSEWHERE = frozenset((4, 14))
_UNAUTHENTICATED = 16


class EtcdError(Exception):
    """An etcd call failed; the message says where and why."""

    def __init__(self, msg, code=None):
        super(EtcdError, self).__init__(msg)
        self.msg = msg
        self.code = code


class EtcdUnreachable(EtcdError):
    """No endpoint answered (connection refused, timeout, TLS failure...)."""


def normalize_endpoints(endpoints, tls=False):
    """``['a:2379,b:2379', 'https://c:2379/']`` -> ``['http://a:2379', 'http://b:2379', 'https://c:2379']``.

    Comma-separated strings are split as flannel's ``--etcd-endpoints`` does; an endpoint
    without a scheme gets ``https://`` when TLS material is given, else ``http://``.
    """
    if isinstance(endpoints, str):
        endpoints = [endpoints]
    result = []
    for item in endpoints or []:
        for part in str(item).split(','):
            url = part.strip().rstrip('/')
            if not url:
                continue
            if '://' not in url:
                url = ('https://' if tls else 'http://') + url
            scheme = url.split('://', 1)[0].lower()
            if scheme not in ('http', 'https') or not url.split('://', 1)[1]:
                raise EtcdError('etcd endpoint %r is not valid: expected http(s)://host:port' % part.strip())
            if url not in result:
                result.append(url)
    if not result:
        raise EtcdError('no etcd endpoint given')
    return result


def b64(text):
    """Text or bytes -> base64 text, as the gateway wants keys and values."""
    if not isinstance(text, bytes):
        text = text.encode('utf-8')
    return base64.b64encode(text).decode('ascii')


def unb64(data):
    """Base64 text from the gateway -> text (undecodable bytes are replaced)."""
    return base64.b64decode(data or '').decode('utf-8', 'replace')


def prefix_end(prefix):
    """The ``range_end`` that selects every key starting with ``prefix`` (etcdctl --prefix)."""
    raw = bytearray(prefix.encode('utf-8'))
    while raw:
        if raw[-1] < 0xff:
            raw[-1] += 1
            return bytes(raw)
        raw.pop()
    return b'\0'  # every key


def decode_kv(item):
    """One gateway key-value -> dict of text and ints (missing fields are zero)."""
    return dict(
        key=unb64(item.get('key')),
        value=unb64(item.get('value')),
        create_revision=int(item.get('create_revision', 0)),
        mod_revision=int(item.get('mod_revision', 0)),
        version=int(item.get('version', 0)),
        lease=int(item.get('lease', 0)),
    )


def lease_hex(lease_id):
    """Lease ids as etcdctl prints them (``694d7ad0c9ac0a0b``); None for no lease."""
    return '%016x' % lease_id if lease_id else None


def _http_post(url, body, headers, timeout, tls):
    """POST with open_url; returns (status, text). HTTP errors are answers too."""
    try:
        response = open_url(url, data=body, headers=headers, method='POST', timeout=timeout,
                            use_proxy=False, use_netrc=False, follow_redirects='none', **tls)
        return response.getcode(), response.read().decode('utf-8', 'replace')
    except HTTPError as exc:
        try:
            text = exc.read().decode('utf-8', 'replace')
        except (AttributeError, OSError, HTTPException):
            text = ''
        return exc.code, text


def _reason(exc):
    """Short text for a connection failure (URLError wraps the socket error)."""
    reason = getattr(exc, 'reason', None) or exc
    return str(reason) or exc.__class__.__name__


def parse_body(text):
    """The first JSON object of a body (streamed calls such as keepalive send several)."""
    text = (text or '').strip()
    if not text:
        return {}
    value = json.JSONDecoder().raw_decode(text)[0]
    return value if isinstance(value, dict) else {}


def _first_kv(responses):
    """The first key-value that the range requests of a failed transaction returned, or None."""
    for response in responses:
        kvs = response.get('response_range', {}).get('kvs', [])
        if kvs:
            return decode_kv(kvs[0])
    return None


class EtcdClient:
    """etcd v3 over the JSON gateway; every method raises :class:`EtcdError` on failure.

    ``post`` may be replaced (tests) by a callable ``(url, body_text, headers, timeout,
    tls_kwargs) -> (status, body_text)`` that raises OSError when unreachable.
    """

    def __init__(self, endpoints=None, ca_cert=None, client_cert=None, client_key=None,
                 username=None, password=None, timeout=DEFAULT_TIMEOUT, post=None):
        self.tls = dict(ca_path=ca_cert, client_cert=client_cert, client_key=client_key)
        self.endpoints = normalize_endpoints(endpoints or [DEFAULT_ENDPOINT], tls=bool(ca_cert or client_cert))
        self.username = username
        self.password = password
        self.timeout = timeout or DEFAULT_TIMEOUT
        self.token = None
        self.post = post or _http_post

    @classmethod
    def from_params(cls, params):
        """Build from the options of :data:`ETCD_ARGUMENT_SPEC`."""
        return cls(endpoints=params.get('endpoints'), ca_cert=params.get('ca_cert'),
                   client_cert=params.get('client_cert'), client_key=params.get('client_key'),
                   username=params.get('username'), password=params.get('password'),
                   timeout=params.get('timeout'))

    # ---- transport -----------------------------------------------------------------
    def _post_one(self, endpoint, path, payload, auth=True):
        headers = {'Content-Type': 'application/json'}
        if auth and self.token:
            headers['Authorization'] = self.token
        status, text = self.post(endpoint + path, json.dumps(payload), headers, self.timeout, self.tls)
        try:
            data = parse_body(text)
        except ValueError:
            data = {}
        if status == 200:
            return data
        message = data.get('message') or data.get('error') or text.strip() or 'HTTP %s' % status
        raise EtcdError(message, code=data.get('code'))

    def _authenticate(self, endpoint):
        try:
            data = self._post_one(endpoint, '/v3/auth/authenticate', dict(name=self.username, password=self.password), auth=False)
        except EtcdError as exc:
            raise EtcdError('etcd at %s: authentication as user %r failed: %s' % (endpoint, self.username, exc.msg), code=exc.code)
        self.token = data.get('token')
        if not self.token:
            raise EtcdError('etcd at %s: authentication as user %r returned no token (is auth enabled?)' % (endpoint, self.username))

    def call(self, path, payload):
        """POST ``payload`` to ``path`` on the first endpoint that answers; return its JSON."""
        reasons = []
        for endpoint in list(self.endpoints):
            try:
                if self.username and not self.token:
                    self._authenticate(endpoint)
                try:
                    data = self._post_one(endpoint, path, payload)
                except EtcdError as exc:
                    if exc.code != _UNAUTHENTICATED or not self.username:
                        raise
                    # The token expired (or the member restarted): log in again once.
                    self._authenticate(endpoint)
                    data = self._post_one(endpoint, path, payload)
            except (OSError, HTTPException, SSLValidationError, UrlsConnectionError) as exc:
                reasons.append('%s: %s' % (endpoint, _reason(exc)))
                continue
            except EtcdError as exc:
                if exc.code in _RETRY_ELSEWHERE:
                    reasons.append('%s: %s' % (endpoint, exc.msg))
                    continue
                if exc.msg.startswith('etcd at '):
                    raise
                raise EtcdError('etcd at %s: %s %s failed: %s' % (endpoint, 'POST', path, exc.msg), code=exc.code)
            if endpoint != self.endpoints[0]:
                # Remember the member that answered: the next calls go there first.
                self.endpoints.remove(endpoint)
                self.endpoints.insert(0, endpoint)
            return data
        raise EtcdUnreachable('etcd unreachable at %s: %s' % (', '.join(self.endpoints), '; '.join(reasons)))

    # ---- key-value -----------------------------------------------------------------
    def range(self, key, prefix=False):
        """Key-values of ``key`` (or of every key starting with it), sorted by key.

        Each is ``dict(key, value, create_revision, mod_revision, version, lease)``.
        """
        payload = dict(key=b64(key))
        if prefix:
            payload['range_end'] = b64(prefix_end(key))
        data = self.call('/v3/kv/range', payload)
        return sorted((decode_kv(kv) for kv in data.get('kvs', [])), key=lambda kv: kv['key'])

    def get(self, key):
        """The key-value of ``key``, or None."""
        kvs = self.range(key)
        return kvs[0] if kvs else None

    def put(self, key, value, lease=0):
        """Write ``key``; returns the new revision."""
        payload = dict(key=b64(key), value=b64(value))
        if lease:
            payload['lease'] = str(lease)
        data = self.call('/v3/kv/put', payload)
        return int(data.get('header', {}).get('revision', 0))

    def delete(self, key, prefix=False):
        """Delete ``key`` (or every key under it); returns how many were deleted."""
        payload = dict(key=b64(key))
        if prefix:
            payload['range_end'] = b64(prefix_end(key))
        return int(self.call('/v3/kv/deleterange', payload).get('deleted', 0))

    def txn(self, compare, success, failure=None):
        """A raw transaction; returns ``(succeeded, responses)``."""
        data = self.call('/v3/kv/txn', dict(compare=compare, success=success, failure=failure or []))
        return bool(data.get('succeeded', False)), data.get('responses', [])

    def _guarded(self, compare, request, key):
        """Run ``request`` only if ``compare`` holds; else return the key's current kv."""
        ok, responses = self.txn([compare], [request], [dict(request_range=dict(key=b64(key)))])
        return (True, None) if ok else (False, _first_kv(responses))

    def create(self, key, value, lease=0):
        """Write ``key`` only if it does not exist (create_revision == 0).

        Returns ``(True, None)``, or ``(False, current kv)`` when someone else has it.
        """
        put = dict(key=b64(key), value=b64(value))
        if lease:
            put['lease'] = str(lease)
        compare = dict(key=b64(key), target='CREATE', result='EQUAL', create_revision='0')
        return self._guarded(compare, dict(request_put=put), key)

    def replace(self, key, value, mod_revision, lease=0):
        """Write ``key`` only if it is unchanged since ``mod_revision``; as :meth:`create`."""
        put = dict(key=b64(key), value=b64(value))
        if lease:
            put['lease'] = str(lease)
        compare = dict(key=b64(key), target='MOD', result='EQUAL', mod_revision=str(mod_revision))
        return self._guarded(compare, dict(request_put=put), key)

    def move(self, old_key, mod_revision, key, value, lease=0):
        """Write ``key`` and delete ``old_key`` in one transaction (a lease changing its key).

        Only if ``key`` does not exist and ``old_key`` is unchanged since ``mod_revision``;
        returns ``(True, None)``, or ``(False, current kv of key or None)``.
        """
        put = dict(key=b64(key), value=b64(value))
        if lease:
            put['lease'] = str(lease)
        compare = [dict(key=b64(key), target='CREATE', result='EQUAL', create_revision='0'),
                   dict(key=b64(old_key), target='MOD', result='EQUAL', mod_revision=str(mod_revision))]
        ok, responses = self.txn(compare, [dict(request_put=put), dict(request_delete_range=dict(key=b64(old_key)))],
                                 [dict(request_range=dict(key=b64(key)))])
        return (True, None) if ok else (False, _first_kv(responses))

    def delete_if(self, key, mod_revision):
        """Delete ``key`` only if it is unchanged since ``mod_revision``; as :meth:`create`."""
        compare = dict(key=b64(key), target='MOD', result='EQUAL', mod_revision=str(mod_revision))
        return self._guarded(compare, dict(request_delete_range=dict(key=b64(key))), key)

    # ---- leases --------------------------------------------------------------------
    def lease_grant(self, ttl):
        """A new lease of ``ttl`` seconds; returns its id (int)."""
        data = self.call('/v3/lease/grant', dict(TTL=str(int(ttl))))
        if data.get('error'):
            raise EtcdError('etcd could not grant a lease of %ss: %s' % (ttl, data['error']))
        return int(data['ID'])

    def lease_keepalive(self, lease_id):
        """Refresh a lease once; returns its TTL (the granted one), 0 if it has expired."""
        data = self.call('/v3/lease/keepalive', dict(ID=str(lease_id)))
        return int(data.get('result', data).get('TTL', 0))

    def lease_ttl(self, lease_id):
        """``(remaining, granted)`` seconds of a lease; ``(-1, 0)`` if it does not exist."""
        data = self.call('/v3/lease/timetolive', dict(ID=str(lease_id)))
        return int(data.get('TTL', -1)), int(data.get('grantedTTL', 0))

    def lease_revoke(self, lease_id):
        """Revoke a lease (its keys go with it); False if it did not exist."""
        try:
            self.call('/v3/lease/revoke', dict(ID=str(lease_id)))
        except EtcdError as exc:
            if exc.code == 5 or 'lease not found' in exc.msg:
                return False
            raise
        return True
