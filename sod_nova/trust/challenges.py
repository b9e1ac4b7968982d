"""Signed challenges: only the monitor group can give an agent a nonce.

A cast to an agent's topic could otherwise keep a genuine host without fresh
evidence. Challenges are signed with the group's challenge key, derived from
its nonce key; pure, no OpenStack. Why and how:
``doc/source/contributor/architecture-notes.rst``.
"""

import base64
import binascii
import hashlib
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
#: What a batch's signature covers: this label and its Merkle root.
_BATCH_LABEL = b'sod-nova-challenge-batch-v1\n'
#: Deepest Merkle path a batch signature may carry (2**20 challenges).
MAX_BATCH_DEPTH = 20
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


def _message(host, nonce, immediate, ack=None, credential=None):
    body = json.dumps([host, nonce, bool(immediate), ack, credential],
                      sort_keys=True, separators=(',', ':'))
    return _LABEL + body.encode('ascii')


def sign(key, host, nonce, immediate, ack=None, credential=None):
    """The signature (base64) of a challenge to ``host``."""
    return base64.b64encode(key.sign(
        _message(host, nonce, immediate, ack, credential))).decode('ascii')


def sign_many(key, challenges):
    """The signatures (text) of ``challenges``, tuples of :func:`sign`'s
    arguments after ``key``, with one Ed25519 signature for them all.

    The signature covers the root of a Merkle tree over the challenges
    (SHA-256; leaves and nodes hashed apart, the leaf count padded to a
    power of two with the last leaf); each challenge's signature is
    ``signature.index.path``, its leaf's index and the siblings on the way
    to the root. Nothing but a challenge of the batch, or a SHA-256
    collision, leads to a signed root. A single challenge gets :func:`sign`'s
    form.
    """
    if len(challenges) <= 1:
        return [sign(key, *c) for c in challenges]
    level = [_leaf(_message(*c)) for c in challenges]
    width = 1 << (len(level) - 1).bit_length()
    level += level[-1:] * (width - len(level))
    levels = [level]
    while len(level) > 1:
        level = [_node(level[i], level[i + 1]) for i in range(0, len(level), 2)]
        levels.append(level)
    root = base64.b64encode(key.sign(_BATCH_LABEL + level[0])).decode('ascii')
    b64 = base64.b64encode
    return ['%s.%d.%s' % (root, i, b64(b''.join(
        nodes[(i >> depth) ^ 1] for depth, nodes in enumerate(levels[:-1])
    )).decode('ascii')) for i in range(len(challenges))]


def _leaf(message):
    return hashlib.sha256(b'\x00' + message).digest()


def _node(left, right):
    return hashlib.sha256(b'\x01' + left + right).digest()


def _batch_root(message, index, path):
    """The Merkle root ``message`` at ``index`` leads to along ``path``."""
    digest = _leaf(message)
    for depth in range(len(path) // 32):
        sibling = path[depth * 32:depth * 32 + 32]
        digest = (_node(sibling, digest) if index >> depth & 1
                  else _node(digest, sibling))
    return digest


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
    """None when one of ``public_keys`` signed this challenge (alone, or in
    a batch: :func:`sign_many`), else why not (:data:`MALFORMED` or
    :data:`SIGNATURE`)."""
    if not well_formed(nonce, immediate, ack, credential, signature):
        return MALFORMED
    root, index, path = signature, None, b''
    if '.' in signature:
        try:
            root, index, path = signature.split('.')
            if not (index.isascii() and index.isdigit()):
                return MALFORMED
            index, path = int(index), base64.b64decode(path, validate=True)
        except (binascii.Error, ValueError):
            return MALFORMED
        if (not 0 <= index < 1 << MAX_BATCH_DEPTH or len(path) % 32
                or len(path) > 32 * MAX_BATCH_DEPTH):
            return MALFORMED
    try:
        raw = base64.b64decode(root, validate=True)
    except (binascii.Error, ValueError):
        return MALFORMED
    message = _message(host, nonce, immediate, ack, credential)
    if index is not None:
        message = _BATCH_LABEL + _batch_root(message, index, path)
    if any(keys.verify(key, raw, message) for key in public_keys):
        return None
    return SIGNATURE
