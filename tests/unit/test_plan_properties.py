"""Property-based tests of the cluster plan (hypothesis).

Random networks, subnet lengths, pins, kept allocations and sequences of hosts joining
and leaving: the plan never overlaps, does not depend on the order of the hosts, never
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
ADDRESS = re.compile(r'\d+\.\d+\.\d+\.\d+|/\d+|\b\d+\b')


@st.composite
def clusters(draw):
    """(hosts input, allocations, inventory) of a random cluster."""
    prefix = draw(st.integers(16, 26))
    base = draw(st.integers(0, (1 << (prefix - 10)) - 1))  # inside 100.64.0.0/10
    network = ipaddress.ip_network((int(ipaddress.ip_address('100.64.0.0')) + (base << (32 - prefix)), prefix))
    subnet_len = draw(st.integers(prefix + 1, min(30, prefix + 5)))
    count = 1 << (subnet_len - prefix)

    def subnet(index):
        return str(ipaddress.ip_network((int(network.network_address) + (index << (32 - subnet_len)), subnet_len)))

    inventory = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=8, unique=True))
    members = draw(st.lists(st.sampled_from(inventory), min_size=1, unique=True))
    kept = draw(st.dictionaries(st.sampled_from(inventory), st.integers(0, count - 1).map(subnet), max_size=len(inventory)))
    pins = draw(st.dictionaries(st.sampled_from(members), st.integers(0, count - 1).map(subnet), max_size=3))
    hosts = {}
    for i, name in enumerate(members):
        hosts[name] = dict(network=str(network), subnet_len=subnet_len, subnet_min=None, subnet_max=None,
                           subnet=pins.get(name), underlay_ip='198.18.0.%d' % (10 + NAMES.index(name)),
                           underlay_interface='eth0', underlay_mtu=None, default_ipv4={}, interfaces=[])
    return hosts, dict(subnets=kept) if kept else None, inventory


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
    planned = [ipaddress.ip_network(e['subnet']) for e in result['plan'].values()]
    planned += [ipaddress.ip_network(s) for s in result['reserved'].values()]
    for i, a in enumerate(planned):
        assert a.subnet_of(ipaddress.ip_network(result['network']))
        for b in planned[i + 1:]:
            assert not a.overlaps(b), (a, b)
    # Pins are honoured exactly; a kept subnet stays with its host unless an earlier
    # claimant (a host left out of this run, then the lower name) keeps it.
    network = ipaddress.ip_network(result['network'])
    kept = (allocations or {}).get('subnets', {})
    outside = set(inventory) - set(hosts)
    for name, data in sorted(hosts.items()):
        if data['subnet']:
            assert result['plan'][name]['subnet'] == data['subnet']
        elif name in kept and ipaddress.ip_network(kept[name]) != next(network.subnets(new_prefix=result['subnet_len'])):
            earlier = [h for h in kept if kept[h] == kept[name] and (h in outside or (h < name and not hosts.get(h, {}).get('subnet')))]
            if not earlier:
                assert result['plan'][name]['subnet'] == kept[name], (name, kept, result['plan'])


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
    template = dict(next(iter(hosts.values())), subnet=None)
    members = dict((n, dict(h, subnet=None)) for n, h in hosts.items())
    allocations = None
    previous = {}
    for add, name in [(True, None)] + changes:
        if name is not None:
            if add:
                members[name] = dict(template, underlay_ip='198.18.0.%d' % (10 + NAMES.index(name)))
            elif len(members) > 1:
                members.pop(name, None)
        result, error = plan_or_error(members, allocations, sorted(members))
        if error is not None:
            check_refusal(error, members)  # the network is full: nothing moved, nothing kept
            continue
        current = dict((n, e['subnet']) for n, e in result['plan'].items())
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
    outside = dict((name, dict(underlay_ip=None, reachable=reachable)) for name in hosts if name not in run)
    result = cluster_plan(dict((name, hosts[name]) for name in run), allocations=full['allocations'], inventory_hosts=inventory,
                          outside=outside)
    peer = ('subnet', 'gateway', 'bip', 'prefixlen', 'underlay_ip', 'vtep_mac', 'network')
    assert sorted(result['plan']) == sorted(full['plan'])
    for name, entry in result['plan'].items():
        assert dict((k, entry[k]) for k in peer) == dict((k, full['plan'][name][k]) for k in peer), name
        assert entry['in_run'] is (name in run)
        assert entry['reachable'] is (name in run or reachable)
    assert result['allocations'] == full['allocations']
    assert result['unplanned'] == {}
