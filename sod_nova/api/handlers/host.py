"""``GET /hosts``, ``GET /hosts/{name}``: host capability rows (operator);
``GET /hosts/{name}/evacuation-plan``: what would happen to its VMs."""

from sod_nova.api import errors
from sod_nova.api import util
from sod_nova.api.handlers import server as server_handler
from sod_nova.api.objects import host as host_obj
from sod_nova.api.policies import host as policies
from sod_nova.db import api as db_api
from sod_nova.db import relocation as relocation_db
from sod_nova.relocation import plan as plan_mod


def not_found(name):
    """The 404 of a host without a capability row."""
    return util.ApiError(404, 'No host named %s has a capability row.'
                         % name, errors.HOST_NOT_FOUND)


@util.handler
def list_hosts(req):
    context = util.context(req)
    context.can(policies.LIST)
    now = db_api.now()
    return util.json_response({'hosts': [
        host_obj.view(row, now) for row in host_obj.get_all(context)]})


@util.handler
def get_host(req):
    context = util.context(req)
    context.can(policies.SHOW)
    name = util.path_item(req, 'name')
    row = host_obj.get(context, name)
    if row is None:
        raise not_found(name)
    return util.json_response({'host': host_obj.view(
        row, db_api.now())})


@util.handler
@server_handler.nova_errors
def evacuation_plan(req):
    """Before anything moves: each VM of the host, whether it would move,
    how (live or cold, as Nova allows for the guest), where, or pause."""
    context = util.context(req)
    context.can(policies.EVACUATION_PLAN)
    app = util.app(req)
    name = util.path_item(req, 'name')
    rows = host_obj.get_all(context)
    if not any(row.host == name for row in rows):
        raise not_found(name)
    servers = app.nova.on_host(name)
    tasks = {t.vm: t for t in relocation_db.RelocationStore(
        app.conf).tasks_open(context)}
    return util.json_response({'host': name, 'vms': plan_mod.evacuation_plan(
        servers, name, app.catalog, rows, db_api.now(), app.conf, tasks)})
