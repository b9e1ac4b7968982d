"""alembic environment: run on the connection :func:`sod_nova.db.api.sync` gives.

Always online, on one connection, in one transaction per run; the revisions
form one linear chain (``0001_hosts`` → ``0002_…`` → …). sod-nova keeps its
own version table so that it can share a database server with other services.
"""

from alembic import context

from sod_nova.db import models


def run_migrations_online():
    connection = context.config.attributes.get('connection')
    if connection is None:
        raise RuntimeError(
            'run sod-nova migrations with "sod-nova db sync" '
            '(sod_nova.db.api.sync), not the alembic command')
    context.configure(
        connection=connection,
        target_metadata=models.BASE.metadata,
        version_table=models.VERSION_TABLE,
        render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError('offline (SQL script) migrations are not supported')
run_migrations_online()
