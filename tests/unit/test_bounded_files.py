"""Hostile catalogue, package, scenario and reference files: each is refused
in one line by its loader's own error type, before it costs time or memory."""

import pytest

from sod_nova import yamlfile
from sod_nova.catalog import Catalog
from sod_nova.catalog import CatalogError
from sod_nova.cloud import scenario
from sod_nova.trust import references


def _aliases(levels):
    """A "billion laughs" value: ``levels`` lists of 9 aliases of the one
    below; small here (9**levels items), the same shape as a bomb."""
    value = '&a0 [x, x, x, x, x, x, x, x, x]'
    for level in range(1, levels + 1):
        value = '&a%d [%s, %s]' % (level, value,
                                    ', '.join(['*a%d' % (level - 1)] * 8))
    return value


#: (what, YAML text with ``{value}`` where the hostile value goes, the
#: error's words). The same value in a catalogue, a scenario and a
#: reference file.
HOSTILE = [
    ('aliases', _aliases(2), 'anchors and aliases (&, *) are not allowed'),
    ('one alias', '&x [1]', 'anchors and aliases (&, *) are not allowed'),
    ('nesting', '[' * 40 + ']' * 40, 'nested more than 32 levels deep'),
    ('nesting past the recursion limit', '[' * 5000 + ']' * 5000,
     'nested more than 32 levels deep'),
    ('a huge integer', '9' * 5000, 'is out of range (at most'),
    ('a huge hexadecimal integer', '0x' + 'f' * 5000, 'is out of range'),
    ('an integer just past 64 bits', str(2 ** 63), 'is out of range'),
]


def _write(tmp_path, text, name='f.yaml'):
    path = tmp_path / name
    path.write_bytes(text.encode('utf-8') if isinstance(text, str) else text)
    return str(path)


def _arch_catalog(value):
    return 'version: 1\narchitectures:\n  - name: %s\n    cells: {}\n' % value


def _packages(value):
    return 'version: 1\npackages:\n  - name: p\n    options: %s\n' % value


def _scenario(value):
    return ('name: %s\nhosts:\n  - {name: hw1, architecture: TPM}\n' % value)


def _references(value):
    return 'TPM: {0: %s}\n' % value


def known(name):
    arch = Catalog.load().get(name)
    return arch.name if arch else None


LOADERS = {
    'architectures': (_arch_catalog, lambda p: Catalog.load(p), CatalogError),
    'packages': (_packages, lambda p: Catalog.load(None, p), CatalogError),
    'scenario': (_scenario, lambda p: scenario.load_file(p, known),
                 scenario.ScenarioError),
    'references': (_references, references.References.load, ValueError),
}


@pytest.mark.parametrize('loader', sorted(LOADERS))
@pytest.mark.parametrize('what,value,words', HOSTILE,
                         ids=[h[0] for h in HOSTILE])
def test_a_hostile_value_is_one_line_of_the_loaders_error(
        tmp_path, loader, what, value, words):
    template, load, error = LOADERS[loader]
    path = _write(tmp_path, template(value))
    with pytest.raises(error) as caught:
        load(path)
    message = str(caught.value)
    assert message.startswith(path + ':') and words in message, message
    assert '\n' not in message and len(message) < 200


@pytest.mark.parametrize('loader', sorted(LOADERS))
def test_a_file_that_is_not_utf8_names_the_byte(tmp_path, loader):
    template, load, error = LOADERS[loader]
    path = _write(tmp_path, template('caf\xe9').encode('latin-1'))
    with pytest.raises(error, match=r'not a UTF-8 text file \(byte \d+\)'):
        load(path)


def test_a_catalogue_larger_than_the_limit_is_not_read_whole(tmp_path):
    path = _write(tmp_path, _packages('[1]') + '#' * (1024 * 1024))
    with pytest.raises(CatalogError, match='larger than the limit of 1048576'):
        Catalog.load(None, path)


def test_a_reference_file_that_cannot_be_read_is_one_line(tmp_path):
    with pytest.raises(ValueError, match='cannot read'):
        references.References.load(str(tmp_path / 'absent.yaml'))


@pytest.mark.parametrize('row,words', [
    ('  - name: [a, b]\n    options: [1]\n',
     'packages[0].name: must be a string, not list'),
    ('  - name: {a: 1}\n    options: [1]\n',
     'packages[0].name: must be a string, not dict'),
    ('  - name: p\n    options: [[1, 2]]\n',
     'packages[0] (p).options: must be a value or a list of values'),
    ('  - name: p\n    options: {1: x}\n',
     'packages[0] (p).options: must be a value or a list of values'),
    ('  - name: p\n    options: [1]\n    properties: [[C]]\n',
     'packages[0] (p).properties: must be a value or a list of values'),
])
def test_package_values_are_type_checked_before_they_become_text(
        tmp_path, row, words):
    path = _write(tmp_path, 'version: 1\npackages:\n' + row)
    with pytest.raises(CatalogError) as caught:
        Catalog.load(None, path)
    assert str(caught.value) == '%s: %s' % (path, words)


def test_architecture_fields_are_type_checked(tmp_path):
    cells = ''.join('      %s: [no, no]\n' % e for e in (
        'other_vms', 'hypervisor', 'hw_attacks', 'cloud_manager',
        'same_os', 'other_apps', 'same_app'))
    for field, value, words in [
            ('reference', '[a]', 'reference: must be a string, not list'),
            ('kind', '{a: b}', 'kind: must be a string, not dict'),
            ('protected_entity', '7', 'protected_entity: must be a string')]:
        path = _write(tmp_path, 'version: 1\narchitectures:\n  - name: A\n'
                      '    %s: %s\n    cells:\n%s' % (field, value, cells))
        with pytest.raises(CatalogError, match=r'architectures\[0\] \(A\)\.' + words):
            Catalog.load(path)
    path = _write(tmp_path, 'version: 1\narchitectures:\n  - name: A\n'
                  '    cells:\n%s' % cells.replace('[no, no]', '[[no], no]', 1))
    with pytest.raises(CatalogError, match=r'\[False\] is not one of yes, no'):
        Catalog.load(path)


def test_scenario_security_values_are_type_checked(tmp_path):
    path = _write(tmp_path, _scenario('s') + 'vms:\n  - name: v\n'
                  '    security: {options: [[1]]}\n')
    with pytest.raises(scenario.ScenarioError,
                       match='vms.0..security.options: must be a value or'):
        scenario.load_file(path, known)
    path = _write(tmp_path, _scenario('{a: b}'))
    with pytest.raises(scenario.ScenarioError, match='name: must be a string'):
        scenario.load_file(path, known)


def test_the_loader_still_reads_ordinary_yaml_and_json():
    assert yamlfile.load('{"TPM": {"0": "ab"}, "n": [1, -2, 0x10, 2.5]}',
                         's') == {'TPM': {'0': 'ab'}, 'n': [1, -2, 16, 2.5]}
    nested = []
    for _ in range(31):             # 32 lists, each in the next: allowed
        nested = [nested]
    assert yamlfile.load('[' * 32 + ']' * 32, 's') == nested
    assert yamlfile.load(str(2 ** 63 - 1), 's') == 2 ** 63 - 1


@pytest.mark.parametrize('command', [
    ['catalog', 'list', '--packages'],
    ['catalog', 'list', '--catalog'],
    ['simulate'],
])
@pytest.mark.parametrize('what,value,words', [
    HOSTILE[0], HOSTILE[3], HOSTILE[4]], ids=['aliases', 'deep', 'integer'])
def test_the_cli_exits_2_with_one_line(tmp_path, command, what, value, words, sod_cli):
    template = {'--packages': _packages, '--catalog': _arch_catalog}.get(
        command[-1], _scenario)
    path = _write(tmp_path, template(value))
    result = sod_cli(*command, path)
    assert result.returncode == 2, result.stderr
    (line,) = [x for x in result.stderr.splitlines()
               if x.startswith('sod-nova:')]
    assert line.startswith('sod-nova: %s:' % path) and words in line
    assert 'Traceback' not in result.stderr
