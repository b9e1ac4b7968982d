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


def _set_values(conf):
    """Each override and set default on ``conf`` as {(group, name, kind):
    value}. oslo.config keeps them on each option's registration, which a
    module's OptGroup shares with every ConfigOpts it is registered in."""
    found = {}
    opts = [(None, conf._opts)] + [(name, group._opts)
                                   for name, group in conf._groups.items()]
    for group, infos in opts:
        for name, info in infos.items():
            for kind in ('override', 'default'):
                if kind in info:
                    found[(group, name, kind)] = info[kind]
    return found


@pytest.fixture(autouse=True)
def _options_restored():
    """Undo every override or default a test leaves on the shared options.

    A test's own ConfigOpts shares each module's OptGroup, so its overrides
    land on ``CONF`` as well; the next test, in random order, ran against
    them (a reference values file left set made another test judge its
    hosts against the wrong references)."""
    before = _set_values(CONF)
    yield
    after = _set_values(CONF)
    for key in set(before) | set(after):
        if key in before and key in after and before[key] == after[key]:
            continue
        group, name, kind = key
        if key in before:
            setter = CONF.set_override if kind == 'override' else (
                CONF.set_default)
            setter(name, before[key], group)
        elif kind == 'override':
            CONF.clear_override(name, group)
        else:
            CONF.clear_default(name, group)


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
