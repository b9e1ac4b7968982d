"""The fleet's host names and keys: derived from a seed, so that the
controller enrolls the keys the agent processes sign with without sending
any private key between processes."""

import hashlib

from cryptography.hazmat.primitives.asymmetric import ed25519

#: Every fleet host runs the paper's prototype architecture.
ARCHITECTURE = 'HyperWall'


def name(index):
    return 'fleet%05d' % index


def private_key(seed, host):
    """``host``'s Ed25519 key in the fleet of ``seed`` (bytes)."""
    return ed25519.Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(seed + b'\n' + host.encode('ascii')).digest())


def shares(hosts, parts):
    """``hosts`` split into ``parts`` interleaved lists (one per process)."""
    return [list(hosts[i::parts]) for i in range(parts)]
