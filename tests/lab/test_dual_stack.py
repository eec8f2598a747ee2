"""Dual stack and IPv6 only on the lab, one ordinary site.yml run per switch:

IPv4 static_routes -> dual-stack static_routes -> dual-stack vxlan -> IPv6-only vxlan
-> IPv6-only static_routes -> IPv4 static_routes.

Each run is ``site.yml`` followed by ``verify.yml`` in the same ansible-playbook command
(the reachability matrix of every family of the plan, with the DF probe, and every host's
routes and forwarding entries compared with the plan), and the hosts' state is read after
it. The tests share the lab of tests/lab (see conftest.py) and run in file order; the
``switches`` fixture gives the lab back as it found it (IPv4 static_routes converged,
inventory restored), also when a test fails.

In an IPv6-only cluster Docker 20.10 still gives docker0 an IPv4 subnet (172.17.0.0/16 by
default, which is this machine's own Docker bridge): the inventory moves it with
``docker_bip``, as docs/flannel-dual-stack.md says a user would.
"""

import ipaddress
import json
import os
import re

import pytest
import yaml

from labdriver import LAB_SUBNET, LAB_SUBNET_V6, ROOT, converge

NETWORK_V6 = '2001:db8:170::/48'
# docker0's host-local IPv4 subnet in the IPv6-only stages (the same on every host, never routed).
DOCKER_BIP_V6_ONLY = '100.127.70.1/24'
VERIFY = os.path.join(ROOT, 'playbooks', 'verify.yml')
STATE = {}


def underlay_ip(host):
    return str(ipaddress.ip_network(LAB_SUBNET).network_address + 10 + int(host[len('node'):]))


def underlay_ip6(host):
    """create.yml's IPv6 underlay address of nodeN: ::1N."""
    return LAB_SUBNET_V6.split('/', maxsplit=1)[0] + str(10 + int(host[len('node'):]))


def via_underlay(subnets, host, address):
    """The static routes HOST should have: every peer's subnet of ``subnets`` via address(peer)."""
    return dict((subnets[peer], address(peer)) for peer in subnets if peer != host)


def gateway(cidr):
    """The bridge's address in a subnet: its first address, with the subnet's prefix."""
    subnet = ipaddress.ip_network(cidr)
    return '%s/%d' % (subnet.network_address + 1, subnet.prefixlen)


def set_cluster(lab, **values):
    """Rewrite group_vars/cluster.yml: the original one with ``values`` (None: the key goes)."""
    variables = dict(STATE['cluster_vars'])
    variables.update(values)
    with open(os.path.join(lab.inventory_dir, 'group_vars', 'cluster.yml'), 'w') as handle:
        handle.write('---\n# Written by tests/lab/test_dual_stack.py\n')
        yaml.safe_dump(dict((k, v) for k, v in variables.items() if v is not None), handle, default_flow_style=False)


def site_and_verify(lab):
    """One ordinary site.yml run, then verify.yml (same command): no miss, no host differing from the plan."""
    rc, output = lab.playbook('playbooks/site.yml', VERIFY, check=False)
    assert rc == 0, output[-8000:]
    assert 'MISS' not in output and ', no host differs from the plan' in output, output[-4000:]
    return output


def routes(lab, host, family):
    return dict((r['dst'], r.get('gateway')) for r in lab.ip_json(host, family, 'route', 'show', 'proto', '147'))


def forward_chain(lab, host, tool):
    """Our forward chain's rules in iptables or ip6tables (TOOL), as ``-S`` prints them."""
    return lab.sh(host, tool, '-w', '-S', 'CROSSHOST-FWD').splitlines()


def accepts(network):
    """Our forward chain accepting NETWORK both ways, and nothing else."""
    return ['-N CROSSHOST-FWD', '-A CROSSHOST-FWD -s %s -j ACCEPT' % network, '-A CROSSHOST-FWD -d %s -j ACCEPT' % network]


def has_link(lab, host, name):
    return lab.sh(host, 'ip', 'link', 'show', 'dev', name, check=False) != ''


def docker0(lab, host, family):
    """docker0's global addresses of a family ('-4' or '-6')."""
    links = lab.ip_json(host, family, 'address', 'show', 'dev', 'docker0', 'scope', 'global')
    return sorted('%s/%s' % (a['local'], a['prefixlen']) for a in links[0]['addr_info'] if 'local' in a) if links else []


def daemon_json(lab, host):
    return json.loads(lab.sh(host, 'cat', '/etc/docker/daemon.json'))


def kept(lab, key):
    with open(os.path.join(lab.inventory_dir, '.crosshost_allocations.yml')) as handle:
        return yaml.safe_load(handle).get(key) or {}


def df_max(output, family):
    """The DF probe's largest packets of one family from verify's summary ('IPv6 ok' pairs, or IPv4's plain 'ok')."""
    tag = r'IPv6 ok' if family == 6 else r'(?<!IPv6 )ok'
    return set(int(size) for size in re.findall(r' -> \S+  %s\s+rtt \S+ ms  DF max (\d+)' % tag, output))


def require(stage):
    if stage not in STATE:
        pytest.fail('the switch before (%s) did not converge: nothing to check here' % stage)


@pytest.fixture(scope='module')
def switches(lab):
    """The lab with all its hosts; afterwards its inventory as it was and IPv4 static_routes converged."""
    path = os.path.join(lab.inventory_dir, 'group_vars', 'cluster.yml')
    with open(path) as handle:
        original = handle.read()
    STATE['cluster_vars'] = yaml.safe_load(original)
    with open(lab.inventory) as handle:
        original_hosts = handle.read()
    lab.write_hosts(lab.hosts)
    try:
        yield lab
    finally:
        with open(path, 'w') as handle:
            handle.write(original)
        with open(lab.inventory, 'w') as handle:
            handle.write(original_hosts)
        if 'ipv4_again' not in STATE:  # the last test is that run: only when it did not pass
            converge(lab)


def test_ipv4_static_routes(switches):
    lab = switches
    set_cluster(lab)
    converge(lab)
    STATE['subnets'] = kept(lab, 'subnets')
    assert sorted(STATE['subnets']) == lab.hosts


def test_dual_stack_static_routes(switches):
    """The IPv4 cluster gets an IPv6 network, one ordinary run: each host's IPv6 subnet on docker0,
    routes to the peers' IPv6 subnets via their IPv6 underlay addresses, the IPv4 ones as they were."""
    require('subnets')
    lab = switches
    set_cluster(lab, crosshost_network_v6=NETWORK_V6)
    output = site_and_verify(lab)
    pairs = 2 * len(lab.hosts) * (len(lab.hosts) - 1)
    assert 'IPv4 and IPv6: %d of %d pairs reach each other' % (pairs, pairs) in output, output[-4000:]
    # Direct routing adds no header: the underlay's whole 1500 bytes pass with DF in both families.
    assert df_max(output, 4) == df_max(output, 6) == {1500}, output[-4000:]
    subnets_v6 = kept(lab, 'subnets_v6')
    assert sorted(subnets_v6) == lab.hosts and len(set(subnets_v6.values())) == len(lab.hosts), subnets_v6
    assert kept(lab, 'subnets') == STATE['subnets']  # the IPv4 subnets did not move
    for host in lab.hosts:
        subnet = ipaddress.ip_network(subnets_v6[host])
        assert subnet.subnet_of(ipaddress.ip_network(NETWORK_V6)) and subnet.prefixlen == 64, (host, subnet)
        expected_v6 = via_underlay(subnets_v6, host, underlay_ip6)
        assert routes(lab, host, '-6') == expected_v6, host
        assert routes(lab, host, '-4') == via_underlay(STATE['subnets'], host, underlay_ip), host
        batch = lab.sh(host, 'cat', '/etc/crosshost/50-routes.batch')  # the boot replay has the IPv6 routes too
        assert all(dst in batch for dst in expected_v6), (host, batch)
        # docker0: both gateways; daemon.json: the IPv4 bridge as before and the host's IPv6 subnet.
        assert docker0(lab, host, '-4') == [gateway(STATE['subnets'][host])], host
        assert docker0(lab, host, '-6') == [gateway(subnets_v6[host])], host
        daemon = daemon_json(lab, host)
        assert (daemon['bip'], daemon.get('ipv6'), daemon.get('fixed-cidr-v6')) == (
            gateway(STATE['subnets'][host]), True, str(subnet)), (host, daemon)
        # IPv6 forwarding on, our forward chain in ip6tables beside the IPv4 one.
        assert lab.sh(host, 'sysctl', '-n', 'net.ipv6.conf.all.forwarding').strip() == '1', host
        assert forward_chain(lab, host, 'ip6tables') == accepts(NETWORK_V6), host
        assert forward_chain(lab, host, 'iptables') == accepts(STATE['cluster_vars']['crosshost_network']), host
    STATE['dual_stack_static_routes'] = subnets_v6


def test_dual_stack_vxlan(switches):
    """To the overlay, still dual stack: both VXLAN devices, verify's matrix and DF probe for both families;
    the static routes of both families go, and their boot file."""
    require('dual_stack_static_routes')
    lab = switches
    set_cluster(lab, crosshost_backend='vxlan', crosshost_network_v6=NETWORK_V6)
    output = site_and_verify(lab)
    pairs = 2 * len(lab.hosts) * (len(lab.hosts) - 1)
    assert 'IPv4 and IPv6: %d of %d pairs reach each other' % (pairs, pairs) in output, output[-4000:]
    # The containers' MTU is the IPv6 device's (VXLAN over IPv6 costs 70 bytes): the
    # largest DF packet of each family is that, in both directions of every pair.
    assert df_max(output, 4) == df_max(output, 6) == {1430}, output[-4000:]
    subnets_v6 = kept(lab, 'subnets_v6')
    assert kept(lab, 'subnets') == STATE['subnets']  # the IPv4 subnets did not move
    assert subnets_v6 == STATE['dual_stack_static_routes']  # nor the IPv6 ones
    for host in lab.hosts:
        assert has_link(lab, host, 'flannel.1') and has_link(lab, host, 'flannel-v6.1'), host
        peers = [p for p in lab.hosts if p != host]
        # Onlink via the peer's subnet address: the static routes via the underlay are gone.
        assert routes(lab, host, '-4') == dict((STATE['subnets'][p], STATE['subnets'][p].split('/')[0]) for p in peers), host
        assert routes(lab, host, '-6') == dict((subnets_v6[p], subnets_v6[p].split('/')[0]) for p in peers), host
        env = lab.sh(host, 'cat', '/run/flannel/subnet.env')
        assert 'FLANNEL_SUBNET=' in env and 'FLANNEL_IPV6_SUBNET=' in env and 'FLANNEL_MTU=1430' in env, (host, env)
        assert '50-routes.batch' not in lab.sh(host, 'ls', '/etc/crosshost').split(), host
    STATE['dual_stack'] = subnets_v6


def test_ipv6_only_vxlan(switches):
    """IPv4 off: flannel.1 and the IPv4 routes go, flannel-v6.1 keeps every IPv6 subnet; docker0 keeps a host-local IPv4 subnet."""
    require('dual_stack')
    lab = switches
    set_cluster(lab, crosshost_backend='vxlan', crosshost_network_v6=NETWORK_V6, crosshost_network='', docker_bip=DOCKER_BIP_V6_ONLY)
    output = site_and_verify(lab)
    pairs = len(lab.hosts) * (len(lab.hosts) - 1)
    assert 'IPv6: %d of %d pairs reach each other' % (pairs, pairs) in output, output[-4000:]
    assert df_max(output, 6) == {1430}, output[-4000:]
    assert kept(lab, 'subnets_v6') == STATE['dual_stack']
    for host in lab.hosts:
        assert not has_link(lab, host, 'flannel.1') and has_link(lab, host, 'flannel-v6.1'), host
        assert routes(lab, host, '-4') == {}, host
        assert len(routes(lab, host, '-6')) == len(lab.hosts) - 1, host
        env = lab.sh(host, 'cat', '/run/flannel/subnet.env')
        assert 'FLANNEL_SUBNET=' not in env and 'FLANNEL_NETWORK=' not in env and 'FLANNEL_IPV6_SUBNET=' in env, (host, env)
        assert lab.sh(host, 'ls', '/etc/crosshost/flannel').split().count('link.batch') == 0, host
        assert docker0(lab, host, '-4') == [DOCKER_BIP_V6_ONLY], host
        assert daemon_json(lab, host)['bip'] == DOCKER_BIP_V6_ONLY, host
    STATE['ipv6_only_vxlan'] = True


def test_ipv6_only_static_routes(switches):
    """Off the overlay, still IPv6 only: every device, route and file of the overlay goes; routes via the IPv6 underlay."""
    require('ipv6_only_vxlan')
    lab = switches
    set_cluster(lab, crosshost_network_v6=NETWORK_V6, crosshost_network='', docker_bip=DOCKER_BIP_V6_ONLY)
    output = site_and_verify(lab)
    pairs = len(lab.hosts) * (len(lab.hosts) - 1)
    assert 'IPv6: %d of %d pairs reach each other' % (pairs, pairs) in output, output[-4000:]
    subnets_v6 = kept(lab, 'subnets_v6')
    assert subnets_v6 == STATE['dual_stack']
    for host in lab.hosts:
        assert not has_link(lab, host, 'flannel.1') and not has_link(lab, host, 'flannel-v6.1'), host
        assert routes(lab, host, '-6') == via_underlay(subnets_v6, host, underlay_ip6), host
        assert routes(lab, host, '-4') == {}, host
        assert 'flannel' not in lab.sh(host, 'ls', '/etc/crosshost').split(), host
        assert lab.sh(host, 'ls', '/run/flannel', check=False).strip() == '', host
    STATE['ipv6_only_static_routes'] = True


def test_ipv4_static_routes_again_leaves_nothing_of_ipv6(switches):
    """Back to the start: the IPv4 subnets of the first run, and nothing IPv6 or of the overlay left."""
    require('ipv6_only_static_routes')
    lab = switches
    set_cluster(lab)
    converge(lab)
    assert kept(lab, 'subnets') == STATE['subnets']
    assert 'subnets_v6' not in yaml.safe_load(open(os.path.join(lab.inventory_dir, '.crosshost_allocations.yml')))
    for host in lab.hosts:
        assert routes(lab, host, '-4') == via_underlay(STATE['subnets'], host, underlay_ip), host
        assert routes(lab, host, '-6') == {}, host
        assert not has_link(lab, host, 'flannel.1') and not has_link(lab, host, 'flannel-v6.1'), host
        # docker0: the plan's IPv4 gateway again, no IPv6 address of ours; daemon.json without the IPv6 keys.
        assert docker0(lab, host, '-4') == [gateway(STATE['subnets'][host])], host
        assert docker0(lab, host, '-6') == [], host
        daemon = daemon_json(lab, host)
        assert daemon['bip'] == gateway(STATE['subnets'][host]), (host, daemon)
        assert 'ipv6' not in daemon and 'fixed-cidr-v6' not in daemon, (host, daemon)
        files = lab.sh(host, 'ls', '/etc/crosshost').split()
        assert 'flannel' not in files and 'bridge-docker0.address6' not in files, (host, files)
        assert '2001:db8:170:' not in lab.sh(host, 'cat', '/etc/crosshost/50-routes.batch'), host
        assert 'CROSSHOST' not in lab.sh(host, 'ip6tables-save'), host
    STATE['ipv4_again'] = True
