"""Waiting until the migration manager has finished what an event started.

Only the simulator, the benchmarks and the tests need this wait, so it lives
here and uses only the manager's public pass and the tasks table. It has no
fixed deadline: a run is stuck when no open task advanced for longer than the
manager lets one stand still. See doc/source/contributor/simulator.rst.
"""

import time

from sod_nova.db import api as db_api
from sod_nova.db import task_states


def stall_limit(conf):
    """Seconds without progress after which the manager is stuck."""
    relocation = conf.sod_relocation
    return (relocation.migration_timeout
            + relocation.retry_backoff * 2 ** relocation.retries
            + 2 * relocation.poll_interval)


def _progress(tasks):
    """What changes whenever the manager advances any of the open ``tasks``."""
    return frozenset((t.id, t.state, t.attempts, t.migration_after, t.dest_host,
                      t.not_before) for t in tasks)


def settle(manager, stall_after=None, clock=time.monotonic, sleep=time.sleep):
    """Run the manager's passes until no trigger is queued and no task is
    pending, migrating, parking or resuming (a parked task waits for a
    compliant host: it is settled). False when no task advanced for
    ``stall_after`` seconds (default :func:`stall_limit`)."""
    conf = manager.conf
    if stall_after is None:
        stall_after = stall_limit(conf)
    last, since = None, clock()
    while manager.process_pending():
        tasks = manager.store.tasks_open(db_api.Context())  # read once
        mark = _progress(tasks)
        if mark != last:
            last, since = mark, clock()
        elif clock() - since > stall_after:
            return False
        sleep(_pause(manager, tasks))
    return True


def _pause(manager, tasks):
    """Until the next look: a poll interval, or less when a retry is due."""
    waits = [manager.conf.sod_relocation.poll_interval]
    now = manager.clock()
    for task in tasks:
        if task.state == task_states.PENDING and task.not_before:
            waits.append(max(task.not_before - now, 0.0))
    return min(waits)
