"""Security compliance of a VM over a time window, from the audit trail.

The migration manager writes every decision and outcome to the hash
chain: ``decided`` (with the time of the trust change or policy change
that made the VM non-compliant, ``event_at``), ``parked`` (no compliant
server: the no-host action applied), ``moved`` (with Nova's migration id
and whether the destination satisfied the VM), ``resumed``, ``recovered``
and ``gone``. From these a VM's time splits into:

* **violated**: from the event that broke compliance until the VM was
  moved to a compliant server, resumed where it is (its server satisfies
  it again), paused for want of a server, or deleted;
* **paused**: from the no-host action until the VM runs again;
* **compliant**: the rest of the window (from the VM's creation when it
  started later).

A violation the manager has not decided on yet is not in the trail; the
per-server view also shows whether the VM is compliant *now*.
"""

import datetime

from sod_nova.relocation import audit_events
from sod_nova.relocation import triggers

#: Decisions that start a violation (a moving-target move is routine, and
#: a recovery continues a pause).
VIOLATION_TRIGGERS = (triggers.TRUST_LOSS, triggers.UNREACHABLE,
                      triggers.POLICY_CHANGE)


def _iso(epoch):
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).isoformat()


def _clip(start, end, lo, hi):
    start, end = max(start, lo), min(end, hi)
    return max(end - start, 0.0)


class _Timeline:
    def __init__(self):
        self.violations = []
        self.pauses = []
        self.violation = None
        self.pause = None

    def close_violation(self, at, **ended_by):
        if self.violation is not None:
            self.violation.update(end=at, ended_by=ended_by)
            self.violations.append(self.violation)
            self.violation = None

    def close_pause(self, at, **ended_by):
        if self.pause is not None:
            self.pause.update(end=at, ended_by=ended_by)
            self.pauses.append(self.pause)
            self.pause = None

    def feed(self, entry):
        event, at = entry.get('event'), entry.get('at')
        if at is None:
            return
        if event == audit_events.DECIDED:
            if (entry.get('trigger') in VIOLATION_TRIGGERS
                    and self.violation is None and self.pause is None):
                self.violation = {
                    'cause': entry.get('cause'),
                    'trigger': entry.get('trigger'),
                    'reason': entry.get('reason'),
                    'from': entry.get('from'),
                    'start': entry.get('event_at') or at, 'end': None,
                    'ended_by': None}
        elif event == audit_events.PARKED:
            if entry.get('action'):
                self.close_violation(at, event=audit_events.PARKED,
                                     action=entry.get('action'),
                                     reason=entry.get('reason'))
                if self.pause is None:
                    self.pause = {'action': entry.get('action'),
                                  'reason': entry.get('reason'),
                                  'start': at, 'end': None,
                                  'ended_by': None, 'migration': None}
        elif event == audit_events.MOVED:
            if entry.get('compliant') is False:
                return
            move = {'event': audit_events.MOVED, 'migration': entry.get('migration'),
                    'kind': entry.get('kind'), 'to': entry.get('to'),
                    # A cold move restarts the guest: how long it was down.
                    'downtime_ms': entry.get('downtime_ms')}
            self.close_violation(at, **move)
            if self.pause is not None:
                self.pause['migration'] = entry.get('migration')
                self.pause['to'] = entry.get('to')
        elif event in (audit_events.RESUMED, audit_events.RECOVERED):
            self.close_violation(at, event='resumed in place',
                                 reason=entry.get('outcome'))
            if event == audit_events.RESUMED:
                migration = (self.pause or {}).get('migration')
                self.close_pause(at, event=audit_events.RESUMED, migration=migration)
        elif event == audit_events.GONE:
            self.close_violation(at, event='deleted')
            self.close_pause(at, event='deleted')

    def finish(self):
        for item, target in ((self.violation, self.violations),
                             (self.pause, self.pauses)):
            if item is not None:
                target.append(item)


def _interval_view(item, lo, hi):
    end = item['end']
    view = dict(item)
    view['seconds'] = round(_clip(item['start'], hi if end is None else end,
                                  lo, hi), 6)
    view['ongoing'] = end is None
    view['start'] = _iso(item['start'])
    view['end'] = _iso(end)
    return view


def report(server_id, entries, start, end, created_at=None, name=None):
    """The compliance record of ``server_id`` over ``[start, end]`` (epoch s).

    ``entries`` are the VM's audit entries (dicts) in chain order;
    ``created_at`` (epoch s) moves the start of the window to the VM's
    creation when that is later.
    """
    lo = max(start, created_at) if created_at is not None else start
    hi = max(end, lo)
    timeline = _Timeline()
    for entry in entries:
        timeline.feed(entry)
    timeline.finish()

    def overlaps(item):
        item_end = item['end'] if item['end'] is not None else hi
        return item['start'] <= hi and item_end >= lo

    violations = [_interval_view(v, lo, hi)
                  for v in timeline.violations if overlaps(v)]
    pauses = [_interval_view(p, lo, hi)
              for p in timeline.pauses if overlaps(p)]
    window = hi - lo
    violated = sum(v['seconds'] for v in violations)
    paused = sum(p['seconds'] for p in pauses)
    compliant = max(window - violated - paused, 0.0)
    return {
        'server_id': server_id,
        'name': name,
        'window': {'start': _iso(lo), 'end': _iso(hi),
                   'seconds': round(window, 6)},
        'seconds_compliant': round(compliant, 6),
        'seconds_violated': round(violated, 6),
        'seconds_paused': round(paused, 6),
        'compliant_ratio': round(compliant / window, 6) if window else 1.0,
        'violations': violations,
        'pauses': pauses,
    }
