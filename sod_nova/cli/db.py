"""``sod-nova db sync|version``: create, upgrade and inspect sod-nova's schema."""

from cliff import command
from oslo_db import exception as db_exc
import sqlalchemy.exc

from sod_nova import exception
from sod_nova.cli import base
from sod_nova.db import api as db_api
from sod_nova.db import migration as db_migration

#: Database errors reported as one line (exit 1) rather than a traceback.
DB_ERRORS = (db_exc.DBError, sqlalchemy.exc.SQLAlchemyError)


def run_db(app, call):
    """Run ``call()`` on the database of ``app.conf`` (configured at the
    command's first use of it); a configuration error is bad input (exit 2).
    """
    try:
        db_api.configure(app.conf)
        return call()
    except db_api.DatabaseConfigError as exc:
        raise base.InputError(str(exc)) from None
    except DB_ERRORS as exc:
        detail = str(getattr(exc, 'inner_exception', None) or exc)
        hint = ''
        if isinstance(exc, db_exc.DBNonExistentTable):  # on every backend
            hint = ' (run "sod-nova db sync" first)'
        raise DatabaseFailure('database error%s: %s' % (
            hint, detail.splitlines()[0])) from None


class DatabaseFailure(exception.SodNovaException, RuntimeError):
    """The database could not be used (exit 1, one line)."""


class ExitsOnDatabaseFailure(base.BadInputExits2):
    """Bad input exits 2; a database failure is one stderr line, exit 1."""

    def run(self, parsed_args):
        try:
            return super().run(parsed_args)
        except DatabaseFailure as exc:
            self.app.stderr.write('%s: %s\n' % (self.app.NAME, exc))
            return 1


class SyncDatabase(ExitsOnDatabaseFailure, command.Command):
    """Create or upgrade sod-nova's database ([sod_database] connection)."""

    def take_action(self, parsed_args):
        conf = self.app.conf
        before = run_db(self.app, lambda: db_migration.version(conf))
        run_db(self.app, lambda: db_migration.sync(conf))
        after = run_db(self.app, lambda: db_migration.version(conf))
        self.app.stdout.write('sod-nova database at revision %s%s\n' % (
            after, '' if before == after else ' (was %s)' % before))


class ShowVersion(ExitsOnDatabaseFailure, command.Command):
    """Print the schema revision of sod-nova's database (none before sync)."""

    def take_action(self, parsed_args):
        revision = run_db(self.app, lambda: db_migration.version(self.app.conf))
        self.app.stdout.write('%s\n' % (revision or 'none'))
