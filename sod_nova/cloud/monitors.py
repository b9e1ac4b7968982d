"""The embedded cloud's trust monitor: the production monitor plus the
simulator's hooks.

:class:`SimulatedMonitor` lets the scenario runner and the tests see what the
monitor judged and why; the production monitor
(:class:`sod_nova.trust.monitor.service.TrustMonitor`) has none of its hooks.
"""

import collections

from sod_nova.trust.monitor import recorder
from sod_nova.trust.monitor import service

#: How many rejected or late reports the simulated monitor keeps.
KEPT_REJECTIONS = 64


class _NotingRecorder(recorder.VerdictRecorder):
    """A verdict recorder that notes the reports it rejected or ignored."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.recent_rejections = collections.deque(maxlen=KEPT_REJECTIONS)

    def follow_up(self, verdict, accepted, envelope):
        if verdict is not None and (verdict.rejected or verdict.late):
            self.recent_rejections.append(
                (verdict.host if verdict.enrolled else None, verdict.outcome,
                 verdict.code, verdict.reason))
        super().follow_up(verdict, accepted, envelope)


class SimulatedMonitor(service.TrustMonitor):
    """A :class:`~sod_nova.trust.monitor.service.TrustMonitor` whose
    judgments the simulator and the tests can watch."""

    recorder_class = _NotingRecorder

    @property
    def recent_rejections(self):
        """The last rejected or late reports ``(host, outcome, code,
        reason)``, oldest first (host None: not an enrolled host)."""
        return self.recorder.recent_rejections

    def report_evidence(self, envelope):
        """Verify and record one report now, past the queue; its verdict
        (None if it could not be processed)."""
        return self.recorder.process([envelope])[0]

    def attestation_state(self, host):
        """``{boot_id, last_sequence}`` of ``host`` as this monitor last
        saw it, or None."""
        record = self.enrollments.cached(host)
        if record is None:
            return None
        return {'boot_id': record.freshness.boot_id,
                'last_sequence': record.freshness.sequence}
