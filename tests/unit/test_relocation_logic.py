"""Pure decision logic of the migration manager: no cloud, no database."""

import dataclasses
import json
import random

import pytest

from sod_nova.catalog import Catalog
from sod_nova.db import audit
from sod_nova.policy import SecurityRequest
from sod_nova.relocation import decision
from sod_nova.relocation import planner
from sod_nova.relocation import server as server_mod
from sod_nova.relocation import triggers

CATALOG = Catalog.load()


@dataclasses.dataclass
class Row:
    host: str
    architecture: str
    state: str = 'trusted'
    reason: str = 'verified'

    @property
    def capability_mask(self):
        return CATALOG.capability_mask(self.architecture)


OPT_1_2 = SecurityRequest.from_options([1, 2])


# decision ------------------------------------------------------------------

def test_no_request_is_compliant_even_on_an_untrusted_host():
    verdict = decision.assess(SecurityRequest(), 'hw1',
                              Row('hw1', 'HyperWall', 'untrusted'))
    assert verdict.compliant


@pytest.mark.parametrize('row, trigger, words', [
    (None, triggers.UNREACHABLE, 'hw1 has no trust record'),
    (Row('hw1', 'HyperWall', 'unreachable', 'no evidence for 30 s'),
     triggers.UNREACHABLE, 'hw1 is unreachable: no evidence for 30 s'),
    (Row('hw1', 'HyperWall', 'untrusted', '3 memory violations'),
     triggers.TRUST_LOSS, 'hw1 is untrusted: 3 memory violations'),
    (Row('hw1', 'HyperWall', 'bogus-state'), triggers.TRUST_LOSS,
     'hw1 is bogus-state'),
    (Row('hw1', 'TPM'), triggers.POLICY_CHANGE, 'hw1 (TPM) lacks'),
])
def test_assess_fails_closed_with_a_named_trigger(row, trigger, words):
    verdict = decision.assess(OPT_1_2, 'hw1', row)
    assert not verdict.compliant
    assert verdict.trigger == trigger
    assert words in verdict.reason


def test_trusted_host_whose_architecture_satisfies_is_compliant():
    assert decision.assess(OPT_1_2, 'hw1', Row('hw1', 'HyperWall')).compliant


def test_compliant_hosts_exclude_untrusted_unsatisfying_and_excluded():
    rows = [Row('hw1', 'HyperWall'), Row('hw2', 'HyperWall', 'untrusted'),
            Row('hw3', 'HyperWall'), Row('tpm1', 'TPM')]
    assert decision.compliant_hosts(OPT_1_2, rows) == ['hw1', 'hw3']
    assert decision.compliant_hosts(OPT_1_2, rows, exclude={'hw1'}) == ['hw3']


def test_no_host_reason_names_the_missing_cells():
    rows = [Row('tpm1', 'TPM'), Row('hw1', 'HyperWall', 'untrusted')]
    reason = decision.no_host_reason(CATALOG, OPT_1_2, rows)
    assert reason.startswith('no compliant host: ')
    assert 'TPM' in reason
    assert decision.no_host_reason(CATALOG, OPT_1_2, rows[1:]) == (
        'no compliant host: no other trusted host')
    rows = [Row('hw1', 'HyperWall'), Row('hw2', 'HyperWall')]
    assert decision.no_host_reason(
        CATALOG, OPT_1_2, rows, exclude={'hw0'}, failed=('hw2', 'hw1')) == (
            'no compliant host left: migrations to hw1, hw2 failed')


# effective request ---------------------------------------------------------

def test_effective_request_is_the_union_of_flavor_image_and_metadata():
    server = server_mod.ServerView(
        'vm', flavor_extra_specs={'sod:options': '1'},
        image_properties={'sod:options': '3', 'sod:properties': 'I'},
        metadata={'sod:options': '2', 'sod:moving_target': '600'})
    effective = server_mod.effective_request(CATALOG, server)
    assert effective.request == (
        SecurityRequest.from_options([1, 2])
        | SecurityRequest.from_options([3], ['I']))
    assert effective.moving_target == 600
    assert effective.errors == ()


def test_malformed_metadata_never_drops_the_operator_floor():
    server = server_mod.ServerView(
        'vm', flavor_extra_specs={'sod:options': '1'},
        metadata={'sod:options': 'banana'})
    effective = server_mod.effective_request(CATALOG, server)
    assert effective.request == SecurityRequest.from_options([1])
    assert len(effective.errors) == 1
    assert effective.errors[0].startswith('metadata sod:options')


def test_memory_encrypted_guests_need_cold_migration():
    assert server_mod.needs_cold_migration(server_mod.ServerView(
        'vm', flavor_extra_specs={'hw:mem_encryption': 'True'}))
    assert server_mod.needs_cold_migration(server_mod.ServerView(
        'vm', image_properties={'hw_mem_encryption': 'yes'}))
    assert not server_mod.needs_cold_migration(server_mod.ServerView('vm'))


# planner -------------------------------------------------------------------

@dataclasses.dataclass
class T:
    id: int
    vm: str
    source_host: str
    priority: int = 2
    not_before: float | None = None


def test_most_demanding_first_then_oldest():
    tasks = [T(1, 'a', 'h', 2), T(2, 'b', 'h', 6), T(3, 'c', 'h', 6),
             T(4, 'd', 'h', 4)]
    assert [t.vm for t in planner.ordered(tasks)] == ['b', 'c', 'd', 'a']


def test_select_respects_global_and_per_source_bounds():
    pending = [T(i, 'vm%d' % i, 'hw1' if i < 5 else 'hw2', priority=10 - i)
               for i in range(8)]
    chosen = planner.select(pending, [], max_concurrent=3,
                            max_per_source_host=2, now=0)
    assert [t.vm for t in chosen] == ['vm0', 'vm1', 'vm5']


def test_select_counts_in_flight_slots_and_skips_busy_vms():
    in_flight = [T(9, 'vm0', 'hw1')]
    pending = [T(1, 'vm0', 'hw1'), T(2, 'vm1', 'hw1'), T(3, 'vm2', 'hw1')]
    chosen = planner.select(pending, in_flight, max_concurrent=4,
                            max_per_source_host=2, now=0)
    assert [t.vm for t in chosen] == ['vm1']
    assert planner.select(pending, in_flight * 4, 4, 9, now=0) == []


def test_select_waits_out_the_backoff():
    pending = [T(1, 'a', 'h', not_before=10.0), T(2, 'b', 'h')]
    assert [t.vm for t in planner.select(pending, [], 5, 5, now=5.0)] == ['b']
    assert len(planner.select(pending, [], 5, 5, now=10.0)) == 2


def test_backoff_doubles_and_priority_counts_cells():
    assert [planner.backoff(2.0, n) for n in (1, 2, 3)] == [2.0, 4.0, 8.0]
    assert planner.priority(OPT_1_2) == 4
    assert planner.priority(SecurityRequest()) == 0


def test_percentile_is_nearest_rank():
    samples = list(range(1, 101))
    assert planner.percentile(samples, 50) == 50
    assert planner.percentile(samples, 99) == 99
    assert planner.percentile([7.0], 99) == 7.0
    assert planner.percentile([3, 1, 2], 50) == 2
    assert planner.percentile([], 50) is None


def test_jitter_stays_within_bounds_and_varies():
    rng = random.Random(7)
    draws = [planner.jittered(100, 0.2, rng) for _ in range(200)]
    assert all(80 <= d <= 120 for d in draws)
    assert max(draws) - min(draws) > 20


# audit chain ---------------------------------------------------------------

@dataclasses.dataclass
class A:
    seq: int
    entry: str
    prev_hash: str
    hash: str


def chain(n):
    rows, prev = [], audit.GENESIS
    for i in range(1, n + 1):
        text = audit.canonical({'event': 'moved', 'vm': 'vm%d' % i, 'n': i})
        rows.append(A(i, text, prev, audit.link_hash(prev, text)))
        prev = rows[-1].hash
    return rows


def test_intact_chain_verifies_in_any_order():
    rows = chain(5)
    assert audit.verify(rows) is None
    assert audit.verify(list(reversed(rows))) is None
    assert audit.verify([]) is None


def test_canonical_json_is_key_order_independent():
    assert audit.canonical({'b': 1, 'a': [1, 'é']}) == '{"a":[1,"é"],"b":1}'


def test_altered_entry_is_the_first_broken_link():
    rows = chain(5)
    data = json.loads(rows[2].entry)
    data['vm'] = 'other'
    rows[2].entry = audit.canonical(data)
    broken = audit.verify(rows)
    assert broken.seq == 3
    assert 'altered' in str(broken)


def test_rehashed_entry_breaks_the_next_link():
    rows = chain(5)
    rows[1].entry = audit.canonical({'forged': True})
    rows[1].hash = audit.link_hash(rows[1].prev_hash, rows[1].entry)
    assert audit.verify(rows).seq == 3


def test_deleted_entry_is_reported_missing():
    rows = chain(5)
    del rows[2]
    broken = audit.verify(rows)
    assert broken.seq == 3
    assert 'missing' in broken.reason


def test_non_canonical_or_invalid_entry_is_broken():
    rows = chain(2)
    rows[0].entry = rows[0].entry.replace(',', ', ')
    assert audit.verify(rows).reason == 'entry is not canonical JSON'
    rows = chain(2)
    rows[0].entry = 'not json'
    assert audit.verify(rows).seq == 1


def test_first_entry_must_chain_from_genesis():
    rows = chain(2)
    rows[0].prev_hash = 'f' * 64
    assert 'genesis' in audit.verify(rows).reason
