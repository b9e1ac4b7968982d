"""What a VM asks for and what it is launched as: its effective request.

The most restrictive union of the flavor's extra specs, the image's
properties, the instance metadata and the scheduler hints, so no source can
weaken another; a malformed source makes it :data:`STRICTEST` (fail closed).
Where the keys are: ``doc/source/contributor/architecture-notes.rst``.
"""

import dataclasses

from sod_nova.catalog import guest as guest_mod
from sod_nova.policy import EMPTY
from sod_nova.policy import PolicyError
from sod_nova.policy import SecurityRequest
from sod_nova.policy import parse
from sod_nova.policy.entities import Entity
from sod_nova.policy.entities import Property

#: What a VM with a malformed request source is held to: every cell a
#: request may ask for (option 4 is refused in this framework).
STRICTEST = SecurityRequest.from_options(
    [e for e in Entity if e.option not in parse.REFUSED_OPTIONS],
    (Property.C, Property.I))

#: The prefix Nova gives image properties in an instance's system metadata.
IMAGE_SYSMETA_PREFIX = 'image_'
HINT_PREFIX = 'sod_'

FLAVOR = 'flavor extra spec'
IMAGE = 'image property'
METADATA = 'instance metadata'
HINT = 'scheduler hint'


@dataclasses.dataclass(frozen=True)
class Effective:
    """A VM's effective request, moving-target period, launch features,
    and the malformed sources that made the request :data:`STRICTEST`."""

    request: SecurityRequest = EMPTY
    moving_target: int | None = None
    guest: frozenset = frozenset()
    errors: tuple = ()
    #: The moves the VM accepts, in order, where a source states them
    #: (every stating source must accept a move); None: the operator's.
    remediation: tuple | None = None

    @property
    def malformed(self):
        return bool(self.errors)


NONE = Effective()


def _hint_mapping(hints):
    """Nova keeps every hint as a list of strings; ``1,2`` and ``[1, 2]`` agree."""
    mapping = {}
    for key, value in (hints or {}).items():
        if not isinstance(key, str):
            continue
        if key.startswith(parse.PREFIX):
            raise PolicyError(
                '%s %s' % (HINT, key), 'scheduler hints are spelled %s%s' % (
                    HINT_PREFIX, key[len(parse.PREFIX):]))
        if key.startswith(HINT_PREFIX):
            if isinstance(value, (list, tuple)):
                value = ','.join(str(v) for v in value)
            mapping[key] = value
    return mapping


def image_properties_from_sysmeta(system_metadata):
    """The image's properties as Nova keeps them in system metadata."""
    return {key[len(IMAGE_SYSMETA_PREFIX):]: value
            for key, value in (system_metadata or {}).items()
            if key.startswith(IMAGE_SYSMETA_PREFIX)}


def effective(packages, flavor_extra_specs=None, image_properties=None,
              metadata=None, hints=None):
    """The :class:`Effective` request of a VM from its sources.

    ``packages`` maps package names to requests (the catalogue's);
    ``image_properties`` are the image's own keys (``sod:options``,
    ``hw_mem_encryption``…). Never raises for a malformed source.
    """
    request = EMPTY
    periods, errors, ladders = [], [], []
    sources = ((FLAVOR, parse.PREFIX, flavor_extra_specs),
               (IMAGE, parse.PREFIX, image_properties),
               (METADATA, parse.PREFIX, metadata),
               (HINT, HINT_PREFIX, hints))
    for label, prefix, mapping in sources:
        try:
            if label == HINT:
                mapping = _hint_mapping(mapping)
            request |= parse.parse_request(mapping, packages, prefix)
            period = parse.moving_target(mapping, prefix)
            ladder = parse.remediation(mapping, prefix)
        except PolicyError as exc:
            field = exc.field if exc.field.startswith(HINT) else '%s %s' % (
                label, exc.field)
            errors.append('%s: %s' % (field, exc.reason))
            continue
        if period:
            periods.append(period)
        if ladder is not None:
            ladders.append(ladder)
    if errors:
        request = STRICTEST
    return Effective(request, min(periods) if periods else None,
                     guest_mod.features(flavor_extra_specs, image_properties),
                     tuple(errors), _agreed(ladders))


def _agreed(ladders):
    """The moves every stated ladder accepts, in the customer's order (the
    last source that states one: metadata over image over flavor)."""
    if not ladders:
        return None
    return tuple(move for move in ladders[-1]
                 if all(move in ladder for ladder in ladders))
