"""sod-nova's schema migrations: ``sod-nova db sync`` and where a database is.

Like Nova's ``nova.db.migration``: the alembic chain under ``migrations/``
creates and upgrades the tables of :mod:`sod_nova.db.models`, in sod-nova's
own version table (:data:`~sod_nova.db.models.VERSION_TABLE`), on the
engine :mod:`sod_nova.db.api` configures from ``[sod_database]``.
"""

from alembic import command as alembic_command
from alembic import config as alembic_config
from alembic import migration as alembic_migration
from alembic import script as alembic_script

from sod_nova.db import api
from sod_nova.db import models


def _alembic_config(connection):
    config = alembic_config.Config()
    config.set_main_option('script_location', 'sod_nova.db:migrations')
    config.attributes['connection'] = connection
    return config


def sync(conf=None, revision='head'):
    """Create or upgrade sod-nova's schema (``sod-nova db sync``); configures
    the database from ``conf`` (default: ``CONF``) as a service start does."""
    api.configure(conf)
    engine = api.get_engine()
    with engine.begin() as connection:
        alembic_command.upgrade(_alembic_config(connection), revision)


def head():
    """The revision ``sod-nova db sync`` upgrades to (the migrations' head)."""
    return alembic_script.ScriptDirectory.from_config(
        _alembic_config(None)).get_current_head()


def version(conf=None):
    """The schema revision of the database, or None before the first sync."""
    api.configure(conf)
    engine = api.get_engine()
    with engine.connect() as connection:
        context = alembic_migration.MigrationContext.configure(
            connection, opts={'version_table': models.VERSION_TABLE})
        return context.get_current_revision()
