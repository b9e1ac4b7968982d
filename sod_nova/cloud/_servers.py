"""Server, flavor and migration helpers over Nova's REST API, with waiting.

Everything goes through Nova's compute API (admin client, microversion
``latest``), as a user or the migration manager would; nothing writes Nova's
database behind its back. Waiting polls every 50 ms: Nova's
``InstanceHelperMixin`` polls every 500 ms, which would dominate benchmark
timings (``EmbeddedNova.helpers`` still offers it for anything not covered here).
"""

import uuid

from nova.objects import fields as nova_fields
from nova.tests import fixtures as nova_fixtures
from nova.virt import hardware

from sod_nova import exception
from sod_nova import polling
from sod_nova.catalog import guest as guest_mod

POLL_INTERVAL = 0.05
DEFAULT_TIMEOUT = 60.0

#: Migration statuses after which Nova no longer works on a live migration.
LIVE_MIGRATION_FINAL = frozenset({'completed', 'error', 'failed', 'cancelled'})

#: Image used when create_server gets neither ``image`` nor ``image_properties``.
DEFAULT_IMAGE = nova_fixtures.GlanceFixture.image1['id']
#: ``m1.tiny`` of DefaultFlavorsFixture: 512 MB, 1 vCPU, 1 GB disk.
DEFAULT_FLAVOR = '1'


class EmbeddedNovaTimeout(exception.SodNovaException, TimeoutError):
    """Nova did not reach the awaited state in time."""


def guest_image_properties(extra_specs):
    """The image properties Nova 34 needs to boot a guest with the flavor
    ``extra_specs``: for a memory-encrypted guest, the firmware and machine
    type its model requires (``nova/virt/hardware.py``
    ``MemEncryptionConfig``: UEFI and q35, stateless firmware for SEV-SNP
    and TDX, no video device for TDX), as Nova's test_amd_sev and
    test_intel_tdx images have them; nothing for any other guest."""
    if not guest_mod.memory_encrypted(extra_specs):
        return {}
    model = (extra_specs.get('hw:mem_encryption_model')
             or nova_fields.MemEncryptionModel.AMD_SEV)
    config = hardware.MemEncryptionConfig.create(model)
    properties = {'hw_firmware_type': config.required_firmware_type,
                  'hw_machine_type': config.required_machine_type}
    if config.needs_stateless_firmware:
        properties['hw_firmware_stateless'] = 'True'
    if model == nova_fields.MemEncryptionModel.INTEL_TDX:
        properties['hw_video_model'] = nova_fields.VideoModel.NONE
    return properties


def _server_id(server):
    return server if isinstance(server, str) else server['id']


class ServerActions:
    """Mixed into EmbeddedNova; needs ``self.admin_api`` and ``self.glance``."""

    def create_flavor(self, extra_specs=None, name=None, vcpus=1, ram_mb=512,
                      disk_gb=1):
        """Create a public flavor; returns its id.

        ``extra_specs`` go through Nova's extra-spec validation (2.86+), so
        registered validators (the ``sod:`` namespace) apply.
        """
        flavor = self.admin_api.post_flavor({'flavor': {
            'name': name or 'flavor-%s' % uuid.uuid4().hex[:8],
            'ram': ram_mb, 'vcpus': vcpus, 'disk': disk_gb,
            'os-flavor-access:is_public': True}})
        if extra_specs:
            self.admin_api.post_extra_spec(
                flavor['id'], {'extra_specs': dict(extra_specs)})
        return flavor['id']

    def create_image(self, properties=None, name=None):
        """Register an image with these properties in the fake Glance; returns its id."""
        image = dict(nova_fixtures.GlanceFixture.image1,
                     id=str(uuid.uuid4()),
                     name=name or 'image-%s' % uuid.uuid4().hex[:8])
        image['properties'] = dict(image.get('properties', {}), **(properties or {}))
        return self.glance.create(None, image)['id']

    def create_server(self, name=None, flavor=None, image=None,
                      image_properties=None, metadata=None,
                      scheduler_hints=None, host=None, networks='none',
                      wait=True, timeout=DEFAULT_TIMEOUT):
        """Boot a server through the API.

        :param flavor: flavor id (default ``m1.tiny``).
        :param image: image id; or ``image_properties`` to create one.
        :param metadata: instance metadata (the customer's request).
        :param scheduler_hints: ``os:scheduler_hints``; custom keys are kept
            in the RequestSpec and seen again at every move.
        :param host: force a host (admin, 2.74+; still goes through the
            filters).
        :param wait: wait until the server is ACTIVE or ERROR.
        :returns: the server as the API shows it.
        """
        if image is None:
            image = (self.create_image(image_properties)
                     if image_properties else DEFAULT_IMAGE)
        body = {'server': {
            'name': name or 'server-%s' % uuid.uuid4().hex[:8],
            'imageRef': image,
            'flavorRef': flavor or DEFAULT_FLAVOR,
            'networks': networks,
        }}
        if metadata:
            body['server']['metadata'] = dict(metadata)
        if host:
            body['server']['host'] = host
        if scheduler_hints:
            body['os:scheduler_hints'] = dict(scheduler_hints)
        server = self.admin_api.post_server(body)
        if not wait:
            return self.get_server(server)
        return self.wait_for_server(server, ('ACTIVE', 'ERROR'), timeout)

    def get_server(self, server):
        return self.admin_api.get_server(_server_id(server))

    def servers_by_id(self):
        """Every server of every project, by id: one request."""
        return {s['id']: s for s in self.admin_api.get_servers(
            search_opts={'all_tenants': 1})}

    def server_host(self, server):
        """The compute host the server is on (``OS-EXT-SRV-ATTR:host``)."""
        return self.get_server(server)['OS-EXT-SRV-ATTR:host']

    def delete_server(self, server, timeout=DEFAULT_TIMEOUT):
        server_id = _server_id(server)
        self.admin_api.delete_server(server_id)
        self.wait_until(lambda: not self.admin_api.get_servers(
            search_opts={'uuid': server_id}), timeout,
            'server %s to be deleted' % server_id)

    def wait_for_server(self, server, statuses, timeout=DEFAULT_TIMEOUT):
        """Wait until the server has one of ``statuses`` and no task running.

        An ERROR server is returned once its ``fault`` is recorded too (Nova
        sets the state first).
        """
        found = {}

        def done():
            current = found['server'] = self.get_server(server)
            return (current['status'] in statuses and
                    current['OS-EXT-STS:task_state'] is None and
                    (current['status'] != 'ERROR' or 'fault' in current))
        self.wait_until(done, timeout, lambda: 'server %s to reach %s; last seen %s/%s' % (
            _server_id(server), statuses, found['server']['status'],
            found['server']['OS-EXT-STS:task_state']))
        return found['server']

    def pause(self, server, timeout=DEFAULT_TIMEOUT):
        self.admin_api.post_server_action(_server_id(server), {'pause': None})
        return self.wait_for_server(server, ('PAUSED', 'ERROR'), timeout)

    def unpause(self, server, timeout=DEFAULT_TIMEOUT):
        self.admin_api.post_server_action(_server_id(server), {'unpause': None})
        return self.wait_for_server(server, ('ACTIVE', 'ERROR'), timeout)

    def set_metadata(self, server, metadata, replace=False):
        """Merge ``metadata`` into the server's (or replace all of it).

        Emits a versioned ``instance.update`` notification.
        :returns: the server's metadata afterwards.
        """
        url = '/servers/%s/metadata' % _server_id(server)
        body = {'metadata': dict(metadata)}
        if replace:
            return self.admin_api.api_put(url, body).body['metadata']
        return self.admin_api.api_post(url, body).body['metadata']

    def delete_metadata(self, server, key):
        self.admin_api.delete_server_metadata(_server_id(server), key)

    def list_migrations(self, server=None, migration_type=None):
        """Migration records (newest first), optionally of one server/type.

        ``migration_type`` is ``live-migration``, ``migration``, ``resize`` or
        ``evacuation``.
        """
        query = []
        if server is not None:
            query.append('instance_uuid=%s' % _server_id(server))
        if migration_type:
            query.append('migration_type=%s' % migration_type)
        url = '/os-migrations' + ('?' + '&'.join(query) if query else '')
        return self.admin_api.api_get(url).body['migrations']

    def live_migrate(self, server, host=None, block_migration='auto',
                     timeout=DEFAULT_TIMEOUT):
        """Live-migrate through the API and wait for Nova to finish with it.

        :param host: destination; ``None`` lets the scheduler (and so every
            enabled filter) choose.
        :returns: the migration record in its final state: ``completed``, or
            ``error`` when no host passed the filters (the server then stays
            ACTIVE on its source), ``failed``/``cancelled`` otherwise.
        """
        server_id = _server_id(server)
        before = {m['id'] for m in self.list_migrations(server_id, 'live-migration')}
        self.admin_api.post_server_action(server_id, {'os-migrateLive': {
            'host': host, 'block_migration': block_migration}})
        found = {}

        def done():
            new = [m for m in self.list_migrations(server_id, 'live-migration')
                   if m['id'] not in before]
            if not new or new[0]['status'] not in LIVE_MIGRATION_FINAL:
                return False
            found['migration'] = new[0]
            return self.get_server(server_id)['OS-EXT-STS:task_state'] is None
        self.wait_until(done, timeout, 'live migration of %s to finish' % server_id)
        return found['migration']

    def set_compute_enabled(self, hostname, enabled=True, reason=None):
        """Enable or disable a compute service (the scheduler skips disabled ones)."""
        service = self.admin_api.get_services(host=hostname, binary='nova-compute')[0]
        body = {'status': 'enabled' if enabled else 'disabled'}
        if not enabled and reason:
            body['disabled_reason'] = reason
        self.admin_api.put_service(service['id'], body)

    @staticmethod
    def wait_until(predicate, timeout=DEFAULT_TIMEOUT, what='a condition'):
        """Poll ``predicate()`` every 50 ms until it is true.

        :param what: text (or a callable returning it) for the timeout message.
        :raises EmbeddedNovaTimeout: not true after ``timeout`` seconds.
        """
        if not polling.until(predicate, timeout, POLL_INTERVAL):
            raise EmbeddedNovaTimeout(
                'Timed out after %.0f s waiting for %s' % (
                    timeout, what() if callable(what) else what))

    _wait = wait_until  # the first users called it by this name
