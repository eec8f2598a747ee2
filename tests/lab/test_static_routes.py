"""Direct routing on a real (docker-in-docker) lab: site.yml, boot replay, removing a host.

The tests share one lab (see conftest.py) and run in file order: each builds on the
state the previous one left. Bring-ups are what costs here, so there is exactly one.
"""

import ipaddress
import json
import os

import pytest
import yaml

from labdriver import LAB_SUBNET, LAB_SUBNET_V6, recap

RESTORE = '/usr/local/sbin/crosshost-restore'
STATE = {}
NETWORK_V6 = '2001:db8:164::/48'


def underlay_ip(host):
    """Lab hosts are .11, .12, ... of the underlay subnet (create.yml's default)."""
    base = ipaddress.ip_network(LAB_SUBNET).network_address
    return str(base + 10 + int(host[len('node'):]))


def underlay_ip6(host):
    """create.yml's IPv6 underlay address of nodeN: ::1N (the IPv4 last number, as text)."""
    return LAB_SUBNET_V6.split('/', maxsplit=1)[0] + str(10 + int(host[len('node'):]))


def our_routes6(lab, host):
    return dict((r['dst'], r.get('gateway')) for r in lab.ip_json(host, '-6', 'route', 'show', 'proto', '147'))


def set_network_v6(lab, network):
    """Give the cluster an IPv6 network in the inventory (group_vars/cluster.yml), or take it away."""
    path = os.path.join(lab.inventory_dir, 'group_vars', 'cluster.yml')
    with open(path) as handle:
        lines = [line for line in handle.read().splitlines() if not line.startswith('crosshost_network_v6:')]
    if network:
        lines.append('crosshost_network_v6: %s' % network)
    with open(path, 'w') as handle:
        handle.write('\n'.join(lines) + '\n')


def allocations(lab):
    with open(os.path.join(lab.inventory_dir, '.crosshost_allocations.yml')) as handle:
        return yaml.safe_load(handle)['subnets']


def expected_routes(subnets, host):
    return dict((subnets[peer], underlay_ip(peer)) for peer in subnets if peer != host)


def bridge_address(lab, host):
    links = lab.ip_json(host, 'address', 'show', 'dev', 'docker0')
    return sorted('%s/%s' % (a['local'], a['prefixlen']) for a in links[0]['addr_info'] if a['family'] == 'inet')


def bridge_address6(lab, host):
    """docker0's global IPv6 addresses."""
    links = lab.ip_json(host, '-6', 'address', 'show', 'dev', 'docker0', 'scope', 'global')
    # ip -json prints the lifetimes of an address as an item of their own (no 'local').
    return sorted('%s/%s' % (a['local'], a['prefixlen']) for a in links[0]['addr_info'] if 'local' in a) if links else []


def test_site_routes_every_subnet(lab):
    output = lab.playbook('playbooks/site.yml')[1]
    assert all(counts['failed'] == 0 and counts['unreachable'] == 0 for counts in recap(output).values()), output[-3000:]

    subnets = allocations(lab)
    assert sorted(subnets) == lab.hosts
    assert len(set(subnets.values())) == len(lab.hosts)
    for host in lab.hosts:
        assert lab.our_routes(host) == expected_routes(subnets, host), host
        gateway = ipaddress.ip_network(subnets[host]).network_address + 1
        assert bridge_address(lab, host) == ['%s/24' % gateway], host
    STATE['subnets'] = subnets


def test_containers_reach_each_other(lab):
    if 'subnets' not in STATE:
        pytest.fail('site.yml did not converge in test_site_routes_every_subnet: nothing to check here')
    output = lab.playbook('playbooks/verify.yml')[1]
    assert "containers reach each other" in output
    assert 'MISS' not in output


def test_boot_replay_restores_routes_and_chains(lab):
    if 'subnets' not in STATE:
        pytest.fail('site.yml did not converge in test_site_routes_every_subnet: nothing to check here')
    host = 'node1'
    before = lab.our_routes(host)
    assert before

    # What a reboot loses: our routes, our chains' content and the jumps to them.
    lab.sh(host, 'ip', 'route', 'flush', 'proto', '147')
    lab.sh(host, 'iptables', '-w', '-D', 'FORWARD', '-j', 'CROSSHOST-FWD')
    lab.sh(host, 'iptables', '-w', '-F', 'CROSSHOST-FWD')
    lab.sh(host, 'iptables', '-w', '-t', 'nat', '-D', 'POSTROUTING', '-j', 'CROSSHOST-POSTRTG')
    assert lab.our_routes(host) == {}

    lab.sh(host, RESTORE, 'all')
    assert lab.our_routes(host) == before
    lab.sh(host, 'iptables', '-w', '-C', 'FORWARD', '-j', 'CROSSHOST-FWD')
    lab.sh(host, 'iptables', '-w', '-t', 'nat', '-C', 'POSTROUTING', '-j', 'CROSSHOST-POSTRTG')
    assert lab.sh(host, 'iptables', '-w', '-S', 'CROSSHOST-FWD').splitlines() == [
        '-N CROSSHOST-FWD',
        '-A CROSSHOST-FWD -s 100.64.0.0/16 -j ACCEPT',
        '-A CROSSHOST-FWD -d 100.64.0.0/16 -j ACCEPT',
    ]

    # Replaying again changes nothing (replace, not add; chains rewritten, not appended).
    lab.sh(host, RESTORE, 'all')
    assert lab.our_routes(host) == before
    assert lab.sh(host, 'iptables', '-w', '-S', 'FORWARD').count('-j CROSSHOST-FWD') == 1

    # And the containers talk again: node1's probe reaches node2's.
    probe2 = lab.sh('node2', 'docker', 'inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'crosshost-probe').strip()
    lab.sh(host, 'docker', 'exec', 'crosshost-probe', 'ping', '-c', '3', '-W', '1', '-w', '5', probe2)


def test_dual_stack_is_one_ordinary_run(lab):
    """The IPv4 cluster gets an IPv6 network: one site.yml run, then verify's matrix for both families."""
    if 'subnets' not in STATE:
        pytest.fail('site.yml did not converge in test_site_routes_every_subnet: nothing to check here')
    set_network_v6(lab, NETWORK_V6)
    output = lab.playbook('playbooks/site.yml')[1]
    assert all(counts['failed'] == 0 and counts['unreachable'] == 0 for counts in recap(output).values()), output[-3000:]
    subnets_v6 = {}
    for host in lab.hosts:
        routes = our_routes6(lab, host)
        assert sorted(routes.values()) == sorted(underlay_ip6(peer) for peer in lab.hosts if peer != host), (host, routes)
        for dst, gateway in routes.items():
            assert ipaddress.ip_network(dst).subnet_of(ipaddress.ip_network(NETWORK_V6)), dst
            subnets_v6[dst] = gateway
        # The IPv4 routes did not move; the boot file has both families.
        assert lab.our_routes(host) == expected_routes(STATE['subnets'], host), host
        batch = lab.sh(host, 'cat', '/etc/crosshost/50-routes.batch')
        assert all(dst in batch for dst in routes), batch
    assert len(subnets_v6) == len(lab.hosts)
    # Bridge and Docker: docker0 carries the plan's IPv6 gateway, daemon.json the host's subnet.
    with open(os.path.join(lab.inventory_dir, '.crosshost_allocations.yml')) as handle:
        kept_v6 = yaml.safe_load(handle)['subnets_v6']
    for host in lab.hosts:
        subnet = ipaddress.ip_network(kept_v6[host])
        assert bridge_address6(lab, host) == ['%s/%d' % (subnet.network_address + 1, subnet.prefixlen)], host
        daemon = json.loads(lab.sh(host, 'cat', '/etc/docker/daemon.json'))
        assert (daemon.get('ipv6'), daemon.get('fixed-cidr-v6'), 'ip6tables' in daemon) == (True, str(subnet), False), (host, daemon)

    output = lab.playbook('playbooks/verify.yml')[1]
    for host in lab.hosts:
        # The probe (started by verify) has an IPv6 address from its host's fixed-cidr-v6.
        probe = json.loads(lab.sh(host, 'docker', 'inspect', 'crosshost-probe'))[0]['NetworkSettings']
        assert ipaddress.ip_address(probe['GlobalIPv6Address']) in ipaddress.ip_network(kept_v6[host]), (host, probe)
        assert probe['IPv6Gateway'] == str(ipaddress.ip_network(kept_v6[host]).network_address + 1), (host, probe)
    pairs = 2 * len(lab.hosts) * (len(lab.hosts) - 1)  # both families
    assert 'IPv4 and IPv6: %d of %d pairs reach each other' % (pairs, pairs) in output, output[-4000:]
    assert 'MISS' not in output
    STATE['dual_stack'] = True


def test_removed_host_loses_its_routes_everywhere(lab):
    """Also back from dual stack to IPv4 only in the same run: no IPv6 route of ours stays."""
    if 'subnets' not in STATE:
        pytest.fail('site.yml did not converge in test_site_routes_every_subnet: nothing to check here')
    set_network_v6(lab, '')
    before = STATE['subnets']
    removed = lab.hosts[-1]
    remaining = lab.hosts[:-1]
    addresses = dict((host, bridge_address(lab, host)) for host in remaining)

    lab.write_hosts(remaining)
    output = lab.playbook('playbooks/site.yml')[1]
    assert set(recap(output)) == set(remaining)

    after = allocations(lab)
    assert removed not in after
    # No other host's subnet moved.
    assert after == dict((host, before[host]) for host in remaining)
    for host in remaining:
        routes = lab.our_routes(host)
        assert before[removed] not in routes, host
        assert routes == expected_routes(after, host), host
        assert bridge_address(lab, host) == addresses[host], host
        # The boot file follows.
        assert before[removed] not in lab.sh(host, 'cat', '/etc/crosshost/50-routes.batch'), host
        # Nothing of IPv6 stays: routes, boot file, daemon.json keys.
        assert our_routes6(lab, host) == {}, host
        assert '2001:db8:164:' not in lab.sh(host, 'cat', '/etc/crosshost/50-routes.batch'), host
        daemon = json.loads(lab.sh(host, 'cat', '/etc/docker/daemon.json'))
        assert 'fixed-cidr-v6' not in daemon and 'ipv6' not in daemon, (host, daemon)
        # The bridge lost exactly the IPv6 gateway the bridge role had put there, and its record.
        assert bridge_address6(lab, host) == [], host
        assert lab.sh(host, 'ls', '/etc/crosshost').split().count('bridge-docker0.address6') == 0, host
