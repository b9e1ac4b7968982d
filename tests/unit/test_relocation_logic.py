"""Pure decision logic of the migration manager: no cloud, no database."""

import dataclasses
import json
import random

from openstack.compute.v2 import server as sdk_server

from sod_nova.catalog import Catalog
from sod_nova.db import audit
from sod_nova.db import relocation as relocation_db
from sod_nova.policy import SecurityRequest
from sod_nova.relocation import ladder
from sod_nova.relocation import moving_target
from sod_nova.relocation import pass_state
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


# ladder --------------------------------------------------------------------

class Conf:
    class sod_relocation:
        remediation = ['live', 'cold']


SNP = {'hw:mem_encryption': 'true', 'hw:mem_encryption_model': 'amd-sev-snp'}


def choose(status='ACTIVE', flavor=None, metadata=None, parked=None):
    server = server_mod.ServerView('vm', status=status,
                                   flavor_extra_specs=flavor or {},
                                   metadata=metadata or {})
    effective = server_mod.effective_request(CATALOG, server)
    return ladder.choose(server, effective, Conf, parked)


def test_an_ordinary_running_vm_moves_live():
    assert choose() == ('live', None)
    assert choose('PAUSED') == ('live', None)


def test_a_memory_encrypted_guest_moves_only_cold():
    assert choose(flavor=SNP) == ('cold', None)
    assert choose(flavor={'hw:mem_encryption': 'yes'}) == ('cold', None)
    kind, why = choose(flavor=SNP, metadata={'sod:remediation': 'live'})
    assert kind is None
    assert 'cannot live-migrate a memory-encrypted guest' in why


def test_a_vtpm_guest_moves_live_only_in_the_host_secret_mode():
    vtpm = {'hw:tpm_version': '2.0'}
    assert choose(flavor=vtpm) == ('cold', None)
    assert choose(flavor=dict(vtpm, **{'hw:tpm_secret_security': 'host'})) == (
        'live', None)


def test_a_customer_who_prefers_a_pause_to_a_reboot():
    assert choose('SHUTOFF') == ('cold', None)
    kind, why = choose('SHUTOFF', metadata={'sod:remediation': 'live'})
    assert kind is None and 'cannot live-migrate a SHUTOFF VM' in why


def test_a_vm_the_manager_paused_may_move_cold_a_customers_may_not():
    assert choose('PAUSED', flavor=SNP, parked='PAUSED') == ('cold', None)
    kind, why = choose('PAUSED', flavor=SNP)
    assert kind is None and 'cannot cold-migrate a PAUSED VM' in why


def test_an_encrypted_guest_is_paused_where_the_no_host_action_is_suspend():
    encrypted = server_mod.ServerView('vm', flavor_extra_specs=SNP)
    assert ladder.park_action(encrypted, 'suspend') == 'pause'
    assert ladder.park_action(encrypted, 'stop') == 'stop'
    assert ladder.park_action(server_mod.ServerView('vm'), 'suspend') == 'suspend'


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


# planner -------------------------------------------------------------------

@dataclasses.dataclass
class T:
    id: int
    vm: str
    source_host: str
    priority: int = 2
    not_before: float | None = None
    trigger: str = triggers.TRUST_LOSS
    state: str = triggers.PENDING


def test_most_demanding_first_then_oldest():
    tasks = [T(1, 'a', 'h', 2), T(2, 'b', 'h', 6), T(3, 'c', 'h', 6),
             T(4, 'd', 'h', 4)]
    assert [t.vm for t in planner.ordered(tasks)] == ['b', 'c', 'd', 'a']


def test_evacuations_start_ahead_of_demanding_moving_target_moves():
    # Issue 22: four moving-target tasks asking for every cell were chosen
    # ahead of a trust-loss task with max_concurrent=4.
    pending = [T(i, 'mt%d' % i, 'hw%d' % i, 12, trigger=triggers.MOVING_TARGET)
               for i in range(1, 5)]
    pending.append(T(5, 'victim', 'hw9', 2, trigger=triggers.TRUST_LOSS))
    chosen = planner.select(pending, [], max_concurrent=4,
                            max_per_source_host=2, now=0)
    assert [t.vm for t in chosen] == ['victim', 'mt1', 'mt2', 'mt3']


def test_classes_order_evacuation_recovery_then_tenant_caused_moves():
    tasks = [T(1, 'policy', 'h', 12, trigger=triggers.POLICY_CHANGE),
             T(2, 'mt', 'h', 12, trigger=triggers.MOVING_TARGET),
             T(3, 'recovery', 'h', 12, trigger=triggers.RECOVERY),
             T(4, 'gone', 'h', 1, trigger=triggers.UNREACHABLE),
             T(5, 'lost', 'h', 2, trigger=triggers.TRUST_LOSS)]
    assert [t.vm for t in planner.ordered(tasks)] == [
        'lost', 'gone', 'recovery', 'policy', 'mt']


def test_tenant_caused_moves_never_take_the_last_free_slot():
    mt = [T(i, 'mt%d' % i, 'hw%d' % i, trigger=triggers.MOVING_TARGET)
          for i in range(1, 6)]
    # Alone, they leave one of four slots free for an evacuation to come.
    assert len(planner.select(mt, [], 4, 2, now=0)) == 3
    in_flight = [T(9, 'mt9', 'hw9', trigger=triggers.POLICY_CHANGE)] * 3
    assert planner.select(mt, in_flight, 4, 2, now=0) == []
    evacuation = T(7, 'victim', 'hw7')
    assert planner.select(mt + [evacuation], in_flight, 4, 2, now=0) == [
        evacuation]
    # An evacuation waiting out a backoff keeps the last free slot too.
    waiting = T(8, 'waits', 'hw8', not_before=5.0)
    assert [t.vm for t in planner.select(mt + [waiting], [T(10, 'e', 'x')] * 2,
                                         4, 2, now=0)] == ['mt1']
    # One slot in all: taken only while no other task waits.
    assert [t.vm for t in planner.select(mt, [], 1, 1, now=0)] == ['mt1']
    assert planner.select(mt + [waiting], [], 1, 1, now=0) == []


def test_recoveries_never_take_the_last_free_slot_either():
    """A tenant can park its own VM (a request no host meets) and then make
    it a recovery (a request a host meets): four such recoveries still leave
    a slot for an evacuation decided while they run (found in review)."""
    recoveries = [T(i, 'r%d' % i, 'hw%d' % i, trigger=triggers.RECOVERY)
                  for i in range(1, 5)]
    started = planner.select(recoveries, [], 4, 2, now=0)
    assert [t.vm for t in started] == ['r1', 'r2', 'r3']
    evacuation = T(7, 'victim', 'hw7')
    assert planner.select(recoveries[3:] + [evacuation], started, 4, 2,
                          now=0) == [evacuation]
    # Recoveries still go ahead of tenant-caused moves.
    mt = T(8, 'mt', 'hw8', trigger=triggers.MOVING_TARGET)
    assert [t.vm for t in planner.select([mt, recoveries[0]], [], 4, 2,
                                         now=0)] == ['r1', 'mt']


def test_a_projects_tenant_caused_moves_stop_at_its_allowance():
    pending = [T(1, 'a1', 'h1', trigger=triggers.MOVING_TARGET),
               T(2, 'a2', 'h2', trigger=triggers.POLICY_CHANGE),
               T(3, 'b1', 'h3', trigger=triggers.MOVING_TARGET),
               T(4, 'a3', 'h4', trigger=triggers.TRUST_LOSS)]
    project_of = {'a1': 'A', 'a2': 'A', 'b1': 'B', 'a3': 'A'}
    chosen = planner.select(pending, [], 10, 10, now=0,
                            project_of=project_of,
                            allowance={'A': 1, 'B': 0})
    # An evacuation is never bounded by its project's allowance.
    assert [t.vm for t in chosen] == ['a3', 'a1']


def test_a_held_tenant_move_becomes_the_evacuation_of_its_vm():
    """Issue 22: a policy-change move held by its project's allowance (or
    waiting for a slot) kept its trigger when the VM's host then lost
    trust, so the evacuation waited out the tenant's hour."""
    for cause in planner.DISCRETIONARY:
        held = T(1, 'a1', 'tpm1', trigger=cause, state=triggers.PENDING)
        for evacuation in planner.EVACUATIONS:
            assert planner.escalated(held, evacuation) == evacuation
        # Still the tenant's own move: nothing changes.
        for other in (triggers.POLICY_CHANGE, None):
            assert planner.escalated(held, other) is None
        # Started already: Nova is moving it, never re-classed mid-flight.
        started = dataclasses.replace(held, state=triggers.MIGRATING)
        assert planner.escalated(started, triggers.TRUST_LOSS) is None
    # An evacuation or a recovery is never re-classed.
    for cause in planner.EVACUATIONS + (triggers.RECOVERY,):
        task = T(1, 'a1', 'tpm1', trigger=cause, state=triggers.PENDING)
        assert planner.escalated(task, triggers.UNREACHABLE) is None
    # Re-classed, the allowance no longer holds it.
    held = T(1, 'a1', 'tpm1', trigger=triggers.POLICY_CHANGE,
             state=triggers.PENDING)
    evacuation = dataclasses.replace(
        held, trigger=planner.escalated(held, triggers.TRUST_LOSS))
    for task, chosen in ((held, []), (evacuation, [evacuation])):
        assert planner.select([task], [], 4, 2, now=0,
                              project_of={'a1': 'A'},
                              allowance={'A': 0}) == chosen


def test_project_moves_count_the_last_window_only():
    moves = planner.ProjectMoves(window=3600.0)
    for at in (0.0, 10.0, 20.0):
        moves.record('A', at)
    moves.record(None, 20.0)            # a VM of unknown project
    assert moves.allowance({'A', 'B', None}, 3, now=30.0) == {'A': 0, 'B': 3}
    assert moves.allowance({'A'}, 3, now=3605.0) == {'A': 1}
    assert moves.allowance({'A'}, 3, now=3620.0) == {'A': 3}
    assert moves._started == {}          # nothing kept past the window


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


def test_jitter_never_draws_a_period_below_the_minimum():
    rng = random.Random(7)
    draws = [planner.jittered(300, 0.2, rng, minimum=300) for _ in range(200)]
    assert all(300 <= d <= 360 for d in draws)
    assert planner.jittered(1, 0.2, rng, minimum=300) == 300
    assert moving_target.effective_period(1, 300) == 300
    assert moving_target.effective_period(600, 300) == 600


# audit chain ---------------------------------------------------------------

KEY = b'k' * audit.MIN_KEY_BYTES


@dataclasses.dataclass
class A:
    seq: int
    entry: str
    prev_hash: str
    hash: str
    created_at: float = 0.0
    alg: str = audit.HMAC_SHA256


def chain(n):
    rows, prev = [], audit.GENESIS
    for i in range(1, n + 1):
        text = audit.canonical({'event': 'moved', 'vm': 'vm%d' % i, 'at': i})
        rows.append(A(i, text, prev, audit.entry_mac(KEY, i, i, prev, text),
                      created_at=float(i)))
        prev = rows[-1].hash
    return rows


def test_intact_chain_verifies_in_any_order():
    rows = chain(5)
    assert audit.verify(rows, KEY) is None
    assert audit.verify(list(reversed(rows)), KEY) is None
    assert audit.verify([], KEY) is None


def test_canonical_json_is_key_order_independent():
    assert audit.canonical({'b': 1, 'a': [1, 'é']}) == '{"a":[1,"é"],"b":1}'


def test_altered_entry_is_the_first_broken_link():
    rows = chain(5)
    data = json.loads(rows[2].entry)
    data['vm'] = 'other'
    rows[2].entry = audit.canonical(data)
    broken = audit.verify(rows, KEY)
    assert broken.seq == 3
    assert 'altered' in str(broken)


def test_rehashed_entry_breaks_the_next_link():
    rows = chain(5)
    rows[1].entry = audit.canonical({'event': 'forged', 'at': 2})
    rows[1].hash = audit.entry_mac(KEY, 2, 2.0, rows[1].prev_hash, rows[1].entry)
    assert audit.verify(rows, KEY).seq == 3


def test_deleted_entry_is_reported_missing():
    rows = chain(5)
    del rows[2]
    broken = audit.verify(rows, KEY)
    assert broken.seq == 3
    assert 'missing' in broken.reason


def test_non_canonical_or_invalid_entry_is_broken():
    rows = chain(2)
    rows[0].entry = rows[0].entry.replace(',', ', ')
    assert audit.verify(rows, KEY).reason == 'entry is not canonical JSON'
    rows = chain(2)
    rows[0].entry = 'not json'
    assert audit.verify(rows, KEY).seq == 1


def test_first_entry_must_chain_from_genesis():
    rows = chain(2)
    rows[0].prev_hash = 'f' * 64
    assert 'genesis' in audit.verify(rows, KEY).reason


def test_once_nova_refused_a_live_move_the_ladder_goes_on_to_cold():
    server = server_mod.ServerView('vm')
    effective = server_mod.effective_request(CATALOG, server)
    assert ladder.choose(server, effective, Conf, not_live=True) == ('cold', None)
    live_only = server_mod.effective_request(CATALOG, server_mod.ServerView(
        'vm', metadata={'sod:remediation': 'live'}))
    kind, why = ladder.choose(server, live_only, Conf, not_live=True)
    assert kind is None and 'Nova refused to live-migrate this guest' in why


def test_project_moves_say_when_an_allowance_grows_again():
    moves = planner.ProjectMoves(window=3600.0)
    assert moves.next_free() is None
    moves.record('a', 100.0)
    moves.record('b', 50.0)
    moves.record('a', 200.0)
    assert moves.next_free() == 3650.0          # b's move leaves the window
    assert moves.allowance({'a', 'b'}, 2, 3651.0) == {'a': 0, 'b': 2}
    assert moves.next_free() == 3700.0


# pass state ----------------------------------------------------------------

def _task(id, vm, state=triggers.PENDING):
    return relocation_db.Task(
        id=id, vm=vm, seq=0, trigger=triggers.TRUST_LOSS, state=state,
        kind='live', priority=0, source_host='hw1', target_host=None,
        dest_host=None, attempts=0, failed_hosts=(), migration_after=None,
        action=None, reason=None, not_before=None, event_at=None,
        decided_at=None, migrate_called_at=None, finished_at=None)


def test_a_pass_parses_each_view_of_a_vm_once(monkeypatch):
    parsed = []
    real = server_mod.effective_request
    monkeypatch.setattr(server_mod, 'effective_request',
                        lambda catalog, server: parsed.append(server.id)
                        or real(catalog, server))
    state = pass_state.PassState(None, None, CATALOG, [], 0, [], {})
    view = server_mod.ServerView('vm', host='hw1',
                                 metadata={'sod:options': '1,2'})
    first = state.effective(view)
    assert state.effective(view) is first
    assert state.effective(dataclasses.replace(view)) is first  # same view
    assert first.request == OPT_1_2
    changed = dataclasses.replace(view, metadata={'sod:options': '1'})
    assert state.effective(changed).request == SecurityRequest.from_options([1])
    assert parsed == ['vm', 'vm']


def test_a_pass_decides_on_one_view_of_a_vm_once():
    state = pass_state.PassState(None, None, CATALOG, [], 0, [], {})
    view = server_mod.ServerView('vm', host='hw1')
    assert state.first_look(view)
    assert not state.first_look(dataclasses.replace(view))
    assert state.first_look(dataclasses.replace(view, status='PAUSED'))


def test_a_pass_follows_the_tasks_it_writes():
    state = pass_state.PassState(None, None, CATALOG, [], 0,
                                 [_task(2, 'b'), _task(1, 'a')], {})
    assert [t.id for t in state.open_tasks()] == [1, 2]
    state.track(_task(3, 'c', triggers.MIGRATING))
    state.track(_task(1, 'a', triggers.DONE))
    assert [t.id for t in state.open_tasks()] == [2, 3]
    assert [t.vm for t in state.open_tasks(triggers.MIGRATING)] == ['c']
    # A closed task of a VM never removes that VM's newer open one.
    state.track(_task(0, 'b', triggers.DONE))
    assert [t.id for t in state.open_tasks()] == [2, 3]


NOVA_SERVER = {     # GET /servers/{id} at microversion 2.47, as an admin
    'id': 'vm', 'name': 'web', 'status': 'ACTIVE', 'tenant_id': 'p1',
    'OS-EXT-SRV-ATTR:host': 'hw1', 'OS-EXT-STS:task_state': 'migrating',
    'metadata': {'sod:options': '1,2'},
    'flavor': {'ram': 512, 'extra_specs': {'hw:mem_encryption': 'true'}},
    'image': {'id': 'img', 'links': []}}


def test_a_server_reads_the_same_from_novas_json_and_from_the_sdk():
    view = server_mod.ServerView.from_api(NOVA_SERVER, {'hw_tpm_model': 'x'})
    assert view == server_mod.ServerView(
        'vm', name='web', host='hw1', status='ACTIVE', task_state='migrating',
        metadata={'sod:options': '1,2'},
        flavor_extra_specs={'hw:mem_encryption': 'true'}, image_id='img',
        image_properties={'hw_tpm_model': 'x'}, ram_mb=512, project_id='p1')
    assert view.busy
    assert server_mod.ServerView.from_sdk(
        sdk_server.Server.existing(**NOVA_SERVER),
        {'hw_tpm_model': 'x'}) == view


def test_a_server_booted_from_a_volume_has_no_image():
    view = server_mod.ServerView.from_api(dict(NOVA_SERVER, image=''))
    assert view.image_id is None and view.image_properties == {}
