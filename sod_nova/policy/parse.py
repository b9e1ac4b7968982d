"""Parse a security request from key/value metadata, with precise errors.

The same ``sod:`` keys are read wherever a policy comes from (flavor, image,
instance metadata, hints, scenarios, the CLI); anything else under ``sod:``
is refused, so that a typo never silently drops a protection.
See doc/source/contributor/api-and-cli.rst.
"""

from sod_nova import exception
from sod_nova.policy.entities import Entity
from sod_nova.policy.entities import Property
from sod_nova.policy.request import EMPTY
from sod_nova.policy.request import SecurityRequest

PREFIX = 'sod:'
OPTIONS = 'options'
PROPERTIES = 'properties'
PACKAGE = 'package'
MOVING_TARGET = 'moving_target'
REMEDIATION = 'remediation'
KEYS = (OPTIONS, PROPERTIES, PACKAGE, MOVING_TARGET, REMEDIATION)

#: The moves a remediation ladder may name: live migration, and cold
#: migration (the guest is stopped and started again on its new host).
MOVES = ('live', 'cold')

REFUSED_OPTIONS = {
    Entity.CLOUD_MANAGER.option: (
        'option 4 (Cloud Manager) is refused: the cloud manager is trusted '
        'in this framework (paper §V)'),
}


class PolicyError(exception.SodNovaException, ValueError):
    """A malformed security request; ``field`` names the offending key.

    ``refused`` is True when the value is well-formed but this framework
    refuses it (option 4), so callers can tell a typo from a policy decision.
    """

    def __init__(self, field, message, refused=False):
        super().__init__('%s: %s' % (field, message))
        self.field = field
        self.reason = message
        self.refused = refused


#: Most characters of a caller's value a message quotes.
SHOWN = 40


def _cut(text):
    """``text`` as a message quotes it: at most :data:`SHOWN` characters,
    so that a huge value never makes a huge message."""
    text = str(text)
    return text if len(text) <= SHOWN else text[:SHOWN] + '...'


def _items(field, value):
    """Split ``'1, 2'`` or ``[1, 2]`` into stripped strings, refusing blanks."""
    if value is None:
        raise PolicyError(field, 'empty value')
    if isinstance(value, (list, tuple)):
        items = [str(v).strip() for v in value]
    else:
        items = [v.strip() for v in str(value).split(',')]
    if not any(items):
        raise PolicyError(field, 'empty value')
    if not all(items):
        raise PolicyError(field, 'empty item in %s' % _cut(repr(value)))
    seen = set()
    for item in items:
        if item.upper() in seen:
            raise PolicyError(field, '%s is given twice' % _cut(item))
        seen.add(item.upper())
    return items


def parse_options(value, field=PREFIX + OPTIONS):
    """``'1,2'`` → ``(Entity.OTHER_VMS, Entity.HYPERVISOR)``."""
    numbers = []
    for item in _items(field, value):
        try:
            number = int(item)
        except ValueError:
            number = 0
        if not 1 <= number <= len(Entity):
            raise PolicyError(field, '%s is not an option (1-7)' % _cut(item))
        numbers.append(number)
    for number in numbers:
        if number in REFUSED_OPTIONS:
            raise PolicyError(field, REFUSED_OPTIONS[number], refused=True)
    return tuple(Entity(n) for n in numbers)


def parse_properties(value, field=PREFIX + PROPERTIES):
    """``'C,I'`` → ``(Property.C, Property.I)``."""
    result = []
    for item in _items(field, value):
        try:
            result.append(Property.from_letter(item))
        except ValueError:
            raise PolicyError(field, '%s is not a property (C, I)'
                              % _cut(repr(item))) from None
    return tuple(result)


def parse_package(value, packages, field=PREFIX + PACKAGE):
    """Look a package name up (case-insensitively) in ``packages``."""
    name = str(value).strip() if value is not None else ''
    if not name:
        raise PolicyError(field, 'empty value')
    by_lower = {k.lower(): v for k, v in packages.items()}
    if name.lower() not in by_lower:
        raise PolicyError(field, '%s is not a security package (known: %s)' % (
            _cut(repr(name)), ', '.join(sorted(packages)) or 'none'))
    return by_lower[name.lower()]


#: Longest moving-target period, in seconds (a year): longer is no moving
#: target, and a bound keeps every later time computation finite.
MAX_MOVING_TARGET = 365 * 24 * 3600


def parse_moving_target(value, field=PREFIX + MOVING_TARGET, minimum=1):
    """The moving-target period in whole seconds (> 0, at most a year).

    ``minimum``: the shortest period the caller accepts (the operator's
    ``[sod_relocation] moving_target_min`` where a request is written; the
    security model reads no configuration). A shorter one is refused with
    the minimum named.
    """
    try:
        seconds = int(str(value).strip())
    except ValueError:
        raise PolicyError(
            field, '%s is not a number of seconds' % _cut(repr(value))) from None
    if seconds <= 0:
        raise PolicyError(field, 'must be a positive number of seconds')
    if seconds > MAX_MOVING_TARGET:
        raise PolicyError(field, 'must be at most %d seconds (a year)'
                          % MAX_MOVING_TARGET)
    if seconds < minimum:
        raise PolicyError(
            field, '%d is below the minimum moving-target period of %d '
            'seconds' % (seconds, minimum), refused=True)
    return seconds


def parse_remediation(value, field=PREFIX + REMEDIATION):
    """``'live,cold'`` → ``('live', 'cold')``: the moves a VM accepts, in
    order; the no-host action always follows them."""
    moves = []
    for item in _items(field, value):
        move = item.lower()
        if move not in MOVES:
            raise PolicyError(field, '%s is not a move (one of: %s)' % (
                item, ', '.join(MOVES)))
        moves.append(move)
    return tuple(moves)


def policy_items(mapping, prefix=PREFIX):
    """The ``prefix``-ed items of ``mapping`` with the prefix stripped."""
    return {k[len(prefix):]: v for k, v in (mapping or {}).items()
            if isinstance(k, str) and k.startswith(prefix)}


def parse_request(mapping, packages, prefix=PREFIX):
    """Return the :class:`SecurityRequest` that ``mapping`` asks for.

    ``mapping`` is any key/value dict (metadata, extra specs, hints); only
    keys starting with ``prefix`` are read. ``packages`` maps package names
    to requests. No ``prefix`` key at all is no request (:data:`EMPTY`).
    Options and package combine as a union; ``properties`` applies to the
    listed options (a package carries its own properties).
    """
    items = policy_items(mapping, prefix)
    for key in items:
        if key not in KEYS:
            raise PolicyError(prefix + key, 'unknown key (known: %s)' % (
                ', '.join(prefix + k for k in KEYS)))
    if not items:
        return EMPTY
    request = EMPTY
    if OPTIONS in items:
        props = (parse_properties(items[PROPERTIES], prefix + PROPERTIES)
                 if PROPERTIES in items else (Property.C, Property.I))
        request |= SecurityRequest.from_options(
            parse_options(items[OPTIONS], prefix + OPTIONS), props)
    elif PROPERTIES in items:
        raise PolicyError(prefix + PROPERTIES,
                          'given without %soptions' % prefix)
    if PACKAGE in items:
        request |= parse_package(items[PACKAGE], packages, prefix + PACKAGE)
    if MOVING_TARGET in items:
        parse_moving_target(items[MOVING_TARGET], prefix + MOVING_TARGET)
    if REMEDIATION in items:
        parse_remediation(items[REMEDIATION], prefix + REMEDIATION)
    return request


def moving_target(mapping, prefix=PREFIX):
    """The moving-target period asked for in ``mapping``, or None."""
    items = policy_items(mapping, prefix)
    if MOVING_TARGET not in items:
        return None
    return parse_moving_target(items[MOVING_TARGET], prefix + MOVING_TARGET)


def remediation(mapping, prefix=PREFIX):
    """The remediation ladder asked for in ``mapping``, or None."""
    items = policy_items(mapping, prefix)
    if REMEDIATION not in items:
        return None
    return parse_remediation(items[REMEDIATION], prefix + REMEDIATION)
