"""The traits the publisher uses are valid Placement custom traits and only
sod-nova's own; a usable row earns the cell traits of what it protects for
any guest, plus an attested trait where it protects more for a guest
launched for it; a row not usable earns none."""

import dataclasses
import datetime
import re

import os_traits
import pytest

from sod_nova.catalog import Catalog
from sod_nova.catalog import architecture as arch_mod
from sod_nova.compliance import rule as rule_mod
from sod_nova.db import api as db_api
from sod_nova.policy import entities
from sod_nova.policy.entities import Entity
from sod_nova.policy.entities import Property
from sod_nova.trust import traits

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
LATER = NOW + datetime.timedelta(seconds=5)
CATALOG = Catalog.load()
RULE = rule_mod.Rule(CATALOG)
CUSTOM = re.compile(r'CUSTOM_[A-Z0-9_]{1,248}')


def row(arch, state='trusted', mask=None, at=NOW):
    if mask is None:
        mask = CATALOG.capability_mask(arch)
    until = None if at is None else db_api.evidence_valid_until(at, 10)
    return db_api.HostRow('h', arch, state, '', mask, at, valid_until=until)


def cells(*pairs):
    return {traits.trait_name(e, p) for e, p in pairs}


def test_cell_traits_are_placement_custom_traits():
    assert len(traits.CELL_TRAITS) == 14
    for name in traits.CELL_TRAITS:
        assert CUSTOM.fullmatch(name), name
    assert 'CUSTOM_SOD_HYPERVISOR_C' in traits.CELL_TRAITS


def test_the_shipped_guest_conditional_rows_have_attested_traits():
    assert traits.attested_traits(CATALOG) == {
        'AMD-SEV-SNP': 'CUSTOM_SOD_ATTESTED_AMD_SEV_SNP',
        'Intel-TDX': 'CUSTOM_SOD_ATTESTED_INTEL_TDX',
        'Intel-SGX': 'CUSTOM_SOD_ATTESTED_INTEL_SGX',
        'Arm-CCA': 'CUSTOM_SOD_ATTESTED_ARM_CCA',
        'vTPM-Measured-Boot': 'CUSTOM_SOD_ATTESTED_VTPM_MEASURED_BOOT',
    }
    for name in traits.attested_traits(CATALOG).values():
        assert CUSTOM.fullmatch(name) and traits.is_ours(name), name


def test_no_standard_trait_is_ours():
    standard = set(os_traits.get_traits())
    assert not any(traits.is_ours(t) for t in standard)
    assert traits.LEGACY_STANDARD <= standard
    assert CUSTOM.fullmatch(traits.LEGACY_REMOVED)
    assert not traits.is_ours(traits.LEGACY_REMOVED)   # on no provider
    assert not traits.is_ours('CUSTOM_SOD_SOMETHING_ELSE')


def test_a_row_for_every_guest_earns_the_traits_of_its_cells():
    assert traits.traits_for(RULE, row('HyperWall'), LATER) == cells(
        (Entity.OTHER_VMS, Property.C), (Entity.OTHER_VMS, Property.I),
        (Entity.HYPERVISOR, Property.C), (Entity.HYPERVISOR, Property.I))


def test_a_confidential_computing_row_earns_only_its_attested_trait():
    earned = traits.traits_for(RULE, row('AMD-SEV-SNP'), LATER)
    assert earned == {'CUSTOM_SOD_ATTESTED_AMD_SEV_SNP'}
    assert 'CUSTOM_SOD_HYPERVISOR_C' not in earned
    assert traits.traits_for(RULE, row('Intel-TDX'), LATER) == {
        'CUSTOM_SOD_ATTESTED_INTEL_TDX'}
    assert traits.traits_for(RULE, row('vTPM-Measured-Boot'), LATER) == {
        'CUSTOM_SOD_ATTESTED_VTPM_MEASURED_BOOT'}


def test_cells_kept_for_any_guest_stay_cell_traits():
    other_vms = (entities.bit(Entity.OTHER_VMS, Property.C)
                 | entities.bit(Entity.OTHER_VMS, Property.I))
    snp = CATALOG.get('AMD-SEV-SNP')
    partly = dataclasses.replace(
        snp, name='Partly SNP', guest=arch_mod.GuestRequirement(
            'amd-sev-snp', 'test', without_mask=other_vms))
    wholly = dataclasses.replace(
        snp, name='Wholly SNP', guest=arch_mod.GuestRequirement(
            'amd-sev-snp', 'test', without_mask=entities.ALL_CELLS_MASK))
    rule = rule_mod.Rule(Catalog([partly, wholly], {}))
    mask = snp.capability_mask()
    assert traits.traits_for(rule, row('Partly SNP', mask=mask), LATER) == (
        cells((Entity.OTHER_VMS, Property.C), (Entity.OTHER_VMS, Property.I))
        | {'CUSTOM_SOD_ATTESTED_PARTLY_SNP'})
    # Nothing more for a guest launched for it: no attested trait.
    whole = traits.traits_for(rule, row('Wholly SNP', mask=mask), LATER)
    assert 'CUSTOM_SOD_HYPERVISOR_C' in whole
    assert not any(t.startswith(traits.ATTESTED_PREFIX) for t in whole)


def test_a_row_that_protects_no_guest_earns_nothing():
    assert traits.traits_for(RULE, row('AMD-SEV-SNP', mask=0), LATER) == set()
    assert traits.traits_for(RULE, row('Not-In-Catalogue', mask=0b1111),
                             LATER) == set()


@pytest.mark.parametrize('arch', ['HyperWall', 'AMD-SEV-SNP'])
def test_untrusted_stale_or_missing_rows_earn_nothing(arch):
    assert traits.traits_for(RULE, row(arch, state='untrusted'), LATER) == set()
    assert traits.traits_for(RULE, row(arch, state='unreachable'),
                             LATER) == set()
    assert traits.traits_for(
        RULE, row(arch, at=NOW - datetime.timedelta(seconds=60)),
        LATER) == set()
    assert traits.traits_for(RULE, row(arch, at=None), LATER) == set()
    assert traits.traits_for(RULE, None, LATER) == set()


def test_architecture_names_are_upper_cased_with_underscores():
    assert traits.attested_trait('vTPM-Measured-Boot') == (
        'CUSTOM_SOD_ATTESTED_VTPM_MEASURED_BOOT')
    assert traits.attested_trait('Acme CC/2 (beta)') == (
        'CUSTOM_SOD_ATTESTED_ACME_CC_2__BETA_')


def guest_row(name):
    return dataclasses.replace(CATALOG.get('AMD-SEV-SNP'), name=name)


def test_rows_that_would_share_a_trait_are_refused_with_both_names():
    catalog = Catalog([guest_row('Acme-CC'), guest_row('Acme CC')], {})
    with pytest.raises(ValueError, match=r"'Acme CC' publishes as trait "
                       r"CUSTOM_SOD_ATTESTED_ACME_CC, as 'Acme-CC' does"):
        traits.attested_traits(catalog)
    with pytest.raises(ValueError, match='Acme CC'):
        traits.TraitPublisher(None, None, catalog)   # before any I/O


def test_a_name_too_long_for_placement_is_refused():
    catalog = Catalog([guest_row('X' * 240)], {})
    with pytest.raises(ValueError, match='longer than the 255 characters'):
        traits.attested_traits(catalog)
