"""``sod-trust-monitor``: the trust monitor (TMs)."""

import sys

from sod_nova.cmd import common
import sod_nova.conf
from sod_nova.trust.monitor import service

CONF = sod_nova.conf.CONF


def main(argv=None):
    common.parse_args('sod-trust-monitor', argv)
    common.require_transport('sod-trust-monitor')
    monitor = service.TrustMonitor(CONF)
    try:
        monitor.start()
    except (ValueError, OSError) as exc:
        sys.exit('sod-trust-monitor: %s' % exc)
    return common.serve(monitor.stop)


if __name__ == '__main__':
    sys.exit(main())
