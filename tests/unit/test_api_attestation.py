"""``GET /hosts/{name}/attestation`` and the JWKS through the whole WSGI
pipeline (noauth2) over a real SQLite database; tokens verified with
jwcrypto, the library sod-nova does not sign with."""

import datetime
import json
import subprocess
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from jwcrypto import jwk
from jwcrypto import jwt as jc_jwt
import pytest
import webob

from sod_nova.api import deploy
from sod_nova.conf import CONF
from sod_nova.db import api as db_api
from sod_nova.db import migration as db_migration

CTX = db_api.Context()
V13 = {'OpenStack-API-Version': 'security-on-demand 1.3'}
ADMIN = dict(V13, **{'X-Auth-Token': 'admin:admin',
                     'X-Roles': 'admin,member,reader'})
ALICE = dict(V13, **{'X-Auth-Token': 'alice:project-a',
                     'X-Roles': 'member,reader'})


def _key_file(path):
    path.write_bytes(ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return str(path)


def _app(tmp_path, key_file):
    CONF([], project='sod_nova', default_config_files=[],
         default_config_dirs=[])
    CONF.set_override('connection', 'sqlite:///%s/sod.sqlite' % tmp_path,
                      'sod_database')
    CONF.set_override('auth_strategy', 'noauth2', 'sod_api')
    CONF.set_override('signing_key_file', key_file, 'sod_attestation')
    db_migration.sync(CONF)
    return deploy.deploy(CONF)


@pytest.fixture
def app(tmp_path):
    yield _app(tmp_path, _key_file(tmp_path / 'ear.key'))
    _reset()


@pytest.fixture
def keyless_app(tmp_path):
    yield _app(tmp_path, None)
    _reset()


def _reset():
    db_api.dispose()
    for name, group in (('connection', 'sod_database'),
                        ('auth_strategy', 'sod_api'),
                        ('signing_key_file', 'sod_attestation')):
        CONF.clear_override(name, group)
    CONF.reset()


def call(app, path, headers=ADMIN):
    resp = webob.Request.blank(path, headers=headers).get_response(app)
    return resp.status_int, (resp.json if resp.body else None), resp


def _hosts(mask=3):
    now = datetime.datetime.now(datetime.UTC)
    for host, at in (('hw1', now), ('old1', now - datetime.timedelta(
            hours=2))):
        db_api.host_declare(CTX, host, 'HyperWall')
        db_api.host_set_trust(CTX, host, 'trusted', 'evidence verified',
                              mask, last_evidence_at=at, monitor='m1',
                              valid_until=db_api.evidence_valid_until(at, 60))
    db_api.host_declare(CTX, 'bad1', 'HyperWall')
    db_api.host_set_trust(CTX, 'bad1', 'untrusted', '3 memory violations', 0,
                          last_evidence_at=now, monitor='m1',
                          valid_until=db_api.evidence_valid_until(now, 60))


def _verified(app, token):
    """``token``'s claims, verified against the JWKS read without a token."""
    status, keys, resp = call(app, '/.well-known/jwks.json', headers={})
    assert status == 200
    assert resp.content_type == 'application/jwk-set+json'
    keyset = jwk.JWKSet.from_json(json.dumps(keys))
    verified = jc_jwt.JWT(jwt=token, key=keyset, algs=['EdDSA', 'ES256'])
    return json.loads(verified.claims)


def test_an_admin_gets_each_hosts_result_as_it_is_now(app):
    _hosts()
    expected = {'hw1': ('affirming', 'trusted'),
                'old1': ('none', 'unreachable'),      # evidence expired
                'bad1': ('contraindicated', 'untrusted')}
    for host, (status, state) in expected.items():
        code, body, _ = call(app, '/hosts/%s/attestation' % host)
        assert code == 200
        result = body['attestation']
        assert result['host'] == host
        assert result['media_type'].startswith('application/eat+jwt')
        claims = _verified(app, result['ear'])
        assert claims['eat_profile'] == 'tag:github.com,2023:veraison/ear'
        appraisal = claims['submods'][host]
        assert appraisal['ear.status'] == status
        assert appraisal['ear.sod-nova.verdict']['state'] == state
    claims = _verified(app, call(app, '/hosts/hw1/attestation')[1][
        'attestation']['ear'])
    assert claims['submods']['hw1']['ear.sod-nova.capabilities'] == {
        'Other VMs': ['C', 'I']}
    assert 'eat_nonce' not in claims


def test_a_relying_partys_nonce_is_bound_into_the_result(app):
    _hosts()
    nonce = 'cmVseWluZy1wYXJ0eS1ub25jZQ'
    code, body, _ = call(app, '/hosts/hw1/attestation?nonce=%s' % nonce)
    assert code == 200
    assert _verified(app, body['attestation']['ear'])['eat_nonce'] == nonce
    for bad in ('short', 'x' * 75, 'not+url/safe==', ''):
        code, body, _ = call(app, '/hosts/hw1/attestation?nonce=%s' % bad)
        assert (code, body['errors'][0]['code']) == (
            400, 'sod.request.malformed')
    code, _, _ = call(app, '/hosts/hw1/attestation?other=1')
    assert code == 400


def test_attestation_is_for_the_operator_only(app):
    _hosts()
    code, body, _ = call(app, '/hosts/hw1/attestation', headers=ALICE)
    assert (code, body['errors'][0]['code']) == (403, 'sod.policy.forbidden')


def test_an_unknown_host_is_404(app):
    code, body, _ = call(app, '/hosts/nope/attestation')
    assert (code, body['errors'][0]['code']) == (404, 'sod.host.not_found')


def test_attestation_needs_microversion_1_3(app):
    _hosts()
    headers = dict(ADMIN, **{'OpenStack-API-Version':
                             'security-on-demand 1.2'})
    code, body, _ = call(app, '/hosts/hw1/attestation', headers=headers)
    assert (code, body['errors'][0]['code']) == (404, 'sod.not_found')


def test_the_jwks_is_public_and_has_the_public_key_only(app):
    code, body, _ = call(app, '/.well-known/jwks.json', headers={})
    assert code == 200
    [key] = body['keys']
    assert (key['kty'], key['crv'], key['alg'], key['use']) == (
        'OKP', 'Ed25519', 'EdDSA', 'sig')
    assert 'd' not in key
    assert jwk.JWK(**key).thumbprint() == key['kid']


def test_without_a_key_no_result_is_issued(keyless_app):
    _hosts()
    code, body, _ = call(keyless_app, '/hosts/hw1/attestation')
    assert (code, body['errors'][0]['code']) == (
        503, 'sod.attestation.unavailable')
    code, body, _ = call(keyless_app, '/.well-known/jwks.json', headers={})
    assert (code, body) == (200, {'keys': []})


@pytest.mark.parametrize('content', [None, b'-----BEGIN PRIVATE KEY-----\n'])
def test_a_bad_key_file_stops_the_service_with_one_line(tmp_path, content):
    key = tmp_path / 'ear.key'
    if content is not None:
        key.write_bytes(content)
    conf = tmp_path / 'sod_nova.conf'
    conf.write_text('[sod_attestation]\nsigning_key_file = %s\n'
                    '[sod_database]\nconnection = sqlite:///%s/s.db\n'
                    % (key, tmp_path))
    proc = subprocess.run(
        [sys.executable, '-c', 'from sod_nova.api import wsgi; '
         'wsgi.init_application(["--config-file", %r])' % str(conf)],
        capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith('sod-nova-api: EAR signing key file %s: '
                                  % key)
    assert proc.stderr.count('\n') == 1 and 'Traceback' not in proc.stderr
