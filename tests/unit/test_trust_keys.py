"""Attestation keys, enrollment tokens and the evidence envelope."""

import json
import os

import pytest

from sod_nova.trust import evidence
from sod_nova.trust import keys
from sod_nova.trust import measurements
from sod_nova.trust import references


def test_public_key_text_round_trips_as_base64_and_pem():
    key = keys.generate_private_key()
    text = keys.public_key_text(key)
    assert keys.public_key_text(keys.load_public_key(text)) == text
    from cryptography.hazmat.primitives import serialization
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    assert keys.public_key_text(keys.load_public_key(pem)) == text


@pytest.mark.parametrize('text, reason', [
    ('', 'an Ed25519 public key has 32 bytes, not 0'),
    ('not base64!', 'neither PEM nor base64'),
    ('AAAA', '32 bytes, not 3'),
    ('-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----', 'not a PEM public key'),
])
def test_bad_public_keys_say_why(text, reason):
    with pytest.raises(keys.InvalidKey, match=reason):
        keys.load_public_key(text)


def test_private_key_file_is_created_0600_and_reloaded(tmp_path):
    path = str(tmp_path / 'host.key')
    key = keys.load_or_create_private_key(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert keys.public_key_text(keys.load_or_create_private_key(path)) == (
        keys.public_key_text(key))


def test_garbage_private_key_file_is_refused(tmp_path):
    path = tmp_path / 'host.key'
    path.write_text('nope')
    with pytest.raises(keys.InvalidKey, match='not an unencrypted PEM private key'):
        keys.load_or_create_private_key(str(path))


def test_enrollment_proof_binds_host_architecture_and_key():
    token = keys.new_token()
    stored = keys.token_key(token)
    public = keys.public_key_text(keys.generate_private_key())
    other = keys.public_key_text(keys.generate_private_key())
    proof = keys.enrollment_proof(token, 'hw1', 'HyperWall', public)
    assert keys.check_enrollment_proof(stored, proof, 'hw1', 'hyperwall', public)
    assert not keys.check_enrollment_proof(stored, proof, 'hw1', 'HyperWall', other)
    assert not keys.check_enrollment_proof(stored, proof, 'hw2', 'HyperWall', public)
    assert not keys.check_enrollment_proof(stored, proof, 'hw1', 'TPM', public)
    assert not keys.check_enrollment_proof(keys.token_key('guess'), proof, 'hw1',
                                           'HyperWall', public)


def test_envelope_carries_canonical_json_signed_as_sent():
    key = keys.generate_private_key()
    ev = evidence.Evidence('hw1', 'HyperWall', 'b1', 1, 'f' * 64, 12.5,
                           tuple(measurements.golden_event_log('HyperWall')),
                           measurements.reference_pcrs('HyperWall'),
                           {'memory_violations': 0})
    envelope = evidence.sign(ev, key)
    doc = json.loads(envelope['evidence'])
    assert doc['version'] == 1 and doc['sequence'] == 1
    assert envelope['evidence'] == evidence.canonical(doc)
    host, data, sig = evidence.open_envelope(envelope, 65536)
    assert host == 'hw1'
    assert keys.verify(key.public_key(), sig, data)
    assert evidence.parse(data) == ev


def test_reference_values_file(tmp_path):
    path = tmp_path / 'refs.yaml'
    path.write_text('TPM: {0: "%s"}\n' % ('ab' * 32))
    refs = references.References.load(str(path))
    assert refs.expected('tpm') == {0: 'ab' * 32}
    assert refs.expected('HyperWall') is None   # not listed: fail closed
    assert references.References.load(None).expected('TPM') == (
        measurements.reference_pcrs('TPM'))
    path.write_text('TPM: {zero: "x"}\n')
    with pytest.raises(ValueError, match='expected {pcr index: sha256 hex}'):
        references.References.load(str(path))
