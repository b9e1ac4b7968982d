"""``GET /hosts/{name}/attestation``: a host's verdict as a signed EAR
(operator, from 1.3); ``GET /.well-known/jwks.json``: the keys that verify
it (anybody, no token, as the version document)."""

from sod_nova.api import errors
from sod_nova.api import microversion
from sod_nova.api import util
from sod_nova.api.handlers import host as host_handler
from sod_nova.api.objects import host as host_obj
from sod_nova.api.policies import attestation as policies
from sod_nova.api.schemas import attestation as schema
from sod_nova.db import api as db_api
from sod_nova.trust import ear

#: The first microversion with ``GET /hosts/{name}/attestation``.
ATTESTATION_VERSION = (1, 3)
#: Where relying parties find the public keys (RFC 8615 well-known URI,
#: the JWKS name OpenID Connect made customary).
JWKS_PATH = '/.well-known/jwks.json'


@util.handler
def show_attestation(req):
    if microversion.requested(req.environ) < ATTESTATION_VERSION:
        raise util.ApiError(404, 'The resource %s could not be found.'
                            % req.path_info, errors.NOT_FOUND)
    context = util.context(req)
    context.can(policies.SHOW)
    nonce = util.query(req, schema.SHOW_QUERY).get('nonce')
    name = util.path_item(req, 'name')
    row = host_obj.get(context, name)
    if row is None:
        raise host_handler.not_found(name)
    signer = util.app(req).ear_signer
    if signer is None:
        raise util.ApiError(503, 'no [sod_attestation] signing_key_file is '
                            'configured', errors.ATTESTATION_UNAVAILABLE)
    now = db_api.now()
    state, reason = row.state_at(now)   # the row as every reader sees it now
    token = ear.issue(signer, row.host, state, reason, row.capability_mask,
                      row.last_evidence_at, now.timestamp(), nonce)
    return util.json_response({'attestation': {
        'host': row.host, 'ear': token, 'media_type': ear.MEDIA_TYPE,
        'kid': signer.kid}})


@util.handler
def jwks(req):
    signer = util.app(req).ear_signer
    response = util.json_response(ear.jwks([signer] if signer else []))
    response.content_type = 'application/jwk-set+json'
    return response
