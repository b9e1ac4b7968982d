"""``sod-trust-monitor``: the trust monitor (TMs)."""

import signal
import sys
import threading

from oslo_log import log as logging

from sod_nova import version
import sod_nova.conf
from sod_nova.trust.monitor import service

CONF = sod_nova.conf.CONF


def main(argv=None):
    logging.register_options(CONF)
    CONF(sys.argv[1:] if argv is None else argv, project='sod_nova',
         prog='sod-trust-monitor', version=version.version_string())
    logging.setup(CONF, 'sod-trust-monitor')
    monitor = service.TrustMonitor(CONF)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        monitor.start()
    except (ValueError, OSError) as exc:
        sys.exit('sod-trust-monitor: %s' % exc)
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    monitor.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
