"""The capability catalogue: Table III as printed, matching, explaining, bad files."""

import textwrap

import pytest
import yaml

from sod_nova.catalog import Catalog
from sod_nova.catalog import CatalogError
from sod_nova.catalog import Cell
from sod_nova.catalog import loader
from sod_nova.catalog import request_for
from sod_nova.catalog import schema
from sod_nova.policy import entities
from sod_nova.policy.entities import Entity
from sod_nova.policy.entities import Property
from sod_nova.policy.request import SecurityRequest

# Table III of the paper, copied as printed (columns: Same App C I, Other Apps
# C I, Same OS C I, Other VMs C I, Hypervisor C I, HW attacks C I, Cloud Mgr.
# C I, Protected Entity). "No*" is NoHype's removed hypervisor.
TABLE_III = """
AEGIS      No  No  Yes Yes No  No  n-a n-a n-a n-a n-a n-a n-a n-a Data+App
XOM        No  No  Yes Yes Yes Yes n-a n-a n-a n-a n-a n-a n-a n-a App
SP         Yes Yes Yes Yes Yes Yes n-a n-a n-a n-a n-a n-a n-a n-a Data+TSM
Bastion    Yes Yes Yes Yes Yes Yes Yes Yes No  No  Yes Yes No  No  Data+TSMs
DataSafe   Yes Yes Yes Yes Yes Yes Yes Yes No  No  No  No  No  No  Data
H-SVM      No  No  No  No  No  No  Yes Yes Yes Yes No  No  No  No  Full_VM
HyperWall  No  No  No  No  No  No  Yes Yes Yes Yes No  No  No  No  Full_VM
NoHype     No  No  No  No  No  No  Yes Yes No* No* No  No  No  No  Full_VM
Overshadow No  No  Yes Yes No  No  n-a n-a n-a n-a No  No  No  No  Data+App
HyperSafe  No  No  No  No  No  No  Yes Yes No  No  No  No  No  No  Full_VM
TPM        No  Yes Yes Yes No  No  n-a n-a n-a n-a No  No  No  No  Data+App
Cell       No  Yes Yes Yes Yes Yes Yes Yes Yes Yes Yes No  n-a n-a Data+App
IBM-4758   No  Yes Yes Yes No  No  n-a n-a n-a n-a Yes Yes n-a n-a Data+App
"""
PRINTED = {'Yes': Cell.YES, 'No': Cell.NO, 'n-a': Cell.NA, 'No*': Cell.REMOVED}


def _paper_rows():
    for line in TABLE_III.strip().splitlines():
        name, *cells, protected = line.split()
        yield name, [PRINTED[c] for c in cells], protected.replace('_', ' ')


@pytest.fixture(scope='module')
def catalog():
    return Catalog.load()


def test_all_thirteen_paper_rows_in_order(catalog):
    assert catalog.names()[:13] == [name for name, _, _ in _paper_rows()]


@pytest.mark.parametrize('name,cells,protected', list(_paper_rows()))
def test_every_table_iii_cell(catalog, name, cells, protected):
    arch = catalog.get(name)
    assert [arch.cells[c] for c in entities.CELLS] == cells
    assert arch.protected_entity == protected


def test_names_match_case_insensitively(catalog):
    assert catalog.get('hyperwall').name == 'HyperWall'
    assert catalog.get(' IBM-4758 ').name == 'IBM-4758'
    assert catalog.get('nope') is None
    assert catalog.capability_mask('nope') == 0


def test_present_day_rows_have_reasons_and_sources(catalog):
    present = [a for a in catalog.architectures if a.kind == 'present-day']
    assert len(present) >= 4
    for arch in present:
        assert arch.reference
        assert set(arch.why) == set(entities.CELLS), arch.name


def test_vm_a_and_vm_b_on_the_paper_servers(catalog):
    servers = ['HyperWall', 'TPM', 'DataSafe']
    vm_a = SecurityRequest.from_options([1])
    vm_b = SecurityRequest.from_options([1, 2])
    assert catalog.satisfying(vm_a, servers) == ['DataSafe', 'HyperWall']
    assert catalog.satisfying(vm_b, servers) == ['HyperWall']
    medical = catalog.packages['medical-records']
    assert catalog.satisfying(medical, servers) == ['DataSafe']
    assert catalog.satisfying(medical) == ['Bastion', 'DataSafe']


def test_n_a_never_satisfies(catalog):
    # TPM is n-a against Other VMs: option 1 is not met by it.
    assert 'TPM' not in catalog.satisfying(SecurityRequest.from_options([1]))


def test_removed_only_counts_when_the_operator_says_so():
    vm_b = SecurityRequest.from_options([1, 2])
    assert 'NoHype' not in Catalog.load().satisfying(vm_b)
    assert 'NoHype' in Catalog.load(removed_counts_as_protected=True).satisfying(vm_b)


def test_partial_properties(catalog):
    # Cell protects C but not I against HW attacks.
    hw_c = SecurityRequest.from_options([3], [Property.C])
    hw_i = SecurityRequest.from_options([3], [Property.I])
    assert 'Cell' in catalog.satisfying(hw_c)
    assert 'Cell' not in catalog.satisfying(hw_i)


def test_explain_is_none_when_satisfied(catalog):
    assert catalog.explain(SecurityRequest.from_options([1])) is None


def test_explain_names_unmet_cells_and_closest(catalog):
    request = SecurityRequest.from_options([1, 2, 3])
    text = catalog.explain(request, ['HyperWall', 'TPM', 'DataSafe'])
    assert text == ('no architecture available protects C, I against HW attacks; '
                    'closest: HyperWall (lacks C, I against HW attacks)')
    text = catalog.explain(request)
    assert text.startswith('closest: Cell, AMD-SEV-SNP, Intel-TDX, Intel-SGX')
    assert text.endswith('(each lacks I against HW attacks)')


def test_explain_with_different_misses(catalog):
    request = SecurityRequest.from_options([2, 7])
    text = catalog.explain(request, ['HyperWall', 'DataSafe'])
    assert text.startswith('closest, 2 unmet cells each: ')
    assert 'HyperWall lacks C, I against Same App' in text
    assert 'DataSafe lacks C, I against Hypervisor' in text


def test_explain_with_no_servers(catalog):
    assert catalog.explain(SecurityRequest.from_options([1]), []) == \
        'no server architecture is available to satisfy C, I against Other VMs'


def test_closest_counts_unmet_cells(catalog):
    count, near = catalog.closest(SecurityRequest.from_options([1, 2, 5]),
                                  ['HyperWall', 'DataSafe'])
    assert count == 2
    assert [n for n, _ in near] == ['DataSafe', 'HyperWall']


def test_shipped_packages(catalog):
    assert {n: r.options for n, r in catalog.packages.items()} == {
        'basic': (1,), 'hypervisor-protected': (1, 2),
        'hardware-protected': (1, 2, 3), 'medical-records': (1, 5, 6, 7)}
    for request in catalog.packages.values():
        for entity in request.options:
            assert request.properties_for(Entity(entity)) == (Property.C, Property.I)


def test_request_for_uses_catalog_packages(catalog):
    assert request_for(catalog, {'sod:package': 'basic'}).options == (1,)


# ---- malformed data files -------------------------------------------------

GOOD_CELLS = """
      same_app: [no, no]
      other_apps: [no, no]
      same_os: [no, no]
      other_vms: [yes, yes]
      hypervisor: [yes, yes]
      hw_attacks: [no, no]
      cloud_manager: [no, no]
"""


def _write(tmp_path, text, name='arch.yaml'):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def _arch_file(tmp_path, row):
    return _write(tmp_path, 'version: 1\narchitectures:\n' + row)


def test_operator_file_overrides(tmp_path):
    path = _arch_file(tmp_path, '  - name: MyBox\n    cells:' + GOOD_CELLS)
    catalog = Catalog.load(path)
    assert catalog.names() == ['MyBox']
    assert catalog.satisfying(SecurityRequest.from_options([1, 2])) == ['MyBox']


@pytest.mark.parametrize('row,message', [
    ('  - cells:' + GOOD_CELLS, 'architectures[0].name: missing'),
    ('  - name: A\n    cells:' + GOOD_CELLS.replace('[yes, yes]', '[maybe, yes]', 1),
     "architectures[0] (A).cells.other_vms.C: 'maybe' is not one of yes, no, n-a, removed"),
    ('  - name: A\n    cells:' + GOOD_CELLS.replace('      cloud_manager: [no, no]\n', ''),
     'architectures[0] (A).cells.cloud_manager: missing'),
    ('  - name: A\n    cells:' + GOOD_CELLS + '      landlord: [no, no]\n',
     'architectures[0] (A).cells.landlord: not an attacker entity'),
    ('  - name: A\n    cells:' + GOOD_CELLS.replace('[no, no]', '[no]', 1),
     'architectures[0] (A).cells.same_app: must be [C, I]'),
    ('  - name: A\n    cells: 3\n', 'architectures[0] (A).cells: must be a mapping'),
    ('  - name: A\n    kind: present-day\n    reference: x\n    cells:' + GOOD_CELLS,
     'architectures[0] (A).cells.same_app.C: a present-day row needs a rationale'),
    ('  - name: A\n    cells:' + GOOD_CELLS + '  - name: a\n    cells:' + GOOD_CELLS,
     'architectures[1] (a).name: duplicate of an earlier row'),
    ('  - just a string\n', 'architectures[0]: must be a mapping'),
    ('  - name: A\n', 'architectures[0] (A).cells: missing'),
    ('  - name: A\n    cells:' + GOOD_CELLS.replace('[no, no]', '{C: [no, why], I: [no, 3]}', 1),
     'architectures[0] (A).cells.same_app.I rationale: must be a string, not int'),
    ('  - name: A\n    cells:' + GOOD_CELLS.replace('[no, no]', '{C: no}', 1),
     'architectures[0] (A).cells.same_app.I: missing'),
    ('  - name: A\n    cells:' + GOOD_CELLS.replace('[no, no]', '{C: [no, a, b], I: no}', 1),
     'architectures[0] (A).cells.same_app.C: must be a value or [value, why]'),
    ('  - name: A\n    guest: {needs: vtpm}\n    cells:' + GOOD_CELLS,
     'architectures[0] (A).guest.source: missing (the vendor document'),
    ('  - name: A\n    guest: {needs: tpm, source: x}\n    cells:' + GOOD_CELLS,
     "architectures[0] (A).guest.needs: 'tpm' is not a guest feature"),
    ('  - name: A\n    guest: {needs: vtpm, source: x, by: y}\n    cells:' + GOOD_CELLS,
     'architectures[0] (A).guest.by: unknown key (known: needs, source, without)'),
    ('  - name: A\n    guest: {needs: vtpm, source: x, without: [[hypervisor, X]]}\n'
     '    cells:' + GOOD_CELLS, 'architectures[0] (A).guest.without[0]: must be [entity, C|I]'),
    ('  - name: A\n    guest: {needs: vtpm, source: x, without: [[same_os, C]]}\n'
     '    cells:' + GOOD_CELLS,
     'architectures[0] (A).guest.without[0]: the row does not protect C Same OS at all'),
])
def test_malformed_catalogue_names_file_row_and_field(tmp_path, row, message):
    path = _arch_file(tmp_path, row)
    with pytest.raises(CatalogError) as exc:
        Catalog.load(path)
    assert str(exc.value).startswith('%s: %s' % (path, message))


@pytest.mark.parametrize('text,message', [
    ('architectures: [', 'not valid YAML'),
    ('rows: []', "needs a top-level list 'architectures'"),
    ('version: 2\narchitectures: []', 'version 2 is not supported'),
    ('architectures: {}', "needs a top-level list 'architectures'"),
    ('- AEGIS', "needs a top-level list 'architectures'"),
])
def test_malformed_catalogue_documents(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(CatalogError, match=message):
        loader.load_architectures(path)


def test_missing_catalogue_file(tmp_path):
    with pytest.raises(CatalogError, match='cannot read'):
        loader.load_architectures(str(tmp_path / 'absent.yaml'))


@pytest.mark.parametrize('row,message', [
    ('  - name: p\n    options: [1, 4]\n',
     'packages[0] (p).options: option 4 (Cloud Manager) is refused'),
    ('  - name: p\n    options: [8]\n', 'packages[0] (p).options: 8 is not an option'),
    ('  - name: p\n', 'packages[0] (p).options: empty value'),
    ('  - name: p\n    options: [1]\n    properties: [X]\n',
     "packages[0] (p).properties: 'X' is not a property"),
])
def test_malformed_package_file(tmp_path, row, message):
    path = _write(tmp_path, 'packages:\n' + row, 'packages.yaml')
    with pytest.raises(CatalogError) as exc:
        loader.load_packages(path)
    assert str(exc.value).startswith('%s: %s' % (path, message))


def test_package_with_its_own_properties(tmp_path):
    path = _write(tmp_path, 'packages:\n  - name: c-only\n    options: [1]\n'
                            '    properties: [C]\n', 'packages.yaml')
    assert loader.load_packages(path)['c-only'] == SecurityRequest.from_options(
        [1], [Property.C])


@pytest.mark.parametrize('filename', [loader.ARCHITECTURES_FILE, loader.PACKAGES_FILE])
def test_the_shipped_files_follow_their_schemas(filename):
    doc = yaml.safe_load(open(loader.default_path(filename), encoding='utf-8'))
    section = filename.split('.')[0]
    assert schema.first_error(section + '.schema.json', doc, str) is None
    doc[section][0]['name'] = ['not', 'a', 'string']
    assert schema.first_error(section + '.schema.json', doc, str) == (
        "['%s', 0, 'name']: must be a string, not list" % section)


def test_the_schema_names_the_entities_and_properties_of_the_policy():
    """The attacker entities are spelled out in the schema (Table I as data);
    they must be the policy's, in the matrix order."""
    defs = schema.validator('architectures.schema.json').schema['$defs']
    keys = [e.key for e in entities.MATRIX_ORDER]
    assert list(defs['cells']['properties']) == keys
    assert defs['cells']['required'] == keys
    pair = defs['guest']['properties']['without']['items']['anyOf'][0]['prefixItems']
    assert pair == [{'enum': keys}, {'enum': [p.name for p in entities.PROPERTY_ORDER]}]
    assert list(defs['pair']['else']['properties']) == [
        p.name for p in entities.PROPERTY_ORDER]
