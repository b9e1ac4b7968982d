"""Which pending moves start now: order, bounds, backoff and jitter.

Pure functions over task records: evacuations first, then recoveries, then
tenant-caused moves, bounded overall, per source host and per project.
The discipline in full: ``doc/source/contributor/migration-manager.rst``.
"""

import collections
import math
import random

from sod_nova.relocation import triggers

#: Moves off a host that stopped protecting its VMs: never bounded, first.
EVACUATIONS = (triggers.TRUST_LOSS, triggers.UNREACHABLE)

#: Moves a tenant can cause at will (its metadata): last, bounded per project.
DISCRETIONARY = (triggers.POLICY_CHANGE, triggers.MOVING_TARGET)


def priority(request):
    """The number of requested cells: the bigger, the sooner."""
    return bin(request.mask).count('1')


def urgency(trigger):
    """0 for an evacuation, 2 for a discretionary move, 1 for the rest (a
    parked VM's recovery; an unknown trigger is not put last)."""
    if trigger in EVACUATIONS:
        return 0
    return 2 if trigger in DISCRETIONARY else 1


def escalable(task):
    """Whether ``task`` is a tenant-caused move not started yet, which
    becomes an evacuation if its VM's host stops protecting it."""
    return task.state == triggers.PENDING and task.trigger in DISCRETIONARY


def escalated(task, trigger):
    """The trigger ``task`` is moved for now that a compliance verdict says
    its VM must move for ``trigger``, or None when it stays as it is.

    A VM has one open task. A policy-change or moving-target move still
    pending (waiting for a slot, a backoff or its project's allowance) whose
    VM's host then lost trust or stopped reporting is an evacuation from
    then on: first in line and never bounded per project, not held behind
    the tenant's own moves.
    """
    return trigger if escalable(task) and trigger in EVACUATIONS else None


def ordered(tasks):
    """``tasks`` evacuations first, then most demanding, then oldest."""
    return sorted(tasks, key=lambda t: (urgency(t.trigger), -t.priority, t.id))


def select(pending, in_flight, max_concurrent, max_per_source_host, now,
           project_of=None, allowance=None):
    """The pending tasks to start now, in start order.

    ``in_flight`` are the tasks Nova is already migrating; they hold their
    slots. A task whose source host is full is skipped, not blocking the
    tasks of other hosts behind it. ``project_of`` maps a VM to its project
    and ``allowance`` a project to the discretionary moves it may still
    start (a project missing from either is not bounded).
    """
    project_of = project_of or {}
    left = dict(allowance or {})
    per_source = collections.Counter(t.source_host for t in in_flight)
    free = max_concurrent - len(in_flight)
    yielding = sum(1 for t in in_flight if t.trigger not in EVACUATIONS)
    cap = max(max_concurrent - 1, 1)
    chosen, waiting = [], False
    busy_vms = {t.vm for t in in_flight}
    for task in ordered(pending):
        if free <= 0:
            break
        if task.vm in busy_vms:
            continue
        ready = ((task.not_before is None or task.not_before <= now)
                 and per_source[task.source_host] < max_per_source_host)
        if task.trigger not in EVACUATIONS:
            project = (project_of.get(task.vm)
                       if task.trigger in DISCRETIONARY else None)
            if (not ready or yielding >= cap
                    or (waiting and free <= 1)
                    or left.get(project, 1) <= 0):
                if not ready and task.trigger not in DISCRETIONARY:
                    waiting = True
                continue
            yielding += 1
            if project in left:
                left[project] -= 1
        elif not ready:
            waiting = True
            continue
        chosen.append(task)
        busy_vms.add(task.vm)
        per_source[task.source_host] += 1
        free -= 1
    return chosen


class ProjectMoves:
    """The discretionary moves each project started in the last ``window``
    seconds, for ``[sod_relocation] project_moves_per_hour``.

    Kept by the manager, not counted from the task rows: the rows name the
    VM but not its project, and a restarted manager forgetting at most one
    window's count is a restart a tenant cannot cause. At most ``limit``
    start times per project are kept, and none older than the window.
    """

    def __init__(self, window=3600.0):
        self.window = window
        self._started = collections.defaultdict(collections.deque)

    def record(self, project, at):
        """A discretionary move of ``project``'s VM started at ``at``."""
        if project is not None:
            self._started[project].append(at)

    def allowance(self, projects, limit, now):
        """``{project: moves it may still start}`` for ``projects``."""
        for project in list(self._started):
            started = self._started[project]
            while started and started[0] <= now - self.window:
                started.popleft()
            if not started:
                del self._started[project]
        return {p: max(limit - len(self._started.get(p, ())), 0)
                for p in projects if p is not None}

    def next_free(self):
        """When the first project's oldest counted move leaves the window
        (its allowance grows again), or None when none is counted."""
        oldest = [started[0] for started in self._started.values() if started]
        return min(oldest) + self.window if oldest else None


def backoff(base, attempts):
    """Seconds to wait before retry number ``attempts`` (1, 2, ...)."""
    return base * (2 ** max(attempts - 1, 0))


def jittered(period, jitter, rng=random, minimum=0):
    """``period`` seconds, moved uniformly by up to ``jitter`` of itself,
    never below ``minimum``."""
    low = max(period * (1.0 - jitter), minimum)
    return rng.uniform(low, max(period * (1.0 + jitter), low))


def percentile(samples, p):
    """The nearest-rank ``p``-th percentile of ``samples`` (None if empty)."""
    ordered = sorted(samples)
    if not ordered:
        return None
    rank = math.ceil(p / 100.0 * len(ordered))
    return ordered[min(max(rank, 1), len(ordered)) - 1]
