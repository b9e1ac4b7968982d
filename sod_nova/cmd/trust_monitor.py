"""``sod-trust-monitor``: the trust monitor (TMs)."""

import sys

from sod_nova.cmd import common
import sod_nova.conf
from sod_nova.trust import traits
from sod_nova.trust.monitor import service

CONF = sod_nova.conf.CONF


def main(argv=None):
    common.parse_args('sod-trust-monitor', argv)
    monitor = service.TrustMonitor(CONF)
    publisher = None
    try:
        if CONF.sod_placement.publish_traits:
            publisher = traits.TraitPublisher(
                CONF, traits.Placement.from_conf(CONF))
            monitor.add_listener(publisher.trust_changed)
        monitor.start()
    except (ValueError, OSError) as exc:
        sys.exit('sod-trust-monitor: %s' % exc)
    if publisher is None:
        return common.serve(monitor.stop)
    publisher.start(resync_interval=CONF.trust.evidence_max_age)
    publisher.sync_all()

    def stop():
        monitor.stop()
        publisher.stop()
    return common.serve(stop)


if __name__ == '__main__':
    sys.exit(main())
