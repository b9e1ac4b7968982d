"""Carry out one relocation task through Nova, and record every step.

The :class:`Mover` owns the life of a task once the manager decided it:
ask Nova to migrate by the first move of the VM's remediation ladder that
Nova allows for the guest (:mod:`.ladder`: live, or cold with resize-confirm
for guests that cannot move live), only where a host protects the VM as
launched (:class:`sod_nova.compliance.Rule`), watch Nova's migration record,
verify the destination, retry a failure with backoff on another host, and,
when no compliant server or no allowed move exists, apply the configured
no-host action (pause by default). Every step is written to the
task row *before* Nova is asked (restart safety: a crash between the two
is seen on restart as a migrating task with no migration after its
watermark and an idle VM, and is simply asked again) and appended to the
audit chain after.

Retries: Nova's live-migrate API cannot be told to avoid a host. The first
attempt passes ``host=None`` so that Nova's scheduler, with the SoD filter,
chooses; each retry names the first compliant host (by our trust rows) that
has not failed this VM yet. A named host is still checked by Nova's
scheduler filters (microversion 2.30+, ``force`` off), so the filter keeps
the last word.
"""

import collections
import time

from oslo_log import log as logging

from sod_nova import compliance
from sod_nova.relocation import audit_events
from sod_nova.relocation import compute as compute_mod
from sod_nova.relocation import ladder
from sod_nova.relocation import planner
from sod_nova.relocation import triggers

LOG = logging.getLogger(__name__)


class Call(collections.namedtuple('Call', 'task kind target')):
    """A migrate request prepared by :meth:`Mover.prepare`."""


def _ms(start, end):
    if start is None or end is None:
        return None
    return round((end - start) * 1000.0, 3)


class Mover:
    """Start, watch, retry, park and resume the VMs of relocation tasks."""

    def __init__(self, compute, store, catalog, conf, clock=time.time,
                 rule=None):
        self.compute = compute
        self.store = store
        self.catalog = catalog
        self.rule = rule or compliance.Rule(catalog)
        self.conf = conf
        self.clock = clock
        self._aborted = set()

    # Audit -----------------------------------------------------------------

    def record(self, event, task, **fields):
        """Append one decision or outcome to the audit chain."""
        entry = {'event': event, 'vm': task.vm, 'trigger': task.trigger,
                 'cause': task.cause, 'from': task.source_host,
                 'at': round(self.clock(), 6)}
        entry.update({k: v for k, v in fields.items() if v is not None})
        self.store.audit_append(entry)

    # Starting --------------------------------------------------------------

    def start(self, task, server, effective, ctx):
        """Ask Nova to move ``task``'s VM; the updated task."""
        prepared = self.prepare(task, server, effective, ctx)
        if not isinstance(prepared, Call):
            return prepared
        return self.complete(prepared, *self.call(prepared))

    def prepare(self, task, server, effective, ctx):
        """Everything before the request to Nova, on the manager's thread.

        ``effective`` is the VM's effective request and launch features;
        ``ctx`` the pass's reading (``rows``, ``now``). Returns a
        :class:`Call` to make, or the updated task when no call is needed
        (no compliant host or no move Nova allows: parked; a VM we parked
        that must run to move: resumed first).
        """
        now = self.clock()
        if server.status == 'SUSPENDED':
            # Only ours (parked with "suspend") gets here. A suspended VM
            # cannot be migrated: resume it (on its current, non-compliant
            # host) and move it at the next pass.
            later = now + self.conf.sod_relocation.poll_interval
            if not self._unpark(task):
                return self.store.task_update(task.id, not_before=later)
            self.record(audit_events.RESUMED_TO_MOVE, task)
            return self.store.task_update(task.id, action=None,
                                          not_before=later)
        exclude = {task.source_host, *task.failed_hosts}
        candidates = self.rule.hosts(effective, ctx.rows, ctx.now, exclude)
        if not candidates:
            return self.park(task, server, self.rule.no_host_reason(
                effective, ctx.rows, ctx.now, {task.source_host},
                failed=task.failed_hosts))
        parked = (compute_mod.NovaCompute.PARK[task.action][2]
                  if task.action else None)
        kind, why = ladder.choose(server, effective, self.conf, parked,
                                  not_live=task.kind == compute_mod.COLD)
        if kind is None and task.trigger == triggers.MOVING_TARGET:
            # A compliant VM due to move anyway, by no move it accepts: it
            # stays (a moving target never pauses a compliant VM).
            return self.finish(task, server.host, 'no move allowed: %s' % why,
                               event=audit_events.NOT_NEEDED)
        if kind is None:
            return self.park(task, server, 'cannot move: %s' % why)
        if (kind == compute_mod.COLD and parked is not None
                and server.status == parked and parked != 'SHUTOFF'):
            # Nova resizes only active or stopped VMs: undo our pause first
            # and move it cold at the next pass. Until Nova accepted that,
            # the VM is still ours to resume.
            later = now + self.conf.sod_relocation.poll_interval
            if not self._unpark(task):
                return self.store.task_update(task.id, not_before=later)
            self.record(audit_events.RESUMED_TO_MOVE, task, kind=kind)
            return self.store.task_update(task.id, action=None,
                                          not_before=later)
        target = None if task.attempts == 0 else candidates[0]
        # Written before Nova is asked; the watermark stays unknown (None)
        # until the call returned (see watch() for a crash in between).
        task = self.store.task_update(
            task.id, state=triggers.MIGRATING, kind=kind,
            migration_after=None, target_host=target,
            attempts=task.attempts + 1, migrate_called_at=now,
            not_before=None)
        LOG.info('%(vm)s: %(kind)s migration from %(host)s to %(target)s '
                 '(%(cause)s, attempt %(attempt)d): %(reason)s',
                 {'vm': task.vm, 'kind': kind, 'host': task.source_host,
                  'target': target or 'a host Nova chooses',
                  'cause': task.cause, 'attempt': task.attempts,
                  'reason': task.reason})
        return Call(task, kind, target)

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

    def complete(self, prepared, called_at, error, before=None):
        """Record the outcome of :meth:`call`, on the manager's thread;
        ``before``: the VM's newest migration id before the call, where the
        call had to read it first (a cold migration)."""
        task, kind, target = prepared
        if isinstance(error, compute_mod.NoValidHost):
            return self.failed(task, str(error), failed_host=target,
                               no_valid_host=True)
        if isinstance(error, compute_mod.NotSupportedForGuest):
            # The guest is launched so that Nova moves it only cold (its
            # image made it so, which the manager may not read): the next
            # attempt goes down the ladder.
            task = self.store.task_update(task.id, kind=compute_mod.COLD)
            return self.failed(task, str(error))
        if error is not None:
            # Refused by the API (VM state, conflict): not the host's fault.
            return self.failed(task, str(error))
        try:
            # A live migration's record exists when Nova answers: the newest
            # is ours (read after the call, off the path to it).
            after = (before if before is not None
                     else max(self.compute.latest_migration_id(task.vm) - 1, 0))
            task = self.store.task_update(
                task.id, migration_after=after, migrate_called_at=called_at)
        except compute_mod.NovaError as exc:
            LOG.warning('%(vm)s: cannot read its migrations yet: %(exc)s',
                        {'vm': task.vm, 'exc': exc})
            task = self.store.task_update(task.id,
                                          migrate_called_at=called_at)
        self.record(audit_events.MIGRATE_CALLED, task, kind=kind, to=target,
                    attempt=task.attempts,
                    latency_ms=_ms(task.event_at, called_at))
        return task

    # Watching --------------------------------------------------------------

    def watch(self, task, server, effective, ctx):
        """Follow ``task``'s migration in Nova; the updated task."""
        if server is None:
            return self.finish(task, None, 'the VM was deleted', event=audit_events.GONE)
        if task.migration_after is None:
            return self._watch_unknown(task, server, effective, ctx)
        migration = self.compute.migration_after(task.vm, task.migration_after)
        if migration is None:
            if server.busy:
                return task
            LOG.warning('%(vm)s: Nova has no migration after our request '
                        'and the VM is idle; asking again', {'vm': task.vm})
            self.record(audit_events.CALL_LOST, task)
            return self.store.task_update(
                task.id, state=triggers.PENDING,
                attempts=max(task.attempts - 1, 0))
        status = migration.status
        if status in compute_mod.MIGRATION_FAILED:
            if server.busy:
                # Nova marks the record failed before it rolls the VM back
                # (a cold migration's conductor clears the task state
                # after): act once the VM is idle, as it then is.
                return task
            return self.failed(
                task, 'Nova %s migration %s ended %s' % (
                    task.kind, migration.id, status),
                failed_host=migration.dest_compute or task.target_host,
                no_valid_host=not migration.dest_compute)
        if (task.kind == compute_mod.COLD and server.status == 'VERIFY_RESIZE'
                and not server.busy):
            # Confirmed once: Nova sets no task state while it confirms, the
            # migration says 'confirming' until it is done.
            if status == 'finished':
                try:
                    self.compute.confirm_resize(task.vm)
                except compute_mod.NovaError as exc:
                    LOG.warning('%(vm)s: confirming its cold migration '
                                'failed, trying again: %(exc)s',
                                {'vm': task.vm, 'exc': exc})
            return task
        if (status in compute_mod.MIGRATION_DONE[task.kind]
                and not server.busy and server.host != task.source_host):
            return self.arrived(task, server, effective, ctx, migration)
        self._abort_if_overdue(task, migration)
        return task

    def _abort_if_overdue(self, task, migration):
        """A live migration in flight past ``migration_timeout``: abort it;
        its failure then goes through :meth:`failed` like any other."""
        overdue = (self.clock() - (task.migrate_called_at or self.clock())
                   > self.conf.sod_relocation.migration_timeout)
        if not overdue or task.kind != compute_mod.LIVE or (
                migration.status not in ('running', 'preparing', 'queued')
                or migration.id in self._aborted):
            return
        self._aborted.add(migration.id)
        try:
            self.compute.abort_live_migration(task.vm, migration.id)
        except compute_mod.NovaError as exc:
            LOG.warning('%(vm)s: cannot abort overdue migration %(id)s: '
                        '%(exc)s', {'vm': task.vm, 'id': migration.id,
                                    'exc': exc})
            return
        self.record(audit_events.ABORT_REQUESTED, task, migration=str(migration.id),
                    reason='in flight for more than %gs'
                    % self.conf.sod_relocation.migration_timeout)

    def _watch_unknown(self, task, server, effective, ctx):
        """A crash came between "migrating" and the watermark: judge by
        where the VM is. Moving it again is only ever done from the source
        host it must leave anyway."""
        if server.busy:
            return task
        if server.host != task.source_host:
            found = self.compute.migrations(task.vm)
            if task.kind == compute_mod.COLD and found:
                # Follow the newest record as ours: its resize still needs
                # confirming (VERIFY_RESIZE), which watch() does.
                return self.store.task_update(
                    task.id, migration_after=int(found[-1].id) - 1)
            return self.arrived(task, server, effective, ctx,
                                found[-1] if found else None)
        LOG.warning('%(vm)s: no record that Nova started our migration '
                    'and the VM is idle on %(host)s; asking again',
                    {'vm': task.vm, 'host': task.source_host})
        self.record(audit_events.CALL_LOST, task)
        return self.store.task_update(
            task.id, state=triggers.PENDING,
            attempts=max(task.attempts - 1, 0))

    def arrived(self, task, server, effective, ctx, migration):
        """The VM is on its destination: verify it, resume it if parked."""
        row = next((r for r in ctx.rows if r.host == server.host), None)
        verdict = self.rule.check(effective, server.host, row, ctx.now)
        compliant = verdict.compliant
        if not compliant:
            LOG.warning('%(vm)s arrived on %(host)s, which no longer '
                        'satisfies it (%(why)s); it will be moved again',
                        {'vm': task.vm, 'host': server.host,
                         'why': verdict.reason})
        # A cold move stops the guest from the call until it runs on its
        # destination: at most this long (a live move's pause is Nova's
        # [libvirt] live_migration_downtime, not seen from here).
        downtime = (_ms(task.migrate_called_at, self.clock())
                    if task.kind == compute_mod.COLD else None)
        fields = dict(migration=str(migration.id) if migration else None,
                      kind=task.kind, compliant=compliant,
                      downtime_ms=downtime)
        reason = ('moved' if compliant
                  else 'moved; destination no longer compliant')
        if task.action:
            return self.unpark(task, server, reason, event=audit_events.MOVED, **fields)
        return self.finish(task, server.host, reason, event=audit_events.MOVED, **fields)

    def unpark(self, task, server, reason, event, **fields):
        """Undo the no-host action; the task waits in RESUMING until Nova
        reports the VM running (see :meth:`watch_resume`)."""
        self._unpark(task)
        task = self.store.task_update(task.id, state=triggers.RESUMING,
                                      dest_host=server.host, reason=reason)
        self.record(event, task, to=server.host, outcome=reason,
                    resuming=task.action,
                    latency_ms=_ms(task.event_at, task.migrate_called_at),
                    duration_ms=_ms(task.migrate_called_at, self.clock()),
                    **fields)
        return task

    def _unpark(self, task):
        """Ask Nova to undo the no-host action; whether it accepted."""
        try:
            self.compute.unpark(task.vm, task.action)
        except compute_mod.NovaError as exc:
            LOG.warning('%(vm)s: cannot undo %(action)s yet: %(exc)s',
                        {'vm': task.vm, 'action': task.action, 'exc': exc})
            return False
        return True

    def watch_resume(self, task, server):
        """Finish a RESUMING task once the VM runs again."""
        if server is None:
            return self.finish(task, None, 'the VM was deleted', event=audit_events.GONE)
        parked_status = compute_mod.NovaCompute.PARK[task.action][2]
        if server.busy:
            return task
        if server.status == parked_status:
            # Nova is idle and the VM still parked: the request was lost.
            self._unpark(task)
            return task
        return self.finish(task, server.host, task.reason, event=audit_events.RESUMED,
                           resumed=task.action, status=server.status)

    def finish(self, task, dest_host, reason, event, **fields):
        now = self.clock()
        task = self.store.task_update(
            task.id, state=triggers.DONE, dest_host=dest_host,
            finished_at=now, reason=reason)
        self.record(event, task, to=dest_host, outcome=reason,
                    latency_ms=_ms(task.event_at, task.migrate_called_at),
                    duration_ms=_ms(task.migrate_called_at, now),
                    total_ms=_ms(task.event_at, now), **fields)
        LOG.info('%(vm)s: %(event)s (%(cause)s) %(dest)s',
                 {'vm': task.vm, 'event': reason, 'cause': task.cause,
                  'dest': ('to %s' % dest_host) if dest_host else ''})
        return task

    # Failures --------------------------------------------------------------

    def failed(self, task, reason, failed_host=None, no_valid_host=False):
        """A migration attempt failed: retry elsewhere later, or park."""
        failed = list(task.failed_hosts)
        if failed_host and failed_host not in failed:
            failed.append(failed_host)
        LOG.warning('%(vm)s: migration attempt %(attempt)d failed: %(why)s',
                    {'vm': task.vm, 'attempt': task.attempts, 'why': reason})
        server = self.compute.server(task.vm)
        if server is None:
            return self.finish(task, None, 'the VM was deleted', event=audit_events.GONE)
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
            return self.park(task, server, 'no compliant host: Nova found '
                             'no valid host (%s)' % reason, revisit_at=revisit)
        if task.attempts > self.conf.sod_relocation.retries:
            return self.park(task, server, 'gave up after %d attempts: %s'
                             % (task.attempts, reason))
        delay = planner.backoff(self.conf.sod_relocation.retry_backoff,
                                task.attempts)
        task = self.store.task_update(
            task.id, state=triggers.PENDING, failed_hosts=failed,
            not_before=self.clock() + delay, reason=reason)
        self.record(audit_events.RETRY, task, reason=reason, failed=failed_host,
                    delay_s=delay, attempt=task.attempts, kind=task.kind)
        return task

    # No compliant host -----------------------------------------------------

    def park(self, task, server, reason, revisit_at=None):
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
        task = self.store.task_update(
            task.id, state=triggers.PARKING if applied else triggers.PARKED,
            action=applied or task.action,
            reason=reason, target_host=None, not_before=revisit_at)
        self.record(audit_events.PARKED, task, action=applied, reason=reason,
                    total_ms=_ms(task.event_at, self.clock()))
        return task

    def watch_park(self, task, server):
        """A PARKING task becomes PARKED once Nova applied the action."""
        if server is None:
            return self.finish(task, None, 'the VM was deleted', event=audit_events.GONE)
        parked_status = compute_mod.NovaCompute.PARK[task.action][2]
        if server.busy or server.status != parked_status:
            return task
        return self.store.task_update(task.id, state=triggers.PARKED)

    def resume_in_place(self, task, server, reason):
        """The VM's own host satisfies it again: undo the no-host action."""
        parked_status = (compute_mod.NovaCompute.PARK[task.action][2]
                         if task.action else None)
        if parked_status is not None and server.status == parked_status:
            return self.unpark(task, server, reason, event=audit_events.RECOVERED)
        return self.finish(task, server.host, reason, event=audit_events.RESUMED)
