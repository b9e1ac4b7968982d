"""What sod-nova's service scripts share: configuration, logging, the run loop."""

import os
import queue
import select
import signal
import sys
import threading

from oslo_config import cfg
from oslo_log import log as logging
from oslo_service import backend
from oslo_service import service

from sod_nova import version
import sod_nova.conf
from sod_nova.conf import opts as conf_opts
from sod_nova.conf import types as conf_types
from sod_nova.trust import rpc

CONF = sod_nova.conf.CONF
LOG = logging.getLogger(__name__)
#: Whether this process's service may start on the in-memory transport. Only
#: the simulator sets it (:mod:`sod_nova.cloud.lone_service`); no option does.
_in_memory_transport = False


def parse_args(prog, argv=None):
    """Read the command line and configuration files; set up logging.

    Every sod-nova option's value is checked here, so that a bad one (a
    ``nan`` period, a value out of range) stops the service at start with
    one line, not when the option is first read.
    """
    logging.register_options(CONF)
    CONF(sys.argv[1:] if argv is None else argv, project='sod_nova',
         prog=prog, version=version.version_string())
    try:
        conf_types.check_values(CONF, conf_opts.list_opts())
    except cfg.ConfigFileValueError as exc:
        sys.exit('%s: %s' % (prog, exc))
    logging.setup(CONF, prog)


def allow_in_memory_transport():
    """Let the service start on the in-memory transport (the simulator's)."""
    global _in_memory_transport
    _in_memory_transport = True


def require_transport(prog, rpc_transport=True, notification_transport=True):
    """Exit with one line when the service would talk to no other process."""
    if _in_memory_transport:
        return
    problem = rpc.transport_problem(CONF, rpc=rpc_transport,
                                    notifications=notification_transport)
    if problem:
        sys.exit('%s: %s' % (prog, problem))


class _Events:
    """What :func:`serve`'s main thread waits for: signals, and news from
    the service's threads.

    Python runs signal handlers on the main thread, but the kernel may
    deliver a signal to any thread, and a main thread blocked on a lock
    would then not wake up for it. The C-level handler writes to the wakeup
    fd from whichever thread got the signal, so the main thread waits on
    that pipe instead; :meth:`put` writes to it too.
    """

    def __init__(self):
        self._items = queue.SimpleQueue()
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        signal.set_wakeup_fd(self._write)

    def put(self, item):
        """Reentrant: called by signal handlers and other threads."""
        self._items.put(item)
        try:
            os.write(self._write, b'\0')
        except BlockingIOError:     # the pipe is full: a wakeup is pending
            pass

    def get(self):
        while True:
            try:
                return self._items.get_nowait()
            except queue.Empty:
                pass
            select.select([self._read], [], [])
            os.read(self._read, 512)


class _Watched(service.ServiceBase):
    """``daemon`` as the launcher runs it, on one of the launcher's threads.

    The launcher would only log a failed start, and does not notice a
    service that ends by itself (a migration manager that lost its lease):
    both are told to :func:`serve`'s main thread through ``events``.
    """

    def __init__(self, daemon, events):
        super().__init__()
        self.daemon = daemon
        self.events = events

    def start(self):
        try:
            self.daemon.start()
        except Exception as exc:
            self.events.put(('failed', exc))
            return
        threading.Thread(target=self._watch, daemon=True,
                         name='sod-service-watch').start()

    def _watch(self):
        self.daemon.wait()
        self.events.put(('ended', getattr(self.daemon, 'exit_status', 0)))

    def stop(self):
        self.daemon.stop()

    def wait(self):
        self.daemon.wait()

    def reset(self):
        self.daemon.reset()


def serve(prog, daemon, errors=(ValueError, OSError)):
    """Run ``daemon`` (an oslo.service ``ServiceBase``) until SIGTERM or
    Ctrl-C; the exit status.

    oslo.service's in-process :class:`~oslo_service.service.Launcher` on
    its ``threading`` backend, with this process's signals: SIGTERM and
    SIGINT stop the service gracefully (status 0); SIGHUP makes the
    launcher re-read the configuration files with ``mutate`` - options
    declared mutable take their new values (oslo.log's ``debug`` changes the
    log level at once) and the service's ``reset()`` runs - the process and
    its pid stay. Not ``oslo_service.service.launch()``: on the threading
    backend its launcher (cotyledon) forks a worker, whose pid is not the
    one operators and the leader lease see, answers SIGHUP by restarting
    that worker, and forwards signals to the whole process group.

    A start that raises one of ``errors`` ends the process with one line
    naming ``prog``; the service ending by itself ends it with the service's
    ``exit_status``.
    """
    backend.init_backend(backend.BackendType.THREADING)
    events = _Events()
    for signo in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        # The work is done on the main thread below, outside the handler.
        signal.signal(signo,
                      lambda signo, _frame: events.put(('signal', signo)))
    launcher = service.Launcher(CONF, restart_method='mutate')
    launcher.launch_service(_Watched(daemon, events))
    while True:
        what, value = events.get()
        if (what, value) != ('signal', signal.SIGHUP):
            break
        LOG.info('%s: SIGHUP; re-reading the mutable options', prog)
        try:
            launcher.restart()
        except Exception:   # e.g. a file that no longer parses
            LOG.exception('%s: configuration not re-read; the options keep '
                          'their values', prog)
    launcher.stop()
    launcher.wait()
    if what == 'signal':
        return 0
    if what == 'ended':
        return value
    if isinstance(value, errors):
        sys.exit('%s: %s' % (prog, value))
    LOG.error('%s: start failed', prog, exc_info=value)
    return 1
