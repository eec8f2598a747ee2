"""crosshost.network.flannel_lease against a real local etcd (started and stopped by the fixture)."""

import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import run_module
from etcd_server import etcd, etcd_server, free_port  # noqa: F401  pylint: disable=unused-import

PREFIX = '/coreos.com/network'
CONFIG = '{"Network":"100.64.0.0/16","Backend":{"Type":"vxlan","VNI":1,"MTU":1500}}'
LEASE_RE = re.compile(r'^\{"PublicIP":"198\.18\.0\.\d+","PublicIPv6":null,"BackendType":"vxlan","BackendData":\{"VNI":1,"VtepMAC":"02(:[0-9a-f]{2}){5}"\}\}$')


@pytest.fixture
def flannel(etcd):  # noqa: F811  pylint: disable=redefined-outer-name
    """The etcd of the test module, emptied, with a flannel config written the way a user would."""
    etcd.etcdctl('put', PREFIX + '/config', CONFIG)
    return etcd


def lease(server, public_ip, check=False, diff=False, **kwargs):
    args = server.module_args()
    args.update(public_ip=public_ip, **kwargs)
    return run_module('flannel_lease', args, check=check, diff=diff)


def subnets(server):
    """{key: parsed value} of every lease, read with etcdctl."""
    return dict((k, json.loads(v)) for k, v in server.get(PREFIX + '/subnets/', prefix=True).items())


def test_three_hosts_distinct_subnets_in_flannels_format(flannel):
    first = lease(flannel, '198.18.0.11', check=True, diff=True)
    assert first['changed'] is True and first['lease']['subnet'] == '100.64.1.0/24', first
    assert first['commands'][0].startswith('create /coreos.com/network/subnets/100.64.1.0-24 {"PublicIP":"198.18.0.11"')
    assert subnets(flannel) == {}, 'check mode wrote to etcd'

    results = [lease(flannel, '198.18.0.%d' % n, diff=True) for n in (11, 12, 13)]
    assert [r['changed'] for r in results] == [True, True, True]
    assert [r['lease']['subnet'] for r in results] == ['100.64.1.0/24', '100.64.2.0/24', '100.64.3.0/24']
    own = results[0]['lease']
    assert (own['gateway'], own['bip'], own['network'], own['mtu'], own['underlay_mtu'], own['ttl']) == \
        ('100.64.1.1', '100.64.1.1/24', '100.64.0.0/16', 1450, 1500, 86400)
    assert results[0]['lease']['vtep_mac'] == first['lease']['vtep_mac'], 'check mode predicted another MAC'
    assert results[2]['diff']['before'].count('\n') == 2 and results[2]['diff']['after'].count('\n') == 3
    assert [x['public_ip'] for x in results[2]['leases']] == ['198.18.0.11', '198.18.0.12', '198.18.0.13']

    # What flanneld and a user see: etcdctl get --prefix, line by line (key, value, key, value ...).
    lines = flannel.get_lines('--prefix', PREFIX + '/subnets')
    assert lines[0::2] == ['/coreos.com/network/subnets/100.64.%d.0-24' % n for n in (1, 2, 3)]
    for line in lines[1::2]:
        assert LEASE_RE.match(line), line
    assert flannel.get_lines(PREFIX + '/config') == [PREFIX + '/config', CONFIG]
    for result in results:
        key = result['lease']['key']
        assert json.loads(flannel.get(key)[key]) == {
            'PublicIP': result['lease']['public_ip'], 'PublicIPv6': None, 'BackendType': 'vxlan',
            'BackendData': {'VNI': 1, 'VtepMAC': result['lease']['vtep_mac']}}
        # Attached to an etcd lease of 24 h, like flanneld's.
        lease_id = flannel.lease_of(key)
        assert lease_id and '%016x' % lease_id == result['lease']['lease_id']
        remaining, granted = flannel.lease_ttl(lease_id)
        assert granted == 86400 and 0 < remaining <= 86400


def test_host_keeps_its_lease_across_runs_and_renews_it(flannel):
    created = lease(flannel, '198.18.0.12')
    lease(flannel, '198.18.0.11')
    key = created['lease']['key']
    revision = json.loads(flannel.etcdctl('get', key, '-w', 'json'))['kvs'][0]['mod_revision']
    check = lease(flannel, '198.18.0.12', check=True)
    assert check['changed'] is False and check['renewed'] is False and check['lease']['subnet'] == '100.64.1.0/24'
    again = lease(flannel, '198.18.0.12', diff=True)
    assert again['changed'] is False and again['commands'] == [], again
    assert again['renewed'] is True and again['lease']['ttl'] == 86400
    assert again['lease']['key'] == key and again['lease']['lease_id'] == created['lease']['lease_id']
    assert again['diff']['before'] == again['diff']['after']
    assert json.loads(flannel.etcdctl('get', key, '-w', 'json'))['kvs'][0]['mod_revision'] == revision


def test_parallel_creation_never_shares_a_subnet(flannel):
    hosts = ['198.18.1.%d' % n for n in range(1, 7)]
    with ThreadPoolExecutor(max_workers=len(hosts)) as pool:
        results = list(pool.map(lambda ip: lease(flannel, ip), hosts))
    got = [r['lease']['subnet'] for r in results]
    assert all(r['changed'] for r in results), results
    assert len(set(got)) == 6, got
    stored = subnets(flannel)
    assert len(stored) == 6
    assert sorted(v['PublicIP'] for v in stored.values()) == sorted(hosts)
    assert sorted(stored) == sorted('/coreos.com/network/subnets/100.64.%d.0-24' % n for n in range(1, 7))


def test_reuses_a_lease_written_by_flanneld(flannel):
    lease_id = int(re.search(r'lease ([0-9a-f]+) granted', flannel.etcdctl('lease', 'grant', '86400')).group(1), 16)
    value = '{"PublicIP":"198.18.0.21","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"c6:d2:32:6f:8f:44"}}'
    flannel.etcdctl('put', PREFIX + '/subnets/100.64.7.0-24', value, '--lease=%x' % lease_id)
    result = lease(flannel, '198.18.0.21', vtep_mac='C6:D2:32:6F:8F:44')
    assert result['changed'] is False and result['lease']['subnet'] == '100.64.7.0/24' and result['renewed'] is True
    # The VTEP MAC changed (a new device): same key, same etcd lease, new value.
    result = lease(flannel, '198.18.0.21', vtep_mac='02:00:00:00:00:21', diff=True)
    assert result['changed'] is True and result['lease']['subnet'] == '100.64.7.0/24'
    assert json.loads(flannel.get(PREFIX + '/subnets/100.64.7.0-24')[PREFIX + '/subnets/100.64.7.0-24'])['BackendData'] == \
        {'VNI': 1, 'VtepMAC': '02:00:00:00:00:21'}
    assert flannel.lease_of(PREFIX + '/subnets/100.64.7.0-24') == lease_id
    assert '02:00:00:00:00:21' in result['diff']['after'] and 'c6:d2:32:6f:8f:44' in result['diff']['before']


def test_ttl_changes(flannel):
    key = lease(flannel, '198.18.0.31', ttl=3600)['lease']['key']
    assert flannel.lease_ttl(flannel.lease_of(key))[1] == 3600
    result = lease(flannel, '198.18.0.31', ttl=7200)
    assert result['changed'] is True and result['lease']['ttl'] == 7200
    assert flannel.lease_ttl(flannel.lease_of(key))[1] == 7200
    assert lease(flannel, '198.18.0.31', ttl=7200)['changed'] is False
    result = lease(flannel, '198.18.0.31', ttl=0)
    assert result['changed'] is True and flannel.lease_of(key) == 0 and result['lease']['ttl'] == 0
    assert lease(flannel, '198.18.0.31', ttl=0)['changed'] is False


def test_pinned_subnet(flannel):
    lease(flannel, '198.18.0.11')
    pinned = lease(flannel, '198.18.0.12', subnet='100.64.42.0/24')
    assert pinned['changed'] is True and pinned['lease']['subnet'] == '100.64.42.0/24'
    assert lease(flannel, '198.18.0.12', subnet='100.64.42.0/24')['changed'] is False

    before = subnets(flannel)
    taken = lease(flannel, '198.18.0.13', subnet='100.64.42.0/24')
    assert taken.get('failed') is True
    assert 'subnet 100.64.42.0/24 is already leased to 198.18.0.12' in taken['msg'], taken['msg']
    outside = lease(flannel, '198.18.0.13', subnet='100.65.0.0/24')
    assert outside.get('failed') is True
    assert 'subnet 100.65.0.0/24 is outside the flannel Network 100.64.0.0/16' in outside['msg'], outside['msg']
    assert subnets(flannel) == before, 'a failed run changed etcd'

    # Moving a host: the pinned subnet is created, its old lease deleted.
    moved = lease(flannel, '198.18.0.11', subnet='100.64.43.0/24', diff=True)
    assert moved['changed'] is True and moved['lease']['subnet'] == '100.64.43.0/24'
    assert [x['subnet'] for x in moved['removed']] == ['100.64.1.0/24']
    assert sorted(subnets(flannel)) == [PREFIX + '/subnets/100.64.42.0-24', PREFIX + '/subnets/100.64.43.0-24']


def test_preferred_subnet(flannel):
    lease(flannel, '198.18.0.11', subnet='100.64.5.0/24')
    assert lease(flannel, '198.18.0.12', preferred_subnet='100.64.9.0/24')['lease']['subnet'] == '100.64.9.0/24'
    taken = lease(flannel, '198.18.0.13', preferred_subnet='100.64.5.0/24')
    assert taken['lease']['subnet'] == '100.64.1.0/24'
    outside = lease(flannel, '198.18.0.14', preferred_subnet='100.99.0.0/24')
    assert outside['lease']['subnet'] == '100.64.2.0/24'
    assert any('preferred_subnet 100.99.0.0/24 is outside' in w for w in outside['warnings'])
    # Kept across runs even though the preference now points elsewhere.
    assert lease(flannel, '198.18.0.12', preferred_subnet='100.64.77.0/24')['lease']['subnet'] == '100.64.9.0/24'


def test_prune_and_query(flannel):
    for n in (11, 12, 13):
        lease(flannel, '198.18.0.%d' % n)
    args = dict(prune=True, known_public_ips=['198.18.0.12'])
    check = lease(flannel, '198.18.0.11', check=True, **args)
    assert check['changed'] is True and [x['public_ip'] for x in check['removed']] == ['198.18.0.13']
    assert len(subnets(flannel)) == 3
    pruned = lease(flannel, '198.18.0.11', diff=True, **args)
    assert pruned['changed'] is True and [x['public_ip'] for x in pruned['removed']] == ['198.18.0.13']
    assert sorted(v['PublicIP'] for v in subnets(flannel).values()) == ['198.18.0.11', '198.18.0.12']
    assert [x['public_ip'] for x in pruned['leases']] == ['198.18.0.11', '198.18.0.12']
    assert lease(flannel, '198.18.0.11', **args)['changed'] is False

    args = flannel.module_args()
    args.update(state='query', public_ip='198.18.0.12')
    query = run_module('flannel_lease', args)
    assert query['changed'] is False and query['lease']['subnet'] == '100.64.2.0/24'
    assert [(x['subnet'], x['public_ip'], x['backend_type']) for x in query['leases']] == \
        [('100.64.1.0/24', '198.18.0.11', 'vxlan'), ('100.64.2.0/24', '198.18.0.12', 'vxlan')]
    assert set(query['leases'][0]) >= {'subnet', 'public_ip', 'backend_type', 'backend_data', 'vtep_mac', 'key', 'gateway'}


def test_absent(flannel):
    lease(flannel, '198.18.0.11')
    lease(flannel, '198.18.0.12')
    check = lease(flannel, '198.18.0.11', check=True, state='absent')
    assert check['changed'] is True and len(subnets(flannel)) == 2
    gone = lease(flannel, '198.18.0.11', state='absent', diff=True)
    assert gone['changed'] is True and gone['lease'] is None
    assert [v['PublicIP'] for v in subnets(flannel).values()] == ['198.18.0.12']
    assert lease(flannel, '198.18.0.11', state='absent')['changed'] is False
    wrong = lease(flannel, '198.18.0.11', state='absent', subnet='100.64.2.0/24')
    assert wrong.get('failed') and 'subnet 100.64.2.0/24 is leased to 198.18.0.12, not to 198.18.0.11' in wrong['msg']
    args = flannel.module_args()
    args.update(state='absent', subnet='100.64.2.0/24')
    assert run_module('flannel_lease', args)['changed'] is True
    assert subnets(flannel) == {}


def test_config_change_replaces_leases_that_no_longer_fit(flannel):
    old = lease(flannel, '198.18.0.11')['lease']
    flannel.etcdctl('put', PREFIX + '/config', '{"Network":"100.64.0.0/16","SubnetLen":26,"Backend":{"Type":"host-gw"}}')
    new = lease(flannel, '198.18.0.11')
    assert new['changed'] is True and new['lease']['subnet'] == '100.64.0.64/26' and new['lease']['backend_type'] == 'host-gw'
    assert [x['key'] for x in new['removed']] == [old['key']]
    # No BackendData for host-gw (omitempty), as flanneld writes it.
    assert flannel.get_lines('--prefix', PREFIX + '/subnets') == [
        PREFIX + '/subnets/100.64.0.64-26', '{"PublicIP":"198.18.0.11","PublicIPv6":null,"BackendType":"host-gw"}']


def test_out_of_subnets(flannel):
    flannel.etcdctl('put', PREFIX + '/config', '{"Network":"100.64.0.0/16","SubnetMin":"100.64.1.0","SubnetMax":"100.64.2.0"}')
    lease(flannel, '198.18.0.11')
    lease(flannel, '198.18.0.12')
    full = lease(flannel, '198.18.0.13')
    assert full.get('failed') and full['msg'].startswith('no free subnet left in 100.64.0.0/16: all 2 subnets /24 from 100.64.1.0 to 100.64.2.0'), full
    assert len(subnets(flannel)) == 2


def test_errors(etcd):
    missing = lease(etcd, '198.18.0.11')
    assert missing.get('failed') and missing['msg'] == \
        'flannel config not found at /coreos.com/network/config: write it first (crosshost.network.flannel_network_config)'
    port = free_port()
    down = run_module('flannel_lease', dict(endpoints=['http://127.0.0.1:%d' % port], public_ip='198.18.0.11', timeout=3))
    assert down.get('failed') and down['msg'].startswith('etcd unreachable at http://127.0.0.1:%d: ' % port), down
    bad = lease(etcd, '127.0.0.1')
    assert bad.get('failed') and 'public_ip 127.0.0.1 is not a usable unicast address' in bad['msg']
    etcd.etcdctl('put', PREFIX + '/config', '{"Network":"100.64.0.0/16","SubnetLen":12}')
    invalid = lease(etcd, '198.18.0.11')
    assert invalid.get('failed') and invalid['msg'].startswith('the flannel config at /coreos.com/network/config is not valid: SubnetLen 12')
    assert etcd.get(PREFIX + '/subnets/', prefix=True) == {}


# ---- dual stack (EnableIPv6) ------------------------------------------------------------
DUAL_CONFIG = ('{"Network":"100.64.0.0/16","EnableIPv6":true,"IPv6Network":"2001:db8:165::/48",'
               '"Backend":{"Type":"vxlan","VNI":1}}')


def test_dual_stack_leases_and_switching_ipv6_on_and_off(flannel):
    """IPv4 leases first; IPv6 turned on moves each to its dual-stack key, keeping the IPv4 subnet; off again moves back."""
    first = lease(flannel, '198.18.65.11')
    lease(flannel, '198.18.65.12')
    old_key = first['lease']['key']
    flannel.etcdctl('put', PREFIX + '/config', DUAL_CONFIG)

    # Without its IPv6 underlay address a host cannot hold a dual-stack lease.
    missing = lease(flannel, '198.18.65.11')
    assert missing.get('failed') and missing['msg'].startswith('public_ipv6 is required: the flannel config enables IPv6'), missing

    def dual(public_ip, public_ipv6, **kwargs):
        return lease(flannel, public_ip, public_ipv6=public_ipv6, vtep_mac_v6='02:66:00:00:00:%s' % public_ip[-2:], **kwargs)

    check = dual('198.18.65.11', '2001:db8:65::11', check=True)
    assert check['changed'] is True and check['commands'][0].startswith('move %s -> %s&2001:db8:165:1::-64 ' % (old_key, old_key))
    assert [x['key'] for x in check['leases']].count(old_key) == 0
    assert old_key in subnets(flannel), 'check mode wrote to etcd'

    moved = dual('198.18.65.11', '2001:db8:65::11', preferred_subnet_v6='2001:db8:165:11::/64')
    own = moved['lease']
    assert own['key'] == '/coreos.com/network/subnets/100.64.1.0-24&2001:db8:165:11::-64', own
    assert (own['subnet'], own['subnet_v6'], own['gateway_v6'], own['bip_v6'], own['network_v6']) == \
        ('100.64.1.0/24', '2001:db8:165:11::/64', '2001:db8:165:11::1', '2001:db8:165:11::1/64', '2001:db8:165::/48')
    # Exactly flanneld's dual-stack value, on the same etcd lease as before (its TTL goes on).
    assert flannel.get_lines(own['key'])[1] == (
        '{"PublicIP":"198.18.65.11","PublicIPv6":"2001:db8:65::11","BackendType":"vxlan",'
        '"BackendData":{"VNI":1,"VtepMAC":"%s"},"BackendV6Data":{"VNI":1,"VtepMAC":"02:66:00:00:00:11"}}' % own['vtep_mac'])
    assert old_key not in subnets(flannel)
    assert own['lease_id'] == first['lease']['lease_id']

    second = dual('198.18.65.12', '2001:db8:65::12', preferred_subnet_v6='2001:db8:165:11::/64')
    # The preferred IPv6 subnet is taken: the lowest free one.
    assert (second['lease']['subnet'], second['lease']['subnet_v6']) == ('100.64.2.0/24', '2001:db8:165:1::/64')
    again = dual('198.18.65.11', '2001:db8:65::11')
    assert again['changed'] is False and again['lease']['key'] == own['key'], again
    assert [(x['subnet'], x['subnet_v6'], x['public_ipv6']) for x in again['leases']] == [
        ('100.64.1.0/24', '2001:db8:165:11::/64', '2001:db8:65::11'), ('100.64.2.0/24', '2001:db8:165:1::/64', '2001:db8:65::12')]
    with_pin = dual('198.18.65.12', '2001:db8:65::12', subnet_v6='2001:db8:165:11::/64')
    assert with_pin.get('failed') and 'IPv6 subnet 2001:db8:165:11::/64 is already leased to 198.18.65.11' in with_pin['msg']

    # IPv6 off: back to the IPv4 key, nothing of IPv6 left in the value.
    flannel.etcdctl('put', PREFIX + '/config', CONFIG)
    back = lease(flannel, '198.18.65.11', public_ipv6='2001:db8:65::11')
    assert back['lease']['key'] == old_key and back['lease']['subnet_v6'] == ''
    assert LEASE_RE.match(flannel.get_lines(old_key)[1].replace('198.18.65.', '198.18.0.'))
