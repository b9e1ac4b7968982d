"""Which pending moves start now: order, bounds, backoff and jitter.

Pure functions over task records (anything with ``vm``, ``source_host``,
``priority``, ``not_before`` and ``id``), so that the evacuation discipline
is tested without a cloud:

* the most demanding requests first (more requested cells = more at stake
  on a compromised server), then first decided, first served;
* at most ``max_concurrent`` moves in flight overall and at most
  ``max_per_source_host`` out of one source host (a server under attack is
  evacuated in waves rather than swamping its NIC and Nova's conductor);
* a task waiting out a retry backoff does not start before ``not_before``.
"""

import collections
import math
import random


def priority(request):
    """The number of requested cells: the bigger, the sooner."""
    return bin(request.mask).count('1')


def ordered(tasks):
    """``tasks`` most demanding first, then oldest first."""
    return sorted(tasks, key=lambda t: (-t.priority, t.id))


def select(pending, in_flight, max_concurrent, max_per_source_host, now):
    """The pending tasks to start now, in start order.

    ``in_flight`` are the tasks Nova is already migrating; they hold their
    slots. A task whose source host is full is skipped, not blocking the
    tasks of other hosts behind it.
    """
    per_source = collections.Counter(t.source_host for t in in_flight)
    free = max_concurrent - len(in_flight)
    chosen = []
    busy_vms = {t.vm for t in in_flight}
    for task in ordered(pending):
        if free <= 0:
            break
        if task.not_before is not None and task.not_before > now:
            continue
        if task.vm in busy_vms:
            continue
        if per_source[task.source_host] >= max_per_source_host:
            continue
        chosen.append(task)
        busy_vms.add(task.vm)
        per_source[task.source_host] += 1
        free -= 1
    return chosen


def backoff(base, attempts):
    """Seconds to wait before retry number ``attempts`` (1, 2, ...)."""
    return base * (2 ** max(attempts - 1, 0))


def jittered(period, jitter, rng=random):
    """``period`` seconds, moved uniformly by up to ``jitter`` of itself."""
    return period * rng.uniform(1.0 - jitter, 1.0 + jitter)


def percentile(samples, p):
    """The nearest-rank ``p``-th percentile of ``samples`` (None if empty)."""
    ordered = sorted(samples)
    if not ordered:
        return None
    rank = math.ceil(p / 100.0 * len(ordered))
    return ordered[min(max(rank, 1), len(ordered)) - 1]
