"""Fixtures the unit tests share."""

import pytest

from sod_nova.conf import CONF
from sod_nova.db import api as db_api
from sod_nova.db import migration as db_migration


@pytest.fixture
def db(tmp_path):
    """sod-nova's global ``CONF`` on a fresh, synced SQLite database."""
    CONF.set_override('connection', 'sqlite:///%s/sod.sqlite' % tmp_path,
                      'sod_database')
    db_migration.sync(CONF)
    yield CONF
    db_api.dispose()
    CONF.clear_override('connection', 'sod_database')
