"""Trusted hosts' protection as sod-nova traits on their compute resource
providers, through real Placement (the embedded cloud's), with Nova's
compute service reporting its own traits on the same providers: no trait
flaps over full update cycles (nor when Nova writes from a stale copy of a
provider the publisher changed), an SNP host carries only its attested trait,
a flavor pre-filtering on a cell trait never lands on it, and the standard
traits an earlier release wrote are taken off once."""

from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint
from nova import context as nova_context
from nova import objects
import pytest

from sod_nova.cloud import embedded
from sod_nova.cloud import fleet as fleet_mod
from sod_nova.compliance import rule as rule_mod
from sod_nova.trust import traits

HYPERVISOR_C = 'CUSTOM_SOD_HYPERVISOR_C'
SNP_ATTESTED = 'CUSTOM_SOD_ATTESTED_AMD_SEV_SNP'
DISABLED = 'COMPUTE_STATUS_DISABLED'
HOSTS = ('hw1', 'snp1')


def placement_of(cloud):
    endpoint = cloud.nova.placement.fixture.endpoint
    session = ks_session.Session(auth=token_endpoint.Token(endpoint, 'admin'))
    return traits.Placement(session, endpoint)


@pytest.fixture(scope='module')
def cloud():
    with embedded.EmbeddedCloud(relocation=False) as cloud:
        publisher = traits.TraitPublisher(
            cloud.conf, placement_of(cloud), cloud.catalog)
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


def ours(names):
    return {t for t in names if traits.is_ours(t)}


def tree(cloud, host):
    """``{provider name: (traits, generation)}`` of ``host``'s provider tree
    (the root Nova and the publisher share, and Nova's children)."""
    root = cloud.nova.compute_rp_uuid(host)
    providers = cloud.nova.placement.get(
        '/resource_providers?in_tree=%s' % root, version='1.14'
    ).body['resource_providers']
    found = {}
    for rp in providers:
        body = cloud.nova.placement.get(
            '/resource_providers/%s/traits' % rp['uuid'], version='1.6').body
        found[rp['name']] = (frozenset(body['traits']),
                             body['resource_provider_generation'])
    return found


def nova_update(cloud, host):
    """One run of the compute's periodic resource update for ``host``: its
    libvirt driver's ``update_provider_tree`` and the report client's writes
    to Placement, as every ``update_resources_interval``."""
    ctxt = nova_context.get_admin_context()
    cell = cloud.nova.cell_mappings['cell1']
    with nova_context.target_cell(ctxt, cell) as cctxt:
        cloud.nova.computes[host].manager.update_available_resource(cctxt)


def earned(cloud, host):
    row = cloud.host_row(host)
    return traits.traits_for(rule_mod.Rule(cloud.catalog), row,
                             row.last_evidence_at)


def published(cloud, host, present):
    """Wait until ``host``'s provider shows (or lacks) the traits its row
    earns."""
    def done():
        cloud.publisher.flush()
        has = ours(provider_traits(cloud, host))
        return (has == earned(cloud, host) and has) if present else not has
    return fleet_mod.wait_for(done, timeout=60, interval=0.1)


SNP_GUEST = {'hw:mem_encryption': 'true',
             'hw:mem_encryption_model': 'amd-sev-snp'}
#: What Nova 34 needs of the image of an SEV-SNP guest (test_amd_sev.py).
SNP_IMAGE = {'hw_firmware_type': 'uefi', 'hw_machine_type': 'q35',
             'hw_firmware_stateless': True}


def require_nova_snp(cloud, host):
    """Fail, with the reason, unless Nova's own driver reports SEV-SNP for
    ``host``: the embedded cloud's libvirt reports it for an AMD-SEV-SNP
    host (sod_nova.cloud._libvirt.Hardware), so a host without it is a
    broken cloud, not a test to skip."""
    inventories = cloud.nova.computes[host].manager.driver._host \
        .get_mem_encryption_inventories()
    assert inventories.get('amd_sev_snp', {}).get('supported'), (
        "%s's libvirt does not report SEV-SNP to Nova's driver (its memory "
        'encryption inventories: %r), so Nova reports no '
        'HW_CPU_X86_AMD_SEV_SNP and places no SNP guest there; the embedded '
        "cloud's AMD-SEV-SNP hosts must report it (sod_nova.cloud._libvirt."
        'Hardware)' % (host, inventories))


def test_trusted_hosts_carry_what_they_protect_for_any_guest(cloud):
    assert published(cloud, 'hw1', True)
    assert published(cloud, 'snp1', True)
    hw1 = provider_traits(cloud, 'hw1')
    assert HYPERVISOR_C in hw1 and not any(
        t.startswith(traits.ATTESTED_PREFIX) for t in hw1)
    snp1 = provider_traits(cloud, 'snp1')
    assert ours(snp1) == {SNP_ATTESTED}
    assert HYPERVISOR_C not in snp1
    assert not snp1 & traits.LEGACY_STANDARD
    assert any(t.startswith('COMPUTE_') for t in snp1)   # Nova's own, kept


def test_nova_reports_sev_snp_on_its_own_provider_untouched(cloud):
    require_nova_snp(cloud, 'snp1')
    assert published(cloud, 'snp1', True)
    nova_update(cloud, 'snp1')
    cloud.publisher.sync('snp1')
    found = tree(cloud, 'snp1')
    child = found['snp1_amd_sev_snp'][0]
    assert 'HW_CPU_X86_AMD_SEV_SNP' in child and 'OWNER_NOVA' in child
    assert not ours(child)
    assert 'HW_CPU_X86_AMD_SEV_SNP' not in found['snp1'][0]


def test_nova_and_the_publisher_share_a_provider_without_flapping(cloud):
    for host in HOSTS:
        assert published(cloud, host, True)
        nova_update(cloud, host)
        cloud.publisher.sync(host)
    settled = {host: tree(cloud, host) for host in HOSTS}
    for _cycle in range(2):
        for host in HOSTS:
            nova_update(cloud, host)
            assert tree(cloud, host) == settled[host]   # not even a write
            assert cloud.publisher.sync(host) == earned(cloud, host)
            assert tree(cloud, host) == settled[host]


def test_a_trust_change_moves_only_sod_traits_through_nova_updates(cloud):
    assert published(cloud, 'hw1', True)
    nova_update(cloud, 'hw1')
    before = provider_traits(cloud, 'hw1')
    nova_traits = before - ours(before)
    cloud.fleet.backend('hw1').start_attack()
    try:
        cloud.wait_for_state('hw1', ('untrusted',))
        assert published(cloud, 'hw1', False)
        lost = tree(cloud, 'hw1')
        assert lost['hw1'][0] == nova_traits
        nova_update(cloud, 'hw1')
        assert tree(cloud, 'hw1') == lost
    finally:
        cloud.fleet.backend('hw1').stop_attack()
    cloud.wait_for_state('hw1', ('trusted',))
    assert published(cloud, 'hw1', True)
    back = tree(cloud, 'hw1')
    assert back['hw1'][0] == before
    nova_update(cloud, 'hw1')
    assert tree(cloud, 'hw1') == back


def set_service_disabled(cloud, host, disabled):
    """Record the compute service of ``host`` disabled (or not) as Nova's
    API does, without the API's call to the compute (as when that compute
    was unreachable): its resource tracker then reports
    COMPUTE_STATUS_DISABLED from its own cached copy of the provider."""
    ctxt = nova_context.get_admin_context()
    cell = cloud.nova.cell_mappings['cell1']
    with nova_context.target_cell(ctxt, cell) as cctxt:
        service = objects.Service.get_by_compute_host(cctxt, host)
        service.disabled = disabled
        service.save()


def refused_trait_writes(cloud, host):
    """How many trait writes to ``host``'s provider Placement has refused
    for a stale generation (its request log, which the cloud keeps)."""
    return cloud.nova.log_output.count(
        '"PUT /placement/resource_providers/%s/traits" status: 409'
        % cloud.nova.compute_rp_uuid(host))


def test_nova_writing_from_a_stale_copy_keeps_the_publishers_traits(cloud):
    assert published(cloud, 'hw1', True)
    nova_update(cloud, 'hw1')           # Nova's copy of the provider: current
    before = provider_traits(cloud, 'hw1')
    nova_own = before - ours(before)
    refused = refused_trait_writes(cloud, 'hw1')
    cloud.fleet.backend('hw1').start_attack()
    try:
        cloud.wait_for_state('hw1', ('untrusted',))
        assert published(cloud, 'hw1', False)   # Nova's copy: stale
        set_service_disabled(cloud, 'hw1', True)
        nova_update(cloud, 'hw1')
        # Nova wrote from its stale copy, was refused, read again.
        assert refused_trait_writes(cloud, 'hw1') > refused
        assert provider_traits(cloud, 'hw1') == nova_own | {DISABLED}
    finally:
        cloud.fleet.backend('hw1').stop_attack()
        try:
            cloud.wait_for_state('hw1', ('trusted',))
            assert published(cloud, 'hw1', True)   # Nova's copy: stale
        finally:
            set_service_disabled(cloud, 'hw1', False)
            nova_update(cloud, 'hw1')
    assert provider_traits(cloud, 'hw1') == before


def boot(cloud, trait):
    flavor = cloud.nova.create_flavor({'trait:%s' % trait: 'required'})
    return cloud.nova.create_server(flavor=flavor)


def test_a_flavor_pre_filtering_on_a_cell_trait_never_lands_on_snp(cloud):
    assert published(cloud, 'hw1', True)
    assert published(cloud, 'snp1', True)
    server = boot(cloud, HYPERVISOR_C)
    assert server['status'] == 'ACTIVE'
    assert server['OS-EXT-SRV-ATTR:host'] == 'hw1'
    cloud.nova.delete_server(server)
    cloud.fleet.backend('hw1').start_attack()
    try:
        cloud.wait_for_state('hw1', ('untrusted',))
        assert published(cloud, 'hw1', False)
        server = boot(cloud, HYPERVISOR_C)
        assert server['status'] == 'ERROR', server
        assert 'No valid host' in server['fault']['message']
        cloud.nova.delete_server(server)
    finally:
        cloud.fleet.backend('hw1').stop_attack()
    cloud.wait_for_state('hw1', ('trusted',))


def test_a_flavor_requiring_the_attested_trait_lands_only_on_a_trusted_snp(
        cloud):
    assert published(cloud, 'snp1', True)
    server = boot(cloud, SNP_ATTESTED)
    assert server['OS-EXT-SRV-ATTR:host'] == 'snp1'
    cloud.nova.delete_server(server)
    cloud.fleet.backend('snp1').start_attack()
    try:
        cloud.wait_for_state('snp1', ('untrusted',))
        assert published(cloud, 'snp1', False)
        server = boot(cloud, SNP_ATTESTED)
        assert server['status'] == 'ERROR', server
        cloud.nova.delete_server(server)
    finally:
        cloud.fleet.backend('snp1').stop_attack()
    cloud.wait_for_state('snp1', ('trusted',))
    assert published(cloud, 'snp1', True)


def test_an_snp_flavor_with_the_attested_trait_needs_fresh_sod_trust(cloud):
    require_nova_snp(cloud, 'snp1')
    assert published(cloud, 'snp1', True)
    attested = cloud.nova.create_flavor(dict(
        SNP_GUEST, **{'trait:%s' % SNP_ATTESTED: 'required'}))
    plain = cloud.nova.create_flavor(SNP_GUEST)
    image = cloud.nova.create_image(SNP_IMAGE)
    server = cloud.nova.create_server(flavor=attested, image=image)
    assert server['OS-EXT-SRV-ATTR:host'] == 'snp1', server
    cloud.nova.delete_server(server)
    cloud.fleet.backend('snp1').start_attack()
    try:
        cloud.wait_for_state('snp1', ('untrusted',))
        assert published(cloud, 'snp1', False)
        server = cloud.nova.create_server(flavor=attested, image=image)
        assert server['status'] == 'ERROR', server
        assert 'No valid host' in server['fault']['message']
        cloud.nova.delete_server(server)
        # Nova alone places it there: its own traits say SEV-SNP, not trust.
        server = cloud.nova.create_server(flavor=plain, image=image)
        assert server['OS-EXT-SRV-ATTR:host'] == 'snp1', server
        cloud.nova.delete_server(server)
    finally:
        cloud.fleet.backend('snp1').stop_attack()
    cloud.wait_for_state('snp1', ('trusted',))
    assert published(cloud, 'snp1', True)


def add_trait(placement, host, name):
    uuid = placement.provider(host)
    current, generation = placement.traits(uuid)
    assert placement.set_traits(uuid, current | {name}, generation)


def test_standard_traits_an_earlier_release_wrote_are_removed_once(cloud):
    placement = placement_of(cloud)
    cloud.nova.placement.delete('/traits/%s' % traits.LEGACY_REMOVED,
                                version='1.6')
    assert published(cloud, 'snp1', True)
    # Where the last release's publisher left a trusted SNP host's trait.
    add_trait(placement, 'snp1', 'HW_CPU_X86_AMD_SEV_SNP')
    before = tree(cloud, 'snp1')

    upgraded = traits.TraitPublisher(cloud.conf, placement, cloud.catalog)
    assert upgraded.remove_legacy() == ['snp1']
    after = tree(cloud, 'snp1')
    assert after['snp1'][0] == before['snp1'][0] - {'HW_CPU_X86_AMD_SEV_SNP'}
    assert {n: v for n, v in after.items() if n != 'snp1'} == {
        n: v for n, v in before.items() if n != 'snp1'}   # Nova's children
    # Not marked done while a pass still finds some: a monitor of the last
    # release may still be writing them.
    assert not placement.trait_exists(traits.LEGACY_REMOVED)
    assert upgraded.remove_legacy() == []
    assert placement.trait_exists(traits.LEGACY_REMOVED)

    # Done once: a later start leaves a trait an operator sets by hand.
    add_trait(placement, 'snp1', 'HW_CPU_X86_SGX')
    restarted = traits.TraitPublisher(cloud.conf, placement, cloud.catalog)
    restarted.start()
    try:
        restarted.sync_all()
        restarted.flush()
    finally:
        restarted.stop()
    assert 'HW_CPU_X86_SGX' in provider_traits(cloud, 'snp1')
    uuid = placement.provider('snp1')
    current, generation = placement.traits(uuid)
    assert placement.set_traits(uuid, current - {'HW_CPU_X86_SGX'}, generation)


class RacedPlacement(traits.Placement):
    """Real Placement, with another writer (as Nova's report client is)
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
    placement = placement_of(cloud)
    uuid = cloud.nova.compute_rp_uuid('hw1')
    cleared = provider_traits(cloud, 'hw1') - ours(provider_traits(cloud, 'hw1'))
    _, generation = placement.traits(uuid)
    assert placement.set_traits(uuid, cleared, generation)

    raced = RacedPlacement(placement.session, placement.endpoint, races=2)
    publisher = traits.TraitPublisher(cloud.conf, raced, cloud.catalog)
    wanted = publisher.sync('hw1')
    assert wanted and provider_traits(cloud, 'hw1') >= wanted | {
        'CUSTOM_OTHER_WRITER_0', 'CUSTOM_OTHER_WRITER_1'}   # theirs kept

    _, generation = placement.traits(uuid)
    assert placement.set_traits(uuid, cleared, generation)
    always = RacedPlacement(placement.session, placement.endpoint,
                            races=publisher.RETRIES)
    with pytest.raises(traits.PlacementError,
                       match='hw1: traits changed under us 5 times'):
        traits.TraitPublisher(cloud.conf, always, cloud.catalog).sync('hw1')
    _, generation = placement.traits(uuid)
    assert placement.set_traits(uuid, cleared, generation)
    assert cloud.publisher.sync('hw1') == earned(cloud, 'hw1')
