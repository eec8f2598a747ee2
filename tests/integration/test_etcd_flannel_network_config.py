"""crosshost.network.flannel_network_config against a real local etcd (started and stopped by the fixture)."""

import json

import pytest

from conftest import run_module
from etcd_server import EtcdServer, etcd, etcd_server, free_port  # noqa: F401  pylint: disable=unused-import

KEY = '/coreos.com/network/config'


def config(server, **kwargs):
    args = server.module_args()
    args.update(kwargs)
    return args


def test_write_check_mode_diff_and_idempotence(etcd):
    args = config(etcd, network='100.64.0.0/16', backend=dict(type='vxlan', vni=1, mtu=1500))

    result = run_module('flannel_network_config', args, check=True, diff=True)
    assert result['changed'] is True, result
    assert result['commands'] == ['put %s {"Network":"100.64.0.0/16","Backend":{"Type":"vxlan","VNI":1,"MTU":1500}}' % KEY]
    assert etcd.get(KEY) == {}, 'check mode wrote to etcd'

    result = run_module('flannel_network_config', args, diff=True)
    assert result['changed'] is True, result
    # What flanneld reads, seen the way a user would: etcdctl (v3 API).
    assert etcd.get_lines(KEY) == [KEY, '{"Network":"100.64.0.0/16","Backend":{"Type":"vxlan","VNI":1,"MTU":1500}}']
    assert result['diff']['before'] == ''
    assert json.loads(result['diff']['after']) == {'Network': '100.64.0.0/16', 'Backend': {'Type': 'vxlan', 'VNI': 1, 'MTU': 1500}}
    assert result['config'] == {'Network': '100.64.0.0/16', 'Backend': {'Type': 'vxlan', 'VNI': 1, 'MTU': 1500}}
    effective = result['effective']
    assert (effective['subnet_len'], effective['subnet_min'], effective['subnet_max'], effective['subnet_count'], effective['mtu']) == \
        (24, '100.64.1.0', '100.64.255.0', 255, 1500)
    revision = json.loads(etcd.etcdctl('get', KEY, '-w', 'json'))['kvs'][0]['mod_revision']

    for check in (True, False):
        again = run_module('flannel_network_config', args, check=check, diff=True)
        assert again['changed'] is False and again['commands'] == [], again
    assert json.loads(etcd.etcdctl('get', KEY, '-w', 'json'))['kvs'][0]['mod_revision'] == revision, 'an unchanged config was written again'


def test_semantic_comparison_ignores_formatting(etcd):
    etcd.etcdctl('put', KEY, '{ "Backend": {"VNI": 1.0, "Type": "vxlan"},\n  "Network": "100.64.0.0/16" }')
    result = run_module('flannel_network_config', config(etcd, network='100.64.0.0/16', backend=dict(vni=1)))
    assert result['changed'] is False, result
    assert etcd.get(KEY)[KEY].startswith('{ "Backend"'), 'rewritten although equal'


def test_change_shows_before_and_after(etcd):
    run_module('flannel_network_config', config(etcd, network='100.64.0.0/16'))
    args = config(etcd, network='100.64.0.0/16', subnet_len=26, subnet_min='100.64.1.0', subnet_max='100.64.9.192')
    result = run_module('flannel_network_config', args, diff=True)
    assert result['changed'] is True
    assert json.loads(result['diff']['before']) == {'Network': '100.64.0.0/16', 'Backend': {'Type': 'vxlan'}}
    after = {'Network': '100.64.0.0/16', 'SubnetLen': 26, 'SubnetMin': '100.64.1.0', 'SubnetMax': '100.64.9.192', 'Backend': {'Type': 'vxlan'}}
    assert json.loads(result['diff']['after']) == after
    assert json.loads(etcd.get(KEY)[KEY]) == after
    assert result['effective']['subnet_count'] == 36
    assert run_module('flannel_network_config', args)['changed'] is False


def test_non_json_config_is_replaced(etcd):
    etcd.etcdctl('put', KEY, 'garbage')
    result = run_module('flannel_network_config', config(etcd, network='100.64.0.0/16'), diff=True)
    assert result['changed'] is True and result['diff']['before'] == 'garbage'
    assert json.loads(etcd.get(KEY)[KEY])['Network'] == '100.64.0.0/16'


@pytest.mark.parametrize('args, message', [
    (dict(network='100.64.0.0/16', subnet_len=31), 'SubnetLen 31 is impossible for network 100.64.0.0/16'),
    (dict(network='100.64.1.0/16'), "Network '100.64.1.0/16' has host bits set: did you mean 100.64.0.0/16?"),
    (dict(network='100.64.0.0/16', subnet_min='100.64.1.128'), 'SubnetMin 100.64.1.128 is not on a /24 boundary'),
    (dict(network='100.64.0.0/16', subnet_max='100.66.0.0'), 'SubnetMax 100.66.0.0 is outside Network 100.64.0.0/16'),
    (dict(network='100.64.0.0/16', backend=dict(type='host-gw', vni=2)), 'Backend.VNI (backend.vni=2) is not an option of the host-gw backend'),
    (dict(network='100.64.0.0/16', enable_ipv6=True), 'EnableIPv6 is true but IPv6Network is missing'),
])
def test_rejected_config_writes_nothing(etcd, args, message):
    etcd.etcdctl('put', KEY, '{"Network":"100.64.0.0/16","Backend":{"Type":"vxlan"}}')
    result = run_module('flannel_network_config', config(etcd, **args))
    assert result.get('failed') is True, result
    assert message in result['msg'], result['msg']
    assert etcd.get(KEY)[KEY] == '{"Network":"100.64.0.0/16","Backend":{"Type":"vxlan"}}'


def test_absent(etcd):
    etcd.etcdctl('put', KEY, '{"Network":"100.64.0.0/16","Backend":{"Type":"vxlan"}}')
    etcd.etcdctl('put', '/coreos.com/network/subnets/100.64.1.0-24', '{}')
    result = run_module('flannel_network_config', config(etcd, state='absent'), check=True)
    assert result['changed'] is True and etcd.get(KEY) != {}
    result = run_module('flannel_network_config', config(etcd, state='absent'), diff=True)
    assert result['changed'] is True and result['commands'] == ['delete %s' % KEY]
    assert etcd.get(KEY) == {}
    assert list(etcd.get('/coreos.com/network/subnets/', prefix=True)) == ['/coreos.com/network/subnets/100.64.1.0-24'], 'leases must stay'
    assert run_module('flannel_network_config', config(etcd, state='absent'))['changed'] is False


def test_custom_prefix_and_misfit_lease_warning(etcd):
    etcd.etcdctl('put', '/xh/net/subnets/100.64.1.0-24', '{"PublicIP":"198.18.0.11","PublicIPv6":null,"BackendType":"vxlan","BackendData":null}')
    result = run_module('flannel_network_config', config(etcd, prefix='/xh/net/', network='100.64.0.0/16', subnet_len=26))
    assert result['key'] == '/xh/net/config' and '/xh/net/config' in etcd.get('/xh/net/config')
    assert any('/xh/net/subnets/100.64.1.0-24' in w for w in result.get('warnings', [])), result


def test_unreachable(etcd):
    port = free_port()
    result = run_module('flannel_network_config', dict(endpoints=['http://127.0.0.1:%d' % port], network='100.64.0.0/16', timeout=3))
    assert result.get('failed') is True
    assert result['msg'].startswith('etcd unreachable at http://127.0.0.1:%d: ' % port), result['msg']
    assert 'Connection refused' in result['msg']


def test_second_endpoint_is_used_when_the_first_is_down(etcd):
    args = config(etcd, network='100.64.0.0/16')
    args['endpoints'] = ['http://127.0.0.1:%d' % free_port(), etcd.endpoint]
    assert run_module('flannel_network_config', args)['changed'] is True
    assert KEY in etcd.get(KEY)


def test_tls_and_auth():
    for server in (EtcdServer(tls=True), EtcdServer(auth=('flannel', 'xh-secret'))):
        with server:
            args = config(server, network='100.64.0.0/16')
            assert run_module('flannel_network_config', args)['changed'] is True
            assert run_module('flannel_network_config', args)['changed'] is False
            assert json.loads(server.get(KEY)[KEY]) == {'Network': '100.64.0.0/16', 'Backend': {'Type': 'vxlan'}}
            if server.tls:
                bad = dict(args)
                del bad['client_cert'], bad['client_key']
                result = run_module('flannel_network_config', bad)
                assert result.get('failed') and result['msg'].startswith('etcd unreachable at %s' % server.endpoint), result
            else:
                result = run_module('flannel_network_config', dict(args, password='wrong'))
                assert result.get('failed') and "authentication as user 'flannel' failed" in result['msg'], result
                assert 'wrong' not in json.dumps(result).replace('"password": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"', '')
