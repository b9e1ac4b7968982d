"""The monitor's side of TPM attestation-key activation.

Until a host's attestation key (AK) is activated under its enrolled EK, its
reports change no state and each is answered with a MakeCredential secret;
the report proving the TPM released it stores the AK in the host's
enrollment row. See doc/source/contributor/trust-plane.rst.
"""

import base64
import os

from oslo_log import log as logging

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


def same(record, row):
    """Whether ``row`` still holds the EK and AK ``record`` was loaded with
    (a re-enrollment replaces the EK and forgets the AK)."""
    return ((row.tpm_ek or None) == record.tpm_ek_text
            and (row.tpm_ak or None) == record.tpm_ak_text)


def to_activate(verdict, record):
    """The AK (base64, as reported) whose activation a fresh verdict
    proved, to store in the host's enrollment row; or None."""
    result = verdict.tpm
    if (result is None or result.activated is None or not verdict.fresh
            or record is None):
        return None
    return verdict.evidence.tpm['ak']


def activated(record, verdict, ak_text):
    """The AK ``ak_text`` is stored: its quotes count from now on."""
    record.tpm_ak, record.tpm_ak_text = verdict.tpm.activated, ak_text
    record.tpm_pending = None
    LOG.info('%(host)s: attestation key activated under the enrolled '
             'endorsement key', {'host': record.host})


def credential(verdict, record):
    """The credential for the AK of a report awaiting its activation, to
    send with the next challenge (kept in ``record`` until proved), or
    None."""
    result = verdict.tpm
    if result is None or result.credential_for is None or record is None:
        return None
    ak_text = verdict.evidence.tpm['ak']
    secret = os.urandom(SECRET_BYTES)
    blob, seed = tpm2.make_credential(record.tpm_ek, result.credential_for.name,
                                      secret)
    secrets = ()
    if record.tpm_pending and record.tpm_pending[0] == ak_text:
        secrets = record.tpm_pending[1][-(PENDING_CREDENTIALS - 1):]
    record.tpm_pending = (ak_text, (*secrets, secret))
    LOG.info('%(host)s: credential sent for its attestation key',
             {'host': record.host})
    return {'blob': base64.b64encode(blob).decode('ascii'),
            'secret': base64.b64encode(seed).decode('ascii')}
