"""SecurityOnDemandFilter.filter_all over real Nova HostState objects, and
the host row cache (the rule itself: test_compliance.py).

Where the instance's metadata comes from (Nova's databases) is replaced here
by a function returning it; the functional tests run the real lookup.
"""

import datetime
import logging

from nova import objects
from nova.scheduler import host_manager
import pytest

from sod_nova.catalog import Catalog
from sod_nova.conf import CONF
from sod_nova.db import api as db_api
from sod_nova.db import rejections as db_rejections
from sod_nova.policy import Entity
from sod_nova.policy import Property
from sod_nova.policy import SecurityRequest
from sod_nova.scheduler import filters
from sod_nova.scheduler import host_rows
from sod_nova.scheduler import instance_sources

CTX = db_api.Context()

objects.register_all()

UTC = datetime.UTC
NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
CATALOG = Catalog.load()
U1 = '00000000-0000-4000-8000-000000000001'
U2 = '00000000-0000-4000-8000-000000000002'
PACKAGES = CATALOG.packages


def opts(*numbers, props=(Property.C, Property.I)):
    return SecurityRequest.from_options([Entity(n) for n in numbers], props)


# -- the filter over real HostState objects and a real database --------------

@pytest.fixture
def db(db):
    """The shared database, with the filter reading rows on every request."""
    CONF.set_override('host_cache_seconds', 0, 'sod_filter')
    yield db
    CONF.clear_override('host_cache_seconds', 'sod_filter')


def trust(host, arch, state='trusted', age=0.0):
    """A verdict as a monitor with ``evidence_max_age`` 10 writes it."""
    evidence_at = datetime.datetime.now(UTC) - datetime.timedelta(seconds=age)
    db_api.host_set_trust(CTX, host, state, 'test', CATALOG.capability_mask(arch), evidence_at,
        architecture=arch, monitor='test',
        valid_until=db_api.evidence_valid_until(evidence_at, 10))


def host_states(*names):
    return [host_manager.HostState(name, name, 'cell1') for name in names]


@pytest.fixture
def sources(monkeypatch):
    """The instance metadata each instance has (Nova's DB in real life)."""
    known = {}

    def metadata_of(uuid, context=None):
        if uuid not in known:
            raise instance_sources.SourcesUnavailable('instance %s not found' % uuid)
        return known[uuid]
    monkeypatch.setattr(instance_sources, 'metadata_of', metadata_of)
    return known


SNP = {'hw:mem_encryption': 'true', 'hw:mem_encryption_model': 'amd-sev-snp'}


def spec(uuid, extra_specs=None, hints=None, image_properties=None):
    fields = dict(instance_uuid=uuid,
                  flavor=objects.Flavor(extra_specs=extra_specs or {}),
                  scheduler_hints=hints or {})
    if image_properties is not None:
        fields['image'] = objects.ImageMeta.from_dict(
            {'properties': image_properties})
    return objects.RequestSpec(**fields)


def names(hosts):
    return [h.host for h in hosts]


def test_filter_keeps_only_trusted_fresh_satisfying_hosts(db, sources):
    trust('hw', 'HyperWall')
    trust('sev', 'AMD-SEV-SNP')
    trust('tpm', 'TPM')
    trust('bad', 'Intel-SGX', state='untrusted')
    trust('old', 'Intel-SGX', age=3600)
    db_api.host_declare(CTX, 'new', 'Intel-SGX')
    sources[U1] = ({'sod:options': '1,2'}, {})
    hosts = host_states('hw', 'sev', 'tpm', 'bad', 'old', 'new', 'unknown')
    flt = filters.SecurityOnDemandFilter()
    # SEV-SNP protects only a guest launched as an SNP VM.
    assert names(flt.filter_all(hosts, spec(U1))) == ['hw']
    assert names(flt.filter_all(hosts, spec(U1, SNP))) == ['hw', 'sev']
    # By the image's properties as well as the flavor's extra specs.
    assert names(flt.filter_all(hosts, spec(U1, image_properties={
        'hw_mem_encryption': True,
        'hw_mem_encryption_model': 'amd-sev-snp'}))) == ['hw', 'sev']


def test_filter_no_request_passes_everything_without_reading_rows(db, sources):
    sources[U1] = ({'unrelated': 'x'}, {'image_hw_disk_bus': 'virtio'})
    hosts = host_states('a', 'b')
    CONF.set_override('connection', 'sqlite:////nonexistent/dir/x.sqlite',
                      'sod_database')
    assert filters.SecurityOnDemandFilter().filter_all(hosts, spec(U1)) == hosts


def test_filter_fails_closed_and_keeps_the_reason(db, sources, caplog):
    trust('hw', 'HyperWall')
    sources[U1] = ({'sod:options': '4'}, {})
    flt = filters.SecurityOnDemandFilter()
    with caplog.at_level(logging.WARNING):
        assert flt.filter_all(host_states('hw'), spec(U1)) == []
    assert ('Instance %s: no host satisfies ' % U1) in caplog.text
    assert ('malformed security request (instance metadata sod:options: '
            'option 4') in caplog.text
    assert 'held to the strictest request' in db_rejections.get(CTX, U1).reason
    # Metadata that cannot be read fails closed too.
    assert flt.filter_all(host_states('hw'), spec(U2)) == []
    assert 'cannot read the instance metadata' in db_rejections.get(CTX, U2).reason


def test_filter_fails_closed_when_the_database_is_unusable(db, sources):
    sources[U1] = ({'sod:options': '1'}, {})
    CONF.set_override('connection', 'sqlite:////nonexistent/dir/x.sqlite',
                      'sod_database')
    flt = filters.SecurityOnDemandFilter()
    assert flt.filter_all(host_states('hw'), spec(U1)) == []


def test_zero_hosts_logs_one_info_line_with_cells_and_closest(db, sources, caplog):
    trust('hw', 'HyperWall')
    trust('tpm', 'TPM')
    trust('sgx', 'Intel-SGX', state='untrusted')
    sources[U1] = ({}, {})
    flt = filters.SecurityOnDemandFilter()
    with caplog.at_level(logging.INFO, logger='sod_nova.scheduler.filters'):
        passed = flt.filter_all(host_states('hw', 'tpm', 'sgx'),
                                spec(U1, {'sod:options': '1,2,5'}))
    assert passed == []
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert len(lines) == 1
    assert lines[0].startswith('Instance %s: no host satisfies C, I against '
                               'Same OS; C, I against Other VMs' % U1)
    assert 'closest: HyperWall (lacks C, I against Same OS)' in lines[0]
    assert '2 of 3 hosts trusted with fresh evidence (HyperWall, TPM)' in lines[0]
    assert db_rejections.get(CTX, U1).reason in lines[0]


def test_per_request_state_does_not_outlive_filter_all(db, sources):
    trust('hw', 'HyperWall')
    sources[U1] = ({'sod:options': '1'}, {})
    flt = filters.SecurityOnDemandFilter()
    flt.filter_all(host_states('hw'), spec(U1))
    assert flt._decisions == {}
    # Called on its own (not by the scheduler), host_passes resolves first.
    assert flt.host_passes(host_states('hw')[0], spec(U1))
    assert not flt.host_passes(host_states('other')[0], spec(U1))


def test_hints_and_flavor_reach_the_filter(db, sources):
    trust('hw', 'HyperWall')
    trust('sev', 'AMD-SEV-SNP')
    sources[U1] = ({}, {})
    flt = filters.SecurityOnDemandFilter()
    hosts = host_states('hw', 'sev')
    assert names(flt.filter_all(hosts, spec(
        U1, SNP, hints={'sod_options': ['3'], 'sod_properties': ['C']}))) == ['sev']
    assert names(flt.filter_all(hosts, spec(
        U1, extra_specs={'sod:options': '1'}))) == ['hw']
    assert names(flt.filter_all(hosts, spec(
        U1, extra_specs=dict(SNP, **{'sod:options': '1'})))) == ['hw', 'sev']


# -- the row cache -----------------------------------------------------------

def test_cache_rereads_after_its_lifetime(db):
    clock = [100.0]
    cache = host_rows.HostRowCache(clock=lambda: clock[0])
    CONF.set_override('host_cache_seconds', 1.0, 'sod_filter')
    trust('a', 'TPM')
    assert set(cache.get(CTX, CONF)) == {'a'}
    trust('b', 'TPM')
    clock[0] += 0.5
    assert set(cache.get(CTX, CONF)) == {'a'}
    clock[0] += 0.6
    assert set(cache.get(CTX, CONF)) == {'a', 'b'}
    CONF.set_override('host_cache_seconds', 0, 'sod_filter')
    trust('c', 'TPM')
    assert set(cache.get(CTX, CONF)) == {'a', 'b', 'c'}


def test_rebuild_is_not_filtered(db, sources):
    """RUN_ON_REBUILD = False holds although filter_all is overridden: a
    rebuild keeps the VM on its host, whatever its request."""
    trust('tpm', 'TPM')
    sources[U1] = ({'sod:options': '1,2'}, {})
    hosts = host_states('tpm')
    flt = filters.SecurityOnDemandFilter()
    assert flt.filter_all(hosts, spec(U1)) == []
    rebuild = spec(U1, hints={'_nova_check_type': ['rebuild']})
    assert flt.filter_all(hosts, rebuild) == hosts
