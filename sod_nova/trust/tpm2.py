"""TPM 2.0 structures the monitor reads, in pure ``cryptography``.

The monitor links no TSS: the EK's and AK's ``TPMT_PUBLIC``, MakeCredential,
a quote's ``TPMS_ATTEST`` and its signature arrive as marshalled bytes and are
checked here; :class:`TpmError` says why one is refused (details:
``doc/source/contributor/architecture-notes.rst``).
"""

import dataclasses
import functools
import hashlib
import hmac
import os
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric import utils as asym_utils
from cryptography.hazmat.primitives.ciphers import Cipher
from cryptography.hazmat.primitives.ciphers import algorithms

from sod_nova import exception

try:    # cryptography >= 43 keeps CFB, which TPM 2.0 credentials use, here
    from cryptography.hazmat.decrepit.ciphers.modes import CFB
except ImportError:     # pragma: no cover - older cryptography
    from cryptography.hazmat.primitives.ciphers.modes import CFB

TPM_GENERATED_VALUE = 0xFF544347
TPM_ST_ATTEST_QUOTE = 0x8018
TPM_RH_ENDORSEMENT = 0x4000000B

ALG_RSA = 0x0001
ALG_ECC = 0x0023
ALG_AES = 0x0006
ALG_CFB = 0x0043
ALG_NULL = 0x0010
ALG_RSASSA = 0x0014
ALG_RSAPSS = 0x0016
ALG_ECDSA = 0x0018
ALG_SHA256 = 0x000B

#: TPM hash algorithm id -> (hashlib name, cryptography hash class).
HASHES = {0x0004: ('sha1', hashes.SHA1), 0x000B: ('sha256', hashes.SHA256),
          0x000C: ('sha384', hashes.SHA384), 0x000D: ('sha512', hashes.SHA512)}
CURVES = {0x0003: ec.SECP256R1, 0x0004: ec.SECP384R1}
#: ECDSA signature algorithms, made once (each costs more than a hash).
_ECDSA = {alg: ec.ECDSA(cls()) for alg, (_, cls) in HASHES.items()}

# TPMA_OBJECT bits.
FIXED_TPM = 1 << 1
FIXED_PARENT = 1 << 4
SENSITIVE_DATA_ORIGIN = 1 << 5
USER_WITH_AUTH = 1 << 6
ADMIN_WITH_POLICY = 1 << 7
RESTRICTED = 1 << 16
DECRYPT = 1 << 17
SIGN = 1 << 18

#: An AK must be a restricted signing key that never leaves its TPM: a
#: restricted key signs only digests the TPM computed itself (quotes), so it
#: cannot sign a forged TPMS_ATTEST.
AK_REQUIRED = FIXED_TPM | FIXED_PARENT | SENSITIVE_DATA_ORIGIN | RESTRICTED | SIGN
EK_REQUIRED = FIXED_TPM | FIXED_PARENT | RESTRICTED | DECRYPT

#: The EK template of the TCG EK Credential Profile (template L-1, RSA 2048):
#: an operator holding only the EK's public key (from its certificate)
#: rebuilds the TPMT_PUBLIC, hence the EK's name, from it.
EK_RSA2048_ATTRIBUTES = (FIXED_TPM | FIXED_PARENT | SENSITIVE_DATA_ORIGIN
                         | ADMIN_WITH_POLICY | RESTRICTED | DECRYPT)
EK_POLICY = bytes.fromhex(
    '837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa')


class TpmError(exception.SodNovaException, ValueError):
    """A TPM structure that cannot be accepted; ``str()`` is the reason."""


class _Reader:
    __slots__ = ('data', 'pos', 'what')

    def __init__(self, data, what):
        self.data, self.pos, self.what = data, 0, what

    def take(self, n):
        end = self.pos + n
        if end > len(self.data):
            raise TpmError('truncated %s' % self.what)
        value = self.data[self.pos:end]
        self.pos = end
        return value

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack('>H', self.take(2))[0]

    def u32(self):
        return struct.unpack('>I', self.take(4))[0]

    def u64(self):
        return struct.unpack('>Q', self.take(8))[0]

    def tpm2b(self):
        return self.take(self.u16())

    def end(self):
        if self.pos != len(self.data):
            raise TpmError('trailing bytes after %s' % self.what)


@dataclasses.dataclass(frozen=True)
class PublicArea:
    """A parsed ``TPMT_PUBLIC``."""

    raw: bytes
    type: int
    name_alg: int
    attributes: int
    key: object
    #: Symmetric algorithm of a storage key (the EK): (alg, key bits).
    symmetric: tuple
    name: bytes


def parse_public(raw):
    """The :class:`PublicArea` of marshalled ``TPMT_PUBLIC`` bytes (no size
    prefix)."""
    r = _Reader(bytes(raw), 'TPMT_PUBLIC')
    kind, name_alg, attributes = r.u16(), r.u16(), r.u32()
    if name_alg not in HASHES:
        raise TpmError('unsupported name algorithm %#x' % name_alg)
    r.tpm2b()                                   # authPolicy
    sym_alg = r.u16()
    symmetric = (sym_alg, 0)
    if sym_alg != ALG_NULL:
        symmetric = (sym_alg, r.u16())
        if r.u16() != ALG_CFB:
            raise TpmError('storage key symmetric mode is not CFB')
    if r.u16() != ALG_NULL:                     # scheme
        r.u16()
    try:
        if kind == ALG_RSA:
            r.u16()                             # keyBits
            exponent = r.u32() or 65537
            modulus = int.from_bytes(r.tpm2b(), 'big')
            key = rsa.RSAPublicNumbers(exponent, modulus).public_key()
        elif kind == ALG_ECC:
            curve = CURVES.get(r.u16())
            if curve is None:
                raise TpmError('unsupported ECC curve')
            if r.u16() != ALG_NULL:             # KDF scheme
                r.u16()
            x, y = int.from_bytes(r.tpm2b(), 'big'), int.from_bytes(r.tpm2b(), 'big')
            key = ec.EllipticCurvePublicNumbers(x, y, curve()).public_key()
        else:
            raise TpmError('unsupported key type %#x' % kind)
    except ValueError as exc:
        if isinstance(exc, TpmError):
            raise
        raise TpmError('invalid public key: %s' % exc) from None
    r.end()
    data = bytes(raw)
    name = struct.pack('>H', name_alg) + hashlib.new(
        HASHES[name_alg][0], data).digest()
    return PublicArea(data, kind, name_alg, attributes, key, symmetric, name)


def check_ak(area):
    """Refuse an AK that is not a restricted signing key fixed to its TPM."""
    missing = AK_REQUIRED & ~area.attributes
    if missing or area.attributes & DECRYPT:
        raise TpmError('the attestation key is not a restricted signing key '
                       'fixed to its TPM (attributes %#010x)' % area.attributes)
    if area.type != ALG_ECC and area.type != ALG_RSA:
        raise TpmError('unsupported attestation key type')


def check_ek(area):
    """Refuse an EK that MakeCredential cannot target (RSA storage key)."""
    if area.type != ALG_RSA:
        raise TpmError('only RSA endorsement keys are supported')
    if EK_REQUIRED & ~area.attributes or area.symmetric[0] != ALG_AES:
        raise TpmError('the endorsement key is not a restricted AES-CFB '
                       'storage key (attributes %#010x)' % area.attributes)


def ek_public_from_rsa(public_key):
    """The ``TPMT_PUBLIC`` bytes of an EK created from template L-1, for its
    RSA 2048 public key (e.g. read from the EK certificate)."""
    numbers = public_key.public_numbers()
    if public_key.key_size != 2048:
        raise TpmError('template L-1 is for RSA 2048 keys, not %d bits'
                       % public_key.key_size)
    exponent = 0 if numbers.e == 65537 else numbers.e
    return (struct.pack('>HHI', ALG_RSA, ALG_SHA256, EK_RSA2048_ATTRIBUTES)
            + struct.pack('>H', len(EK_POLICY)) + EK_POLICY
            + struct.pack('>HHHHHI', ALG_AES, 128, ALG_CFB, ALG_NULL, 2048,
                          exponent)
            + struct.pack('>H', 256) + numbers.n.to_bytes(256, 'big'))


def qualified_name(parent_qn, name):
    """``QN = nameAlg || H(QN(parent) || Name)`` (Part 1, 16)."""
    alg = struct.unpack('>H', name[:2])[0]
    return name[:2] + hashlib.new(HASHES[alg][0], parent_qn + name).digest()


@functools.lru_cache(maxsize=4096)
def _ak_qualified_name(ek_name, ak_name):
    ek_qn = qualified_name(struct.pack('>I', TPM_RH_ENDORSEMENT), ek_name)
    return qualified_name(ek_qn, ak_name)


def ak_qualified_name(ek, ak):
    """The qualified name of an AK created directly under the EK (cached:
    the same pair signs every report of a host)."""
    return _ak_qualified_name(ek.name, ak.name)


def kdfa(hash_name, key, label, context_u, context_v, bits):
    """KDFa of Part 1, 11.4.10.2 (SP 800-108 counter mode with HMAC)."""
    out, counter = b'', 0
    label = label.encode() + b'\x00'
    while len(out) * 8 < bits:
        counter += 1
        out += hmac.new(key, struct.pack('>I', counter) + label + context_u
                        + context_v + struct.pack('>I', bits), hash_name).digest()
    return out[:bits // 8]


def make_credential(ek, name, secret):
    """``(credential blob, encrypted seed)`` for TPM2_ActivateCredential.

    Only the TPM holding ``ek``'s private part can decrypt the seed, and it
    releases ``secret`` only for a loaded key whose name is ``name``. The two
    values are the contents of ``TPM2B_ID_OBJECT`` and
    ``TPM2B_ENCRYPTED_SECRET`` (without their size fields).
    """
    check_ek(ek)
    hash_name, hash_cls = HASHES[ek.name_alg]
    seed = os.urandom(hash_cls.digest_size)
    encrypted_seed = ek.key.encrypt(seed, padding.OAEP(
        mgf=padding.MGF1(hash_cls()), algorithm=hash_cls(), label=b'IDENTITY\x00'))
    sym_key = kdfa(hash_name, seed, 'STORAGE', name, b'', ek.symmetric[1])
    plain = struct.pack('>H', len(secret)) + secret
    encryptor = Cipher(algorithms.AES(sym_key),
                       CFB(b'\x00' * 16)).encryptor()
    enc_identity = encryptor.update(plain) + encryptor.finalize()
    hmac_key = kdfa(hash_name, seed, 'INTEGRITY', b'', b'',
                    hash_cls.digest_size * 8)
    outer = hmac.new(hmac_key, enc_identity + name, hash_name).digest()
    blob = struct.pack('>H', len(outer)) + outer + enc_identity
    return blob, encrypted_seed


@dataclasses.dataclass(frozen=True)
class Attest:
    """A parsed quote ``TPMS_ATTEST``."""

    qualified_signer: bytes
    extra_data: bytes
    clock: int
    reset_count: int
    restart_count: int
    safe: bool
    firmware_version: int
    #: ``((hash alg, (pcr index, ...)), ...)``
    pcr_select: tuple
    pcr_digest: bytes


_HEAD = struct.Struct('>IH')
_CLOCK = struct.Struct('>QIIBQI')


def parse_attest(data):
    """The :class:`Attest` of a quote; refuses other attestation types.

    Read with offsets into one buffer: the monitor parses one quote per
    report, so this is on its hot path.
    """
    data = bytes(data)
    size = len(data)
    try:
        magic, kind = _HEAD.unpack_from(data, 0)
        if magic != TPM_GENERATED_VALUE:
            raise TpmError('quote not generated by a TPM (bad magic)')
        if kind != TPM_ST_ATTEST_QUOTE:
            raise TpmError('attestation is not a quote')
        pos = 6
        n = int.from_bytes(data[pos:pos + 2], 'big')
        signer = data[pos + 2:pos + 2 + n]
        pos += 2 + n
        n = int.from_bytes(data[pos:pos + 2], 'big')
        extra = data[pos + 2:pos + 2 + n]
        pos += 2 + n
        clock, reset, restart, safe, firmware, count = _CLOCK.unpack_from(data, pos)
        pos += _CLOCK.size
        if count > 16:
            raise TpmError('implausible PCR selection count %d' % count)
        selection = []
        for _ in range(count):
            alg = int.from_bytes(data[pos:pos + 2], 'big')
            n = data[pos + 2]
            bitmap = data[pos + 3:pos + 3 + n]
            pos += 3 + n
            selection.append((alg, tuple(
                i * 8 + bit for i, byte in enumerate(bitmap) for bit in range(8)
                if byte >> bit & 1)))
        n = int.from_bytes(data[pos:pos + 2], 'big')
        digest = data[pos + 2:pos + 2 + n]
        pos += 2 + n
    except (struct.error, IndexError):
        raise TpmError('truncated TPMS_ATTEST') from None
    if pos > size or len(digest) != n:
        raise TpmError('truncated TPMS_ATTEST')
    if pos != size:
        raise TpmError('trailing bytes after TPMS_ATTEST')
    return Attest(signer, extra, clock, reset, restart, bool(safe), firmware,
                  tuple(selection), digest)


def check_signature(ak, message, signature):
    """Raise :class:`TpmError` unless ``signature`` (``TPMT_SIGNATURE``) is
    ``ak``'s signature of ``message``."""
    r = _Reader(signature, 'TPMT_SIGNATURE')
    alg, hash_alg = r.u16(), r.u16()
    if hash_alg not in HASHES:
        raise TpmError('unsupported signature hash %#x' % hash_alg)
    hash_obj = HASHES[hash_alg][1]()
    try:
        if alg == ALG_ECDSA and ak.type == ALG_ECC:
            sig_r, sig_s = r.tpm2b(), r.tpm2b()
            r.end()
            ak.key.verify(asym_utils.encode_dss_signature(
                int.from_bytes(sig_r, 'big'), int.from_bytes(sig_s, 'big')),
                message, _ECDSA[hash_alg])
        elif alg in (ALG_RSASSA, ALG_RSAPSS) and ak.type == ALG_RSA:
            sig = r.tpm2b()
            r.end()
            pad = (padding.PKCS1v15() if alg == ALG_RSASSA else padding.PSS(
                padding.MGF1(hash_obj), padding.PSS.AUTO))
            ak.key.verify(sig, message, pad, hash_obj)
        else:
            raise TpmError('signature algorithm %#x does not fit the '
                           'attestation key' % alg)
    except InvalidSignature:
        raise TpmError('quote signature does not verify with the enrolled '
                       'attestation key') from None


def pcr_digest(values):
    """The quote's PCR digest of ``values`` (PCR bytes in selection order)."""
    return hashlib.sha256(b''.join(values)).digest()
