"""A customer's security choice, as the Launch step and the form need it.

The seven options are the paper's vocabulary (Table II, from
:mod:`sod_nova.policy`, which is data and the standard library only); the
packages, the validation of a choice and the server types that satisfy it
all come from sod-nova-api (:mod:`sod_horizon.api.sod`), so the step says
exactly what the API, and so the scheduler, will do with it.

With the chosen flavor (its extra specs read from Nova through Horizon's
``api.nova``), the answer is for the guest that flavor launches: where this
cloud's only servers that could protect the choice protect only a guest
launched for them (SEV-SNP, TDX…) and the flavor does not launch one, the
step says so in the API's words ("AMD-SEV-SNP protects C, I against
Hypervisor only for a guest launched with …; flavor m1.small does not ask
for it").
"""

from openstack_dashboard.api import nova

from sod_horizon.api import sod
from sod_nova.policy import entities
from sod_nova.policy import parse

#: The metadata keys a choice writes; the rest of ``sod:`` is the API's.
PACKAGE_KEY = parse.PREFIX + parse.PACKAGE
OPTIONS_KEY = parse.PREFIX + parse.OPTIONS
PROPERTIES_KEY = parse.PREFIX + parse.PROPERTIES
#: The API's codes for a choice it refuses (a verdict, not a failure).
REFUSAL_CODES = ('sod.security.invalid', 'sod.request.malformed')
NO_PROTECTION = 'no protection'


def options():
    """The seven options of Table II, with the one this framework refuses."""
    return [{'number': e.option, 'key': e.key, 'label': e.label,
             'level': e.level.value,
             'refused': e.option in parse.REFUSED_OPTIONS,
             'reason': parse.REFUSED_OPTIONS.get(e.option, '')}
            for e in entities.Entity]


def packages(request):
    """The operator's security packages, each with what it protects."""
    return [{'name': name, 'description': view['text']}
            for name, view in sorted(sod.catalog(request)['packages'].items())]


def body(package=None, options=None, properties=None):
    """The API's body for a choice: options carry their properties; a
    package alone needs none (its own say what it protects)."""
    result = {}
    if package:
        result['package'] = str(package).strip()
    if options:
        result['options'] = sorted(int(o) for o in options)
        if properties is not None:
            result['properties'] = [str(p).strip().upper()
                                    for p in properties]
    elif properties and not package:
        result['properties'] = [str(p).strip().upper() for p in properties]
    return result


def _refusal(exc, options):
    """The API's 400 as the step's verdict. ``refused`` (a well-formed
    choice this framework will not take, option 4) is read from the
    vocabulary, not from the wording of the API's detail."""
    field, sep, reason = exc.detail.partition(': ')
    if not (sep and field.startswith(parse.PREFIX)):
        field, reason = '', exc.detail
    refused = any(int(o) in parse.REFUSED_OPTIONS for o in options or ())
    return {'valid': False, 'field': field, 'error': reason,
            'refused': refused}


def _message(answer, explanation):
    types = answer['server_types']
    if not types:
        why = explanation or 'no server type protects it'
    else:
        in_cloud = [t['name'] for t in types if t['hosts']]
        if in_cloud:
            why = 'the hosts of type %s are not trusted now' % ', '.join(
                in_cloud)
        else:
            why = 'this cloud has no host of type %s' % ', '.join(
                t['name'] for t in types)
    return ('No server in this cloud can satisfy %s: %s. The instance would '
            'not be scheduled.' % (answer['request'], why))


def _guest(request, flavor_id):
    """The API's ``guest`` for the flavor ``flavor_id`` (read from Nova with
    the user's token); :class:`sod.SodApiError` when Nova cannot say."""
    try:
        flavor = nova.flavor_get(request, flavor_id, get_extras=True)
        specs = nova.flavor_get_extras(request, flavor_id, raw=True,
                                       flavor=flavor)
    except Exception as exc:   # Horizon's clients raise their own kinds
        raise sod.SodApiError(503, 'The flavor %s could not be read from '
                              'Nova: %s' % (flavor_id, exc)) from exc
    return {'flavor': flavor.name,
            'extra_specs': {str(k): str(v) for k, v in specs.items()}}


def _guest_notes(request, wanted, verdict):
    """The API's sentences for the rows this cloud has trusted hosts of
    that would protect the choice, but only for a guest launched for them,
    which the flavor does not launch."""
    unmet = [c for c in verdict.get('guest_conditions', ())
             if c['met'] is False]
    if not unmet:
        return []
    # The same choice for a guest launched for each row: which such rows
    # have hosts here that could take it.
    anyone = sod.check(request, wanted)
    usable = {t['name'] for t in anyone.get('server_types', ())
              if t['usable_hosts']}
    return [c['sentence'] for c in unmet if c['name'] in usable]


def check(request, package=None, options=None, properties=None,
          flavor_id=None):
    """What a choice asks for and which server types here satisfy it, for
    the guest flavor ``flavor_id`` launches where given.

    ``{'valid', 'request', 'server_types', 'satisfiable', 'message',
    'metadata'}``; a choice the API refuses is ``valid`` False with the
    ``field`` and ``error`` it named. Raises :class:`sod.SodApiError` when
    the API (or Nova, for the flavor) cannot answer.
    """
    if options and properties is not None and not properties:
        return {'valid': False, 'field': PROPERTIES_KEY, 'refused': False,
                'error': 'choose confidentiality, integrity or both'}
    wanted = body(package, options, properties)
    if not wanted:
        return {'valid': True, 'request': NO_PROTECTION, 'options': [],
                'server_types': [], 'satisfiable': True, 'metadata': {}}
    asked = dict(wanted)
    if flavor_id:
        asked['guest'] = _guest(request, flavor_id)
    try:
        verdict = sod.check(request, asked)
    except sod.SodApiError as exc:
        if exc.status == 400 and exc.code in REFUSAL_CODES:
            return _refusal(exc, options)
        raise
    answer = {'valid': True, 'request': verdict['request']['text'],
              'matrix': verdict['request']['matrix'],
              'server_types': verdict.get('server_types', []),
              'metadata': verdict['metadata']}
    answer['satisfiable'] = any(t['usable_hosts']
                                for t in answer['server_types'])
    if not answer['satisfiable']:
        notes = _guest_notes(request, wanted, verdict) if flavor_id else []
        answer['guest_notes'] = notes
        answer['message'] = (
            '%s. The instance would not be scheduled.' % '. '.join(notes)
            if notes else _message(answer, verdict.get('explanation')))
    return answer
