"""API versions of sod-nova-api (``OpenStack-API-Version: security-on-demand 1.0``).

As Placement's: no header gets the minimum, ``latest`` the maximum, and a
version the service does not have is a 406 naming the range. The version
history is in doc/source/contributor/api-and-cli.rst.
"""

import microversion_parse

from sod_nova.api import errors
from sod_nova.api import util

SERVICE_TYPE = 'security-on-demand'
ENVIRON = 'sod_nova.microversion'
VERSIONS = ['1.0', '1.1', '1.2', '1.3']


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
