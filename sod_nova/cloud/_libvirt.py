"""Compute hosts on Nova's libvirt driver over Nova's fake libvirt.

Reproduces the environment of ``nova.tests.functional.libvirt.base``
(``ServersTestBase.setUp`` and ``start_compute``) without a test case, so every
compute service runs the real ``LibvirtDriver`` and a live migration runs Nova's
whole code path (conductor task, scheduler, pre/post live migration on both
computes, placement allocations, port bindings). Only the hypervisor is fake.

The one thing fake libvirt cannot do by itself is move a domain between two
fake connections: ``Domain.migrateToURI3`` always fails. Like
``LibvirtMigrationMixin._migrate_stub`` we replace it, generically: the
destination host is read from the migration URI Nova built
(``qemu+tcp://<dest>/system``); the domain is defined and started on that host's
fake connection (paused if it was paused) and removed from the source, as
libvirt does for the flags Nova sets; then the source job is marked completed so
Nova's monitor loop sees a finished migration.
"""

import io
from unittest import mock
import urllib.parse
import uuid

import fixtures
from nova.tests import fixtures as nova_fixtures
from nova.tests.fixtures import libvirt as fakelibvirt

# Stable per host name, so the same host keeps its compute node UUID from run to run.
_NODE_UUID_NAMESPACE = uuid.UUID('5b1f3c52-1b7a-4c55-9a55-50d3a9c4a1e7')


def node_uuid(hostname):
    """The compute node (and resource provider) UUID of ``hostname``."""
    return str(uuid.uuid5(_NODE_UUID_NAMESPACE, hostname))


class FakeLibvirtEnvironment(fixtures.Fixture):
    """Stubs the host-level calls of the libvirt driver, as ServersTestBase does.

    :param computes: the live mapping host name -> compute ``Service``; used to
        find the destination of a live migration.
    """

    def __init__(self, computes):
        super().__init__()
        self._computes = computes

    def _setUp(self):
        self.useFixture(nova_fixtures.LibvirtImageBackendFixture())
        self.useFixture(nova_fixtures.CGroupsFixture())
        self.libvirt = self.useFixture(nova_fixtures.LibvirtFixture())
        self.useFixture(nova_fixtures.OSBrickFixture())
        patches = {
            # No images on disk, and a fixed disk size for placement inventory.
            'nova.virt.libvirt.LibvirtDriver._create_image': {
                'return_value': (False, False)},
            'nova.virt.libvirt.LibvirtDriver._get_local_gb_info': {
                'return_value': {'total': 128, 'used': 44, 'free': 84}},
            # Host names like "hw1" go into migration URIs.
            'nova.virt.libvirt.driver.libvirt_utils.is_valid_hostname': {
                'return_value': True},
            'nova.virt.libvirt.driver.libvirt_utils.file_open': {
                'side_effect': lambda *a, **k: io.BytesIO(b'')},
            'nova.privsep.utils.supports_direct_io': {'return_value': True},
            'nova.virt.libvirt.host.Host.get_online_cpus': {
                'return_value': set(range(16))},
        }
        for target, kwargs in patches.items():
            self.useFixture(fixtures.MockPatch(target, **kwargs))
        # Each compute gets its own fake connection: this global mock only
        # serves while a compute service starts (see start_compute below).
        self._get_connection = self.useFixture(fixtures.MockPatch(
            'nova.virt.libvirt.host.Host.get_connection')).mock
        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.libvirt.Domain.migrateToURI3', self._migrate))

    def start_compute(self, start_service, hostname, host_info=None):
        """Start one compute service on its own fake libvirt connection.

        :param start_service: ``callable(hostname) -> Service`` that creates
            and starts the ``nova-compute`` service (cell, host mapping, ...).
        :param host_info: a ``fakelibvirt.HostInfo``; by default 2 NUMA nodes x
            2 cores x 2 threads, 16 GiB.
        :returns: the started ``nova.service.Service``.
        """
        host_info = host_info or fakelibvirt.HostInfo(
            cpu_nodes=2, cpu_sockets=1, cpu_cores=2, cpu_threads=2)
        connection = fakelibvirt.Connection(
            'qemu:///system', version=fakelibvirt.FAKE_LIBVIRT_VERSION,
            hv_version=fakelibvirt.FAKE_QEMU_VERSION, host_info=host_info,
            hostname=hostname)
        with mock.patch('nova.virt.node.get_local_node_uuid',
                        return_value=node_uuid(hostname)):
            self._get_connection.return_value = connection
            try:
                service = start_service(hostname)
            finally:
                self._get_connection.return_value = None
            service.driver._host.get_connection = lambda: connection
            # Let libvirt.Host capture the node UUID while it is mocked.
            service.driver._host.get_node_uuid()
        return service

    def _migrate(self, domain, destination, params, flags):
        dest_host = urllib.parse.urlparse(destination).hostname
        dest = self._computes.get(dest_host)
        if dest is None:
            domain.fail_job()
            raise fakelibvirt.make_libvirtError(
                fakelibvirt.libvirtError,
                'embedded cloud: no compute service named %r' % dest_host,
                error_code=fakelibvirt.VIR_ERR_INTERNAL_ERROR,
                error_domain=fakelibvirt.VIR_FROM_QEMU)
        # What libvirt does with the flags Nova always sets (PERSIST_DEST,
        # UNDEFINE_SOURCE): the domain is defined and running (or paused, as
        # it was) on the destination and forgotten by the source. Nova skips
        # its own source clean-up on shared storage, so without this a ghost
        # domain would stay behind on the source.
        xml = params['destination_xml']
        dest_conn = dest.driver._host.get_connection()
        if flags & fakelibvirt.VIR_MIGRATE_PERSIST_DEST:
            moved = dest_conn.defineXML(xml)
            moved.create()
        else:
            moved = dest_conn.createXML(xml, 0)
        if domain.info()[0] == fakelibvirt.VIR_DOMAIN_PAUSED:
            moved.suspend()
        if flags & fakelibvirt.VIR_MIGRATE_UNDEFINE_SOURCE:
            domain.destroy()  # a transient domain is undefined with it
            try:
                domain.undefine()
            except KeyError:  # fake libvirt: already gone with destroy()
                pass
        # Last: Nova's monitor treats the migration as finished from here on.
        domain.complete_job()
