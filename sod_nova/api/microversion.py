"""API versions of sod-nova-api (``OpenStack-API-Version: security-on-demand 1.0``).

Like Placement, a request names the version it wants in the standard
header; without one it gets the minimum, ``latest`` gets the maximum, and a
version the service does not have is a 406 naming the range.

Version history:

* 1.0 -- hosts, catalogue, request check, server security (show and set),
  audit trail, compliance reports.
* 1.1 -- ``POST /requests/check`` also answers ``server_types``: for each
  satisfying architecture, how many of this cloud's hosts are of that type
  and how many are trusted with fresh evidence and able to take the request
  now (counts only, never host names), so that a customer can be told
  before launching that no server here would take it.
* 1.2 -- ``POST /requests/check`` takes ``guest``: ``{"flavor": name,
  "extra_specs": {...}, "image_properties": {...}}``, the guest a VM booted
  with that flavor (and image) is launched as. The flavor's and image's
  ``sod:`` keys join the request; ``satisfied_by`` (and ``server_types``)
  then name only the rows that protect that guest, and a launch key Nova
  would refuse is a 400. The answer adds ``guest`` (its launch
  ``features``, their ``description`` and the ``flavor`` name; null without
  ``guest``) and ``guest_conditions``: each row that protects only a guest
  launched for it (``name``, ``feature``, ``launch_with``, ``launchable``,
  ``source``, ``met``, ``sentence``) and would satisfy the request for such
  a guest: without ``guest`` every such row in ``satisfied_by`` (``met``
  null), with it those this guest is not launched for (``met`` false, the
  ``sentence`` ending "flavor m1.small does not ask for it").
"""

import microversion_parse

from sod_nova.api import errors
from sod_nova.api import util

SERVICE_TYPE = 'security-on-demand'
ENVIRON = 'sod_nova.microversion'
VERSIONS = ['1.0', '1.1', '1.2']


def requested(environ):
    """The :class:`microversion_parse.Version` a request asked for."""
    return environ[ENVIRON]


def min_version():
    return VERSIONS[0]


def max_version():
    return VERSIONS[-1]


class MicroversionMiddleware:
    """Put the requested :class:`microversion_parse.Version` in the environ
    and echo it in the response; a bad or unknown version is a JSON error."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        headers = {k[5:].replace('_', '-').lower(): v
                   for k, v in environ.items() if k.startswith('HTTP_')}
        try:
            version = microversion_parse.extract_version(
                headers, SERVICE_TYPE, VERSIONS)
        except ValueError as exc:
            return util.error_response(
                406, 'Invalid microversion: %s (this service has %s to %s)'
                % (exc, min_version(), max_version()),
                errors.MICROVERSION_UNSUPPORTED, environ,
                min_version=min_version(), max_version=max_version(),
            )(environ, start_response)
        except TypeError as exc:
            return util.error_response(
                400, 'Invalid microversion: %s' % exc,
                errors.MICROVERSION_MALFORMED, environ)(environ, start_response)
        environ[ENVIRON] = version
        value = '%s %s' % (SERVICE_TYPE, version)

        def replacement_start_response(status, headers, exc_info=None):
            headers = list(headers) + [
                (microversion_parse.STANDARD_HEADER, value),
                ('Vary', microversion_parse.STANDARD_HEADER)]
            return start_response(status, headers, exc_info)

        return self.application(environ, replacement_start_response)
