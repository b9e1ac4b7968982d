"""Body of ``POST /requests/check`` (and of ``PUT /servers/{id}/security``):
the customer's choice in the words of the paper; from 1.2 the check also
takes the guest the VM would be launched as."""

from sod_nova.policy import parse

OPTION = {'type': 'integer', 'minimum': 1, 'maximum': 7}

SECURITY = {
    'type': 'object',
    'properties': {
        'options': {'type': 'array', 'items': OPTION, 'uniqueItems': True,
                    'minItems': 1},
        'properties': {'type': 'array', 'uniqueItems': True, 'minItems': 1,
                       'items': {'type': 'string', 'enum': ['C', 'I']}},
        'package': {'type': 'string', 'minLength': 1, 'maxLength': 255},
        'moving_target': {'type': 'integer', 'minimum': 1,
                          'maximum': parse.MAX_MOVING_TARGET},
        # The VM's remediation ladder (sod:remediation): the moves it
        # accepts, in order, before the no-host action.
        'remediation': {'type': 'array', 'uniqueItems': True, 'minItems': 1,
                        'items': {'type': 'string',
                                  'enum': ['live', 'cold']}},
    },
    'additionalProperties': False,
}

CHECK = dict(SECURITY, minProperties=1)

#: Keys and values as Nova and Glance keep them (255 characters at most).
_KEY = {'type': 'string', 'minLength': 1, 'maxLength': 255}
_TEXT = {'type': 'string', 'maxLength': 255}

#: The guest a VM booted with this flavor (and image) is launched as.
GUEST = {
    'type': 'object',
    'properties': {
        # The flavor's name, only for the answer's words.
        'flavor': _KEY,
        'extra_specs': {'type': 'object', 'propertyNames': _KEY,
                        'additionalProperties': _TEXT},
        'image_properties': {
            'type': 'object', 'propertyNames': _KEY,
            'additionalProperties': {'anyOf': [_TEXT, {'type': 'boolean'}]}},
    },
    'additionalProperties': False,
}

CHECK_1_2 = dict(CHECK, properties=dict(SECURITY['properties'], guest=GUEST))
