"""A real, throwaway etcd for integration tests (Debian's etcd-server 3.4, v3 API).

``EtcdServer`` starts ``etcd`` on 127.0.0.1 with two free random ports and a temporary
data dir, waits until ``/health`` answers, and always stops it (and removes the dir).
Optional: client TLS (a CA and certificates made with ``openssl``) and etcd's
username/password authentication. ``etcdctl(...)`` runs ``etcdctl`` against it.

The pytest fixtures ``etcd`` (one fresh server per test) and ``etcd_module`` (one per
test module, every key deleted before each test by ``etcd``'s sibling ``etcd_clean``)
are defined here; test files import them.
"""

import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest

ETCD = shutil.which('etcd') or '/usr/bin/etcd'
ETCDCTL = shutil.which('etcdctl') or '/usr/bin/etcdctl'


def free_port():
    """A TCP port nobody listens on right now (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _openssl(*args, cwd):
    subprocess.run(['openssl'] + list(args), cwd=cwd, check=True, capture_output=True)


def make_certs(directory, ips=('127.0.0.1',)):
    """A CA, a server certificate for ``ips`` and localhost, and a client certificate."""
    _openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=xhtest-ca',
             '-keyout', 'ca-key.pem', '-out', 'ca.pem', cwd=directory)
    with open(os.path.join(directory, 'server.ext'), 'w') as handle:
        handle.write('subjectAltName=%s,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' % ','.join('IP:%s' % ip for ip in ips))
    with open(os.path.join(directory, 'client.ext'), 'w') as handle:
        handle.write('extendedKeyUsage=clientAuth\n')
    for name, ext in (('server', 'server.ext'), ('client', 'client.ext')):
        _openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=xhtest-%s' % name,
                 '-keyout', '%s-key.pem' % name, '-out', '%s.csr' % name, cwd=directory)
        _openssl('x509', '-req', '-in', '%s.csr' % name, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial',
                 '-days', '2', '-extfile', ext, '-out', '%s.pem' % name, cwd=directory)
    return dict((k, os.path.join(directory, v)) for k, v in (
        ('ca_cert', 'ca.pem'), ('server_cert', 'server.pem'), ('server_key', 'server-key.pem'),
        ('client_cert', 'client.pem'), ('client_key', 'client-key.pem')))


class EtcdServer:
    """One etcd member on 127.0.0.1; use as a context manager."""

    def __init__(self, tls=False, auth=None):
        self.tls = tls
        self.auth = auth  # (user, password) to enable authentication with, or None
        self.dir = None
        self.proc = None
        self.certs = {}
        self.client_port = self.peer_port = None

    @property
    def endpoint(self):
        return '%s://127.0.0.1:%d' % ('https' if self.tls else 'http', self.client_port)

    def module_args(self):
        """etcd connection options for our modules."""
        args = dict(endpoints=[self.endpoint])
        if self.tls:
            args.update(ca_cert=self.certs['ca_cert'], client_cert=self.certs['client_cert'], client_key=self.certs['client_key'])
        if self.auth:
            args.update(username=self.auth[0], password=self.auth[1])
        return args

    def start(self):
        self.dir = tempfile.mkdtemp(prefix='xhtest-etcd-')
        scheme = 'https' if self.tls else 'http'
        cmd = [ETCD, '--name', 'xhtest', '--data-dir', os.path.join(self.dir, 'data'),
               '--initial-cluster-state', 'new', '--initial-cluster-token', 'xhtest']
        if self.tls:
            self.certs = make_certs(self.dir)
            cmd += ['--cert-file', self.certs['server_cert'], '--key-file', self.certs['server_key'],
                    '--trusted-ca-file', self.certs['ca_cert'], '--client-cert-auth']
        for attempt in range(5):
            self.client_port, self.peer_port = free_port(), free_port()
            peer = 'http://127.0.0.1:%d' % self.peer_port
            args = cmd + ['--listen-client-urls', self.endpoint, '--advertise-client-urls', self.endpoint,
                          '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
                          '--initial-cluster', 'xhtest=%s' % peer]
            log = open(os.path.join(self.dir, 'etcd.log'), 'ab')
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            log.close()
            if self._wait_healthy():
                break
            self._kill()  # most likely a port taken between free_port() and bind: try others
            shutil.rmtree(os.path.join(self.dir, 'data'), ignore_errors=True)
        else:
            raise RuntimeError('etcd did not start:\n' + self.log())
        if self.auth:
            user, password = self.auth
            self.etcdctl('user', 'add', '%s:%s' % (user, password), auth=False)
            if user != 'root':
                self.etcdctl('user', 'add', 'root:%s' % password, auth=False)
            self.etcdctl('user', 'grant-role', 'root', 'root', auth=False)
            if user != 'root':
                self.etcdctl('user', 'grant-role', user, 'root', auth=False)
            self.etcdctl('auth', 'enable', auth=False)
        return self

    def _wait_healthy(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                self.etcdctl('endpoint', 'health', auth=False)
                return True
            except subprocess.CalledProcessError:
                time.sleep(0.2)
        return False

    def _kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def stop(self):
        """Stop etcd and remove its data; safe to call twice."""
        self._kill()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def log(self):
        try:
            with open(os.path.join(self.dir, 'etcd.log')) as handle:
                return handle.read()[-4000:]
        except (OSError, TypeError):
            return ''

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()

    # ---- reading and writing the test's way: etcdctl, as a user would ---------------
    def etcdctl(self, *args, auth=True):
        env = dict(os.environ, ETCDCTL_API='3')
        cmd = [ETCDCTL, '--endpoints', self.endpoint, '--dial-timeout', '3s', '--command-timeout', '10s']
        if self.tls:
            cmd += ['--cacert', self.certs['ca_cert'], '--cert', self.certs['client_cert'], '--key', self.certs['client_key']]
        if auth and self.auth:
            cmd += ['--user', 'root:%s' % self.auth[1]]
        proc = subprocess.run(cmd + [str(a) for a in args], env=env, capture_output=True, text=True, timeout=60, check=False)
        if proc.returncode != 0:
            raise subprocess.CalledProcessError(proc.returncode, cmd + list(args), proc.stdout, proc.stderr)
        return proc.stdout

    def get(self, key, prefix=False):
        """``etcdctl get`` -> {key: value} (text)."""
        out = self.etcdctl('get', key, *(['--prefix'] if prefix else []), '-w', 'json')
        data = json.loads(out)
        return dict((base64.b64decode(kv['key']).decode(), base64.b64decode(kv.get('value', '')).decode()) for kv in data.get('kvs', []))

    def get_lines(self, *args):
        """Plain ``etcdctl get ...`` output lines (key, value, key, value ...)."""
        return self.etcdctl('get', *args).splitlines()

    def lease_of(self, key):
        """The etcd lease id (int) a key is attached to, 0 if none."""
        data = json.loads(self.etcdctl('get', key, '-w', 'json'))
        kvs = data.get('kvs', [])
        return int(kvs[0].get('lease', 0)) if kvs else None

    def lease_ttl(self, lease_id):
        """``(remaining, granted)`` seconds of an etcd lease."""
        data = json.loads(self.etcdctl('lease', 'timetolive', '%x' % lease_id, '-w', 'json'))
        return data.get('ttl'), data.get('granted-ttl')

    def wipe(self):
        self.etcdctl('del', '', '--from-key')

    def http_health(self):
        with urllib.request.urlopen(self.endpoint + '/health', timeout=5) as response:
            return json.loads(response.read())


@pytest.fixture(scope='module')
def etcd_server():
    """One plain etcd for a test module; always stopped."""
    server = EtcdServer()
    with server:
        yield server


@pytest.fixture
def etcd(etcd_server):
    """The module's etcd, emptied before each test."""
    etcd_server.wipe()
    yield etcd_server
