"""Trust enrollments: which key speaks for which host.

A row exists once the operator enrolled a host's public key or issued it a
one-time token. The monitor caches the rows and reads a host's row again
before each write of its host row, so a re-enrollment or revocation takes
effect at the latest one write period later. Evidence freshness (nonces,
sequences) is the monitor's in-memory state, bound to the monitor run.

A TPM host's row also holds the endorsement key (EK) the operator enrolled
and, once the monitor saw a credential for it activated, the attestation key
(AK) its quotes are signed with.

The table is created by the alembic migration ``0002_trust_enrollment``; the
TPM columns by ``0004_tpm_enrollment``.
"""

import dataclasses
import datetime

from oslo_db.sqlalchemy import models as oslo_models
from oslo_utils import timeutils
import sqlalchemy as sa

from sod_nova.db import api
from sod_nova.db import models


class EnrollmentError(ValueError):
    """An enrollment request that is refused; ``str()`` says why."""


class TrustEnrollment(models.BASE, oslo_models.TimestampMixin,
                      oslo_models.ModelBase):
    __tablename__ = 'sod_trust_enrollments'
    __table_args__ = (
        sa.UniqueConstraint('host', name='uniq_sod_trust_enrollments0host'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    host = sa.Column(sa.String(255), nullable=False)
    architecture = sa.Column(sa.String(255), nullable=False)
    public_key = sa.Column(sa.String(64), nullable=True)
    token_key = sa.Column(sa.String(64), nullable=True)
    token_expires_at = sa.Column(sa.DateTime, nullable=True)
    tpm_ek = sa.Column(sa.Text, nullable=True)
    tpm_ak = sa.Column(sa.Text, nullable=True)


@dataclasses.dataclass(frozen=True)
class EnrollmentRow:
    host: str
    architecture: str
    public_key: str | None
    token_pending: bool
    token_expires_at: datetime.datetime | None
    tpm_ek: str | None = None
    tpm_ak: str | None = None

    def to_dict(self):
        return {'host': self.host, 'architecture': self.architecture,
                'public_key': self.public_key,
                'tpm_ek': self.tpm_ek, 'tpm_ak': self.tpm_ak,
                'token_pending': self.token_pending,
                'token_expires_at': (self.token_expires_at.isoformat()
                                     if self.token_expires_at else None)}


def _row(model):
    return EnrollmentRow(
        host=model.host, architecture=model.architecture,
        public_key=model.public_key, token_pending=model.token_key is not None,
        token_expires_at=(model.token_expires_at.replace(tzinfo=datetime.UTC)
                          if model.token_expires_at else None),
        tpm_ek=model.tpm_ek, tpm_ak=model.tpm_ak)


def _select(session, host):
    return session.scalars(
        sa.select(TrustEnrollment).filter_by(host=host)).first()


def get(host, conf=None):
    """The enrollment of ``host`` or None."""
    api.configure(conf)
    with api.context_manager.reader.using(api._Context()) as session:
        model = _select(session, host)
        return _row(model) if model is not None else None


def get_all(conf=None):
    api.configure(conf)
    with api.context_manager.reader.using(api._Context()) as session:
        query = sa.select(TrustEnrollment).order_by(TrustEnrollment.host)
        return [_row(m) for m in session.scalars(query)]


def enroll_key(host, architecture, public_key, conf=None, tpm_ek=None):
    """The operator vouches for ``public_key`` as ``host``'s key, and for
    ``tpm_ek`` (base64 TPMT_PUBLIC) as its TPM's endorsement key.

    Replaces any earlier key, EK, activated AK or pending token; also
    declares the host row (``unreachable`` until evidence verifies). The
    caller has checked that ``public_key`` and ``tpm_ek`` parse.
    """
    api.host_declare(host, architecture, conf=conf)
    with api.context_manager.writer.using(api._Context()) as session:
        model = _claim_row(session, host)
        model.architecture = architecture
        model.public_key = public_key
        model.tpm_ek = tpm_ek
        model.tpm_ak = None
        model.token_key = None
        model.token_expires_at = None
        session.flush()
        return _row(model)


def activate_ak(host, public_key, tpm_ak, conf=None):
    """Store ``tpm_ak`` as the attestation key of ``host``, whose TPM
    activated a credential for it; only while ``public_key`` is still the
    enrolled host key (a re-enrollment meanwhile wins). True if stored."""
    api.configure(conf)
    with api.context_manager.writer.using(api._Context()) as session:
        model = _select(session, host)
        if model is None or model.public_key != public_key or not model.tpm_ek:
            return False
        model.tpm_ak = tpm_ak
        return True


def _claim_row(session, host):
    """``host``'s enrollment row, locked for writing (created if missing)."""
    api.claim(session, TrustEnrollment, TrustEnrollment.host == host)
    model = _select(session, host)
    if model is None:
        model = TrustEnrollment(host=host)
        session.add(model)
    return model


def create_token(host, architecture, token_key, ttl_seconds, conf=None,
                 now=None):
    """Store a one-time token (its hash ``token_key``) for ``host``.

    An existing key stays valid until the token is used (re-keying without
    downtime).
    """
    api.host_declare(host, architecture, conf=conf)
    expires = (now or timeutils.utcnow()) + datetime.timedelta(seconds=ttl_seconds)
    with api.context_manager.writer.using(api._Context()) as session:
        model = _claim_row(session, host)
        model.architecture = architecture
        model.token_key = token_key
        model.token_expires_at = expires


def enroll_with_token(host, architecture, public_key, check_proof, conf=None,
                      now=None):
    """Enroll ``public_key`` if the host's pending token vouches for it.

    ``check_proof(token_key, enrolled_architecture)`` says whether the
    agent's proof matches the stored token hash. The token is used up
    whatever the outcome, so a guessed proof cannot be retried.
    """
    now = now or timeutils.utcnow()
    api.configure(conf)
    error = None
    with api.context_manager.writer.using(api._Context()) as session:
        api.claim(session, TrustEnrollment, TrustEnrollment.host == host)
        model = _select(session, host)
        if model is None or model.token_key is None:
            raise EnrollmentError('no enrollment token pending for %s' % host)
        token_key, expires = model.token_key, model.token_expires_at
        model.token_key = None
        model.token_expires_at = None
        if expires is not None and now > expires:
            error = 'the enrollment token of %s expired' % host
        elif architecture.lower() != model.architecture.lower():
            error = ('architecture %s differs from %s, for which the token '
                     'was issued' % (architecture, model.architecture))
        elif not check_proof(token_key, model.architecture):
            error = 'enrollment proof of %s does not match its token' % host
        else:
            model.public_key = public_key
        session.flush()
        row = _row(model)
    if error:
        raise EnrollmentError(error)
    return row


def revoke(host, conf=None):
    """Delete ``host``'s enrollment; True if there was one."""
    api.configure(conf)
    with api.context_manager.writer.using(api._Context()) as session:
        result = session.execute(
            sa.delete(TrustEnrollment).where(TrustEnrollment.host == host))
        return result.rowcount > 0
