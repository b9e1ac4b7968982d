"""The monitor's queue of reports and the worker thread that empties it.

The RPC endpoint only queues a report (beyond :data:`MAX_QUEUE` new ones are
dropped and counted); one worker hands up to :data:`BATCH` at a time to
``process``. The stale sweep queues behind the reports received before it,
so no host is judged unreachable on evidence not yet processed.
"""

import collections
import threading

#: Most reports handed to ``process`` at once (one database transaction).
BATCH = 512
#: Most reports queued; beyond, new ones are dropped (and counted).
MAX_QUEUE = 100_000
#: Queued behind the reports received before a stale sweep was due.
_SWEEP = object()


class Batcher:
    """A queue of reports and its worker thread.

    ``process(envelopes)`` handles one batch; ``sweep(now)`` runs a stale
    sweep due at monitor time ``now`` (``clock()``); ``counters`` counts
    ``batches`` and ``dropped`` reports.
    """

    def __init__(self, name, process, sweep, clock, counters):
        self._name = name
        self._process = process
        self._sweep = sweep
        self._clock = clock
        self._counters = counters
        self._queue = collections.deque()
        self._queued = threading.Condition()
        self._sweep_at = None       # set while a sweep is queued
        self._stopping = False
        self._worker = None

    def start(self):
        self._stopping = False
        self._worker = threading.Thread(
            target=self._work, daemon=True,
            name='sod-trust-monitor-%s-work' % self._name)
        self._worker.start()

    def stop(self):
        """Process what is queued, then end the worker."""
        with self._queued:
            self._stopping = True
            self._queued.notify_all()
        if self._worker is not None:
            self._worker.join()
            self._worker = None

    def submit(self, envelope):
        """Queue one report; never blocks."""
        with self._queued:
            if len(self._queue) >= MAX_QUEUE:
                self._counters['dropped'] += 1
                return
            self._queue.append(envelope)
            self._queued.notify()

    def sweep_due(self):
        """Queue a stale sweep as of now behind the reports queued (one at
        a time); run it at once when no worker runs."""
        with self._queued:
            if self._worker is not None and not self._stopping:
                if self._sweep_at is None:
                    self._sweep_at = self._clock()
                    self._queue.append(_SWEEP)
                    self._queued.notify()
                return
        self._sweep(None)

    def _work(self):
        while True:
            with self._queued:
                while not self._queue and not self._stopping:
                    self._queued.wait()
                if not self._queue:
                    return
                batch, sweep_at = [], None
                while self._queue and len(batch) < BATCH:
                    envelope = self._queue.popleft()
                    if envelope is _SWEEP:
                        sweep_at, self._sweep_at = self._sweep_at, None
                        break
                    batch.append(envelope)
            if batch:
                self._counters['batches'] += 1
                self._process(batch)
            if sweep_at is not None:
                self._sweep(sweep_at)
