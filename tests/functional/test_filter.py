"""SecurityOnDemandFilter in real Nova 34: API, conductor, scheduler, 7 computes.

The filter is enabled by class path as an operator does it; a weigher prefers
hosts in the order of ``WEIGHTS`` — the wrong ones first — so wherever a
server lands, the filter is what decided. Host rows are written through
sod_nova.db.api exactly as the trust monitor writes them.
"""

import datetime
import json

from nova.scheduler import weights
from nova.tests.functional.api import client
import pytest

from sod_nova.catalog import Catalog
from sod_nova.cloud import nova as nova_mod
from sod_nova.cloud.nova import EmbeddedNova
from sod_nova.conf import CONF
from sod_nova.db import api as db_api
from sod_nova.db import migration as db_migration
from sod_nova.db import rejections as db_rejections

CTX = db_api.Context()

FILTER = 'sod_nova.scheduler.filters.SecurityOnDemandFilter'
WEIGHER = '%s.PreferenceWeigher' % __name__

#: host: (architecture, trust state, evidence age in seconds), most preferred
#: first. The three Cell hosts would satisfy almost anything, but their rows
#: are untrusted, stale or never verified. 'sev' is an SEV-SNP host (its fake
#: libvirt reports SNP): it protects only guests launched as SNP VMs.
HOSTS = {
    'tpm': ('TPM', 'trusted', 0),
    'cell-bad': ('Cell', 'untrusted', 0),
    'cell-old': ('Cell', 'trusted', 7200),
    'cell-new': ('Cell', None, None),        # declared, never verified
    'hw': ('HyperWall', 'trusted', 0),
    'ds': ('DataSafe', 'trusted', 0),
    'sev': ('AMD-SEV-SNP', 'trusted', 0),
    'hw2': ('HyperWall', 'trusted', 0),
}
SNP = {'hw:mem_encryption': 'true', 'hw:mem_encryption_model': 'amd-sev-snp'}
WEIGHTS = {host: 100 - 10 * i for i, host in enumerate(HOSTS)}
CATALOG = Catalog.load()


class PreferenceWeigher(weights.BaseHostWeigher):
    """Prefers hosts in ``HOSTS`` order, whatever the VM asked for."""

    def _weigh_object(self, host_state, weight_properties):
        return WEIGHTS.get(host_state.host, 0)


def set_row(host, state=None, age=0):
    """Write a host row as the monitor does (declare, then its verdict)."""
    architecture = HOSTS[host][0]
    db_api.host_declare(CTX, host, architecture)
    if state is not None:
        evidence = (datetime.datetime.now(datetime.UTC)
                    - datetime.timedelta(seconds=age))
        db_api.host_set_trust(
            CTX, host, state, 'set by the test',
            CATALOG.capability_mask(architecture),
            last_evidence_at=evidence, architecture=architecture,
            monitor='test-monitor', valid_until=db_api.evidence_valid_until(
                evidence, CONF.sod_trust.evidence_max_age))


@pytest.fixture(scope='module')
def cloud(tmp_path_factory):
    url = 'sqlite:///%s/sod.sqlite' % tmp_path_factory.mktemp('sod')
    with EmbeddedNova(
            extra_filters=[FILTER], weighers=[WEIGHER],
            conf_overrides={('sod_database', 'connection'): url,
                            ('sod_filter', 'host_cache_seconds'): 0,
                            ('sod_trust', 'evidence_max_age'): 3600,
                            ('quota', 'instances'): -1,
                            ('quota', 'cores'): -1,
                            ('quota', 'ram'): -1}) as nova:
        db_migration.sync(CONF)
        for host, (_, state, age) in HOSTS.items():
            nova.start_compute(host, hardware=nova_mod.Hardware(
                amd_sev_snp=True) if host == 'sev' else None)
            set_row(host, state, age)
        yield nova
    db_api.dispose()


def boot(cloud, **kwargs):
    server = cloud.create_server(**kwargs)
    return server, server['OS-EXT-SRV-ATTR:host']


def assert_rejected(cloud, server):
    assert server['status'] == 'ERROR'
    # The fault is written just after the server is buried in cell0.
    cloud._wait(lambda: 'fault' in cloud.get_server(server), 10,
                'the fault of server %s' % server['id'])
    assert 'No valid host was found' in cloud.get_server(server)['fault']['message']
    rejection = db_rejections.get(CTX, server['id'])
    assert rejection is not None
    return rejection.reason


def test_no_request_lands_where_the_weigher_prefers(cloud):
    server, host = boot(cloud)
    assert host == 'tpm'
    assert db_rejections.get(CTX, server['id']) is None


def test_flavor_extra_spec(cloud):
    flavor = cloud.create_flavor(extra_specs={'sod:options': '1,2'})
    _, host = boot(cloud, flavor=flavor)
    assert host == 'hw'


def test_image_property(cloud):
    # The request only in the instance's system metadata (image_sod:*), not
    # in the RequestSpec's ImageMetaProps; the image launches an SNP guest.
    _, host = boot(cloud, image_properties=dict(
        nova_mod.guest_image_properties(SNP), hw_mem_encryption='True',
        hw_mem_encryption_model='amd-sev-snp',
        **{'sod:options': '1,2,3', 'sod:properties': 'C'}))
    assert host == 'sev'


def test_instance_metadata_package(cloud):
    _, host = boot(cloud, metadata={'sod:package': 'medical-records'})
    assert host == 'ds'


def test_scheduler_hint(cloud):
    _, host = boot(cloud, scheduler_hints={'sod_options': '5'})
    assert host == 'ds'


def test_union_of_flavor_and_metadata(cloud):
    flavor = cloud.create_flavor(extra_specs=dict(SNP, **{'sod:options': '1'}))
    _, host = boot(cloud, flavor=flavor,
                   image_properties=nova_mod.guest_image_properties(SNP),
                   metadata={'sod:options': '3', 'sod:properties': 'C'})
    assert host == 'sev'


def test_an_ordinary_guest_is_never_placed_on_the_snp_host(cloud):
    # SEV-SNP would protect C against HW attacks for an SNP guest only.
    server, _ = boot(cloud, metadata={'sod:options': '3', 'sod:properties': 'C'})
    reason = assert_rejected(cloud, server)
    assert ('AMD-SEV-SNP protects C against HW attacks only for a guest '
            'launched with hw:mem_encryption=true, '
            'hw:mem_encryption_model=amd-sev-snp') in reason


def test_untrusted_stale_and_unverified_hosts_are_never_chosen(cloud):
    # Hypervisor + Same OS: only the Cell hosts have both.
    server, _ = boot(cloud, metadata={'sod:options': '2,5'})
    reason = assert_rejected(cloud, server)
    assert ('closest, 2 unmet cells each: DataSafe lacks C, I against '
            'Hypervisor; HyperWall lacks C, I against Same OS') in reason
    assert '5 of 8 hosts trusted with fresh evidence' in reason
    assert ('would satisfy it if trusted: cell-bad (untrusted: set by the '
            'test); cell-new (unreachable: no verified evidence yet); cell-old '
            '(unreachable: evidence valid until ') in reason
    assert ('Instance %s: no host satisfies' % server['id']) in cloud.log_output


def test_malformed_metadata_fails_closed(cloud):
    server, _ = boot(cloud, metadata={'sod:options': '4'})
    reason = assert_rejected(cloud, server)
    assert reason.startswith('malformed security request (instance metadata '
                             'sod:options: option 4 (Cloud Manager) is '
                             'refused')
    assert 'held to the strictest request' in reason


def test_trust_loss_changes_the_choice(cloud):
    set_row('hw', 'untrusted')
    try:
        _, host = boot(cloud, metadata={'sod:options': '1,2'})
    finally:
        set_row('hw', 'trusted')
    assert host == 'hw2'    # the SNP host protects no ordinary guest


def test_live_migration_goes_only_to_a_satisfying_host(cloud):
    server, source = boot(cloud, metadata={'sod:options': '1,2'})
    assert source == 'hw'
    migration = cloud.live_migrate(server, host=None)
    assert migration['status'] == 'completed'
    assert cloud.server_host(server) == 'hw2'


def test_live_migration_keeps_every_source_of_the_request(cloud):
    # Metadata alone (Other VMs) would let DataSafe win the weigher; the image
    # adds Hypervisor, read again from the cell's instance at the migration.
    server, source = boot(cloud, metadata={'sod:options': '1'},
                          image_properties={'sod:options': '2'})
    assert source == 'hw'
    migration = cloud.live_migrate(server, host=None)
    assert migration['status'] == 'completed'
    assert cloud.server_host(server) == 'hw2'


def test_live_migration_refused_when_no_other_host_satisfies(cloud):
    server, source = boot(cloud, metadata={'sod:package': 'medical-records'})
    assert source == 'ds'
    migration = cloud.live_migrate(server, host=None)
    assert migration['status'] == 'error'
    after = cloud.get_server(server)
    assert (after['status'], after['OS-EXT-SRV-ATTR:host']) == ('ACTIVE', 'ds')
    reason = db_rejections.get(CTX, server['id']).reason
    assert 'closest' in reason


@pytest.mark.parametrize('key, value, message', [
    ('sod:options', '4', 'option 4 (Cloud Manager) is refused'),
    ('sod:options', '9', '9 is not an option (1-7)'),
    ('sod:package', 'nope', "'nope' is not a security package"),
    ('sod:optionz', '1', "extra spec 'sod:optionz' does not appear to be a valid"),
])
def test_flavor_extra_spec_validation_400(cloud, key, value, message):
    flavor = cloud.create_flavor()
    with pytest.raises(client.OpenStackApiException) as info:
        cloud.admin_api.post_extra_spec(flavor, {'extra_specs': {key: value}})
    assert info.value.response.status_code == 400
    body = json.loads(info.value.response.content)
    assert message in body['badRequest']['message']


def test_flavor_extra_spec_validation_accepts_good_values(cloud):
    flavor = cloud.create_flavor()
    specs = {'sod:options': '1,2', 'sod:properties': 'C',
             'sod:package': 'basic', 'sod:moving_target': '600'}
    cloud.admin_api.post_extra_spec(flavor, {'extra_specs': specs})
    assert cloud.admin_api.get_flavor(flavor)['extra_specs'] == specs
