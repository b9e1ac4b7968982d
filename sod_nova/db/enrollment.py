"""Trust enrollments: which key speaks for which host, and the freshness of
its reports.

One public key belongs to one host, stored in one spelling; a wrong
enrollment proof never uses up the token. See
``doc/source/contributor/database.rst``.
"""

import base64
import binascii
import dataclasses
import datetime

import sqlalchemy as sa

from sod_nova import exception
from sod_nova.db import api
from sod_nova.db import models
from sod_nova.db import values

#: Wrong enrollment proofs counted before the back-off starts.
FREE_PROOF_ATTEMPTS = 3
#: Longest back-off after wrong proofs, seconds.
MAX_PROOF_BACKOFF = 300
#: Longest life of an enrollment token, seconds (a week): it bounds how
#: long a token can be guessed at (see :func:`enroll_with_token`).
MAX_TOKEN_TTL = 7 * 24 * 3600


class EnrollmentError(exception.SodNovaException, ValueError):
    """An enrollment request that is refused; ``str()`` says why."""


TrustEnrollment = models.TrustEnrollment


@dataclasses.dataclass(frozen=True)
class EnrollmentRow:
    host: str
    architecture: str
    public_key: str | None
    token_pending: bool
    token_expires_at: datetime.datetime | None
    #: Freshness of the host's reports: (boot_id, last_sequence, seen,
    #: nonce_ms); see :func:`advance_many`.
    freshness: tuple = (None, 0, 0, 0)
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
        token_expires_at=values.from_epoch(model.token_expires_at),
        freshness=(model.boot_id, model.last_sequence or 0, model.seen or 0,
                   model.nonce_ms or 0),
        tpm_ek=model.tpm_ek, tpm_ak=model.tpm_ak)


def _select(session, host):
    return session.scalars(
        sa.select(TrustEnrollment).filter_by(host=host)).first()


@api.context_manager.reader
def get(context, host):
    """The enrollment of ``host`` or None."""
    model = _select(context.session, host)
    return _row(model) if model is not None else None


@api.context_manager.reader
def freshness_many(context, hosts):
    """``{host: (public_key, freshness)}`` of the enrolled ``hosts``, read
    a few hundred hosts a statement (see :attr:`EnrollmentRow.freshness`)."""
    return {host: _key_and_freshness(row) for host, row in api.read_hosts(
        context, TrustEnrollment, hosts, _KEY_AND_FRESHNESS).items()}


@api.context_manager.reader
def get_all(context):
    query = sa.select(TrustEnrollment).order_by(TrustEnrollment.host)
    return [_row(m) for m in context.session.scalars(query)]


@api.context_manager.writer
def enroll_key(context, host, architecture, public_key, tpm_ek=None):
    """The operator vouches for ``public_key`` as ``host``'s key, and for
    ``tpm_ek`` (base64 TPMT_PUBLIC) as its TPM's endorsement key.

    Replaces any earlier key, EK, activated AK or pending token; also
    declares the host row (``unreachable`` until evidence verifies). The
    caller has checked that ``public_key`` and ``tpm_ek`` parse. A key
    another host holds is refused (:class:`EnrollmentError` naming that
    host). A new key starts the host's report freshness anew. One
    transaction: a refused key declares nothing either.
    """
    _check_canonical(public_key)
    api.host_declare(context, host, architecture)
    api.claim(context, TrustEnrollment,
              TrustEnrollment.public_key == public_key)
    _check_key_unused(context.session, host, public_key)
    model = _claim_row(context, host)
    if model.public_key != public_key:
        _reset_freshness(model)
    model.architecture = architecture
    model.public_key = public_key
    model.tpm_ek = tpm_ek
    model.tpm_ak = None
    model.token_key = None
    model.token_expires_at = None
    model.failed_proofs = 0
    model.proof_retry_at = None
    context.session.flush()
    return _row(model)


def _check_canonical(public_key):
    """Refuse every spelling of a key but the one stored and compared."""
    try:
        raw = base64.b64decode(public_key, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raw = b''
    if len(raw) != 32 or base64.b64encode(raw).decode() != public_key:
        raise EnrollmentError('the public key is not written as base64 of its '
                              '32 raw bytes (as sod-trust-agent prints it)')


def _check_key_unused(session, host, public_key):
    other = session.scalars(sa.select(TrustEnrollment.host).where(
        TrustEnrollment.public_key == public_key,
        TrustEnrollment.host != host)).first()
    if other is not None:
        raise EnrollmentError('this public key is already enrolled for host '
                              '%s; one key belongs to one host' % other)


def _reset_freshness(model):
    model.boot_id = None
    model.last_sequence = model.seen = model.nonce_ms = 0


@api.context_manager.writer
def activate_ak(context, host, public_key, tpm_ak):
    """Store ``tpm_ak`` as the attestation key of ``host``, whose TPM
    activated a credential for it; only while ``public_key`` is still the
    enrolled host key (a re-enrollment meanwhile wins). True if stored."""
    model = _select(context.session, host)
    if model is None or model.public_key != public_key or not model.tpm_ek:
        return False
    model.tpm_ak = tpm_ak
    return True


def _claim_row(context, host):
    """``host``'s enrollment row, locked for writing (created if missing)."""
    api.claim(context, TrustEnrollment, TrustEnrollment.host == host)
    model = _select(context.session, host)
    if model is None:
        model = TrustEnrollment(host=host)
        context.session.add(model)
    return model


@api.context_manager.writer
def create_token(context, host, architecture, token_key, ttl_seconds,
                 now=None, tpm_ek=None):
    """Store a one-time token (its hash ``token_key``) for ``host``.

    An existing key stays valid until the token is used (re-keying without
    downtime). ``tpm_ek`` (base64 TPMT_PUBLIC) is the host's TPM
    endorsement key, which the operator vouches for (the agent's enrollment
    only brings its signing key); a different EK forgets the activated AK.
    ``ttl_seconds`` is 1 to :data:`MAX_TOKEN_TTL`.
    """
    if not 1 <= ttl_seconds <= MAX_TOKEN_TTL:
        raise EnrollmentError('a token lives 1 to %d seconds, not %s'
                              % (MAX_TOKEN_TTL, ttl_seconds))
    api.host_declare(context, host, architecture)
    expires = (values.to_epoch(now) if now is not None
               else values.now()) + ttl_seconds
    model = _claim_row(context, host)
    model.architecture = architecture
    model.token_key = token_key
    model.token_expires_at = expires
    if tpm_ek is not None and tpm_ek != model.tpm_ek:
        model.tpm_ek = tpm_ek
        model.tpm_ak = None


def enroll_with_token(context, host, architecture, public_key, check_proof,
                      now=None):
    """Enroll ``public_key`` if the host's pending token vouches for it.

    ``check_proof(token_key, enrolled_architecture)`` says whether the
    agent's proof matches the stored token hash. The token is used up only
    by the enrollment it vouches for (or once it expired).

    Every proof is checked, during a back-off too, and a correct one
    enrolls at once. Nobody on the bus can be told apart before their proof
    is checked, so a back-off that refused proofs unchecked would refuse the
    genuine agent's as well: a stranger sending one wrong proof whenever it
    ended kept the host from ever enrolling. What bounds guessing is the
    token instead: 256 random bits (``keys.new_token``), usable at most
    :data:`MAX_TOKEN_TTL` seconds, one guess per message on the
    authenticated bus. The back-off bounds what wrong proofs cost: after
    :data:`FREE_PROOF_ATTEMPTS` of them it starts (doubling, at most
    :data:`MAX_PROOF_BACKOFF` s), and wrong proofs during it are refused
    without a write (not counted, no longer back-off), which the message
    says. A refusal is raised once the transaction that counted the wrong
    proof (or dropped the expired token) ended.
    """
    _check_canonical(public_key)
    now = values.to_epoch(now) if now is not None else values.now()
    row, error = _use_token(context, host, architecture, public_key,
                            check_proof, now)
    if error:
        raise EnrollmentError(error)
    return row


@api.context_manager.writer
def _use_token(context, host, architecture, public_key, check_proof, now):
    """``(row, None)`` if the proof enrolled ``public_key``, else
    ``(row, why)``; see :func:`enroll_with_token`."""
    session = context.session
    error = None
    api.claim(context, TrustEnrollment, TrustEnrollment.host == host)
    model = _select(session, host)
    if model is None or model.token_key is None:
        raise EnrollmentError('no enrollment token pending for %s' % host)
    backoff = (model.proof_retry_at is not None
               and now < model.proof_retry_at)
    if (model.token_expires_at is not None
            and now > model.token_expires_at):
        model.token_key = model.token_expires_at = None
        error = 'the enrollment token of %s expired' % host
    elif architecture.lower() != model.architecture.lower():
        error = ('architecture %s differs from %s, for which the token '
                 'was issued' % (architecture, model.architecture))
    elif not check_proof(model.token_key, model.architecture):
        error = 'enrollment proof of %s does not match its token' % host
    else:
        _check_key_unused(session, host, public_key)
        if model.public_key != public_key:
            _reset_freshness(model)
        model.public_key = public_key
        model.token_key = model.token_expires_at = None
        model.failed_proofs = 0
        model.proof_retry_at = None
    if error and model.token_key is not None:   # a wrong proof
        if backoff:
            error += ' (%d wrong proofs; back-off for %.0f s more)' % (
                model.failed_proofs,
                model.proof_retry_at - now)
        else:
            _count_wrong_proof(model, now)
    session.flush()
    return _row(model), error


def _count_wrong_proof(model, now):
    model.failed_proofs = (model.failed_proofs or 0) + 1
    over = model.failed_proofs - FREE_PROOF_ATTEMPTS
    if over >= 0:
        model.proof_retry_at = now + min(2 ** min(over, 16),
                                         MAX_PROOF_BACKOFF)


@api.context_manager.writer
def advance_many(context, updates):
    """Consume reports and record their verdicts, in one transaction.

    ``updates`` is a list of :class:`FreshnessUpdate`. Each one moves the
    host's freshness from ``expect`` to ``new`` only if the row still holds
    ``expect`` and ``key``: a report another replica consumed meanwhile, or
    one signed with a key the operator replaced, changes nothing. After a
    successful move, ``trust`` (keyword arguments of
    :func:`sod_nova.db.api.host_set_trust`) is written to the host row in the
    same transaction (:func:`sod_nova.db.api.set_trust_many`: one read and
    one write of the batch's host rows), unless the row is kept fresh by
    another monitor (then the result says ``foreign``). Returns one result
    per update: None (conflict: read the row again), ``'foreign'``, True
    (no host row to write), or the host's old state.
    """
    if not updates:
        return []
    moved = _advance(context, updates)
    written = iter(api.set_trust_many(context, [
        (u.host, u.trust) for u, ok in zip(updates, moved, strict=True)
        if ok and u.trust is not None], skip_foreign=True))
    return [None if not ok else True if u.trust is None else next(written)
            for u, ok in zip(updates, moved, strict=True)]


def _advance(context, updates):
    """Which of ``updates`` move their host's freshness; moves them.

    The hosts' rows are claimed first (locked for writing), read, and the
    updates whose ``expect`` and key the rows hold (in order: a batch may
    chain several reports of one host: one write from its first state to
    its last) are written with :func:`~sod_nova.db.api.update_many`: a
    handful of statements per batch, not one per report.
    """
    table = TrustEnrollment.__table__
    current = {host: _key_and_freshness(row) for host, row in api.claim_hosts(
        context, TrustEnrollment, [u.host for u in updates],
        _KEY_AND_FRESHNESS).items()}
    moved, final = [], {}
    for u in updates:
        ok = current.get(u.host) == (u.key, tuple(u.expect))
        moved.append(ok)
        if not ok:
            continue
        current[u.host] = (u.key, tuple(u.new))
        new = {'boot': u.new[0], 'seq': u.new[1], 'seen': u.new[2],
               'ms': u.new[3]}
        if u.host in final:      # a chain of one host's reports: one write
            final[u.host].update(new)
        else:
            final[u.host] = dict(new, w_host=u.host, w_key=u.key,
                                 w_boot=u.expect[0], w_seq=u.expect[1],
                                 w_seen=u.expect[2], w_ms=u.expect[3])
    if final:
        api.update_many(context, table, _FRESHNESS_MATCH, _FRESHNESS_CHANGES,
                        list(final.values()))
    return moved


#: The columns of a host's key and report freshness.
_KEY_AND_FRESHNESS = ('public_key', 'boot_id', 'last_sequence', 'seen',
                      'nonce_ms')


def _key_and_freshness(row):
    """``(public_key, freshness tuple)`` of a row of
    :data:`_KEY_AND_FRESHNESS`."""
    return row.public_key, (row.boot_id, row.last_sequence, row.seen,
                            row.nonce_ms)


#: The conditional move of one host's freshness (:func:`_advance`).
_FRESHNESS_MATCH = (
    ('host', 'w_host', False), ('public_key', 'w_key', False),
    ('boot_id', 'w_boot', True), ('last_sequence', 'w_seq', False),
    ('seen', 'w_seen', False), ('nonce_ms', 'w_ms', False))
_FRESHNESS_CHANGES = (('boot_id', 'boot'), ('last_sequence', 'seq'),
                      ('seen', 'seen'), ('nonce_ms', 'ms'))


@dataclasses.dataclass(frozen=True)
class FreshnessUpdate:
    host: str
    key: str
    expect: tuple
    new: tuple
    trust: dict = None


@api.context_manager.writer
def revoke(context, host):
    """Delete ``host``'s enrollment; True if there was one."""
    result = context.session.execute(
        sa.delete(TrustEnrollment).where(TrustEnrollment.host == host))
    return result.rowcount > 0
