"""What sod-nova's service scripts share: configuration, logging, the run loop."""

import signal
import sys
import threading

from oslo_log import log as logging

from sod_nova import version
import sod_nova.conf
from sod_nova.trust import rpc

CONF = sod_nova.conf.CONF


def parse_args(prog, argv=None):
    """Read the command line and configuration files; set up logging."""
    logging.register_options(CONF)
    CONF(sys.argv[1:] if argv is None else argv, project='sod_nova',
         prog=prog, version=version.version_string())
    logging.setup(CONF, prog)


def require_transport(prog, rpc_transport=True, notification_transport=True):
    """Exit with one line when the service would talk to no other process."""
    if CONF.embedded:
        return
    problem = rpc.transport_problem(CONF, rpc=rpc_transport,
                                    notifications=notification_transport)
    if problem:
        sys.exit('%s: %s' % (prog, problem))


def serve(stop):
    """Block until SIGTERM or Ctrl-C, then call ``stop()``; exit status 0."""
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    stop()
    return 0
