"""Follow the moves Nova is carrying out, and the VMs being paused or resumed.

The :class:`Watcher` reads a task's migration record in Nova each pass:
confirms a cold move's resize, verifies the destination on arrival, aborts
a live migration in flight past ``[sod_relocation] migration_timeout``,
asks again when Nova lost a request, and hands failures to the
:class:`~.mover.Mover` (retry or park).
"""

from oslo_log import log as logging

from sod_nova.relocation import audit_events
from sod_nova.relocation import compute as compute_mod
from sod_nova.relocation import mover as mover_mod
from sod_nova.relocation import triggers

LOG = logging.getLogger(__name__)


class Watcher:
    """Watch migrations, pausing and resuming through to their end."""

    def __init__(self, mover):
        self.mover = mover
        self.compute = mover.compute
        self.conf = mover.conf
        self.rule = mover.rule
        self._aborted = set()

    def clock(self):
        """The mover's clock (a test or a scenario's wait may replace it)."""
        return self.mover.clock()

    def watch(self, state, task, server, effective):
        """Follow ``task``'s migration in Nova; the updated task."""
        mover = self.mover
        if server is None:
            return mover.gone(state, task)
        if task.migration_after is None:
            return self._watch_unknown(state, task, server, effective)
        migration = self.compute.migration_after(task.vm, task.migration_after)
        if migration is None:
            if server.busy:
                return task
            LOG.warning('%(vm)s: Nova has no migration after our request '
                        'and the VM is idle; asking again', {'vm': task.vm})
            return self._ask_again(state, task)
        status = migration.status
        if status in compute_mod.MIGRATION_FAILED:
            if server.busy:
                # Nova marks the record failed before it rolls the VM back
                # (a cold migration's conductor clears the task state
                # after): act once the VM is idle, as it then is.
                return task
            return mover.failed(
                state, task, 'Nova %s migration %s ended %s' % (
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
            return self.arrived(state, task, server, effective, migration)
        self._abort_if_overdue(state, task, migration)
        return task

    def _ask_again(self, state, task):
        return self.mover.write(
            state, task, dict(state=triggers.PENDING,
                              attempts=max(task.attempts - 1, 0)),
            audit_events.CALL_LOST)

    def _abort_if_overdue(self, state, task, migration):
        """A live migration in flight past ``migration_timeout``: abort it;
        its failure then goes through :meth:`.Mover.failed` like any other."""
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
        self.mover.write(state, task, {}, audit_events.ABORT_REQUESTED,
                         migration=str(migration.id),
                         reason='in flight for more than %gs'
                         % self.conf.sod_relocation.migration_timeout)

    def _watch_unknown(self, state, task, server, effective):
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
                return self.mover.write(state, task, dict(
                    migration_after=int(found[-1].id) - 1))
            return self.arrived(state, task, server, effective,
                                found[-1] if found else None)
        LOG.warning('%(vm)s: no record that Nova started our migration '
                    'and the VM is idle on %(host)s; asking again',
                    {'vm': task.vm, 'host': task.source_host})
        return self._ask_again(state, task)

    def arrived(self, state, task, server, effective, migration):
        """The VM is on its destination: verify it, resume it if parked."""
        verdict = self.rule.check(effective, server.host,
                                  state.by_host.get(server.host), state.now)
        compliant = verdict.compliant
        if not compliant:
            LOG.warning('%(vm)s arrived on %(host)s, which no longer '
                        'satisfies it (%(why)s); it will be moved again',
                        {'vm': task.vm, 'host': server.host,
                         'why': verdict.reason})
        # A cold move stops the guest from the call until it runs on its
        # destination: at most this long (a live move's pause is Nova's
        # [libvirt] live_migration_downtime, not seen from here).
        downtime = (mover_mod.elapsed_ms(task.migrate_called_at, self.clock())
                    if task.kind == compute_mod.COLD else None)
        fields = dict(migration=str(migration.id) if migration else None,
                      kind=task.kind, compliant=compliant,
                      downtime_ms=downtime)
        reason = ('moved' if compliant
                  else 'moved; destination no longer compliant')
        if task.action:
            return self.mover.unpark(state, task, server, reason,
                                     event=audit_events.MOVED, **fields)
        return self.mover.finish(state, task, server.host, reason,
                                 event=audit_events.MOVED, **fields)

    def watch_resume(self, state, task, server):
        """Finish a RESUMING task once the VM runs again."""
        if server is None:
            return self.mover.gone(state, task)
        parked_status = compute_mod.NovaCompute.PARK[task.action][2]
        if server.busy:
            return task
        if server.status == parked_status:
            # Nova is idle and the VM still parked: the request was lost.
            self.mover.ask_unpark(task)
            return task
        return self.mover.finish(state, task, server.host, task.reason,
                                 event=audit_events.RESUMED,
                                 resumed=task.action, status=server.status)

    def watch_park(self, state, task, server):
        """A PARKING task becomes PARKED once Nova applied the action."""
        if server is None:
            return self.mover.gone(state, task)
        parked_status = compute_mod.NovaCompute.PARK[task.action][2]
        if server.busy or server.status != parked_status:
            return task
        return self.mover.write(state, task, dict(state=triggers.PARKED))

    def resume_in_place(self, state, task, server, reason):
        """The VM's own host satisfies it again: undo the no-host action."""
        parked_status = (compute_mod.NovaCompute.PARK[task.action][2]
                         if task.action else None)
        if parked_status is not None and server.status == parked_status:
            return self.mover.unpark(state, task, server, reason,
                                     event=audit_events.RECOVERED)
        return self.mover.finish(state, task, server.host, reason,
                                 event=audit_events.RESUMED)
