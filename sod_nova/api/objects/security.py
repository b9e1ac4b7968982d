"""A server's security: what it asks for, from where, and is it met now.

The one compliance rule (:mod:`sod_nova.compliance`) over the same effective
request and launch features as the migration manager's, so the API never
tells a customer "compliant" where the manager would move the VM.
"""

import re

from sod_nova import compliance
from sod_nova.catalog import guest as guest_mod
from sod_nova.catalog import request_for
from sod_nova.db import rejections as db_rejections
from sod_nova.db import relocation as relocation_db
from sod_nova.policy import PolicyError
from sod_nova.policy import parse
from sod_nova.relocation import server as server_mod
from sod_nova.relocation import triggers

#: Where a request comes from, operator's floor first (ARCHITECTURE.md).
SOURCES = ('flavor', 'image', 'metadata')

HINTS_NOTE = ('scheduler hints are not visible through Nova\'s API after '
              'boot; Nova applies them, saved at boot, to every move')


def _request_view(request):
    return {'matrix': request.matrix(), 'text': request.describe()}


def by_source(catalog, view):
    """``{source: {keys, request, moving_target, error}}`` of a ServerView."""
    mappings = {'flavor': view.flavor_extra_specs,
                'image': view.image_properties,
                'metadata': view.metadata}
    result = {}
    for source in SOURCES:
        mapping = mappings[source]
        keys = {k: v for k, v in (mapping or {}).items()
                if isinstance(k, str) and k.startswith(parse.PREFIX)}
        entry = {'keys': keys, 'request': None, 'moving_target': None,
                 'error': None}
        try:
            entry['request'] = _request_view(request_for(catalog, mapping))
            entry['moving_target'] = parse.moving_target(mapping)
        except PolicyError as exc:
            entry['error'] = str(exc)
        result[source] = entry
    result['hints'] = {'keys': None, 'note': HINTS_NOTE}
    return result


def open_task(conf, server_id):
    return relocation_db.RelocationStore(conf).task_get_open(server_id)


def assess(conf, catalog, view, rows, now):
    """The security document of ``view`` (hosts named; see :func:`redact`)."""
    effective = server_mod.effective_request(catalog, view)
    row = rows.get(view.host)
    verdict = compliance.Rule(catalog).check(effective, view.host, row, now)
    host_state = None
    if row is not None:
        state, reason = row.state_at(now)
        host_state = {'state': state, 'reason': reason,
                      'architecture': row.architecture}
    task = open_task(conf, view.id)
    paused = task is not None and task.state in (triggers.PARKING,
                                                 triggers.PARKED)
    rejection = db_rejections.get(view.id, conf)
    return {
        'server_id': view.id,
        'status': view.status,
        'requested': by_source(catalog, view),
        'effective': dict(_request_view(effective.request),
                          moving_target=effective.moving_target,
                          errors=list(effective.errors),
                          malformed=effective.malformed),
        'guest': {'features': sorted(effective.guest),
                  'text': guest_mod.describe(effective.guest)},
        'satisfied_by': catalog.satisfying(effective.request,
                                           guest=effective.guest)
        if effective.request else None,
        'compliant': verdict.compliant,
        'reason': verdict.reason or None,
        'trigger': verdict.trigger,
        'paused': {'paused': paused,
                   'action': task.action if paused else None,
                   'reason': task.reason if paused else None},
        'relocation': ({'state': task.state, 'trigger': task.trigger,
                        'reason': task.reason} if task is not None else None),
        'last_rejection': ({'reason': rejection.reason,
                            'at': rejection.updated_at.isoformat()
                            if rejection.updated_at else None}
                           if rejection is not None else None),
        'host': view.host,
        'host_state': host_state,
    }


def _scrub(value, pattern):
    if isinstance(value, str):
        return pattern.sub('its server', value)
    if isinstance(value, dict):
        return {k: _scrub(v, pattern) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, pattern) for v in value]
    return value


def redact(document, host_names, fields=('host', 'host_state')):
    """``document`` without host names, for callers who may not see them.

    The ``fields`` that hold host data are dropped, and every known host
    name inside the remaining strings becomes "its server".
    """
    names = sorted({n for n in host_names if n}, key=len, reverse=True)
    document = {k: v for k, v in document.items() if k not in fields}
    if not names:
        return document
    pattern = re.compile(r'(?<![\w.-])(%s)(?![\w.-])'
                         % '|'.join(re.escape(n) for n in names))
    return _scrub(document, pattern)
