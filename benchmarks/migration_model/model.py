"""Round-by-round model of KVM live migration, calibrated on the paper's Table V.

A research model for the ``migration-model`` benchmark: it predicts a live
migration's total time, pause and data sent (pre-copy after Clark et al.,
NSDI 2005; post-copy; QEMU auto-converge) and a host's evacuation time. The
migration manager does not use it: Nova and libvirt carry out the moves. The
model, its stop conditions and its calibration are described in
``doc/source/contributor/migration-model.rst``.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

MIB = 2**20
"""Bytes in the "MB" of Table V and of VM RAM sizes (1 GB RAM = 1024 MB)."""

STRATEGIES = ("precopy", "postcopy", "auto-converge")

OPENSTACK_TRIGGER_DELAY_S = 2.33
"""Extra per-migration delay the paper measured for triggering via OpenStack
(section VI); not part of Table V, add it through ``Settings.orchestration_s``."""


@dataclass(frozen=True)
class Workload:
    """Memory behaviour of one VM.

    ``zero_fraction``: share of RAM that is still zero pages (skipped by KVM).
    ``wws_mb`` / ``dirty_rate_mb_s``: writable working set and the rate at
    which the guest writes into it.  ``guest_net_mbit_s``: the guest's own
    traffic on the NIC the migration uses; it stops while the VM is paused.
    """

    name: str
    memory_mb: float = 1024.0
    zero_fraction: float = 0.0
    wws_mb: float = 0.0
    dirty_rate_mb_s: float = 0.0
    guest_net_mbit_s: float = 0.0
    why: str = ""

    def dirtied_mb(self, seconds: float, throttle: float = 0.0) -> float:
        """Distinct MB dirtied in ``seconds`` (saturates at the WWS)."""
        rate = self.dirty_rate_mb_s * (1.0 - throttle)
        if self.wws_mb <= 0 or rate <= 0 or seconds <= 0:
            return 0.0
        return self.wws_mb * -math.expm1(-rate * seconds / self.wws_mb)


@dataclass(frozen=True)
class Link:
    """Migration network.  ``efficiency`` folds TCP/IP framing and the
    hypervisor's copy overhead into one factor: 0.88 of 1 Gbit/s = 105 MB/s,
    the rate implied by Table V (File/DB servers: ~700 MB in ~6.6 s)."""

    rate_mbit_s: float = 1000.0
    efficiency: float = 0.88

    @property
    def throughput_mb_s(self) -> float:
        return self.rate_mbit_s * 1e6 * self.efficiency / 8 / MIB


@dataclass(frozen=True)
class Settings:
    """Hypervisor migration settings; defaults are the paper's testbed.

    ``downtime_limit_ms``: target pause (qemu-kvm 1.0's max_downtime, 30 ms;
    libvirt's/Nova's live_migration_downtime plays the same role).
    ``max_rounds`` and ``max_data_factor``: Xen's 30 iterations / 3x RAM caps
    from Clark et al.  ``no_progress_ratio``: a round that re-dirties more than
    this share of what it sent is not converging.  ``setup_s``: handshake and
    destination start-up.  ``resume_ms``: fixed part of the pause (final
    sync, resume, network re-announce) -- Table V's idle VM pauses 200 ms with
    almost nothing to copy.  ``cpu_state_mb``: vCPU and device state.
    """

    downtime_limit_ms: float = 30.0
    max_rounds: int = 30
    max_data_factor: float = 3.0
    no_progress_ratio: float = 0.5
    setup_s: float = 0.38
    resume_ms: float = 190.0
    cpu_state_mb: float = 0.5
    orchestration_s: float = 0.0
    throttle_initial: float = 0.20
    throttle_increment: float = 0.10
    throttle_max: float = 0.99


@dataclass(frozen=True)
class Result:
    total_time_s: float
    downtime_ms: float
    data_sent_mb: float
    rounds: int
    stop_reason: str = ""
    strategy: str = "precopy"
    degraded_s: float = 0.0
    """Seconds the guest runs impaired: post-copy remote faults, or throttled."""


def _migration(workload: Workload, s: Settings, strategy: str):
    """One migration as a process, independent of how the link is shared.

    Yields ``("wait", seconds)`` or ``("send", mb, guest_running)``; the
    driver answers each send with the seconds it took.  Returns the result
    fields other than the total time, which the driver's clock knows.
    """
    if strategy not in STRATEGIES:
        raise ValueError("strategy must be one of %s" % (STRATEGIES,))
    limit_s = s.downtime_limit_ms / 1000.0
    resume_s = s.resume_ms / 1000.0
    yield "wait", s.orchestration_s + s.setup_s

    sent = 0.0
    rounds = 0
    throttle = 0.0
    throttled_s = 0.0
    to_send = workload.memory_mb * (1.0 - workload.zero_fraction)
    while True:
        rounds += 1
        round_s = yield "send", to_send, True
        sent += to_send
        if throttle:
            throttled_s += round_s
        dirty = workload.dirtied_mb(round_s, throttle)
        bandwidth = to_send / round_s if round_s > 0 else math.inf

        if strategy == "postcopy":
            # Pause only for vCPU/device state; the guest resumes at the
            # destination and the dirty pages follow, each sent once.
            state_s = yield "send", s.cpu_state_mb, False
            yield "wait", resume_s
            pull_s = yield "send", dirty, False
            return ((state_s + resume_s) * 1000.0, sent + dirty + s.cpu_state_mb, rounds,
                    "post-copy switch", pull_s)

        if dirty / bandwidth <= limit_s:  # QEMU judges with the measured rate
            reason = "converged"
        elif rounds >= s.max_rounds:
            reason = "max rounds"
        elif sent + dirty > s.max_data_factor * workload.memory_mb:
            reason = "data cap"
        elif dirty > s.no_progress_ratio * to_send:
            if strategy == "auto-converge" and throttle < s.throttle_max:
                step_up = throttle + s.throttle_increment if throttle else s.throttle_initial
                throttle = min(s.throttle_max, step_up)
                to_send = dirty
                continue
            reason = "no progress"
        else:
            to_send = dirty
            continue
        break

    stop_s = yield "send", dirty + s.cpu_state_mb, False
    yield "wait", resume_s
    return ((stop_s + resume_s) * 1000.0, sent + dirty + s.cpu_state_mb, rounds, reason,
            throttled_s)


def _guest_mb_s(workload: Workload) -> float:
    return workload.guest_net_mbit_s * 1e6 / 8 / MIB


def simulate(
    workload: Workload,
    link: Link,
    settings: Settings | None = None,
    strategy: str = "precopy",
) -> Result:
    """Simulate one live migration alone on ``link`` (see migration-model.rst)."""
    full = link.throughput_mb_s
    running = full - _guest_mb_s(workload)
    if running <= 0:
        raise ValueError("guest traffic of %r saturates the link" % workload.name)
    process = _migration(workload, settings or Settings(), strategy)
    clock = 0.0
    answer = None
    try:
        while True:
            request = process.send(answer)
            if request[0] == "wait":
                answer = None
                clock += request[1]
            else:
                answer = request[1] / (running if request[2] else full)
                clock += answer
    except StopIteration as done:
        downtime_ms, data_mb, rounds, reason, degraded_s = done.value
    return Result(clock, downtime_ms, data_mb, rounds, reason, strategy, degraded_s)


def simulate_precopy(workload: Workload, link: Link, settings: Settings | None = None) -> Result:
    """Clark et al. iterative pre-copy, then stop-and-copy (KVM's default)."""
    return simulate(workload, link, settings, "precopy")


def simulate_postcopy(workload: Workload, link: Link, settings: Settings | None = None) -> Result:
    """One pre-copy round, then switch execution to the destination."""
    return simulate(workload, link, settings, "postcopy")


def simulate_auto_converge(
    workload: Workload, link: Link, settings: Settings | None = None
) -> Result:
    """Pre-copy that throttles the vCPU instead of giving up (QEMU auto-converge)."""
    return simulate(workload, link, settings, "auto-converge")


def predict_evacuation(
    workloads: list[Workload],
    link: Link,
    settings: Settings | None = None,
    max_concurrent: int = 1,
    strategy: str = "precopy",
) -> float:
    """Seconds until every workload has left the host (the makespan).

    Migrations start in the given order, at most ``max_concurrent`` at once.
    The link is shared as a fluid: the guest traffic of VMs in pre-copy is
    served first and the rest is split equally between the transfers in
    flight, so one migration alone behaves exactly as in ``simulate`` and a
    serial evacuation is the sum of the single migrations.  Concurrency hides
    the fixed setup/resume/orchestration costs but stretches each round, so
    VMs with a large writable working set dirty more and send more.
    """
    if max_concurrent < 1:
        raise ValueError("max_concurrent must be >= 1")
    s = settings or Settings()
    queue = list(reversed(workloads))
    active: list[_Job] = []
    clock = 0.0
    while queue or active:
        while queue and len(active) < max_concurrent:
            job = _Job(queue.pop(), s, strategy, clock)
            if job.request is not None:
                active.append(job)
        sends = [j for j in active if j.kind != "wait"]
        spare = link.throughput_mb_s - sum(_guest_mb_s(j.workload) for j in sends
                                           if j.kind == "running")
        if sends and spare <= 0:
            raise ValueError("guest traffic saturates the link")
        rate = spare / len(sends) if sends else 0.0
        step = min(j.left if j.kind == "wait" else j.left / rate for j in active)
        clock += step
        for job in active:
            job.left -= step if job.kind == "wait" else step * rate
        for job in [j for j in active if j.left <= 1e-9]:
            job.answer(clock)
            if job.request is None:
                active.remove(job)
    return clock


class _Job:
    """A migration in ``predict_evacuation``: its process and current request."""

    def __init__(self, workload: Workload, settings: Settings, strategy: str, clock: float):
        self.workload = workload
        self.process = _migration(workload, settings, strategy)
        self.request = None
        self._next(None, clock)

    def _next(self, answer, clock):
        try:
            self.request = self.process.send(answer)
        except StopIteration:
            self.request = None
            return
        self.started = clock
        self.left = self.request[1]
        if self.request[0] == "wait":
            self.kind = "wait"
        else:
            self.kind = "running" if self.request[2] else "paused"

    def answer(self, clock):
        """The current request is done at ``clock``; move to the next one."""
        self._next(None if self.kind == "wait" else clock - self.started, clock)


PAPER_LINK = Link(1000.0, 0.88)
"""The paper's 1 Gbit/s link, 88 % of it for the migration stream."""
PAPER_SETTINGS = Settings()
"""The fixed costs calibrated on Table V (shared by all its rows)."""
