"""The sod: flavor extra-spec validators, as Nova's API runs them."""

from importlib import metadata
import logging

from nova import exception
from nova.api.validation.extra_specs import validators
import pytest

from sod_nova.api import extra_specs
from sod_nova.catalog import Catalog
from sod_nova.compliance import request as compliance_request


def test_registered_with_nova_through_the_entry_point():
    entry_points = metadata.entry_points(group='nova.api.extra_spec_validators')
    assert {ep.name: ep.value for ep in entry_points}['sod'] == (
        'sod_nova.api.extra_specs')
    # Nova loads every validator when its API module is imported.
    for name in ('sod:options', 'sod:properties', 'sod:package',
                 'sod:moving_target', 'sod:remediation'):
        assert isinstance(validators.VALIDATORS[name],
                          extra_specs.PolicyExtraSpecValidator)
    assert 'sod' in validators.NAMESPACES


@pytest.mark.parametrize('flavor, asked', [
    ({'sod:options': '1'}, 'C, I against Other VMs'),
    ({'sod:options': '7, 6'}, 'C, I against Same App; C, I against Other Apps'),
    ({'sod:options': '1,2,3', 'sod:properties': 'c,i'},
     'C, I against Other VMs; C, I against Hypervisor; C, I against HW attacks'),
    ({'sod:options': '2', 'sod:properties': 'I'}, 'I against Hypervisor'),
    ({'sod:package': 'medical-records'}, 'medical-records'),
    ({'sod:package': 'Basic'}, 'basic'),
    ({'sod:options': '1', 'sod:moving_target': '600'}, 'C, I against Other VMs'),
    ({'sod:options': '1', 'sod:remediation': 'live,cold'},
     'C, I against Other VMs'),
    ({'sod:remediation': 'cold'}, 'no protection'),
])
def test_what_nova_accepts_is_what_the_filter_reads(flavor, asked):
    """Every key passes Nova's validation, and the flavor means to the
    scheduler filter what it says: no malformed source (which would fail
    every boot closed), the cells, period and moves asked for."""
    for name, value in flavor.items():
        validators.validate(name, value)
    packages = extra_specs._packages()
    effective = compliance_request.effective(packages, flavor)
    assert effective.errors == ()
    if asked in packages:
        assert effective.request == packages[asked]
    else:
        assert effective.request.describe() == asked
    assert effective.moving_target == (
        int(flavor['sod:moving_target']) if 'sod:moving_target' in flavor
        else None)
    assert effective.remediation == (
        tuple(flavor['sod:remediation'].split(','))
        if 'sod:remediation' in flavor else None)


@pytest.mark.parametrize('name, value, message', [
    ('sod:options', '4', 'option 4 (Cloud Manager) is refused: the cloud '
                         'manager is trusted in this framework (paper §V)'),
    ('sod:options', '9', '9 is not an option (1-7)'),
    ('sod:options', '1,1', '1 is given twice'),
    ('sod:options', '', 'empty value'),
    ('sod:properties', 'A', "'A' is not a property (C, I)"),
    ('sod:package', 'nope', "'nope' is not a security package (known: basic,"),
    ('sod:moving_target', '0', "'0' is less than the min value of '1'"),
    ('sod:remediation', 'teleport', 'teleport is not a move (one of: live, '
                                    'cold)'),
    ('sod:optons', '1', "extra spec 'sod:optons' does not appear to be a valid"),
])
def test_bad_values_are_refused_with_a_clear_message(name, value, message):
    with pytest.raises(exception.ValidationError) as info:
        validators.validate(name, value)
    assert str(info.value).startswith('Validation failed; ')
    assert message in str(info.value)


@pytest.fixture
def moving_target_min():
    """nova-api's [sod_relocation] moving_target_min, as nova.conf sets it."""
    from sod_nova.conf import CONF
    yield lambda value: CONF.set_override(
        'moving_target_min', value, 'sod_relocation')
    CONF.clear_override('moving_target_min', 'sod_relocation')


def test_a_moving_target_below_the_operators_minimum_is_refused(
        moving_target_min):
    for value in ('1', '299'):
        with pytest.raises(exception.ValidationError) as info:
            validators.validate('sod:moving_target', value)
        assert str(info.value) == (
            'Validation failed; sod:moving_target: %s is below the minimum '
            'moving-target period of 300 seconds' % value)
    validators.validate('sod:moving_target', '300')
    moving_target_min(30)
    validators.validate('sod:moving_target', '30')
    with pytest.raises(exception.ValidationError, match='of 30 seconds'):
        validators.validate('sod:moving_target', '29')


@pytest.mark.parametrize('name', [
    'options', 'sod_options', 'custom:sod:options', 'sodx:options',
    'SOD:options', 'x-sod:options',
])
def test_keys_outside_the_sod_namespace_are_left_to_nova(name):
    # '4' is a value sod-nova refuses: only a validator of sod-nova's that
    # claims a key outside its namespace can refuse it here.
    validators.validate(name, '4')
    with pytest.raises(exception.ValidationError, match='option 4'):
        validators.validate('sod:options', '4')


# -- a request only guest-conditional rows satisfy -------------------------

@pytest.fixture
def present_day(present_day_file, monkeypatch):
    """nova-api's catalogue is the present-day one (read once, as in
    nova-api: the validator keeps the catalogue it loaded)."""
    monkeypatch.setitem(extra_specs._CATALOG, 'catalog',
                        Catalog.load(str(present_day_file)))


@pytest.mark.parametrize('name, value, cells, request_words', [
    ('sod:options', '2', 'C, I against Hypervisor',
     'C, I against Hypervisor (with the default sod:properties C,I)'),
    ('sod:package', 'hypervisor-protected',
     'C, I against Other VMs; C, I against Hypervisor',
     'C, I against Other VMs; C, I against Hypervisor,'),
])
def test_a_guest_conditional_request_is_logged_not_refused(
        present_day, caplog, name, value, cells, request_words):
    with caplog.at_level(logging.WARNING, logger=extra_specs.__name__):
        validators.validate(name, value)
    [record] = [r for r in caplog.records if r.name == extra_specs.__name__]
    message = record.getMessage()
    assert message.startswith('Flavor extra spec %s=%s asks for %s' % (
        name, value, request_words))
    assert ('AMD-SEV-SNP protects %s only for a guest launched with '
            'hw:mem_encryption=true, hw:mem_encryption_model=amd-sev-snp; '
            'make sure the flavor asks for it' % cells) in message
    assert 'sod-nova-status upgrade check' in message


def test_a_request_some_row_satisfies_for_any_guest_is_not_logged(caplog):
    # The packaged catalogue: HyperWall protects any guest against the
    # hypervisor, so the flavor needs no launch keys.
    with caplog.at_level(logging.WARNING, logger=extra_specs.__name__):
        validators.validate('sod:options', '1,2')
        validators.validate('sod:package', 'basic')
    assert [r for r in caplog.records if r.name == extra_specs.__name__] == []


@pytest.mark.parametrize('content', [
    b'a: &x [1, 2]\nb: *x\n',                  # an alias (the bomb's brick)
    b'\xff\xfe not UTF-8\n',
    b'[' * 100 + b']' * 100 + b'\n',           # nested deeper than allowed
])
def test_an_unusable_catalogue_is_nova_apis_400_not_500(tmp_path, monkeypatch,
                                                          content):
    """Before, a non-UTF-8 or deeply nested catalogue reached nova-api's
    ``flavor set`` as an unhandled error (a 500); every bad file is now the
    loader's one error, which the validator turns into Nova's 400."""
    from sod_nova.conf import CONF
    bad = tmp_path / 'packages.yaml'
    bad.write_bytes(content)
    monkeypatch.delitem(extra_specs._CATALOG, 'catalog', raising=False)
    CONF.set_override('packages_file', str(bad), 'sod_catalog')
    try:
        with pytest.raises(exception.ValidationError) as info:
            validators.validate('sod:package', 'basic')
    finally:
        CONF.clear_override('packages_file', 'sod_catalog')
        extra_specs._CATALOG.pop('catalog', None)
    assert 'cannot be checked: the catalogue is unusable' in str(info.value)
    assert str(bad) in str(info.value)
