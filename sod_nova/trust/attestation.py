"""TPM 2.0 attestation of one report: AK activation and the quote.

A host enrolled with an endorsement key backs each report with a quote by an
attestation key the monitor activated under that EK (no trust on first use).
The ``tpm`` field and what a quote must show:
``doc/source/contributor/architecture-notes.rst``.
"""

import base64
import binascii
import dataclasses
import hashlib
import hmac

from sod_nova.trust import tpm2

ACTIVATION_LABEL = b'sod-nova-activate-v1'
FIELDS = {'ak', 'quote', 'signature', 'activation'}


@dataclasses.dataclass(frozen=True)
class Clock:
    """The TPM clock of the last accepted quote."""

    reset_count: int
    restart_count: int
    clock: int


@dataclasses.dataclass(frozen=True)
class Result:
    """What checking one report's TPM attestation found."""

    #: Why the host is untrusted, or None.
    reason: object = None
    #: The AK whose activation this report proved (to enroll), if any.
    activated: object = None
    #: The AK to send a credential for (it is not activated yet).
    credential_for: object = None
    #: The quote's clock, to keep once the report is accepted.
    clock: object = None
    #: True when the quote's reset count shows the TPM was reset (a reboot).
    rebooted: bool = False


def activation_proof(secret, ak_name):
    """What the agent returns after ActivateCredential released ``secret``."""
    return hmac.new(secret, ACTIVATION_LABEL + ak_name,
                    hashlib.sha256).hexdigest()


def fingerprint(text):
    """SHA-256 (hex) of an EK or AK as enrolled or reported, or of an
    activation proof: what the group's database keeps of it (of a
    credential, the hash of its proof, never its secret)."""
    return hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()


def decode_ek(text):
    """The EK :class:`~sod_nova.trust.tpm2.PublicArea` of enrolled text."""
    area = tpm2.parse_public(_b64(text, 'endorsement key'))
    tpm2.check_ek(area)
    return area


def _b64(text, what):
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise tpm2.TpmError('%s is not base64' % what) from None


def check(enrollment, evidence):
    """The :class:`Result` of ``evidence``'s TPM attestation, or None when
    the host is not enrolled with an EK and sent no quote."""
    field = getattr(evidence, 'tpm', None)
    ek = enrollment.tpm_ek
    if ek is None:
        if field is None:
            return None
        return Result('TPM quote from a host enrolled without an endorsement '
                      'key (enroll it with --tpm-ek)')
    if field is None:
        return Result('no TPM quote, but the host is enrolled with an '
                      'endorsement key')
    try:
        return _check(enrollment, ek, field, evidence)
    except tpm2.TpmError as exc:
        return Result(str(exc))


def _check(enrollment, ek, field, evidence):
    if not isinstance(field, dict) or set(field) != FIELDS or not all(
            isinstance(field[k], str) for k in ('ak', 'quote', 'signature')):
        raise tpm2.TpmError('malformed TPM attestation: fields %s' % ', '.join(
            sorted(FIELDS)))
    activated = None
    if field['ak'] == enrollment.tpm_ak_text and enrollment.tpm_ak is not None:
        ak = enrollment.tpm_ak
    else:
        ak = tpm2.parse_public(_b64(field['ak'], 'attestation key'))
        tpm2.check_ak(ak)
        pending = enrollment.tpm_pending
        proof = field['activation']
        if not (pending and isinstance(proof, str)
                and pending[0] == fingerprint(field['ak'])
                and any(hmac.compare_digest(fingerprint(proof), digest)
                        for digest in pending[1])):
            return Result('attestation key not activated under the enrolled '
                          'endorsement key', credential_for=ak)
        activated = ak
    quote = _b64(field['quote'], 'quote')
    attest = tpm2.parse_attest(quote)
    if attest.extra_data != bytes.fromhex(evidence.nonce):
        raise tpm2.TpmError("TPM quote is not over this report's nonce "
                            "(an old quote replayed?)")
    if attest.qualified_signer != tpm2.ak_qualified_name(ek, ak):
        raise tpm2.TpmError('quote signer is not the attestation key under '
                            'the enrolled endorsement key')
    indices = tuple(sorted(evidence.pcrs))
    if attest.pcr_select != ((tpm2.ALG_SHA256, indices),):
        raise tpm2.TpmError('quote covers PCRs %s, not the reported %s' % (
            _selection(attest.pcr_select), list(indices)))
    values = [bytes.fromhex(evidence.pcrs[i]) for i in indices]
    if attest.pcr_digest != tpm2.pcr_digest(values):
        raise tpm2.TpmError('quoted PCR digest differs from the reported '
                            'PCR values')
    tpm2.check_signature(ak, quote, _b64(field['signature'], 'signature'))
    clock = Clock(attest.reset_count, attest.restart_count, attest.clock)
    reason = _clock_problem(enrollment.tpm_clock, clock)
    last = enrollment.tpm_clock
    return Result(reason, activated=activated, clock=None if reason else clock,
                  rebooted=bool(last and clock.reset_count > last.reset_count))


def _selection(select):
    return ', '.join('%s:%s' % (tpm2.HASHES.get(alg, (hex(alg),))[0],
                                list(indices)) for alg, indices in select) or 'none'


def _clock_problem(last, now):
    """Why ``now`` cannot follow ``last``: the TPM's counters only grow
    (resetCount at each TPM reset, restartCount at each resume), and within
    one reset and restart its clock only moves forward."""
    if last is None:
        return None
    if now.reset_count < last.reset_count:
        return ('TPM reset count went back (%d after %d): a rolled-back or '
                'another TPM' % (now.reset_count, last.reset_count))
    if now.reset_count > last.reset_count:
        return None
    if now.restart_count < last.restart_count:
        return ('TPM restart count went back (%d after %d)'
                % (now.restart_count, last.restart_count))
    if now.restart_count == last.restart_count and now.clock < last.clock:
        return ('TPM clock went back (%d ms after %d ms) without a reset: a '
                'replayed or rolled-back quote' % (now.clock, last.clock))
    return None
