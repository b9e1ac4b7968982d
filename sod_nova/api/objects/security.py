"""A server's security: what it asks for, from where, and is it met now.

The one rule of :mod:`sod_nova.compliance` on the manager's own inputs: for
operators :func:`assess`, for project users :func:`project_view` (built from
codes and fixed sentences only, never a host name).

See doc/source/contributor/api-and-cli.rst.
"""


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

#: Why a VM is not protected where it runs, or why it moves, per trigger:
#: what a project user reads instead of the detailed reason.
WHY = {
    triggers.TRUST_LOSS: (
        'its server is untrusted: its evidence failed verification, so it '
        'protects nothing until it is verified again'),
    triggers.UNREACHABLE: (
        'its server is unreachable: there is no fresh verified evidence of '
        'it, so it protects nothing until there is'),
    triggers.POLICY_CHANGE: (
        'its server does not protect this VM as it asks and is launched'),
    triggers.RECOVERY: (
        'it was parked for want of a compliant server, and one can take it '
        'now'),
    triggers.MOVING_TARGET: 'its moving-target period elapsed',
}

#: What the no-host action (``[sod_relocation] no_host_action``) did to a
#: parked VM: what a project user reads instead of the task's reason.
PARKED = {
    'pause': 'no compliant server can take it now: it is paused until one '
             'can',
    'suspend': 'no compliant server can take it now: it is suspended until '
               'one can',
    'stop': 'no compliant server can take it now: it is powered off until '
            'one can',
    'none': 'no compliant server can take it now: it keeps running where it '
            'is until one can',
}
#: ... while the action is not applied yet.
PARKING = 'no compliant server can take it now'

#: The scheduler's rejection as a project user sees it: the filter keeps
#: only its explanation, which names hosts and the monitor's reasons, so a
#: class and the time are all that is shown.
REJECTED = 'no-compliant-host'
REJECTED_WHY = ('when it was last scheduled, no server could protect it as '
                'it asks and is launched')

#: Fields of :func:`assess`'s document a project user receives as they are:
#: the VM's own request, launch features and status, catalogue names.
PROJECT_FIELDS = ('server_id', 'name', 'project_id', 'status', 'requested',
                  'effective', 'guest', 'satisfied_by', 'compliant',
                  'architecture', 'unmet')


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


def open_task(context, conf, server_id):
    return relocation_db.RelocationStore(conf).task_get_open(context,
                                                             server_id)


def assess(context, conf, catalog, view, rows, now):
    """The security document of ``view`` for an operator: hosts named, and
    the verdict's, the task's and the scheduler's reasons in full (a
    project user gets :func:`project_view` of it)."""
    effective = server_mod.effective_request(catalog, view)
    row = rows.get(view.host)
    rule = compliance.Rule(catalog)
    verdict = rule.check(effective, view.host, row, now)
    host_state = architecture = unmet = None
    if row is not None:
        state, reason = row.state_at(now)
        host_state = {'state': state, 'reason': reason,
                      'architecture': row.architecture}
        known = catalog.get(row.architecture)
        architecture = known.name if known is not None else None
        if verdict.trigger == triggers.POLICY_CHANGE:
            unmet = _request_view(effective.request.unmet(
                rule.protection(row, effective.guest)))
    task = open_task(context, conf, view.id)
    paused = task is not None and task.state in (triggers.PARKING,
                                                 triggers.PARKED)
    rejection = db_rejections.get(context, view.id)
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
        'architecture': architecture,
        'unmet': unmet,
        'paused': {'paused': paused,
                   'action': task.action if paused else None,
                   'reason': task.reason if paused else None},
        'relocation': ({'state': task.state, 'trigger': task.trigger,
                        'reason': task.reason} if task is not None else None),
        'last_rejection': ({'code': REJECTED, 'reason': rejection.reason,
                            'at': rejection.updated_at.isoformat()
                            if rejection.updated_at else None}
                           if rejection is not None else None),
        'host': view.host,
        'host_state': host_state,
    }


def _why(trigger, unmet=None):
    """The sentence of :data:`WHY` for ``trigger``, with the cells its
    server lacks (``unmet``, a request view) for a policy change."""
    why = WHY.get(trigger)
    if why is not None and unmet is not None:
        why = '%s: it lacks %s' % (why, unmet['text'])
    return why


def project_view(document):
    """``document`` (from :func:`assess`, with the ``name`` and
    ``project_id`` of the caller's own read) as a project user receives it.

    Built, not scrubbed: the :data:`PROJECT_FIELDS` as they are, codes only
    where they are known ones, and every reason a sentence of the tables
    above; the host, its row and the detailed reasons are never read.
    """
    view = {k: document.get(k) for k in PROJECT_FIELDS}
    trigger = document['trigger'] if document['trigger'] in WHY else None
    view['trigger'] = trigger
    view['reason'] = (None if document['compliant']
                      else _why(trigger, document.get('unmet')))
    paused = document['paused']
    action = paused['action'] if paused['action'] in PARKED else None
    view['paused'] = {'paused': bool(paused['paused']), 'action': action,
                      'reason': PARKED.get(action, PARKING)
                      if paused['paused'] else None}
    task = document['relocation']
    if task is not None:
        moving = task['trigger'] if task['trigger'] in WHY else None
        task = {'state': task['state'] if task['state'] in triggers.OPEN_STATES
                else None,
                'trigger': moving, 'reason': _why(moving)}
    view['relocation'] = task
    rejection = document['last_rejection']
    if rejection is not None:
        rejection = {'code': REJECTED, 'reason': REJECTED_WHY,
                     'at': rejection['at']}
    view['last_rejection'] = rejection
    return view
