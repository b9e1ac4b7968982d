"""Assemble sod-nova-api: the middleware pipeline around the dispatcher.

From the outside in: request id, fault wrapper (an unexpected exception is
a JSON 500, logged), authentication (keystonemiddleware or noauth2), the
request context, the microversion, then the URL map. The catalogue is
loaded once at start (a bad file stops the service with one line, as every
sod-nova service does).
"""

from oslo_log import log as logging
from oslo_middleware import request_id

from sod_nova.api import auth
from sod_nova.api import errors
from sod_nova.api import handler
from sod_nova.api import microversion
from sod_nova.api import policy
from sod_nova.api import util
from sod_nova.api.objects import catalog as catalog_obj
from sod_nova.api.objects import server as server_obj
from sod_nova.db import api as db_api

LOG = logging.getLogger(__name__)


class FaultWrapper:
    """Turn an uncaught exception into a JSON 500 (a bug, logged in full)."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        try:
            return self.application(environ, start_response)
        except Exception as exc:
            LOG.exception('sod-nova-api: unexpected error on %(method)s '
                          '%(path)s: %(exc)s',
                          {'method': environ.get('REQUEST_METHOD'),
                           'path': environ.get('PATH_INFO'), 'exc': exc})
            return util.error_response(
                500, 'Unexpected error: %s' % type(exc).__name__,
                errors.INTERNAL, environ)(environ, start_response)


class Application:
    """What the handlers share: configuration, catalogue, Nova, policy."""

    def __init__(self, conf, nova_service=None):
        self.conf = conf
        db_api.configure(conf)      # a bad [sod_database] stops the start
        self.catalog = catalog_obj.load(conf)
        self.nova = server_obj.Nova(conf, service=nova_service)
        self.enforcer = policy.make_enforcer(conf)
        self.dispatcher = handler.Dispatcher()

    def __call__(self, environ, start_response):
        environ[util.ENV_APP] = self
        return self.dispatcher(environ, start_response)


def deploy(conf, nova_service=None):
    """The WSGI application of sod-nova-api over ``conf``.

    ``nova_service`` is the :class:`~sod_nova.relocation.compute.NovaCompute`
    of the service user; by default it is built from ``[nova]`` on first
    use.
    """
    app = Application(conf, nova_service=nova_service)
    pipeline = microversion.MicroversionMiddleware(app)
    pipeline = auth.ContextMiddleware(pipeline, app.enforcer)
    if conf.sod_api.auth_strategy == 'noauth2':
        pipeline = auth.NoAuthMiddleware(pipeline)
    else:
        pipeline = auth.keystone(conf)(pipeline)
    pipeline = FaultWrapper(pipeline)
    pipeline = request_id.RequestId(pipeline)
    pipeline.sod_app = app
    return pipeline
