"""CPU seconds of the fleet's parts, each a set of process trees (psutil)."""

import os

import psutil


def tree(pid):
    """``pid`` and its descendants, as psutil processes (none if gone)."""
    try:
        root = psutil.Process(pid)
        return [root] + root.children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def listening(port):
    """The pids of the session of the process listening on TCP ``port``
    (a server started in a session of its own, e.g. RabbitMQ's beam and
    its helpers)."""
    pids = {c.pid for c in psutil.net_connections('tcp')
            if c.status == psutil.CONN_LISTEN and c.laddr.port == port and c.pid}
    sessions = {_sid(pid) for pid in pids} - {None}
    return [proc for proc in psutil.process_iter()
            if _sid(proc.pid) in sessions]


def _sid(pid):
    try:
        return os.getsid(pid)
    except OSError:
        return None


class Meter:
    """CPU seconds of named parts between :meth:`start` and :meth:`stop`.

    ``parts``: name -> callable returning the part's processes now. A
    process that ends in the window (a killed monitor) keeps the seconds
    last sampled: call :meth:`sample` before killing it.
    """

    def __init__(self, parts):
        self._parts = parts
        self._procs = {}
        self._first = {}
        self._last = {}

    def sample(self):
        for name, procs in self._parts.items():
            for proc in procs():
                try:
                    t = proc.cpu_times()
                except psutil.NoSuchProcess:
                    continue
                key = (name, proc.pid)
                self._first.setdefault(key, t.user + t.system)
                self._last[key] = t.user + t.system

    def start(self):
        self._first.clear()
        self._last.clear()
        self.sample()

    def stop(self):
        """CPU seconds by part in the window."""
        self.sample()
        used = dict.fromkeys(self._parts, 0.0)
        for (name, pid), last in self._last.items():
            used[name] += last - self._first[(name, pid)]
        return used
