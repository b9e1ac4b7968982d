"""A real small OpenStack on loopback for browser tests of the Horizon plugin.

:class:`LiveStack` runs, on 127.0.0.1 and free ports:

* **Keystone** (subprocess): SQLite, fernet tokens, ``keystone-manage
  bootstrap`` (user ``admin`` in project ``admin``, region ``RegionOne``), a
  ``demo`` user with the ``member`` role in project ``demo``, and a catalog
  with identity, compute, image and network endpoints;
* **Nova** (this process): sod-nova's :class:`~sod_nova.cloud.nova.EmbeddedNova`
  (real API, conductor, scheduler, computes on fake libvirt, Placement) with
  the real keystonemiddleware validating tokens against that Keystone, its API
  served on a real port because Horizon runs in another process;
* **Glance** (subprocess): the real API, SQLite and a file store, with one
  public image created through the API *with the id of an image Nova's
  GlanceFixture knows*, so an instance launched with it in Horizon boots in the
  embedded Nova (whose image service is that fixture, not this Glance);
* **Horizon** (subprocess, ``django runserver``) with a settings module
  written into a temporary directory; plugins' ``enabled`` files are added by
  directory, without writing into site-packages;
* optionally (``sod_hosts``) **Security on Demand** as in
  :class:`~sod_nova.cloud.embedded.EmbeddedCloud`: the scheduler filter, trust
  agents and monitor, and the migration manager; and **sod-nova-api** (this
  process, a loopback port) behind the real keystonemiddleware, registered in
  Keystone's catalog as ``security-on-demand``: what Horizon's plugin calls
  with the user's token.

What is *not* real: Neutron. Horizon's Launch Instance needs a network (Nova
>= 2.37 refuses a server with no ``networks``, and Horizon sends none when it
finds no Neutron), and Neutron is not installed. The ``network`` endpoint is a
read-only stub (:class:`NeutronStub`) in this process that serves the networks,
subnets and ports of Nova's own ``NeutronFixture`` - what Nova itself sees - so
the network Horizon offers is the one Nova accepts.

Everything is torn down on exit (subprocesses terminated, temporary directory
removed, unless ``keep_dir``). Only one LiveStack per process (EmbeddedNova
owns ``cfg.CONF``), and import this module before anything imports
oslo.messaging (see :mod:`sod_nova.cloud._bootstrap`)::

    with LiveStack(horizon_enabled_dirs=['sod_horizon/enabled']) as stack:
        print(stack.horizon_url, stack.admin_username, stack.admin_password)
        stack.connection().compute.servers()   # openstacksdk, as admin
"""

import json
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.parse

import fixtures
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3 as ks_v3

from sod_horizon.tests.browser import _wsgi

# Before anything imports oslo.messaging: fixes Nova's concurrency mode.
from sod_nova.cloud import nova as nova_mod

HOST = '127.0.0.1'
REGION = 'RegionOne'
SOD_FILTER = 'sod_nova.scheduler.filters.SecurityOnDemandFilter'
#: The image of Nova's GlanceFixture that the stack also creates in Glance
#: (``image1``: raw, 25 MiB in the fixture; Glance gets a few bytes of data).
IMAGE_ID = '155d900f-4e14-4e4c-a73d-069cbf4541e6'
IMAGE_NAME = 'cirros-sod'
#: Where the sod_horizon package lives (for subprocesses' PYTHONPATH).
_PLUGIN_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))


class StackError(RuntimeError):
    """A service of the stack did not start; the message ends with its log."""


def free_port():
    """A TCP port free on loopback now (the OS's choice; tiny reuse race)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _bin(name):
    """A console script of this venv (keystone-manage, glance-manage)."""
    return os.path.join(os.path.dirname(sys.executable), name)


class LiveStack(fixtures.Fixture):
    """Keystone, Nova, Glance and Horizon on loopback; see the module docstring.

    :param computes: host names of the ``nova-compute`` services to start
        (ignored with ``sod_hosts``).
    :param sod_hosts: ``{host: architecture}`` (e.g. ``{'hw-1': 'HyperWall'}``)
        to run Security on Demand as :class:`sod_nova.cloud.embedded.EmbeddedCloud`
        does: ``SecurityOnDemandFilter`` enabled in Nova's scheduler, sod-nova's
        database, a trust agent per host and the trust monitor (compressed
        time); setUp returns once every host is trusted. None: plain Nova.
    :param relocation: with ``sod_hosts``, also run the migration manager,
        talking to Nova through the catalog with the admin's Keystone session.
    :param sod_conf_overrides: ``{(group, option): value}`` for sod-nova's
        options, over EmbeddedCloud's compressed-time ones.
    :param extra_filters: more Nova host filter class paths to enable.
    :param nova_conf_overrides: ``{(group, option): value}`` for EmbeddedNova.
    :param horizon_enabled_dirs: directories of Horizon "enabled" files (e.g.
        ``sod_horizon/enabled``), read as if they were in
        ``openstack_dashboard/local/enabled``.
    :param horizon_settings: extra Django settings, ``{name: value}`` of
        Python literals (``repr`` must round-trip), applied after Horizon's.
    :param horizon_settings_code: extra Python source appended to the settings
        module, for what a literal cannot say (``INSTALLED_APPS += [...]``).
    :param sod_api: with ``sod_hosts``, also run sod-nova-api
        (``[sod_api] auth_strategy = keystone``) and register it in the catalog.
    :param glance: run Glance (the image Launch Instance offers).
    :param horizon: run Horizon (without it, ``horizon_url`` is None).
    :param keep_dir: keep the temporary directory (configs, logs) on exit.

    After setUp: ``horizon_url`` (ends with ``/``), ``keystone_url`` (``.../v3``),
    ``nova_url`` (``.../v2.1``), ``glance_url``, ``neutron_url``; the
    credentials below (``admin`` has the admin role in project ``admin``);
    ``admin_session`` (keystoneauth, admin) and :meth:`session` /
    :meth:`connection` for any user; ``nova`` (the EmbeddedNova: computes,
    notifications, ``log_output``); ``image_id``/``image_name``/``flavor_name``
    for a launch; with ``sod_hosts``, ``fleet``, ``manager``, ``catalog`` and
    ``sod_conf`` as in EmbeddedCloud, and ``api_url`` with ``sod_api``;
    ``dir`` with ``logs/<service>.log`` (:meth:`log`); ``timings`` of the start, in seconds.
    """

    admin_username = 'admin'
    admin_password = 'sod-admin-pass'
    admin_project = 'admin'
    demo_username = 'demo'
    demo_password = 'sod-demo-pass'
    demo_project = 'demo'
    image_id = IMAGE_ID
    image_name = IMAGE_NAME
    flavor_name = 'm1.tiny'

    def __init__(self, computes=('compute1', 'compute2'), sod_hosts=None,
                 relocation=True, sod_conf_overrides=None, extra_filters=(),
                 nova_conf_overrides=None, horizon_enabled_dirs=(),
                 horizon_settings=None, horizon_settings_code='', sod_api=True,
                 glance=True, horizon=True, keep_dir=False):
        super().__init__()
        self.sod_hosts = dict(sod_hosts or {})
        self.relocation = relocation and bool(self.sod_hosts)
        self.sod_api = sod_api and bool(self.sod_hosts)
        self.glance = glance
        self.horizon = horizon
        self.api_url = None
        self.sod_conf_overrides = dict(sod_conf_overrides or {})
        self.compute_hosts = list(self.sod_hosts or computes)
        self.extra_filters = ([SOD_FILTER] if self.sod_hosts else []) + [
            f for f in extra_filters if f != SOD_FILTER]
        self.fleet = self.manager = self.sod_conf = None
        self.nova_conf_overrides = dict(nova_conf_overrides or {})
        self.horizon_enabled_dirs = [os.path.abspath(d) for d in horizon_enabled_dirs]
        self.horizon_settings = dict(horizon_settings or {})
        self.horizon_settings_code = horizon_settings_code
        self.keep_dir = keep_dir
        self.timings = {}

    # -- public handles --------------------------------------------------------

    def session(self, username=None, password=None, project=None):
        """A keystoneauth session (admin by default) against the stack's Keystone."""
        auth = ks_v3.Password(
            auth_url=self.keystone_url, username=username or self.admin_username,
            password=password or self.admin_password,
            project_name=project or self.admin_project,
            user_domain_id='default', project_domain_id='default')
        return ks_session.Session(auth=auth)

    def connection(self, **kwargs):
        """An openstacksdk Connection (admin by default), through the catalog."""
        import openstack
        return openstack.connection.Connection(
            session=self.session(**kwargs), region_name=REGION)

    def log(self, name):
        """The log of a service (``keystone``, ``glance``, ``horizon``) so far."""
        path = os.path.join(self.dir, 'logs', '%s.log' % name)
        with open(path, errors='replace') as f:
            return f.read()

    # -- set-up ----------------------------------------------------------------

    def _setUp(self):
        start = time.monotonic()
        if self.keep_dir:
            self.dir = tempfile.mkdtemp(prefix='sod-live-stack-')
        else:
            self.dir = self.useFixture(fixtures.TempDir()).path
        os.makedirs(os.path.join(self.dir, 'logs'))
        self._procs = {}  # long-running subprocesses by log name
        self.ports = {name: free_port()
                      for name in ('keystone', 'nova', 'glance', 'neutron', 'horizon')}
        url = 'http://%s:%%d' % HOST
        self.keystone_url = url % self.ports['keystone'] + '/v3'
        self.nova_url = url % self.ports['nova'] + '/v2.1'
        self.glance_url = url % self.ports['glance']
        self.neutron_url = url % self.ports['neutron']
        self.horizon_url = (url % self.ports['horizon'] + '/'
                            if self.horizon else None)

        # Slow, independent steps first and in parallel: the databases of
        # Keystone and Glance, Horizon's start; Nova meanwhile in this process.
        keystone_setup = self._keystone_setup()
        glance_sync = self._glance_setup() if self.glance else None
        if self.horizon:
            self._horizon_start()
        self._timed('nova', self._nova_start)
        self._timed('keystone', self._keystone_start, keystone_setup)
        self._timed('catalog', self._register_catalog)
        if self.sod_hosts:
            self._timed('sod', self._sod_start)
        if self.sod_api:
            self._timed('sod-api', self._sod_api_start)
        if self.glance:
            self._timed('glance', self._glance_start, glance_sync)
        if self.horizon:
            self._timed('horizon', self._wait_http, 'horizon',
                        self.horizon_url + 'auth/login/', 120)
        self.timings['total'] = round(time.monotonic() - start, 2)

    def _timed(self, name, fn, *args):
        start = time.monotonic()
        result = fn(*args)
        self.timings[name] = round(time.monotonic() - start, 2)
        return result

    def _spawn(self, name, argv, env=None):
        """Start ``argv`` with output to logs/<name>.log; kill it on cleanup."""
        full_env = dict(os.environ)
        full_env['PYTHONPATH'] = os.pathsep.join(
            p for p in (_PLUGIN_ROOT, full_env.get('PYTHONPATH')) if p)
        full_env.update(env or {})
        log = open(os.path.join(self.dir, 'logs', '%s.log' % name), 'ab')
        self.addCleanup(log.close)
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                env=full_env, cwd=self.dir, start_new_session=True)
        self.addCleanup(_terminate, proc)
        proc.log_name = name
        return proc

    def _check(self, proc):
        """Wait for a one-shot command; StackError with its log if it failed."""
        if proc.wait(timeout=180) != 0:
            raise StackError('%s failed (exit %s):\n%s' % (
                ' '.join(proc.args), proc.returncode, self._tail(proc.log_name)))

    def _tail(self, name, lines=40):
        return '\n'.join(self.log(name).splitlines()[-lines:])

    def _wait_http(self, name, url, timeout=60):
        """Poll ``url`` until it answers below 500; StackError with the log."""
        import requests
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(url, timeout=5).status_code < 500:
                    return
            except requests.RequestException:
                pass
            proc = self._procs.get(name)
            if (proc is not None and proc.poll() is not None) or \
                    time.monotonic() > deadline:
                raise StackError('%s did not answer at %s:\n%s' % (
                    name, url, self._tail(name)))
            time.sleep(0.2)

    # -- Keystone --------------------------------------------------------------

    def _keystone_setup(self):
        kdir = os.path.join(self.dir, 'keystone')
        os.makedirs(kdir)
        self.keystone_conf = os.path.join(kdir, 'keystone.conf')
        _write(self.keystone_conf, f"""
            [DEFAULT]
            use_stderr = true
            [database]
            connection = sqlite:///{kdir}/keystone.sqlite
            [fernet_tokens]
            key_repository = {kdir}/fernet-keys
            [fernet_receipts]
            key_repository = {kdir}/fernet-keys
            [credential]
            key_repository = {kdir}/credential-keys
            [token]
            provider = fernet
            """)
        manage = [_bin('keystone-manage'), '--config-file', self.keystone_conf]
        # One shell chain, so it runs while Nova starts in this process.
        steps = [
            manage + ['db_sync'],
            manage + ['fernet_setup', '--keystone-user', str(os.getuid()),
                      '--keystone-group', str(os.getgid())],
            manage + ['credential_setup', '--keystone-user', str(os.getuid()),
                      '--keystone-group', str(os.getgid())],
            manage + ['bootstrap', '--bootstrap-password', self.admin_password,
                      '--bootstrap-username', self.admin_username,
                      '--bootstrap-project-name', self.admin_project,
                      '--bootstrap-region-id', REGION,
                      '--bootstrap-public-url', self.keystone_url,
                      '--bootstrap-internal-url', self.keystone_url,
                      '--bootstrap-admin-url', self.keystone_url],
        ]
        script = ' && '.join(' '.join(shlex.quote(a) for a in step) for step in steps)
        return self._spawn('keystone-setup', ['sh', '-c', script])

    def _keystone_start(self, setup):
        self._check(setup)
        self._procs['keystone'] = self._spawn(
            'keystone', [sys.executable, '-m', _wsgi.__name__,
                         'keystone.wsgi.api:application', HOST,
                         str(self.ports['keystone'])],
            env={'OS_KEYSTONE_CONFIG_FILES': self.keystone_conf})
        self._wait_http('keystone', self.keystone_url, 60)

    def _register_catalog(self):
        """Services and endpoints of Nova, Glance and the network stub; demo."""
        sess = self.session()
        self.admin_session = sess

        def call(method, path, body):
            resp = sess.request(self.keystone_url + path, method, json=body)
            return resp.json()

        for stype, name, url in (('compute', 'nova', self.nova_url),
                                 ('image', 'glance', self.glance_url),
                                 ('network', 'neutron', self.neutron_url)):
            service = call('POST', '/services', {'service': {
                'type': stype, 'name': name, 'enabled': True}})['service']
            for interface in ('public', 'internal', 'admin'):
                call('POST', '/endpoints', {'endpoint': {
                    'service_id': service['id'], 'interface': interface,
                    'url': url, 'region_id': REGION, 'enabled': True}})
        project = call('POST', '/projects', {'project': {
            'name': self.demo_project, 'domain_id': 'default'}})['project']
        user = call('POST', '/users', {'user': {
            'name': self.demo_username, 'password': self.demo_password,
            'domain_id': 'default', 'default_project_id': project['id']}})['user']
        roles = {r['name']: r['id'] for r in call('GET', '/roles', None)['roles']}
        sess.put(self.keystone_url + '/projects/%s/users/%s/roles/%s' % (
            project['id'], user['id'], roles['member']))
        self.demo_project_id = project['id']
        self.admin_project_id = sess.get_project_id()

    def _authtoken(self):
        """``[keystone_authtoken]`` for Nova and Glance: the admin user."""
        return {
            'auth_url': self.keystone_url.rsplit('/v3', 1)[0],
            'www_authenticate_uri': self.keystone_url.rsplit('/v3', 1)[0],
            'auth_type': 'password',
            'username': self.admin_username, 'password': self.admin_password,
            'project_name': self.admin_project,
            'user_domain_name': 'Default', 'project_domain_name': 'Default',
        }

    # -- Nova ------------------------------------------------------------------

    def _nova_start(self):
        overrides = dict(self.nova_conf_overrides)
        self.nova = self.useFixture(nova_mod.EmbeddedNova(
            extra_filters=self.extra_filters, conf_overrides=overrides,
            keystone_auth=self._authtoken()))
        for host in self.compute_hosts:
            self.nova.start_compute(host)
        server = _wsgi.make_server(self.nova.api_fixture.app(), HOST,
                                   self.ports['nova'])
        self.addCleanup(_stop_server, server)
        neutron = _wsgi.make_server(NeutronStub(self.nova.neutron), HOST,
                                    self.ports['neutron'])
        self.addCleanup(_stop_server, neutron)

    # -- Security on Demand ----------------------------------------------------

    def _sod_start(self):
        """sod-nova's side of EmbeddedCloud, with a real Keystone for relocation.

        (EmbeddedCloud itself talks to Nova without authentication, which the
        real keystonemiddleware here refuses.)
        """
        from sod_nova.cloud import embedded
        from sod_nova.cloud import fleet as fleet_mod
        import sod_nova.conf
        from sod_nova.conf import catalog as catalog_conf
        from sod_nova.db import api as db_api
        from sod_nova.db import audit as db_audit
        from sod_nova.db import migration as db_migration
        from sod_nova.relocation import compute as compute_mod
        from sod_nova.relocation import service as relocation_service

        # EmbeddedNova owns cfg.CONF from its setUp on: set ours after it.
        conf = self.sod_conf = sod_nova.conf.CONF
        overrides = dict(embedded.OVERRIDES)
        overrides[('sod_database', 'connection')] = 'sqlite:///%s/sod_nova.sqlite' % (
            self.dir)
        # The audit chain's key, outside the database, as in production.
        audit_key = '%s/audit.key' % self.dir
        db_audit.write_key(audit_key)
        overrides[('sod_audit', 'key_file')] = audit_key
        overrides.update(self.sod_conf_overrides)
        for (group, name), value in overrides.items():
            conf.set_override(name, value, group)
            self.addCleanup(conf.clear_override, name, group)
        db_migration.sync(conf)
        self.addCleanup(db_api.dispose)
        self.catalog = catalog_conf.load_catalog(conf)
        self.fleet = fleet_mod.Fleet(conf, catalog=self.catalog)
        self.fleet.start()
        self.addCleanup(self.fleet.cleanup)
        for host, architecture in self.sod_hosts.items():
            self.fleet.add_host(host, architecture)
        deadline = time.monotonic() + 30
        for host in self.sod_hosts:
            while getattr(db_api.host_get(db_api.Context(), host), 'state', None) != 'trusted':
                if time.monotonic() > deadline:
                    raise StackError('host %s did not become trusted' % host)
                time.sleep(0.05)
        if self.relocation:
            compute = compute_mod.connect_session(self.session(), region_name=REGION)
            self.manager, listener = relocation_service.build(conf, compute=compute)
            self.fleet.monitor.add_listener(self.manager.trust_changed)
            self.manager.start(listener)
            self.addCleanup(self.manager.stop)

    def _sod_api_start(self):
        """sod-nova-api behind keystonemiddleware, in Keystone's catalog.

        Its service user (the host a server runs on) is the admin's session;
        callers' own tokens reach Nova through the catalog keystonemiddleware
        passes on.
        """
        from sod_nova.api import microversion
        from sod_nova.cloud import api_server
        from sod_nova.relocation import compute as compute_mod

        conf = self.sod_conf
        conf.set_override('auth_strategy', 'keystone', 'sod_api')
        self.addCleanup(conf.clear_override, 'auth_strategy', 'sod_api')
        service = compute_mod.connect_session(self.session(), region_name=REGION)
        self.api_url = self.useFixture(api_server.LoopbackAPI(conf, service)).url
        sess = self.admin_session
        created = sess.post(self.keystone_url + '/services', json={'service': {
            'type': microversion.SERVICE_TYPE, 'name': 'sod-nova',
            'enabled': True}}).json()['service']
        for interface in ('public', 'internal', 'admin'):
            sess.post(self.keystone_url + '/endpoints', json={'endpoint': {
                'service_id': created['id'], 'interface': interface,
                'url': self.api_url, 'region_id': REGION, 'enabled': True}})

    # -- Glance ----------------------------------------------------------------

    def _glance_setup(self):
        gdir = os.path.join(self.dir, 'glance')
        os.makedirs(os.path.join(gdir, 'images'))
        os.makedirs(os.path.join(gdir, 'staging'))
        auth = ''.join('%s = %s\n' % item for item in self._authtoken().items())
        self.glance_conf_dir = gdir
        _write(os.path.join(gdir, 'glance-api.conf'), """
            [DEFAULT]
            use_stderr = true
            enabled_backends = fs:file
            worker_self_reference_url = {url}
            [database]
            connection = sqlite:///{d}/glance.sqlite
            [glance_store]
            default_backend = fs
            [fs]
            filesystem_store_datadir = {d}/images
            [os_glance_staging_store]
            filesystem_store_datadir = {d}/staging
            [os_glance_tasks_store]
            filesystem_store_datadir = {d}/tasks
            [paste_deploy]
            flavor = keystone
            config_file = {paste}
            [keystone_authtoken]
            """.format(d=gdir, url=self.glance_url, paste=os.path.join(
                sys.prefix, 'etc', 'glance', 'glance-api-paste.ini')),
            auth)
        # Metadata definitions too: Horizon's Launch Instance asks for them and
        # fails on an empty list (ValueError in its parallel fetch).
        manage = [_bin('glance-manage'), '--config-file',
                  os.path.join(gdir, 'glance-api.conf')]
        steps = [manage + ['db_sync'], manage + [
            'db_load_metadefs', os.path.join(sys.prefix, 'etc', 'glance', 'metadefs')]]
        return self._spawn('glance-setup', ['sh', '-c', ' && '.join(
            ' '.join(shlex.quote(a) for a in step) for step in steps)])

    def _glance_start(self, sync):
        self._check(sync)
        self._procs['glance'] = self._spawn(
            'glance', [sys.executable, '-m', _wsgi.__name__,
                       'glance.wsgi.api:application', HOST, str(self.ports['glance'])],
            env={'OS_GLANCE_CONFIG_DIR': self.glance_conf_dir})
        self._wait_http('glance', self.glance_url + '/versions', 60)
        sess = self.admin_session
        sess.post(self.glance_url + '/v2/images', json={
            'id': IMAGE_ID, 'name': IMAGE_NAME, 'disk_format': 'raw',
            'container_format': 'bare', 'visibility': 'public'})
        sess.put(self.glance_url + '/v2/images/%s/file' % IMAGE_ID,
                 data=b'sod-nova live stack image\n' * 64,
                 headers={'Content-Type': 'application/octet-stream'})
        status = sess.get(self.glance_url + '/v2/images/%s' % IMAGE_ID).json()['status']
        if status != 'active':
            raise StackError('Glance image is %s, not active:\n%s' % (
                status, self._tail('glance')))

    # -- Horizon ---------------------------------------------------------------

    def _horizon_start(self):
        hdir = os.path.join(self.dir, 'horizon')
        os.makedirs(os.path.join(hdir, 'local'))
        os.makedirs(os.path.join(hdir, 'static'))
        # Horizon's settings.py does ``from local.local_settings import *``
        # (normally openstack_dashboard/local, on sys.path as ROOT_PATH, which
        # it appends *last*): a ``local`` package first on PYTHONPATH is read
        # at that point, before Horizon derives settings from these values
        # (SECRET_KEY: otherwise it writes a key file into site-packages).
        _write(os.path.join(hdir, 'local', '__init__.py'), '')
        _write(os.path.join(hdir, 'local', 'local_settings.py'), """
            DEBUG = True
            SECRET_KEY = 'sod-horizon-live-stack'
            ALLOWED_HOSTS = ['127.0.0.1', 'localhost']
            OPENSTACK_HOST = '127.0.0.1'
            OPENSTACK_KEYSTONE_URL = {keystone!r}
            OPENSTACK_KEYSTONE_DEFAULT_ROLE = 'member'
            STATIC_ROOT = {static!r}
            COMPRESS_ROOT = {static!r}
            COMPRESS_ENABLED = False
            COMPRESS_OFFLINE = False
            MEDIA_ROOT = {media!r}
            # Horizon defaults to memcached; one runserver process needs none.
            CACHES = {{'default': {{
                'BACKEND': 'django.core.cache.backends.locmem.LocMemCache'}}}}
            SESSION_ENGINE = 'django.contrib.sessions.backends.cache'
            """.format(keystone=self.keystone_url,
                       static=os.path.join(hdir, 'static'),
                       media=os.path.join(hdir, 'media')))
        # sod-nova-api is found in the user's catalog, as in production.
        settings = dict(self.horizon_settings)
        extra = ''.join('%s = %r\n' % item for item in settings.items())
        # Plugins' "enabled" files: openstack_dashboard.settings reads the
        # *package* openstack_dashboard.local.enabled with pkgutil over its
        # __path__, so extra directories on that __path__ are read as if they
        # were installed there (and imported as its submodules).
        _write(os.path.join(hdir, 'sod_live_settings.py'), f"""
            import openstack_dashboard.local.enabled as _local_enabled
            _local_enabled.__path__.extend({self.horizon_enabled_dirs!r})
            from openstack_dashboard.settings import *  # noqa
            """,
            extra, self.horizon_settings_code)
        self._procs['horizon'] = self._spawn(
            'horizon', [sys.executable, '-m', 'django', 'runserver', '--noreload',
                        '%s:%d' % (HOST, self.ports['horizon'])],
            env={'DJANGO_SETTINGS_MODULE': 'sod_live_settings',
                 'PYTHONPATH': os.pathsep.join([hdir, _PLUGIN_ROOT])})


class NeutronStub:
    """A read-only Neutron v2.0 API over Nova's ``NeutronFixture`` (WSGI app).

    Not Neutron: enough GETs for Horizon's instance pages and Launch Instance
    (networks with their subnets, ports, floating IPs, extensions, quotas; no
    security groups), answered from the fixture Nova itself uses, so Horizon
    offers the network that Nova's ``NeutronFixture`` accepts. Project filters
    are ignored (the fixture's resources belong to Nova's test project); a
    write, or any other path, is answered 404.
    """

    def __init__(self, fixture):
        self.fixture = fixture

    def __call__(self, environ, start_response):
        path = environ.get('PATH_INFO', '').rstrip('/')
        query = urllib.parse.parse_qs(environ.get('QUERY_STRING', ''))
        status, body = '404 Not Found', {'NeutronError': {'message': path}}
        if environ['REQUEST_METHOD'] == 'GET':
            found = self._get(path[:-5] if path.endswith('.json') else path, query)
            if found is not None:
                status, body = '200 OK', found
        data = json.dumps(body).encode()
        start_response(status, [('Content-Type', 'application/json'),
                                ('Content-Length', str(len(data)))])
        return [data]

    def _get(self, path, query):
        fixture = self.fixture
        filters = {k: v if len(v) > 1 else v[0] for k, v in query.items()
                   if k not in ('fields', 'tenant_id', 'project_id', 'shared')}
        if path in ('', '/'):
            return {'versions': [{'id': 'v2.0', 'status': 'CURRENT', 'links': [
                {'rel': 'self', 'href': '/v2.0/'}]}]}
        if path == '/v2.0/networks':
            # Horizon asks for the project's networks, then for shared ones:
            # answer the fixture's networks once, to the first question.
            if [v.lower() for v in query.get('shared', [])] == ['true']:
                return {'networks': []}
            networks = fixture.list_networks(**filters)['networks']
            subnets = fixture.list_subnets()['subnets']
            for network in networks:  # the fixture leaves 'subnets' empty
                network['subnets'] = [s['id'] for s in subnets
                                      if s['network_id'] == network['id']]
            return {'networks': networks}
        if path == '/v2.0/subnets':
            return fixture.list_subnets()
        if path == '/v2.0/ports':
            return fixture.list_ports(True, **filters)
        if path == '/v2.0/security-groups':
            # None: Horizon would preselect the fixture's "default" group and
            # send it at boot, which NeutronFixture cannot resolve (no
            # find_resource; Nova's tests never name groups). Nova applies
            # its default group anyway.
            return {'security_groups': []}
        if path == '/v2.0/floatingips':
            return fixture.list_floatingips()
        if path == '/v2.0/extensions':
            return fixture.list_extensions()
        if path.startswith('/v2.0/quotas/'):
            return {'quota': {'network': -1, 'subnet': -1, 'port': -1, 'router': -1,
                              'floatingip': -1, 'security_group': -1,
                              'security_group_rule': -1}}
        for collection, key in (('networks', 'network'), ('subnets', 'subnet'),
                                ('ports', 'port'), ('security-groups',
                                                    'security_group')):
            prefix = '/v2.0/%s/' % collection
            if path.startswith(prefix):
                items = self._get('/v2.0/' + collection, {})
                for item in items[collection.replace('-', '_')]:
                    if item['id'] == path[len(prefix):]:
                        return {key: item}
        return None


def _write(path, *parts):
    """Write the parts, each dedented on its own (templates and generated lines)."""
    with open(path, 'w') as f:
        f.write(''.join(textwrap.dedent(part).lstrip('\n') for part in parts))


def _terminate(proc):
    """End a subprocess of ours (its own session: its children too)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def _stop_server(server):
    server.shutdown()
    server.server_close()
