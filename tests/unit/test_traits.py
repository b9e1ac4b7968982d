"""Trait names the publisher uses are valid Placement traits, and a row
earns exactly the traits of its verified cells while usable."""

import datetime
import re

import os_traits

from sod_nova.catalog import Catalog
from sod_nova.db import api as db_api
from sod_nova.trust import traits

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def test_custom_names_are_placement_custom_traits():
    assert len(traits.ALL_CUSTOM) == 14
    for name in traits.ALL_CUSTOM:
        assert re.fullmatch(r'CUSTOM_[A-Z0-9_]{1,248}', name), name
    assert 'CUSTOM_SOD_HYPERVISOR_C' in traits.ALL_CUSTOM


def test_standard_traits_exist_and_name_catalogue_architectures():
    known = set(os_traits.get_traits())
    names = set(Catalog.load().names())
    for arch, standard in traits.STANDARD_TRAITS.items():
        assert arch in names, arch
        for trait in standard:
            assert trait in known and trait.startswith('HW_CPU_'), trait


def row(state='trusted', mask=0b1111, arch='AMD-SEV-SNP', at=NOW):
    until = None if at is None else db_api.evidence_valid_until(at, 10)
    return db_api.HostRow('h', arch, state, '', mask, at, valid_until=until)


def test_a_usable_row_earns_its_cells_and_standard_traits():
    earned = traits.traits_for(row(), NOW + datetime.timedelta(seconds=5))
    assert earned == {'CUSTOM_SOD_OTHER_VMS_C', 'CUSTOM_SOD_OTHER_VMS_I',
                      'CUSTOM_SOD_HYPERVISOR_C', 'CUSTOM_SOD_HYPERVISOR_I',
                      'HW_CPU_X86_AMD_SEV_SNP'}


def test_untrusted_stale_or_missing_rows_earn_nothing():
    now = NOW + datetime.timedelta(seconds=5)
    assert traits.traits_for(row(state='untrusted'), now) == set()
    assert traits.traits_for(row(state='unreachable'), now) == set()
    assert traits.traits_for(row(at=NOW - datetime.timedelta(seconds=60)),
                             now) == set()
    assert traits.traits_for(row(at=None), now) == set()
    assert traits.traits_for(None, now) == set()
