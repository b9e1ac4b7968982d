"""A host's trust verdict as a signed EAR (draft-ietf-rats-ear, as a JWT).

Relying parties (a key broker, a tenant's tool) read attestation results
in the field's standard shape and verify them with any JOSE library against
the verifier's JWKS. The mapping of a verdict onto ``ear.status`` and the
AR4SI trustworthiness vector is in doc/source/contributor/ear.rst.
"""

import base64
import hashlib
import importlib.metadata
import json
import re

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import ed25519
import jwt

from sod_nova import exception
from sod_nova import trust
from sod_nova.policy import SecurityRequest

#: The EAR profile of draft-ietf-rats-ear (its ``eat_profile`` value).
PROFILE = 'tag:github.com,2023:veraison/ear'
#: ``ear.verifier-id``: who built the verifier, and which build.
DEVELOPER = 'https://opendev.org/openstack/sod-nova'
#: ``ear.verifier-id`` ``build``: this release of sod-nova.
try:
    BUILD = 'sod-nova %s' % importlib.metadata.version('sod-nova')
except importlib.metadata.PackageNotFoundError:   # run from a source tree
    BUILD = 'sod-nova (source)'
#: Media type of an EAR in JWT form (draft-ietf-rats-ear).
MEDIA_TYPE = 'application/eat+jwt; eat_profile="%s"' % PROFILE
#: The unregistered extension claims, in a namespace of their own
#: (``ear.<verifier>.<name>``, as Veraison's ``ear.veraison.*``).
CAPABILITIES = 'ear.sod-nova.capabilities'
VERDICT = 'ear.sod-nova.verdict'

# ear.status: the AR4SI tiers.
AFFIRMING = 'affirming'
WARNING = 'warning'
CONTRAINDICATED = 'contraindicated'
NONE = 'none'

#: The claims of an AR4SI trustworthiness vector, in its order.
VECTOR = ('instance-identity', 'configuration', 'executables', 'file-system',
          'hardware', 'runtime-opaque', 'storage-opaque', 'sourced-data')

# AR4SI values used here (draft-ietf-rats-ar4si; the tier is the range:
# -1..1 none, 2..31 affirming, 32..95 warning, 96..127 contraindicated).
VERIFIER_MALFUNCTION = -1
NO_CLAIM = 0
UNEXPECTED_EVIDENCE = 1
TRUSTWORTHY_INSTANCE = 2
APPROVED_CONFIG = 2
APPROVED_BOOT = 3
ENCRYPTED_MEMORY = 2
ISOLATED_MEMORY = 32
UNRECOGNIZED_RUNTIME = 33
CONTRAINDICATED_CLAIM = 96
UNTRUSTWORTHY_INSTANCE = 96
CRYPTO_VALIDATION_FAILED = 99

#: A trusted verdict: what sod-nova's verifier checked and found good (the
#: report is signed by the host's enrolled key on a fresh nonce; the claimed
#: architecture is the enrolled one and libvirt runs only Nova's domains;
#: the measured boot replays to the reference values). What it does not
#: appraise (file system, hardware identity, storage, sourced data) is
#: ``0``, no claim. ``runtime-opaque`` follows the capability row.
TRUSTED_VECTOR = {'instance-identity': TRUSTWORTHY_INSTANCE,
                  'configuration': APPROVED_CONFIG,
                  'executables': APPROVED_BOOT}

#: Why an untrusted verdict is untrusted, from its reason (the monitor's
#: verifier writes these sentences): the vector claim that failed and its
#: value. Checked in order; the first match counts.
REASONS = (
    ('internal', re.compile(r'^internal error'), None, VERIFIER_MALFUNCTION),
    ('other-host', re.compile(r'^evidence is for host '),
     'instance-identity', UNTRUSTWORTHY_INSTANCE),
    ('tpm-rollback', re.compile(r'^TPM (reset|restart) count went back|'
                                r'^TPM clock went back'),
     'instance-identity', UNTRUSTWORTHY_INSTANCE),
    ('architecture', re.compile(r'^architecture claim '),
     'configuration', CONTRAINDICATED_CLAIM),
    ('unknown-domains', re.compile(r'^libvirt runs \d+ domains? Nova '),
     'configuration', CONTRAINDICATED_CLAIM),
    ('event-log', re.compile(r'^event log does not replay'),
     'executables', CRYPTO_VALIDATION_FAILED),
    ('no-reference', re.compile(r'^no reference values for '),
     'executables', UNRECOGNIZED_RUNTIME),
    ('boot', re.compile(r'^PCR \d+ does not match'),
     'executables', CONTRAINDICATED_CLAIM),
    ('platform', re.compile(r'^host claims .* but libvirt reports no '),
     'hardware', CONTRAINDICATED_CLAIM),
    ('platform-report', re.compile(r'^malformed platform report'),
     'hardware', UNEXPECTED_EVIDENCE),
    # After the boot and identity rules, whose sentences may name a TPM.
    ('tpm-quote', re.compile(r'TPM|quote|attestation key|endorsement key|'
                             r'signature'),
     'hardware', CRYPTO_VALIDATION_FAILED),
    ('runtime', re.compile(r'^\d+ [a-z -]*(violations?|leaks?)\b'),
     'runtime-opaque', CONTRAINDICATED_CLAIM),
)


class SigningKeyError(exception.SodNovaException, ValueError):
    """The signing key file is missing or is no key EAR can be signed with."""


def tier(value):
    """The AR4SI tier of a trustworthiness claim value."""
    if -1 <= value <= 1:
        return NONE
    if 2 <= value <= 31 or -32 <= value <= -2:
        return AFFIRMING
    if 32 <= value <= 95 or -96 <= value <= -33:
        return WARNING
    return CONTRAINDICATED


def reason_class(reason):
    """``(name, vector claim, value)`` of an untrusted verdict's ``reason``;
    ``('unknown', None, None)`` when no rule matches (still contraindicated:
    the status follows the verdict, never the other way)."""
    for name, pattern, claim, value in REASONS:
        if pattern.search(reason or ''):
            return name, claim, value
    return 'unknown', None, None


def _opaque_runtime(capabilities):
    """``runtime-opaque`` of a trusted host, from what it protects: memory
    hidden from the hypervisor and from hardware attacks is encrypted memory;
    from other VMs only, isolation; else no claim."""
    matrix = capabilities.matrix()
    if all('C' in matrix.get(e, ()) for e in ('Hypervisor', 'HW attacks')):
        return ENCRYPTED_MEMORY
    if 'C' in matrix.get('Other VMs', ()):
        return ISOLATED_MEMORY
    return NO_CLAIM


def appraisal(state, reason, capability_mask=0, evidence_at=None):
    """The EAR appraisal (one ``submods`` entry) of a host whose verdict now
    is ``state`` for ``reason``, with the verified capability row
    ``capability_mask`` and evidence of ``evidence_at`` (a datetime)."""
    vector = dict.fromkeys(VECTOR, NO_CLAIM)
    # What the host protects now: nothing unless trusted.
    capabilities = SecurityRequest(
        (capability_mask or 0) if state == trust.TRUSTED else 0)
    code = None
    if state == trust.TRUSTED:
        status = AFFIRMING
        vector.update(TRUSTED_VECTOR)
        vector['runtime-opaque'] = _opaque_runtime(capabilities)
    elif state == trust.UNTRUSTED:
        status = CONTRAINDICATED
        code, claim, value = reason_class(reason)
        # Untrusted means attributable: signed by the host's enrolled key.
        vector['instance-identity'] = TRUSTWORTHY_INSTANCE
        if claim is None and value is not None:
            vector = dict.fromkeys(VECTOR, value)
        elif claim is not None:
            vector[claim] = value
    else:
        status = NONE           # unreachable: no fresh verified evidence
    verdict = {'state': state, 'reason': reason}
    if code is not None:
        verdict['reason-class'] = code
    if evidence_at is not None:
        verdict['last-evidence-at'] = evidence_at.isoformat()
    return {'ear.status': status, 'ear.trustworthiness-vector': vector,
            CAPABILITIES: capabilities.matrix(), VERDICT: verdict}


def claims(submods, issued_at, build, nonce=None):
    """The EAR claims set: ``submods`` (host name -> :func:`appraisal`)
    issued at ``issued_at`` (seconds since the epoch) by verifier ``build``,
    bound to a relying party's ``nonce`` where one was given."""
    result = {'eat_profile': PROFILE, 'iat': int(issued_at),
              'ear.verifier-id': {'developer': DEVELOPER, 'build': build},
              'submods': dict(submods)}
    if nonce is not None:
        result['eat_nonce'] = nonce
    return result


def issue(signer, host, state, reason, capability_mask, evidence_at,
          issued_at, nonce=None):
    """The signed EAR of one host's verdict (see :func:`appraisal` and
    :func:`claims`), a compact JWS."""
    return signer.sign(claims(
        {host: appraisal(state, reason, capability_mask, evidence_at)},
        issued_at, BUILD, nonce))


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


class Signer:
    """Signs EARs with one private key: ES256 (P-256) or EdDSA (Ed25519).

    ``kid`` is the key's RFC 7638 JWK thumbprint, so a relying party finds
    the key in the JWKS without a name anybody has to keep.
    """

    def __init__(self, private_key):
        self._key = private_key
        public = private_key.public_key()
        if isinstance(private_key, ec.EllipticCurvePrivateKey):
            if not isinstance(private_key.curve, ec.SECP256R1):
                raise SigningKeyError('an EC key on %s, not P-256'
                                % private_key.curve.name)
            numbers = public.public_numbers()
            self.algorithm = 'ES256'
            self._jwk = {'crv': 'P-256', 'kty': 'EC',
                         'x': _b64(numbers.x.to_bytes(32, 'big')),
                         'y': _b64(numbers.y.to_bytes(32, 'big'))}
        elif isinstance(private_key, ed25519.Ed25519PrivateKey):
            self.algorithm = 'EdDSA'
            self._jwk = {'crv': 'Ed25519', 'kty': 'OKP', 'x': _b64(
                public.public_bytes(serialization.Encoding.Raw,
                                    serialization.PublicFormat.Raw))}
        else:
            raise SigningKeyError('a %s, not a P-256 or Ed25519 private key'
                            % type(private_key).__name__.lstrip('_'))
        canonical = json.dumps(self._jwk, sort_keys=True,
                               separators=(',', ':')).encode()
        self.kid = _b64(hashlib.sha256(canonical).digest())

    @classmethod
    def from_pem(cls, data):
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise SigningKeyError('no unencrypted PEM private key (%s)'
                            % str(exc).splitlines()[0]) from None
        return cls(key)

    def jwk(self):
        """The public key as a JWK, for the JWKS."""
        return dict(self._jwk, kid=self.kid, alg=self.algorithm, use='sig')

    def sign(self, claims_set):
        """``claims_set`` as a compact JWS (a JWT)."""
        return jwt.encode(claims_set, self._key, algorithm=self.algorithm,
                          headers={'kid': self.kid, 'typ': 'JWT'})


def load_signer(path):
    """The :class:`Signer` of the PEM file ``path``; :class:`SigningKeyError`
    naming the file if it is missing or holds no usable key."""
    try:
        with open(path, 'rb') as f:
            data = f.read(64 * 1024)
    except OSError as exc:
        raise SigningKeyError('EAR signing key file %s: %s'
                        % (path, exc.strerror or exc)) from None
    try:
        return Signer.from_pem(data)
    except SigningKeyError as exc:
        raise SigningKeyError('EAR signing key file %s: %s' % (path, exc)) from None


def optional_signer(path):
    """:func:`load_signer` of ``path``, or None when no file is configured
    (then no result is issued at all, never an unsigned one)."""
    return load_signer(path) if path else None


def jwks(signers):
    """The JWK Set of ``signers``' public keys."""
    return {'keys': [s.jwk() for s in signers]}
