"""Scenario events that attack the trust plane over the message bus.

Forged and replayed reports, and challenges the monitor group never
issued, go over the same bus as genuine ones; each event waits until the
monitor (or the agent) has judged what was sent, and says what came of it.
"""

import collections
import threading

from sod_nova.cloud import agents as agents_mod
from sod_nova.cloud import embedded
from sod_nova.cloud import fleet as fleet_mod
from sod_nova.trust import verify


def _wait_judged(cloud, judged, what):
    """Wait for ``judged()`` within the cloud's verdict time, else raise
    :class:`EmbeddedNovaTimeout` saying ``what()`` did not happen."""
    within = cloud.verdict_seconds()
    if not fleet_mod.wait_for(judged, timeout=within):
        raise embedded.EmbeddedNovaTimeout(
            '%s within %.1f s (twice the evidence timings allow)' % (what(), within))


def bad_evidence(cloud, host, send):
    """Send a bad report over the bus; wait until the monitor judged it.

    A forged or replayed report is not attributable to the host: the
    monitor rejects it (or ignores it, for a genuine report overtaken by
    a newer one), counts it and leaves the host's state alone. The step
    says so: ``evidence: {host, rejected, code, reason, state_after}``.
    """
    monitor = cloud.fleet.monitor

    def bad_reports():     # a TPM's report awaiting activation is not one
        c = monitor.counters
        return (c['rejected'] + c['late']
                - c['late:' + verify.AWAITING_ACTIVATION])
    judged = bad_reports()
    state_before = cloud.host_row(host).state
    send(cloud.fleet.agent(host))
    _wait_judged(cloud, lambda: bad_reports() > judged,
                 lambda: '%s: the monitor did not judge the bad report' % host)
    seen = next((r for r in reversed(monitor.recent_rejections)
                 if r[0] == host), None)
    row = cloud.host_row(host)
    return {'evidence': {
        'host': host, 'rejected': seen is not None,
        'code': seen[2] if seen else None,
        'reason': seen[3] if seen else 'judged late (a genuine report overtaken)',
        'state_before': state_before, 'state_after': row.state}}


def forge_challenges(cloud, host, seconds):
    """For ``seconds`` of scenario time, someone on the bus sends the
    host's agent a challenge the monitor group never issued at every report
    interval (:class:`~sod_nova.cloud.agents.ChallengeForger`).

    The agent drops each one; the host's evidence stays fresh. The step
    says so: ``challenges: {host, sent, dropped, state_before,
    state_after}`` (``dropped``: by the agent's reason).
    """
    agent = cloud.fleet.agent(host)
    forger = agents_mod.ChallengeForger(cloud.fleet.transport,
                                        cloud.conf.sod_trust.agent_topic)
    dropped_before = collections.Counter(agent.dropped_challenges)
    state_before = cloud.host_row(host).state
    stop = threading.Event()

    def flood():
        while not stop.is_set():
            forger.send(agent)
            stop.wait(cloud.conf.sod_trust.report_interval)
    thread = threading.Thread(target=flood, daemon=True,
                              name='forge-challenge-%s' % host)
    thread.start()
    try:
        real = cloud.pass_time(seconds)
    finally:
        stop.set()
        thread.join()
    sent = sum(forger.sent.values())

    def dropped():
        return collections.Counter(agent.dropped_challenges) - dropped_before
    _wait_judged(cloud, lambda: sum(dropped().values()) >= sent,
                 lambda: '%s: the agent dropped %d of the %d bogus challenges' % (
                     host, sum(dropped().values()), sent))
    return {'challenges': {
        'host': host, 'sent': dict(forger.sent),
        'dropped': dict(sorted(dropped().items())),
        'state_before': state_before,
        'state_after': cloud.host_row(host).state},
        'waited': {'scenario_s': seconds, 'real_s': round(real, 3)}}
