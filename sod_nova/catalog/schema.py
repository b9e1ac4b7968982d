"""The catalogue's data files checked against their JSON Schemas.

``data/<name>.schema.json`` states the structure of each data file; the
first error is told as one line naming the field, in the words of the
schema's ``x-messages`` (what a schema cannot say is left to the loader).
"""

import functools
import importlib.resources
import json

import jsonschema

DATA = 'sod_nova.catalog.data'
#: JSON Schema's type names as an error says them.
_TYPES = {'object': 'a mapping', 'array': 'a list', 'string': 'a string',
          'integer': 'an integer', 'number': 'a number',
          'boolean': 'a boolean'}


def shown(text):
    """``text`` for an error line, cut short."""
    return text if len(text) <= 40 else text[:40] + '...'


@functools.cache
def validator(name):
    """The validator of the schema ``name`` in the data package (read once)."""
    schema = json.loads(importlib.resources.files(DATA).joinpath(
        name).read_text(encoding='utf-8'))
    return jsonschema.Draft202012Validator(schema)


def first_error(name, doc, where):
    """None if ``doc`` follows the schema ``name``, else its first error as
    ``'<where(path)>: <message>'``, ``path`` being jsonschema's path to the
    value at fault (``['architectures', 0, 'cells']``). A missing or unknown
    key is named after that path."""
    error = next(validator(name).iter_errors(doc), None)
    if error is None:
        return None
    path, keyword, instance = list(error.absolute_path), error.validator, error.instance
    allowed = list(error.schema.get('properties', ()))
    key = None
    if keyword == 'additionalProperties':
        key = next(k for k in instance if k not in allowed)
        default = 'unknown key (one of: %s)' % ', '.join(allowed)
    elif keyword == 'required':
        key = next(k for k in error.validator_value if k not in instance)
        default = 'missing'
    elif keyword == 'type' and instance is None:
        default = 'missing'
    elif keyword == 'type':
        types = error.validator_value
        types = [types] if isinstance(types, str) else types
        default = 'must be %s, not %s' % (' or '.join(
            _TYPES[t] for t in types if t != 'null'), type(instance).__name__)
    else:
        default = shown(' '.join(error.message.split()))
    message = error.schema.get('x-messages', {}).get(keyword)
    if isinstance(message, dict):     # per key: {"required": {"source": ...}}
        message = message.get(key)
    if message is None:
        message = default
    else:
        message %= {'allowed': ', '.join(allowed), 'value': shown(repr(instance))}
    location = where(path)
    if key is not None and path:
        location = '%s.%s' % (location, shown(str(key)))
    return '%s: %s' % (location, message)
