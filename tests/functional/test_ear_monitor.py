"""The trust monitor publishes a signed EAR with each trust change.

Agents and the monitor in-process over oslo.messaging's fake:// transport,
a real SQLite database and real signatures; the results are verified with
jwcrypto (sod-nova signs with PyJWT) against the key as the JWKS has it.
"""

import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto import jwk
from jwcrypto import jwt as jc_jwt
import pytest

from sod_nova import trust
from sod_nova.catalog import Catalog
from sod_nova.cloud import fleet as fleet_mod
from sod_nova.policy import SecurityRequest
from sod_nova.trust import ear

TRUST_TIMEOUT = 10.0


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / 'ear.key'
    path.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return str(path)


def _claims(token, key_file):
    keyset = jwk.JWKSet.from_json(json.dumps(ear.jwks(
        [ear.load_signer(key_file)])))
    return json.loads(jc_jwt.JWT(jwt=token, key=keyset,
                                 algs=['ES256']).claims)


def test_each_trust_change_carries_its_signed_result(trust_config, key_file,
                                                     wait_state):
    trust_config.config(group='sod_attestation', signing_key_file=key_file)
    changes = []
    fleet = fleet_mod.Fleet(trust_config.conf, catalog=Catalog.load())
    try:
        fleet.add_host('hw1', 'HyperWall')
        fleet.monitor.add_listener(changes.append)
        fleet.start()
        wait_state('hw1', trust.TRUSTED)
        fleet.backend('hw1').start_attack(3)
        wait_state('hw1', trust.UNTRUSTED)
        # The row is written just before the listeners are called.
        assert fleet_mod.wait_for(lambda: len(changes) >= 2, TRUST_TIMEOUT)
    finally:
        fleet.cleanup()
    expected = [('trusted', 'affirming', 'runtime-opaque', 32),
                ('untrusted', 'contraindicated', 'runtime-opaque', 96)]
    for change, (state, status, claim, value) in zip(changes[:2], expected,
                                                     strict=True):
        assert change['new_state'] == state
        claims = _claims(change['ear'], key_file)
        assert claims['eat_profile'] == ear.PROFILE
        appraisal = claims['submods']['hw1']
        assert appraisal['ear.status'] == status
        assert appraisal['ear.trustworthiness-vector'][claim] == value
        assert appraisal['ear.sod-nova.verdict']['reason'] == change['reason']
    trusted = _claims(changes[0]['ear'], key_file)['submods']['hw1']
    assert trusted['ear.sod-nova.capabilities'] == SecurityRequest(
        Catalog.load().capability_mask('HyperWall')).matrix()


def test_a_bad_key_file_stops_the_monitor_at_start(trust_config, tmp_path):
    trust_config.config(group='sod_attestation',
                        signing_key_file=str(tmp_path / 'missing.key'))
    fleet = fleet_mod.Fleet(trust_config.conf, catalog=Catalog.load())
    try:
        with pytest.raises(ear.SigningKeyError, match='missing.key'):
            fleet.monitor.start()
    finally:
        fleet.cleanup()
