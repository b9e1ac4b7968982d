"""Signed challenges: only the monitor group can give an agent a nonce.

A cast to an agent's topic could otherwise keep a genuine host without fresh
evidence. Challenges are signed with the group's challenge key, derived from
its nonce key; pure, no OpenStack. Why and how:
``doc/source/contributor/architecture-notes.rst``.
"""

import base64
import binascii
import json
import re
import struct

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.kdf import hkdf

from sod_nova import exception
from sod_nova import keyfile
from sod_nova.trust import keys

_LABEL = b'sod-nova-challenge-v1\n'
_HKDF_INFO = b'sod-nova challenge signing key v1'
#: Bounds of what a challenge may carry (a TPM credential is a few hundred
#: bytes of base64; anything larger is not the monitor's).
MAX_FIELD_CHARS = 4096
_NONCE = re.compile(r'[0-9a-f]{64}\Z')
_PEM = re.compile(r'-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----',
                  re.DOTALL)

#: Why an agent dropped a challenge (its counters and log lines).
MALFORMED = 'malformed'
SIGNATURE = 'signature'
USED = 'used'
OLDER = 'older'


class ChallengeKeyError(exception.SodNovaException, ValueError):
    """A challenge public key file that cannot be used (one-line message)."""


def signing_key(nonce_key):
    """The group's challenge signing key, derived from its nonce key."""
    seed = hkdf.HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                     info=_HKDF_INFO).derive(nonce_key)
    return ed25519.Ed25519PrivateKey.from_private_bytes(seed)


def public_key_text(nonce_key):
    """The line an operator puts in the agents' challenge key file."""
    return keys.public_key_text(signing_key(nonce_key))


def load_public_keys(path):
    """The public keys in ``path``: base64 lines or PEM blocks, one or more
    (several while the group's key is being rotated).

    Raises :class:`ChallengeKeyError` naming the file and the problem.
    """
    option = '[sod_trust] challenge_public_key_file'
    where = '%s %s' % (option, path)
    text = keyfile.read_text(path, option, ChallengeKeyError)
    blocks = _PEM.findall(text)
    rest = _PEM.sub('', text)
    lines = [line.strip() for line in rest.splitlines()
             if line.strip() and not line.lstrip().startswith('#')]
    found = []
    for item in blocks + lines:
        try:
            found.append(keys.load_public_key(item))
        except keys.InvalidKey as exc:
            raise ChallengeKeyError('%s: %s' % (where, exc)) from None
    if not found:
        raise ChallengeKeyError('%s holds no public key (print it with '
                                '"sod-nova trust challenge-key")' % where)
    return found


def _message(host, nonce, immediate, ack, credential):
    body = json.dumps([host, nonce, bool(immediate), ack, credential],
                      sort_keys=True, separators=(',', ':'))
    return _LABEL + body.encode('ascii')


def sign(key, host, nonce, immediate, ack=None, credential=None):
    """The signature (base64) of a challenge to ``host``."""
    return base64.b64encode(key.sign(
        _message(host, nonce, immediate, ack, credential))).decode('ascii')


def issued_at(nonce):
    """The issue time (seconds, monitor clock) a well-formed nonce carries;
    only the group can vouch for it (:mod:`sod_nova.trust.nonces`), which is
    why it is compared only between signed challenges."""
    return struct.unpack('>Q', bytes.fromhex(nonce[:16]))[0] / 1000.0


def _short_text(value):
    return isinstance(value, str) and len(value) <= MAX_FIELD_CHARS


def well_formed(nonce, immediate, ack, credential, signature):
    """Whether a challenge's fields have the types and sizes the monitor
    sends, checked before anything is decoded or signed over."""
    if not (isinstance(nonce, str) and _NONCE.match(nonce)
            and isinstance(immediate, bool) and _short_text(signature)):
        return False
    if ack is not None and not (
            isinstance(ack, dict) and set(ack) == {'boot_id', 'sequence'}
            and _short_text(ack['boot_id'])
            and type(ack['sequence']) is int and 0 <= ack['sequence'] < 2 ** 63):
        return False
    return credential is None or (
        isinstance(credential, dict) and set(credential) == {'blob', 'secret'}
        and _short_text(credential['blob']) and _short_text(credential['secret']))


def verify(public_keys, host, nonce, immediate, ack, credential, signature):
    """None when one of ``public_keys`` signed this challenge, else why not
    (:data:`MALFORMED` or :data:`SIGNATURE`)."""
    if not well_formed(nonce, immediate, ack, credential, signature):
        return MALFORMED
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return MALFORMED
    message = _message(host, nonce, immediate, ack, credential)
    if any(keys.verify(key, raw, message) for key in public_keys):
        return None
    return SIGNATURE
