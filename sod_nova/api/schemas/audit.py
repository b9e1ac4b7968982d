"""Query string of ``GET /audit``: ``marker`` (last seq seen) and ``limit``."""

LIST = {
    'type': 'object',
    'properties': {
        'marker': {'type': 'string', 'pattern': '^[0-9]{1,18}$'},
        'limit': {'type': 'string', 'pattern': '^[1-9][0-9]{0,8}$'},
    },
    'additionalProperties': False,
}
