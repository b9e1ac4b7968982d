"""Functional tests run real Nova services in-process (sod_nova.cloud.nova).

Nova's concurrency mode (native threads) is fixed here, before any test module
imports oslo.messaging, which would otherwise select oslo.service's eventlet
backend for good (see sod_nova.cloud._bootstrap).
"""

import uuid

from oslo_config import fixture as config_fixture
import pytest

from sod_nova.cloud import _bootstrap

_bootstrap.select_concurrency_mode()

# Deprecations raised inside Nova and the libraries it runs on: hundreds per
# run, none actionable here. sod-nova's own deprecations still show.
_THIRD_PARTY = r'(nova|placement|oslo_\w+|webob|sqlalchemy|alembic)(\..*)?'


def pytest_configure(config):
    config.addinivalue_line(
        'filterwarnings', 'ignore::DeprecationWarning:%s' % _THIRD_PARTY)
    # openstacksdk's own deprecations of its internals (raised on every call).
    config.addinivalue_line(
        'filterwarnings', 'ignore::openstack.warnings.RemovedInSDK50Warning')
    # Nova's alembic migrations, loaded by file path rather than module name.
    config.addinivalue_line(
        'filterwarnings', r'ignore:The from_engine\(\) method on Inspector')


# Real RabbitMQ and MariaDB (tests/functional/services.py): started once per
# session by the first test that asks, stopped at the end. A test that needs
# one that cannot run here fails with the reason; it never skips.

def _service(cls):
    from sod_nova.cloud import services
    try:
        server = cls()
    except services.ServiceUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        server.start()
    except services.ServiceUnavailable as exc:
        server.close()
        pytest.fail(str(exc), pytrace=False)
    return server


@pytest.fixture(scope='session')
def rabbitmq():
    """A :class:`services.RabbitMQ` on loopback; ``.url`` is its rabbit:// URL."""
    from sod_nova.cloud import services
    server = _service(services.RabbitMQ)
    yield server
    server.close()


@pytest.fixture(scope='session')
def mariadb():
    """A :class:`services.MariaDB` on loopback (``create_database()``)."""
    from sod_nova.cloud import services
    server = _service(services.MariaDB)
    yield server
    server.close()


@pytest.fixture
def mysql_url(mariadb):
    """A fresh empty MariaDB database for this test (mysql+pymysql:// URL)."""
    return mariadb.create_database()


# A trust fleet in this process (sod_nova.cloud.fleet): its configuration and
# the host rows its monitor writes.

#: Seconds between an agent's reports in these tests.
REPORT_INTERVAL = 0.1
#: A hundred report periods: a wait ends when its state is reached; this
#: bound only keeps a broken run from hanging.
TRUST_TIMEOUT = 100 * REPORT_INTERVAL


@pytest.fixture
def trust_config(tmp_path):
    """sod-nova's ``CONF`` for a trust fleet, as an oslo.config ``Config``
    fixture (``.config(group=..., **options)`` adds a test's own; ``.conf``):
    a fresh migrated SQLite database, reports every ``REPORT_INTERVAL`` s,
    and topics of its own (the fake transport's queues outlive a test)."""
    import sod_nova.conf
    from sod_nova.db import api as db_api
    from sod_nova.db import migration as db_migration
    fixture = config_fixture.Config(sod_nova.conf.CONF)
    fixture.setUp()
    suffix = uuid.uuid4().hex[:8]
    fixture.config(connection='sqlite:///%s' % (tmp_path / 'sod.db'),
                   sqlite_synchronous=False, group='sod_database')
    fixture.config(group='sod_trust', report_interval=REPORT_INTERVAL,
                   stale_check_interval=0.05, evidence_max_age=5.0,
                   monitor_name='tm-%s' % suffix,
                   monitor_topic='sod-trust-monitor-%s' % suffix,
                   agent_topic='sod-trust-agent-%s' % suffix,
                   notification_topic='sod-notifications-%s' % suffix)
    db_migration.sync(fixture.conf)
    yield fixture
    db_api.dispose()
    fixture.cleanUp()


@pytest.fixture
def host_row():
    """``host_row(host)``: the host's trust row as any reader sees it now."""
    from sod_nova.db import api as db_api
    return lambda host: db_api.host_get(db_api.Context(), host)


@pytest.fixture
def wait_state(host_row):
    """``wait_state(host, state, reason=None)``: wait until the host's row
    has ``state`` (and a reason containing ``reason``); that row."""
    from sod_nova import polling

    def wait(host, state, reason=None):
        def reached():
            r = host_row(host)
            return r is not None and r.state == state and (
                reason is None or reason in r.reason)
        assert polling.until(reached, TRUST_TIMEOUT, 0.01), host_row(host)
        return host_row(host)
    return wait
