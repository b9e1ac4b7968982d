"""Moving-target timers (paper §III-E): when a compliant VM moves anyway.

A VM whose request carries ``sod:moving_target`` (seconds) moves to another
compliant server each period, randomised by ``[sod_relocation]
moving_target_jitter`` and never shorter than ``moving_target_min``
(:func:`effective_period`). See doc/source/contributor/migration-manager.rst.
"""

import random

from sod_nova.relocation import planner
from sod_nova.relocation import triggers


def effective_period(asked, minimum):
    """The period a VM asking for ``asked`` seconds is moved at."""
    return max(asked, minimum)


class Timers:
    """When each moving-target VM is due; the manager opens the tasks."""

    def __init__(self, conf, store, clock, rng=None):
        self.conf = conf
        self.store = store
        self.clock = clock
        self._rng = rng or random.Random()
        self._due = {}

    def next_due(self):
        """The earliest time a VM is due, or None."""
        return min(self._due.values()) if self._due else None

    def due(self, now):
        """The VMs due at ``now``."""
        return [vm for vm, at in self._due.items() if at <= now]

    def forget(self, vm):
        """``vm`` moved, was deleted or no longer asks for moving target."""
        self._due.pop(vm, None)

    def elapsed(self, context, vm, period):
        """Whether ``vm``'s ``period`` has elapsed; if so, the next period
        starts now. A ``period`` of None or 0 stops the VM's timer.
        ``context``: the database context its first look reads the VM's
        finished moves with."""
        if not period:
            self.forget(vm)
            return False
        relocation = self.conf.sod_relocation
        minimum = relocation.moving_target_min
        period = effective_period(period, minimum)
        if vm not in self._due:
            moves = [t.finished_at for t in self.store.tasks(context, vm)
                     if t.state == triggers.DONE and t.finished_at]
            base = max(moves) if moves else self.clock()
            self._due[vm] = base + planner.jittered(
                period, relocation.moving_target_jitter, self._rng, minimum)
        if self._due[vm] > self.clock():
            return False
        self._due[vm] = self.clock() + planner.jittered(
            period, relocation.moving_target_jitter, self._rng, minimum)
        return True
