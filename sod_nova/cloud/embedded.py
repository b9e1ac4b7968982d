"""The whole embedded cloud: Nova, the trust monitor, agents and the migration manager.

:class:`EmbeddedCloud` is the paper's test bed in one process, the one
harness the simulator, the functional tests and the benchmarks share. Time
is compressed, but cause and effect keep their real order.
See doc/source/contributor/simulator.rst.
"""

import gc
import threading
import time

import fixtures

from sod_nova.catalog import guest as guest_mod
from sod_nova.cloud import fleet as fleet_mod
from sod_nova.cloud import noauth
from sod_nova.cloud import nova as nova_mod  # first: fixes Nova's concurrency mode
from sod_nova.cloud import settle as settle_mod
from sod_nova.cloud import tpm_hosts as tpm_hosts_mod
from sod_nova.cloud import weighers
from sod_nova.cloud.nova import EmbeddedNovaTimeout
from sod_nova.compliance import request as compliance_request
from sod_nova.compliance import rule as compliance_rule
from sod_nova.conf import catalog as catalog_conf
from sod_nova.conf import trust as trust_conf
from sod_nova.db import api as db_api
from sod_nova.db import audit as db_audit
from sod_nova.db import migration as db_migration
from sod_nova.db import trust_states
from sod_nova.relocation import service as relocation_service

SOD_FILTER = 'sod_nova.scheduler.filters.SecurityOnDemandFilter'
WEIGHER = 'sod_nova.cloud.weighers.HostOrderWeigher'

#: sod-nova options of the embedded cloud: compressed time, no caches that
#: would hide a change from one step to the next.
OVERRIDES = {
    # Evidence every 0.5 s, stale after 4 s: tolerant of a loaded 2-core
    # machine (a busy process must not look like a silent agent).
    ('sod_trust', 'report_interval'): 0.5,
    ('sod_trust', 'evidence_max_age'): 4.0,
    ('sod_trust', 'stale_check_interval'): 0.2,
    ('sod_trust', 'monitor_name'): 'embedded-monitor',
    ('sod_filter', 'host_cache_seconds'): 0.0,
    # Compressed 4x like report_interval (production: 1 s). Reactions are
    # woken by events, not by this; every look is two GETs to Nova's API per
    # migrating VM, and at 0.05 s they took the CPU the migrations needed.
    ('sod_relocation', 'poll_interval'): 0.25,
    ('sod_relocation', 'retry_backoff'): 0.05,
    # sod-nova's database is a temporary file, deleted with the cloud: an
    # fsync per commit (the monitor's verdict, the manager's task and audit
    # rows, all on the way from an attack to Nova's migrate call) buys no
    # durability here.
    ('sod_database', 'sqlite_synchronous'): False,
    # The runner asks for a reconcile after every step (the production
    # periodic reconcile, compressed); no timer of its own in between.
    ('sod_relocation', 'reconcile_interval'): 3600,
    # Scenario periods are short (a scenario second is 0.4 s here); the
    # operator's minimum, 300 s in production, would hold every one back.
    ('sod_relocation', 'moving_target_min'): 10,
}


class ScenarioClock:
    """The migration manager's clock: wall time plus the scenario time that
    :meth:`EmbeddedCloud.pass_time` skipped. Only ever moves forward."""

    def __init__(self):
        self.offset = 0.0

    def __call__(self):
        return time.time() + self.offset

    def advance(self, seconds):
        self.offset += max(seconds, 0.0)


def _freeze_heap():
    """Keep what the cloud has built so far out of the garbage collector's
    full collections (:func:`gc.freeze`). Nova, Placement and every service
    share this one process: a full collection walked all of it, stopping
    every thread for 0.2-0.4 s at random moments (a reaction round caught
    one now and then). Each production service runs in a process of its own
    with a heap a fraction of this size."""
    gc.collect()
    gc.freeze()


def _default(opts, name):
    return next(opt.default for opt in opts if opt.name == name)


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
        self.clock = ScenarioClock()
        self._changed = threading.Condition()   # notified on trust changes
        self._changes = 0

    def _setUp(self):
        # Last of all at cleanup: the collector may free the torn-down
        # cloud (a test run builds many in one process).
        self.addCleanup(gc.unfreeze)
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
        if ('sod_audit', 'key_file') not in overrides:
            # The audit chain's key, like production's, outside the database.
            audit_key = '%s/audit.key' % state
            db_audit.write_key(audit_key)
            overrides[('sod_audit', 'key_file')] = audit_key
        for (group, name), value in overrides.items():
            self.conf.set_override(name, value, group)
            self.addCleanup(self.conf.clear_override, name, group)
        db_migration.sync(self.conf)
        self.addCleanup(db_api.dispose)
        self.catalog = catalog_conf.load_catalog(self.conf)
        self.rule = compliance_rule.Rule(self.catalog)
        self.fleet = fleet_mod.Fleet(self.conf, catalog=self.catalog)
        self.fleet.monitor.add_listener(self._state_changed)
        self.fleet.start()
        self.addCleanup(self.fleet.cleanup)
        if self.relocation:
            compute = noauth.connect(
                self.nova.api_fixture.base_url, 'sod-nova-embedded')
            self.manager, listener = relocation_service.build(
                self.conf, compute=compute, clock=self.clock)
            self.fleet.monitor.add_listener(self.manager.trust_changed)
            self.manager.start(listener)
            self.addCleanup(self.manager.stop)
            metrics = relocation_service.metrics(self.conf)
            metrics.start()
            self.addCleanup(metrics.stop)
        _freeze_heap()

    # -- hosts ---------------------------------------------------------------

    def add_host(self, name, architecture, timeout=None):
        """Start a compute service and its trust agent; wait until trusted
        (within :meth:`verdict_seconds` unless ``timeout`` says otherwise)."""
        weighers.ORDER.append(name)
        hardware = self.hardware_for(architecture)
        self.nova.start_compute(name, hardware=hardware)
        backend = None
        if self.swtpm_hosts and architecture.lower() == 'tpm':
            backend, tpm = tpm_hosts_mod.start(architecture)
            self.addCleanup(tpm.stop)
            self.addCleanup(backend.close)
        # A host with guest hardware reports what its libvirt offers, as a
        # production agent with [sod_trust] libvirt_uri does, and the monitor
        # checks the architecture it claims against it.
        platform = (nova_mod.platform_of(self.nova.computes[name])
                    if hardware != nova_mod.ORDINARY else None)
        self.fleet.add_host(name, architecture, backend=backend, platform=platform)
        if backend is not None:     # its agent stops before its TPM does
            self.addCleanup(self.fleet.agent(name).stop)
        self.architectures[name] = architecture
        _freeze_heap()
        self.wait_for_state(name, (trust_states.TRUSTED,), timeout)

    def hardware_for(self, architecture):
        """The :class:`~sod_nova.cloud.nova.Hardware` of a host of
        ``architecture``: what the catalogue row's protection needs of a
        guest (``guest: {needs: ...}``) is what its servers offer guests.
        SGX enclaves and CCA Realms, which Nova 34 cannot launch, and the
        paper's rows: an ordinary server."""
        arch = self.catalog.get(architecture)
        needs = arch.guest.feature if arch is not None and arch.guest else None
        return nova_mod.Hardware(amd_sev_snp=needs == guest_mod.AMD_SEV_SNP,
                                  intel_tdx=needs == guest_mod.INTEL_TDX,
                                  vtpm=needs == guest_mod.VTPM)

    def host_row(self, name):
        return db_api.host_get(db_api.Context(), name)

    def host_rows(self):
        return db_api.host_get_all(db_api.Context())

    def verdict_seconds(self):
        """How long a host's trust verdict may take to show after its cause.

        Derived from the evidence timings, not a guess of machine speed: an
        agent reports at once when its evidence changes and otherwise every
        ``report_interval``, asks for a nonce at most every two intervals, and
        the monitor judges a host without evidence younger than
        ``evidence_max_age`` unreachable, looking every
        ``stale_check_interval``. Any verdict (trusted after a start or a
        resume, untrusted after an attack, unreachable after a silence) is
        therefore due within ``evidence_max_age + 2 * report_interval +
        stale_check_interval`` of its cause; twice that is allowed, so that
        a loaded machine is slow, not wrong.
        """
        trust = self.conf.sod_trust
        return 2 * (trust.evidence_max_age + 2 * trust.report_interval
                    + trust.stale_check_interval)

    def _state_changed(self, change):
        with self._changed:
            self._changes += 1
            self._changed.notify_all()

    def wait_for_state(self, host, states, timeout=None):
        """Wait until ``host``'s row is in one of ``states``; the row.

        Woken by the monitor's trust changes (the row is read again after
        each, and at least every ``report_interval``). ``timeout``: seconds,
        :meth:`verdict_seconds` by default; past it, EmbeddedNovaTimeout
        names the host, what it waited for and the state it is in.
        """
        timeout = self.verdict_seconds() if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            with self._changed:
                seen = self._changes
            row = self.host_row(host)
            if row is not None and row.state in states:
                return row
            left = deadline - time.monotonic()
            if left <= 0:
                raise EmbeddedNovaTimeout(
                    '%s did not become %s within %.1f s (twice the evidence '
                    'timings allow); it is %s' % (
                        host, ' or '.join(states), timeout,
                        '%s (%s)' % (row.state, row.reason) if row
                        else 'unknown to the monitor (no row)'))
            with self._changed:
                if self._changes == seen:
                    self._changed.wait(min(left, self.conf.sod_trust.report_interval))

    # -- scenario time -------------------------------------------------------

    @property
    def time_scale(self):
        """Real seconds per scenario second: this cloud's ``evidence_max_age``
        over the production default (4 s for 10 s: 0.4), so that evidence ages
        in scenario time as it would in a real cloud."""
        return self.conf.sod_trust.evidence_max_age / _default(
            trust_conf.trust_opts, 'evidence_max_age')

    def pass_time(self, seconds):
        """Let ``seconds`` of scenario time pass; the real seconds it took.

        The cloud runs on for ``seconds * time_scale`` real seconds (agents
        report, evidence ages, timers fire), and the migration manager's clock
        moves by the whole ``seconds``, so that a moving-target period or a
        parked VM's revisit falls due in scenario time. The manager looks at
        its timers at once after the jump.
        """
        real = seconds * self.time_scale
        started = time.monotonic()
        self.clock.advance(seconds - real)
        if self.manager is not None:
            self.manager.request_reconcile()
        time.sleep(real)
        return time.monotonic() - started

    # -- VMs -----------------------------------------------------------------

    def image_properties(self, server):
        """The properties of the image ``server`` booted from, as Glance
        keeps them (Nova reads launch features from them too)."""
        image = server.get('image') or {}
        image_id = image.get('id') if isinstance(image, dict) else None
        image = self.nova.glance.images.get(str(image_id)) if image_id else None
        return dict((image or {}).get('properties') or {})

    def effective_request(self, server):
        """The VM's :class:`~sod_nova.compliance.request.Effective` request
        and launch features: its flavor's extra specs (the API shows them
        from microversion 2.47), its image's properties and its metadata,
        by the one compliance rule (a malformed source: the strictest
        request, never none)."""
        flavor = server.get('flavor') or {}
        return compliance_request.effective(
            self.catalog.packages, flavor.get('extra_specs') or {},
            self.image_properties(server), server.get('metadata') or {})

    def fresh_rows(self):
        """``{host: row}`` of every host row now; read each with
        ``row.state_at(now)`` (a stale trusted row reads unreachable)."""
        return {r.host: r for r in self.host_rows()}

    def assess(self, server, rows=None, now=None):
        """The compliance rule's :class:`~sod_nova.compliance.rule.Verdict`
        on ``server`` where it runs now (``rows``: :meth:`fresh_rows`)."""
        host = server.get('OS-EXT-SRV-ATTR:host')
        rows = self.fresh_rows() if rows is None else rows
        return self.rule.check(self.effective_request(server), host,
                               rows.get(host), now or db_api.now())

    def settle(self):
        """Let the migration manager look at every VM and finish its work;
        False when it stopped advancing (:mod:`sod_nova.cloud.settle`)."""
        if self.manager is None:
            return True
        self.nova.flush_notifications()
        self.manager.request_reconcile()
        return settle_mod.settle(self.manager)
