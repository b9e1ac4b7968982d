"""TPM state in the monitor group: two members on one database judge a TPM
host's reports as one would.

The TPM is a software one in ``cryptography`` (an RSA EK, an ECC AK,
ActivateCredential and quotes as TPM 2.0 marshals them); the database is a
real SQLite file, the members real recorders and challengers over the fake
transport. swtpm hosts under two monitor processes:
tests/functional/test_tpm_monitor_group.py.
"""

import base64
import collections
import hashlib
import struct
import time
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric import utils as asym_utils
from cryptography.hazmat.primitives.ciphers import Cipher
from cryptography.hazmat.primitives.ciphers import algorithms
import oslo_messaging
import pytest
import yaml

from sod_nova import polling
from sod_nova import trust
from sod_nova.catalog import Catalog
from sod_nova.db import api as db_api
from sod_nova.db import enrollment as db_enrollment
from sod_nova.db import tpm_state
from sod_nova.trust import attestation
from sod_nova.trust import evidence
from sod_nova.trust import keys
from sod_nova.trust import measurements
from sod_nova.trust import nonces
from sod_nova.trust import references
from sod_nova.trust import rpc
from sod_nova.trust import tpm2
from sod_nova.trust import verify
from sod_nova.trust.agent import rpcapi as agent_rpcapi
from sod_nova.trust.monitor import alerts
from sod_nova.trust.monitor import challenger
from sod_nova.trust.monitor import database
from sod_nova.trust.monitor import enrollments
from sod_nova.trust.monitor import recorder
from sod_nova.trust.monitor import tpm_enrollment

try:    # as sod_nova.trust.tpm2 imports it
    from cryptography.hazmat.decrepit.ciphers.modes import CFB
except ImportError:     # pragma: no cover - older cryptography
    from cryptography.hazmat.primitives.ciphers.modes import CFB

TIMEOUT = 10.0
PCR = 23
LOG = (measurements.Event(PCR, hashlib.sha256(b'kernel').hexdigest(),
                          'vmlinuz'),)
CTX = db_api.Context()


class SoftTpm:
    """A TPM in software: its EK, one AK under it, its clock."""

    def __init__(self):
        self._ek = rsa.generate_private_key(public_exponent=65537,
                                            key_size=2048)
        self.ek_text = base64.b64encode(tpm2.ek_public_from_rsa(
            self._ek.public_key())).decode()
        self._ak = ec.generate_private_key(ec.SECP256R1())
        numbers = self._ak.public_key().public_numbers()
        self.ak_raw = (
            struct.pack('>HHI', tpm2.ALG_ECC, tpm2.ALG_SHA256,
                        tpm2.AK_REQUIRED | tpm2.USER_WITH_AUTH)
            + struct.pack('>HHHHHH', 0, tpm2.ALG_NULL, tpm2.ALG_ECDSA,
                          tpm2.ALG_SHA256, 0x0003, tpm2.ALG_NULL)
            + struct.pack('>H', 32) + numbers.x.to_bytes(32, 'big')
            + struct.pack('>H', 32) + numbers.y.to_bytes(32, 'big'))
        self.ak_text = base64.b64encode(self.ak_raw).decode()
        self.ak = tpm2.parse_public(self.ak_raw)
        self._qualified = tpm2.ak_qualified_name(
            attestation.decode_ek(self.ek_text), self.ak)
        self.clock = 1000
        self.proof = None

    def activate(self, credential):
        """TPM2_ActivateCredential of a monitor's credential: its proof."""
        seed = self._ek.decrypt(base64.b64decode(credential['secret']),
                                padding.OAEP(mgf=padding.MGF1(hashes.SHA256()),
                                             algorithm=hashes.SHA256(),
                                             label=b'IDENTITY\x00'))
        blob = base64.b64decode(credential['blob'])
        enc_identity = blob[2 + struct.unpack('>H', blob[:2])[0]:]
        key = tpm2.kdfa('sha256', seed, 'STORAGE', self.ak.name, b'', 128)
        decryptor = Cipher(algorithms.AES(key), CFB(b'\x00' * 16)).decryptor()
        plain = decryptor.update(enc_identity) + decryptor.finalize()
        secret = plain[2:2 + struct.unpack('>H', plain[:2])[0]]
        self.proof = attestation.activation_proof(secret, self.ak.name)
        return self.proof

    def quote(self, nonce, pcrs, clock=None):
        """The ``tpm`` field of a report over ``nonce`` and ``pcrs``."""
        self.clock = self.clock + 1000 if clock is None else clock
        indices = sorted(pcrs)
        bitmap = bytearray(3)
        for index in indices:
            bitmap[index // 8] |= 1 << index % 8
        digest = tpm2.pcr_digest([bytes.fromhex(pcrs[i]) for i in indices])
        extra = bytes.fromhex(nonce)
        attest = (struct.pack('>IH', tpm2.TPM_GENERATED_VALUE,
                              tpm2.TPM_ST_ATTEST_QUOTE)
                  + struct.pack('>H', len(self._qualified)) + self._qualified
                  + struct.pack('>H', len(extra)) + extra
                  + struct.pack('>QIIBQ', self.clock, 1, 0, 1, 0)
                  + struct.pack('>IHB', 1, tpm2.ALG_SHA256, 3) + bytes(bitmap)
                  + struct.pack('>H', len(digest)) + digest)
        r, s = asym_utils.decode_dss_signature(
            self._ak.sign(attest, ec.ECDSA(hashes.SHA256())))
        signature = (struct.pack('>HH', tpm2.ALG_ECDSA, tpm2.ALG_SHA256)
                     + struct.pack('>H', 32) + r.to_bytes(32, 'big')
                     + struct.pack('>H', 32) + s.to_bytes(32, 'big'))
        return {'ak': self.ak_text,
                'quote': base64.b64encode(attest).decode(),
                'signature': base64.b64encode(signature).decode(),
                'activation': self.proof}


class _Agent:
    """An agent's RPC endpoint that keeps the credentials it receives."""

    target = oslo_messaging.Target(version='1.2')

    def __init__(self):
        self.credentials = []

    def challenge(self, ctxt, nonce, immediate, ack=None, credential=None,
                  signature=None):
        if credential is not None:
            self.credentials.append(credential)


@pytest.fixture
def group(db, tmp_path):
    """Two monitors of one group (``a`` and ``b``: their recorders) on one
    database, the TPM host tpm1 enrolled with its EK, its software TPM,
    and ``report(clock=None)``, a signed report of it."""
    refs = tmp_path / 'references.yaml'
    refs.write_text(yaml.safe_dump({'TPM': measurements.replay(LOG)}))
    db.set_override('reference_values_file', str(refs), 'sod_trust')
    soft = SoftTpm()
    host_key = keys.generate_private_key()
    db_enrollment.enroll_key(CTX, 'tpm1', 'TPM',
                             keys.public_key_text(host_key),
                             tpm_ek=soft.ek_text)
    transport = rpc.get_transport(db)
    topic = 'agents-%s' % uuid.uuid4().hex
    agent = _Agent()
    server = rpc.get_server(transport, topic, 'tpm1', [agent])
    server.start()
    nonce_key = nonces.generate_key()
    members = {}
    for name in ('a', 'b'):
        cache = enrollments.EnrollmentCache(database.Database())
        issuer = challenger.Challenger(db, cache, lambda host, arch: True,
                                       time.time)
        issuer.nonce_key = nonce_key
        issuer.load_keys()
        issuer.start(agent_rpcapi.AgentAPI(transport, topic))
        member = recorder.VerdictRecorder(
            db, 'tm-' + name, cache, database.Database(), issuer,
            alerts.RejectionAlerts(), lambda *change: None,
            lambda host, arch: True, time.time, collections.Counter())
        member.start(Catalog.load(), verify.Verifier(
            references.References.load(str(refs)), 65536,
            db.sod_trust.nonce_max_age, nonce_key))
        members[name] = member
    sequence = [0]
    pcrs = measurements.replay(LOG)

    def report(clock=None):
        sequence[0] += 1
        nonce = nonces.issue(nonce_key, 'tpm1', time.time())
        ev = evidence.Evidence('tpm1', 'TPM', 'boot', sequence[0], nonce,
                               0.0, LOG, pcrs, {},
                               tpm=soft.quote(nonce, pcrs, clock))
        return evidence.sign(ev, host_key)

    report.credentials = agent.credentials
    yield members['a'], members['b'], soft, report
    server.stop()
    server.wait()
    transport.cleanup()
    db.clear_override('reference_values_file', 'sod_trust')


def _one(member, envelope):
    verdict, = member.process([envelope])
    return verdict


def test_a_proof_of_one_members_credential_activates_at_the_other(group):
    a, b, soft, report = group
    # Both members saw the AK awaiting activation and sent a credential.
    assert _one(b, report()).code == verify.AWAITING_ACTIVATION
    assert polling.until(lambda: len(report.credentials) == 1, TIMEOUT, 0.01)
    assert _one(a, report()).code == verify.AWAITING_ACTIVATION
    assert polling.until(lambda: len(report.credentials) == 2, TIMEOUT, 0.01)
    # The TPM opens a's credential; the proof reaches b.
    soft.activate(report.credentials[1])
    verdict = _one(b, report())
    assert verdict.trusted, verdict.reason
    assert db_enrollment.get(CTX, 'tpm1').tpm_ak == soft.ak_text
    # Activated for the group: its credentials are done, its clock kept.
    state = tpm_state.get(CTX, 'tpm1')
    assert (state.pending_ak, state.pending_proofs) == (None, ())
    assert state.clock == (1, 0, soft.clock)
    assert _one(a, report()).trusted


def test_a_clock_rollback_after_one_member_verified_is_refused_at_the_other(
        group):
    a, b, soft, report = group
    db_enrollment.activate_ak(CTX, 'tpm1', db_enrollment.get(
        CTX, 'tpm1').public_key, soft.ak_text)
    assert _one(b, report(clock=10_000)).trusted     # b keeps 10 s
    assert _one(a, report(clock=50_000)).trusted     # the group: 50 s
    verdict = _one(b, report(clock=30_000))           # rolled back
    assert verdict.state == trust.UNTRUSTED
    assert verdict.reason == ('TPM clock went back (30000 ms after 50000 ms) '
                              'without a reset: a replayed or rolled-back '
                              'quote')


def test_credentials_are_kept_per_ak_the_last_few_as_proof_hashes(db):
    add = tpm_state.add_credential
    keep = tpm_enrollment.PENDING_CREDENTIALS
    for n in range(keep + 2):
        proofs = add(CTX, 'h1', 'ek', 'ak1', 'p%d' % n, keep)
    assert proofs == tuple('p%d' % n for n in range(2, keep + 2))
    assert tpm_state.get(CTX, 'h1').pending_proofs == proofs
    assert add(CTX, 'h1', 'ek', 'ak2', 'q', keep) == ('q',)     # a new AK
    tpm_state.record_quotes(CTX, [tpm_state.QuoteWrite('h1', 'ek', (1, 0, 5)),
                                  tpm_state.QuoteWrite('h2', 'ek2', (2, 1, 7),
                                                       activated=True)])
    assert tpm_state.get(CTX, 'h1').clock == (1, 0, 5)
    assert tpm_state.get(CTX, 'h2') == tpm_state.TpmStateRow(
        'h2', 'ek2', (2, 1, 7), None, ())
    # Re-enrolled with another TPM: the old TPM's state is dropped.
    assert add(CTX, 'h1', 'ek-new', 'ak3', 'r', keep) == ('r',)
    assert tpm_state.get(CTX, 'h1') == tpm_state.TpmStateRow(
        'h1', 'ek-new', None, 'ak3', ('r',))


def test_a_credential_is_stored_as_the_hash_of_its_proof(group):
    a, b, soft, report = group
    _one(a, report())
    assert polling.until(lambda: report.credentials, TIMEOUT, 0.01)
    proof = soft.activate(report.credentials[0])
    state = tpm_state.get(CTX, 'tpm1')
    assert state.pending_ak == hashlib.sha256(soft.ak_text.encode()).hexdigest()
    assert state.pending_proofs == (hashlib.sha256(proof.encode()).hexdigest(),)
