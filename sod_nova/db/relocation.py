"""The migration manager's tables: restart-safe tasks and the audit chain.

``relocation_tasks`` holds every move the manager decided, so that a new
manager process resumes pending and in-flight work after a crash and never
starts a second move for a VM that already has one open. The key
``(vm, seq)`` is unique: two managers racing to open a task for the same VM
cannot both succeed.

``relocation_audit`` is append-only; each row carries the hash chain link of
:mod:`sod_nova.db.audit`. Sequence numbers are the primary key, so
two writers cannot fork the chain.

The schema is created by the alembic migration ``0003_relocation``; the
models are :class:`sod_nova.db.models.RelocationTask` and ``AuditEntry``.
"""

import dataclasses
import json
import time

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
import sqlalchemy as sa

from sod_nova.db import api as db_api
from sod_nova.db import audit
from sod_nova.db import models
from sod_nova.db import task_states

#: Writers of the audit chain one append outlasts (each takes the next
#: sequence number; all but one are refused and try again).
AUDIT_ATTEMPTS = 5


@dataclasses.dataclass(frozen=True)
class Task:
    """A detached copy of a :class:`models.RelocationTask` row."""

    id: int
    vm: str
    seq: int
    trigger: str
    state: str
    kind: str
    priority: int
    source_host: str
    target_host: str | None
    dest_host: str | None
    attempts: int
    failed_hosts: tuple
    migration_after: int | None
    action: str | None
    reason: str | None
    not_before: float | None
    event_at: float | None
    decided_at: float | None
    migrate_called_at: float | None
    finished_at: float | None

    @property
    def cause(self):
        """The idempotency key in words: ``trust-loss@hw1#0``."""
        return '%s@%s#%d' % (self.trigger, self.source_host, self.seq)

    @classmethod
    def from_row(cls, row):
        values = {f.name: getattr(row, f.name)
                  for f in dataclasses.fields(cls)}
        values['failed_hosts'] = tuple(json.loads(row.failed_hosts or '[]'))
        return cls(**values)


_UPDATABLE = frozenset(f.name for f in dataclasses.fields(Task)) - {
    'id', 'vm', 'seq'}


@enginefacade.transaction_context_provider
class _Context:
    """A bare context for the engine facade (no request context here)."""


class RelocationStore:
    """Task and audit rows, through sod-nova's one engine facade.

    ``conf`` (default: the global ``CONF``) names the database in
    ``[sod_database]``, as for every :mod:`sod_nova.db.api` function; the
    facade is configured on first use, never at construction.
    """

    def __init__(self, conf=None):
        self._conf = conf

    def _writer(self):
        db_api.configure(self._conf)
        return db_api.context_manager.writer.using(_Context())

    def _reader(self):
        db_api.configure(self._conf)
        return db_api.context_manager.reader.using(_Context())

    # Tasks -----------------------------------------------------------------

    def task_open(self, vm, trigger, source_host, kind='live', priority=0,
                  reason=None, event_at=None, state=task_states.PENDING):
        """Open a task for ``vm``; ``(task, created)``.

        When ``vm`` already has an open task, that task is returned with
        ``created`` False: one VM is never moved twice for one cause.
        """
        try:
            with self._writer() as session:
                open_row = self._open_row(session, vm)
                if open_row is not None:
                    return Task.from_row(open_row), False
                last = session.query(sa.func.max(models.RelocationTask.seq)).filter(
                    models.RelocationTask.vm == vm).scalar()
                row = models.RelocationTask(
                    vm=vm, seq=0 if last is None else last + 1,
                    trigger=trigger, state=state, kind=kind,
                    priority=priority, source_host=source_host,
                    attempts=0, failed_hosts='[]', reason=reason,
                    event_at=event_at, decided_at=time.time())
                session.add(row)
                session.flush()
                return Task.from_row(row), True
        except db_exc.DBDuplicateEntry:
            # Another manager opened the same (vm, seq) first.
            return self.task_get_open(vm), False

    @staticmethod
    def _open_row(session, vm):
        return session.query(models.RelocationTask).filter(
            models.RelocationTask.vm == vm,
            models.RelocationTask.state.in_(task_states.OPEN_STATES)).first()

    def task_get_open(self, vm):
        with self._reader() as session:
            row = self._open_row(session, vm)
            return Task.from_row(row) if row is not None else None

    def tasks_open(self):
        """Every open task (pending, migrating, parked), oldest first."""
        with self._reader() as session:
            return [Task.from_row(r) for r in session.query(
                models.RelocationTask).filter(
                    models.RelocationTask.state.in_(task_states.OPEN_STATES)).order_by(
                        models.RelocationTask.id)]

    def tasks(self, vm=None):
        """Every task (of ``vm``), oldest first."""
        with self._reader() as session:
            query = session.query(models.RelocationTask)
            if vm is not None:
                query = query.filter(models.RelocationTask.vm == vm)
            return [Task.from_row(r)
                    for r in query.order_by(models.RelocationTask.id)]

    def task_update(self, task_id, **values):
        """Change fields of task ``task_id``; the updated :class:`Task`."""
        unknown = set(values) - _UPDATABLE
        if unknown:
            raise ValueError('cannot update %s' % ', '.join(sorted(unknown)))
        if 'failed_hosts' in values:
            values['failed_hosts'] = json.dumps(list(values['failed_hosts']))
        with self._writer() as session:
            row = session.get(models.RelocationTask, task_id)
            for key, value in values.items():
                setattr(row, key, value)
            session.flush()
            return Task.from_row(row)

    # Audit -----------------------------------------------------------------

    def audit_append(self, entry):
        """Append ``entry`` (a dict of JSON values); its sequence number.

        Writers that meet take the same next sequence number; the unique key
        refuses all but one, and the others retry on the new last entry.
        """
        try:
            return self._audit_append(audit.canonical(entry))
        except db_exc.DBDuplicateEntry:
            raise RuntimeError('could not append to the audit chain') from None

    @oslo_db_api.wrap_db_retry(
        max_retries=AUDIT_ATTEMPTS - 1, retry_interval=0, inc_retry_interval=False,
        exception_checker=lambda exc: isinstance(exc, db_exc.DBDuplicateEntry))
    def _audit_append(self, text):
        with self._writer() as session:
            last = session.query(models.AuditEntry).order_by(
                models.AuditEntry.seq.desc()).first()
            prev = last.hash if last is not None else audit.GENESIS
            seq = last.seq + 1 if last is not None else 1
            session.add(models.AuditEntry(
                seq=seq, created_at=time.time(), entry=text,
                prev_hash=prev, hash=audit.link_hash(prev, text)))
        return seq

    def audit_entries(self):
        """Every audit row, in chain order (detached)."""
        with self._reader() as session:
            return [AuditRow(r.seq, r.created_at, r.entry, r.prev_hash, r.hash)
                    for r in session.query(models.AuditEntry).order_by(
                        models.AuditEntry.seq)]


@dataclasses.dataclass(frozen=True)
class AuditRow:
    """A detached copy of an :class:`models.AuditEntry` row."""

    seq: int
    created_at: float
    entry: str
    prev_hash: str
    hash: str

    @property
    def data(self):
        return json.loads(self.entry)
