"""The real sod-nova-api, in-process, for every unit test of the plugin.

The plugin reaches it over HTTP as in production (keystoneauth, the user's
token, ``OpenStack-API-Version``); wsgi-intercept hands those requests to
the API's WSGI application (:func:`sod_nova.api.deploy.deploy`, the whole
pipeline: request id, fault wrapper, authentication, policy, handlers) over
its own migrated SQLite database. Authentication is the API's ``noauth2``
(the live tests run it behind keystonemiddleware and Keystone): a token
``user:project`` is that user in that project, and the user ``admin`` has
the admin role. :class:`ApiTokens` gives Horizon's test users such tokens.

Nova is not running here (Horizon's own tests mock its ``api.nova``): the
API answers the server resources with its 503 ``sod.nova.unavailable``,
which the views must turn into messages; they run against real Nova in the
browser test.
"""

import datetime

from openstack_auth import utils as auth_utils
import pytest
from wsgi_intercept import interceptor

from sod_nova.api import deploy
from sod_nova.conf import CONF
from sod_nova.conf import catalog as catalog_conf
from sod_nova.db import api as db_api
from sod_nova.db import audit as db_audit
from sod_nova.db import migration as db_migration

CTX = db_api.Context()

API_HOST = 'sod-api.test'
API_URL = 'http://%s:80' % API_HOST
_OVERRIDES = (('connection', 'sod_database'), ('auth_strategy', 'sod_api'),
              ('evidence_max_age', 'sod_trust'), ('max_limit', 'sod_api'),
              ('key_file', 'sod_audit'))


@pytest.fixture(autouse=True)
def sod_api(tmp_path, settings):
    """sod-nova-api at ``SOD_API_URL``; yields its configuration."""
    CONF([], project='sod_nova', default_config_files=[],
         default_config_dirs=[])
    CONF.set_override('connection', 'sqlite:///%s/sod_nova.sqlite'
                      % tmp_path, 'sod_database')
    CONF.set_override('auth_strategy', 'noauth2', 'sod_api')
    CONF.set_override('evidence_max_age', 60.0, 'sod_trust')
    CONF.set_override('max_limit', 1000, 'sod_api')
    # The audit chain's key (the manager writes with it, the API verifies).
    db_audit.write_key(tmp_path / 'audit.key')
    CONF.set_override('key_file', str(tmp_path / 'audit.key'), 'sod_audit')
    db_migration.sync(CONF)
    app = deploy.deploy(CONF)
    settings.SOD_API_URL = API_URL
    with interceptor.RequestsInterceptor(lambda: app, host=API_HOST,
                                         port=80):
        yield CONF
    db_api.dispose()
    for name, group in _OVERRIDES:
        CONF.clear_override(name, group)
    CONF.reset()


class ApiTokens:
    """Mixin for Horizon's test cases: the test user's token is one the
    API's noauth2 reads (``admin:<project>`` in admin test cases), and
    ``self.request`` carries that user as a view's request does."""

    api_user = None

    def setUp(self):
        super().setUp()
        self.request.user = auth_utils.get_user(self.request)

    def _setup_user(self, **kwargs):
        user = self.api_user or self.user.id
        self.token.id = '%s:%s' % (user, self.tenant.id)
        super()._setup_user(**kwargs)


def now():
    return datetime.datetime.now(datetime.UTC)


def add_host(conf, host, architecture, state=db_api.TRUSTED, age=1.0,
             reason='evidence verified', monitor='monitor-1'):
    """A host row as the trust monitor writes it (``age`` s old evidence)."""
    catalog = catalog_conf.load_catalog(conf)
    evidence_at = now() - datetime.timedelta(seconds=age)
    db_api.host_set_trust(
        CTX, host, state, reason, catalog.capability_mask(architecture),
        last_evidence_at=evidence_at, architecture=architecture,
        monitor=monitor, valid_until=db_api.evidence_valid_until(
            evidence_at, conf.sod_trust.evidence_max_age))
