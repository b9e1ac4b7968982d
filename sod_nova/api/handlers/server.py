"""``GET|PUT /servers/{id}/security``: a server's request and verdict.

The caller's own read of the server through Nova decides whether they see
it at all (Nova answers 404 for another project's server); then the
sod-nova rule decides. Host names reach only callers the
``sod:servers:security:show:host`` rule allows.
"""

from sod_nova.api import errors
from sod_nova.api import util
from sod_nova.api.handlers import request as request_handler
from sod_nova.api.objects import host as host_obj
from sod_nova.api.objects import request as request_obj
from sod_nova.api.objects import security as security_obj
from sod_nova.api.objects import server as server_obj
from sod_nova.api.policies import server as policies
from sod_nova.api.schemas import server as schema
from sod_nova.catalog import guest as guest_mod
from sod_nova.db import api as db_api


def nova_errors(fn):
    """Nova's answers in sod-nova-api's error format."""
    def wrapped(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except server_obj.ServerNotFound as exc:
            raise util.ApiError(404, 'Server not found: %s' % exc,
                                errors.SERVER_NOT_FOUND) from None
        except server_obj.NovaRefused as exc:
            status = exc.status if exc.status in (400, 403, 409) else 502
            raise util.ApiError(status, 'Nova refused: %s' % exc,
                                errors.NOVA_REFUSED) from None
        except server_obj.NovaUnavailable as exc:
            raise util.ApiError(503, 'Nova is unavailable: %s' % exc,
                                errors.NOVA_UNAVAILABLE) from None
    return wrapped


@nova_errors
def visible_server(req, action):
    """The server as Nova shows it to the caller, once ``action`` allows."""
    context = util.context(req)
    server_id = util.path_item(req, 'id')
    server = util.app(req).nova.get(context, server_id)
    context.can(action, {'project_id': server.get('tenant_id'),
                         'user_id': server.get('user_id')})
    return server


@nova_errors
def security_document(req, server):
    app, context = util.app(req), util.context(req)
    view = app.nova.located(server['id'])
    if view is None:
        raise server_obj.ServerNotFound(server['id'])
    rows = host_obj.by_name(context)
    document = security_obj.assess(context, app.conf, app.catalog, view, rows,
                                   db_api.now())
    document['name'] = server.get('name')
    document['project_id'] = server.get('tenant_id')
    if not context.can(policies.SHOW_HOST, fatal=False):
        document = security_obj.project_view(document)
    return document


@util.handler
def show_security(req):
    server = visible_server(req, policies.SHOW)
    return util.json_response({'security': security_document(req, server)})


@nova_errors
def _write(req, server, wanted):
    context = util.context(req)
    values, delete = request_obj.plan(server.get('metadata') or {}, wanted)
    util.app(req).nova.write_metadata(context, server['id'], values, delete)
    return util.app(req).nova.get(context, server['id'])


@util.handler
def update_security(req):
    server = visible_server(req, policies.UPDATE)
    body = util.extract_json(req, schema.UPDATE)
    catalog = util.app(req).catalog
    wanted, request = {}, None
    if body:
        wanted, request = request_handler.parse_body(
            util.app(req).conf, catalog, body)
        # For the guest the server is launched as (its flavor; Nova shows
        # the extra specs from 2.47): a row that protects only another
        # kind of guest does not count.
        guest = guest_mod.features(
            (server.get('flavor') or {}).get('extra_specs') or {})
        if request and not catalog.satisfying(request, guest=guest):
            raise util.ApiError(400, 'No server architecture satisfies %s '
                                'for this server: %s' % (
                                    request, catalog.explain(
                                        request, guest=guest)),
                                errors.UNSATISFIABLE)
    server = _write(req, server, wanted)
    return util.json_response({'security': security_document(req, server)})
