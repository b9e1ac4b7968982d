"""Error codes of sod-nova-api: every error body names one.

An error is ``{"errors": [{"status", "title", "detail", "code",
"request_id"}]}`` as the API working group's guideline (and Placement)
have it; clients branch on ``code``, never on the wording of ``detail``.
"""

DEFAULT = 'sod.undefined_code'
INTERNAL = 'sod.internal_error'
NOT_FOUND = 'sod.not_found'
METHOD_NOT_ALLOWED = 'sod.method_not_allowed'
UNAUTHENTICATED = 'sod.unauthenticated'
FORBIDDEN = 'sod.policy.forbidden'
MALFORMED = 'sod.request.malformed'
TOO_LARGE = 'sod.request.too_large'
INVALID_SECURITY = 'sod.security.invalid'
UNSATISFIABLE = 'sod.security.unsatisfiable'
HOST_NOT_FOUND = 'sod.host.not_found'
ATTESTATION_UNAVAILABLE = 'sod.attestation.unavailable'
ARCHITECTURE_NOT_FOUND = 'sod.architecture.not_found'
SERVER_NOT_FOUND = 'sod.server.not_found'
NOVA_REFUSED = 'sod.nova.refused'
NOVA_UNAVAILABLE = 'sod.nova.unavailable'
DATABASE_UNAVAILABLE = 'sod.database.unavailable'
MICROVERSION_UNSUPPORTED = 'sod.microversion.unsupported'
MICROVERSION_MALFORMED = 'sod.microversion.malformed'
