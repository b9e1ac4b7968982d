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


#: HMAC states keyed with a group key and fed the label, by key (a
#: monitor has one or two): a MAC then costs a copy, not the key schedule.
_KEYED = {}


def _mac(key, host, head):
    keyed = _KEYED.get(key)
    if keyed is None:
        if len(_KEYED) >= 8:
            _KEYED.clear()
        keyed = _KEYED[key] = hmac.new(key, _LABEL, hashlib.sha256)
    mac = keyed.copy()
    mac.update(host.encode('ascii') + b'\n' + head)
    return mac.digest()[:16]


def issue(key, host, now):
    """A new nonce for ``host`` issued at ``now`` (seconds since the epoch)."""
    return issue_many(key, (host,), now)[0]


def issue_many(key, hosts, now):
    """New nonces for ``hosts`` issued at ``now``, one each (their random
    parts drawn at once)."""
    when = struct.pack('>Q', max(0, int(now * 1000)))
    drawn = secrets.token_bytes(8 * len(hosts))
    heads = [when + drawn[8 * i:8 * i + 8] for i in range(len(hosts))]
    return [(head + _mac(key, host, head)).hex()
            for host, head in zip(hosts, heads, strict=True)]


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
