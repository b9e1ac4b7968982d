"""The sod-nova database API: the engine facade, and the host capability rows.

Configured once (:func:`configure`); every function takes a context and
states its transaction in a decorator, as Placement's objects do, and gives
out frozen rows detached from the session. See
``doc/source/contributor/database.rst``.
"""

import dataclasses
import datetime
import functools
import os
import threading

from oslo_db.sqlalchemy import enginefacade
from oslo_log import log as logging
from oslo_utils import timeutils
import sqlalchemy as sa

from sod_nova import exception
from sod_nova import hostname
from sod_nova.db import models
from sod_nova.db import trust_states
from sod_nova.db import values
from sod_nova.policy import entities

LOG = logging.getLogger(__name__)

TRUSTED = trust_states.TRUSTED
UNTRUSTED = trust_states.UNTRUSTED
UNREACHABLE = trust_states.UNREACHABLE
STATES = trust_states.STATES

#: Reason of a host the operator declared but no monitor has verified yet.
NO_EVIDENCE_YET = 'no verified evidence yet'

#: The one transaction context of sod-nova (like placement's db_api).
context_manager = enginefacade.transaction_context()

_lock = threading.Lock()
_active = {'settings': None, 'factory': None}


class DatabaseConfigError(exception.SodNovaException, ValueError):
    """``[sod_database]`` cannot work as configured (one-line message)."""


@enginefacade.transaction_context_provider
class Context:
    """A context for callers with no request behind them (services,
    commands, tests): what the engine facade keeps its session on."""


def _settings(conf):
    group = conf.sod_database
    settings = {
        'connection': group.connection,
        'connection_parameters': group.connection_parameters,
        'sqlite_synchronous': group.sqlite_synchronous,
        'connection_recycle_time': group.connection_recycle_time,
        'max_pool_size': group.max_pool_size,
        'max_overflow': group.max_overflow,
        'pool_timeout': group.pool_timeout,
        'max_retries': group.max_retries,
        'retry_interval': group.retry_interval,
        'connection_debug': group.connection_debug,
    }
    return tuple(sorted(settings.items()))


def _check_sqlite_directory(url):
    """Refuse a SQLite file whose directory is missing, with a clear reason."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise DatabaseConfigError(
            '[sod_database] connection is not a database URL: %s' % exc) from None
    if parsed.get_backend_name() != 'sqlite' or not parsed.database:
        return
    if parsed.database == ':memory:' or parsed.database.startswith('file:'):
        return
    directory = os.path.dirname(os.path.abspath(parsed.database))
    if not os.path.isdir(directory):
        raise DatabaseConfigError(
            'the directory %s of [sod_database] connection does not exist; '
            'create it or set [sod_database] connection' % directory)


def configure(conf=None):
    """Point :data:`context_manager` at ``conf``'s ``[sod_database]``, once.

    Called at service start (and by the test fixtures); again with the same
    settings it does nothing. Another database is refused until
    :func:`dispose` (the end of a test or of the embedded cloud).
    ``conf`` defaults to sod-nova's global ``CONF``.
    """
    if conf is None:
        import sod_nova.conf
        conf = sod_nova.conf.CONF
    settings = _settings(conf)
    with _lock:
        if _active['settings'] == settings:
            return
        if _active['settings'] is not None:
            raise DatabaseConfigError(
                '[sod_database] differs from the settings the database was '
                'configured with; dispose() the old one first')
        values = dict(settings)
        _check_sqlite_directory(values['connection'])
        factory = enginefacade.transaction_context()
        factory.configure(sqlite_fk=True,
                          **{k: v for k, v in values.items() if v is not None})
        context_manager.patch_factory(factory)
        _active.update(settings=settings, factory=factory)


def dispose():
    """Close pooled connections and forget the settings (the end of a test
    or of the embedded cloud); :func:`configure` may then name another
    database."""
    with _lock:
        if _active['factory'] is not None:
            _active['factory'].dispose_pool()
        _active.update(settings=None, factory=None)


def get_engine(conf=None):
    """The engine (for migrations and tests); with ``conf``, configured
    from it first (:func:`configure`)."""
    if conf is not None:
        configure(conf)
    return context_manager.writer.get_engine()


# -- values -----------------------------------------------------------------

def now():
    """The one clock every reader of a row's ``valid_until`` compares it
    with: aware UTC wall time (the monitors write it from the same)."""
    return timeutils.utcnow(True)


def evidence_valid_until(evidence_at, max_age):
    """Until when evidence verified at ``evidence_at`` counts: the one
    place ``[sod_trust] evidence_max_age`` is applied (by the monitor, which
    writes the result into the host row)."""
    return evidence_at + datetime.timedelta(seconds=max_age)


@dataclasses.dataclass(frozen=True)
class HostRow:
    """One host's capability row, detached from the database session."""

    host: str
    architecture: str
    state: str
    reason: str
    capability_mask: int
    last_evidence_at: datetime.datetime | None = None
    monitor: str | None = None
    created_at: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None

    valid_until: datetime.datetime | None = None

    def fresh(self, now):
        """Trusted, with evidence still valid at ``now`` (the fast form of
        ``state_at(now)[0] == TRUSTED``: no string is built)."""
        return (self.state == TRUSTED and self.valid_until is not None
                and self.valid_until >= now)

    def state_at(self, now):
        """``(state, reason)`` as every reader sees the row at ``now``: a
        trusted row whose evidence is no longer valid then reads
        ``unreachable``. ``valid_until`` is the monitor's freshness verdict
        (:func:`evidence_valid_until`); every reader compares it with the
        same clock, :func:`now`. The compliance rule
        (:mod:`sod_nova.compliance`) builds on this, and nothing else does."""
        if self.fresh(now) or self.state != TRUSTED:
            return self.state, self.reason
        if self.valid_until is None:
            return UNREACHABLE, ('trusted but no time its evidence is valid '
                                 'until')
        return UNREACHABLE, 'evidence valid until %s has expired (now %s)' % (
            self.valid_until.isoformat(), now.isoformat())

    def to_dict(self):
        data = dataclasses.asdict(self)
        for key in ('last_evidence_at', 'valid_until', 'created_at',
                    'updated_at'):
            data[key] = data[key].isoformat() if data[key] else None
        return data


def _host_row(model):
    return HostRow(
        host=model.host, architecture=model.architecture, state=model.state,
        reason=model.reason, capability_mask=model.capability_mask,
        last_evidence_at=values.from_epoch(model.last_evidence_at),
        monitor=model.monitor, created_at=values.from_epoch(model.created_at),
        updated_at=values.from_epoch(model.updated_at or model.created_at),
        valid_until=values.from_epoch(model.valid_until))


def _check_state(state):
    if state not in STATES:
        raise ValueError('%r is not a host state (one of: %s)'
                         % (state, ', '.join(STATES)))


def _check_mask(mask):
    if (not isinstance(mask, int) or isinstance(mask, bool) or mask < 0
            or mask & ~entities.ALL_CELLS_MASK):
        raise ValueError('%r is not a capability mask (0..%d)'
                         % (mask, entities.ALL_CELLS_MASK))


def _check_host(host):
    try:
        hostname.check(host, 'host')
    except hostname.InvalidHostName as exc:
        raise ValueError(str(exc)) from None


@context_manager.writer
def claim(context, model, *where):
    """Open a write transaction with a write that changes nothing.

    Call it first in a writer transaction that reads before it writes. Such
    a transaction deadlocks on SQLite ("database is locked" at once, with no
    busy wait) when two writers meet; one that writes first waits its turn.
    On MySQL/PostgreSQL the same statement locks the matching rows, so the
    read-modify-write that follows is atomic. Rows matching ``where`` keep
    their values (``updated_at`` too, when the model has one).
    """
    table = model.__table__
    column = (table.c.updated_at if 'updated_at' in table.c
              else next(iter(table.primary_key.columns)))
    context.session.execute(sa.update(table).where(*where).values(
        {column.name: column}))


#: Hosts one statement claims and reads (a bounded ``IN`` list).
_HOSTS_A_STATEMENT = 500


def read_hosts(context, model, hosts, columns, claimed=False):
    """``{host: row}`` of ``model``'s rows of ``hosts`` (by their ``host``
    column), read once: ``columns`` (names) of each, a few hundred hosts a
    statement; with ``claimed``, each statement's rows claimed first (see
    :func:`claim`)."""
    table = model.__table__
    rows = {}
    hosts = sorted(set(hosts))
    for start in range(0, len(hosts), _HOSTS_A_STATEMENT):
        some = table.c.host.in_(hosts[start:start + _HOSTS_A_STATEMENT])
        if claimed:
            claim(context, model, some)
        for row in context.session.execute(sa.select(
                table.c.host, *(table.c[n] for n in columns)).where(some)):
            rows[row.host] = row
    return rows


def claim_hosts(context, model, hosts, columns):
    """:func:`read_hosts` of rows claimed first (locked for writing)."""
    return read_hosts(context, model, hosts, columns, claimed=True)


# -- hosts ------------------------------------------------------------------

@context_manager.reader
def host_get_all(context):
    """Every host row, ordered by host name, in one query.

    Plain columns, no ORM objects: the scheduler filter reads every row of
    a large cloud with this.
    """
    table = models.Host.__table__
    query = sa.select(
        table.c.host, table.c.architecture, table.c.state, table.c.reason,
        table.c.capability_mask, table.c.last_evidence_at, table.c.monitor,
        table.c.created_at, table.c.updated_at, table.c.valid_until,
    ).order_by(table.c.host)
    at = values.from_epoch
    return [HostRow(host, arch, state, reason, mask, at(evidence), monitor,
                    at(created), at(updated or created), at(until))
            for (host, arch, state, reason, mask, evidence, monitor,
                 created, updated, until) in context.session.execute(query)]


@context_manager.reader
def host_get(context, host):
    """The row of ``host``, or None."""
    model = context.session.scalars(
        sa.select(models.Host).filter_by(host=host)).first()
    return _host_row(model) if model is not None else None


@values.retry_on_duplicate
@context_manager.writer
def host_declare(context, host, architecture):
    """The operator declares ``host``'s architecture (a catalogue name).

    A new row is ``unreachable`` ("no verified evidence yet"): declaring never
    makes a host trusted. Declaring the same architecture again changes
    nothing; a different one clears what the monitor verified (the old
    capabilities were for other hardware). Returns the row.
    """
    _check_host(host)
    values.check_name('architecture', architecture)
    session = context.session
    claim(context, models.Host, models.Host.host == host)
    model = session.scalars(
        sa.select(models.Host).filter_by(host=host)).first()
    if model is None:
        model = models.Host(
            host=host, architecture=architecture, state=UNREACHABLE,
            reason=NO_EVIDENCE_YET, capability_mask=0)
        session.add(model)
    elif model.architecture != architecture:
        LOG.info('%(host)s: architecture changed from %(old)s to %(new)s; '
                 'its verified capabilities are cleared',
                 {'host': host, 'old': model.architecture,
                  'new': architecture})
        model.architecture = architecture
        model.state = UNREACHABLE
        model.reason = 'architecture changed to %s; %s' % (
            architecture, NO_EVIDENCE_YET)
        model.capability_mask = 0
    session.flush()
    return _host_row(model)


def host_set_trust(context, host, state, reason, capability_mask,
                   last_evidence_at=None, architecture=None, monitor=None,
                   valid_until=None):
    """Record the monitor's verdict on ``host``; returns ``(old, new)`` states.

    Upsert in one transaction: a new host needs ``architecture``. ``None`` for
    ``last_evidence_at``, ``architecture`` or ``monitor`` keeps the stored
    value (so an ``unreachable`` verdict keeps the time of the last evidence).
    ``valid_until`` (see :func:`evidence_valid_until`) is written with every
    verdict: a ``trusted`` one without it satisfies no request, and any
    other state clears it. ``old`` is None for a new row. The transition is
    logged once the transaction ends.
    """
    _check_host(host)
    _check_state(state)
    _check_mask(capability_mask)
    if architecture is not None:
        values.check_name('architecture', architecture)
    old_state = _claim_and_set_trust(
        context, host, state, reason, capability_mask, last_evidence_at,
        architecture, monitor, valid_until)
    log_transition(host, old_state, state, reason)
    return old_state, state


@values.retry_on_duplicate
@context_manager.writer
def _claim_and_set_trust(context, host, state, reason, capability_mask,
                         last_evidence_at, architecture, monitor, valid_until):
    return set_trust_many(context, [(host, {
        'state': state, 'reason': reason, 'capability_mask': capability_mask,
        'last_evidence_at': last_evidence_at, 'architecture': architecture,
        'monitor': monitor, 'valid_until': valid_until})])[0]


#: A monitor's write that another monitor's still valid evidence keeps
#: from the row (see :func:`set_trust_many`).
FOREIGN = 'foreign'
_TRUST_COLUMNS = ('architecture', 'state', 'reason', 'capability_mask',
                  'last_evidence_at', 'valid_until', 'monitor')


@context_manager.writer
def set_trust_many(context, writes, skip_foreign=False):
    """Record verdicts in the caller's writer transaction, in order.

    ``writes``: ``(host, fields)`` pairs, ``fields`` the keyword arguments
    of :func:`host_set_trust` (not checked again). The rows are claimed and
    read once, then written with one INSERT of the new rows and one
    ``executemany`` UPDATE of the others: a handful of statements a batch,
    not a read and a flush a row. Returns per write the old state as
    readers saw it (a trusted row whose evidence expired reads as
    unreachable: a trusted verdict now is a change they must hear of), None
    for a new row, or, with ``skip_foreign``, :data:`FOREIGN` for a write
    kept from a row holding another monitor's evidence still valid at the
    time of this one's (nothing written). Nothing is logged.
    """
    table = models.Host.__table__
    hosts = sorted({host for host, _fields in writes})
    rows = {host: dict(row._mapping) for host, row in claim_hosts(
        context, models.Host, hosts, _TRUST_COLUMNS).items()}
    at, new, results = values.now(), set(), []
    for host, fields in writes:
        row = rows.get(host)
        if row is None:
            if fields.get('architecture') is None:
                raise ValueError('host %s has no row yet: its architecture '
                                 'is needed' % host)
            row = rows[host] = {'host': host, 'last_evidence_at': None,
                                'monitor': None}
            new.add(host)
            old = None
        elif skip_foreign and _foreign(row, fields):
            results.append(FOREIGN)
            continue
        else:
            old = row['state']
            if (old == TRUSTED and row['valid_until'] is not None
                    and row['valid_until'] < at):
                old = UNREACHABLE
        _merge(row, fields)
        results.append(old)
    written = [h for h in hosts if h in new or rows[h].get('_written')]
    inserts = [_values(rows[h], host=h) for h in written if h in new]
    updates = [_values(rows[h], w_host=h) for h in written if h not in new]
    if inserts:
        context.session.execute(sa.insert(table), inserts)
    if updates:
        update_many(context, table, (('host', 'w_host', False),), tuple(
            (name, name) for name in _TRUST_COLUMNS), updates)
    return results


def _foreign(row, fields):
    """Whether ``row`` holds another monitor's evidence still valid at the
    time of the evidence ``fields`` record."""
    if row['monitor'] in (None, fields.get('monitor')):
        return False
    when = fields.get('last_evidence_at')
    return (when is not None and row['valid_until'] is not None
            and values.to_epoch(when) <= row['valid_until'])


def _merge(row, fields):
    """``row`` (a dict of the stored values) as ``fields`` leave it; see
    :func:`host_set_trust` for which ``None`` keeps the stored value."""
    state = fields['state']
    row['state'] = state
    row['reason'] = fields.get('reason') or ''
    row['capability_mask'] = fields['capability_mask']
    row['valid_until'] = (values.to_epoch(fields.get('valid_until'))
                          if state == TRUSTED else None)
    for name in ('architecture', 'monitor'):
        if fields.get(name) is not None:
            row[name] = fields[name]
    if fields.get('last_evidence_at') is not None:
        row['last_evidence_at'] = values.to_epoch(fields['last_evidence_at'])
    row['_written'] = True


def _values(row, **extra):
    return dict({name: row[name] for name in _TRUST_COLUMNS}, **extra)


def update_many(context, table, match, changes, rows):
    """UPDATE ``table`` once for each of ``rows`` (dicts of parameters), in
    the caller's transaction: the row whose columns equal the ``match``
    parameters (``(column, parameter, null-safe)``) takes the ``changes``
    parameters (``(column, parameter)``), and ``updated_at`` the time.

    One ``executemany``; on MySQL, whose drivers send that one statement a
    row (a round trip each), one UPDATE joined to the rows' values.
    """
    session = context.session
    if session.get_bind().dialect.name not in ('mysql', 'mariadb'):
        session.execute(_update_statement(table, match, changes), rows)
        return
    names = [p for _c, p, _n in match] + [p for _c, p in changes]
    first = 'SELECT ' + ', '.join('%s AS ' + n for n in names)
    more = ' UNION ALL SELECT ' + ', '.join(['%s'] * len(names))
    on = ' AND '.join('t.%s %s v.%s' % (c, '<=>' if null else '=', p)
                      for c, p, null in match)
    sets = ''.join('t.%s = v.%s, ' % change for change in changes)
    for start in range(0, len(rows), 500):
        some = rows[start:start + 500]
        session.connection().exec_driver_sql(
            'UPDATE ' + table.name + ' AS t JOIN (' + first
            + more * (len(some) - 1) + ') AS v ON ' + on + ' SET ' + sets
            + 't.updated_at = %s',
            tuple(r[n] for r in some for n in names) + (values.now(),))


@functools.cache
def _update_statement(table, match, changes):
    """:func:`update_many`'s statement, built once (its compiled form is
    cached: a row costs one execution of it)."""
    c = table.c
    return sa.update(table).where(*(
        c[column].is_not_distinct_from(sa.bindparam(p)) if null
        else c[column] == sa.bindparam(p) for column, p, null in match
    )).values({column: sa.bindparam(p) for column, p in changes})


def log_transition(host, old_state, state, reason):
    if old_state != state:
        LOG.info('%(host)s: %(old)s -> %(new)s (%(reason)s)',
                 {'host': host, 'old': old_state or 'new', 'new': state,
                  'reason': reason})


def hosts_mark_stale(context, now=None, monitor=None):
    """Make ``trusted`` hosts whose evidence is no longer valid at ``now``
    ``unreachable`` (the row's ``valid_until`` has passed, or it has none).

    Only ``trusted`` rows change: an ``untrusted`` host keeps the reason of its
    failed evidence. ``monitor`` limits the sweep to that monitor's hosts.
    Returns the names of the hosts that changed, sorted (each logged once
    the transaction ends).
    """
    now = values.to_epoch(now) if now is not None else values.now()
    changed = _mark_stale(context, now, monitor)
    for host in changed:
        LOG.info('%(host)s: trusted -> unreachable (evidence no longer '
                 'valid)', {'host': host})
    return changed


@context_manager.writer
def _mark_stale(context, now, monitor):
    changed = []
    where = [models.Host.state == TRUSTED,
             sa.or_(models.Host.valid_until.is_(None),
                    models.Host.valid_until < now)]
    if monitor is not None:
        where.append(models.Host.monitor == monitor)
    claim(context, models.Host, *where)
    query = sa.select(models.Host).where(*where).order_by(models.Host.host)
    for model in context.session.scalars(query):
        model.state = UNREACHABLE
        model.reason = stale_reason(model.last_evidence_at,
                                    model.valid_until, now)
        model.valid_until = None
        changed.append(model.host)
    return changed


def stale_reason(last_evidence_at, until, now):
    """Why a trusted row's evidence no longer counts at ``now`` (times in
    seconds since the epoch, as stored)."""
    if last_evidence_at is None or until is None:
        return 'no verified evidence'
    return ('no verified evidence for %.1f s (valid until %s; last at %s)'
            % (now - last_evidence_at, _utc(until), _utc(last_evidence_at)))


def _utc(seconds):
    """``2026-01-01T12:00:00Z``: ISO 8601 in UTC."""
    return values.from_epoch(seconds).replace(tzinfo=None).isoformat() + 'Z'
