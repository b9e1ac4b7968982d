"""Start and end the moves of relocation tasks through Nova; record each step.

The :class:`Mover` migrates a VM by the first move of its ladder Nova allows,
retries on another host or applies the no-host action, and writes each step
with its audit entry, in one transaction (:meth:`Mover.write`), before Nova
is asked. See doc/source/contributor/migration-manager.rst.
"""

import collections
import time

from oslo_log import log as logging

from sod_nova import compliance
from sod_nova.db import api as db_api
from sod_nova.relocation import audit_events
from sod_nova.relocation import compute as compute_mod
from sod_nova.relocation import ladder
from sod_nova.relocation import planner
from sod_nova.relocation import triggers

LOG = logging.getLogger(__name__)


class Call(collections.namedtuple('Call', 'task kind target')):
    """A migrate request prepared by :meth:`Mover.prepare`."""


def elapsed_ms(start, end):
    """Milliseconds from ``start`` to ``end`` (None if either is unknown)."""
    if start is None or end is None:
        return None
    return round((end - start) * 1000.0, 3)


class Mover:
    """Start, retry, park, resume and finish the VMs' relocation tasks."""

    def __init__(self, compute, store, catalog, conf, clock=time.time,
                 rule=None):
        self.compute = compute
        self.store = store
        self.catalog = catalog
        self.rule = rule or compliance.Rule(catalog)
        self.conf = conf
        self.clock = clock

    # Audit -----------------------------------------------------------------

    def record(self, state, event, task, **fields):
        """Append one decision or outcome to the audit chain."""
        entry = {'event': event, 'vm': task.vm, 'trigger': task.trigger,
                 'cause': task.cause, 'from': task.source_host,
                 'at': round(self.clock(), 6)}
        entry.update({k: v for k, v in fields.items() if v is not None})
        self.store.audit_append(state.context, entry)

    def write(self, state, task, values, event=None, **fields):
        """Write ``values`` to ``task`` and append its audit entry
        ``event`` (with ``fields``) in one transaction (the pass's, when
        one is open); the updated task, which the pass ``state`` follows."""
        with db_api.context_manager.writer.using(state.context):
            if values:
                task = self.store.task_update(state.context, task.id,
                                              **values)
            if event is not None:
                self.record(state, event, task, **fields)
        return state.track(task)

    # Starting --------------------------------------------------------------

    def prepare(self, state, task, server, effective):
        """Everything before the request to Nova, on the manager's thread.

        ``effective`` is the VM's effective request and launch features;
        ``state`` the pass's reading (``rows``, ``now``). Returns a
        :class:`Call` to make, or the updated task when no call is needed
        (no compliant host or no move Nova allows: parked; a VM we parked
        that must run to move: resumed first).
        """
        now = self.clock()
        if server.status == 'SUSPENDED':
            # Only ours (parked with "suspend") gets here. A suspended VM
            # cannot be migrated: resume it (on its current, non-compliant
            # host) and move it at the next pass.
            return self._resume_to_move(state, task, now)
        exclude = {task.source_host, *task.failed_hosts}
        candidates = self.rule.hosts(effective, state.rows, state.now, exclude)
        if not candidates:
            return self.park(state, task, server, self.rule.no_host_reason(
                effective, state.rows, state.now, {task.source_host},
                failed=task.failed_hosts))
        parked = (compute_mod.NovaCompute.PARK[task.action][2]
                  if task.action else None)
        kind, why = ladder.choose(server, effective, self.conf, parked,
                                  not_live=task.kind == compute_mod.COLD)
        if kind is None and task.trigger == triggers.MOVING_TARGET:
            # A compliant VM due to move anyway, by no move it accepts: it
            # stays (a moving target never pauses a compliant VM).
            return self.finish(state, task, server.host,
                               'no move allowed: %s' % why,
                               event=audit_events.NOT_NEEDED)
        if kind is None:
            return self.park(state, task, server, 'cannot move: %s' % why)
        if (kind == compute_mod.COLD and parked is not None
                and server.status == parked and parked != 'SHUTOFF'):
            # Nova resizes only active or stopped VMs: undo our pause first
            # and move it cold at the next pass. Until Nova accepted that,
            # the VM is still ours to resume.
            return self._resume_to_move(state, task, now, kind=kind)
        target = None if task.attempts == 0 else candidates[0]
        # Written before Nova is asked; the watermark stays unknown (None)
        # until the call returned (see the watcher for a crash in between).
        task = self.write(state, task, dict(
            state=triggers.MIGRATING, kind=kind, migration_after=None,
            target_host=target, attempts=task.attempts + 1,
            migrate_called_at=now, not_before=None))
        LOG.info('%(vm)s: %(kind)s migration from %(host)s to %(target)s '
                 '(%(cause)s, attempt %(attempt)d): %(reason)s',
                 {'vm': task.vm, 'kind': kind, 'host': task.source_host,
                  'target': target or 'a host Nova chooses',
                  'cause': task.cause, 'attempt': task.attempts,
                  'reason': task.reason})
        return Call(task, kind, target)

    def _resume_to_move(self, state, task, now, kind=None):
        """Undo our no-host action so that the VM can move at the next
        pass; until Nova accepted that, the VM is still ours to resume."""
        later = now + self.conf.sod_relocation.poll_interval
        if not self.ask_unpark(task):
            return self.write(state, task, dict(not_before=later))
        return self.write(state, task, dict(action=None, not_before=later),
                          audit_events.RESUMED_TO_MOVE, kind=kind)

    def call(self, prepared):
        """The request to Nova alone: ``(called_at, NovaError or None)``.

        Touches neither the database nor the audit chain, so that several
        calls can be in the air at once (from a thread pool).
        """
        called_at = self.clock()
        before = None
        try:
            if prepared.kind == compute_mod.COLD:
                # Nova casts a cold migration to its conductor, which makes
                # the migration record later: the newest one before the
                # call is the watermark.
                before = self.compute.latest_migration_id(prepared.task.vm)
                called_at = self.clock()
                self.compute.cold_migrate(prepared.task.vm, prepared.target)
            else:
                self.compute.live_migrate(prepared.task.vm, prepared.target)
        except compute_mod.NovaError as exc:
            return called_at, exc, None
        return called_at, None, before

    def complete(self, state, prepared, called_at, error, before=None):
        """Record the outcome of :meth:`call`, on the manager's thread;
        ``before``: the VM's newest migration id before the call, where the
        call had to read it first (a cold migration)."""
        task, kind, target = prepared
        if isinstance(error, compute_mod.NoValidHost):
            return self.failed(state, task, str(error), failed_host=target,
                               no_valid_host=True)
        if isinstance(error, compute_mod.NotSupportedForGuest):
            # The guest is launched so that Nova moves it only cold (its
            # image made it so, which the manager may not read): the next
            # attempt goes down the ladder.
            task = self.write(state, task, dict(kind=compute_mod.COLD))
            return self.failed(state, task, str(error))
        if error is not None:
            # Refused by the API (VM state, conflict): not the host's fault.
            return self.failed(state, task, str(error))
        values = dict(migrate_called_at=called_at)
        try:
            # A live migration's record exists when Nova answers: the newest
            # is ours (read after the call, off the path to it).
            values['migration_after'] = (
                before if before is not None
                else max(self.compute.latest_migration_id(task.vm) - 1, 0))
        except compute_mod.NovaError as exc:
            LOG.warning('%(vm)s: cannot read its migrations yet: %(exc)s',
                        {'vm': task.vm, 'exc': exc})
        return self.write(state, task, values, audit_events.MIGRATE_CALLED,
                          kind=kind, to=target, attempt=task.attempts,
                          latency_ms=elapsed_ms(task.event_at, called_at))

    def unpark(self, state, task, server, reason, event, **fields):
        """Undo the no-host action; the task waits in RESUMING until Nova
        reports the VM running (see :meth:`.Watcher.watch_resume`)."""
        self.ask_unpark(task)
        return self.write(
            state, task, dict(state=triggers.RESUMING, dest_host=server.host,
                              reason=reason),
            event, to=server.host, outcome=reason, resuming=task.action,
            latency_ms=elapsed_ms(task.event_at, task.migrate_called_at),
            duration_ms=elapsed_ms(task.migrate_called_at, self.clock()),
            **fields)

    def ask_unpark(self, task):
        """Ask Nova to undo the no-host action; whether it accepted."""
        try:
            self.compute.unpark(task.vm, task.action)
        except compute_mod.NovaError as exc:
            LOG.warning('%(vm)s: cannot undo %(action)s yet: %(exc)s',
                        {'vm': task.vm, 'action': task.action, 'exc': exc})
            return False
        return True

    def finish(self, state, task, dest_host, reason, event, **fields):
        now = self.clock()
        task = self.write(
            state, task, dict(state=triggers.DONE, dest_host=dest_host,
                              finished_at=now, reason=reason),
            event, to=dest_host, outcome=reason,
            latency_ms=elapsed_ms(task.event_at, task.migrate_called_at),
            duration_ms=elapsed_ms(task.migrate_called_at, now),
            total_ms=elapsed_ms(task.event_at, now), **fields)
        LOG.info('%(vm)s: %(event)s (%(cause)s) %(dest)s',
                 {'vm': task.vm, 'event': reason, 'cause': task.cause,
                  'dest': ('to %s' % dest_host) if dest_host else ''})
        return task

    def gone(self, state, task):
        """The VM of ``task`` was deleted."""
        return self.finish(state, task, None, 'the VM was deleted',
                           event=audit_events.GONE)

    # Failures --------------------------------------------------------------

    def failed(self, state, task, reason, failed_host=None,
               no_valid_host=False):
        """A migration attempt failed: retry elsewhere later, or park."""
        failed = list(task.failed_hosts)
        if failed_host and failed_host not in failed:
            failed.append(failed_host)
        LOG.warning('%(vm)s: migration attempt %(attempt)d failed: %(why)s',
                    {'vm': task.vm, 'attempt': task.attempts, 'why': reason})
        server = self.compute.server(task.vm)
        if server is None:
            return self.gone(state, task)
        if server.busy:
            # Still rolling back: the next look at the task sees the same
            # failure with the VM idle.
            return task
        if no_valid_host and task.target_host is None:
            # Fail closed at once; look again after a backoff, in case the
            # scheduler's view of the trust rows was a moment behind ours
            # (the filter caches them for [sod_filter] host_cache_seconds).
            revisit = None
            if task.attempts <= self.conf.sod_relocation.retries:
                revisit = self.clock() + planner.backoff(
                    self.conf.sod_relocation.retry_backoff, task.attempts)
            return self.park(state, task, server, 'no compliant host: Nova '
                             'found no valid host (%s)' % reason,
                             revisit_at=revisit)
        if task.attempts > self.conf.sod_relocation.retries:
            return self.park(state, task, server, 'gave up after %d '
                             'attempts: %s' % (task.attempts, reason))
        delay = planner.backoff(self.conf.sod_relocation.retry_backoff,
                                task.attempts)
        return self.write(
            state, task, dict(state=triggers.PENDING, failed_hosts=failed,
                              not_before=self.clock() + delay, reason=reason),
            audit_events.RETRY, reason=reason, failed=failed_host,
            delay_s=delay, attempt=task.attempts, kind=task.kind)

    # No compliant host -----------------------------------------------------

    def park(self, state, task, server, reason, revisit_at=None):
        """Apply the no-host action to the VM and wait for a compliant host
        (or until ``revisit_at``, when the manager looks again anyway)."""
        action = ladder.park_action(server,
                                    self.conf.sod_relocation.no_host_action)
        applied = None
        if action != 'none' and server.status == 'ACTIVE':
            try:
                self.compute.park(server.id, action)
                applied = action
            except compute_mod.NovaError as exc:
                LOG.warning('%(vm)s: cannot %(action)s it: %(exc)s',
                            {'vm': server.id, 'action': action, 'exc': exc})
                reason = '%s; %s failed: %s' % (reason, action, exc)
        LOG.info('%(vm)s on %(host)s: %(why)s; %(action)s',
                 {'vm': server.id, 'host': server.host, 'why': reason,
                  'action': applied or 'left as it is'})
        return self.write(
            state, task, dict(
                state=triggers.PARKING if applied else triggers.PARKED,
                action=applied or task.action, reason=reason,
                target_host=None, not_before=revisit_at),
            audit_events.PARKED, action=applied, reason=reason,
            total_ms=elapsed_ms(task.event_at, self.clock()))
