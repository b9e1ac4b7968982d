"""Policy validation, relocation mode: does a VM have to move, and why.

The :class:`Decider` opens a task, from what one pass already read, for a VM
the compliance rule finds unprotected where it runs or whose moving-target
period elapsed. Its other cases: doc/source/contributor/migration-manager.rst.
"""

from oslo_log import log as logging

from sod_nova.db import api as db_api
from sod_nova.relocation import audit_events
from sod_nova.relocation import compute as compute_mod
from sod_nova.relocation import ladder
from sod_nova.relocation import pass_state
from sod_nova.relocation import planner
from sod_nova.relocation import triggers

LOG = logging.getLogger(__name__)


class Decider:
    """Open, re-class and recheck the tasks of the VMs a pass looks at."""

    def __init__(self, conf, rule, store, mover, watcher, moving, clock):
        self.conf = conf
        self.rule = rule
        self.store = store
        self.mover = mover
        self.watcher = watcher
        self.moving = moving
        self.clock = clock
        #: VMs asking for a moving-target period below the operator's
        #: minimum, with the period asked (logged once per value).
        self._below_minimum = {}

    def keep_only(self, vms):
        """Forget what is remembered of VMs other than ``vms``."""
        self._below_minimum = {vm: period for vm, period
                               in self._below_minimum.items() if vm in vms}

    def consider(self, state, server, event_at, reconcile=False):
        """Open a task for ``server`` if its host no longer satisfies it."""
        task = state.tasks.get(server.id)
        if not server.host or not pass_state.movable(server, task):
            return
        if not state.first_look(server):
            return
        if task is not None:
            if task.state == triggers.PARKED and not reconcile:
                self.recheck_parked(state, task, server, event_at)
            elif (planner.escalable(task)
                    and task.source_host == server.host):
                self._escalate(state, task, server, event_at)
            return
        effective = state.effective(server)
        if effective.errors:
            LOG.warning('%(vm)s: malformed request source, held to the '
                        'strictest request: %(errors)s',
                        {'vm': server.id,
                         'errors': '; '.join(effective.errors)})
        verdict = self.rule.check(effective, server.host,
                                  state.by_host.get(server.host), state.now)
        if verdict.compliant:
            self._moving_target(state, server, effective, event_at)
            return
        kind = ladder.choose(server, effective, self.conf)[0] or compute_mod.LIVE
        task = self._open(state, server, verdict.trigger, kind, effective,
                          verdict.reason, event_at,
                          malformed=list(effective.errors) or None)
        if task is not None:
            LOG.info('%(vm)s on %(host)s must move (%(trigger)s): %(why)s',
                     {'vm': server.id, 'host': server.host,
                      'trigger': verdict.trigger, 'why': verdict.reason})

    def _open(self, state, server, trigger, kind, effective, reason,
              event_at, **fields):
        """Open ``server``'s task and record the decision, in one
        transaction; the new task, or None when one was open already."""
        with db_api.context_manager.writer.using(state.context):
            task, created = self.store.task_open(
                state.context, server.id, trigger, server.host, kind=kind,
                priority=planner.priority(effective.request), reason=reason,
                event_at=event_at)
            if created:
                self.mover.record(state, audit_events.DECIDED, task,
                                  reason=reason,
                                  request=str(effective.request),
                                  ladder=self.ladder_fields(effective),
                                  event_at=task.event_at, **fields)
        state.track(task)
        return task if created else None

    def _escalate(self, state, task, server, event_at):
        """``task`` as an evacuation if it is a pending policy-change or
        moving-target move and its VM's host lost trust or stopped reporting
        (:func:`.planner.escalated`)."""
        effective = state.effective(server)
        verdict = self.rule.check(effective, server.host,
                                  state.by_host.get(server.host), state.now)
        trigger = planner.escalated(task, verdict.trigger)
        if trigger is None:
            return
        was = task.trigger
        self.mover.write(
            state, task, dict(trigger=trigger, reason=verdict.reason,
                              priority=planner.priority(effective.request),
                              event_at=event_at),
            audit_events.DECIDED, reason=verdict.reason, was=was,
            request=str(effective.request),
            ladder=self.ladder_fields(effective), event_at=event_at)
        LOG.info('%(vm)s on %(host)s must move (%(trigger)s, was waiting '
                 'for a %(was)s move): %(why)s',
                 {'vm': server.id, 'host': server.host, 'trigger': trigger,
                  'was': was, 'why': verdict.reason})

    def ladder_fields(self, effective):
        """The VM's remediation ladder as the audit trail keeps it: its
        moves in order, then the no-host action."""
        return list(ladder.ladder_of(effective, self.conf)) + [
            self.conf.sod_relocation.no_host_action]

    def _moving_target(self, state, server, effective, now):
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
        if not self.moving.elapsed(state.context, server.id, period):
            return
        kind = ladder.choose(server, effective, self.conf)[0]
        if kind is None:
            LOG.debug('%(vm)s: moving-target period elapsed but its ladder '
                      'allows no move Nova accepts; staying on %(host)s',
                      {'vm': server.id, 'host': server.host})
            return
        if not self.rule.hosts(effective, state.rows, state.now,
                               exclude={server.host}):
            LOG.debug('%(vm)s: moving-target period elapsed but no other '
                      'compliant host; staying on %(host)s',
                      {'vm': server.id, 'host': server.host})
            return
        self._open(state, server, triggers.MOVING_TARGET, kind, effective,
                   reason, now)

    def recheck_parked(self, state, task, server, now, scheduled=False):
        """A parked VM: resume it in place, or move it once a host exists.

        A ``scheduled`` look (after Nova found no valid host) keeps counting
        attempts, so that it stops after ``[sod_relocation] retries``; a trust
        change or a reconcile gives the VM a fresh set of attempts.
        """
        if task.not_before is not None:     # a scheduled look: this is it
            task = self.mover.write(state, task, dict(not_before=None))
        if server is None:
            return self.mover.gone(state, task)
        if not pass_state.movable(server, task):
            return task
        effective = state.effective(server)
        if self.rule.check(effective, server.host,
                           state.by_host.get(server.host),
                           state.now).compliant:
            return self.watcher.resume_in_place(
                state, task, server, '%s satisfies the VM again' % server.host)
        if not self.rule.hosts(effective, state.rows, state.now,
                               exclude={server.host}):
            return task
        return self.mover.write(
            state, task, dict(
                state=triggers.PENDING, trigger=triggers.RECOVERY,
                source_host=server.host,
                attempts=task.attempts if scheduled else 0, failed_hosts=(),
                event_at=now, not_before=None, decided_at=self.clock()),
            audit_events.DECIDED, reason='a compliant host exists again',
            request=str(effective.request),
            ladder=self.ladder_fields(effective), event_at=now)
