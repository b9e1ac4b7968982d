"""Host attestation keys (Ed25519) and one-time enrollment tokens.

A host's public key reaches the monitor only through an explicit step (the
operator enrolls it, or the agent proves it holds a one-time token): no trust
on first use. :func:`canonical_public_key` gives one key one text.
See doc/source/contributor/trust-plane.rst.
"""

import base64
import binascii
import hashlib
import hmac
import os
import secrets

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from sod_nova import exception


class InvalidKey(exception.SodNovaException, ValueError):
    """A key or token that cannot be used; the message says why."""


def generate_private_key():
    return ed25519.Ed25519PrivateKey.generate()


def load_or_create_private_key(path):
    """The PEM private key at ``path``, created (mode 0600) if missing."""
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except FileNotFoundError:
        key = generate_private_key()
        pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, 'wb') as f:
            f.write(pem)
        return key
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise InvalidKey('%s is not an unencrypted PEM private key: %s'
                         % (path, exc)) from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise InvalidKey('%s is not an Ed25519 key' % path)
    return key


def public_key_text(key):
    """base64 of the raw public key of ``key`` (private or public)."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        key = key.public_key()
    raw = key.public_bytes(serialization.Encoding.Raw,
                           serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode('ascii')


def load_public_key(text):
    """An Ed25519 public key from base64 raw bytes or a PEM block."""
    text = (text or '').strip()
    if text.startswith('-----BEGIN'):
        try:
            key = serialization.load_pem_public_key(text.encode())
        except ValueError as exc:
            raise InvalidKey('not a PEM public key: %s' % exc) from None
        if not isinstance(key, ed25519.Ed25519PublicKey):
            raise InvalidKey('the PEM public key is not Ed25519')
        return key
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidKey('public key is neither PEM nor base64') from None
    if len(raw) != 32:
        raise InvalidKey('an Ed25519 public key has 32 bytes, not %d' % len(raw))
    return ed25519.Ed25519PublicKey.from_public_bytes(raw)


def canonical_public_key(text):
    """The one text of the Ed25519 public key in ``text`` (base64 or PEM,
    blanks around it allowed): base64 of its 32 raw bytes."""
    return public_key_text(load_public_key(text))


def verify(public_key, signature, data):
    """True when ``signature`` is ``public_key``'s signature of ``data``."""
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def new_token():
    """A one-time enrollment token for the operator to hand to a host."""
    return secrets.token_urlsafe(32)


def token_key(token):
    """What the database keeps of a token: its SHA-256 (hex)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _proof_message(host, architecture, public_key):
    return '\n'.join(('sod-nova-enroll-v1', host, architecture.lower(),
                      public_key)).encode()


def enrollment_proof(token, host, architecture, public_key):
    """HMAC binding ``public_key`` to ``host`` with the token: the token
    itself never goes on the bus, and a captured proof cannot enroll
    another key."""
    return hmac.new(bytes.fromhex(token_key(token)),
                    _proof_message(host, architecture, public_key),
                    hashlib.sha256).hexdigest()


def check_enrollment_proof(stored_token_key, proof, host, architecture,
                           public_key):
    expected = hmac.new(bytes.fromhex(stored_token_key),
                        _proof_message(host, architecture, public_key),
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, str(proof))
