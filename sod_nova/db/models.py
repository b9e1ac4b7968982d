"""SQLAlchemy models of sod-nova's tables (the schema is the migrations')."""

from oslo_db.sqlalchemy import models
from sqlalchemy import CheckConstraint
from sqlalchemy import Column
from sqlalchemy import DateTime
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import orm

BASE = orm.declarative_base()

#: alembic's version table for sod-nova's chain (its own name, so sod-nova can
#: share a database server with services that use alembic's default).
VERSION_TABLE = 'sod_nova_alembic_version'

#: Trust states of a host. ``unreachable``: no fresh verified evidence;
#: ``untrusted``: evidence that failed verification or reported a violation.
TRUSTED = 'trusted'
UNTRUSTED = 'untrusted'
UNREACHABLE = 'unreachable'
STATES = (TRUSTED, UNTRUSTED, UNREACHABLE)


class _Base(models.TimestampMixin, models.ModelBase):
    """``created_at``/``updated_at`` in naive UTC, as oslo.db keeps them."""


class Host(BASE, _Base):
    """One compute host: its architecture and what the monitor verified."""

    __tablename__ = 'sod_hosts'
    __table_args__ = (
        UniqueConstraint('host', name='uniq_sod_hosts0host'),
        CheckConstraint("state IN ('trusted', 'untrusted', 'unreachable')",
                        name='ck_sod_hosts_state'),
        Index('sod_hosts_monitor_idx', 'monitor'),
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    host = Column(String(255), nullable=False)
    architecture = Column(String(255), nullable=False)
    state = Column(String(16), nullable=False)
    reason = Column(Text, nullable=False)
    last_evidence_at = Column(DateTime, nullable=True)
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
