"""URL map of sod-nova-api: one handler per method and path.

As in Placement: ``ROUTE_DECLARATIONS`` maps a path to ``{method:
handler}``; a known path with another method is a 405 with ``Allow``, an
unknown path a 404, both as JSON errors.
"""

import routes

from sod_nova.api import errors
from sod_nova.api import util
from sod_nova.api.handlers import attestation
from sod_nova.api.handlers import audit
from sod_nova.api.handlers import catalog
from sod_nova.api.handlers import compliance
from sod_nova.api.handlers import host
from sod_nova.api.handlers import request
from sod_nova.api.handlers import root
from sod_nova.api.handlers import server

ROUTE_DECLARATIONS = {
    '/': {'GET': root.home},
    '': {'GET': root.home},
    '/hosts': {'GET': host.list_hosts},
    '/hosts/{name}': {'GET': host.get_host},
    '/hosts/{name}/evacuation-plan': {'GET': host.evacuation_plan},
    '/hosts/{name}/attestation': {'GET': attestation.show_attestation},
    attestation.JWKS_PATH: {'GET': attestation.jwks},
    '/catalog': {'GET': catalog.list_catalog},
    '/catalog/{name}': {'GET': catalog.get_architecture},
    '/requests/check': {'POST': request.check_request},
    '/servers/{id}/security': {'GET': server.show_security,
                               'PUT': server.update_security},
    '/servers/{id}/compliance': {'GET': compliance.show_compliance},
    '/compliance': {'GET': compliance.list_compliance},
    '/audit': {'GET': audit.list_audit},
}


def _method_not_allowed(allowed):
    def app(environ, start_response):
        return util.error_response(
            405, 'The method %s is not allowed here (allowed: %s).' % (
                environ['REQUEST_METHOD'], allowed),
            errors.METHOD_NOT_ALLOWED, environ,
            headers={'Allow': allowed})(environ, start_response)
    return app


def make_map(declarations=ROUTE_DECLARATIONS):
    mapper = routes.Mapper()
    for path, methods in declarations.items():
        for method, action in methods.items():
            mapper.connect(path, action=action,
                           conditions={'method': [method]})
        mapper.connect(path, action=_method_not_allowed(
            ', '.join(sorted(methods))))
    return mapper


class Dispatcher:
    """The innermost WSGI app: route, then call the handler."""

    def __init__(self):
        self.mapper = make_map()

    def __call__(self, environ, start_response):
        result = self.mapper.match(environ=environ)
        if result is None:
            return util.error_response(
                404, 'The resource %s could not be found.'
                % environ.get('PATH_INFO'), errors.NOT_FOUND,
                environ)(environ, start_response)
        action = result.pop('action')
        environ['wsgiorg.routing_args'] = ((), result)
        return action(environ, start_response)
