"""Fixtures the unit tests share."""

import subprocess
import sys

from oslo_config import cfg
import pytest
import yaml

from sod_nova.catalog import loader
from sod_nova.conf import CONF
from sod_nova.conf import trust as trust_conf
from sod_nova.db import api as db_api
from sod_nova.db import migration as db_migration


@pytest.fixture
def trust_options():
    """A configuration of its own with the [sod_trust] options at their
    defaults (no file, no override of another test's)."""
    conf = cfg.ConfigOpts()
    trust_conf.register_opts(conf)
    conf([])
    return conf


@pytest.fixture
def db(tmp_path):
    """sod-nova's global ``CONF`` on a fresh, synced SQLite database."""
    CONF.set_override('connection', 'sqlite:///%s/sod.sqlite' % tmp_path,
                      'sod_database')
    db_migration.sync(CONF)
    yield CONF
    db_api.dispose()
    CONF.clear_override('connection', 'sod_database')


@pytest.fixture
def present_day_file(tmp_path):
    """An operator's catalogue file of today's hardware only: the packaged
    rows that carry a guest requirement, copied as they are."""
    with open(loader.default_path(loader.ARCHITECTURES_FILE)) as f:
        data = yaml.safe_load(f)
    data['architectures'] = [a for a in data['architectures'] if a.get('guest')]
    path = tmp_path / 'present-day.yaml'
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope='session')
def sod_cli():
    """A sod-nova console script in a fresh process, as an operator runs it:
    ``sod_cli(*args, module='sod_nova.cmd.manage', config=None, stdin=None)``
    is its ``CompletedProcess`` (text output); ``config`` a config file."""
    def run(*args, module='sod_nova.cmd.manage', config=None, stdin=None,
            timeout=120):
        argv = [sys.executable, '-m', module]
        if config is not None:
            argv += ['--config-file', str(config)]
        return subprocess.run(argv + list(args), capture_output=True,
                              text=True, timeout=timeout, input=stdin)
    return run
