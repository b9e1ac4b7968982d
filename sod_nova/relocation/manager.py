"""The migration manager: from triggers to decisions to moves, for life.

Triggers arrive from any thread and only queue work and wake the manager:

* :meth:`MigrationManager.trust_changed` – the trust monitor's
  ``sod.host.trust_changed`` event (in-process hook or notification);
* :meth:`MigrationManager.instance_updated` – Nova's versioned
  ``instance.update`` notification, acted on when the VM's ``sod:``
  metadata changed;
* a periodic reconcile over every VM (notifications can be lost), which also
  runs the moving-target timers (paper §III-E).

:meth:`MigrationManager.process_pending` does one pass on the calling
thread: it reads the trust rows once, turns queued triggers into tasks
(where the compliance rule, :mod:`sod_nova.compliance`, finds a VM not
protected where it runs), follows in-flight migrations and starts the pending
tasks the :mod:`.planner` allows (:mod:`.mover`). :meth:`start` runs passes
on a thread of its own (the embedded cloud waits for them to settle with
:func:`sod_nova.cloud.settle.settle`).

Nova's API is the source of truth for where a VM is and what it asks for;
the tasks table (:mod:`sod_nova.db.relocation`) only remembers what the
manager decided, so that a restarted manager resumes it.
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
from sod_nova.relocation import compute as compute_mod
from sod_nova.relocation import ladder
from sod_nova.relocation import mover as mover_mod
from sod_nova.relocation import moving_target
from sod_nova.relocation import planner
from sod_nova.relocation import server as server_mod
from sod_nova.relocation import snapshot
from sod_nova.relocation import triggers

LOG = logging.getLogger(__name__)

@dataclasses.dataclass(frozen=True)
class _Event:
    kind: str            # 'host' or 'vm'
    key: str             # host name or VM id
    at: float            # when the trigger happened (or was received)
    trusted: bool = False


class MigrationManager:
    """Keeps every VM with a request on a server that satisfies it."""

    def __init__(self, compute, catalog, conf=None, store=None,
                 host_rows=None, clock=time.time, rng=None):
        if conf is None:
            import sod_nova.conf
            conf = sod_nova.conf.CONF
        self.conf = conf
        self.compute = compute
        self.catalog = catalog
        self.rule = compliance.Rule(catalog)
        self.store = store or relocation_db.RelocationStore(conf)
        self._host_rows = host_rows or (lambda: db_api.host_get_all(conf))
        self.clock = clock
        self.mover = mover_mod.Mover(compute, self.store, catalog, conf, clock,
                                     rule=self.rule)
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
        self._sod_seen = {}
        #: VMs asking for a moving-target period below the operator's
        #: minimum, with the period asked (logged once per value).
        self._below_minimum = {}
        self._project_moves = planner.ProjectMoves()
        #: Tasks held by their project's allowance (logged once each).
        self._held = set()
        # Last view of every VM (from listings and reads). A trust event
        # first decides from it, so that the first migrate call needs one
        # fresh read of that VM only; the host's full listing follows in
        # the same pass and catches whatever the inventory missed.
        self._inventory = {}
        self._listings = set()
        self._parked_revisits = []
        #: VMs whose task was PARKING when a host became trusted: looked at
        #: again once parked.
        self._revisit_once_parked = set()
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
            trusted=payload.get('new_state') == trust_states.TRUSTED))
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
        wake.extend(self._parked_revisits)
        return max(min(wake) - now, 0.0)

    # One pass --------------------------------------------------------------

    def process_pending(self):
        """One pass; True while work remains (queued, pending or migrating;
        not a move its project's allowance holds)."""
        with self._lock:
            ctx = snapshot.Snapshot(self.compute, list(self._host_rows()), db_api.now(),
                        self._inventory)
            open_tasks = {t.vm: t for t in self.store.tasks_open()}
            trusted = self._take_triggers(ctx, open_tasks)
            self._follow(ctx, trusted)
            self._start_allowed(ctx)
            if self._listings:
                self._list_hosts(ctx, open_tasks)
                self._start_allowed(ctx)
            remaining = self.store.tasks_open()
            # Tasks PARKING now (parked in this pass too) missed the look a
            # host becoming trusted in this pass gives parked VMs: they get
            # it once Nova has parked them. Only PARKING tasks wait for it.
            parking = {t.vm for t in remaining if t.state == triggers.PARKING}
            self._revisit_once_parked = (
                parking if trusted else self._revisit_once_parked & parking)
            self._parked_revisits = [t.not_before for t in remaining
                                     if t.state == triggers.PARKED
                                     and t.not_before is not None]
            # A move its project's allowance holds is not work to poll for:
            # the manager looks again when the allowance grows.
            return bool(self._events) or any(
                t.state in triggers.BUSY_STATES and t.id not in self._held
                for t in remaining)

    def _take_triggers(self, ctx, open_tasks):
        """Act on the queued events, the reconcile and due timers; whether
        parked VMs were looked at again (a host became trusted, or a
        reconcile ran)."""
        now = self.clock()
        events = []
        while self._events:
            events.append(self._events.popleft())
        revisit_parked = False
        if self._reconcile_requested or now >= self._next_reconcile:
            self._reconcile_requested = False
            self._next_reconcile = now + self.conf.sod_relocation.reconcile_interval
            servers = self.compute.servers()
            self._inventory.clear()       # forget deleted VMs
            for server in servers:
                self._consider(ctx.remember(server), ctx, open_tasks, now,
                               reconcile=True)
            # The metadata last seen of VMs that still exist only: the
            # memory stays as large as the cloud, not its history.
            self._sod_seen = {vm: items for vm, items in self._sod_seen.items()
                              if vm in self._inventory}
            self._below_minimum = {
                vm: period for vm, period in self._below_minimum.items()
                if vm in self._inventory}
            revisit_parked = True
        for event in events:
            if event.kind == 'host':
                revisit_parked |= event.trusted
                # Decide from the inventory now; list the host afterwards.
                for server in list(self._inventory.values()):
                    if server.host == event.key:
                        self._consider(server, ctx, open_tasks, event.at)
                self._listings.add((event.key, event.at))
            else:
                server = ctx.server(event.key)
                if server is not None:
                    self._consider(server, ctx, open_tasks, event.at)
        for vm in self._moving.due(now):
            server = ctx.server(vm)
            if server is None:
                self._moving.forget(vm)
            else:
                self._consider(server, ctx, open_tasks, now)
        for vm in list(open_tasks):
            task = open_tasks[vm]
            if task.state != triggers.PARKED:
                continue
            if revisit_parked or (task.not_before is not None
                                  and task.not_before <= now):
                open_tasks[vm] = self._revisit_parked(
                    task, ctx, ctx.server(vm), now,
                    scheduled=not revisit_parked)
        return revisit_parked

    def _list_hosts(self, ctx, open_tasks):
        """Nova's own list of the servers of the hosts that had an event."""
        listings, self._listings = self._listings, set()
        for host, event_at in sorted(listings):
            for server in self.compute.servers(host=host):
                self._consider(ctx.remember(server), ctx, open_tasks,
                               event_at)

    def _consider(self, server, ctx, open_tasks, event_at, reconcile=False):
        """Open a task for ``server`` if its host no longer satisfies it."""
        task = open_tasks.get(server.id)
        if not server.host or not snapshot.movable(server, task):
            return
        if task is not None:
            if task.state == triggers.PARKED and not reconcile:
                open_tasks[server.id] = self._revisit_parked(
                    task, ctx, server, event_at)
            elif (planner.escalable(task)
                    and task.source_host == server.host):
                open_tasks[server.id] = self._escalate(task, server, ctx,
                                                       event_at)
            return
        effective = server_mod.effective_request(self.catalog, server)
        if effective.errors:
            LOG.warning('%(vm)s: malformed request source, held to the '
                        'strictest request: %(errors)s',
                        {'vm': server.id,
                         'errors': '; '.join(effective.errors)})
        verdict = self.rule.check(effective, server.host,
                                  ctx.by_host.get(server.host), ctx.now)
        if verdict.compliant:
            self._moving_target(server, effective, ctx, open_tasks, event_at)
            return
        kind = ladder.choose(server, effective, self.conf)[0] or compute_mod.LIVE
        task, created = self.store.task_open(
            server.id, verdict.trigger, server.host, kind=kind,
            priority=planner.priority(effective.request),
            reason=verdict.reason, event_at=event_at)
        open_tasks[server.id] = task
        if created:
            LOG.info('%(vm)s on %(host)s must move (%(trigger)s): %(why)s',
                     {'vm': server.id, 'host': server.host,
                      'trigger': verdict.trigger, 'why': verdict.reason})
            self.mover.record(audit_events.DECIDED, task, reason=verdict.reason,
                              request=str(effective.request),
                              malformed=list(effective.errors) or None,
                              ladder=self._ladder(effective),
                              event_at=task.event_at)

    def _escalate(self, task, server, ctx, event_at):
        """``task`` as an evacuation if it is a pending policy-change or
        moving-target move and its VM's host lost trust or stopped reporting
        (:func:`.planner.escalated`); the task, updated or not."""
        effective = server_mod.effective_request(self.catalog, server)
        verdict = self.rule.check(effective, server.host,
                                  ctx.by_host.get(server.host), ctx.now)
        trigger = planner.escalated(task, verdict.trigger)
        if trigger is None:
            return task
        was = task.trigger
        task = self.store.task_update(
            task.id, trigger=trigger, reason=verdict.reason,
            priority=planner.priority(effective.request), event_at=event_at)
        LOG.info('%(vm)s on %(host)s must move (%(trigger)s, was waiting '
                 'for a %(was)s move): %(why)s',
                 {'vm': server.id, 'host': server.host, 'trigger': trigger,
                  'was': was, 'why': verdict.reason})
        self.mover.record(audit_events.DECIDED, task, reason=verdict.reason,
                          was=was, request=str(effective.request),
                          ladder=self._ladder(effective),
                          event_at=task.event_at)
        return task

    def _ladder(self, effective):
        """The VM's remediation ladder as the audit trail keeps it: its
        moves in order, then the no-host action."""
        return list(ladder.ladder_of(effective, self.conf)) + [
            self.conf.sod_relocation.no_host_action]

    def _moving_target(self, server, effective, ctx, open_tasks, now):
        """Open a moving-target task when the VM's period has elapsed (never
        sooner than ``[sod_relocation] moving_target_min``)."""
        period = effective.moving_target
        minimum = self.conf.sod_relocation.moving_target_min
        reason = 'moving-target period of %ds elapsed' % (period or 0)
        if period and period < minimum:
            reason = ('moving-target period of %ds elapsed (the VM asks for '
                      '%ds, below the minimum of %ds: [sod_relocation] '
                      'moving_target_min)' % (minimum, period, minimum))
            if self._below_minimum.get(server.id) != period:
                self._below_minimum[server.id] = period
                LOG.warning('%(vm)s asks for a moving-target period of '
                            '%(period)ds, below the minimum of %(min)ds '
                            '([sod_relocation] moving_target_min): it is '
                            'moved every %(min)ds at most',
                            {'vm': server.id, 'period': period,
                             'min': minimum})
        if not self._moving.elapsed(server.id, period):
            return
        if ladder.choose(server, effective, self.conf)[0] is None:
            LOG.debug('%(vm)s: moving-target period elapsed but its ladder '
                      'allows no move Nova accepts; staying on %(host)s',
                      {'vm': server.id, 'host': server.host})
            return
        if not self.rule.hosts(effective, ctx.rows, ctx.now,
                               exclude={server.host}):
            LOG.debug('%(vm)s: moving-target period elapsed but no other '
                      'compliant host; staying on %(host)s',
                      {'vm': server.id, 'host': server.host})
            return
        task, created = self.store.task_open(
            server.id, triggers.MOVING_TARGET, server.host,
            kind=ladder.choose(server, effective, self.conf)[0] or compute_mod.LIVE,
            priority=planner.priority(effective.request),
            reason=reason, event_at=now)
        open_tasks[server.id] = task
        if created:
            self.mover.record(audit_events.DECIDED, task, reason=task.reason,
                              request=str(effective.request),
                              ladder=self._ladder(effective),
                              event_at=task.event_at)

    def _revisit_parked(self, task, ctx, server, now, scheduled=False):
        """A parked VM: resume it in place, or move it once a host exists.

        A ``scheduled`` look (after Nova found no valid host) keeps counting
        attempts, so that it stops after ``[sod_relocation] retries``; a trust
        change or a reconcile gives the VM a fresh set of attempts.
        """
        if task.not_before is not None:     # a scheduled look: this is it
            task = self.store.task_update(task.id, not_before=None)
        if server is None:
            return self.mover.finish(task, None, 'the VM was deleted',
                                     event=audit_events.GONE)
        if not snapshot.movable(server, task):
            return task
        effective = server_mod.effective_request(self.catalog, server)
        if self.rule.check(effective, server.host, ctx.by_host.get(server.host),
                           ctx.now).compliant:
            return self.mover.resume_in_place(
                task, server, '%s satisfies the VM again' % server.host)
        if not self.rule.hosts(effective, ctx.rows, ctx.now,
                               exclude={server.host}):
            return task
        task = self.store.task_update(
            task.id, state=triggers.PENDING, trigger=triggers.RECOVERY,
            source_host=server.host,
            attempts=task.attempts if scheduled else 0, failed_hosts=(),
            event_at=now, not_before=None, decided_at=self.clock())
        self.mover.record(audit_events.DECIDED, task, reason='a compliant host exists '
                          'again', request=str(effective.request),
                          ladder=self._ladder(effective),
                          event_at=task.event_at)
        return task

    def _follow(self, ctx, trusted):
        """Follow the tasks Nova is working on; ``trusted``: a host became
        trusted (or a reconcile ran) in this pass."""
        for task in self.store.tasks_open():
            if task.state not in (triggers.MIGRATING, triggers.RESUMING,
                                  triggers.PARKING):
                continue
            ctx.forget(task.vm)
            server = ctx.server(task.vm)
            if task.state == triggers.RESUMING:
                self.mover.watch_resume(task, server)
                continue
            if task.state == triggers.PARKING:
                task = self.mover.watch_park(task, server)
                if task.state == triggers.PARKED and (
                        trusted or task.vm in self._revisit_once_parked):
                    # A host became trusted while Nova applied the no-host
                    # action: the look that event gives parked VMs, now.
                    self._revisit_once_parked.discard(task.vm)
                    self._revisit_parked(task, ctx, server, self.clock())
                continue
            effective = (server_mod.effective_request(self.catalog, server)
                         if server is not None else None)
            task = self.mover.watch(task, server, effective, ctx)
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

    def _start_allowed(self, ctx):
        open_tasks = self.store.tasks_open()
        pending = [t for t in open_tasks if t.state == triggers.PENDING]
        in_flight = [t for t in open_tasks if t.state == triggers.MIGRATING]
        now = self.clock()
        project_of, allowance = self._allowance(pending, now)
        chosen = planner.select(
            pending, in_flight, self.conf.sod_relocation.max_concurrent,
            self.conf.sod_relocation.max_per_source_host, now,
            project_of=project_of, allowance=allowance)
        calls = []
        for task in chosen:
            server = ctx.server(task.vm)
            if server is None:
                self.mover.finish(task, None, 'the VM was deleted',
                                  event=audit_events.GONE)
                continue
            if server.host != task.source_host or server.busy:
                # Moved or busy behind our back: decide again next pass.
                if not server.busy:
                    self.mover.finish(task, server.host, 'the VM is no longer '
                                      'on %s' % task.source_host,
                                      event=audit_events.SUPERSEDED)
                    self.instance_updated(task.vm)
                continue
            effective = server_mod.effective_request(self.catalog, server)
            if (task.trigger not in (triggers.MOVING_TARGET, triggers.RECOVERY)
                    and self.rule.check(effective, server.host,
                                        ctx.by_host.get(server.host), ctx.now)
                    .compliant):
                self.mover.finish(task, server.host, '%s satisfies the VM '
                                  'again' % server.host, event=audit_events.NOT_NEEDED)
                continue
            # Pipelined: each request leaves as soon as its task is written,
            # while the next VM is being looked at; outcomes are recorded on
            # this thread afterwards, in order.
            if task.trigger in planner.DISCRETIONARY:
                self._project_moves.record(project_of.get(task.vm), now)
            prepared = self.mover.prepare(task, server, effective, ctx)
            if isinstance(prepared, mover_mod.Call):
                calls.append((prepared, self._calls().submit(
                    self.mover.call, prepared)))
            ctx.forget(task.vm)
        for prepared, future in calls:
            self.mover.complete(prepared, *future.result())
