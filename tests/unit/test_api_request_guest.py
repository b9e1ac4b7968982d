"""``POST /requests/check`` from 1.2: the answer for the guest a VM would be
launched as, through the whole sod-nova-api pipeline (noauth2, SQLite)."""

import datetime
import json

import pytest
import webob

from sod_nova.api import deploy
from sod_nova.conf import CONF
from sod_nova.conf import catalog as catalog_conf
from sod_nova.db import api as db_api
from sod_nova.db import migration as db_migration

CTX = db_api.Context()

ALICE = {'X-Auth-Token': 'alice:project-a', 'X-Roles': 'member,reader'}
SNP_SPECS = {'hw:mem_encryption': 'true',
             'hw:mem_encryption_model': 'amd-sev-snp'}
SNP_SENTENCE = ('AMD-SEV-SNP protects C, I against Hypervisor only for a '
                'guest launched with hw:mem_encryption=true, '
                'hw:mem_encryption_model=amd-sev-snp')


def make_app(tmp_path, architectures_file=None):
    CONF([], project='sod_nova', default_config_files=[],
         default_config_dirs=[])
    CONF.set_override('connection', 'sqlite:///%s/sod.sqlite' % tmp_path,
                      'sod_database')
    CONF.set_override('auth_strategy', 'noauth2', 'sod_api')
    CONF.set_override('evidence_max_age', 3600.0, 'sod_trust')
    if architectures_file:
        CONF.set_override('architectures_file', str(architectures_file),
                          'sod_catalog')
    db_migration.sync(CONF)
    return deploy.deploy(CONF)


@pytest.fixture
def app(tmp_path):
    yield make_app(tmp_path)
    db_api.dispose()
    CONF.reset()
    CONF.clear_override('connection', 'sod_database')
    CONF.clear_override('auth_strategy', 'sod_api')
    CONF.clear_override('evidence_max_age', 'sod_trust')


@pytest.fixture
def present_day_app(tmp_path, present_day_file):
    yield make_app(tmp_path, present_day_file)
    db_api.dispose()
    CONF.reset()
    CONF.clear_override('architectures_file', 'sod_catalog')
    CONF.clear_override('connection', 'sod_database')
    CONF.clear_override('auth_strategy', 'sod_api')
    CONF.clear_override('evidence_max_age', 'sod_trust')


def check(app, body, version='1.2'):
    headers = dict(ALICE, **{'Content-Type': 'application/json'})
    if version:
        headers['OpenStack-API-Version'] = 'security-on-demand ' + version
    resp = webob.Request.blank('/requests/check', method='POST',
                               headers=headers,
                               body=json.dumps(body).encode()
                               ).get_response(app)
    return resp.status_int, resp.json


def test_without_a_guest_the_conditional_rows_are_named(app):
    status, old = check(app, {'options': [1, 2]}, version='1.1')
    assert status == 200 and 'guest_conditions' not in old
    status, body = check(app, {'options': [1, 2]})
    assert status == 200
    assert body['satisfied_by'] == old['satisfied_by']
    assert body['guest'] is None
    conditions = {c['name']: c for c in body['guest_conditions']}
    assert sorted(conditions) == ['AMD-SEV-SNP', 'Arm-CCA', 'Intel-SGX',
                                  'Intel-TDX']
    assert set(conditions) <= set(body['satisfied_by'])
    snp = conditions['AMD-SEV-SNP']
    assert snp == {
        'name': 'AMD-SEV-SNP', 'feature': 'amd-sev-snp',
        'launch_with': ('hw:mem_encryption=true, '
                        'hw:mem_encryption_model=amd-sev-snp'),
        'launchable': True, 'met': None, 'source': snp['source'],
        'sentence': ('AMD-SEV-SNP protects C, I against Other VMs; C, I '
                     'against Hypervisor only for a guest launched with '
                     'hw:mem_encryption=true, '
                     'hw:mem_encryption_model=amd-sev-snp')}
    assert snp['source'].startswith('AMD SEV-SNP white paper')
    assert conditions['Intel-SGX']['launchable'] is False


def test_an_snp_flavor_gets_snp_rows_and_the_others_explained(app):
    status, body = check(app, {'options': [1, 2], 'guest': {
        'flavor': 'm1.snp', 'extra_specs': SNP_SPECS}})
    assert status == 200
    assert body['guest'] == {
        'features': ['amd-sev-snp'], 'flavor': 'm1.snp',
        'description': ('a guest launched with hw:mem_encryption=true, '
                        'hw:mem_encryption_model=amd-sev-snp')}
    assert body['satisfied_by'] == ['AMD-SEV-SNP', 'Cell', 'H-SVM',
                                    'HyperWall']
    assert [t['name'] for t in body['server_types']] == body['satisfied_by']
    tdx = {c['name']: c for c in body['guest_conditions']}['Intel-TDX']
    assert tdx['met'] is False
    assert tdx['sentence'].endswith('hw:mem_encryption_model=intel-tdx; '
                                    'flavor m1.snp does not ask for it')


def test_an_ordinary_flavor_on_present_day_rows(present_day_app):
    status, body = check(present_day_app, {'options': [2], 'guest': {
        'flavor': 'm1.small', 'extra_specs': {'hw:cpu_policy': 'dedicated'}}})
    assert status == 200
    assert body['satisfied_by'] == [] and body['satisfiable'] is False
    assert body['server_types'] == []
    sentence = SNP_SENTENCE + '; flavor m1.small does not ask for it'
    assert sentence in [c['sentence'] for c in body['guest_conditions']]
    assert sentence in body['explanation']
    # An image that asks for SNP launches the guest the flavor does not.
    status, body = check(present_day_app, {'options': [2], 'guest': {
        'flavor': 'm1.small', 'image_properties': {
            'hw_mem_encryption': True,
            'hw_mem_encryption_model': 'amd-sev-snp'}}})
    assert status == 200
    assert body['satisfied_by'] == ['AMD-SEV-SNP']
    assert body['explanation'] is None
    tdx = {c['name']: c for c in body['guest_conditions']}['Intel-TDX']
    assert tdx['sentence'].endswith(
        'neither flavor m1.small nor this image asks for it')


def test_an_snp_guest_is_counted_on_this_clouds_snp_hosts(present_day_app):
    now = datetime.datetime.now(datetime.UTC)
    mask = catalog_conf.load_catalog(CONF).capability_mask('AMD-SEV-SNP')
    db_api.host_declare(CTX, 'snp1', 'AMD-SEV-SNP')
    db_api.host_set_trust(CTX, 'snp1', 'trusted', 'verified', mask,
                          last_evidence_at=now, monitor='m1',
                          valid_until=db_api.evidence_valid_until(now, 600))
    status, body = check(present_day_app, {'options': [2], 'guest': {
        'extra_specs': SNP_SPECS}})
    assert status == 200
    assert body['server_types'] == [
        {'name': 'AMD-SEV-SNP', 'hosts': 1, 'usable_hosts': 1}]
    status, body = check(present_day_app, {'options': [2], 'guest': {}})
    assert status == 200
    assert body['server_types'] == [] and body['satisfiable'] is False
    assert body['guest']['description'].startswith('an ordinary guest')


def test_the_flavors_sod_keys_join_the_request(app):
    status, body = check(app, {'options': [1], 'properties': ['C'],
                               'guest': {'extra_specs': {
                                   'sod:options': '2',
                                   'sod:properties': 'C'}}})
    assert status == 200
    assert body['request']['matrix'] == {'Other VMs': ['C'],
                                         'Hypervisor': ['C']}
    # The metadata to write stays the customer's own choice.
    assert body['metadata'] == {'sod:options': '1', 'sod:properties': 'C'}


def test_a_guest_needs_1_2(app):
    status, body = check(app, {'options': [1], 'guest': {}}, version='1.1')
    assert status == 400
    assert body['errors'][0]['code'] == 'sod.request.malformed'
    assert body['errors'][0]['detail'] == (
        "'guest' needs OpenStack-API-Version: security-on-demand 1.2 or "
        "later (this request asked for 1.1)")


@pytest.mark.parametrize('guest, code, detail', [
    ({'extra_specs': {'hw:mem_encryption': 'maybe'}}, 'sod.security.invalid',
     "flavor extra spec hw:mem_encryption: 'maybe' is not a boolean"),
    ({'extra_specs': {'hw:mem_encryption': 'true'},
      'image_properties': {'hw_mem_encryption': False}},
     'sod.security.invalid',
     'flavor extra spec hw:mem_encryption: true conflicts with image '
     'property hw_mem_encryption=false: Nova refuses to launch such a VM'),
    ({'extra_specs': {'hw:tpm_version': '3'}}, 'sod.security.invalid',
     "flavor extra spec hw:tpm_version: '3' is not one of: 1.2, 2.0"),
    ({'extra_specs': {'sod:options': '4'}}, 'sod.security.invalid',
     'flavor extra spec sod:options: option 4 (Cloud Manager) is refused'),
    ({'image_properties': {'sod:package': 'nope'}}, 'sod.security.invalid',
     "image property sod:package: 'nope' is not a security package"),
    ({'extra_specs': {'hw:mem_encryption': True}}, 'sod.request.malformed',
     'True is not of type'),
    ({'extra_specs': {'': 'x'}}, 'sod.request.malformed', "'' should be non-empty"),
    ({'flavour': 'm1.small'}, 'sod.request.malformed', "'flavour' was unexpected"),
    ({'extra_specs': ['hw:mem_encryption=true']}, 'sod.request.malformed',
     'is not of type'),
])
def test_a_bad_guest_is_a_400_saying_what(app, guest, code, detail):
    status, body = check(app, {'options': [1], 'guest': guest})
    assert status == 400
    assert body['errors'][0]['code'] == code
    assert detail in body['errors'][0]['detail']
