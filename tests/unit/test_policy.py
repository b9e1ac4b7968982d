"""The security model: options, properties, the Table II rows, parsing errors."""

import pytest

from sod_nova.policy import entities
from sod_nova.policy import parse
from sod_nova.policy.entities import Entity
from sod_nova.policy.entities import Property
from sod_nova.policy.request import EMPTY
from sod_nova.policy.request import SecurityRequest

PACKAGES = {
    'basic': SecurityRequest.from_options([1]),
    'medical-records': SecurityRequest.from_options([1, 5, 6, 7]),
}

# Table II, read column by column (Same App C I, Other Apps C I, Same OS C I,
# Other VMs C I, Hypervisor C I, HW attacks C I, Cloud Manager C I).
TABLE_II = {
    'VM-A': 'x x x x x x √ √ x x x x x x',
    'VM-B': 'x x x x x x √ √ √ √ x x x x',
}


def _row(request):
    return ' '.join('√' if cell in request else 'x' for cell in entities.CELLS)


def test_options_map_to_the_paper_entities():
    assert [(e.option, e.label) for e in Entity] == [
        (1, 'Other VMs'), (2, 'Hypervisor'), (3, 'HW attacks'),
        (4, 'Cloud Manager'), (5, 'Same OS'), (6, 'Other Apps'), (7, 'Same App')]


def test_every_cell_has_its_own_bit():
    bits = [entities.bit(e, p) for e, p in entities.CELLS]
    assert len(set(bits)) == 14
    assert sum(bits) == entities.ALL_CELLS_MASK == (1 << 14) - 1


@pytest.mark.parametrize('vm,mapping', [
    ('VM-A', {'sod:options': '1', 'sod:properties': 'C,I'}),
    ('VM-B', {'sod:options': '1,2'}),
])
def test_table_ii_rows(vm, mapping):
    request = parse.parse_request(mapping, PACKAGES)
    assert _row(request) == TABLE_II[vm]


def test_vm_b_matrix_and_options():
    request = parse.parse_request({'sod:options': '2, 1'}, PACKAGES)
    assert request.matrix() == {'Other VMs': ['C', 'I'], 'Hypervisor': ['C', 'I']}
    assert request.options == (1, 2)


def test_properties_apply_to_every_chosen_option():
    request = parse.parse_request(
        {'sod:options': '1,2', 'sod:properties': 'C'}, PACKAGES)
    assert request.cells == ((Entity.OTHER_VMS, Property.C),
                             (Entity.HYPERVISOR, Property.C))


def test_union_is_the_more_restrictive_request():
    a = SecurityRequest.from_options([1], [Property.C])
    b = SecurityRequest.from_options([2], [Property.I])
    union = a | b
    assert (Entity.OTHER_VMS, Property.C) in union
    assert (Entity.HYPERVISOR, Property.I) in union
    assert (Entity.OTHER_VMS, Property.I) not in union
    assert a | EMPTY == a


def test_package_and_options_combine():
    request = parse.parse_request(
        {'sod:package': 'Medical-Records', 'sod:options': '2', 'sod:properties': 'I'},
        PACKAGES)
    assert request == PACKAGES['medical-records'] | SecurityRequest.from_options(
        [2], [Property.I])


def test_request_is_immutable_and_hashable():
    request = SecurityRequest.from_options([1])
    with pytest.raises(AttributeError):
        request.mask = 0
    assert {request: 1}[SecurityRequest.from_options([1])] == 1


def test_bitmask_match():
    vm_b = SecurityRequest.from_options([1, 2])
    hyperwall = vm_b.mask  # exactly what VM-B asks
    assert vm_b.satisfied_by(hyperwall)
    assert vm_b.satisfied_by(hyperwall | entities.bit(Entity.SAME_OS, Property.C))
    assert not vm_b.satisfied_by(SecurityRequest.from_options([1]).mask)
    assert vm_b.unmet(SecurityRequest.from_options([1]).mask) == \
        SecurityRequest.from_options([2])
    assert EMPTY.satisfied_by(0)


def test_no_sod_keys_is_no_request():
    assert parse.parse_request({'other': 'x', 'hw:cpu_policy': 'dedicated'},
                               PACKAGES) is EMPTY
    assert parse.parse_request(None, PACKAGES) is EMPTY


def test_other_prefix_for_hints():
    request = parse.parse_request({'sod_options': '1'}, PACKAGES, prefix='sod_')
    assert request == PACKAGES['basic']


def test_describe_names_cells():
    assert SecurityRequest.from_options([2, 5], [Property.C]).describe() == \
        'C against Same OS; C against Hypervisor'
    assert EMPTY.describe() == 'no protection'


def test_mask_out_of_range_is_refused():
    with pytest.raises(ValueError):
        SecurityRequest(1 << 14)


@pytest.mark.parametrize('mapping,message', [
    ({'sod:options': '9'}, 'sod:options: 9 is not an option (1-7)'),
    ({'sod:options': '0'}, 'sod:options: 0 is not an option (1-7)'),
    ({'sod:options': 'one'}, 'sod:options: one is not an option (1-7)'),
    ({'sod:options': '4'}, 'sod:options: option 4 (Cloud Manager) is refused: '
                           'the cloud manager is trusted in this framework (paper §V)'),
    ({'sod:options': '1,4'}, 'sod:options: option 4 (Cloud Manager) is refused'),
    ({'sod:options': '1,1'}, 'sod:options: 1 is given twice'),
    ({'sod:options': ''}, 'sod:options: empty value'),
    ({'sod:options': ' , '}, 'sod:options: empty value'),
    ({'sod:options': '1,,2'}, "sod:options: empty item in '1,,2'"),
    ({'sod:options': []}, 'sod:options: empty value'),
    ({'sod:options': None}, 'sod:options: empty value'),
    ({'sod:options': '1', 'sod:properties': 'A'},
     "sod:properties: 'A' is not a property (C, I)"),
    ({'sod:options': '1', 'sod:properties': 'c,C'},
     'sod:properties: C is given twice'),
    ({'sod:options': '1', 'sod:properties': ''}, 'sod:properties: empty value'),
    ({'sod:properties': 'C'}, 'sod:properties: given without sod:options'),
    ({'sod:package': 'nope'}, "sod:package: 'nope' is not a security package "
                              "(known: basic, medical-records)"),
    ({'sod:package': ' '}, 'sod:package: empty value'),
    ({'sod:option': '1'}, 'sod:option: unknown key'),
    ({'sod:moving_target': '-5'},
     'sod:moving_target: must be a positive number of seconds'),
    ({'sod:moving_target': 'soon'},
     "sod:moving_target: 'soon' is not a number of seconds"),
    ({'sod:moving_target': '1' * 20},
     'sod:moving_target: must be at most 31536000 seconds (a year)'),
    ({'sod:moving_target': '9' * 5000},
     "sod:moving_target: '999999999999999999999999999999999999999... is not a "
     "number of seconds"),
    ({'sod:options': '8' * 5000},
     'sod:options: 8888888888888888888888888888888888888888... is not an option'),
])
def test_every_malformed_value_has_its_own_message(mapping, message):
    with pytest.raises(parse.PolicyError) as exc:
        parse.parse_request(mapping, PACKAGES)
    assert str(exc.value).startswith(message)
    assert exc.value.field == message.split(': ')[0]


def test_list_values_as_in_scenario_files():
    request = parse.parse_request({'sod:options': [1, 2], 'sod:properties': ['C']},
                                  PACKAGES)
    assert request.options == (1, 2)
    assert request.properties_for(Entity.HYPERVISOR) == (Property.C,)


def test_moving_target():
    assert parse.moving_target({'sod:moving_target': '300'}) == 300
    assert parse.moving_target({'sod:options': '1'}) is None


def test_entity_from_key():
    assert Entity.from_key('hw-attacks') is Entity.HW_ATTACKS
    with pytest.raises(ValueError, match='not an attacker entity'):
        Entity.from_key('landlord')
