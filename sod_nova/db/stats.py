"""Aggregate reads for the services' metrics: counts, not rows.

Each function is one ``GROUP BY`` (or one bucketed sum) the database answers
without sending the rows, so a scrape costs the same at 10 hosts and at
10,000; see doc/source/admin/metrics.rst.
"""

import sqlalchemy as sa

from sod_nova.db import api
from sod_nova.db import models
from sod_nova.db import task_states

#: Task states whose migration has ended (one outcome each).
FINISHED_STATES = (task_states.DONE, task_states.FAILED)


@api.context_manager.reader
def hosts_by_state(context):
    """``{state: hosts}`` of the host rows (every monitor's)."""
    host = models.Host
    return dict(context.session.execute(
        sa.select(host.state, sa.func.count()).group_by(host.state)).all())


@api.context_manager.reader
def tasks_by_state(context, states=task_states.OPEN_STATES):
    """``{state: tasks}`` of the relocation tasks in ``states``."""
    task = models.RelocationTask
    return dict(context.session.execute(
        sa.select(task.state, sa.func.count()).where(
            task.state.in_(states)).group_by(task.state)).all())


@api.context_manager.reader
def migrations_by_outcome(context):
    """``{(trigger, kind, outcome): tasks}`` of the finished tasks that
    asked Nova for a migration; the outcome is the task's final state."""
    task = models.RelocationTask
    rows = context.session.execute(
        sa.select(task.trigger, task.kind, task.state, sa.func.count()).where(
            task.state.in_(FINISHED_STATES),
            task.migrate_called_at.is_not(None)).group_by(
            task.trigger, task.kind, task.state)).all()
    return {(trigger, kind, state): count
            for trigger, kind, state, count in rows}


@api.context_manager.reader
def call_latency_buckets(context, bounds):
    """The detection-to-migrate-call latencies (seconds, from the event the
    manager acted on to its first migrate call) as a cumulative histogram:
    ``(counts per upper bound in bounds, count, sum)``."""
    task = models.RelocationTask
    latency = task.migrate_called_at - task.event_at
    columns = [sa.func.sum(sa.case((latency <= bound, 1), else_=0))
               for bound in bounds]
    row = context.session.execute(
        sa.select(sa.func.count(), sa.func.sum(latency), *columns).where(
            task.migrate_called_at.is_not(None),
            task.event_at.is_not(None))).one()
    count, total = row[0], row[1] or 0.0
    return [int(c or 0) for c in row[2:]], count, float(total)
