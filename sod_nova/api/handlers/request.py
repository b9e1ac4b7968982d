"""``POST /requests/check``: fill the matrix and match it against Table III,
from 1.2 for the guest the VM would be launched as."""

from sod_nova.api import errors
from sod_nova.api import microversion
from sod_nova.api import util
from sod_nova.api.objects import host as host_obj
from sod_nova.api.objects import request as request_obj
from sod_nova.api.policies import request as policies
from sod_nova.api.schemas import request as schema
from sod_nova.catalog import guest as guest_mod
from sod_nova.policy import PolicyError
from sod_nova.policy import parse

#: The version from which the check takes a guest and names the rows that
#: protect only a guest launched for them.
GUEST_VERSION = (1, 2)


def _refuse_short_moving_target(conf, body):
    """400 when the body asks for a moving-target period below the
    operator's ``[sod_relocation] moving_target_min``, naming it."""
    if body.get('moving_target') is None:
        return
    try:
        parse.parse_moving_target(
            body['moving_target'],
            minimum=conf.sod_relocation.moving_target_min)
    except PolicyError as exc:
        raise util.ApiError(400, str(exc), errors.INVALID_SECURITY) from None


def parse_body(conf, catalog, body):
    """``(metadata, SecurityRequest)`` of a validated security body (the
    customer's choice alone, as ``PUT /servers/{id}/security`` writes it);
    400 if refused."""
    _refuse_short_moving_target(conf, body)
    metadata = request_obj.to_metadata(body)
    try:
        return metadata, request_obj.check(catalog, metadata).request
    except PolicyError as exc:
        raise util.ApiError(400, str(exc), errors.INVALID_SECURITY) from None


def _check(catalog, body, metadata):
    """The :class:`request_obj.Check` of a validated body; 400 if refused."""
    guest = body.get('guest')
    try:
        if guest is None:
            return request_obj.check(catalog, metadata)
        return request_obj.check(
            catalog, metadata, guest.get('extra_specs', {}),
            guest.get('image_properties'), guest.get('flavor'))
    except PolicyError as exc:
        raise util.ApiError(400, str(exc), errors.INVALID_SECURITY) from None


def _guest_view(answer, body):
    if answer.guest is None:
        return None
    return {'features': sorted(answer.guest),
            'description': guest_mod.describe(answer.guest),
            'flavor': body['guest'].get('flavor')}


@util.handler
def check_request(req):
    util.context(req).can(policies.CHECK)
    catalog = util.app(req).catalog
    version = microversion.requested(req.environ)
    with_guest = version >= GUEST_VERSION
    body = util.extract_json(req, schema.CHECK_1_2)
    if 'guest' in body and not with_guest:
        raise util.ApiError(
            400, "'guest' needs OpenStack-API-Version: %s %d.%d or later "
            "(this request asked for %s)" % (
                microversion.SERVICE_TYPE, *GUEST_VERSION, version),
            errors.MALFORMED)
    _refuse_short_moving_target(util.app(req).conf, body)
    metadata = request_obj.to_metadata(body)
    answer = _check(catalog, body, metadata)
    satisfied = answer.satisfied_by
    result = {
        'metadata': metadata,
        'request': {'matrix': answer.request.matrix(),
                    'text': answer.request.describe()},
        'satisfied_by': satisfied,
        'satisfiable': bool(satisfied),
        'explanation': answer.explanation,
    }
    if version >= (1, 1):
        result['server_types'] = host_obj.server_types(
            util.context(req), catalog, satisfied, answer.request,
            answer.guest)
    if with_guest:
        result['guest'] = _guest_view(answer, body)
        result['guest_conditions'] = [
            c.as_dict() for c in answer.fit.conditions]
    return util.json_response(result)
