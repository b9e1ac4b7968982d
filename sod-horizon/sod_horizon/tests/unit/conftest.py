"""Each test gets its own sod-nova configuration and a migrated SQLite
database, named to the plugin through ``SOD_NOVA_CONFIG_FILES`` exactly as
an operator's ``local_settings.py`` does."""

import datetime

import pytest

from sod_horizon.api import sod
from sod_nova.db import api as db_api


@pytest.fixture(autouse=True)
def sod_nova_conf(tmp_path, settings):
    conf_file = tmp_path / 'sod_nova.conf'
    conf_file.write_text('[sod_database]\nconnection = sqlite:///%s\n'
                         '[trust]\nevidence_max_age = 60\n'
                         % (tmp_path / 'sod_nova.sqlite'))
    settings.SOD_NOVA_CONFIG_FILES = [str(conf_file)]
    sod.clear_caches()
    conf = sod.get_conf()
    db_api.sync(conf)
    yield conf
    db_api.dispose()
    sod.clear_caches()


def now():
    return datetime.datetime.now(datetime.UTC)


def add_host(conf, host, architecture, state=db_api.TRUSTED, age=1.0,
             reason='evidence verified', monitor='monitor-1'):
    """A host row as the trust monitor writes it (``age`` s old evidence)."""
    catalog = sod.get_catalog()
    evidence_at = now() - datetime.timedelta(seconds=age)
    db_api.host_set_trust(
        host, state, reason, catalog.capability_mask(architecture),
        last_evidence_at=evidence_at, architecture=architecture,
        monitor=monitor, conf=conf, valid_until=db_api.evidence_valid_until(
            evidence_at, conf.trust.evidence_max_age))
