"""The migration manager: from triggers to decisions to moves, for life.

Triggers (trust changes, ``sod:`` metadata edits, a periodic reconcile) only
queue work and wake the manager; one pass
(:meth:`MigrationManager.process_pending`) reads its state once, decides,
follows the moves in flight and starts the ones the planner allows.
See doc/source/contributor/migration-manager.rst.
"""

import collections
from concurrent import futures
import dataclasses
import threading
import time

from oslo_log import log as logging

from sod_nova import compliance
from sod_nova.db import api as db_api
from sod_nova.db import relocation as relocation_db
from sod_nova.db import trust_states
from sod_nova.policy import parse
from sod_nova.relocation import audit_events
from sod_nova.relocation import decider as decider_mod
from sod_nova.relocation import mover as mover_mod
from sod_nova.relocation import moving_target
from sod_nova.relocation import pass_state
from sod_nova.relocation import planner
from sod_nova.relocation import triggers
from sod_nova.relocation import watcher as watcher_mod

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class _Event:
    kind: str            # 'host' or 'vm'
    key: str             # host name or VM id
    at: float            # when the trigger happened (or was received)
    became_trusted: bool = False


class MigrationManager:
    """Keeps every VM with a request on a server that satisfies it."""

    def __init__(self, compute, catalog, conf=None, store=None,
                 clock=time.time, rng=None):
        if conf is None:
            import sod_nova.conf
            conf = sod_nova.conf.CONF
        self.conf = conf
        self.compute = compute
        self.catalog = catalog
        self.rule = compliance.Rule(catalog)
        self.store = store or relocation_db.RelocationStore(conf)
        self.clock = clock
        self.mover = mover_mod.Mover(compute, self.store, catalog, conf, clock,
                                     rule=self.rule)
        self.watcher = watcher_mod.Watcher(self.mover)
        self._events = collections.deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.RLock()
        self._thread = None
        self._listener = None
        self._reconcile_requested = True
        self._next_reconcile = 0.0
        # The timers read the manager's clock at each look (a scenario's wait,
        # a test, may replace it).
        self._moving = moving_target.Timers(conf, self.store,
                                            lambda: self.clock(), rng)
        self.decider = decider_mod.Decider(
            conf, self.rule, self.store, self.mover, self.watcher,
            self._moving, lambda: self.clock())
        self._sod_seen = {}
        self._project_moves = planner.ProjectMoves()
        #: Tasks held by their project's allowance (logged once each).
        self._held = set()
        # Last view of every VM (from listings and reads). A trust event
        # first decides from it, so that the first migrate call needs one
        # fresh read of that VM only; the host's full listing follows in
        # the same pass and catches whatever the inventory missed.
        self._inventory = {}
        self._listings = set()
        #: When parked VMs are due a scheduled look (a backoff after Nova
        #: found no valid host).
        self._parked_due_at = []
        #: VMs whose task was PARKING when parked VMs got their look: they
        #: get it once parked.
        self._owed_a_look = set()
        #: The tasks open after the last pass.
        self.open_tasks = []
        self._pool = None

    # Triggers (any thread) -------------------------------------------------

    def trust_changed(self, payload, event_at=None):
        """A host's trust state changed (payload of ``sod.host.trust_changed``)."""
        host = payload.get('host') if hasattr(payload, 'get') else None
        if not host:
            LOG.warning('trust change without a host ignored: %(p)r',
                        {'p': payload})
            return
        self._events.append(_Event(
            'host', host, event_at or self.clock(),
            became_trusted=payload.get('new_state') == trust_states.TRUSTED))
        self._wake.set()

    def instance_updated(self, vm, metadata=None, event_at=None):
        """Nova updated ``vm``; acted on when its ``sod:`` metadata changed.

        ``metadata`` None (unknown) always counts as a change.
        """
        if metadata is not None:
            items = tuple(sorted(parse.policy_items(metadata).items()))
            if self._sod_seen.get(vm) == items:
                return
            self._sod_seen[vm] = items
        self._events.append(_Event('vm', vm, event_at or self.clock()))
        self._wake.set()

    def request_reconcile(self):
        """Look at every VM at the next pass."""
        self._reconcile_requested = True
        self._wake.set()

    # Service ---------------------------------------------------------------

    def start(self, listener=None):
        """Run passes on a daemon thread; ``listener`` (started/stopped with
        the manager) is an oslo.messaging notification listener feeding it."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._listener = listener
        if listener is not None:
            listener.start()
        self._thread = threading.Thread(
            target=self._run, name='sod-migration-manager', daemon=True)
        self._thread.start()

    def stop(self, timeout=30.0):
        """Stop the pass thread (in-flight migrations are resumed at start)."""
        self._stop.set()
        self._wake.set()
        if self._listener is not None:
            self._listener.stop()
            self._listener.wait()
            self._listener = None
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    def _run(self):
        while not self._stop.is_set():
            try:
                busy = self.process_pending()
            except Exception:
                # Triggers taken by the failed pass are gone: look at every
                # VM next time instead.
                LOG.exception('relocation pass failed; trying again with a '
                              'full reconcile')
                self._reconcile_requested = True
                busy = True
            self._wake.wait(self._sleep_for(busy))
            self._wake.clear()

    def _sleep_for(self, busy):
        now = self.clock()
        wake = [self._next_reconcile]
        if busy:
            wake.append(now + self.conf.sod_relocation.poll_interval)
        if self._moving.next_due() is not None:
            wake.append(self._moving.next_due())
        if self._held and self._project_moves.next_free() is not None:
            wake.append(self._project_moves.next_free())
        wake.extend(self._parked_due_at)
        return max(min(wake) - now, 0.0)

    # One pass --------------------------------------------------------------

    def process_pending(self):
        """One pass; True while work remains (queued, pending or migrating;
        not a move its project's allowance holds)."""
        with self._lock:
            context = db_api.Context()
            with db_api.context_manager.reader.using(context):
                rows = db_api.host_get_all(context)
                open_tasks = self.store.tasks_open(context)
            state = pass_state.PassState(
                context, self.compute, self.catalog, rows, db_api.now(),
                open_tasks, self._inventory)
            self._take_triggers(state)
            self._follow(state)
            self._start_allowed(state)
            if self._listings:
                self._list_hosts(state)
                self._start_allowed(state)
            remaining = self.open_tasks = state.open_tasks()
            # Tasks PARKING now (parked in this pass too) missed the look
            # parked VMs got in this pass: they get it once Nova has parked
            # them. Only PARKING tasks wait for it.
            parking = {t.vm for t in remaining if t.state == triggers.PARKING}
            self._owed_a_look = (parking if state.parked_rechecked
                                 else self._owed_a_look & parking)
            self._parked_due_at = [t.not_before for t in remaining
                                   if t.state == triggers.PARKED
                                   and t.not_before is not None]
            # A move its project's allowance holds is not work to poll for:
            # the manager looks again when the allowance grows.
            return bool(self._events) or any(
                t.state in triggers.BUSY_STATES and t.id not in self._held
                for t in remaining)

    def _take_triggers(self, state):
        """Act on the queued events, the reconcile and due timers. Parked
        VMs get a look when a host became trusted or a reconcile ran
        (``state.parked_rechecked``)."""
        now = self.clock()
        events = []
        while self._events:
            events.append(self._events.popleft())
        decide = self.decider.consider
        if self._reconcile_requested or now >= self._next_reconcile:
            self._reconcile_requested = False
            self._next_reconcile = now + self.conf.sod_relocation.reconcile_interval
            servers = self.compute.servers()
            self._inventory.clear()       # forget deleted VMs
            with self._one_transaction(state):
                for server in servers:
                    decide(state, state.remember(server), now, reconcile=True)
            # The metadata last seen of VMs that still exist only: the
            # memory stays as large as the cloud, not its history.
            self._sod_seen = {vm: items for vm, items in self._sod_seen.items()
                              if vm in self._inventory}
            self.decider.keep_only(self._inventory)
            state.parked_rechecked = True
        for event in events:
            if event.kind == 'host':
                state.parked_rechecked |= event.became_trusted
                # Decide from the inventory now; list the host afterwards.
                with self._one_transaction(state):
                    for server in list(self._inventory.values()):
                        if server.host == event.key:
                            decide(state, server, event.at)
                self._listings.add((event.key, event.at))
            else:
                server = state.server(event.key)
                if server is not None:
                    decide(state, server, event.at)
        for vm in self._moving.due(now):
            server = state.server(vm)
            if server is None:
                self._moving.forget(vm)
            else:
                decide(state, server, now)
        for task in state.parked():
            if state.parked_rechecked or (task.not_before is not None
                                          and task.not_before <= now):
                self.decider.recheck_parked(
                    state, task, state.server(task.vm), now,
                    scheduled=not state.parked_rechecked)

    @staticmethod
    def _one_transaction(state):
        """The decisions made from what the pass holds, without asking Nova
        anything in between, are written in one transaction."""
        return db_api.context_manager.writer.using(state.context)

    def _list_hosts(self, state):
        """Nova's own list of the servers of the hosts that had an event
        (the VMs the inventory already showed as they are are not decided
        again)."""
        listings, self._listings = self._listings, set()
        for host, event_at in sorted(listings):
            servers = self.compute.servers(host=host)
            with self._one_transaction(state):
                for server in servers:
                    self.decider.consider(state, state.remember(server),
                                          event_at)

    def _follow(self, state):
        """Follow the tasks Nova is working on."""
        for task in state.open_tasks(triggers.MIGRATING, triggers.RESUMING,
                                     triggers.PARKING):
            state.forget(task.vm)
            server = state.server(task.vm)
            if task.state == triggers.RESUMING:
                self.watcher.watch_resume(state, task, server)
                continue
            if task.state == triggers.PARKING:
                task = self.watcher.watch_park(state, task, server)
                if task.state == triggers.PARKED and (
                        state.parked_rechecked or task.vm in self._owed_a_look):
                    # Parked VMs got their look while Nova applied the
                    # no-host action: this one's, now.
                    self._owed_a_look.discard(task.vm)
                    self.decider.recheck_parked(state, task, server,
                                                self.clock())
                continue
            effective = (state.effective(server)
                         if server is not None else None)
            task = self.watcher.watch(state, task, server, effective)
            if task.state == triggers.DONE:
                self._moving.forget(task.vm)

    def _calls(self):
        """The pool that sends migrate requests (created on first use)."""
        if self._pool is None:
            self._pool = futures.ThreadPoolExecutor(
                max_workers=self.conf.sod_relocation.max_concurrent,
                thread_name_prefix='sod-migrate-call')
        return self._pool

    def _project_of(self, vm):
        """``vm``'s Nova project, from the manager's last view of it (None
        when unknown: such a VM's moves are not bounded per project)."""
        return getattr(self._inventory.get(vm), 'project_id', None)

    def _allowance(self, pending, now):
        """``(project_of, allowance)`` of the pending discretionary tasks
        (``[sod_relocation] project_moves_per_hour``); a task it holds is
        logged once."""
        project_of = {t.vm: self._project_of(t.vm) for t in pending
                      if t.trigger in planner.DISCRETIONARY}
        limit = self.conf.sod_relocation.project_moves_per_hour
        allowance = self._project_moves.allowance(
            set(project_of.values()), limit, now)
        held = {t.id for t in pending if t.vm in project_of
                and allowance.get(project_of[t.vm], 1) <= 0}
        for task in pending:
            if task.id in held - self._held:
                LOG.info('%(vm)s: its %(trigger)s move waits: project '
                         '%(project)s started %(limit)d such moves in the '
                         'last hour ([sod_relocation] project_moves_per_hour)',
                         {'vm': task.vm, 'trigger': task.trigger,
                          'project': project_of[task.vm], 'limit': limit})
        self._held = held
        return project_of, allowance

    def _start_allowed(self, state):
        pending = state.open_tasks(triggers.PENDING)
        in_flight = state.open_tasks(triggers.MIGRATING)
        now = self.clock()
        project_of, allowance = self._allowance(pending, now)
        chosen = planner.select(
            pending, in_flight, self.conf.sod_relocation.max_concurrent,
            self.conf.sod_relocation.max_per_source_host, now,
            project_of=project_of, allowance=allowance)
        calls = []
        for task in chosen:
            server = state.server(task.vm)
            if server is None:
                self.mover.gone(state, task)
                continue
            if server.host != task.source_host or server.busy:
                # Moved or busy behind our back: decide again next pass.
                if not server.busy:
                    self.mover.finish(state, task, server.host, 'the VM is no '
                                      'longer on %s' % task.source_host,
                                      event=audit_events.SUPERSEDED)
                    self.instance_updated(task.vm)
                continue
            effective = state.effective(server)
            if (task.trigger not in (triggers.MOVING_TARGET, triggers.RECOVERY)
                    and self.rule.check(effective, server.host,
                                        state.by_host.get(server.host),
                                        state.now).compliant):
                self.mover.finish(state, task, server.host, '%s satisfies the '
                                  'VM again' % server.host,
                                  event=audit_events.NOT_NEEDED)
                continue
            # Pipelined: each request leaves as soon as its task is written,
            # while the next VM is being looked at; outcomes are recorded on
            # this thread afterwards, in order.
            if task.trigger in planner.DISCRETIONARY:
                self._project_moves.record(project_of.get(task.vm), now)
            prepared = self.mover.prepare(state, task, server, effective)
            if isinstance(prepared, mover_mod.Call):
                calls.append((prepared, None if len(chosen) == 1 else
                              self._calls().submit(self.mover.call, prepared)))
            state.forget(task.vm)
        for prepared, future in calls:
            # A lone request leaves from this thread: no pool thread to wake
            # between the decision and Nova.
            outcome = (future.result() if future is not None
                       else self.mover.call(prepared))
            self.mover.complete(state, prepared, *outcome)
