"""``GET /hosts``, ``GET /hosts/{name}``: host capability rows (operator)."""

from sod_nova.api import errors
from sod_nova.api import util
from sod_nova.api.objects import host as host_obj
from sod_nova.api.policies import host as policies
from sod_nova.db import api as db_api


@util.handler
def list_hosts(req):
    util.context(req).can(policies.LIST)
    conf = util.app(req).conf
    now = db_api.now()
    return util.json_response({'hosts': [
        host_obj.view(row, now) for row in host_obj.get_all(conf)]})


@util.handler
def get_host(req):
    util.context(req).can(policies.SHOW)
    conf = util.app(req).conf
    name = util.path_item(req, 'name')
    row = host_obj.get(conf, name)
    if row is None:
        raise util.ApiError(404, 'No host named %s has a capability row.'
                            % name, errors.HOST_NOT_FOUND)
    return util.json_response({'host': host_obj.view(
        row, db_api.now())})
