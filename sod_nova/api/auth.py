"""Who is asking: keystonemiddleware in production, headers in tests.

``GET /`` (the version document) needs no token, as in Placement, nor does
``GET /.well-known/jwks.json`` (public keys).
"""

import json

from keystonemiddleware import auth_token
from oslo_log import log as logging
from oslo_middleware import request_id
import webob.exc

from sod_nova.api import context as context_mod
from sod_nova.api import errors
from sod_nova.api import util

LOG = logging.getLogger(__name__)


#: Read without a token: the version document and the public keys that
#: verify attestation results (a relying party may have no Keystone user).
PUBLIC_PATHS = ('', '/', '/.well-known/jwks.json')


def _is_public(environ):
    return environ.get('PATH_INFO', '') in PUBLIC_PATHS


class NoAuthMiddleware:
    """``[sod_api] auth_strategy = noauth2``: identity from the headers.

    ``X-Auth-Token: user:project`` and ``X-Roles``, as Placement's noauth2
    reads them; without ``X-Roles`` the user ``admin`` has the admin role
    and anybody else is a member of their project (what a client that
    sends only a token, like ``openstack --os-auth-type admin_token``,
    can say). For tests and the embedded cloud only.
    """

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        if _is_public(environ):
            return self.application(environ, start_response)
        token = environ.get('HTTP_X_AUTH_TOKEN')
        if not token:
            return util.error_response(
                401, 'Authentication required (X-Auth-Token).',
                errors.UNAUTHENTICATED, environ)(environ, start_response)
        user_id, _sep, project_id = token.partition(':')
        environ['HTTP_X_USER_ID'] = user_id
        environ['HTTP_X_PROJECT_ID'] = project_id or user_id
        environ.setdefault('HTTP_X_ROLES', 'admin,member,reader'
                           if user_id == 'admin' else 'member,reader')
        return self.application(environ, start_response)


class AuthProtocol(auth_token.AuthProtocol):
    """keystonemiddleware, except for ``GET /``, and with its refusal in
    sod-nova-api's error format.

    keystonemiddleware answers a missing or bad token with its own body
    (``{"error": {"code": 401, ...}}``); clients of this API branch on
    ``errors[0].code``, so the 401 is re-issued as every other error is,
    with keystonemiddleware's ``WWW-Authenticate`` header kept (it names
    Keystone, where a client gets a token).
    """

    def __init__(self, app, conf):
        self._sod_app = app
        super().__init__(app, conf)

    def __call__(self, environ, start_response):
        if _is_public(environ):
            return self._sod_app(environ, start_response)
        return super().__call__(environ, start_response)

    def process_request(self, request):
        try:
            return super().process_request(request)
        except webob.exc.HTTPUnauthorized as exc:
            headers = {k: v for k, v in exc.headers.items()
                       if k.lower() == 'www-authenticate'}
            return util.error_response(
                401, 'Authentication required: %s' % _detail(exc),
                errors.UNAUTHENTICATED, request.environ, headers=headers)


def _detail(exc):
    """keystonemiddleware's own sentence for a refused token."""
    try:
        return json.loads(exc.body)['error']['message']
    except (ValueError, KeyError, TypeError):
        return 'no valid token (X-Auth-Token)'


def keystone(conf):
    def middleware(app):
        return AuthProtocol(app, {'oslo_config_config': conf})
    return middleware


class ContextMiddleware:
    """Build the :class:`~sod_nova.api.context.RequestContext`."""

    def __init__(self, application, enforcer):
        self.application = application
        self.enforcer = enforcer

    def __call__(self, environ, start_response):
        try:
            ctx = context_mod.RequestContext.from_environ(
                environ, enforcer=self.enforcer,
                request_id=environ.get(request_id.ENV_REQUEST_ID))
        except util.ApiError as exc:
            return util.error_response(exc.status, exc.detail, exc.code,
                                       environ)(environ, start_response)
        if ctx.user_id is None and not _is_public(environ):
            LOG.debug('Neither X_USER_ID nor X_USER found in the request')
            return util.error_response(
                401, 'Authentication required.', errors.UNAUTHENTICATED,
                environ)(environ, start_response)
        environ[util.ENV_CONTEXT] = ctx
        return self.application(environ, start_response)
