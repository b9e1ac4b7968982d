"""Functional tests run real Nova services in-process (sod_nova.cloud.nova).

Nova's concurrency mode (native threads) is fixed here, before any test module
imports oslo.messaging, which would otherwise select oslo.service's eventlet
backend for good (see sod_nova.cloud._bootstrap).
"""

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
