"""The one compliance rule: effective request, launch features, per-host verdict."""

import datetime

import pytest

from sod_nova import compliance
from sod_nova.catalog import Catalog
from sod_nova.catalog import guest
from sod_nova.compliance import request as compliance_request
from sod_nova.compliance import rule as rule_mod
from sod_nova.db import api as db_api
from sod_nova.policy import Entity
from sod_nova.policy import Property
from sod_nova.policy import SecurityRequest

UTC = datetime.UTC
NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
CATALOG = Catalog.load()
PACKAGES = CATALOG.packages
RULE = compliance.Rule(CATALOG)
#: The time of the per-host tests; a row's evidence counts until UNTIL.
AT = NOW + datetime.timedelta(seconds=10)
UNTIL = db_api.evidence_valid_until(NOW, 10)

SNP = {'hw:mem_encryption': 'true', 'hw:mem_encryption_model': 'amd-sev-snp'}
TDX = {'hw:mem_encryption': 'True', 'hw:mem_encryption_model': 'intel-tdx'}
VTPM = {'hw:tpm_version': '2.0', 'hw:tpm_model': 'tpm-crb'}
ORDINARY = frozenset()


def opts(*numbers, props=(Property.C, Property.I)):
    return SecurityRequest.from_options([Entity(n) for n in numbers], props)


def effective(**sources):
    return compliance_request.effective(PACKAGES, **sources)


def row(state='trusted', mask=None, until=UNTIL, arch='HyperWall', host='h'):
    return db_api.HostRow(
        host=host, architecture=arch, state=state, reason='because',
        capability_mask=CATALOG.capability_mask(arch) if mask is None else mask,
        last_evidence_at=NOW, valid_until=until)


# -- the effective request: union of the four sources -----------------------

def test_union_of_flavor_image_metadata_and_hints():
    found = effective(
        flavor_extra_specs={'sod:options': '1', 'hw:cpu_policy': 'shared'},
        image_properties={'sod:options': '2', 'sod:properties': 'C',
                          'hw_disk_bus': 'virtio'},
        metadata={'sod:options': '3', 'sod:properties': 'I', 'other': 'y'},
        hints={'sod_options': ['5'], 'same_host': ['abc']})
    assert found.request == (opts(1) | opts(2, props=[Property.C])
                             | opts(3, props=[Property.I]) | opts(5))
    assert not found.malformed


def test_each_source_alone_gives_its_request():
    expected = opts(1, 2)
    assert effective(flavor_extra_specs={'sod:options': '1,2'}).request == expected
    assert effective(image_properties={'sod:options': '1,2'}).request == expected
    assert effective(metadata={'sod:options': '1,2'}).request == expected
    assert effective(hints={'sod_options': ['1,2']}).request == expected
    # Nova keeps a repeated hint as a list of its values.
    assert effective(hints={'sod_options': ['1', '2']}).request == expected


def test_image_properties_are_read_from_system_metadata():
    props = compliance_request.image_properties_from_sysmeta(
        {'image_sod:options': '1,2', 'image_hw_mem_encryption': 'True',
         'owner_user_name': 'x'})
    assert props == {'sod:options': '1,2', 'hw_mem_encryption': 'True'}


def test_package_and_moving_target():
    found = effective(metadata={'sod:package': 'medical-records',
                                'sod:moving_target': '600'})
    assert found.request == opts(1, 5, 6, 7)
    assert found.moving_target == 600


def test_no_sod_keys_is_no_request():
    assert not effective(flavor_extra_specs={'hw:cpu_policy': 'shared'},
                         image_properties={'hw_disk_bus': 'virtio'},
                         metadata={'a': 'b'}, hints={'same_host': ['x']}).request
    assert not effective().request


@pytest.mark.parametrize('sources, message', [
    ({'metadata': {'sod:options': '4'}},
     'instance metadata sod:options: option 4 (Cloud Manager) is refused'),
    ({'flavor_extra_specs': {'sod:properties': 'C'}},
     'flavor extra spec sod:properties: given without sod:options'),
    ({'image_properties': {'sod:options': '9'}},
     'image property sod:options: 9 is not an option (1-7)'),
    ({'hints': {'sod_package': ['nope']}},
     "scheduler hint sod_package: 'nope' is not a security package"),
    ({'hints': {'sod:options': ['1']}},
     'scheduler hint sod:options: scheduler hints are spelled sod_options'),
    ({'metadata': {'sod:option': '1'}},
     'instance metadata sod:option: unknown key'),
    ({'metadata': {'sod:remediation': 'teleport'}},
     'instance metadata sod:remediation: teleport is not a move'),
])
def test_a_malformed_source_is_named_and_held_to_the_strictest(sources, message):
    found = effective(**sources)
    assert found.malformed
    assert found.errors[0].startswith(message)
    assert found.request == compliance_request.STRICTEST


def test_a_malformed_source_never_weakens_the_operator_floor():
    found = effective(flavor_extra_specs={'sod:options': '1'},
                      metadata={'sod:options': 'banana'})
    assert found.request == compliance_request.STRICTEST
    assert found.request.satisfied_by(0) is False
    assert opts(1).mask & ~found.request.mask == 0


def test_strictest_is_every_option_a_request_may_ask():
    assert compliance_request.STRICTEST == opts(1, 2, 3, 5, 6, 7)


def test_remediation_every_stating_source_must_accept_a_move():
    assert effective().remediation is None
    assert effective(metadata={'sod:remediation': 'live'}).remediation == ('live',)
    assert effective(flavor_extra_specs={'sod:remediation': 'live,cold'},
                     metadata={'sod:remediation': 'cold,live'}
                     ).remediation == ('cold', 'live')
    assert effective(flavor_extra_specs={'sod:remediation': 'cold'},
                     metadata={'sod:remediation': 'live'}).remediation == ()


# -- launch features, by Nova 34's rules -------------------------------------

@pytest.mark.parametrize('flavor, image, features', [
    (SNP, {}, {guest.AMD_SEV_SNP}),
    (TDX, {}, {guest.INTEL_TDX}),
    ({}, {'hw_mem_encryption': True, 'hw_mem_encryption_model': 'amd-sev-snp'},
     {guest.AMD_SEV_SNP}),
    # The image's model with the flavor's switch, as Nova combines them.
    ({'hw:mem_encryption': 'yes'}, {'hw_mem_encryption_model': 'intel-tdx'},
     {guest.INTEL_TDX}),
    # Nova's default model is plain SEV, not SNP.
    ({'hw:mem_encryption': 'true'}, {}, set()),
    ({'hw:mem_encryption': 'true', 'hw:mem_encryption_model': 'amd-sev-es'},
     {}, set()),
    # A model without memory encryption launches an ordinary guest.
    ({'hw:mem_encryption_model': 'amd-sev-snp'}, {}, set()),
    ({'hw:mem_encryption': 'false', 'hw:mem_encryption_model': 'amd-sev-snp'},
     {}, set()),
    (VTPM, {}, {guest.VTPM}),
    # Nova compares exactly: another spelling launches no such guest.
    ({'hw:mem_encryption': 'true', 'hw:mem_encryption_model': 'AMD-SEV-SNP'},
     {}, set()),
    ({'hw:mem_encryption': 'true', 'hw:mem_encryption_model': ' amd-sev-snp'},
     {}, set()),
    ({'hw:tpm_version': '3.0'}, {}, set()),
    ({}, {'hw_tpm_version': '2.0'}, {guest.VTPM}),
    (dict(SNP, **VTPM), {}, {guest.AMD_SEV_SNP, guest.VTPM}),
    ({}, {}, set()),
])
def test_launch_features(flavor, image, features):
    assert guest.features(flavor, image) == frozenset(features)
    assert effective(flavor_extra_specs=flavor,
                     image_properties=image).guest == frozenset(features)


def test_what_nova_moves_live():
    assert guest.live_migratable({}, {})
    assert not guest.live_migratable(SNP, {})
    assert not guest.live_migratable({'hw:mem_encryption': 'true'}, {})
    assert not guest.live_migratable(VTPM, {})
    assert guest.live_migratable(dict(VTPM, **{'hw:tpm_secret_security': 'host'}), {})


# -- the per-host verdict -----------------------------------------------------

def test_trusted_fresh_capable_host_protects():
    found = effective(metadata={'sod:options': '1,2'})
    assert RULE.check(found, 'h', row(), AT - datetime.timedelta(seconds=1)).compliant
    assert RULE.check(found, 'h', row(), AT).compliant          # up to valid_until


@pytest.mark.parametrize('the_row, trigger, why', [
    (None, rule_mod.UNREACHABLE, 'h has no trust record'),
    (row(state='untrusted'), rule_mod.TRUST_LOSS, 'h is untrusted: because'),
    (row(state='unreachable'), rule_mod.UNREACHABLE, 'h is unreachable: because'),
    (row(state='bogus-state'), rule_mod.TRUST_LOSS, 'h is bogus-state'),
    (row(until=None), rule_mod.UNREACHABLE, 'no time its evidence is valid until'),
    (row(until=AT - datetime.timedelta(microseconds=1)), rule_mod.UNREACHABLE,
     'has expired'),
    (row(arch='TPM'), rule_mod.POLICY_CHANGE,
     'h (TPM) lacks C, I against Other VMs'),
    (row(arch='NotInTheCatalogue', mask=0b11), rule_mod.POLICY_CHANGE,
     'architecture NotInTheCatalogue is not in this catalogue'),
])
def test_host_refused_with_a_trigger_and_reason(the_row, trigger, why):
    verdict = RULE.check(effective(metadata={'sod:options': '1,2'}), 'h',
                         the_row, AT)
    assert not verdict.compliant
    assert verdict.trigger == trigger
    assert why in verdict.reason


def test_no_request_is_compliant_anywhere():
    for the_row in (None, row(state='untrusted'), row(until=None)):
        assert RULE.check(compliance_request.NONE, 'h', the_row, AT).compliant


def test_an_snp_host_protects_only_a_guest_launched_as_an_snp_vm():
    snp = row(arch='AMD-SEV-SNP')
    ordinary = effective(metadata={'sod:options': '1,2'})
    verdict = RULE.check(ordinary, 'snp1', snp, AT)
    assert not verdict.compliant
    assert verdict.trigger == rule_mod.POLICY_CHANGE
    assert ('AMD-SEV-SNP protects C, I against Other VMs; C, I against '
            'Hypervisor' in verdict.reason)
    assert ('only for a guest launched with hw:mem_encryption=true, '
            'hw:mem_encryption_model=amd-sev-snp' in verdict.reason)
    assert 'this VM is an ordinary guest' in verdict.reason
    confidential = effective(flavor_extra_specs=SNP,
                             metadata={'sod:options': '1,2'})
    assert RULE.check(confidential, 'snp1', snp, AT).compliant
    # A TDX guest is not an SNP guest.
    tdx = effective(flavor_extra_specs=TDX, metadata={'sod:options': '1,2'})
    assert not RULE.check(tdx, 'snp1', snp, AT).compliant
    assert RULE.check(tdx, 'tdx1', row(arch='Intel-TDX'), AT).compliant
    # The paper's rows protect every VM on the server, confidential or not.
    assert RULE.check(confidential, 'hw1', row(), AT).compliant


def test_rows_nova_cannot_launch_a_guest_for_protect_no_vm():
    for arch in ('Intel-SGX', 'Arm-CCA'):
        for flavor in ({}, SNP, TDX, VTPM):
            found = effective(flavor_extra_specs=flavor,
                              metadata={'sod:options': '2'})
            verdict = RULE.check(found, 'h', row(arch=arch), AT)
            assert not verdict.compliant, (arch, flavor)
            assert 'Nova 34 cannot launch' in verdict.reason


def test_a_vtpm_row_protects_only_a_guest_with_a_vtpm():
    found = effective(metadata={'sod:options': '6'})
    assert not RULE.check(found, 'v', row(arch='vTPM-Measured-Boot'), AT).compliant
    with_vtpm = effective(flavor_extra_specs=VTPM, metadata={'sod:options': '6'})
    assert RULE.check(with_vtpm, 'v', row(arch='vTPM-Measured-Boot'), AT).compliant


def test_a_malformed_request_is_refused_everywhere_with_the_reason():
    found = effective(flavor_extra_specs=SNP, metadata={'sod:options': 'banana'})
    for arch in CATALOG.names():
        verdict = RULE.check(found, 'h', row(arch=arch), AT)
        assert not verdict.compliant
        assert 'malformed security request' in verdict.reason
        assert 'instance metadata sod:options' in verdict.reason


def test_the_fast_test_agrees_with_the_explained_one():
    rows = [None, row(), row(state='untrusted'), row(state='unreachable'),
            row(until=None), row(until=AT),
            row(until=AT - datetime.timedelta(microseconds=1)),
            row(arch='Unknown', mask=0b1111)]
    rows += [row(arch=a.name) for a in CATALOG.architectures]
    requests = [{}, {'sod:options': '1'}, {'sod:options': '1,2'},
                {'sod:options': '3', 'sod:properties': 'C'},
                {'sod:package': 'medical-records'}, {'sod:options': '2,5'},
                {'sod:options': '6'}, {'sod:options': 'x'}]
    launches = [{}, SNP, TDX, VTPM, dict(SNP, **VTPM)]
    verdicts = set()
    for the_row in rows:
        for metadata in requests:
            for flavor in launches:
                found = effective(flavor_extra_specs=flavor, metadata=metadata)
                fast = RULE.passes(found.request.mask, the_row, found.guest, AT)
                assert fast == RULE.check(found, 'h', the_row, AT).compliant
                verdicts.add(fast)
    assert verdicts == {True, False}


def test_hosts_and_why_there_is_none():
    rows = [row(host='hw1'), row(host='hw2', state='untrusted'),
            row(host='hw3'), row(host='tpm1', arch='TPM'),
            row(host='snp1', arch='AMD-SEV-SNP')]
    ordinary = effective(metadata={'sod:options': '1,2'})
    confidential = effective(flavor_extra_specs=SNP,
                             metadata={'sod:options': '1,2'})
    assert RULE.hosts(ordinary, rows, AT) == ['hw1', 'hw3']
    # A confidential guest runs only where its hardware is: HyperWall would
    # protect it, but Nova cannot launch it there.
    assert RULE.hosts(confidential, rows, AT) == ['snp1']
    vtpm = effective(flavor_extra_specs=VTPM, metadata={'sod:options': '1,2'})
    assert RULE.hosts(vtpm, rows, AT) == ['hw1', 'hw3']
    assert RULE.hosts(ordinary, rows, AT, exclude={'hw1'}) == ['hw3']
    reason = RULE.no_host_reason(ordinary, rows[3:], AT)
    assert reason.startswith('no compliant host: ')
    assert 'only for a guest launched with' in reason
    assert RULE.no_host_reason(ordinary, rows[1:2], AT) == (
        'no compliant host: no other trusted host')
    assert RULE.no_host_reason(
        ordinary, rows, AT, exclude={'hw0'}, failed=('hw3', 'hw1')) == (
            'no compliant host left: migrations to hw1, hw3 failed')


def test_distrust_says_why_a_row_protects_nothing():
    assert compliance.distrust(row(), AT) is None
    assert 'no capability row' in compliance.distrust(None, AT)
    assert compliance.distrust(row(state='untrusted'), AT) == 'untrusted: because'
    assert 'has expired' in compliance.distrust(
        row(until=AT - datetime.timedelta(seconds=1)), AT)


def test_hosts_made_for_the_guest():
    snp = effective(flavor_extra_specs=SNP).guest
    assert RULE.made_for(row(arch='AMD-SEV-SNP'), snp)
    assert not RULE.made_for(row(arch='HyperWall'), snp)
    assert not RULE.made_for(row(arch='Intel-TDX'), snp)
    assert not RULE.made_for(row(arch='AMD-SEV-SNP'), ORDINARY)
    assert not RULE.made_for(row(arch='Unknown'), snp)


def test_no_host_for_a_confidential_guest_says_none_can_run_it():
    confidential = effective(flavor_extra_specs=SNP,
                             metadata={'sod:options': '1,2'})
    reason = RULE.no_host_reason(confidential, [row(host='hw1')], AT)
    assert reason == (
        'no compliant host: no other trusted host can run a guest launched '
        'with hw:mem_encryption=true, hw:mem_encryption_model=amd-sev-snp '
        '(Nova launches it only on hardware of its kind)')
