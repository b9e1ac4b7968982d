"""The migration manager's tables: restart-safe tasks and the audit chain.

``relocation_tasks`` holds every move the manager decided, so that a new
manager process resumes pending and in-flight work after a crash and never
starts a second move for a VM that already has one open. The key
``(vm, seq)`` is unique: two managers racing to open a task for the same VM
cannot both succeed.

``relocation_audit`` is append-only; each row carries the keyed chain link
of :mod:`sod_nova.db.audit`, under the key ``[sod_audit] key_file`` names
(read from the file at the first append, never stored here). Sequence
numbers are the primary key, so two writers cannot fork the chain.

The schema is created by the alembic migrations ``0003_relocation`` and
``0008_audit_key``; the models are :class:`sod_nova.db.models.RelocationTask`,
``AuditEntry`` and ``AuditCheckpoint``.
"""

import dataclasses
import json
import time

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
from oslo_log import log as logging
import sqlalchemy as sa

from sod_nova.db import api as db_api
from sod_nova.db import audit
from sod_nova.db import models
from sod_nova.db import task_states

LOG = logging.getLogger(__name__)

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
        self._audit_key = None

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

    def audit_key(self):
        """The audit key ``[sod_audit] key_file`` names, read once; raises
        :class:`~sod_nova.db.audit.AuditKeyError` without one."""
        if self._audit_key is None:
            self._audit_key = audit.key_from_conf(self._options())
        return self._audit_key

    def _options(self):
        if self._conf is not None:
            return self._conf
        import sod_nova.conf
        return sod_nova.conf.CONF

    def audit_append(self, entry):
        """Append ``entry`` (a dict of JSON values); its sequence number.

        The entry must be well typed (:func:`sod_nova.db.audit.validate`;
        ``ValueError`` otherwise) and the link is keyed: without the audit
        key nothing is written. On a legacy (unkeyed) head the anchor
        (:func:`sod_nova.db.audit.anchor_entry`) is written first, in the
        same transaction. Writers that meet take the same next sequence
        number; the unique key refuses all but one, and the others retry on
        the new last entry.
        """
        malformed = audit.validate(entry)
        if malformed:
            raise ValueError('audit entry refused: %s' % malformed)
        return self._append_links(entry)

    def audit_anchor(self):
        """Anchor a legacy head now (``sod-nova audit verify --anchor``):
        the anchor's sequence number, or None when the head is keyed."""
        return self._append_links(None)

    def _append_links(self, entry):
        key = self.audit_key()
        text = audit.canonical(entry) if entry is not None else None
        try:
            seq, checkpoints = self._audit_append(text, key)
        except db_exc.DBDuplicateEntry:
            raise RuntimeError('could not append to the audit chain') from None
        for point, head in checkpoints:
            LOG.info('audit checkpoint: entry %(seq)d head %(hash)s',
                     {'seq': point, 'hash': head})
        return seq

    @oslo_db_api.wrap_db_retry(
        max_retries=AUDIT_ATTEMPTS - 1, retry_interval=0, inc_retry_interval=False,
        exception_checker=lambda exc: isinstance(exc, db_exc.DBDuplicateEntry))
    def _audit_append(self, text, key):
        """Link the anchor a legacy head needs, then ``text`` (None: only
        the anchor): the last new sequence number (None when nothing was
        written) and the ``(seq, hash)`` of each checkpoint stored."""
        interval = self._options().sod_audit.checkpoint_interval
        with self._writer() as session:
            last = session.query(models.AuditEntry).order_by(
                models.AuditEntry.seq.desc()).first()
            created_at = time.time()
            texts = [] if text is None else [text]
            if last is not None and last.alg is None:
                texts.insert(0, audit.canonical(
                    audit.anchor_entry(last, created_at)))
            checkpoints, seq = [], None
            for text in texts:
                prev = last.hash if last is not None else audit.GENESIS
                seq = last.seq + 1 if last is not None else 1
                mac = audit.entry_mac(key, seq, created_at, prev, text)
                last = models.AuditEntry(
                    seq=seq, created_at=created_at, entry=text, prev_hash=prev,
                    hash=mac, alg=audit.HMAC_SHA256,
                    **audit.index_columns(json.loads(text)))
                session.add(last)
                if seq % interval == 0:
                    session.add(models.AuditCheckpoint(
                        seq=seq, created_at=created_at, hash=mac,
                        mac=audit.checkpoint_mac(key, seq, mac, created_at)))
                    checkpoints.append((seq, mac))
        return seq, checkpoints

    def audit_entries(self):
        """Every audit row, in chain order (detached)."""
        with self._reader() as session:
            return [AuditRow.from_model(r)
                    for r in session.query(models.AuditEntry).order_by(
                        models.AuditEntry.seq)]

    def audit_checkpoints(self):
        """Every stored checkpoint of the chain, oldest first (detached)."""
        with self._reader() as session:
            return [Checkpoint(r.seq, r.created_at, r.hash, r.mac)
                    for r in session.query(models.AuditCheckpoint).order_by(
                        models.AuditCheckpoint.seq)]

    def audit_for_vm(self, vm, start, resets):
        """``vm``'s audit rows a report of a window from ``start`` needs.

        Its rows from its last entry before ``start`` whose event is one of
        ``resets`` (an event after which nothing of the VM is open), in chain
        order: through the index by VM and time, never the whole chain. That
        entry is found by its indexed copies (vm, event, at), which anyone
        with the database can write, so it is among the rows returned: the
        reader checks it as it checks the others.
        """
        table = models.AuditEntry
        with self._reader() as session:
            since = session.scalar(sa.select(sa.func.max(table.seq)).where(
                table.vm == vm, table.at < start,
                table.event.in_(tuple(resets)))) or 0
            return [AuditRow.from_model(r) for r in session.scalars(
                sa.select(table).where(table.vm == vm, table.seq >= since)
                .order_by(table.seq))]

    def audit_first_keyed(self):
        """The first keyed link (:func:`first_keyed`), detached, or None."""
        with self._reader() as session:
            return first_keyed(session)


def first_keyed(session):
    """The first link ``alg`` says is keyed, or None: the anchor of the
    legacy links before it if :func:`sod_nova.db.audit.anchored_legacy`
    finds it sound (``alg`` alone proves nothing)."""
    table = models.AuditEntry
    row = session.scalars(sa.select(table).where(
        table.alg.is_not(None)).order_by(table.seq).limit(1)).first()
    return AuditRow.from_model(row) if row is not None else None


@dataclasses.dataclass(frozen=True)
class AuditRow:
    """A detached copy of an :class:`models.AuditEntry` row."""

    seq: int
    created_at: float
    entry: str
    prev_hash: str
    hash: str
    alg: str | None = None
    vm: str | None = None
    event: str | None = None
    at: float | None = None

    @classmethod
    def from_model(cls, model):
        return cls(model.seq, model.created_at, model.entry, model.prev_hash,
                   model.hash, model.alg, model.vm, model.event, model.at)

    @property
    def data(self):
        return json.loads(self.entry)


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """A detached copy of an :class:`models.AuditCheckpoint` row."""

    seq: int
    created_at: float
    hash: str
    mac: str
