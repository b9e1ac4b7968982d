"""Which rows satisfy a request for the guest a VM is launched as
(sod_nova.catalog.guest_fit), over the packaged catalogue and a present-day
one whose every row protects only a guest launched for it."""

import pytest

from sod_nova.catalog import Catalog
from sod_nova.catalog import guest_fit
from sod_nova.policy import EMPTY
from sod_nova.policy import parse

SNP = frozenset({'amd-sev-snp'})
ORDINARY = frozenset()
SNP_SPECS = {'hw:mem_encryption': 'true',
             'hw:mem_encryption_model': 'amd-sev-snp'}


def default_catalog():
    return Catalog.load()


@pytest.fixture
def present_day_catalog(present_day_file):
    return Catalog.load(str(present_day_file))


def request(catalog, options, properties='C,I'):
    return parse.parse_request({'sod:options': options,
                                'sod:properties': properties},
                               catalog.packages)


def test_without_a_guest_every_conditional_row_is_a_condition():
    catalog = default_catalog()
    fit = guest_fit.fit(catalog, request(catalog, '1,2'))
    assert fit.satisfied_by == tuple(catalog.satisfying(
        request(catalog, '1,2')))
    assert {c.name for c in fit.conditions} == {
        'AMD-SEV-SNP', 'Intel-TDX', 'Intel-SGX', 'Arm-CCA'}
    assert {c.met for c in fit.conditions} == {None}
    snp = next(c for c in fit.conditions if c.name == 'AMD-SEV-SNP')
    assert snp.sentence == (
        'AMD-SEV-SNP protects C, I against Other VMs; C, I against '
        'Hypervisor only for a guest launched with hw:mem_encryption=true, '
        'hw:mem_encryption_model=amd-sev-snp')
    assert snp.launchable and snp.feature == 'amd-sev-snp'
    assert snp.source == catalog.get('AMD-SEV-SNP').guest.source
    assert not fit.only_conditional


def test_an_snp_guest_gets_snp_and_is_told_about_the_others():
    catalog = default_catalog()
    words = guest_fit.not_asked('m1.small')
    fit = guest_fit.fit(catalog, request(catalog, '1,2'), SNP, words)
    assert 'AMD-SEV-SNP' in fit.satisfied_by
    assert 'Intel-TDX' not in fit.satisfied_by
    by_name = {c.name: c for c in fit.conditions}
    assert 'AMD-SEV-SNP' not in by_name
    assert by_name['Intel-TDX'].met is False
    assert by_name['Intel-TDX'].sentence.endswith(
        'hw:mem_encryption_model=intel-tdx; flavor m1.small does not ask '
        'for it')
    # Nova cannot launch an enclave guest: no flavor could ask for it.
    assert by_name['Intel-SGX'].sentence.endswith(
        'which Nova 34 cannot launch')
    assert not by_name['Intel-SGX'].launchable


def test_only_conditional_rows_and_an_ordinary_guest(present_day_catalog):
    catalog = present_day_catalog
    wanted = request(catalog, '2')
    assert catalog.satisfying(wanted)
    fit = guest_fit.fit(catalog, wanted, ORDINARY,
                        guest_fit.not_asked('m1.small'))
    assert fit.satisfied_by == ()
    assert fit.only_conditional
    assert ('AMD-SEV-SNP protects C, I against Hypervisor only for a guest '
            'launched with hw:mem_encryption=true, hw:mem_encryption_model='
            'amd-sev-snp; flavor m1.small does not ask for it'
            ) in fit.sentences()
    snp = guest_fit.fit(catalog, wanted, SNP)
    assert snp.satisfied_by == ('AMD-SEV-SNP',) and not snp.only_conditional


def test_among_one_clouds_server_types():
    catalog = default_catalog()
    wanted = request(catalog, '1,2')
    # A cloud of SNP and TDX hosts only: an ordinary guest gets nothing.
    fit = guest_fit.fit(catalog, wanted, ORDINARY,
                        names=['AMD-SEV-SNP', 'Intel-TDX'])
    assert fit.only_conditional
    assert [c.name for c in fit.conditions] == ['AMD-SEV-SNP', 'Intel-TDX']
    fit = guest_fit.fit(catalog, wanted, ORDINARY,
                        names=['AMD-SEV-SNP', 'HyperWall'])
    assert fit.satisfied_by == ('HyperWall',) and not fit.only_conditional


def test_the_vtpm_row_needs_a_vtpm(present_day_catalog):
    catalog = present_day_catalog
    wanted = request(catalog, '6', 'I')
    assert 'vTPM-Measured-Boot' not in guest_fit.fit(
        catalog, wanted, ORDINARY).satisfied_by
    vtpm = guest_fit.read_guest({'hw:tpm_version': '2.0'})
    assert 'vTPM-Measured-Boot' in guest_fit.fit(
        catalog, wanted, vtpm).satisfied_by


def test_an_empty_request_has_no_conditions():
    catalog = default_catalog()
    fit = guest_fit.fit(catalog, EMPTY, ORDINARY)
    assert fit.conditions == () and len(fit.satisfied_by) == len(
        catalog.names())


@pytest.mark.parametrize('flavor_name, flavor, image, words', [
    ('m1.small', True, False, 'flavor m1.small does not ask for it'),
    (None, True, False, 'this flavor does not ask for it'),
    (None, False, True, 'this image does not ask for it'),
    ('m1.small', True, True,
     'neither flavor m1.small nor this image asks for it'),
])
def test_not_asked_words(flavor_name, flavor, image, words):
    assert guest_fit.not_asked(flavor_name, flavor, image) == words


@pytest.mark.parametrize('specs, props, features', [
    (SNP_SPECS, None, SNP),
    ({'hw:mem_encryption': 'True'}, {'hw_mem_encryption_model': 'intel-tdx'},
     {'intel-tdx'}),
    (None, {'hw_mem_encryption': True,
            'hw_mem_encryption_model': 'amd-sev-snp'}, SNP),
    ({'hw:mem_encryption': 'true'}, None, ORDINARY),      # plain amd-sev
    ({'hw:mem_encryption_model': 'amd-sev-snp'}, None, ORDINARY),
    ({'hw:tpm_version': '2.0', 'hw:tpm_model': 'tpm-crb'}, None, {'vtpm'}),
    ({'hw:cpu_policy': 'dedicated'}, {'os_distro': 'ubuntu'}, ORDINARY),
])
def test_read_guest_features(specs, props, features):
    assert guest_fit.read_guest(specs, props) == frozenset(features)


@pytest.mark.parametrize('specs, props, message', [
    ({'hw:mem_encryption': 'maybe'}, None,
     "flavor extra spec hw:mem_encryption: 'maybe' is not a boolean"),
    (None, {'hw_mem_encryption': 'sure'},
     "image property hw_mem_encryption: 'sure' is not a boolean"),
    ({'hw:mem_encryption_model': 'amd-sev-xyz'}, None,
     "hw:mem_encryption_model: 'amd-sev-xyz' is not one of: amd-sev, "
     "amd-sev-es, amd-sev-snp, intel-tdx"),
    ({'hw:tpm_version': '3.0'}, None,
     "hw:tpm_version: '3.0' is not one of: 1.2, 2.0"),
    ({'hw:tpm_version': '1.2', 'hw:tpm_model': 'tpm-crb'}, None,
     'tpm-crb needs TPM version 2.0'),
    ({'hw:mem_encryption': 'true'}, {'hw_mem_encryption': 'false'},
     'flavor extra spec hw:mem_encryption: true conflicts with image '
     'property hw_mem_encryption=false: Nova refuses to launch such a VM'),
    (SNP_SPECS, {'hw_mem_encryption_model': 'intel-tdx'},
     'amd-sev-snp conflicts with image property '
     'hw_mem_encryption_model=intel-tdx'),
    ({'hw:mem_encryption': 1}, None, '1 is not a string'),
    (['hw:mem_encryption'], None, 'flavor extra specs: must be a mapping'),
])
def test_read_guest_refuses_what_nova_refuses(specs, props, message):
    with pytest.raises(guest_fit.GuestError) as info:
        guest_fit.read_guest(specs, props)
    assert message in str(info.value)


def test_models_that_disagree_on_an_unencrypted_guest_are_what_nova_launches():
    # Nova reads the model only when memory encryption is asked for.
    assert guest_fit.read_guest({'hw:mem_encryption_model': 'amd-sev'},
                                {'hw_mem_encryption_model': 'intel-tdx'}) == frozenset()
