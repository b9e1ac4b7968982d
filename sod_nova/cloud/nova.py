"""Real Nova 34 services in-process, usable outside a test case.

:class:`EmbeddedNova` composes the fixtures of Nova's own functional tests
into one ``fixtures.Fixture``, so that the demo, the benchmarks and the tests
run the same cloud; one runs at a time in a process. Importing this module
fixes Nova's concurrency mode. See doc/source/contributor/simulator.rst.
"""

import logging
import os
import sys
import threading

from sod_nova.cloud import _bootstrap

# Before anything imports Nova's test fixtures or oslo.messaging: fix Nova's
# concurrency mode for the process (see _bootstrap), hence the E402s below.
CONCURRENCY_MODE = _bootstrap.select_concurrency_mode()

import fixtures  # noqa: E402
import futurist._thread  # noqa: E402
from nova import conf as nova_conf  # noqa: E402
from nova import context as nova_context  # noqa: E402
from nova import objects  # noqa: E402
from nova.compute import rpcapi as compute_rpcapi  # noqa: E402
from nova.tests import fixtures as nova_fixtures  # noqa: E402
from nova.tests.functional import fixtures as func_fixtures  # noqa: E402
from nova.tests.functional.api import client as api_client  # noqa: E402
from oslo_config import cfg  # noqa: E402
from oslo_versionedobjects import fixture as ovo_fixture  # noqa: E402

from sod_nova.cloud import _bus  # noqa: E402
from sod_nova.cloud import _keymgr  # noqa: E402
from sod_nova.cloud import _keystone  # noqa: E402
from sod_nova.cloud import _libvirt  # noqa: E402
from sod_nova.cloud import _notifications  # noqa: E402
from sod_nova.cloud import _process  # noqa: E402
from sod_nova.cloud import _servers  # noqa: E402
from sod_nova.cloud._libvirt import ORDINARY  # noqa: E402,F401 (re-export)
from sod_nova.cloud._libvirt import Hardware  # noqa: E402,F401 (re-export)
from sod_nova.cloud._libvirt import platform_of  # noqa: E402,F401 (re-export)
from sod_nova.cloud._servers import EmbeddedNovaTimeout  # noqa: E402,F401 (re-export)
from sod_nova.cloud._servers import guest_image_properties  # noqa: E402,F401 (re-export)
from sod_nova.trust import rpc  # noqa: E402

CONF = nova_conf.CONF
#: What the API clients (``api``, ``admin_api``) raise for an error response.
OpenStackApiException = api_client.OpenStackApiException
CELL1 = 'cell1'
CELL1_UUID = '6d0f5a3e-7c4b-4a61-9d0e-2b5f3c1e8a40'
_CELL_TRANSPORT = _bus.URL  # every cell's URL collapses onto the one bus
_running_lock = threading.Lock()
#: Seconds between an idle futurist worker's looks for a stop while running.
IDLE_WORKER_WAKEUP = 1.0
#: Worker threads per RPC server (see _configure).
RPC_POOL_SIZE = 8

# As nova/cmd/*: object classes must be registered before any is used.
objects.register_all()


def api_paste_config():
    """Where the nova wheel installs ``api-paste.ini`` (``<prefix>/etc/nova``).

    Nova's ConfFixture looks under site-packages, where the wheel does not put it.
    """
    return os.path.join(sys.prefix, 'etc', 'nova', 'api-paste.ini')


class EmbeddedNova(_servers.ServerActions, _notifications.NotificationAccess,
                   fixtures.Fixture):
    """Nova's API, conductor, scheduler and compute services in this process.

    Use it as a fixture (``useFixture``, ``with``, or ``setUp``/``cleanUp``).
    Compute services are added with :meth:`start_compute` at any time.

    :param extra_filters: class paths of host filters, appended to
        ``[filter_scheduler] available_filters`` with their class names
        appended to ``enabled_filters`` - enabled exactly as an operator does
        it in nova.conf. Fixed once the scheduler has started.
    :param enabled_filters: the base ``enabled_filters`` (Nova's default if None).
    :param weighers: class paths for ``[filter_scheduler] weight_classes``
        (Nova's ``all_weighers`` if None); a ``BaseHostWeigher`` subclass of
        your own gives a deterministic placement.
    :param conf_overrides: ``{(group, option): value}`` applied last, so they
        win over everything above; group ``None`` or ``'DEFAULT'`` for the
        default group. Options oslo.messaging registers late (e.g.
        ``oslo_messaging_notifications``) are applied once it has.
    :param cast_as_call: turn RPC casts into calls (Nova tests' default). Off by
        default: with it a refused live migration surfaces as HTTP 500 instead of
        a migration in ``error``.
    :param publish_notifications: also publish versioned notifications on the
        in-memory notification transport (for oslo.messaging listeners).
    :param capture_logs: keep Nova's INFO+ logs in memory (``log_output``)
        instead of letting them reach the process's logging handlers.
    :param nova_helpers: also offer Nova's own ``InstanceHelperMixin`` as
        ``self.helpers`` (``_create_server``, ``_wait_for_state_change``, ...;
        they poll every 500 ms). Off by default: it imports ``nova.test``, which
        must happen before ``cfg.CONF`` is parsed and for the rest of the
        process logs to stdout at INFO, patches ``mock`` and makes Nova's
        exception-format errors raise.
    :param keystone_auth: ``{option: value}`` of ``[keystone_authtoken]``
        (``auth_url``, ``www_authenticate_uri``, ``auth_type``, ``username``,
        ``password``, ``project_name``, ``user_domain_name``, ...) to make the
        API authenticate requests with the real keystonemiddleware against a
        running Keystone, as in production, instead of Nova's stub (which trusts
        any token). For clients that hold real Keystone tokens, e.g. Horizon in a
        browser test. ``api`` and ``admin_api`` send fake tokens, so they get
        401 then: use a keystoneauth session against the API instead.
    """

    def __init__(self, extra_filters=(), enabled_filters=None, weighers=None,
                 conf_overrides=None, cast_as_call=False,
                 publish_notifications=True, capture_logs=True,
                 nova_helpers=False, keystone_auth=None, name='sod-nova-embedded'):
        super().__init__()
        self.extra_filters = list(extra_filters)
        self.enabled_filters = enabled_filters
        self.weighers = weighers
        self.conf_overrides = dict(conf_overrides or {})
        self.cast_as_call = cast_as_call
        self.publish_notifications = publish_notifications
        self.capture_logs = capture_logs
        self.nova_helpers = nova_helpers
        self.keystone_auth = dict(keystone_auth) if keystone_auth else None
        self.name = name
        self._computes = {}
        self.helpers = None

    # -- set-up -------------------------------------------------------------

    def setUp(self):
        # Checked here, not in _setUp, so the caller gets a plain RuntimeError.
        if not _running_lock.acquire(blocking=False):
            raise RuntimeError('Another EmbeddedNova is running in this process; '
                               'Nova keeps global state, clean it up first')
        super().setUp()

    def _setUp(self):
        self.addCleanup(_running_lock.release)
        # Drop the stopped services, so their idle worker threads end now.
        self.addCleanup(self._forget_services)
        self._computes = {}
        self.helpers = None
        if self.nova_helpers:  # see the class docstring
            import nova.tests.functional.integrated_helpers  # noqa: F401
        self._shim = _process.TestCaseShim(self, self.name)
        _process.reset_nova_globals()
        self.addCleanup(_process.reset_nova_globals)
        self._logs = None
        if self.capture_logs:
            root = logging.getLogger()
            self.addCleanup(root.setLevel, root.level)  # StandardLogging won't
            self._logs = self.useFixture(nova_fixtures.StandardLogging())
        # Threading mode: an idle futurist worker wakes every MAX_IDLE_FOR to
        # see whether it must stop. nova.test sets 0.01 s for a whole test (a
        # workaround for futurist bug 2160159); with the few hundred idle
        # workers of a running cloud that alone kept a core busy. futurist's
        # own 1 s while the cloud runs; 0.01 s once cleanUp starts (see the
        # end of _setUp), so that stopping every pool still takes about 1 s.
        self.useFixture(fixtures.MonkeyPatch(
            'futurist._thread.ThreadWorker.MAX_IDLE_FOR', IDLE_WORKER_WAKEUP))
        self.useFixture(nova_fixtures.OpenStackSDKFixture())
        self.useFixture(nova_fixtures.IsolatedExecutorFixture(self.name))
        late_options = self._configure()
        self.useFixture(_bus.MemoryBus(CONF))
        # oslo.messaging registers its [DEFAULT] server options only when a
        # server starts: register them now, to set them before any does.
        rpc.register_messaging_opts(CONF)
        self._apply(late_options)
        self.useFixture(_process.ObjectRegistry())
        self._setup_databases()
        self.useFixture(ovo_fixture.StableObjectJsonFixture())
        self.useFixture(nova_fixtures.PrivsepNoHelperFixture())
        self.useFixture(nova_fixtures.ComputeNodeIdFixture())
        self.useFixture(nova_fixtures.RealPolicyFixture())
        if self.cast_as_call:
            self.useFixture(nova_fixtures.CastAsCallFixture(self._shim))
        self.placement = self.useFixture(func_fixtures.PlacementFixture()).api
        self.neutron = self.useFixture(nova_fixtures.NeutronFixture(self._shim))
        self.cinder = self.useFixture(nova_fixtures.CinderFixture(self._shim))
        self.glance = self.useFixture(nova_fixtures.GlanceFixture(self._shim))
        self._notifications = self.useFixture(
            _notifications.VersionedNotifications(self.publish_notifications))
        self.notifier = self._notifications.notifier
        self._libvirt = self.useFixture(
            _libvirt.FakeLibvirtEnvironment(self._computes))
        self.conductor = self._start_service('conductor')
        self.scheduler = self._start_service('scheduler')
        self.api_fixture = self.useFixture(nova_fixtures.OSAPIFixture(
            'v2.1', stub_keystone=self.keystone_auth is None))
        self.admin_api = self.api_fixture.admin_api
        self.api = self.api_fixture.api
        self.admin_api.microversion = self.api.microversion = 'latest'
        if self.nova_helpers:
            self.helpers = _bind_nova_helpers(self)
        # Registered last, so it runs first on cleanUp (see above).
        self.addCleanup(setattr, futurist._thread.ThreadWorker, 'MAX_IDLE_FOR', 0.01)

    def _forget_services(self):
        self._computes.clear()
        self.conductor = self.scheduler = None

    def _configure(self):
        conf = self.useFixture(nova_fixtures.ConfFixture(CONF))
        # One instances_path for all computes: Nova sees shared storage, as in
        # its libvirt functional tests, so live migrations copy no disks.
        instances_path = self.useFixture(fixtures.TempDir()).path
        lock_path = self.useFixture(fixtures.TempDir()).path
        filters = list(self.enabled_filters or
                       CONF.filter_scheduler.enabled_filters)
        filters += [path.rsplit('.', 1)[-1] for path in self.extra_filters]
        settings = {
            ('DEFAULT', 'compute_driver'): 'libvirt.LibvirtDriver',
            ('DEFAULT', 'instances_path'): instances_path,
            ('oslo_concurrency', 'lock_path'): lock_path,
            ('wsgi', 'api_paste_config'): api_paste_config(),
            # Metadata edits emit instance.update only with these two.
            ('notifications', 'notify_on_state_change'): 'vm_and_task_state',
            ('notifications', 'notification_format'): 'versioned',
            ('filter_scheduler', 'available_filters'):
                ['nova.scheduler.filters.all_filters'] + self.extra_filters,
            ('filter_scheduler', 'enabled_filters'): filters,
            ('filter_scheduler', 'build_failure_weight_multiplier'): 0.0,
            # Nova's default quota (10 instances a project) would cap a
            # scenario; the machine, and the scenario limits, bound it instead.
            ('quota', 'instances'): -1,
            ('quota', 'cores'): -1,
            ('quota', 'ram'): -1,
            # Every RPC server's futurist pool grows a thread per message
            # until it has this many (oslo.messaging's default is 64), and
            # they never go: some 300 idle threads for 4 hosts. An in-process
            # cloud handles a few messages at a time per service.
            ('DEFAULT', 'executor_thread_pool_size'): RPC_POOL_SIZE,
            # Guests with a vTPM (hw:tpm_version): Nova keeps each one's
            # secret in the key manager. Only hosts whose libvirt reports an
            # emulated TPM take them (see _libvirt.Hardware).
            ('libvirt', 'swtpm_enabled'): True,
            ('key_manager', 'backend'): _keymgr.BACKEND,
            # How many TDX guests a TDX host runs (a real one reads its
            # misc cgroup); counts only where Nova detects TDX.
            ('libvirt', 'num_intel_tdx_guests'): 16,
        }
        if self.weighers is not None:
            settings[('filter_scheduler', 'weight_classes')] = list(self.weighers)
        if self.keystone_auth:
            settings.update(_keystone.authtoken_settings(conf, self.keystone_auth))
        settings.update(self.conf_overrides)
        self._conf = conf
        return self._apply(settings, defer_unknown=True)

    def _apply(self, settings, defer_unknown=False):
        unknown = {}
        for (group, option), value in settings.items():
            try:
                self._conf.config(**{option: value,
                                     'group': None if group == 'DEFAULT' else group})
            except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
                if not defer_unknown:
                    raise
                unknown[(group, option)] = value
        return unknown

    def _setup_databases(self):
        self.useFixture(nova_fixtures.Database(database='api'))
        ctxt = nova_context.get_admin_context()
        cells = nova_fixtures.CellDatabases()
        self.cell_mappings = {}
        for name, cell_uuid in (('cell0', objects.CellMapping.CELL0_UUID),
                                (CELL1, CELL1_UUID)):
            mapping = objects.CellMapping(
                context=ctxt, uuid=cell_uuid, name=name,
                transport_url=_CELL_TRANSPORT, database_connection=cell_uuid)
            mapping.create()
            self.cell_mappings[name] = mapping
            cells.add_cell_database(cell_uuid, default=(name == CELL1))
        self.useFixture(cells)
        self.useFixture(nova_fixtures.DefaultFlavorsFixture())

    def _start_service(self, name, host=None, **kwargs):
        cell = self.cell_mappings[CELL1] if name == 'compute' else None
        return self.useFixture(nova_fixtures.ServiceFixture(
            name, host, cell=cell, **kwargs)).service

    # -- compute hosts ------------------------------------------------------

    def start_compute(self, hostname, host_info=None, hardware=None):
        """Start a ``nova-compute`` service named ``hostname`` in cell1.

        :param host_info: ``nova.tests.fixtures.libvirt.HostInfo`` (CPU
            topology, memory); 8 CPUs and 16 GiB by default.
        :param hardware: a :class:`Hardware`
            (SEV-SNP, TDX, an emulated TPM for guests); an ordinary x86
            server by default.
        :returns: ``hostname``.
        """
        if hostname in self._computes:
            raise ValueError('compute %s already started' % hostname)

        def start(host):
            # As nova.test.TestCase.start_service: CONF.host follows the last
            # started service, and the compute gets its HostMapping.
            self.useFixture(nova_fixtures.ConfPatcher(host=host))
            return self._start_service(
                'compute', host, topic_alt=compute_rpcapi.RPC_TOPIC_ALT)

        service = self._libvirt.start_compute(
            start, hostname, host_info, hardware or ORDINARY)
        ctxt = nova_context.get_admin_context()
        cell = self.cell_mappings[CELL1]
        objects.HostMapping(context=ctxt, host=hostname, cell_mapping=cell).create()
        with nova_context.target_cell(ctxt, cell) as cctxt:
            node = objects.ComputeNode.get_by_service_id(
                cctxt, service.service_ref.id)
            node.mapped = 1
            node.save()
        self._computes[hostname] = service
        return hostname

    @property
    def computes(self):
        """``{hostname: nova.service.Service}`` of the running computes (a copy)."""
        return dict(self._computes)

    def compute_rp_uuid(self, hostname):
        """The Placement resource provider UUID of a compute host."""
        return self.placement.get('/resource_providers?name=%s' % hostname).body[
            'resource_providers'][0]['uuid']

    # -- logs ---------------------------------------------------------------

    @property
    def log_output(self):
        """Nova's captured log (INFO and above; DEBUG with ``OS_DEBUG=1``)."""
        return self._logs.logger.output if self._logs else ''


def _bind_nova_helpers(cloud):
    """Nova's InstanceHelperMixin on an object that has what it expects."""
    from nova.tests.functional import integrated_helpers

    class NovaHelpers(integrated_helpers.InstanceHelperMixin):
        api = admin_api = cloud.admin_api
        api_fixture = cloud.api_fixture
        notifier = cloud.notifier
        glance = cloud.glance

        def fail(self, message):
            cloud._shim.fail(message)

    return NovaHelpers()
