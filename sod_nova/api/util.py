"""What every handler shares: JSON in and out, errors with a code.

Handlers raise :class:`ApiError` (or let a domain exception be translated
by :func:`handler`); nothing below the handlers knows about HTTP.
"""

import functools
import json

import jsonschema
from oslo_db import exception as db_exc
from oslo_middleware import request_id
import webob
import webob.dec
import webob.exc

from sod_nova import exception
from sod_nova.api import errors

ENV_CONTEXT = 'sod_nova.context'
ENV_APP = 'sod_nova.app'

_TITLES = {400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden',
           404: 'Not Found', 405: 'Method Not Allowed',
           406: 'Not Acceptable', 409: 'Conflict',
           500: 'Internal Server Error', 502: 'Bad Gateway',
           503: 'Service Unavailable'}


class ApiError(exception.SodNovaException):
    """An HTTP error with a code of :mod:`sod_nova.api.errors`."""

    def __init__(self, status, detail, code=errors.DEFAULT, headers=None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code
        self.headers = headers or {}


def error_body(status, detail, code, environ=None, **extra):
    error = {'status': status, 'title': _TITLES.get(status, 'Error'),
             'detail': detail, 'code': code}
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


def handler(fn):
    """A WSGI app from ``fn(req)``: :class:`ApiError` becomes its JSON error."""

    @webob.dec.wsgify
    @functools.wraps(fn)
    def wrapped(req):
        try:
            return fn(req)
        except ApiError as exc:
            return error_response(exc.status, exc.detail, exc.code,
                                  req.environ, exc.headers)
        except db_exc.DBConnectionError as exc:
            return error_response(503, 'The database is unavailable: %s'
                                  % exc, errors.DATABASE_UNAVAILABLE,
                                  req.environ)
    return wrapped


def extract_json(req, schema):
    """The request body as JSON, validated against ``schema`` (400 if not)."""
    try:
        data = json.loads(req.body or b'null')
    except ValueError as exc:
        raise ApiError(400, 'Malformed JSON: %s' % exc,
                       errors.MALFORMED) from None
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
    params = {}
    for key in req.GET:
        values = req.GET.getall(key)
        if len(values) > 1:
            raise ApiError(400, 'Query parameter %s given %d times'
                           % (key, len(values)), errors.MALFORMED)
        params[key] = values[0]
    validate(params, schema, 'Invalid query string parameters')
    return params
