"""Query of ``GET /hosts/{name}/attestation``."""

#: ``nonce``: the relying party's, echoed as ``eat_nonce`` (EAT's JSON
#: nonce: a text of 10 to 74 characters; base64url keeps it in a URL).
SHOW_QUERY = {
    'type': 'object',
    'properties': {
        'nonce': {'type': 'string', 'pattern': '^[A-Za-z0-9_-]{10,74}$'},
    },
    'additionalProperties': False,
}
