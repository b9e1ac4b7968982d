"""TPM hosts' state for the monitor group: TPM clocks, pending credentials.

Whatever a TPM host's verdict depends on besides its enrollment lives here,
so that any monitor of the group judges its reports as any other would: the
clock of its TPM's last accepted quote (a rollback shows against it), and
the credentials sent for an attestation key awaiting activation (a proof
answers whichever member sent them). Of a credential only a hash of its
expected proof is kept, never the secret. See
``doc/source/contributor/trust-plane.rst``.
"""

import dataclasses

from oslo_db import exception as db_exc
import sqlalchemy as sa

from sod_nova.db import api
from sod_nova.db import models
from sod_nova.db import values

TpmState = models.TpmState


@dataclasses.dataclass(frozen=True)
class TpmStateRow:
    host: str
    #: SHA-256 (hex) of the enrolled EK the state is of.
    ek_digest: str
    #: ``(reset_count, restart_count, clock)`` of the last accepted quote,
    #: or None.
    clock: tuple = None
    #: SHA-256 of the AK the pending credentials are for, or None.
    pending_ak: str = None
    #: SHA-256 of each pending credential's expected proof, oldest first.
    pending_proofs: tuple = ()


@dataclasses.dataclass(frozen=True)
class QuoteWrite:
    """A host's TPM state after an accepted quote: its clock, and whether
    the quote's AK was activated with it (its credentials are done)."""

    host: str
    ek_digest: str
    clock: tuple
    activated: bool = False


def _row(row):
    clock = (None if row.clock is None else
             (row.reset_count, row.restart_count, row.clock))
    return TpmStateRow(row.host, row.ek_digest, clock, row.pending_ak,
                       tuple((row.pending_proofs or '').split()))


def _select(where):
    t = TpmState.__table__
    return sa.select(t.c.host, t.c.ek_digest, t.c.reset_count,
                     t.c.restart_count, t.c.clock, t.c.pending_ak,
                     t.c.pending_proofs).where(where)


@api.context_manager.reader
def get(context, host):
    """``host``'s :class:`TpmStateRow`, or None."""
    row = context.session.execute(
        _select(TpmState.__table__.c.host == host)).first()
    return _row(row) if row is not None else None


def add_credential(context, host, ek_digest, ak_digest, proof_digest, keep):
    """Add a credential for AK ``ak_digest`` of ``host`` (whose EK is
    ``ek_digest``) to the group's pending ones, keeping the last ``keep``;
    the pending proofs' digests after it, oldest first. Credentials for
    another AK, or state of another EK, are dropped. Safe against another
    member adding one at the same time (the row is locked first)."""
    added = _add(context, host, ek_digest, ak_digest, proof_digest, keep)
    if added is not None:
        return added
    try:
        _insert(context, host, ek_digest, ak_digest, proof_digest)
        return (proof_digest,)
    except db_exc.DBDuplicateEntry:     # another member's first credential
        return _add(context, host, ek_digest, ak_digest, proof_digest, keep)


@api.context_manager.writer
def _add(context, host, ek_digest, ak_digest, proof_digest, keep):
    """The pending proofs after adding one, or None if ``host`` has no row."""
    t = TpmState.__table__
    api.claim(context, TpmState, t.c.host == host)
    row = context.session.execute(_select(t.c.host == host)).first()
    if row is None:
        return None
    state = _row(row)
    changes = {}
    if state.ek_digest != ek_digest:    # re-enrolled with another TPM
        changes = {'ek_digest': ek_digest, 'reset_count': None,
                   'restart_count': None, 'clock': None}
    proofs = ()
    if state.ek_digest == ek_digest and state.pending_ak == ak_digest:
        proofs = state.pending_proofs[-(keep - 1):] if keep > 1 else ()
    proofs = (*proofs, proof_digest)
    changes.update(pending_ak=ak_digest, pending_proofs=' '.join(proofs),
                   updated_at=values.now())
    context.session.execute(sa.update(t).where(t.c.host == host).values(
        changes))
    return proofs


@api.context_manager.writer
def _insert(context, host, ek_digest, ak_digest, proof_digest):
    context.session.execute(sa.insert(TpmState.__table__).values(
        host=host, ek_digest=ek_digest, pending_ak=ak_digest,
        pending_proofs=proof_digest, created_at=values.now()))


@api.context_manager.writer
def record_quotes(context, quotes):
    """Store the TPM state of accepted quotes (a list of
    :class:`QuoteWrite`), in the caller's transaction (the one that
    consumed their reports, whose claim of the hosts' enrollment rows
    orders them). One read and at most three statements a batch."""
    if not quotes:
        return
    t = TpmState.__table__
    session = context.session
    last = {q.host: q for q in quotes}      # a batch may chain reports
    existing = {row.host for row in session.execute(
        sa.select(t.c.host).where(t.c.host.in_(sorted(last))))}
    now = values.now()
    rows = [{'w_host': q.host, 'ek_digest': q.ek_digest,
             'reset_count': q.clock[0], 'restart_count': q.clock[1],
             'clock': q.clock[2], 'updated_at': now}
            for q in last.values() if q.host in existing]
    if rows:
        session.execute(sa.update(t).where(
            t.c.host == sa.bindparam('w_host')), rows)
    new = [{'host': q.host, 'ek_digest': q.ek_digest,
            'reset_count': q.clock[0], 'restart_count': q.clock[1],
            'clock': q.clock[2], 'created_at': now}
           for q in last.values() if q.host not in existing]
    if new:
        session.execute(sa.insert(t), new)
    done = sorted({q.host for q in quotes if q.activated})
    if done:
        session.execute(sa.update(t).where(t.c.host.in_(done)).values(
            pending_ak=None, pending_proofs=None, updated_at=now))
