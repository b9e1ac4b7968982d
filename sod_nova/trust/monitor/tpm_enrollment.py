"""The monitor's side of TPM attestation-key activation.

Until a host's attestation key (AK) is activated under its enrolled EK, its
reports change no state and each is answered with a MakeCredential secret;
the report proving the TPM released it stores the AK in the host's
enrollment row. Pending credentials and the TPM clock are the group's
(:mod:`sod_nova.db.tpm_state`). See doc/source/contributor/trust-plane.rst.
"""

import base64
import dataclasses
import os

from oslo_log import log as logging

from sod_nova.db import enrollment as db_enrollment
from sod_nova.db import tpm_state
from sod_nova.trust import attestation
from sod_nova.trust import tpm2

LOG = logging.getLogger(__name__)

#: Credentials kept per host awaiting their proof (a report in flight when
#: a new credential went out still proves an earlier one).
PENDING_CREDENTIALS = 4
SECRET_BYTES = 32


def load(record, row):
    """Fill ``record``'s TPM fields from the enrollment ``row``."""
    if row.tpm_ek:
        record.tpm_ek = attestation.decode_ek(row.tpm_ek)
        record.tpm_ek_text = row.tpm_ek
    if row.tpm_ek and row.tpm_ak:
        record.tpm_ak = tpm2.parse_public(base64.b64decode(row.tpm_ak))
        record.tpm_ak_text = row.tpm_ak


def load_state(record, state):
    """Fill ``record``'s TPM clock and pending credentials from the group's
    :class:`~sod_nova.db.tpm_state.TpmStateRow` ``state`` (or None), if it
    is of the enrolled EK."""
    if (state is None or record.tpm_ek_text is None
            or state.ek_digest != attestation.fingerprint(record.tpm_ek_text)):
        return
    if state.clock is not None:
        record.tpm_clock = attestation.Clock(*state.clock)
    if state.pending_ak is not None:
        record.tpm_pending = (state.pending_ak, state.pending_proofs)


def awaiting(record):
    """Whether ``record``'s host has an AK awaiting activation: its
    credentials and its activation are any member's to move, so the record
    is read again for each report."""
    return record.tpm_ek is not None and (
        record.tpm_ak is None or record.tpm_pending is not None)


@dataclasses.dataclass(frozen=True)
class Write:
    """What an accepted report stores of its TPM attestation, with it."""

    #: The AK (base64, as reported) whose activation the report proved.
    ak_text: str = None
    #: Its quote's clock (:class:`~sod_nova.db.tpm_state.QuoteWrite`).
    quote: object = None


def to_write(verdict, record):
    """The :class:`Write` of ``verdict`` once its report is accepted, or
    None."""
    result = verdict.tpm
    if result is None or record is None or record.tpm_ek_text is None:
        return None
    ak_text = (verdict.evidence.tpm['ak'] if result.activated is not None
               and verdict.fresh else None)
    quote = None
    if result.clock is not None:
        clock = result.clock
        quote = tpm_state.QuoteWrite(
            record.host, attestation.fingerprint(record.tpm_ek_text),
            (clock.reset_count, clock.restart_count, clock.clock))
    if ak_text is None and quote is None:
        return None
    return Write(ak_text, quote)


def store(context, accepted):
    """Store the :class:`Write` of each accepted report, ``(index,
    record, write)``, in the transaction that consumed them; the indexes of
    the reports whose AK was stored."""
    stored, quotes = set(), []
    for i, record, write in accepted:
        done = write.ak_text is not None and db_enrollment.activate_ak(
            context, record.host, record.key_text, write.ak_text)
        if done:
            stored.add(i)
        if write.quote is not None:
            quotes.append(dataclasses.replace(write.quote, activated=done))
    tpm_state.record_quotes(context, quotes)
    return stored


def activated(record, verdict, write):
    """The AK of ``write`` is stored: its quotes count from now on."""
    record.tpm_ak, record.tpm_ak_text = verdict.tpm.activated, write.ak_text
    record.tpm_pending = None
    LOG.info('%(host)s: attestation key activated under the enrolled '
             'endorsement key', {'host': record.host})


def credential(verdict, record, database):
    """The credential for the AK of a report awaiting its activation, to
    send with the next challenge (stored for the group first, through
    ``database``, the monitor's :class:`~.database.Database`), or None."""
    result = verdict.tpm
    if result is None or result.credential_for is None or record is None:
        return None
    ak = attestation.fingerprint(verdict.evidence.tpm['ak'])
    name = result.credential_for.name
    secret = os.urandom(SECRET_BYTES)
    blob, seed = tpm2.make_credential(record.tpm_ek, name, secret)
    proof = attestation.fingerprint(attestation.activation_proof(secret, name))
    proofs = database.call(
        tpm_state.add_credential, record.host,
        attestation.fingerprint(record.tpm_ek_text), ak, proof,
        PENDING_CREDENTIALS)
    record.tpm_pending = (ak, tuple(proofs))
    LOG.info('%(host)s: credential sent for its attestation key',
             {'host': record.host})
    return {'blob': base64.b64encode(blob).decode('ascii'),
            'secret': base64.b64encode(seed).decode('ascii')}
