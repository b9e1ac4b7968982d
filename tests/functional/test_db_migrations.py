"""The alembic migrations build exactly the schema the models describe.

oslo.db's ``ModelsMigrationsSync`` upgrades an empty database to head with
``sod-nova db sync``'s code path and compares the result with
``sod_nova.db.models.BASE.metadata`` (tables, columns, types, indexes,
unique constraints): on SQLite, the single-controller default, and on
MariaDB, the production database (the ``mariadb`` fixture). A migration
that rewrites data is tested from the revision before it, on both.
"""

import base64
import datetime
import logging
import unittest

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from oslo_config import cfg
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import test_migrations
import pytest
import sqlalchemy as sa

from sod_nova.conf import database
from sod_nova.db import api as db_api
from sod_nova.db import enrollment
from sod_nova.db import evidence_rejections
from sod_nova.db import migration as db_migration
from sod_nova.db import models

CTX = db_api.Context()


class _ModelsMigrationsSync(test_migrations.ModelsMigrationsSync):
    """The project's half of oslo.db's helper: how to migrate, what to compare."""

    #: The fixture giving a fresh database URL (``tmp_path`` for SQLite).
    database = None

    @pytest.fixture(autouse=True)
    def _conf(self, request, tmp_path):
        url = ('sqlite:///%s/sod.db' % tmp_path if self.database is None
               else request.getfixturevalue(self.database))
        self.conf = cfg.ConfigOpts()
        database.register_opts(self.conf)
        self.conf([], default_config_files=[])
        self.conf.set_override('connection', url, 'sod_database')
        yield
        db_api.dispose()

    def get_engine(self):
        return db_api.get_engine(self.conf)

    def db_sync(self, engine):
        db_migration.sync(self.conf)

    def get_metadata(self):
        return models.BASE.metadata

    def include_object(self, object_, name, type_, reflected, compare_to):
        # sod-nova's own alembic version table is no model.
        return not (type_ == 'table' and name == models.VERSION_TABLE)

    def test_every_table_is_a_model(self):
        db_migration.sync(self.conf)
        tables = set(sa.inspect(self.get_engine()).get_table_names())
        assert tables - {models.VERSION_TABLE} == set(
            models.BASE.metadata.tables)


class TestSQLite(_ModelsMigrationsSync, unittest.TestCase):
    pass


class TestMariaDB(_ModelsMigrationsSync, unittest.TestCase):
    database = 'mysql_url'


# -- data migrations ---------------------------------------------------------------

def _key_spellings():
    """One Ed25519 public key: its canonical text, and as PEM."""
    public = ed25519.Ed25519PrivateKey.generate().public_key()
    raw = public.public_bytes(serialization.Encoding.Raw,
                              serialization.PublicFormat.Raw)
    pem = public.public_bytes(serialization.Encoding.PEM,
                              serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(raw).decode(), pem.decode()


def _conf_at(request, tmp_path, revision):
    """A configuration whose database (SQLite or MariaDB, as ``request``
    says) is migrated to ``revision``; disposed of at the end."""
    url = ('sqlite:///%s/sod.db' % tmp_path if request.param == 'sqlite'
           else request.getfixturevalue('mysql_url'))
    conf = cfg.ConfigOpts()
    database.register_opts(conf)
    conf([], default_config_files=[])
    conf.set_override('connection', url, 'sod_database')
    db_migration.sync(conf, revision=revision)
    request.addfinalizer(db_api.dispose)
    return conf


@pytest.fixture(params=['sqlite', 'mariadb'])
def conf_at_0008(request, tmp_path):
    """A configuration whose database is at ``0008_audit_key``."""
    return _conf_at(request, tmp_path, '0008_audit_key')


def test_0009_stores_every_enrolled_key_in_one_spelling(conf_at_0008, caplog):
    """Keys enrolled before the spelling was fixed (as sent: PEM, blanks)
    are rewritten, so the one-key-one-host rule sees them; a value that is
    no key is kept and logged, and so are two hosts holding one key."""
    caplog.set_level(logging.WARNING)
    engine = db_api.get_engine(conf_at_0008)
    pem_key, pem = _key_spellings()
    padded_key, _ = _key_spellings()
    shared_key, _ = _key_spellings()
    # sod_trust_enrollments.public_key is VARCHAR(64): MariaDB holds no PEM.
    sqlite = engine.dialect.name == 'sqlite'
    rows = {'hw1': pem if sqlite else '%s\n' % pem_key,
            'hw2': ' %s ' % padded_key, 'hw4': 'not a key',
            'hw5': shared_key, 'hw6': '\t%s' % shared_key, 'hw7': None}
    with engine.begin() as conn:
        for host, text in rows.items():
            conn.execute(sa.text(
                'INSERT INTO sod_trust_enrollments (host, architecture, '
                "public_key) VALUES (:h, 'HyperWall', :k)"),
                {'h': host, 'k': text})
    db_migration.sync(conf_at_0008)
    with engine.begin() as conn:
        stored = dict(conn.execute(sa.text(
            'SELECT host, public_key FROM sod_trust_enrollments')).all())
    assert stored == {'hw1': pem_key, 'hw2': padded_key, 'hw4': 'not a key',
                      'hw5': shared_key, 'hw6': shared_key, 'hw7': None}
    assert ('the public key of host hw4 is left as stored: neither PEM nor '
            'base64' in caplog.text)
    assert 'hosts hw5, hw6 hold one public key' in caplog.text
    # The reviewer's probe: hw1's key, sent in its one spelling, for hw3.
    with pytest.raises(enrollment.EnrollmentError,
                       match='already enrolled for host hw1'):
        enrollment.enroll_key(CTX, 'hw3', 'HyperWall', pem_key)


@pytest.fixture(params=['sqlite', 'mariadb'])
def conf_at_0009(request, tmp_path):
    """A configuration whose database is at ``0009_canonical_public_keys``."""
    return _conf_at(request, tmp_path, '0009_canonical_public_keys')


def test_0010_keeps_every_time_as_the_same_instant(conf_at_0009):
    """DATETIMEs written before (naive UTC) are seconds since the epoch
    after, read back by the API as the same aware datetimes; the host
    state CHECK survives SQLite's table copy. (MariaDB's DATETIME kept
    whole seconds only.)"""
    engine = db_api.get_engine(conf_at_0009)
    sqlite = engine.dialect.name == 'sqlite'
    evidence = datetime.datetime(2026, 1, 1, 12, 0, 0,
                                 250000 if sqlite else 0)
    until = datetime.datetime(2026, 1, 1, 12, 1, 0)
    with engine.begin() as conn:
        conn.execute(sa.text(
            'INSERT INTO sod_hosts (host, architecture, state, reason, '
            'capability_mask, last_evidence_at, valid_until, created_at) '
            "VALUES ('hw1', 'TPM', 'trusted', 'ok', 1, :e, :u, :e)"),
            {'e': evidence, 'u': until})
        conn.execute(sa.text(
            'INSERT INTO sod_hosts (host, architecture, state, reason, '
            "capability_mask) VALUES ('hw2', 'TPM', 'unreachable', '-', 0)"))
        conn.execute(sa.text(
            'INSERT INTO sod_evidence_rejections (host, code, count, '
            "last_reason, last_at) VALUES ('hw1', 'replay', 2, 'r', :u)"),
            {'u': until})
        conn.execute(sa.text(
            'INSERT INTO sod_trust_enrollments (host, architecture, '
            "token_key, token_expires_at) VALUES ('hw1', 'TPM', 'k', :u)"),
            {'u': until})
    db_migration.sync(conf_at_0009)
    utc = datetime.UTC
    with engine.begin() as conn:
        assert conn.execute(sa.text(
            "SELECT last_evidence_at, valid_until, created_at, updated_at "
            "FROM sod_hosts WHERE host = 'hw1'")).one() == (
            evidence.replace(tzinfo=utc).timestamp(),
            until.replace(tzinfo=utc).timestamp(),
            evidence.replace(tzinfo=utc).timestamp(), None)
        with pytest.raises((db_exc.DBError, sa.exc.DBAPIError),
                           match="ck_sod_hosts_state"):
            with conn.begin_nested():
                conn.execute(sa.text(
                    "UPDATE sod_hosts SET state = 'fine' WHERE host = 'hw2'"))
    row = db_api.host_get(CTX, 'hw1')
    assert (row.last_evidence_at, row.valid_until) == (
        evidence.replace(tzinfo=utc), until.replace(tzinfo=utc))
    assert db_api.host_get(CTX, 'hw2').last_evidence_at is None
    [count] = evidence_rejections.get_all(CTX)
    assert count.last_at == until.replace(tzinfo=utc)
    assert enrollment.get(CTX, 'hw1').token_expires_at == until.replace(
        tzinfo=utc)
