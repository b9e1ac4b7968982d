"""Trusted hosts' capabilities as traits on their compute resource
providers, through real Placement (the embedded cloud's), and a flavor
that pre-filters with them."""

from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint
import pytest

from sod_nova.cloud import embedded
from sod_nova.cloud import fleet as fleet_mod
from sod_nova.trust import traits

HYPERVISOR_C = 'CUSTOM_SOD_HYPERVISOR_C'


@pytest.fixture(scope='module')
def cloud():
    with embedded.EmbeddedCloud(relocation=False) as cloud:
        endpoint = cloud.nova.placement.fixture.endpoint
        session = ks_session.Session(
            auth=token_endpoint.Token(endpoint, 'admin'))
        publisher = traits.TraitPublisher(
            cloud.conf, traits.Placement(session, endpoint))
        cloud.fleet.monitor.add_listener(publisher.trust_changed)
        publisher.start()
        try:
            cloud.add_host('hw1', 'HyperWall')
            cloud.add_host('snp1', 'AMD-SEV-SNP')
            cloud.publisher = publisher
            yield cloud
        finally:
            publisher.stop()


def provider_traits(cloud, host):
    uuid = cloud.nova.compute_rp_uuid(host)
    return set(cloud.nova.placement.get(
        '/resource_providers/%s/traits' % uuid, version='1.6'
    ).body['traits'])


def published(cloud, host, present):
    """Wait until the provider of ``host`` shows (or lacks) the SoD traits."""
    def done():
        cloud.publisher.flush()
        has = bool(provider_traits(cloud, host) & traits.ALL_CUSTOM)
        return has == present
    return fleet_mod.wait_for(done, timeout=60, interval=0.1)


def test_trusted_hosts_carry_the_traits_of_their_cells(cloud):
    assert published(cloud, 'hw1', True)
    assert published(cloud, 'snp1', True)
    hw1 = provider_traits(cloud, 'hw1')
    row = cloud.host_row('hw1')
    expected = traits.traits_for(row, row.last_evidence_at)
    assert expected and hw1 & traits.ALL_CUSTOM == expected
    assert HYPERVISOR_C in hw1
    snp1 = provider_traits(cloud, 'snp1')
    assert 'HW_CPU_X86_AMD_SEV_SNP' in snp1
    assert any(t.startswith('COMPUTE_') for t in snp1)   # Nova's own, kept


def test_losing_trust_removes_them_and_recovery_restores_them(cloud):
    assert published(cloud, 'hw1', True)
    nova_traits = provider_traits(cloud, 'hw1') - traits.ALL_CUSTOM
    cloud.fleet.backend('hw1').start_attack()
    try:
        cloud.wait_for_state('hw1', ('untrusted',))
        assert published(cloud, 'hw1', False)
        assert provider_traits(cloud, 'hw1') == nova_traits
    finally:
        cloud.fleet.backend('hw1').stop_attack()
    cloud.wait_for_state('hw1', ('trusted',))
    assert published(cloud, 'hw1', True)


def test_a_flavor_can_pre_filter_with_a_trait(cloud):
    assert published(cloud, 'hw1', True)
    assert published(cloud, 'snp1', True)
    cloud.fleet.backend('hw1').start_attack()
    try:
        cloud.wait_for_state('hw1', ('untrusted',))
        assert published(cloud, 'hw1', False)
        flavor = cloud.nova.create_flavor(
            {'trait:%s' % HYPERVISOR_C: 'required'})
        server = cloud.nova.create_server(flavor=flavor)
        assert server['status'] == 'ACTIVE'
        assert server['OS-EXT-SRV-ATTR:host'] == 'snp1'
        cloud.nova.admin_api.delete_server(server['id'])
    finally:
        cloud.fleet.backend('hw1').stop_attack()
    cloud.wait_for_state('hw1', ('trusted',))


class RacedPlacement(traits.Placement):
    """Real Placement, with another writer (as Nova's resource tracker is)
    changing the provider's traits right after each of the first ``races``
    reads, so that the publisher's write meets a new generation."""

    def __init__(self, session, endpoint, races):
        super().__init__(session, endpoint)
        self.races = races

    def traits(self, uuid):
        current, generation = super().traits(uuid)
        if self.races:
            self.races -= 1
            other = 'CUSTOM_OTHER_WRITER_%d' % self.races
            self.ensure_trait(other)
            assert super().set_traits(uuid, current | {other}, generation)
        return current, generation


def test_a_generation_conflict_is_read_again_and_retried_a_bounded_number_of_times(cloud):
    assert published(cloud, 'hw1', True)
    endpoint = cloud.nova.placement.fixture.endpoint
    session = ks_session.Session(auth=token_endpoint.Token(endpoint, 'admin'))
    uuid = cloud.nova.compute_rp_uuid('hw1')
    cleared = provider_traits(cloud, 'hw1') - traits.ALL_CUSTOM
    placement = traits.Placement(session, endpoint)
    _, generation = placement.traits(uuid)
    assert placement.set_traits(uuid, cleared, generation)

    raced = RacedPlacement(session, endpoint, races=2)
    publisher = traits.TraitPublisher(cloud.conf, raced)
    wanted = publisher.sync('hw1')
    assert wanted and provider_traits(cloud, 'hw1') >= wanted | {
        'CUSTOM_OTHER_WRITER_0', 'CUSTOM_OTHER_WRITER_1'}   # theirs kept

    _, generation = placement.traits(uuid)
    assert placement.set_traits(uuid, cleared, generation)
    always = RacedPlacement(session, endpoint, races=publisher.RETRIES)
    with pytest.raises(traits.PlacementError,
                       match='hw1: traits changed under us 5 times'):
        traits.TraitPublisher(cloud.conf, always).sync('hw1')
