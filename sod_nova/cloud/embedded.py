"""The whole embedded cloud: Nova, the trust monitor, agents and the migration manager.

:class:`EmbeddedCloud` is the paper's test bed in one process, and the one
harness the simulator, the functional tests and the benchmarks share:

* real Nova 34 services (:class:`~sod_nova.cloud.nova.EmbeddedNova`) with
  ``SecurityOnDemandFilter`` enabled by class path, as an operator would;
* sod-nova's database on SQLite (a file in a private temporary directory),
  created with the alembic migrations (``db sync``);
* one trust agent per compute host with its architecture's backend, and the
  trust monitor (:class:`~sod_nova.trust.fleet.Fleet`), over oslo.messaging's
  in-memory transport; host keys are enrolled as an operator would;
* the migration manager, talking to Nova's API through openstacksdk exactly
  as in production, fed by the monitor's trust changes and by Nova's
  versioned ``instance.update`` notifications.

Time is compressed (evidence every 0.5 s, stale after 4 s) but cause and
effect keep their real order. ``relocation=False`` leaves the manager out,
which is how a test proves that relocation is what keeps VMs compliant.
"""

import datetime
import time

import fixtures

from sod_nova.cloud import nova as nova_mod  # first: fixes Nova's concurrency mode
from sod_nova.cloud import tpm_hosts as tpm_hosts_mod
from sod_nova.cloud import weighers
from sod_nova.cloud.nova import EmbeddedNovaTimeout
from sod_nova.conf import catalog as catalog_conf
from sod_nova.db import api as db_api
from sod_nova.policy import parse
from sod_nova.relocation import compute as compute_mod
from sod_nova.relocation import decision
from sod_nova.relocation import service as relocation_service
from sod_nova.scheduler import host_check
from sod_nova.trust import fleet as fleet_mod

SOD_FILTER = 'sod_nova.scheduler.filters.SecurityOnDemandFilter'
WEIGHER = 'sod_nova.cloud.weighers.HostOrderWeigher'

#: sod-nova options of the embedded cloud: compressed time, no caches that
#: would hide a change from one step to the next.
OVERRIDES = {
    # Evidence every 0.5 s, stale after 4 s: tolerant of a loaded 2-core
    # machine (a busy process must not look like a silent agent).
    ('trust', 'report_interval'): 0.5,
    ('trust', 'evidence_max_age'): 4.0,
    ('trust', 'stale_check_interval'): 0.2,
    ('trust', 'monitor_name'): 'embedded-monitor',
    ('filter', 'host_cache_seconds'): 0.0,
    ('relocation', 'poll_interval'): 0.05,
    ('relocation', 'retry_backoff'): 0.05,
    # The runner asks for a reconcile after every step (the production
    # periodic reconcile, compressed); no timer of its own in between.
    ('relocation', 'reconcile_interval'): 3600,
}


class EmbeddedCloud(fixtures.Fixture):
    """Nova, trust monitor, agents and migration manager in one process."""

    def __init__(self, relocation=True, conf_overrides=None, weighers=(WEIGHER,),
                 tpm_hosts='auto'):
        """``weighers``: Nova weigher class paths; by default hosts are
        preferred in the order they were added (a repeatable story); None
        gives Nova's own weighers. ``tpm_hosts``: ``swtpm`` runs each TPM
        host on its own software TPM with the real ``tpm`` backend,
        ``simulated`` on a software PCR bank, ``auto`` (default) swtpm when
        installed (:mod:`sod_nova.cloud.tpm_hosts`)."""
        super().__init__()
        self.swtpm_hosts = tpm_hosts_mod.use_swtpm(tpm_hosts)
        self.relocation = relocation
        self.conf_overrides = dict(OVERRIDES)
        self.conf_overrides.update(conf_overrides or {})
        self.weighers = weighers
        self.manager = None
        self.architectures = {}

    def _setUp(self):
        weighers.prefer([])
        self.nova = self.useFixture(nova_mod.EmbeddedNova(
            extra_filters=[SOD_FILTER], weighers=list(self.weighers) if self.weighers else None))
        # EmbeddedNova owns cfg.CONF from its setUp on: set ours after it.
        import sod_nova.conf
        self.conf = sod_nova.conf.CONF
        state = self.useFixture(fixtures.TempDir()).path
        overrides = dict(self.conf_overrides)
        overrides.setdefault(('sod_database', 'connection'),
                             'sqlite:///%s/sod_nova.sqlite' % state)
        for (group, name), value in overrides.items():
            self.conf.set_override(name, value, group)
            self.addCleanup(self.conf.clear_override, name, group)
        db_api.sync(self.conf)
        self.addCleanup(db_api.dispose)
        self.catalog = catalog_conf.load_catalog(self.conf)
        self.fleet = fleet_mod.Fleet(self.conf, catalog=self.catalog)
        self.fleet.start()
        self.addCleanup(self.fleet.cleanup)
        if self.relocation:
            compute = compute_mod.connect_noauth(
                self.nova.api_fixture.base_url, 'sod-nova-embedded')
            self.manager, listener = relocation_service.build(
                self.conf, compute=compute)
            self.fleet.monitor.add_listener(self.manager.trust_changed)
            self.manager.start(listener)
            self.addCleanup(self.manager.stop)

    # -- hosts ---------------------------------------------------------------

    def add_host(self, name, architecture, timeout=30):
        """Start a compute service and its trust agent; wait until trusted."""
        weighers.ORDER.append(name)
        self.nova.start_compute(name)
        backend = None
        if self.swtpm_hosts and architecture.lower() == 'tpm':
            backend, tpm = tpm_hosts_mod.start(architecture)
            self.addCleanup(tpm.stop)
            self.addCleanup(backend.close)
        self.fleet.add_host(name, architecture, backend=backend)
        if backend is not None:     # its agent stops before its TPM does
            self.addCleanup(self.fleet.agent(name).stop)
        self.architectures[name] = architecture
        self.wait_for_state(name, ('trusted',), timeout)

    def host_row(self, name):
        return db_api.host_get(name, self.conf)

    def host_rows(self):
        return db_api.host_get_all(self.conf)

    def wait_for_state(self, host, states, timeout=30):
        """Wait until ``host``'s row is in one of ``states``; the row."""
        deadline = time.monotonic() + timeout
        while True:
            row = self.host_row(host)
            if row is not None and row.state in states:
                return row
            if time.monotonic() > deadline:
                raise EmbeddedNovaTimeout('%s did not become %s within %ss (%s)' % (
                    host, ' or '.join(states), timeout,
                    row.state if row else 'no row'))
            time.sleep(0.02)

    # -- VMs -----------------------------------------------------------------

    def effective_request(self, server):
        """The VM's request from its metadata (what the customer asked)."""
        return parse.parse_request(server.get('metadata') or {}, self.catalog.packages)

    def fresh_rows(self):
        """Host rows as the filter sees them now (stale trusted → unreachable)."""
        cutoff = host_check.evidence_cutoff(
            datetime.datetime.now(datetime.UTC), self.conf.trust.evidence_max_age)
        return {r.host: r for r in decision.with_freshness(self.host_rows(), cutoff)}

    def assess(self, server, rows=None):
        """The relocation engine's verdict on ``server`` where it runs now."""
        try:
            request = self.effective_request(server)
        except parse.PolicyError as exc:
            return decision.Verdict(False, None, str(exc))
        host = server.get('OS-EXT-SRV-ATTR:host')
        rows = self.fresh_rows() if rows is None else rows
        return decision.assess(request, host, rows.get(host))

    def settle(self, timeout=120):
        """Let the migration manager look at every VM and finish its work."""
        if self.manager is None:
            return True
        self.nova.flush_notifications()
        self.manager.request_reconcile()
        return self.manager.settle(timeout=timeout)
