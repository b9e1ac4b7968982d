"""What every handler shares: JSON in and out, errors with a code.

Handlers raise :class:`ApiError` (or let a domain exception be translated
by :func:`handler`); nothing below the handlers knows about HTTP. Input is
bounded here for every handler, and a 5xx names no internal detail.

See doc/source/contributor/api-and-cli.rst.
"""

import functools
import json

import jsonschema
from oslo_db import exception as db_exc
from oslo_log import log as logging
from oslo_middleware import request_id
import webob
import webob.dec
import webob.exc

from sod_nova import exception
from sod_nova.api import errors

LOG = logging.getLogger(__name__)

ENV_CONTEXT = 'sod_nova.context'
ENV_APP = 'sod_nova.app'

#: Deepest nesting of arrays and objects a JSON body or header may have;
#: the deepest the API reads is 3 (``guest.extra_specs`` of a check).
MAX_JSON_DEPTH = 10
#: Longest integer literal in JSON; 20 digits hold any 64-bit integer.
MAX_INTEGER_DIGITS = 20
#: Longest ``detail`` of an error: its head and tail are kept.
MAX_DETAIL = 400

_TITLES = {400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden',
           404: 'Not Found', 405: 'Method Not Allowed',
           406: 'Not Acceptable', 409: 'Conflict',
           413: 'Request Entity Too Large', 500: 'Internal Server Error', 502: 'Bad Gateway',
           503: 'Service Unavailable'}


class ApiError(exception.SodNovaException):
    """An HTTP error with a code of :mod:`sod_nova.api.errors`."""

    def __init__(self, status, detail, code=errors.DEFAULT, headers=None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code
        self.headers = headers or {}


#: What a 503 says of its cause, by code (the cause itself is logged).
_UNAVAILABLE = {errors.DATABASE_UNAVAILABLE: 'The database is unavailable',
                errors.NOVA_UNAVAILABLE: 'Nova is unavailable',
                errors.ATTESTATION_UNAVAILABLE:
                    'No attestation result can be issued'}


def _bounded(detail):
    """``detail`` on one line, at most :data:`MAX_DETAIL` characters: an
    error that quotes the request never echoes all of it back."""
    detail = ' '.join(str(detail).split())
    if len(detail) <= MAX_DETAIL:
        return detail
    half = (MAX_DETAIL - 5) // 2
    return '%s ... %s' % (detail[:half], detail[-half:])


def error_body(status, detail, code, environ=None, **extra):
    error = {'status': status, 'title': _TITLES.get(status, 'Error'),
             'detail': _bounded(detail), 'code': code}
    if environ and request_id.ENV_REQUEST_ID in environ:
        error['request_id'] = environ[request_id.ENV_REQUEST_ID]
    error.update(extra)
    return {'errors': [error]}


def error_response(status, detail, code, environ=None, headers=None,
                   **extra):
    response = webob.Response(
        status=status, content_type='application/json', charset='utf-8',
        json_body=error_body(status, detail, code, environ, **extra))
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def json_response(body, status=200):
    return webob.Response(status=status, content_type='application/json',
                          charset='utf-8', json_body=body)


def context(req):
    return req.environ[ENV_CONTEXT]


def app(req):
    """The :class:`sod_nova.api.deploy.Application` serving ``req``."""
    return req.environ[ENV_APP]


def path_item(req, name):
    return req.environ['wsgiorg.routing_args'][1][name]


def unavailable(cause, code, environ, headers=None):
    """A 503 that names what is unavailable; ``cause`` only in the log."""
    LOG.error('sod-nova-api: %(method)s %(path)s (%(rid)s) is a 503 '
              '%(code)s: %(cause)s',
              {'method': environ.get('REQUEST_METHOD'),
               'path': environ.get('PATH_INFO'),
               'rid': environ.get(request_id.ENV_REQUEST_ID),
               'code': code, 'cause': ' '.join(str(cause).split())})
    detail = '%s; its cause is in the service log under the request id.' % (
        _UNAVAILABLE.get(code, _TITLES[503]))
    return error_response(503, detail, code, environ, headers)


def handler(fn):
    """A WSGI app from ``fn(req)``: :class:`ApiError` becomes its JSON
    error; a 503's cause is logged, not answered (:func:`unavailable`)."""

    @webob.dec.wsgify
    @functools.wraps(fn)
    def wrapped(req):
        try:
            return fn(req)
        except ApiError as exc:
            if exc.status == 503:
                return unavailable(exc.detail, exc.code, req.environ,
                                   exc.headers)
            return error_response(exc.status, exc.detail, exc.code,
                                  req.environ, exc.headers)
        except db_exc.DBConnectionError as exc:
            return unavailable(exc, errors.DATABASE_UNAVAILABLE,
                               req.environ)
    return wrapped


def _integer(text):
    if len(text.lstrip('-')) > MAX_INTEGER_DIGITS:
        raise ValueError('an integer of %d digits (at most %d)' % (
            len(text.lstrip('-')), MAX_INTEGER_DIGITS))
    return int(text)


def _finite(text):
    number = float(text)
    if number in (float('inf'), float('-inf')):
        raise ValueError('%s is out of range' % text[:20])
    return number


def _constant(name):
    raise ValueError('%s is not a JSON value' % name)


def _unique_keys(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError('key %r is given twice' % key)
        result[key] = value
    return result


def _depth(data):
    """How deeply ``data``'s arrays and objects nest (iteratively)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        elif not isinstance(value, list):
            continue
        deepest = max(deepest, depth)
        stack.extend((item, depth + 1) for item in value)
    return deepest


def load_json(text, what='JSON'):
    """``text`` (bytes or str) as JSON, within the bounds above.

    Raises :class:`ApiError` 400 ``sod.request.malformed`` naming ``what``
    and the fault. json's decoder recurses per level: a text nested deeper
    than Python's stack allows is refused as one nested deeper than
    :data:`MAX_JSON_DEPTH` is.
    """
    too_deep = ApiError(400, 'Malformed %s: nested deeper than %d levels'
                        % (what, MAX_JSON_DEPTH), errors.MALFORMED)
    try:
        if isinstance(text, bytes):
            text = text.decode('utf-8')
        data = json.loads(text, parse_int=_integer, parse_float=_finite,
                          parse_constant=_constant,
                          object_pairs_hook=_unique_keys)
    except UnicodeDecodeError:
        raise ApiError(400, 'Malformed %s: not UTF-8 text' % what,
                       errors.MALFORMED) from None
    except RecursionError:
        raise too_deep from None
    except ValueError as exc:
        raise ApiError(400, 'Malformed %s: %s' % (what, exc),
                       errors.MALFORMED) from None
    if _depth(data) > MAX_JSON_DEPTH:
        raise too_deep
    return data


def extract_json(req, schema):
    """The request body as JSON, validated against ``schema`` (400 if not).

    The body's size is bounded before it gets here
    (:class:`~sod_nova.api.deploy.BodySizeLimit`); its shape by
    :func:`load_json`.
    """
    data = load_json(req.body or b'null')
    validate(data, schema, 'JSON does not validate')
    return data


def validate(data, schema, what):
    try:
        jsonschema.validate(data, schema,
                            format_checker=jsonschema.FormatChecker())
    except jsonschema.ValidationError as exc:
        where = '/'.join(str(p) for p in exc.absolute_path)
        raise ApiError(400, '%s: %s%s' % (
            what, exc.message, ' (at %s)' % where if where else ''),
            errors.MALFORMED) from None


def query(req, schema):
    """The query string as a dict of single values, validated (400 if not)."""
    try:
        given = req.GET
    except UnicodeDecodeError:
        raise ApiError(400, 'The query string is not UTF-8 text',
                       errors.MALFORMED) from None
    params = {}
    for key in given:
        values = given.getall(key)
        if len(values) > 1:
            raise ApiError(400, 'Query parameter %s given %d times'
                           % (key, len(values)), errors.MALFORMED)
        params[key] = values[0]
    validate(params, schema, 'Invalid query string parameters')
    return params
