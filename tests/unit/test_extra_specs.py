"""The sod: flavor extra-spec validators, as Nova's API runs them."""

from importlib import metadata

from nova import exception
from nova.api.validation.extra_specs import validators
import pytest

from sod_nova.api import extra_specs


def test_registered_with_nova_through_the_entry_point():
    entry_points = metadata.entry_points(group='nova.api.extra_spec_validators')
    assert {ep.name: ep.value for ep in entry_points}['sod'] == (
        'sod_nova.api.extra_specs')
    # Nova loads every validator when its API module is imported.
    for name in ('sod:options', 'sod:properties', 'sod:package',
                 'sod:moving_target'):
        assert isinstance(validators.VALIDATORS[name],
                          extra_specs.PolicyExtraSpecValidator)
    assert 'sod' in validators.NAMESPACES


@pytest.mark.parametrize('name, value', [
    ('sod:options', '1'), ('sod:options', '1,2,3'), ('sod:options', '7, 6'),
    ('sod:properties', 'C'), ('sod:properties', 'c,i'),
    ('sod:package', 'medical-records'), ('sod:package', 'Basic'),
    ('sod:moving_target', '600'),
])
def test_good_values_pass(name, value):
    validators.validate(name, value)


@pytest.mark.parametrize('name, value, message', [
    ('sod:options', '4', 'option 4 (Cloud Manager) is refused: the cloud '
                         'manager is trusted in this framework (paper §V)'),
    ('sod:options', '9', '9 is not an option (1-7)'),
    ('sod:options', '1,1', '1 is given twice'),
    ('sod:options', '', 'empty value'),
    ('sod:properties', 'A', "'A' is not a property (C, I)"),
    ('sod:package', 'nope', "'nope' is not a security package (known: basic,"),
    ('sod:moving_target', '0', "'0' is less than the min value of '1'"),
    ('sod:optons', '1', "extra spec 'sod:optons' does not appear to be a valid"),
])
def test_bad_values_are_refused_with_a_clear_message(name, value, message):
    with pytest.raises(exception.ValidationError) as info:
        validators.validate(name, value)
    assert str(info.value).startswith('Validation failed; ')
    assert message in str(info.value)


def test_other_namespaces_are_left_to_nova():
    validators.validate('hw:cpu_policy', 'shared')
    validators.validate('custom_key', 'anything')
