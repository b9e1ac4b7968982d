"""Functional tests run real Nova services in-process (sod_nova.cloud.nova).

Nova's concurrency mode (native threads) is fixed here, before any test module
imports oslo.messaging, which would otherwise select oslo.service's eventlet
backend for good (see sod_nova.cloud._bootstrap).
"""

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
