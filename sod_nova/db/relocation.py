"""The migration manager's tables: restart-safe tasks and the audit chain.

``relocation_tasks`` lets a new manager resume open moves and never open a
second one for a VM; ``relocation_audit`` is the append-only chain of
:mod:`sod_nova.db.audit`. Calls made inside a caller's
``context_manager.writer.using(context)`` share its one transaction.
See doc/source/contributor/database.rst.
"""

import dataclasses
import json
import time

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
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

#: Where a writer transaction keeps the chain's head once it read it.
_HEAD = 'sod_nova.audit_head'

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

    @property
    def open(self):
        """Still the manager's work (pending, in flight, parked)."""
        return self.state in task_states.OPEN_STATES

    @classmethod
    def from_row(cls, row):
        values = {f.name: getattr(row, f.name)
                  for f in dataclasses.fields(cls)}
        values['failed_hosts'] = tuple(row.failed_hosts or ())
        return cls(**values)


_UPDATABLE = frozenset(f.name for f in dataclasses.fields(Task)) - {
    'id', 'vm', 'seq'}


def _open_row(session, vm):
    return session.query(models.RelocationTask).filter(
        models.RelocationTask.vm == vm,
        models.RelocationTask.state.in_(task_states.OPEN_STATES)).first()


class RelocationStore:
    """Task and audit rows. ``conf`` (default: the global ``CONF``) is read
    for ``[sod_audit]`` only: the key and the checkpoint interval; the
    database is the one :func:`sod_nova.db.api.configure` set up."""

    def __init__(self, conf=None):
        self._conf = conf
        self._audit_key = None

    # Tasks -----------------------------------------------------------------

    def task_open(self, context, vm, trigger, source_host, kind='live',
                  priority=0, reason=None, event_at=None,
                  state=task_states.PENDING):
        """Open a task for ``vm``; ``(task, created)``.

        When ``vm`` already has an open task, that task is returned with
        ``created`` False: one VM is never moved twice for one cause.
        """
        try:
            return self._task_open(context, vm, trigger, source_host, kind,
                                   priority, reason, event_at, state)
        except db_exc.DBDuplicateEntry:
            # Another manager opened the same (vm, seq) first.
            return self.task_get_open(context, vm), False

    @db_api.context_manager.writer
    def _task_open(self, context, vm, trigger, source_host, kind, priority,
                   reason, event_at, state):
        session = context.session
        open_row = _open_row(session, vm)
        if open_row is not None:
            return Task.from_row(open_row), False
        last = session.query(sa.func.max(models.RelocationTask.seq)).filter(
            models.RelocationTask.vm == vm).scalar()
        row = models.RelocationTask(
            vm=vm, seq=0 if last is None else last + 1,
            trigger=trigger, state=state, kind=kind,
            priority=priority, source_host=source_host,
            attempts=0, failed_hosts=[], reason=reason,
            event_at=event_at, decided_at=time.time())
        session.add(row)
        session.flush()
        return Task.from_row(row), True

    @db_api.context_manager.reader
    def task_get_open(self, context, vm):
        row = _open_row(context.session, vm)
        return Task.from_row(row) if row is not None else None

    @db_api.context_manager.reader
    def tasks_open(self, context):
        """Every open task (pending, migrating, parked), oldest first."""
        return [Task.from_row(r) for r in context.session.query(
            models.RelocationTask).filter(
                models.RelocationTask.state.in_(task_states.OPEN_STATES))
            .order_by(models.RelocationTask.id)]

    @db_api.context_manager.reader
    def tasks(self, context, vm=None):
        """Every task (of ``vm``), oldest first."""
        query = context.session.query(models.RelocationTask)
        if vm is not None:
            query = query.filter(models.RelocationTask.vm == vm)
        return [Task.from_row(r)
                for r in query.order_by(models.RelocationTask.id)]

    @db_api.context_manager.writer
    def task_update(self, context, task_id, **values):
        """Change fields of task ``task_id``; the updated :class:`Task`."""
        unknown = set(values) - _UPDATABLE
        if unknown:
            raise ValueError('cannot update %s' % ', '.join(sorted(unknown)))
        if 'failed_hosts' in values:
            values['failed_hosts'] = list(values['failed_hosts'])
        row = context.session.get(models.RelocationTask, task_id)
        for key, value in values.items():
            setattr(row, key, value)
        context.session.flush()
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

    def audit_append(self, context, entry):
        """Append ``entry`` (a dict of JSON values); its sequence number.

        The entry must be well typed (:func:`sod_nova.db.audit.validate`;
        ``ValueError`` otherwise) and the link is keyed: without the audit
        key nothing is written. On a legacy (unkeyed) head the anchor
        (:func:`sod_nova.db.audit.anchor_entry`) is written first, in the
        same transaction. The head is read once per transaction: appends
        inside a caller's transaction link on from the one before. Writers
        that meet take the same next sequence number; the unique key refuses
        all but one, and an append in a transaction of its own tries again
        on the new head (inside a caller's, the caller's transaction fails).
        """
        malformed = audit.validate(entry)
        if malformed:
            raise ValueError('audit entry refused: %s' % malformed)
        return self._append_links(context, entry)

    def audit_anchor(self, context):
        """Anchor a legacy head now (``sod-nova audit verify --anchor``):
        the anchor's sequence number, or None when the head is keyed."""
        return self._append_links(context, None)

    def _append_links(self, context, entry):
        key = self.audit_key()
        text = audit.canonical(entry) if entry is not None else None
        try:
            seq, checkpoints = self._audit_append(context, text, key)
        except db_exc.DBDuplicateEntry:
            raise RuntimeError('could not append to the audit chain') from None
        for point, head in checkpoints:
            LOG.info('audit checkpoint: entry %(seq)d head %(hash)s',
                     {'seq': point, 'hash': head})
        return seq

    @oslo_db_api.wrap_db_retry(
        max_retries=AUDIT_ATTEMPTS - 1, retry_interval=0,
        inc_retry_interval=False,
        exception_checker=lambda exc: isinstance(exc, db_exc.DBDuplicateEntry))
    @db_api.context_manager.writer
    def _audit_append(self, context, text, key):
        """Link the anchor a legacy head needs, then ``text`` (None: only
        the anchor): the last new sequence number (None when nothing was
        written) and the ``(seq, hash)`` of each checkpoint stored."""
        interval = self._options().sod_audit.checkpoint_interval
        session = context.session
        if _HEAD not in session.info:
            last = session.query(models.AuditEntry).order_by(
                models.AuditEntry.seq.desc()).first()
            session.info[_HEAD] = (None if last is None else
                                   AuditRow.from_model(last))
        last = session.info[_HEAD]
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
            row = models.AuditEntry(
                seq=seq, created_at=created_at, entry=text, prev_hash=prev,
                hash=mac, alg=audit.HMAC_SHA256,
                **audit.index_columns(json.loads(text)))
            session.add(row)
            if seq % interval == 0:
                session.add(models.AuditCheckpoint(
                    seq=seq, created_at=created_at, hash=mac,
                    mac=audit.checkpoint_mac(key, seq, mac, created_at)))
                checkpoints.append((seq, mac))
            last = AuditRow.from_model(row)
        session.flush()
        session.info[_HEAD] = last
        return seq, checkpoints

    @db_api.context_manager.reader
    def audit_entries(self, context):
        """Every audit row, in chain order (detached)."""
        return [AuditRow.from_model(r)
                for r in context.session.query(models.AuditEntry).order_by(
                    models.AuditEntry.seq)]

    @db_api.context_manager.reader
    def audit_checkpoints(self, context):
        """Every stored checkpoint of the chain, oldest first (detached)."""
        return [Checkpoint(r.seq, r.created_at, r.hash, r.mac)
                for r in context.session.query(models.AuditCheckpoint)
                .order_by(models.AuditCheckpoint.seq)]

    @db_api.context_manager.reader
    def audit_for_vm(self, context, vm, start, resets):
        """``vm``'s audit rows a report of a window from ``start`` needs.

        Its rows from its last entry before ``start`` whose event is one of
        ``resets`` (an event after which nothing of the VM is open), in chain
        order: through the index by VM and time, never the whole chain. That
        entry is found by its indexed copies (vm, event, at), which anyone
        with the database can write, so it is among the rows returned: the
        reader checks it as it checks the others.
        """
        table = models.AuditEntry
        session = context.session
        since = session.scalar(sa.select(sa.func.max(table.seq)).where(
            table.vm == vm, table.at < start,
            table.event.in_(tuple(resets)))) or 0
        return [AuditRow.from_model(r) for r in session.scalars(
            sa.select(table).where(table.vm == vm, table.seq >= since)
            .order_by(table.seq))]

    def audit_first_keyed(self, context):
        """The first keyed link (:func:`first_keyed`), detached, or None."""
        return first_keyed(context)


@db_api.context_manager.reader
def first_keyed(context):
    """The first link ``alg`` says is keyed, or None: the anchor of the
    legacy links before it if :func:`sod_nova.db.audit.anchored_legacy`
    finds it sound (``alg`` alone proves nothing)."""
    table = models.AuditEntry
    row = context.session.scalars(sa.select(table).where(
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
