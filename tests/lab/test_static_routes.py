"""Direct routing on a real (docker-in-docker) lab: site.yml, boot replay, removing a host.

The tests share one lab (see conftest.py) and run in file order: each builds on the
state the previous one left. Bring-ups are what costs here, so there is exactly one.
"""

import ipaddress
import os

import pytest
import yaml

from labdriver import LAB_SUBNET, recap

RESTORE = '/usr/local/sbin/crosshost-restore'
STATE = {}


def underlay_ip(host):
    """Lab hosts are .11, .12, ... of the underlay subnet (create.yml's default)."""
    base = ipaddress.ip_network(LAB_SUBNET).network_address
    return str(base + 10 + int(host[len('node'):]))


def allocations(lab):
    with open(os.path.join(lab.inventory_dir, '.crosshost_allocations.yml')) as handle:
        return yaml.safe_load(handle)['subnets']


def expected_routes(subnets, host):
    return dict((subnets[peer], underlay_ip(peer)) for peer in subnets if peer != host)


def bridge_address(lab, host):
    links = lab.ip_json(host, 'address', 'show', 'dev', 'docker0')
    return sorted('%s/%s' % (a['local'], a['prefixlen']) for a in links[0]['addr_info'] if a['family'] == 'inet')


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


def test_removed_host_loses_its_routes_everywhere(lab):
    if 'subnets' not in STATE:
        pytest.fail('site.yml did not converge in test_site_routes_every_subnet: nothing to check here')
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
