"""SQLAlchemy models of every sod-nova table, on one declarative base.

The alembic migrations (``migrations/versions``) define the schema; these
models mirror it for queries and for the migrations-versus-models test,
which sees every table because they share one base.
"""

from oslo_db.sqlalchemy import models
from oslo_db.sqlalchemy import types
from sqlalchemy import BigInteger
from sqlalchemy import CheckConstraint
from sqlalchemy import Column
from sqlalchemy import Double
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import orm

from sod_nova.db import trust_states
from sod_nova.db import values

# Every time is seconds since the epoch, a Double: MySQL's FLOAT is single
# precision, which rounds today's times to 128 s.

BASE = orm.declarative_base()

#: alembic's version table for sod-nova's chain (its own name, so sod-nova can
#: share a database server with services that use alembic's default).
VERSION_TABLE = 'sod_nova_alembic_version'

class _Base(models.ModelBase):
    """``created_at``/``updated_at`` as oslo.db's ``TimestampMixin`` keeps
    them, in seconds since the epoch."""

    created_at = Column(Double, default=values.now)
    updated_at = Column(Double, onupdate=values.now)


class Host(BASE, _Base):
    """One compute host: its architecture and what the monitor verified."""

    __tablename__ = 'sod_hosts'
    __table_args__ = (
        UniqueConstraint('host', name='uniq_sod_hosts0host'),
        CheckConstraint('state IN (%s)' % ', '.join(
            "'%s'" % state for state in trust_states.STATES),
            name='ck_sod_hosts_state'),
        Index('sod_hosts_monitor_idx', 'monitor'),
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    host = Column(String(255), nullable=False)
    architecture = Column(String(255), nullable=False)
    state = Column(String(16), nullable=False)
    reason = Column(Text, nullable=False)
    last_evidence_at = Column(Double, nullable=True)
    #: Until when the evidence counts (the monitor's evidence_max_age
    #: applied once); a trusted row past it satisfies no request.
    valid_until = Column(Double, nullable=True)
    capability_mask = Column(Integer, nullable=False)
    monitor = Column(String(255), nullable=True)


class Rejection(BASE, _Base):
    """Why the scheduler filter last passed no host for an instance."""

    __tablename__ = 'sod_rejections'
    __table_args__ = (
        UniqueConstraint('instance_uuid',
                         name='uniq_sod_rejections0instance_uuid'),
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    instance_uuid = Column(String(36), nullable=False)
    reason = Column(Text, nullable=False)


class TrustEnrollment(BASE, _Base):
    """Which key speaks for which host (see :mod:`sod_nova.db.enrollment`)."""

    __tablename__ = 'sod_trust_enrollments'
    __table_args__ = (
        UniqueConstraint('host', name='uniq_sod_trust_enrollments0host'),
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    host = Column(String(255), nullable=False)
    architecture = Column(String(255), nullable=False)
    public_key = Column(String(64), nullable=True)
    token_key = Column(String(64), nullable=True)
    token_expires_at = Column(Double, nullable=True)
    boot_id = Column(String(255), nullable=True)
    last_sequence = Column(BigInteger, nullable=False, default=0, server_default='0')
    seen = Column(BigInteger, nullable=False, default=0, server_default='0')
    nonce_ms = Column(BigInteger, nullable=False, default=0, server_default='0')
    failed_proofs = Column(Integer, nullable=False, default=0, server_default='0')
    proof_retry_at = Column(Double, nullable=True)
    tpm_ek = Column(Text, nullable=True)
    tpm_ak = Column(Text, nullable=True)


class TpmState(BASE, _Base):
    """What a TPM host's verdicts depend on besides its enrollment, kept
    for the monitor group (see :mod:`sod_nova.db.tpm_state`): the clock of
    its TPM's last accepted quote and the credentials pending for an AK."""

    __tablename__ = 'sod_tpm_states'
    __table_args__ = (
        UniqueConstraint('host', name='uniq_sod_tpm_states0host'),
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    host = Column(String(255), nullable=False)
    #: SHA-256 (hex) of the enrolled EK this state is of.
    ek_digest = Column(String(64), nullable=False)
    reset_count = Column(BigInteger, nullable=True)
    restart_count = Column(BigInteger, nullable=True)
    clock = Column(BigInteger, nullable=True)
    #: SHA-256 of the AK (as reported) the pending credentials are for, and
    #: of each credential's expected activation proof, oldest first.
    pending_ak = Column(String(64), nullable=True)
    pending_proofs = Column(Text, nullable=True)


class EvidenceRejection(BASE, _Base):
    """Reports rejected without a state change, per host and reason
    (see :mod:`sod_nova.db.evidence_rejections`)."""

    __tablename__ = 'sod_evidence_rejections'
    __table_args__ = (
        UniqueConstraint('host', 'code', name='uniq_sod_evidence_rejections0host0code'),
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    host = Column(String(255), nullable=False)
    code = Column(String(32), nullable=False)
    count = Column(BigInteger, nullable=False)
    last_reason = Column(Text, nullable=False)
    last_at = Column(Double, nullable=False)


class RelocationTask(BASE):
    """One decided move of one VM (see :mod:`sod_nova.db.relocation`)."""

    __tablename__ = 'relocation_tasks'
    __table_args__ = (
        UniqueConstraint('vm', 'seq', name='uniq_relocation_tasks0vm0seq'),
        Index('relocation_tasks_state_idx', 'state'),
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    vm = Column(String(36), nullable=False)
    seq = Column(Integer, nullable=False)
    trigger = Column(String(32), nullable=False)
    state = Column(String(16), nullable=False)
    kind = Column(String(8), nullable=False, default='live')
    priority = Column(Integer, nullable=False, default=0)
    source_host = Column(String(255), nullable=False)
    target_host = Column(String(255))
    dest_host = Column(String(255))
    attempts = Column(Integer, nullable=False, default=0)
    failed_hosts = Column(types.JsonEncodedList(), nullable=False, default=list)
    migration_after = Column(Integer)
    action = Column(String(16))
    reason = Column(Text)
    not_before = Column(Double)
    event_at = Column(Double)
    decided_at = Column(Double)
    migrate_called_at = Column(Double)
    finished_at = Column(Double)


class AuditEntry(BASE):
    """One link of the migration manager's keyed audit chain
    (:mod:`sod_nova.db.audit`). ``vm``, ``event`` and ``at`` repeat the
    entry's fields for the compliance reports' query by VM and time."""

    __tablename__ = 'relocation_audit'
    __table_args__ = (
        Index('ix_relocation_audit_vm_at', 'vm', 'at'),
        Index('ix_relocation_audit_hash', 'hash'),
    )

    seq = Column(Integer, primary_key=True, autoincrement=False)
    created_at = Column(Double, nullable=False)
    entry = Column(Text, nullable=False)
    prev_hash = Column(String(64), nullable=False)
    hash = Column(String(64), nullable=False)
    alg = Column(String(16))
    vm = Column(String(255))
    event = Column(String(64))
    at = Column(Double)


class AuditCheckpoint(BASE):
    """A keyed statement that link ``seq`` of the audit chain had ``hash``."""

    __tablename__ = 'relocation_audit_checkpoints'

    seq = Column(Integer, primary_key=True, autoincrement=False)
    created_at = Column(Double, nullable=False)
    hash = Column(String(64), nullable=False)
    mac = Column(String(64), nullable=False)


class Lease(BASE):
    """A role one process holds at a time, until ``expires_at`` (see
    :mod:`sod_nova.db.leases`)."""

    __tablename__ = 'sod_leases'

    name = Column(String(64), primary_key=True)
    holder = Column(String(255), nullable=False)
    expires_at = Column(Double, nullable=False)
