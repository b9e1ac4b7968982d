"""Present-day hosts in the embedded cloud: confidential guests as Nova runs them.

One embedded cloud for the module (real Nova, the trust monitor with an agent
per host, the migration manager): a HyperWall server, which protects every VM
on it, two AMD SEV-SNP servers and an Intel TDX server, whose fake libvirt
reports the capabilities Nova detects SNP and TDX from, so that Nova's driver
reports their traits and inventory and Nova's scheduler places confidential
guests by itself. SNP and TDX protect only a guest launched as their kind of
confidential VM; Nova moves such a guest only by cold migration (resize, then
confirm). Every test leaves the hosts trusted and deletes its servers.
"""

import contextlib

import pytest

from sod_nova.cloud import embedded
from sod_nova.cloud import nova as nova_mod
from sod_nova.db import api as db_api
from sod_nova.db import rejections
from sod_nova.relocation import audit_events

CTX = db_api.Context()

HOSTS = (('hw1', 'HyperWall'), ('snp1', 'AMD-SEV-SNP'), ('snp2', 'AMD-SEV-SNP'),
         ('tdx1', 'Intel-TDX'))
CONFIDENTIAL_HOSTS = {'snp1', 'snp2', 'tdx1'}
SNP = {'hw:mem_encryption': 'true', 'hw:mem_encryption_model': 'amd-sev-snp'}
#: Options 1 and 2, C and I: HyperWall protects any guest so; SNP and TDX
#: only a guest launched for them.
OPTIONS_1_2 = {'sod:options': '1,2', 'sod:properties': 'C,I'}
SNP_NOTE = ('AMD-SEV-SNP protects C, I against Other VMs; C, I against '
            'Hypervisor only for a guest launched with hw:mem_encryption=true, '
            'hw:mem_encryption_model=amd-sev-snp')
TDX_NOTE = ('only for a guest launched with hw:mem_encryption=true, '
            'hw:mem_encryption_model=intel-tdx')


#: A cold move here takes a few seconds; a migration the manager follows
#: that stands still for this long means it lost track of it (the cloud then
#: reports that it did not settle, instead of waiting the production 600 s).
STALLED_AFTER = {('sod_relocation', 'migration_timeout'): 120.0}


@pytest.fixture(scope='module')
def cloud():
    with embedded.EmbeddedCloud(conf_overrides=STALLED_AFTER) as cloud:
        for name, architecture in HOSTS:
            cloud.add_host(name, architecture)
        yield cloud


def boot(cloud, name, extra_specs=None, metadata=None, host=None):
    """Boot through Nova's API with a flavor of ``extra_specs`` and the
    image Nova needs for such a guest; the server once ACTIVE or ERROR."""
    flavor = cloud.nova.create_flavor(extra_specs) if extra_specs else None
    return cloud.nova.create_server(
        name=name, flavor=flavor, metadata=metadata, host=host,
        image_properties=nova_mod.guest_image_properties(extra_specs or {}))


def settle(cloud):
    assert cloud.settle(), 'the migration manager stopped advancing'


def attack(cloud, *hosts):
    """The hosts' backends report violations; the cloud settles after each."""
    for host in hosts:
        cloud.fleet.backend(host).start_attack()
        cloud.wait_for_state(host, ('untrusted',))
        settle(cloud)


@contextlib.contextmanager
def attacked(cloud, *hosts):
    """The hosts are attacked until the block ends; then they report clean
    evidence again."""
    try:
        attack(cloud, *hosts)
        yield
    finally:
        recover(cloud, *hosts)


def recover(cloud, *hosts):
    for host in hosts:
        cloud.fleet.backend(host).stop_attack()
        cloud.wait_for_state(host, ('trusted',))
        settle(cloud)


@contextlib.contextmanager
def servers(cloud):
    """The servers booted in the block (a list to append to), deleted after."""
    booted = []
    try:
        yield booted
    finally:
        for server in booted:
            cloud.nova.delete_server(server)
        settle(cloud)


def host_of(cloud, server):
    return cloud.nova.server_host(server)


def migrations(cloud, server):
    """Nova's own migration records of ``server``, oldest first."""
    return sorted(cloud.nova.list_migrations(server), key=lambda m: m['id'])


def audit(cloud, server, event):
    return [e.data for e in cloud.manager.store.audit_entries(CTX)
            if e.data.get('vm') == server['id'] and e.data.get('event') == event]


def test_nova_reports_the_hardware_of_each_host(cloud):
    """Nova's libvirt driver, not sod-nova, reports SNP and TDX: the traits
    of the child provider with MEM_ENCRYPTION_CONTEXT inventory, per host."""
    placement = cloud.nova.placement
    found = {}
    for name, _ in HOSTS:
        root = cloud.nova.compute_rp_uuid(name)
        tree = placement.get('/resource_providers?in_tree=%s' % root,
                             version='1.14').body['resource_providers']
        found[name] = set()
        for provider in tree:
            inventory = placement.get('/resource_providers/%s/inventories'
                                      % provider['uuid']).body['inventories']
            if 'MEM_ENCRYPTION_CONTEXT' in inventory:
                found[name] |= {t for t in placement.get(
                    '/resource_providers/%s/traits' % provider['uuid'],
                    version='1.6').body['traits'] if t.startswith('HW_CPU_X86_')}
    assert found == {
        'hw1': set(), 'tdx1': {'HW_CPU_X86_INTEL_TDX'},
        # Nova reports plain SEV beside SNP (a SEV guest can run there too).
        'snp1': {'HW_CPU_X86_AMD_SEV', 'HW_CPU_X86_AMD_SEV_SNP'},
        'snp2': {'HW_CPU_X86_AMD_SEV', 'HW_CPU_X86_AMD_SEV_SNP'}}
    # The trust agents read the same capabilities and the monitor checks the
    # architecture each claims against them.
    assert 'sev-snp' in cloud.fleet.agent('snp1').platform.read()['features']
    assert 'tdx' in cloud.fleet.agent('tdx1').platform.read()['features']
    assert cloud.fleet.agent('hw1').platform is None


def test_a_confidential_guest_on_an_attacked_snp_host_moves_cold(cloud):
    """(a) Cold migration (Nova's record: ``migration``) to the other
    trusted SNP host; never a live migration."""
    with servers(cloud) as booted:
        server = boot(cloud, 'cvm-a', SNP, OPTIONS_1_2)
        booted.append(server)
        assert (server['status'], host_of(cloud, server)) == ('ACTIVE', 'snp1')
        with attacked(cloud, 'snp1'):
            assert host_of(cloud, server) == 'snp2'
            moved = cloud.nova.get_server(server)
            assert moved['status'] == 'ACTIVE'
            assert cloud.assess(moved).compliant
            [migration] = migrations(cloud, server)
            assert (migration['migration_type'], migration['status'],
                    migration['source_compute'], migration['dest_compute']) == (
                        'migration', 'confirmed', 'snp1', 'snp2')
            [entry] = audit(cloud, server, audit_events.MOVED)
            assert (entry['kind'], entry['from'], entry['to']) == ('cold', 'snp1', 'snp2')
        # Its old host trusted again: it stays where it is protected.
        assert host_of(cloud, server) == 'snp2'
        assert cloud.nova.list_migrations(server, 'live-migration') == []


def test_a_confidential_guest_with_no_snp_host_left_pauses_then_resumes(cloud):
    """(b) No trusted SNP host: HyperWall would protect the guest, but Nova
    cannot launch an SNP guest there, so it is paused where it is; once an
    SNP host is trusted again it moves there (cold) and runs."""
    with servers(cloud) as booted:
        server = boot(cloud, 'cvm-b', SNP, OPTIONS_1_2)
        booted.append(server)
        assert host_of(cloud, server) == 'snp1'
        try:
            attack(cloud, 'snp2', 'snp1')
            paused = cloud.nova.get_server(server)
            assert (paused['status'], paused['OS-EXT-SRV-ATTR:host']) == (
                'PAUSED', 'snp1')
            assert audit(cloud, server, audit_events.PARKED)
            assert migrations(cloud, server) == [] or all(
                m['status'] == 'error' for m in migrations(cloud, server))
            recover(cloud, 'snp2')
            running = cloud.nova.get_server(server)
            assert (running['status'], running['OS-EXT-SRV-ATTR:host']) == (
                'ACTIVE', 'snp2')
            assert cloud.assess(running).compliant
        finally:
            recover(cloud, 'snp1', 'snp2')
        records = migrations(cloud, server)
        assert {m['migration_type'] for m in records} == {'migration'}
        assert (records[-1]['status'], records[-1]['source_compute'],
                records[-1]['dest_compute']) == ('confirmed', 'snp1', 'snp2')
        assert all(e['kind'] == 'cold' for e in audit(cloud, server, audit_events.MOVED))


def test_an_ordinary_guest_asking_for_options_1_2_never_runs_on_snp_or_tdx(cloud):
    """(c) SNP and TDX do not protect an ordinary guest against the
    hypervisor: Nova's scheduler (the SoD filter) never places one there,
    and the migration manager never moves one there; with its HyperWall host
    attacked it is paused, with the reason, and resumed on recovery."""
    with servers(cloud) as booted:
        server = boot(cloud, 'ordinary', None, OPTIONS_1_2)
        booted.append(server)
        assert host_of(cloud, server) == 'hw1'
        # Asked for an SNP or TDX host by name, Nova finds no valid host,
        # and the filter says why.
        for host, note in (('snp1', SNP_NOTE), ('tdx1', TDX_NOTE)):
            refused = boot(cloud, 'ordinary-on-%s' % host, None, OPTIONS_1_2, host=host)
            booted.append(refused)
            assert refused['status'] == 'ERROR'
            assert 'No valid host' in refused['fault']['message']
            reason = rejections.get(CTX, refused['id']).reason
            assert note in reason, reason
            assert 'this VM is an ordinary guest' in reason
        with attacked(cloud, 'hw1'):
            paused = cloud.nova.get_server(server)
            assert (paused['status'], paused['OS-EXT-SRV-ATTR:host']) == (
                'PAUSED', 'hw1')
            [parked] = audit(cloud, server, audit_events.PARKED)
            assert SNP_NOTE in parked['reason'], parked['reason']
            assert TDX_NOTE in parked['reason'], parked['reason']
        resumed = cloud.nova.get_server(server)
        assert (resumed['status'], resumed['OS-EXT-SRV-ATTR:host']) == ('ACTIVE', 'hw1')
        for migration in migrations(cloud, server):
            assert migration['dest_compute'] not in CONFIDENTIAL_HOSTS, migration


def test_a_flavor_asking_for_snp_lands_only_on_snp_hosts_with_fresh_trust(cloud):
    """(d) The operator's flavor launches an SNP guest and asks for options
    1-2 (its ``sod:`` extra specs): Nova's scheduler offers only the SNP
    hosts, and the SoD filter only those whose trust is fresh. (A flavor
    with no ``sod:`` request asks for no protection, so trust is not
    consulted for it.)"""
    flavor = cloud.nova.create_flavor(dict(SNP, **OPTIONS_1_2))
    image = cloud.nova.create_image(nova_mod.guest_image_properties(SNP))

    def boot_snp(name):
        server = cloud.nova.create_server(name=name, flavor=flavor, image=image)
        booted.append(server)
        return server

    with servers(cloud) as booted:
        agent = cloud.fleet.agent('snp1')
        agent.silence()
        try:
            cloud.wait_for_state('snp1', ('unreachable',))
            first = boot_snp('cvm-d1')
            assert (first['status'], host_of(cloud, first)) == ('ACTIVE', 'snp2')
            cloud.nova.delete_server(first)
            booted.remove(first)
            with attacked(cloud, 'snp2'):
                # Neither SNP host has fresh trust: HyperWall and TDX are
                # trusted, but Nova cannot launch this guest there.
                refused = boot_snp('cvm-d2')
                assert refused['status'] == 'ERROR'
                assert 'No valid host' in refused['fault']['message']
                reason = rejections.get(CTX, refused['id']).reason
                assert 'snp1 (unreachable' in reason and 'snp2 (untrusted' in reason, reason
        finally:
            agent.resume()
            cloud.wait_for_state('snp1', ('trusted',))
        again = boot_snp('cvm-d3')
        assert (again['status'], host_of(cloud, again)) == ('ACTIVE', 'snp1')
