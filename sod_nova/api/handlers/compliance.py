"""``GET /servers/{id}/compliance`` and ``GET /compliance``: SLA reports."""

import datetime
import time

from oslo_log import log as logging
from oslo_utils import strutils
from oslo_utils import timeutils

from sod_nova.api import errors
from sod_nova.api import util
from sod_nova.api.handlers import server as server_handler
from sod_nova.api.objects import audit as audit_obj
from sod_nova.api.objects import compliance as compliance_obj
from sod_nova.api.policies import compliance as policies
from sod_nova.api.policies import server as server_policies
from sod_nova.api.schemas import compliance as schema
from sod_nova.db import audit

LOG = logging.getLogger(__name__)


#: The times a window may name: from the epoch to the last second of
#: year 9999 (what an ISO 8601 date and an audit entry can hold).
EARLIEST = 0.0
LATEST = audit.MAX_TIME


def _epoch(value, name):
    """``value`` (ISO 8601) in epoch seconds; 400 when it is not a time
    between 1970-01-01 and 9999-12-31T23:59:59Z, whatever its offset."""
    try:
        when = timeutils.parse_isotime(value)
        epoch = timeutils.normalize_time(when).replace(
            tzinfo=datetime.UTC).timestamp()
    except (ValueError, OverflowError) as exc:
        raise util.ApiError(400, '%s is not an ISO 8601 time: %s' % (
            name, str(exc).splitlines()[0][:200]), errors.MALFORMED) from None
    if not EARLIEST <= epoch <= LATEST:
        raise util.ApiError(400, '%s must be between 1970-01-01T00:00:00Z and '
                            '9999-12-31T23:59:59Z' % name, errors.MALFORMED)
    return epoch


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
    try:
        return _epoch(created, 'created')
    except util.ApiError:
        return None     # Nova's own field: the window keeps its start


def _reports(req, servers, start, end):
    conf = util.app(req).conf
    reader = compliance_obj.Reader(conf, audit_obj.key(conf),
                                   util.context(req))
    hosts_visible = util.context(req).can(server_policies.SHOW_HOST,
                                          fatal=False)
    reports = []
    for s in servers:
        try:
            entries = reader.entries(s['id'], start)
        except compliance_obj.Unreadable as exc:
            LOG.warning('compliance of %(vm)s: %(exc)s (see "sod-nova audit '
                        'verify")', {'vm': s['id'], 'exc': exc})
            entries = exc
        reports.append(compliance_obj.report(
            s['id'], entries, start, end, created_at=_created(s),
            name=s.get('name'), hosts_visible=hosts_visible))
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
