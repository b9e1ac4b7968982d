"""Security compliance of a VM over a time window, from the audit trail.

A VM's time splits into violated, paused and compliant from the migration
manager's verified entries for it (an unverifiable one fails the window
closed); a project user's report never reads host names or free text.

See doc/source/contributor/api-and-cli.rst.
"""

import datetime

from sod_nova import exception
from sod_nova.api.objects import security as security_obj
from sod_nova.db import api as db_api
from sod_nova.db import audit
from sod_nova.db import relocation as relocation_db
from sod_nova.relocation import audit_events
from sod_nova.relocation import triggers

#: Events after which none of a VM's violations or pauses is open: a
#: window's report reads the VM's entries from its last one before it.
RESETS = (audit_events.RESUMED, audit_events.GONE)

UNREADABLE = 'unreadable-audit'
UNREADABLE_WHY = ('the audit trail of this server cannot be verified for '
                  'this window (entry %d): no compliance can be shown')

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


def _intervals(entries, lo, hi):
    timeline = _Timeline()
    for entry in entries:
        timeline.feed(entry)
    timeline.finish()

    def overlaps(item):
        item_end = item['end'] if item['end'] is not None else hi
        return item['start'] <= hi and item_end >= lo

    return ([_interval_view(v, lo, hi)
             for v in timeline.violations if overlaps(v)],
            [_interval_view(p, lo, hi)
             for p in timeline.pauses if overlaps(p)])


def _interval_view(item, lo, hi):
    end = item['end']
    view = dict(item)
    view['seconds'] = round(_clip(item['start'], hi if end is None else end,
                                  lo, hi), 6)
    view['ongoing'] = end is None
    view['start'] = _iso(item['start'])
    view['end'] = _iso(end)
    return view


class Unreadable(exception.SodNovaException):
    """An audit entry of the VM failed its check: ``seq`` and ``reason``."""

    def __init__(self, seq, reason):
        super().__init__('audit entry %d: %s' % (seq, reason))
        self.seq = seq
        self.reason = reason


class Reader:
    """One request's reading of the audit trail: the key, and how many
    legacy (unkeyed) entries the anchor counts under its MAC
    (:func:`sod_nova.db.audit.anchored_legacy`), read once, with the
    request's ``context`` (a fresh one by default)."""

    def __init__(self, conf, key, context=None):
        self.store = relocation_db.RelocationStore(conf)
        self.key = key
        self.context = context if context is not None else db_api.Context()
        self._legacy = None

    def legacy(self):
        if self._legacy is None:
            self._legacy = audit.anchored_legacy(
                self.store.audit_first_keyed(self.context), self.key)
        return self._legacy

    def entries(self, server_id, start):
        """``server_id``'s entries (dicts, chain order) a window from
        ``start`` needs, from the reset it starts after (checked too: its
        indexed columns chose it); raises :class:`Unreadable` for one that
        fails."""
        result = []
        for row in self.store.audit_for_vm(self.context, server_id, start,
                                           RESETS):
            problem = audit.row_problem(row, self.key)
            if (problem is None and row.alg is None
                    and row.seq > self.legacy()):
                problem = audit.UNANCHORED
            if problem is not None:
                raise Unreadable(row.seq, problem)
            result.append(row.data)
        return result


def _unreadable(exc, lo, hi):
    return {'cause': UNREADABLE, 'trigger': None,
            'reason': UNREADABLE_WHY % exc.seq, 'from': None,
            'start': _iso(lo), 'end': _iso(hi), 'ended_by': None,
            'seconds': round(hi - lo, 6), 'ongoing': False}


def _project_ended_by(ended_by):
    if ended_by is None:
        return None
    action = ended_by.get('action')
    view = {k: ended_by.get(k) for k in ended_by
            if k in ('event', 'migration', 'kind', 'downtime_ms', 'action')}
    if 'reason' in ended_by:
        view['reason'] = (security_obj.PARKED.get(action)
                          if ended_by.get('event') == audit_events.PARKED
                          else None)
    if 'to' in ended_by:
        view['to'] = None
    return view


def project_view(item):
    """A violation or pause as a project user receives it: codes, times
    and fixed sentences; the hosts and the detailed reasons are not read."""
    trigger = item.get('trigger')
    trigger = trigger if trigger in security_obj.WHY else None
    view = dict(item)
    if 'cause' in item:                     # a violation
        view.update(cause=trigger if item['cause'] != UNREADABLE
                    else UNREADABLE, trigger=trigger, **{'from': None})
        if item['cause'] != UNREADABLE:
            view['reason'] = security_obj.WHY.get(trigger)
    else:                                   # a pause
        view.update(reason=security_obj.PARKED.get(item.get('action')),
                    to=None)
    view['ended_by'] = _project_ended_by(item.get('ended_by'))
    return view


def report(server_id, entries, start, end, created_at=None, name=None,
           hosts_visible=True):
    """The compliance record of ``server_id`` over ``[start, end]`` (epoch s).

    ``entries`` are the VM's audit entries (dicts) in chain order, or an
    :class:`Unreadable` (the whole window is then one violation);
    ``created_at`` (epoch s) moves the start of the window to the VM's
    creation when that is later. Without ``hosts_visible`` the report is
    a project user's (:func:`project_view`).
    """
    lo = max(start, created_at) if created_at is not None else start
    hi = max(end, lo)
    if isinstance(entries, Unreadable):
        violations, pauses = [_unreadable(entries, lo, hi)], []
    else:
        violations, pauses = _intervals(entries, lo, hi)
    if not hosts_visible:
        violations = [project_view(v) for v in violations]
        pauses = [project_view(p) for p in pauses]
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
