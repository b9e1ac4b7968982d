"""``POST /requests/check``: fill the matrix and match it against Table III."""

from sod_nova.api import errors
from sod_nova.api import microversion
from sod_nova.api import util
from sod_nova.api.objects import host as host_obj
from sod_nova.api.objects import request as request_obj
from sod_nova.api.policies import request as policies
from sod_nova.api.schemas import request as schema
from sod_nova.catalog import request_for
from sod_nova.policy import PolicyError


def parse_body(catalog, body):
    """``(metadata, SecurityRequest)`` of a validated body; 400 if refused."""
    metadata = request_obj.to_metadata(body)
    try:
        return metadata, request_for(catalog, metadata)
    except PolicyError as exc:
        raise util.ApiError(400, str(exc), errors.INVALID_SECURITY) from None


@util.handler
def check_request(req):
    util.context(req).can(policies.CHECK)
    catalog = util.app(req).catalog
    body = util.extract_json(req, schema.CHECK)
    metadata, request = parse_body(catalog, body)
    satisfied = catalog.satisfying(request)
    body = {
        'metadata': metadata,
        'request': {'matrix': request.matrix(), 'text': request.describe()},
        'satisfied_by': satisfied,
        'satisfiable': bool(satisfied),
        'explanation': catalog.explain(request),
    }
    if microversion.requested(req.environ) >= (1, 1):
        body['server_types'] = host_obj.server_types(
            util.app(req).conf, catalog, satisfied, request)
    return util.json_response(body)
