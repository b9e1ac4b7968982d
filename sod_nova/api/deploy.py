"""Assemble sod-nova-api: the middleware pipeline around the dispatcher.

From the outside in: the request metrics (``[sod_metrics] api_port``),
request id, body size limit, fault wrapper, authentication, request context,
microversion, then the URL map. The catalogue is loaded once at start.

See doc/source/contributor/api-and-cli.rst.
"""

import io
import re

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
from sod_nova.metrics import api as api_metrics
from sod_nova.metrics import exporter as metrics_exporter
from sod_nova.trust import ear

LOG = logging.getLogger(__name__)


class BodySizeLimit:
    """Refuse a body larger than ``limit`` bytes with a JSON 413.

    oslo.middleware's ``RequestBodySizeLimiter`` approach in the API's error
    format: a declared ``Content-Length`` is checked before any byte is
    read; a chunked body (``wsgi.input_terminated``, no length) is read up
    to ``limit`` and one byte, then handed on from memory. A
    ``Content-Length`` that is not a number of bytes is a 400 (a negative
    one would make webob read to the end of the stream).
    """

    _DIGITS = re.compile(r'[0-9]+')

    def __init__(self, application, limit):
        self.application = application
        self.limit = limit

    def _too_large(self, environ, start_response):
        LOG.info('sod-nova-api: %(method)s %(path)s (%(rid)s): body larger '
                 'than [sod_api] max_request_body_size (%(limit)d bytes)',
                 {'method': environ.get('REQUEST_METHOD'),
                  'path': environ.get('PATH_INFO'), 'limit': self.limit,
                  'rid': environ.get(request_id.ENV_REQUEST_ID)})
        return util.error_response(
            413, 'The request body is larger than %d bytes.' % self.limit,
            errors.TOO_LARGE, environ)(environ, start_response)

    def __call__(self, environ, start_response):
        length = (environ.get('CONTENT_LENGTH') or '').strip()
        if length:
            if not self._DIGITS.fullmatch(length):
                return util.error_response(
                    400, 'Content-Length %r is not a number of bytes'
                    % length[:40], errors.MALFORMED,
                    environ)(environ, start_response)
            if len(length) > len(str(self.limit)) or int(length) > self.limit:
                return self._too_large(environ, start_response)
        elif environ.get('wsgi.input_terminated'):
            body = environ['wsgi.input'].read(self.limit + 1)
            if len(body) > self.limit:
                return self._too_large(environ, start_response)
            environ['wsgi.input'] = io.BytesIO(body)
            environ['CONTENT_LENGTH'] = str(len(body))
        return self.application(environ, start_response)


class FaultWrapper:
    """Turn an uncaught exception into a JSON 500 (a bug, logged in full)."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        try:
            return self.application(environ, start_response)
        except Exception as exc:
            LOG.exception('sod-nova-api: unexpected error on %(method)s '
                          '%(path)s (%(rid)s): %(exc)s',
                          {'method': environ.get('REQUEST_METHOD'),
                           'path': environ.get('PATH_INFO'), 'exc': exc,
                           'rid': environ.get(request_id.ENV_REQUEST_ID)})
            return util.error_response(
                500, 'Unexpected error: %s' % type(exc).__name__,
                errors.INTERNAL, environ)(environ, start_response)


class Application:
    """What the handlers share: configuration, catalogue, Nova, policy,
    the EAR signer."""

    def __init__(self, conf, nova_service=None):
        self.conf = conf
        db_api.configure(conf)      # a bad [sod_database] stops the start
        self.catalog = catalog_obj.load(conf)
        self.nova = server_obj.Nova(conf, service=nova_service)
        self.enforcer = policy.make_enforcer(conf)
        # A missing or bad key file stops the start (ear.SigningKeyError).
        self.ear_signer = ear.optional_signer(
            conf.sod_attestation.signing_key_file)
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
    # Options first: a bad value stops the start before anything is built.
    body_limit = conf.sod_api.max_request_body_size
    app = Application(conf, nova_service=nova_service)
    pipeline = microversion.MicroversionMiddleware(app)
    pipeline = auth.ContextMiddleware(pipeline, app.enforcer)
    if conf.sod_api.auth_strategy == 'noauth2':
        pipeline = auth.NoAuthMiddleware(pipeline)
    else:
        pipeline = auth.keystone(conf)(pipeline)
    pipeline = FaultWrapper(pipeline)
    pipeline = BodySizeLimit(pipeline, body_limit)
    pipeline = request_id.RequestId(pipeline)
    # Its own port, started last: a port it cannot bind stops the start
    # (MetricsError), a running endpoint is stopped with ``sod_metrics``.
    metrics = metrics_exporter.Exporter(conf, 'api_port', 'sod-nova-api')
    if metrics.enabled:
        pipeline = api_metrics.RequestMetrics(pipeline, metrics.registry)
        metrics.start()
    pipeline.sod_app = app
    pipeline.sod_metrics = metrics
    return pipeline
