"""Body of ``POST /requests/check`` (and of ``PUT /servers/{id}/security``):
the customer's choice in the words of the paper."""

OPTION = {'type': 'integer', 'minimum': 1, 'maximum': 7}

SECURITY = {
    'type': 'object',
    'properties': {
        'options': {'type': 'array', 'items': OPTION, 'uniqueItems': True,
                    'minItems': 1},
        'properties': {'type': 'array', 'uniqueItems': True, 'minItems': 1,
                       'items': {'type': 'string', 'enum': ['C', 'I']}},
        'package': {'type': 'string', 'minLength': 1, 'maxLength': 255},
        'moving_target': {'type': 'integer', 'minimum': 1},
    },
    'additionalProperties': False,
}

CHECK = dict(SECURITY, minProperties=1)
