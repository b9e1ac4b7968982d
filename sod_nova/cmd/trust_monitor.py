"""``sod-trust-monitor``: the trust monitor (TMs)."""

import sys

from oslo_service import service as oslo_service

from sod_nova.cmd import common
import sod_nova.conf
from sod_nova.conf import catalog as catalog_conf
from sod_nova.db import api as db_api
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


class MonitorWithTraits(oslo_service.ServiceBase):
    """The monitor and the publisher of its verdicts as Placement traits
    (``[sod_placement] publish_traits``), started and stopped together."""

    def __init__(self, monitor, publisher):
        super().__init__()
        self.monitor = monitor
        self.publisher = publisher

    def start(self):
        self.monitor.start()
        self.publisher.start(resync_interval=CONF.sod_trust.evidence_max_age)
        self.publisher.sync_all()

    def stop(self):
        self.monitor.stop()
        self.publisher.stop()

    def wait(self):
        self.monitor.wait()

    def reset(self):
        self.monitor.reset()


def main(argv=None):
    common.parse_args('sod-trust-monitor', argv)
    common.require_transport('sod-trust-monitor')
    try:
        db_api.configure(CONF)
        nova_domains = _nova_domains()
    except (db_api.DatabaseConfigError, compute.NovaError) as exc:
        sys.exit('sod-trust-monitor: %s' % exc)
    if not CONF.sod_placement.publish_traits:
        return common.serve('sod-trust-monitor', service.TrustMonitor(
            CONF, nova_domains=nova_domains))
    try:
        # One catalogue: the publisher's traits follow the rows it verifies.
        catalog = catalog_conf.load_catalog(CONF)
        publisher = traits.TraitPublisher(
            CONF, traits.Placement.from_conf(CONF), catalog)
    except (ValueError, OSError) as exc:
        sys.exit('sod-trust-monitor: %s' % exc)
    monitor = service.TrustMonitor(CONF, catalog=catalog,
                                   nova_domains=nova_domains)
    monitor.add_listener(publisher.trust_changed)
    return common.serve('sod-trust-monitor',
                        MonitorWithTraits(monitor, publisher))


if __name__ == '__main__':
    sys.exit(main())
