# -*- coding: utf-8 -*-
# Copyright (c) crosshost.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # How a module reaches etcd: endpoints, TLS, authentication (see module_utils/_etcd.py).
    DOCUMENTATION = r'''
options:
  endpoints:
    description:
      - etcd client URLs, tried in order until one answers (like flanneld's C(--etcd-endpoints)).
      - An item may hold several URLs separated by commas. A URL without a scheme gets
        C(https://) when O(ca_cert) or O(client_cert) is set, else C(http://).
      - etcd is spoken through its v3 JSON gateway (C(/v3/kv/...), C(/v3/lease/...)), the API
        flanneld 0.18 and later uses; nothing is written with the v2 API.
    type: list
    elements: str
    default: ['http://127.0.0.1:2379']
  ca_cert:
    description:
      - CA bundle (PEM, on the target) that signed the etcd server certificates, for C(https://) endpoints.
      - Without it the system's CA store is used.
    type: path
  client_cert:
    description:
      - Client certificate (PEM, on the target) for etcd's client TLS authentication. Requires O(client_key).
    type: path
  client_key:
    description:
      - Private key (PEM, on the target) of O(client_cert).
    type: path
  username:
    description:
      - etcd user, when etcd's authentication is enabled. Requires O(password).
    type: str
  password:
    description:
      - Password of O(username).
    type: str
  timeout:
    description:
      - Seconds to wait for each etcd request before trying the next endpoint.
    type: int
    default: 10
notes:
  - Talks to etcd over HTTP(S) with Ansible's own URL helpers; no etcd client library is needed
    on the target. etcd 3.4 or later (its JSON gateway under C(/v3/)).
  - "When no endpoint answers, the module fails with C(etcd unreachable at <endpoints>: <reasons>)
    and nothing is changed."
'''
