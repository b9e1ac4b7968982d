"""``GET /servers/{id}/compliance`` and ``GET /compliance``: SLA reports."""

import time

from oslo_utils import strutils
from oslo_utils import timeutils

from sod_nova.api import errors
from sod_nova.api import util
from sod_nova.api.handlers import server as server_handler
from sod_nova.api.objects import audit as audit_obj
from sod_nova.api.objects import compliance as compliance_obj
from sod_nova.api.objects import host as host_obj
from sod_nova.api.objects import security as security_obj
from sod_nova.api.policies import compliance as policies
from sod_nova.api.policies import server as server_policies
from sod_nova.api.schemas import compliance as schema


def _epoch(value, name):
    try:
        when = timeutils.parse_isotime(value)
    except ValueError as exc:
        raise util.ApiError(400, '%s is not an ISO 8601 time: %s' % (
            name, exc), errors.MALFORMED) from None
    return timeutils.normalize_time(when).replace(
        tzinfo=timeutils.datetime.timezone.utc).timestamp()


def window(params):
    """``(start, end)`` in epoch seconds: default from the beginning to now."""
    end = _epoch(params['end'], 'end') if 'end' in params else time.time()
    start = _epoch(params['start'], 'start') if 'start' in params else 0.0
    if start > end:
        raise util.ApiError(400, 'start is after end', errors.MALFORMED)
    return start, end


def _created(server):
    created = server.get('created')
    if not created:
        return None
    return _epoch(created, 'created')


def _reports(req, servers, start, end):
    conf = util.app(req).conf
    ids = {s['id'] for s in servers}
    entries = {}
    for entry in audit_obj.entries_for(conf, ids):
        entries.setdefault(entry['vm'], []).append(entry)
    reports = [compliance_obj.report(
        s['id'], entries.get(s['id'], []), start, end,
        created_at=_created(s), name=s.get('name')) for s in servers]
    if not util.context(req).can(server_policies.SHOW_HOST, fatal=False):
        names = host_obj.by_name(conf)
        reports = [security_obj.redact(r, names, fields=()) for r in reports]
    return reports


@util.handler
def show_compliance(req):
    params = util.query(req, schema.SHOW)
    start, end = window(params)
    server = server_handler.visible_server(req, policies.SHOW)
    return util.json_response(
        {'compliance': _reports(req, [server], start, end)[0]})


@server_handler.nova_errors
def _servers(req, all_projects):
    return util.app(req).nova.list(util.context(req),
                                   all_projects=all_projects)


@util.handler
def list_compliance(req):
    params = util.query(req, schema.LIST)
    start, end = window(params)
    context = util.context(req)
    all_projects = strutils.bool_from_string(params.get('all_projects', '0'))
    if all_projects:
        context.can(policies.LIST_ALL)
    else:
        context.can(policies.LIST)
    reports = _reports(req, _servers(req, all_projects), start, end)
    return util.json_response({'compliance': reports})
