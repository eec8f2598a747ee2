"""Property-based tests of the cluster plan (hypothesis).

Random networks, subnet lengths, pins, kept allocations and sequences of hosts joining
and leaving, for IPv4-only, dual-stack and IPv6-only clusters: the plan never overlaps, does not depend on the order of the hosts, never
moves a kept subnet, and every refusal names a host and a value. Bounded examples and
no deadline keep it fast on a loaded machine; under CI the run is derandomized (the
same examples every time).
"""

import ipaddress
import os
import re

from ansible.errors import AnsibleFilterError
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.crosshost.network.plugins.filter.plan import cluster_plan

SETTINGS = settings(max_examples=int(os.environ.get('XH_HYPOTHESIS_EXAMPLES', '80')), deadline=None, database=None,
                    derandomize=os.environ.get('CI', '').lower() == 'true')
NAMES = ['h%02d' % i for i in range(12)]
ADDRESS = re.compile(r'\d+\.\d+\.\d+\.\d+|[0-9a-f:]*::[0-9a-f:]*|/\d+|\b\d+\b')
# Per family: the pin's key in a host's input, the allocations file's key, the network's key in the plan.
FAMILIES = (('subnet', 'subnets', 'network'), ('subnet_v6', 'subnets_v6', 'network_v6'))


@st.composite
def networks(draw, version):
    """(network, subnet_len) of a family: inside 100.64.0.0/10, or 2001:db8::/32 (its last /40s, away from the underlay)."""
    if version == 4:
        prefix = draw(st.integers(16, 26))
        base, outer, bits, longest = ipaddress.ip_address('100.64.0.0'), 10, 32, 30
    else:
        prefix = draw(st.integers(44, 120))
        base, outer, bits, longest = ipaddress.ip_address('2001:db8:ff00::'), 40, 128, 126
    index = draw(st.integers(0, (1 << (prefix - outer)) - 1))
    network = ipaddress.ip_network((int(base) + (index << (bits - prefix)), prefix))
    return network, draw(st.integers(prefix + 1, min(longest, prefix + 5)))


@st.composite
def clusters(draw):
    """(hosts input, allocations, inventory) of a random cluster: IPv4-only, dual-stack or IPv6-only."""
    versions = draw(st.sampled_from([(4,), (4, 6), (6,)]))
    inventory = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=8, unique=True))
    members = draw(st.lists(st.sampled_from(inventory), min_size=1, unique=True))
    hosts = dict((name, dict(network='', subnet_len=None, subnet_min=None, subnet_max=None, subnet=None,
                             network_v6=None, subnet_len_v6=None, subnet_v6=None,
                             underlay_ip='198.18.0.%d' % (10 + NAMES.index(name)),
                             underlay_ip6='2001:db8:63::%d' % (10 + NAMES.index(name)),
                             underlay_interface='eth0', underlay_mtu=None, default_ipv4={}, interfaces=[])) for name in members)
    allocations = {}
    for version in versions:
        network, subnet_len = draw(networks(version))
        count = 1 << (subnet_len - network.prefixlen)

        def subnet(index):
            return str(ipaddress.ip_network((int(network.network_address) + (index << (network.max_prefixlen - subnet_len)), subnet_len)))

        pin_key, kept_key, network_key = FAMILIES[0 if version == 4 else 1]
        kept = draw(st.dictionaries(st.sampled_from(inventory), st.integers(0, count - 1).map(subnet), max_size=len(inventory)))
        pins = draw(st.dictionaries(st.sampled_from(members), st.integers(0, count - 1).map(subnet), max_size=3))
        if kept:
            allocations[kept_key] = kept
        for name, data in hosts.items():
            data.update({network_key: str(network), network_key.replace('network', 'subnet_len'): subnet_len, pin_key: pins.get(name)})
    return hosts, allocations or None, inventory


def plan_or_error(hosts, allocations, inventory):
    try:
        return cluster_plan(hosts, allocations=allocations, inventory_hosts=inventory), None
    except AnsibleFilterError as exc:
        return None, str(exc)


def check_refusal(msg, hosts):
    assert re.search(r'\bhosts? (%s)\b' % '|'.join(hosts), msg), msg
    assert ADDRESS.search(msg), msg


@SETTINGS
@given(clusters())
def test_plan_never_overlaps_and_refusals_name_host_and_value(cluster):
    hosts, allocations, inventory = cluster
    result, error = plan_or_error(hosts, allocations, inventory)
    if error is not None:
        check_refusal(error, hosts)
        return
    for pin_key, kept_key, network_key in FAMILIES:
        suffix = pin_key[len('subnet'):]
        if not result[network_key]:
            assert all(e[pin_key] == '' for e in result['plan'].values())
            continue
        network = ipaddress.ip_network(result[network_key])
        planned = [ipaddress.ip_network(e[pin_key]) for e in result['plan'].values()]
        planned += [ipaddress.ip_network(s) for s in result['reserved' + suffix].values()]
        for i, a in enumerate(planned):
            assert a.subnet_of(network)
            for b in planned[i + 1:]:
                assert not a.overlaps(b), (a, b)
        # Pins are honoured exactly; a kept subnet stays with its host unless an earlier
        # claimant (a host left out of this run, then the lower name) keeps it.
        kept = (allocations or {}).get(kept_key, {})
        outside = set(inventory) - set(hosts)
        for name, data in sorted(hosts.items()):
            if data[pin_key]:
                assert result['plan'][name][pin_key] == data[pin_key]
            elif name in kept and ipaddress.ip_network(kept[name]) != next(network.subnets(new_prefix=result['subnet_len' + suffix])):
                earlier = [h for h in kept if kept[h] == kept[name] and (h in outside or (h < name and not hosts.get(h, {}).get(pin_key)))]
                if not earlier:
                    assert result['plan'][name][pin_key] == kept[name], (name, kept, result['plan'])


@SETTINGS
@given(clusters(), st.randoms(use_true_random=False))
def test_plan_does_not_depend_on_host_order(cluster, random):
    hosts, allocations, inventory = cluster
    names = list(hosts)
    random.shuffle(names)
    shuffled_inventory = list(inventory)
    random.shuffle(shuffled_inventory)
    assert plan_or_error(hosts, allocations, inventory) == \
        plan_or_error(dict((n, hosts[n]) for n in names), allocations, shuffled_inventory)


@SETTINGS
@given(clusters(), st.lists(st.tuples(st.booleans(), st.sampled_from(NAMES)), max_size=6))
def test_hosts_joining_and_leaving_never_move_a_kept_subnet(cluster, changes):
    """Each step feeds the allocations of the one before; a host present in both keeps its subnet."""
    hosts = cluster[0]
    template = dict(next(iter(hosts.values())), subnet=None, subnet_v6=None)
    members = dict((n, dict(h, subnet=None, subnet_v6=None)) for n, h in hosts.items())
    allocations = None
    previous = {}
    for add, name in [(True, None)] + changes:
        if name is not None:
            if add:
                members[name] = dict(template, underlay_ip='198.18.0.%d' % (10 + NAMES.index(name)),
                                     underlay_ip6='2001:db8:63::%d' % (10 + NAMES.index(name)))
            elif len(members) > 1:
                members.pop(name, None)
        result, error = plan_or_error(members, allocations, sorted(members))
        if error is not None:
            check_refusal(error, members)  # the network is full: nothing moved, nothing kept
            continue
        current = dict((n, (e['subnet'], e['subnet_v6'])) for n, e in result['plan'].items())
        for host, subnet in previous.items():
            if host in current:
                assert current[host] == subnet, (host, previous, current)
        previous = dict((h, s) for h, s in current.items())
        allocations = result['allocations']


@SETTINGS
@given(clusters(), st.data())
def test_plan_is_the_same_whatever_hosts_are_in_the_run(cluster, data):
    """Given the kept allocations, a run of any subset plans every host of the cluster as a full run does."""
    hosts, allocations, inventory = cluster
    full, error = plan_or_error(hosts, allocations, inventory)
    if error is not None:
        return
    run = data.draw(st.lists(st.sampled_from(sorted(hosts)), min_size=1, unique=True))
    reachable = data.draw(st.booleans())
    outside = dict((name, dict(underlay_ip=None, underlay_ip6=None, reachable=reachable)) for name in hosts if name not in run)
    result = cluster_plan(dict((name, hosts[name]) for name in run), allocations=full['allocations'], inventory_hosts=inventory,
                          outside=outside)
    peer = ('subnet', 'gateway', 'bip', 'prefixlen', 'subnet_v6', 'gateway_v6', 'bip_v6', 'underlay_ip', 'underlay_ip6', 'vtep_mac', 'network')
    assert sorted(result['plan']) == sorted(full['plan'])
    for name, entry in result['plan'].items():
        assert dict((k, entry[k]) for k in peer) == dict((k, full['plan'][name][k]) for k in peer), name
        assert entry['in_run'] is (name in run)
        assert entry['reachable'] is (name in run or reachable)
    assert result['allocations'] == full['allocations']
    assert result['unplanned'] == {}
