"""The plugin's one door to sod-nova: sod-nova-api, with the user's token.

Every answer comes from sod-nova-api, which applies sod-nova's own parser,
catalogue, freshness rule and policy, and reaches Nova with the same token,
so the Dashboard can never tell a user something the scheduler would not do
or show them what the API's policy hides (host names to a project, the
audit trail to anybody but the operator). Nothing here opens sod-nova's
database or configuration files.

The API is found as Horizon finds every service: by its type,
``security-on-demand``, in the logged-in user's service catalog
(:func:`openstack_dashboard.api.base.url_for`). Django settings may
override that:

``SOD_API_URL``
    the endpoint to use instead of the catalog's (default: None);
``SOD_API_INTERFACE``
    the catalog interface to pick (default: ``OPENSTACK_ENDPOINT_TYPE``).

Errors of the API (``{"errors": [{"status", "code", "detail"}]}``) are
raised as :class:`SodApiError`, whose text is the API's ``detail``: the
views show it as a Horizon message.
"""

from django.conf import settings
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint
from openstack_dashboard.api import base

SERVICE_TYPE = 'security-on-demand'
#: 1.1: the request check counts this cloud's hosts per server type;
#: 1.2: it answers for the guest the chosen flavor launches.
API_VERSION = '%s 1.2' % SERVICE_TYPE
TIMEOUT = 60


class SodApiError(Exception):
    """sod-nova-api refused or failed a call: ``status``, ``code``, text."""

    def __init__(self, status, detail, code=None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code


def endpoint(request):
    """The URL of sod-nova-api for ``request``'s user (see the module doc)."""
    url = getattr(settings, 'SOD_API_URL', None)
    if not url:
        interface = getattr(settings, 'SOD_API_INTERFACE', None)
        url = base.url_for(request, SERVICE_TYPE, endpoint_type=interface)
    return url.rstrip('/')


def _session(request):
    """A keystoneauth session that sends the user's token.

    Horizon's token is already scoped to the project the user works in,
    so it is sent as it is (no re-authentication with Keystone per call).
    """
    verify = True
    if getattr(settings, 'OPENSTACK_SSL_NO_VERIFY', False):
        verify = False
    elif getattr(settings, 'OPENSTACK_SSL_CACERT', None):
        verify = settings.OPENSTACK_SSL_CACERT
    auth = token_endpoint.Token(endpoint(request), request.user.token.id)
    return ks_session.Session(auth=auth, verify=verify, timeout=TIMEOUT)


def _error(resp):
    try:
        error = resp.json()['errors'][0]
        return SodApiError(resp.status_code, error['detail'],
                           error.get('code'))
    except (ValueError, KeyError, IndexError, TypeError):
        return SodApiError(resp.status_code, 'HTTP %s: %s' % (
            resp.status_code, resp.text[:200]))


def call(request, method, path, **kwargs):
    """The decoded JSON answer of ``method path``; :class:`SodApiError`."""
    url = endpoint(request) + path
    try:
        resp = _session(request).request(
            url, method, raise_exc=False,
            headers={'OpenStack-API-Version': API_VERSION,
                     'Accept': 'application/json'}, **kwargs)
    except ks_exc.ClientException as exc:
        raise SodApiError(503, 'sod-nova-api at %s: %s' % (url, exc)) from exc
    if resp.status_code >= 400:
        raise _error(resp)
    return resp.json()


# -- Resources, one function each ----------------------------------------------

def catalog(request):
    """``GET /catalog``: architectures and security packages."""
    return call(request, 'GET', '/catalog')


def check(request, body):
    """``POST /requests/check`` of a security choice (options, properties,
    package, and the ``guest`` a flavor launches): the matrix, the
    satisfying architectures, host counts and the guest conditions."""
    return call(request, 'POST', '/requests/check', json=body)


def security(request, server_id):
    """``GET /servers/{id}/security``: the request by source and verdict."""
    return call(request, 'GET', '/servers/%s/security' % server_id
                )['security']


def set_security(request, server_id, body):
    """``PUT /servers/{id}/security``: the API writes the metadata through
    Nova with the same token (stricter keys before looser ones)."""
    return call(request, 'PUT', '/servers/%s/security' % server_id,
                json=body)['security']


def compliance(request, server_id):
    """``GET /servers/{id}/compliance`` over the server's whole life."""
    return call(request, 'GET', '/servers/%s/compliance' % server_id
                )['compliance']


def compliance_all_projects(request, params=None):
    """``GET /compliance?all_projects=1`` (operator) over ``params``' window."""
    query = dict(params or {}, all_projects='1')
    return call(request, 'GET', '/compliance', params=query)['compliance']


def hosts(request):
    """``GET /hosts`` (operator): capability rows, freshness applied."""
    return call(request, 'GET', '/hosts')['hosts']


def audit(request, marker=None, limit=None):
    """``GET /audit`` (operator): one page after ``marker``, verified."""
    params = {k: v for k, v in (('marker', marker), ('limit', limit))
              if v is not None}
    return call(request, 'GET', '/audit', params=params)
