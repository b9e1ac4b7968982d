"""Compute hosts on Nova's libvirt driver over Nova's fake libvirt.

Every compute runs the real ``LibvirtDriver`` and a live migration Nova's
whole code path; only the hypervisor is fake (domains move between fake
connections here). How, and present-day hardware:
``doc/source/contributor/simulator.rst``.
"""

import dataclasses
import io
from unittest import mock
import urllib.parse
import uuid

import fixtures
from nova.tests import fixtures as nova_fixtures
from nova.tests.fixtures import libvirt as fakelibvirt
from nova.virt.libvirt import driver as libvirt_driver
from oslo_utils import versionutils

from sod_nova.catalog import guest as guest_mod
from sod_nova.trust import platform as platform_mod

# Stable per host name, so the same host keeps its compute node UUID from run to run.
_NODE_UUID_NAMESPACE = uuid.UUID('5b1f3c52-1b7a-4c55-9a55-50d3a9c4a1e7')


#: libvirt that can boot a guest on stateless firmware, which Nova 34 needs
#: for SEV-SNP and TDX guests (it reports COMPUTE_SECURITY_STATELESS_FIRMWARE).
STATELESS_FIRMWARE_LIBVIRT = versionutils.convert_version_to_int(
    libvirt_driver.MIN_LIBVIRT_STATELESS_FIRMWARE)
#: Where a fake connection keeps its kernel's ``kvm_amd`` parameters
#: (``/sys/module/kvm_amd/parameters/{sev,sev_es,sev_snp}`` on a real host).
_KVM_AMD = 'sod_kvm_amd_parameters'


@dataclasses.dataclass(frozen=True)
class Hardware:
    """What a host's (fake) libvirt and kernel offer guests beyond an
    ordinary x86 server."""

    amd_sev_snp: bool = False
    intel_tdx: bool = False
    vtpm: bool = False

    @property
    def stateless_firmware(self):
        return self.amd_sev_snp or self.intel_tdx

    @property
    def guest_features(self):
        """The guest launch features (:mod:`sod_nova.catalog.guest`) a guest
        can be launched with here, sorted."""
        return sorted(name for name, offered in (
            (guest_mod.AMD_SEV_SNP, self.amd_sev_snp),
            (guest_mod.INTEL_TDX, self.intel_tdx),
            (guest_mod.VTPM, self.vtpm)) if offered)

    def apply(self, connection):
        """Make ``connection`` report this hardware, as Nova's functional
        tests patch ``virConnect``'s class attributes for a whole test,
        but on this one connection."""
        if self.amd_sev_snp:
            # SEV-ES is off: Nova ignores it where SNP is found.
            setattr(connection, _KVM_AMD,
                    {'sev': True, 'sev-es': False, 'sev-snp': True})
            connection._domain_capability_features = (
                fakelibvirt.virConnect.
                _domain_capability_features_with_launch_security_SEV_SNP)
        elif self.intel_tdx:
            connection._domain_capability_features = (
                fakelibvirt.virConnect._domain_capability_features_with_TDX)
        if self.vtpm:
            connection._domain_capability_tpm = (
                fakelibvirt.virConnect._domain_capability_tpm_supported)


ORDINARY = Hardware()


def _kernel_supports_amd_sev(host, model='sev'):
    """``Host._kernel_supports_amd_sev`` read from the host's own (fake)
    kernel parameters instead of this machine's ``/sys``."""
    return getattr(host.get_connection(), _KVM_AMD, {}).get(model, False)


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
        # Cold migration and resize: the guests have no disk files (image
        # creation is stubbed, as in Nova's functional tests), so there is
        # nothing to copy; the guest is powered off as the driver does, and
        # finish_migration defines it on the destination's connection.
        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.libvirt.driver.LibvirtDriver.migrate_disk_and_power_off',
            _migrate_disk_and_power_off))
        # Per host, instead of the LibvirtFixture's one answer for all.
        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.libvirt.host.Host._kernel_supports_amd_sev',
            _kernel_supports_amd_sev))
        # Checks this machine's swtpm user and group, as Nova's test_vtpm
        # stubs it. Every compute shares one nova.conf ([libvirt]
        # swtpm_enabled); only a host whose libvirt reports an emulated TPM
        # reports the COMPUTE_SECURITY_TPM_TIS/CRB traits a vTPM guest needs.
        self.useFixture(fixtures.MockPatch(
            'nova.virt.libvirt.driver.LibvirtDriver._check_vtpm_support'))

    def start_compute(self, start_service, hostname, host_info=None,
                      hardware=ORDINARY):
        """Start one compute service on its own fake libvirt connection.

        :param start_service: ``callable(hostname) -> Service`` that creates
            and starts the ``nova-compute`` service (cell, host mapping, ...).
        :param host_info: a ``fakelibvirt.HostInfo``; by default 2 NUMA nodes x
            2 cores x 2 threads, 16 GiB.
        :param hardware: the host's :class:`Hardware`.
        :returns: the started ``nova.service.Service``.
        """
        host_info = host_info or fakelibvirt.HostInfo(
            cpu_nodes=2, cpu_sockets=1, cpu_cores=2, cpu_threads=2)
        # The same QEMU everywhere (Nova refuses a live migration to an
        # older hypervisor version); a newer libvirt where guests need
        # stateless firmware.
        connection = fakelibvirt.Connection(
            'qemu:///system',
            version=(STATELESS_FIRMWARE_LIBVIRT if hardware.stateless_firmware
                     else fakelibvirt.FAKE_LIBVIRT_VERSION),
            hv_version=fakelibvirt.FAKE_QEMU_VERSION, host_info=host_info,
            hostname=hostname)
        hardware.apply(connection)
        with mock.patch('nova.virt.node.get_local_node_uuid',
                        return_value=node_uuid(hostname)), _tdx_config(hardware):
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


class HostPlatform(platform_mod.LibvirtPlatform):
    """The trust agent's libvirt reader over a host's fake connection.

    The production reader (``[sod_trust] libvirt_uri``), its parsing and its
    report, on the connection Nova's driver of that host uses, instead of a
    libvirtd: the monitor checks the host's claimed architecture against the
    same domain capabilities Nova detected the hardware from.
    """

    def __init__(self, connection):   # no libvirt-python needed
        self._libvirt = fakelibvirt
        self.uri, self.virt_type, self.arch = 'qemu:///system', 'kvm', 'x86_64'
        self._conn = connection
        self._capabilities = None

    def close(self):
        """The connection is the compute service's: nothing to close."""


def platform_of(service):
    """A :class:`HostPlatform` for a compute ``service`` started here."""
    return HostPlatform(service.driver._host.get_connection())


def _migrate_disk_and_power_off(driver, context, instance, dest, flavor,
                                network_info, block_device_info=None,
                                timeout=0, retry_interval=0):
    """``LibvirtDriver.migrate_disk_and_power_off`` for disk-less guests:
    what Nova's functional tests stub to ``'{}'``, less the part they skip
    (the guest is powered off and its ports unplugged on the source). The
    instance directory is shared, as Nova sees it: no disk, no vTPM state
    to copy. Returns the (empty) list of disks copied."""
    driver.power_off(instance, timeout, retry_interval)
    driver.unplug_vifs(instance, network_info)
    return '[]'


def _tdx_config(hardware):
    """The nova.conf a TDX host starts with: Nova 34 detects TDX only with
    ``[libvirt] cpu_mode = host-passthrough`` (``Host.supports_intel_tdx``,
    read once, when the service reports its resources at start). The
    embedded computes share one nova.conf, so the TDX host has it while it
    starts, and every host keeps the shared CPU mode otherwise."""
    if not hardware.intel_tdx:
        return fixtures.Fixture()   # nothing to patch
    return nova_fixtures.ConfPatcher(cpu_mode='host-passthrough', group='libvirt')
