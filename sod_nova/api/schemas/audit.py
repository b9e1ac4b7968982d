"""Query string of ``GET /audit``: ``marker`` (last seq seen), ``limit`` and
``expect_head`` (a head hash the caller kept: the page is broken unless the
chain still holds it)."""

LIST = {
    'type': 'object',
    'properties': {
        'marker': {'type': 'string', 'pattern': '^[0-9]{1,18}$'},
        'limit': {'type': 'string', 'pattern': '^[1-9][0-9]{0,8}$'},
        'expect_head': {'type': 'string', 'pattern': '^[0-9a-f]{64}$'},
    },
    'additionalProperties': False,
}
