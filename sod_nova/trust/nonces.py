"""Group nonces: challenges any monitor of the group can check, statelessly.

A nonce is MAC-bound to one host and its issue time under the group's key,
so any monitor tells whether the group issued it and how old it is without
remembering it. The layout: ``doc/source/contributor/architecture-notes.rst``.
"""

import hashlib
import hmac
import os
import secrets
import struct

from sod_nova import exception
from sod_nova import hostname
from sod_nova import keyfile

_LABEL = b'sod-nova-nonce-v1\n'
#: Shortest group key accepted, in bytes.
MIN_KEY_BYTES = 32


class NonceKeyError(exception.SodNovaException, ValueError):
    """A group key file that cannot be used (one-line message)."""


def generate_key():
    return secrets.token_bytes(MIN_KEY_BYTES)


def load_key(path):
    """The group key in ``path``: hex text of at least 32 bytes.

    Raises :class:`NonceKeyError` naming the file and the problem.
    """
    return keyfile.read_secret(path, '[sod_trust] nonce_key_file',
                               NonceKeyError, MIN_KEY_BYTES)


def write_key(path, key=None):
    """Write a new (or the given) group key to ``path``, mode 0600."""
    key = key or generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(key.hex() + '\n')
    return key


def _mac(key, host, head):
    return hmac.new(key, _LABEL + host.encode('ascii') + b'\n' + head,
                    hashlib.sha256).digest()[:16]


def issue(key, host, now):
    """A new nonce for ``host`` issued at ``now`` (seconds since the epoch)."""
    head = struct.pack('>Q', max(0, int(now * 1000))) + secrets.token_bytes(8)
    return (head + _mac(key, host, head)).hex()


def issued_at(key, host, nonce):
    """When the group issued ``nonce`` to ``host`` (seconds), or None when it
    did not (wrong MAC, other host, other group, not a nonce)."""
    if not (isinstance(nonce, str) and len(nonce) == 64
            and hostname.is_valid(host)):
        return None
    try:
        raw = bytes.fromhex(nonce)
    except ValueError:
        return None
    head, mac = raw[:16], raw[16:]
    if not hmac.compare_digest(mac, _mac(key, host, head)):
        return None
    return struct.unpack('>Q', head[:8])[0] / 1000.0
