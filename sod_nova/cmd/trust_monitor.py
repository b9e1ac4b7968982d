"""``sod-trust-monitor``: the trust monitor (TMs)."""

import sys

from sod_nova.cmd import common
import sod_nova.conf
from sod_nova.relocation import compute
from sod_nova.trust import traits
from sod_nova.trust.monitor import service

CONF = sod_nova.conf.CONF


def _nova_domains():
    """``host -> instance UUIDs`` from Nova's API when ``[nova]`` has
    credentials (to check the domains agents report), else None."""
    if not CONF.nova.auth_type:
        return None
    nova = compute.connect(CONF)
    return lambda host: [server.id for server in nova.servers(host=host)]


def main(argv=None):
    common.parse_args('sod-trust-monitor', argv)
    common.require_transport('sod-trust-monitor')
    try:
        nova_domains = _nova_domains()
    except compute.NovaError as exc:
        sys.exit('sod-trust-monitor: %s' % exc)
    monitor = service.TrustMonitor(CONF, nova_domains=nova_domains)
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
    publisher.start(resync_interval=CONF.sod_trust.evidence_max_age)
    publisher.sync_all()

    def stop():
        monitor.stop()
        publisher.stop()
    return common.serve(stop)


if __name__ == '__main__':
    sys.exit(main())
