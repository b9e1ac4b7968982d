"""Query strings of the compliance reports: the time window."""

_TIME = {'type': 'string', 'minLength': 1, 'maxLength': 64}

SHOW = {
    'type': 'object',
    'properties': {'start': _TIME, 'end': _TIME},
    'additionalProperties': False,
}

LIST = {
    'type': 'object',
    'properties': {'start': _TIME, 'end': _TIME,
                   'all_projects': {'type': 'string',
                                    'enum': ['0', '1', 'true', 'false',
                                             'True', 'False']}},
    'additionalProperties': False,
}
