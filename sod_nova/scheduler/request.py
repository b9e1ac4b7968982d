"""A VM's effective security request: the union of its four sources.

The operator's floor (flavor extra specs), the image's properties, the
customer's instance metadata (the paper's place for the request) and
scheduler hints each may carry a request; the VM gets the most restrictive
union of them, so no source can weaken another. Each source is parsed on its
own, so a malformed value is reported with the place it came from.

Where the keys are:

* flavor extra specs and instance metadata: ``sod:options``,
  ``sod:properties``, ``sod:package``, ``sod:moving_target``;
* image properties: the same keys on the Glance image. Nova's
  ``ImageMetaProps`` has fixed fields and drops them, but Nova copies every
  image property into the instance's system metadata as ``image_<key>``, so
  they are read from there (``image_sod:options``…);
* scheduler hints: ``sod_options``, ``sod_properties``, ``sod_package``,
  ``sod_moving_target`` (snake_case, like Nova's own hints;
  ``openstack server create --hint sod_options=1,2``). A hint spelled
  ``sod:…`` is refused rather than ignored, so it cannot silently drop a
  protection.
"""

from sod_nova.policy import EMPTY
from sod_nova.policy import PolicyError
from sod_nova.policy import parse

#: The prefix Nova gives image properties in an instance's system metadata.
IMAGE_SYSMETA_PREFIX = 'image_'
HINT_PREFIX = 'sod_'


def _labelled(source, prefix, mapping, packages):
    try:
        return parse.parse_request(mapping, packages, prefix)
    except PolicyError as exc:
        raise PolicyError('%s %s' % (source, exc.field), exc.reason) from None


def image_properties(system_metadata):
    """The ``sod:`` image properties kept in an instance's system metadata."""
    return {key[len(IMAGE_SYSMETA_PREFIX):]: value
            for key, value in (system_metadata or {}).items()
            if key.startswith(IMAGE_SYSMETA_PREFIX + parse.PREFIX)}


def _hint_mapping(hints):
    """Nova keeps every hint as a list of strings; ``1,2`` and ``[1, 2]`` agree."""
    mapping = {}
    for key, value in (hints or {}).items():
        if not isinstance(key, str):
            continue
        if key.startswith(parse.PREFIX):
            raise PolicyError(
                'scheduler hint %s' % key,
                'scheduler hints are spelled %s%s' % (
                    HINT_PREFIX, key[len(parse.PREFIX):]))
        if key.startswith(HINT_PREFIX):
            if isinstance(value, (list, tuple)):
                value = ','.join(str(v) for v in value)
            mapping[key] = value
    return mapping


def effective_request(packages, flavor_extra_specs=None, system_metadata=None,
                      metadata=None, hints=None):
    """The union of the requests of the four sources.

    ``packages`` maps package names to requests (the catalogue's).
    Raises :class:`PolicyError` whose ``field`` names the source and key.
    """
    request = EMPTY
    request |= _labelled('flavor extra spec', parse.PREFIX,
                         flavor_extra_specs, packages)
    request |= _labelled('image property', parse.PREFIX,
                         image_properties(system_metadata), packages)
    request |= _labelled('instance metadata', parse.PREFIX, metadata, packages)
    request |= _labelled('scheduler hint', HINT_PREFIX,
                         _hint_mapping(hints), packages)
    return request
