"""sod-nova-api in-process (noauth2) over a real SQLite database.

Every request goes through the whole WSGI pipeline (request id, fault
wrapper, authentication, context, microversion, routes, policy); the
Nova-backed resources are tested against real Nova in
tests/functional/test_api_servers.py.
"""

import datetime
import json
import socket
import subprocess
import sys
import tempfile

import pytest
import sqlalchemy as sa
import webob

from sod_nova.api import deploy
from sod_nova.conf import CONF
from sod_nova.db import api as db_api
from sod_nova.db import audit
from sod_nova.db import migration as db_migration
from sod_nova.db import relocation as relocation_db

CTX = db_api.Context()

ADMIN = {'X-Auth-Token': 'admin:admin', 'X-Roles': 'admin,member,reader'}
ALICE = {'X-Auth-Token': 'alice:project-a', 'X-Roles': 'member,reader'}
NOBODY = {'X-Auth-Token': 'carol:project-c', 'X-Roles': ''}


@pytest.fixture
def app(tmp_path):
    CONF([], project='sod_nova', default_config_files=[],
         default_config_dirs=[])
    CONF.set_override('connection', 'sqlite:///%s/sod.sqlite' % tmp_path,
                      'sod_database')
    CONF.set_override('auth_strategy', 'noauth2', 'sod_api')
    CONF.set_override('max_limit', 3, 'sod_api')
    CONF.set_override('evidence_max_age', 3600.0, 'sod_trust')
    db_migration.sync(CONF)
    yield deploy.deploy(CONF)
    db_api.dispose()
    for name, group in (('connection', 'sod_database'),
                        ('auth_strategy', 'sod_api'),
                        ('max_limit', 'sod_api'),
                        ('evidence_max_age', 'sod_trust')):
        CONF.clear_override(name, group)
    CONF.reset()


def call(app, path, method='GET', headers=ADMIN, body=None, **extra):
    headers = dict(headers, **extra)
    if body is not None:
        body = json.dumps(body).encode()
        headers['Content-Type'] = 'application/json'
    req = webob.Request.blank(path, method=method, headers=headers,
                              body=body)
    resp = req.get_response(app)
    return resp.status_int, (resp.json if resp.body else None), resp


def error_code(body):
    assert set(body) == {'errors'}
    return body['errors'][0]['code']


# -- the service as a whole ----------------------------------------------------

def test_root_needs_no_token_and_names_the_versions(app):
    status, body, resp = call(app, '/', headers={})
    assert status == 200
    assert body['versions'][0]['min_version'] == '1.0'
    assert resp.headers['OpenStack-API-Version'] == 'security-on-demand 1.0'


def test_a_request_without_a_token_is_401(app):
    status, body, _ = call(app, '/catalog', headers={})
    assert status == 401
    assert error_code(body) == 'sod.unauthenticated'


def test_unknown_version_is_406_with_the_range(app):
    status, body, _ = call(app, '/catalog', **{
        'OpenStack-API-Version': 'security-on-demand 2.0'})
    assert status == 406
    assert body['errors'][0]['max_version'] == '1.3'
    assert error_code(body) == 'sod.microversion.unsupported'
    status, body, resp = call(app, '/catalog', **{
        'OpenStack-API-Version': 'security-on-demand latest'})
    assert status == 200
    assert resp.headers['OpenStack-API-Version'] == 'security-on-demand 1.3'


def test_unknown_path_404_and_wrong_method_405_are_json(app):
    status, body, _ = call(app, '/nothing-here')
    assert (status, error_code(body)) == (404, 'sod.not_found')
    status, body, resp = call(app, '/hosts', method='DELETE')
    assert (status, error_code(body)) == (405, 'sod.method_not_allowed')
    assert resp.headers['Allow'] == 'GET'


# -- hosts ------------------------------------------------------------------------

def _declare_and_trust(conf, host, arch, mask, at):
    db_api.host_declare(CTX, host, arch)
    db_api.host_set_trust(CTX, host, 'trusted', 'verified', mask,
                          last_evidence_at=at, monitor='m1',
                          valid_until=db_api.evidence_valid_until(at, 60))


def test_hosts_show_state_reason_freshness_and_capabilities(app):
    now = datetime.datetime.now(datetime.UTC)
    _declare_and_trust(CONF, 'hw1', 'HyperWall', 3, now)
    _declare_and_trust(CONF, 'hw2', 'HyperWall', 3,
                       now - datetime.timedelta(hours=2))
    db_api.host_declare(CTX, 'new1', 'Intel-TDX')
    status, body, _ = call(app, '/hosts')
    assert status == 200
    hosts = {h['name']: h for h in body['hosts']}
    assert sorted(hosts) == ['hw1', 'hw2', 'new1']
    assert hosts['hw1']['usable'] is True
    assert hosts['hw1']['capabilities'] == {'Other VMs': ['C', 'I']}
    assert hosts['hw2']['state'] == 'trusted'
    assert hosts['hw2']['usable'] is False
    assert 'has expired' in hosts['hw2']['usable_reason']
    assert hosts['new1']['state'] == 'unreachable'
    assert hosts['new1']['reason'] == db_api.NO_EVIDENCE_YET
    assert 'rejected_reports' in hosts['new1']
    status, body, _ = call(app, '/hosts/hw1')
    assert status == 200 and body['host']['architecture'] == 'HyperWall'


def test_unknown_host_is_404_with_its_code(app):
    status, body, _ = call(app, '/hosts/nope')
    assert (status, error_code(body)) == (404, 'sod.host.not_found')


@pytest.mark.parametrize('path', ['/hosts', '/hosts/hw1', '/audit'])
@pytest.mark.parametrize('who', [ALICE, NOBODY])
def test_operator_resources_are_403_for_everybody_else(app, path, who):
    db_api.host_declare(CTX, 'hw1', 'HyperWall')
    status, body, _ = call(app, path, headers=who)
    assert (status, error_code(body)) == (403, 'sod.policy.forbidden')


# -- catalogue and request check ---------------------------------------------------

@pytest.mark.parametrize('who', [ADMIN, ALICE, NOBODY])
def test_catalog_is_for_anybody(app, who):
    status, body, _ = call(app, '/catalog', headers=who)
    assert status == 200
    names = [a['name'] for a in body['architectures']]
    assert 'HyperWall' in names and 'basic' in body['packages']
    status, body, _ = call(app, '/catalog/hyperwall', headers=who)
    assert status == 200
    assert body['architecture']['name'] == 'HyperWall'
    assert body['architecture']['row']['Hypervisor'] == {'C': 'yes',
                                                         'I': 'yes'}


SNP_SENTENCE = ('AMD-SEV-SNP protects C, I against Other VMs; C, I against '
                'Hypervisor; C against HW attacks; C, I against Cloud Manager '
                'only for a guest launched with hw:mem_encryption=true, '
                'hw:mem_encryption_model=amd-sev-snp')


def test_a_row_says_which_guest_it_protects_as_the_cli_does(app):
    status, body, _ = call(app, '/catalog/amd-sev-snp', headers=ALICE)
    assert status == 200
    snp = body['architecture']
    assert snp['guest'] == {
        'feature': 'amd-sev-snp', 'sentence': SNP_SENTENCE,
        'launch_with': ('hw:mem_encryption=true, '
                        'hw:mem_encryption_model=amd-sev-snp'),
        'source': snp['guest']['source']}
    assert snp['guest']['source'].startswith(
        'AMD SEV-SNP white paper (2020): only a guest launched as an SNP VM')
    # What it protects for that guest; the sentence says for which.
    assert snp['protects']['Hypervisor'] == ['C', 'I']
    status, body, _ = call(app, '/catalog/intel-sgx', headers=ALICE)
    assert body['architecture']['guest']['launch_with'] == (
        'no flavor or image can ask for it in Nova 34')
    status, body, _ = call(app, '/catalog/vtpm-measured-boot', headers=ALICE)
    assert body['architecture']['guest']['launch_with'] == (
        'hw:tpm_version=2.0 (a vTPM)')
    status, body, _ = call(app, '/catalog/hyperwall', headers=ALICE)
    assert body['architecture']['guest'] == {
        'feature': None,
        'sentence': 'any guest (it needs no guest launch feature)',
        'launch_with': None, 'source': None}
    # The list shows each row as show does.
    status, body, _ = call(app, '/catalog', headers=ALICE)
    assert status == 200
    listed = {a['name']: a['guest'] for a in body['architectures']}
    assert listed['AMD-SEV-SNP'] == snp['guest']
    assert {name for name, guest in listed.items() if guest['feature']} == {
        'AMD-SEV-SNP', 'Intel-TDX', 'Intel-SGX', 'Arm-CCA',
        'vTPM-Measured-Boot'}


def test_unknown_architecture_is_404_naming_the_known_ones(app):
    status, body, _ = call(app, '/catalog/Nonesuch', headers=ALICE)
    assert (status, error_code(body)) == (404, 'sod.architecture.not_found')
    assert 'HyperWall' in body['errors'][0]['detail']


def test_request_check_fills_the_matrix_and_names_architectures(app):
    status, body, _ = call(app, '/requests/check', method='POST',
                           headers=NOBODY,
                           body={'options': [2], 'properties': ['C']})
    assert status == 200
    assert body['request']['matrix'] == {'Hypervisor': ['C']}
    assert 'HyperWall' in body['satisfied_by']
    assert body['explanation'] is None
    assert body['metadata'] == {'sod:options': '2', 'sod:properties': 'C'}


def test_request_check_counts_this_clouds_hosts_from_1_1(app):
    now = datetime.datetime.now(datetime.UTC)
    _declare_and_trust(CONF, 'hw1', 'HyperWall', 3, now)
    _declare_and_trust(CONF, 'hw2', 'HyperWall', 3,
                       now - datetime.timedelta(hours=2))   # stale
    body = {'options': [1], 'properties': ['C']}
    status, old, _ = call(app, '/requests/check', method='POST',
                          headers=NOBODY, body=body)
    assert status == 200 and 'server_types' not in old
    status, new, resp = call(app, '/requests/check', method='POST',
                             headers=NOBODY, body=body, **{
                                 'OpenStack-API-Version':
                                 'security-on-demand 1.1'})
    assert status == 200
    assert resp.headers['OpenStack-API-Version'] == 'security-on-demand 1.1'
    types = {t['name']: t for t in new['server_types']}
    assert [t['name'] for t in new['server_types']] == new['satisfied_by']
    assert types['HyperWall'] == {'name': 'HyperWall', 'hosts': 2,
                                  'usable_hosts': 1}
    assert 'hw1' not in json.dumps(new)


def test_request_check_explains_an_unsatisfiable_request(app):
    status, body, _ = call(app, '/requests/check', method='POST',
                           body={'options': [1, 2, 3, 5, 6, 7]})
    assert status == 200
    assert body['satisfied_by'] == [] and body['satisfiable'] is False
    assert 'closest' in body['explanation']


@pytest.mark.parametrize('payload, code, words', [
    ({'options': [4]}, 'sod.security.invalid', 'Cloud Manager'),
    ({'options': [8]}, 'sod.request.malformed', 'options/0'),
    ({'properties': ['C']}, 'sod.security.invalid', 'without'),
    ({'package': 'nonesuch'}, 'sod.security.invalid', 'nonesuch'),
    ({}, 'sod.request.malformed', 'non-empty'),
    ({'colour': 'red'}, 'sod.request.malformed', 'colour'),
    ({'options': [1], 'moving_target': 0}, 'sod.request.malformed',
     'moving_target'),
    ({'options': [1], 'moving_target': 1}, 'sod.security.invalid',
     'sod:moving_target: 1 is below the minimum moving-target period of '
     '300 seconds'),
])
def test_request_check_refuses_bad_input_with_a_reason(app, payload, code,
                                                      words):
    status, body, _ = call(app, '/requests/check', method='POST',
                           body=payload)
    assert (status, error_code(body)) == (400, code)
    assert words in body['errors'][0]['detail']


def test_request_check_takes_a_moving_target_at_the_operators_minimum(app):
    CONF.set_override('moving_target_min', 60, 'sod_relocation')
    try:
        ok = call(app, '/requests/check', method='POST',
                  body={'options': [1], 'moving_target': 60})
        short = call(app, '/requests/check', method='POST',
                     body={'options': [1], 'moving_target': 59})
    finally:
        CONF.clear_override('moving_target_min', 'sod_relocation')
    assert ok[0] == 200
    assert ok[1]['metadata']['sod:moving_target'] == '60'
    assert (short[0], error_code(short[1])) == (400, 'sod.security.invalid')
    assert 'minimum moving-target period of 60 seconds' in (
        short[1]['errors'][0]['detail'])


def test_request_check_refuses_malformed_json(app):
    req = webob.Request.blank('/requests/check', method='POST',
                              headers=ADMIN, body=b'{"options": [')
    resp = req.get_response(app)
    assert resp.status_int == 400
    assert error_code(resp.json) == 'sod.request.malformed'


# -- audit -------------------------------------------------------------------------

def _append(n):
    key_file = tempfile.NamedTemporaryFile(suffix='.key', delete=False).name
    audit.write_key(key_file)       # the fixture's CONF.reset() unsets it
    CONF.set_override('key_file', key_file, 'sod_audit')
    store = relocation_db.RelocationStore(CONF)
    for i in range(n):
        store.audit_append(CTX, {'event': 'decided', 'vm': 'vm%d' % i,
                                 'at': i})


def test_audit_pages_follow_the_chain_and_verify(app):
    _append(7)
    status, body, _ = call(app, '/audit?limit=2')
    assert status == 200
    assert [e['seq'] for e in body['entries']] == [1, 2]
    assert body['verification']['intact'] is True
    assert body['head_seq'] == 7
    seen, href = [1, 2], body['links'][0]['href']
    while True:
        status, body, _ = call(app, href)
        assert body['verification']['intact'] is True
        seen += [e['seq'] for e in body['entries']]
        if not body['links']:
            break
        href = body['links'][0]['href']
    assert seen == list(range(1, 8))


def test_audit_limit_is_cut_to_max_limit(app):
    _append(5)
    status, body, _ = call(app, '/audit?limit=50')
    assert [e['seq'] for e in body['entries']] == [1, 2, 3]


def test_an_altered_entry_breaks_its_page_only(app):
    _append(6)
    with db_api.get_engine(CONF).begin() as conn:
        conn.execute(sa.text(
            "UPDATE relocation_audit SET entry = '{\"event\":\"forged\"}' "
            "WHERE seq = 5"))
    status, body, _ = call(app, '/audit?marker=3&limit=3')
    assert body['verification']['intact'] is False
    assert body['verification']['break']['seq'] == 5
    status, body, _ = call(app, '/audit?limit=3')
    assert body['verification']['intact'] is True


@pytest.mark.parametrize('query', ['marker=x', 'limit=0', 'limit=-1',
                                   'color=1', 'limit=1&limit=2'])
def test_audit_refuses_a_bad_query(app, query):
    status, body, _ = call(app, '/audit?' + query)
    assert (status, error_code(body)) == (400, 'sod.request.malformed')


# -- finding Nova for the caller's token ---------------------------------------

def test_compute_endpoint_from_either_catalog_form():
    from sod_nova.api.objects import server
    v2 = [{'type': 'identity', 'endpoints': [{'publicURL': 'http://k'}]},
          {'type': 'compute', 'endpoints': [
              {'region': 'R1', 'publicURL': 'http://n1/v2.1',
               'internalURL': 'http://n1-int/v2.1'},
              {'region': 'R2', 'publicURL': 'http://n2/v2.1'}]}]
    v3 = [{'type': 'compute', 'endpoints': [
        {'region_id': 'R2', 'interface': 'public', 'url': 'http://n2/v2.1'},
        {'region_id': 'R1', 'interface': 'internal', 'url': 'http://i1'}]}]
    find = server._endpoint_from_catalog
    assert find(v2, 'internal', None) == 'http://n1-int/v2.1'
    assert find(v2, 'public', 'R2') == 'http://n2/v2.1'
    assert find(v3, 'internal', 'R1') == 'http://i1'
    assert find(v3, 'admin', None) is None
    assert find([], 'public', None) is None


# -- bounded input: whatever is sent, a clear 4xx, never a 500 ---------------

LIMIT = 128 * 1024      # [sod_api] max_request_body_size's default


def post_raw(app, data, path='/requests/check', chunked=False, **headers):
    """POST ``data`` as it is (bytes), declared or chunked."""
    req = webob.Request.blank(path, method='POST', headers=dict(
        ADMIN, **{'Content-Type': 'application/json'}, **headers),
        body=data)
    if chunked:
        del req.environ['CONTENT_LENGTH']
        req.environ['wsgi.input_terminated'] = True
    resp = req.get_response(app)
    return resp.status_int, resp.json, resp


def padded(size):
    """A valid check body of exactly ``size`` bytes."""
    body = b'{"options": [1]}'
    return body + b' ' * (size - len(body))


@pytest.mark.parametrize('chunked', [False, True])
def test_a_body_over_the_size_limit_is_413(app, chunked):
    status, body, resp = post_raw(app, padded(LIMIT + 1), chunked=chunked)
    assert (status, error_code(body)) == (413, 'sod.request.too_large')
    assert body['errors'][0]['detail'] == (
        'The request body is larger than %d bytes.' % LIMIT)
    assert body['errors'][0]['request_id'] == resp.headers[
        'X-OpenStack-Request-ID']
    status, body, _ = post_raw(app, padded(LIMIT), chunked=chunked)
    assert status == 200, body


@pytest.mark.parametrize('length', ['-5', 'abc', '1e3'])
def test_a_content_length_that_is_no_size_is_400(app, length):
    status, body, _ = post_raw(app, b'{"options": [1]}',
                               **{'Content-Length': length})
    assert (status, error_code(body)) == (400, 'sod.request.malformed')
    assert body['errors'][0]['detail'] == (
        'Content-Length %r is not a number of bytes' % length)


@pytest.mark.parametrize('data, detail', [
    (b'[' * 30000 + b']' * 30000, 'nested deeper than 10 levels'),
    (b'{"options": [1], "guest": ' + b'[' * 10 + b']' * 10 + b'}',
     'nested deeper than 10 levels'),
    (b'{"options": [1], "options": [2]}', "key 'options' is given twice"),
    (b'{"options": [NaN]}', 'NaN is not a JSON value'),
    (b'{"options": [1e400]}', '1e400 is out of range'),
    (b'{"options": [1], "moving_target": ' + b'9' * 4000 + b'}',
     'an integer of 4000 digits (at most 20)'),
    (b'{"package": "\xff\xfe"}', 'not UTF-8 text'),
])
def test_hostile_json_is_a_400_naming_the_fault(app, data, detail):
    status, body, _ = post_raw(app, data)
    assert (status, error_code(body)) == (400, 'sod.request.malformed')
    assert body['errors'][0]['detail'] == 'Malformed JSON: %s' % detail


def test_a_huge_body_nested_100000_deep_is_refused_unread(app):
    status, body, _ = post_raw(app, b'[' * 100000 + b']' * 100000)
    assert (status, error_code(body)) == (413, 'sod.request.too_large')


def test_an_error_quotes_a_long_value_only_in_part(app):
    long = 'x' * 100000
    status, body, _ = call(app, '/requests/check', method='POST',
                           body={'options': [1], 'package': long})
    assert (status, error_code(body)) == (400, 'sod.request.malformed')
    detail = body['errors'][0]['detail']
    assert len(detail) <= 400
    assert detail.startswith("JSON does not validate: 'xxx")
    assert detail.endswith("xxx' is too long (at package)")


@pytest.mark.parametrize('query', ['limit=%ff', '%ff=1', 'marker=1%c3'])
def test_a_query_string_that_is_not_utf8_is_400(app, query):
    status, body, _ = call(app, '/audit?' + query)
    assert (status, error_code(body)) == (400, 'sod.request.malformed')
    assert body['errors'][0]['detail'] == 'The query string is not UTF-8 text'


@pytest.mark.parametrize('catalog, detail', [
    ('[' * 5000 + ']' * 5000,
     'Malformed X-Service-Catalog: nested deeper than 10 levels'),
    ('{"compute": "http://n"}', "X-Service-Catalog is not a service "
     "catalog: {'compute': 'http://n'} is not of type 'array'"),
    ('[{"type": "compute", "endpoints": [5]}]', "X-Service-Catalog is not "
     "a service catalog: 5 is not of type 'object' (at 0/endpoints/0)"),
])
def test_a_malformed_service_catalog_header_is_400(app, catalog, detail):
    status, body, _ = call(app, '/servers/abc/security', headers=ALICE,
                           **{'X-Service-Catalog': catalog})
    assert (status, error_code(body)) == (400, 'sod.request.malformed')
    assert body['errors'][0]['detail'] == detail


@pytest.mark.parametrize('version, status, code', [
    ('security-on-demand 2.0', 406, 'sod.microversion.unsupported'),
    ('security-on-demand 1.x', 400, 'sod.microversion.malformed'),
])
def test_a_microversion_error_has_the_request_id(app, version, status, code):
    got, body, resp = call(app, '/catalog',
                           **{'OpenStack-API-Version': version})
    assert (got, error_code(body)) == (status, code)
    assert body['errors'][0]['request_id'] == resp.headers[
        'X-OpenStack-Request-ID']


@pytest.fixture
def unreachable_db(tmp_path):
    """sod-nova-api over a MySQL server that refuses connections: a port
    bound here, never listened on."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
        CONF([], project='sod_nova', default_config_files=[],
             default_config_dirs=[])
        CONF.set_override('connection', 'mysql+pymysql://sod:s3cret@'
                          '127.0.0.1:%d/sod' % port, 'sod_database')
        CONF.set_override('max_retries', 0, 'sod_database')
        CONF.set_override('auth_strategy', 'noauth2', 'sod_api')
        try:
            yield deploy.deploy(CONF), port
        finally:
            db_api.dispose()
            for name, group in (('connection', 'sod_database'),
                                ('max_retries', 'sod_database'),
                                ('auth_strategy', 'sod_api')):
                CONF.clear_override(name, group)
            CONF.reset()


def test_a_database_outage_is_503_without_the_drivers_words(unreachable_db,
                                                            caplog):
    app, port = unreachable_db
    status, body, resp = call(app, '/requests/check', method='POST',
                              headers=ALICE, body={'options': [1]}, **{
                                  'OpenStack-API-Version':
                                  'security-on-demand 1.1'})
    assert (status, error_code(body)) == (503, 'sod.database.unavailable')
    rid = resp.headers['X-OpenStack-Request-ID']
    assert body['errors'][0]['request_id'] == rid
    assert body['errors'][0]['detail'] == (
        'The database is unavailable; its cause is in the service log '
        'under the request id.')
    # The driver's words (server, port) are for the operator, in one line.
    [line] = [r.getMessage() for r in caplog.records if rid in r.getMessage()]
    assert "Can't connect to MySQL server on '127.0.0.1'" in line
    assert '\n' not in line


def test_a_bad_body_size_option_stops_the_service_with_one_line(tmp_path):
    conf = tmp_path / 'sod_nova.conf'
    conf.write_text('[sod_api]\nmax_request_body_size = 100\n'
                    '[sod_database]\nconnection = sqlite:///%s/s.db\n'
                    % tmp_path)
    proc = subprocess.run(
        [sys.executable, '-c', 'from sod_nova.api import wsgi; '
         'wsgi.init_application(["--config-file", %r])' % str(conf)],
        capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith('sod-nova-api: ')
    assert 'max_request_body_size' in proc.stderr
    assert 'Traceback' not in proc.stderr
